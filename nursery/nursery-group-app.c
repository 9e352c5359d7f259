/* nursery-group-app.c: a group that keeps a GApplication alive
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The application is held (g_application_hold()) from the call until the
 * group closes or goes, whichever comes first; its `shutdown` cancels the
 * group and joins it there, so no child outlives the application (R6,
 * R23): `shutdown` runs on the main context after the main loop stopped,
 * and joining iterates that context until the last child has finished. */

#include "config.h"

#include "nursery-debug-private.h"
#include "nursery-group-impl-private.h"
#include "nursery-group.h"

typedef struct
{
  GApplication *application;   /* (owned) */
  gulong        shutdown_id;
} HoldLink;

/* Runs when the group's `notify::closed` handler goes: the group closed
 * (the handler disconnects itself) or was finalized. */
static void
hold_link_free (gpointer  data,
                GClosure *closure)
{
  HoldLink *link = data;

  g_signal_handler_disconnect (link->application, link->shutdown_id);
  g_application_release (link->application);
  g_object_unref (link->application);
  g_free (link);
}

static void
group_closed_cb (GObject    *group,
                 GParamSpec *pspec,
                 gpointer    data)
{
  if (nursery_group_is_closed (NURSERY_GROUP (group)))
    g_signal_handlers_disconnect_by_func (group, group_closed_cb, data);
}

static void
application_shutdown_cb (GApplication *application,
                         gpointer      group)
{
  g_autoptr(NurseryGroup) self = g_object_ref (group);
  g_autoptr(GError) error = NULL;

  /* An outside cause, as a Unix signal is (R7): the application went,
   * whoever asked it to; the group's waiters learn their work was cut
   * short, where an explicit cancel by the owner would read as success. */
  _nursery_group_cancel_with_cause (self, CANCEL_SHUTDOWN);
  if (!nursery_group_wait (self, NULL, &error))
    NURSERY_NOTE (GROUP, "group “%s” joined at application shutdown: %s",
                  nursery_group_get_name (self) != NULL ? nursery_group_get_name (self) : "(unnamed)",
                  error->message);
}

/* Holds @application until the group closes, with the owner context
 * held. */
static void
hold_until_closed (NurseryGroup *self,
                   GApplication *application)
{
  HoldLink *link;

  link = g_new0 (HoldLink, 1);
  link->application = g_object_ref (application);
  g_application_hold (application);
  /* No reference to the group: the handler goes with it. */
  link->shutdown_id = g_signal_connect (application, "shutdown",
                                        G_CALLBACK (application_shutdown_cb), self);
  g_signal_connect_data (self, "notify::closed", G_CALLBACK (group_closed_cb),
                         link, hold_link_free, 0);
}

/**
 * nursery_group_hold_application:
 * @self: a group that is not closed
 * @application: the application to keep alive
 *
 * Ties @application's life to the group's, for a `GtkApplication` whose
 * window starts work: @application is held (g_application_hold()) while
 * the group is open or joining, so closing the last window does not end
 * the process under running thread children; it is released when the
 * group closes. If @application shuts down first (g_application_quit(),
 * a session logout…), its `shutdown` signal cancels the group and joins
 * it before the application goes on shutting down: no child outlives it.
 * That cancellation comes from outside, as a Unix signal's does: the
 * group's waiters get `G_IO_ERROR_CANCELLED` unless a child failed
 * ([R7](rules.html#R7)).
 *
 * A window's Cancel or close button then only has to call
 * [method@Nursery.Group.cancel]: the application exits once the children
 * have finished.
 *
 * Call it on the owner context, which must be the application's main
 * context.
 *
 * Since: 1.0
 */
void
nursery_group_hold_application (NurseryGroup *self,
                                GApplication *application)
{
  g_return_if_fail (NURSERY_IS_GROUP (self));
  g_return_if_fail (G_IS_APPLICATION (application));
  g_return_if_fail (!nursery_group_is_closed (self));
  /* The owner's (R23): GApplication is not thread-safe, and the group
   * closes, releasing the hold, in a batch on the owner context. The
   * context is held meanwhile: a batch on another thread could close the
   * group between the check above and the connection, and the hold would
   * never be released. */
  if (!_nursery_group_acquire_owner (self, G_STRFUNC))
    return;
  hold_until_closed (self, application);
  _nursery_group_release_owner (self);
}
