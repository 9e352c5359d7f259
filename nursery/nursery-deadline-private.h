/* nursery-deadline-private.h: one re-armable timer per deadline
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define NURSERY_NO_DEADLINE ((gint64) -1)

typedef void (*NurseryDeadlineFunc) (gpointer target);

/* A deadline is one GSource on the owner context whose ready time *is*
 * the deadline (monotonic µs): setting, moving or clearing it re-arms
 * that one source, so exactly one timer is armed per deadline (R16),
 * and a deadline in the past fires on the next iteration. The
 * source is created on first use and holds no reference to @target:
 * its owner destroys it first. */
void _nursery_deadline_set     (GSource            **source,
                                GMainContext        *context,
                                gint64               deadline,
                                NurseryDeadlineFunc  fire,
                                gpointer             target);
void _nursery_deadline_destroy (GSource            **source);

/* now + @timeout, saturated: a huge timeout means "never", not an
 * overflow into the past. */
static inline gint64
_nursery_deadline_after (GTimeSpan timeout)
{
  gint64 now = g_get_monotonic_time ();

  return timeout >= G_MAXINT64 - now ? G_MAXINT64 : now + timeout;
}

/* Remaining time as text for tree dumps; "none" without a deadline. */
char *_nursery_deadline_describe (gint64 deadline,
                                  gint64 now);

G_END_DECLS
