/* nursery-deadline.c: every deadline of a context in one timer
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nursery-deadline-private.h"

/* The timer of one owner context (R28): a 4-ary min-heap of deadlines,
 * each knowing its index so that it moves or leaves in O(log n), and one
 * GSource whose ready time is at or before the earliest deadline. The
 * ready time is moved only when the earliest deadline moves *earlier*:
 * when it moves later (or leaves) the source wakes up once too early,
 * finds nothing due and re-arms itself. That spares the eventfd write
 * g_source_set_ready_time() does on every call. */
/* A heap slot carries its deadline's key, so that ordering the heap
 * reads only the heap's own array: the deadlines live inside groups and
 * tasks all over memory, and at 100k of them every dereference is a
 * cache miss. The heap is 4-ary for the same reason (half the depth of a
 * binary one, and the four children of a slot are adjacent). */
typedef struct
{
  gint64           when;
  guint            seq;
  NurseryDeadline *deadline;
} Slot;

#define ARITY 4

struct _NurseryTimer
{
  GSource          source;
  GMainContext    *context;  /* the key in `timers`; no reference */
  GArray          *heap;     /* of Slot, root at 0 */
  gint64           armed;    /* the source's ready time, -1 for none */
  guint            seq;      /* the next deadline's set order */
};

/* Context → NurseryTimer. One lock guards this table and every heap:
 * deadlines are set on their owner context, but a group may be
 * disposed on any thread (R30), and one lock keeps a timer from being
 * freed by one thread while another finds it. Never held across a
 * callback. */
static GMutex timers_lock;
static GHashTable *timers;
static guint n_rearms;     /* ready-time changes outside dispatch, for tests */
/* The timer whose dispatch this thread is inside, if any: asked without a
 * lock, once, by every blocking wait (_nursery_deadline_in_dispatch()). */
static GPrivate dispatching_timer;

static inline gboolean
slot_before (const Slot *a,
             const Slot *b)
{
  if (a->when != b->when)
    return a->when < b->when;
  /* Equal deadlines fire in the order they were set. */
  return (gint) (a->seq - b->seq) < 0;
}

static inline Slot *
heap_at (NurseryTimer *timer,
         guint         i)
{
  return &g_array_index (timer->heap, Slot, i);
}

static inline void
heap_put (NurseryTimer *timer,
          guint         i,
          const Slot   *slot)
{
  *heap_at (timer, i) = *slot;
  slot->deadline->index = i + 1;
}

static void
sift_up (NurseryTimer *timer,
         guint         i)
{
  Slot moving = *heap_at (timer, i);

  while (i > 0)
    {
      guint parent = (i - 1) / ARITY;

      if (!slot_before (&moving, heap_at (timer, parent)))
        break;
      heap_put (timer, i, heap_at (timer, parent));
      i = parent;
    }
  heap_put (timer, i, &moving);
}

/* The earliest of the children of @i, or 0 if it has none. */
static guint
earliest_child (NurseryTimer *timer,
                guint         i)
{
  guint first = ARITY * i + 1;
  guint last = MIN (first + ARITY, timer->heap->len);
  guint best = 0;

  for (guint child = first; child < last; child++)
    if (best == 0 || slot_before (heap_at (timer, child), heap_at (timer, best)))
      best = child;
  return best;
}

static void
sift_down (NurseryTimer *timer,
           guint         i)
{
  Slot moving = *heap_at (timer, i);

  for (;;)
    {
      guint child = earliest_child (timer, i);

      if (child == 0 || !slot_before (heap_at (timer, child), &moving))
        break;
      heap_put (timer, i, heap_at (timer, child));
      i = child;
    }
  heap_put (timer, i, &moving);
}

/* Puts the slot at @i back in heap order after its key changed. */
static void
heap_fix (NurseryTimer *timer,
          guint         i)
{
  if (i > 0 && slot_before (heap_at (timer, i), heap_at (timer, (i - 1) / ARITY)))
    sift_up (timer, i);
  else
    sift_down (timer, i);
}

static void
heap_remove (NurseryTimer    *timer,
             NurseryDeadline *deadline)
{
  guint i = deadline->index - 1;
  guint last = timer->heap->len - 1;

  deadline->index = 0;
  /* Atomic: see _nursery_deadline_destroy(). */
  g_atomic_pointer_set (&deadline->timer, NULL);
  if (i != last)
    heap_put (timer, i, heap_at (timer, last));
  g_array_set_size (timer->heap, last);
  if (i != last)
    heap_fix (timer, i);
}

/* Only ever earlier: see NurseryTimer. A negative ready time is "never"
 * to GLib, and a deadline of 0 or less means "now" anyway. */
static void
rearm_if_earlier (NurseryTimer *timer)
{
  gint64 when;

  if (timer->heap->len == 0)
    return;
  when = MAX (heap_at (timer, 0)->when, 0);
  if (timer->armed >= 0 && timer->armed <= when)
    return;
  timer->armed = when;
  n_rearms++;
  g_source_set_ready_time (&timer->source, when);
}

/* Called with timers_lock held: the timer goes with its last deadline. */
static void
timer_release_if_empty_locked (NurseryTimer *timer)
{
  if (timer->heap->len > 0)
    return;
  g_hash_table_remove (timers, timer->context);
  if (g_hash_table_size (timers) == 0)
    g_clear_pointer (&timers, g_hash_table_unref);
  /* Safe inside its own dispatch: GLib holds a reference until then. */
  g_source_destroy (&timer->source);
  g_source_unref (&timer->source);
}

/* Takes the earliest deadline off if it is due and was set before this
 * dispatch began (one set during it waits for the next iteration, R16). */
static NurseryDeadline *
pop_due_locked (NurseryTimer *timer,
                gint64        now,
                guint         seq_limit)
{
  Slot *first;
  NurseryDeadline *due;

  if (timer->heap->len == 0)
    return NULL;
  first = heap_at (timer, 0);
  if (first->when > now || (gint) (first->seq - seq_limit) >= 0)
    return NULL;
  due = first->deadline;
  heap_remove (timer, due);
  return due;
}

/* Fires every deadline due at @now that was set before @seq_limit. One
 * at a time, the lock released around each callback: a callback may set,
 * move or clear any deadline, this one's timer included. */
static void
fire_due_locked (NurseryTimer *timer,
                 gint64        now,
                 guint         seq_limit)
{
  NurseryDeadline *due;

  while ((due = pop_due_locked (timer, now, seq_limit)) != NULL)
    {
      NurseryDeadlineFunc fire = due->fire;
      gpointer target = due->target;

      g_mutex_unlock (&timers_lock);
      fire (target);
      g_mutex_lock (&timers_lock);
    }
}

static gboolean
timer_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  NurseryTimer *timer = (NurseryTimer *) source;
  /* Another context's, whose callback iterates this one. */
  gpointer outer = g_private_get (&dispatching_timer);

  g_mutex_lock (&timers_lock);
  timer->armed = -1;
  g_source_set_ready_time (source, -1);
  g_private_set (&dispatching_timer, timer);
  fire_due_locked (timer, g_get_monotonic_time (), timer->seq);
  g_private_set (&dispatching_timer, outer);
  if (!g_source_is_destroyed (source))
    {
      rearm_if_earlier (timer);
      timer_release_if_empty_locked (timer);
    }
  g_mutex_unlock (&timers_lock);
  return G_SOURCE_CONTINUE;
}

static void
timer_finalize (GSource *source)
{
  NurseryTimer *timer = (NurseryTimer *) source;

  g_array_unref (timer->heap);
}

static GSourceFuncs timer_funcs = {
  .dispatch = timer_dispatch,
  .finalize = timer_finalize,
};

/* Called with timers_lock held. */
static NurseryTimer *
timer_for_context_locked (GMainContext *context)
{
  NurseryTimer *timer;

  if (timers == NULL)
    timers = g_hash_table_new (NULL, NULL);
  timer = g_hash_table_lookup (timers, context);
  if (timer != NULL)
    return timer;

  timer = (NurseryTimer *) g_source_new (&timer_funcs, sizeof (NurseryTimer));
  timer->context = context;
  timer->heap = g_array_new (FALSE, FALSE, sizeof (Slot));
  timer->armed = -1;
  g_source_set_static_name (&timer->source, "NurseryTimer");
  /* G_PRIORITY_DEFAULT, like the groups' batches: a higher priority
   * would let a deadline that passed before the next iteration cancel
   * children the batch was about to start (R5), where the batch, which
   * was there first, runs them first. */
  g_source_attach (&timer->source, context);
  g_hash_table_insert (timers, context, timer);
  return timer;
}

void
_nursery_deadline_set (NurseryDeadline     *deadline,
                       GMainContext        *context,
                       gint64               when,
                       NurseryDeadlineFunc  fire,
                       gpointer             target)
{
  NurseryTimer *timer;

  if (when == NURSERY_NO_DEADLINE)
    {
      _nursery_deadline_destroy (deadline);
      return;
    }

  g_mutex_lock (&timers_lock);
  timer = deadline->timer;
  deadline->when = when;
  deadline->fire = fire;
  deadline->target = target;
  if (timer == NULL)
    {
      timer = timer_for_context_locked (context);
      g_atomic_pointer_set (&deadline->timer, timer);
      deadline->seq = timer->seq++;
      g_array_append_val (timer->heap, ((Slot) { when, deadline->seq, deadline }));
      deadline->index = timer->heap->len;
      sift_up (timer, timer->heap->len - 1);
    }
  else
    {
      Slot *slot = heap_at (timer, deadline->index - 1);

      /* A moved deadline counts as set now, for ties and for R16. */
      deadline->seq = timer->seq++;
      slot->when = when;
      slot->seq = deadline->seq;
      heap_fix (timer, deadline->index - 1);
    }
  rearm_if_earlier (timer);
  g_mutex_unlock (&timers_lock);
}

void
_nursery_deadline_destroy (NurseryDeadline *deadline)
{
  NurseryTimer *timer;

  /* Unlocked peek, so that the many owners that never had a deadline
   * take no lock: a deadline that is not armed stays so until its owner
   * sets it, and the owner is the one calling (or has handed its last
   * reference to this thread). Atomic, for the owner context may be
   * firing it meanwhile. */
  if (!_nursery_deadline_is_armed (deadline))
    return;
  g_mutex_lock (&timers_lock);
  timer = deadline->timer;
  if (timer != NULL)
    {
      heap_remove (timer, deadline);
      timer_release_if_empty_locked (timer);
    }
  g_mutex_unlock (&timers_lock);
}

gboolean
_nursery_deadline_in_dispatch (GMainContext *context)
{
  NurseryTimer *timer = g_private_get (&dispatching_timer);

  return timer != NULL && timer->context == context;
}

gint64
_nursery_deadline_fire_nested (GMainContext *context)
{
  NurseryTimer *timer = g_private_get (&dispatching_timer);
  gint64 next = -1;

  g_return_val_if_fail (timer != NULL && timer->context == context, -1);
  /* Alive: its dispatch, below on this stack, holds it. Kept so across
   * the callbacks all the same: one may clear the last deadline, which
   * lets the timer go (timer_release_if_empty_locked()). */
  g_source_ref (&timer->source);
  g_mutex_lock (&timers_lock);
  fire_due_locked (timer, g_get_monotonic_time (), timer->seq);
  if (!g_source_is_destroyed (&timer->source) && timer->heap->len > 0)
    next = MAX (heap_at (timer, 0)->when, 0);
  g_mutex_unlock (&timers_lock);
  g_source_unref (&timer->source);
  return next;
}

guint
_nursery_deadline_n_timers (void)
{
  guint n;

  g_mutex_lock (&timers_lock);
  n = timers != NULL ? g_hash_table_size (timers) : 0;
  g_mutex_unlock (&timers_lock);
  return n;
}

guint
_nursery_deadline_n_rearms (void)
{
  guint n;

  g_mutex_lock (&timers_lock);
  n = n_rearms;
  g_mutex_unlock (&timers_lock);
  return n;
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
