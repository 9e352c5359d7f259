/* nursery-group-shutdown.c: graceful shutdown and the exit stack (R22)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* R22 (docs/rules.md): a group may cancel itself on SIGINT, SIGTERM or
 * SIGHUP (a second signal of the same kind also cancels its shielded
 * children), and keeps an exit stack of cleanups that its batch runs,
 * most recent first, once every child has finished and before the group
 * closes (run_cleanups() in nursery-group.c). */

#include "config.h"

#include <signal.h>
#include <glib-unix.h>

#include "nursery-debug-private.h"
#include "nursery-error.h"
#include "nursery-group-impl-private.h"
#include "nursery-queued-child-private.h"
#include "nursery-refuse-private.h"
#include "nursery-task-private.h"

typedef struct
{
  NurseryGroup *group;   /* the source is destroyed before the group goes */
  int           signum;
} SignalWatch;

static const char *
signal_name (int signum)
{
  switch (signum)
    {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "unknown signal";
    }
}

GError *
_nursery_group_signal_error (NurseryGroup *self,
              const char   *name)
{
  int signum;

  g_mutex_lock (&self->anchor->lock);
  signum = self->cancel_signum;
  g_mutex_unlock (&self->anchor->lock);
  return g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                      "Group “%s” was cancelled by a Unix signal (%s)", name, signal_name (signum));
}

/* R22: a second signal of the first kind also cancels shielded children,
 * through their own cancel, which shielding does not stop. */
static void
cancel_shielded_too (NurseryGroup *self)
{
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);

  g_mutex_lock (&self->anchor->lock);
  /* A queued child has no cancel of its own: the group's reached it. */
  for (GList *l = self->unfinished.head; l != NULL; l = l->next)
    if (!_nursery_is_queued_child (l->data))
      g_ptr_array_add (tasks, g_object_ref (l->data));
  g_mutex_unlock (&self->anchor->lock);

  NURSERY_NOTE (CANCEL, "group “%s”: second signal, cancelling shielded children too", group_name (self));
  for (guint i = 0; i < tasks->len; i++)
    nursery_task_cancel (tasks->pdata[i]);
}

static void
signal_received (NurseryGroup *self,
                 int           signum)
{
  if (self->first_signum == 0)
    self->first_signum = signum;
  if (signum == self->first_signum && ++self->n_signals >= 2)
    {
      cancel_shielded_too (self);
      return;
    }

  g_mutex_lock (&self->anchor->lock);
  if (self->cancel_cause == CANCEL_NONE)
    self->cancel_signum = signum;
  g_mutex_unlock (&self->anchor->lock);
  _nursery_group_cancel_with_cause (self, CANCEL_SIGNAL);
}

static gboolean
unix_signal_cb (gpointer data)
{
  SignalWatch *watch = data;

  NURSERY_NOTE (CANCEL, "group “%s”: Unix signal %d received", group_name (watch->group), watch->signum);
  signal_received (watch->group, watch->signum);
  return G_SOURCE_CONTINUE;
}

/* A watch of @signum for the group, with the owner context held. */
static void
watch_signal (NurseryGroup *self,
              int           signum)
{
  GSource *source;
  SignalWatch *watch;

  watch = g_new (SignalWatch, 1);
  watch->group = self;
  watch->signum = signum;
  source = g_unix_signal_source_new (signum);
  g_source_set_callback (source, unix_signal_cb, watch, g_free);
  g_source_set_static_name (source, "NurseryGroup unix signal");
  g_source_attach (source, self->context);
  if (self->signal_sources == NULL)
    self->signal_sources = g_ptr_array_new_with_free_func ((GDestroyNotify) g_source_unref);
  g_ptr_array_add (self->signal_sources, source);
}

/**
 * nursery_group_cancel_on_unix_signal:
 * @self: a group that is not closed
 * @signum: `SIGINT`, `SIGTERM` or `SIGHUP`
 *
 * Cancels the group gracefully when @signum arrives: children see their
 * cancellables cancelled and finish as they see fit, and the group waits
 * for them. The handler is a GLib Unix signal source on the owner context
 * (see g_unix_signal_source_new()), removed when the group closes.
 *
 * Which signal cancelled the group is readable with
 * [method@Nursery.Group.get_cancel_signal] and named in the message of
 * the `G_IO_ERROR_CANCELLED` that wait gives, e.g. “Group “server” was
 * cancelled by a Unix signal (SIGINT)”; a program exits with
 * `128 + signum` as shells expect (130 for SIGINT, 143 for SIGTERM).
 *
 * A second signal of the same kind as the first one escalates: it
 * cancels every unfinished child, shielded ones included (their own
 * [method@Nursery.Task.cancel]), so a second Ctrl-C stops cleanups that
 * take too long. The group still waits for its children.
 *
 * Since: 1.0
 */
void
nursery_group_cancel_on_unix_signal (NurseryGroup *self,
                                     int           signum)
{
  g_return_if_fail (NURSERY_IS_GROUP (self));
  g_return_if_fail (signum == SIGINT || signum == SIGTERM || signum == SIGHUP);
  g_return_if_fail (!nursery_group_is_closed (self));
  /* The owner's (R23, R24): the sources are an array the closing batch
   * empties without a lock, so the owner context is held meanwhile. */
  if (!_nursery_group_acquire_owner (self, G_STRFUNC))
    return;
  watch_signal (self, signum);
  _nursery_group_release_owner (self);
}

/**
 * nursery_group_get_cancel_signal:
 * @self: a group
 *
 * Which Unix signal cancelled the group, if one did (see
 * [method@Nursery.Group.cancel_on_unix_signal]). A program that stops on
 * it conventionally exits with `128 +` this number. Thread-safe.
 *
 * Returns: the signal number, or 0 if the group was not cancelled by a
 *   signal
 *
 * Since: 1.0
 */
int
nursery_group_get_cancel_signal (NurseryGroup *self)
{
  int signum;

  g_return_val_if_fail (NURSERY_IS_GROUP (self), 0);

  g_mutex_lock (&self->anchor->lock);
  signum = self->cancel_cause == CANCEL_SIGNAL ? self->cancel_signum : 0;
  g_mutex_unlock (&self->anchor->lock);
  return signum;
}

/**
 * nursery_group_add_cleanup:
 * @self: a group that is not closed
 * @func: (scope notified) (closure user_data) (destroy destroy): the cleanup
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data after @func ran
 *
 * Pushes a cleanup on the group's exit stack ([R22](rules.html#R22)): cleanups run
 * on the owner context once every child has finished, most recent first,
 * before the group closes and its waiters complete. A cleanup may spawn
 * more children; the group waits for them too.
 *
 * Call it on the owner context's thread, as [method@Nursery.Group.spawn]:
 * from a thread child's worker it is refused with a critical, and
 * @destroy is called.
 *
 * Since: 1.0
 */
void
nursery_group_add_cleanup (NurseryGroup       *self,
                           NurseryCleanupFunc  func,
                           gpointer            user_data,
                           GDestroyNotify      destroy)
{
  NurserySpawnCheck check;
  Cleanup *cleanup;

  /* R24: refused, but the user data is not lost. */
  NURSERY_REFUSE_UNLESS (NURSERY_IS_GROUP (self), destroy, user_data, );
  NURSERY_REFUSE_UNLESS (func != NULL, destroy, user_data, );
  NURSERY_REFUSE_UNLESS (!nursery_group_is_closed (self), destroy, user_data, );
  /* The exit stack is the owner's: the batch pops it without a lock. */
  NURSERY_REFUSE_UNLESS (_nursery_group_called_on_owner (self), destroy, user_data, );

  cleanup = g_new (Cleanup, 1);
  cleanup->func = func;
  cleanup->user_data = user_data;
  cleanup->destroy = destroy;
  /* Pushed in the section that checks the owner's rights, as a spawn is
   * (R23). A closed group's batch pops no more: refused as above. */
  g_mutex_lock (&self->anchor->lock);
  check = _nursery_group_check_spawn_locked (self);
  if (check == NURSERY_SPAWN_ALLOWED)
    self->cleanups = g_slist_prepend (self->cleanups, g_steal_pointer (&cleanup));
  g_mutex_unlock (&self->anchor->lock);

  if (cleanup != NULL)
    {
      g_free (cleanup);
      _nursery_refuse_drop (destroy, user_data);
      if (check == NURSERY_SPAWN_CLOSED)
        g_return_if_fail_warning (G_LOG_DOMAIN, G_STRFUNC, "!nursery_group_is_closed (self)");
      else
        _nursery_group_warn_not_owner (G_STRFUNC);
    }
}
