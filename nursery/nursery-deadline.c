/* nursery-deadline.c: one re-armable timer per deadline
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nursery-deadline-private.h"

typedef struct
{
  GSource              source;
  NurseryDeadlineFunc  fire;
  gpointer             target;
} DeadlineSource;

static gboolean
deadline_dispatch (GSource     *source,
                   GSourceFunc  callback,
                   gpointer     user_data)
{
  DeadlineSource *ds = (DeadlineSource *) source;

  /* Disarm first: a deadline fires once until it is set again. */
  g_source_set_ready_time (source, -1);
  ds->fire (ds->target);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs deadline_funcs = {
  .dispatch = deadline_dispatch,
};

void
_nursery_deadline_set (GSource             **source,
                       GMainContext         *context,
                       gint64                deadline,
                       NurseryDeadlineFunc   fire,
                       gpointer              target)
{
  if (*source == NULL)
    {
      DeadlineSource *ds;

      if (deadline == NURSERY_NO_DEADLINE)
        return;
      *source = g_source_new (&deadline_funcs, sizeof (DeadlineSource));
      ds = (DeadlineSource *) *source;
      ds->fire = fire;
      ds->target = target;
      g_source_set_static_name (*source, "NurseryDeadline");
      g_source_attach (*source, context);
    }
  /* Negative ready times mean "never" to GLib; a deadline of 0 would be
   * "now", which a past deadline also means. */
  g_source_set_ready_time (*source, deadline == NURSERY_NO_DEADLINE ? -1 : MAX (deadline, 0));
}

void
_nursery_deadline_destroy (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

char *
_nursery_deadline_describe (gint64 deadline,
                            gint64 now)
{
  if (deadline == NURSERY_NO_DEADLINE)
    return g_strdup ("none");
  if (deadline <= now)
    return g_strdup_printf ("passed %.1f ms ago", (now - deadline) / 1000.0);
  return g_strdup_printf ("in %.1f ms", (deadline - now) / 1000.0);
}
