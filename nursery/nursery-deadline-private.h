/* nursery-deadline-private.h: every deadline of a context in one timer
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define NURSERY_NO_DEADLINE ((gint64) -1)

typedef void (*NurseryDeadlineFunc) (gpointer target);

typedef struct _NurseryTimer NurseryTimer;

/* One deadline, embedded in its owner (a group or a task) and zeroed
 * with it: zero is "not armed". All the armed deadlines of an owner
 * context sit in one heap driven by one GSource (R28): setting,
 * moving or clearing one is O(log n), and the source's ready time (an
 * eventfd write) only changes when the earliest deadline moves earlier.
 * The fields are the timer's: only nursery-deadline.c touches them. */
typedef struct
{
  NurseryTimer        *timer;   /* NULL while not armed */
  gint64               when;    /* monotonic µs */
  guint                index;   /* in the heap, 1-based */
  guint                seq;     /* set order, for ties and "fired this iteration" */
  NurseryDeadlineFunc  fire;
  gpointer             target;
} NurseryDeadline;

/* Arms, moves or (with NURSERY_NO_DEADLINE) disarms @deadline on
 * @context's timer. When it passes, @fire (@target) runs once on
 * @context, disarmed first; a deadline in the past fires on the next
 * iteration. The timer holds no reference to @target: its owner calls
 * _nursery_deadline_destroy() before it goes. Owner context. */
void _nursery_deadline_set     (NurseryDeadline     *deadline,
                                GMainContext        *context,
                                gint64               when,
                                NurseryDeadlineFunc  fire,
                                gpointer             target);
/* Disarms @deadline; the timer goes with its last deadline. */
void _nursery_deadline_destroy (NurseryDeadline     *deadline);

/* Whether @deadline is armed; its owner asks, as for
 * _nursery_deadline_destroy()'s own peek. */
static inline gboolean
_nursery_deadline_is_armed (NurseryDeadline *deadline)
{
  return g_atomic_pointer_get (&deadline->timer) != NULL;
}

/* For a wait that blocks @context's thread (nursery_group_wait()):
 * whether it does so from inside a deadline's callback (a cancelled
 * handler), where GLib does not dispatch the timer's source again until
 * the callback returns. Such a wait fires what comes due itself with
 * _nursery_deadline_fire_nested(), which returns when the next deadline
 * is due, -1 for none. */
gboolean _nursery_deadline_in_dispatch (GMainContext *context);
gint64   _nursery_deadline_fire_nested (GMainContext *context);

/* For tests: how many contexts have a timer now, and how many times a
 * timer's ready time was moved earlier (each one an eventfd write). */
guint _nursery_deadline_n_timers (void);
guint _nursery_deadline_n_rearms (void);

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
