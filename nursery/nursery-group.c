/* nursery-group.c: a structured-concurrency task group
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* How a NurseryGroup works
 *
 * A group is bound to its owner context (the thread-default GMainContext
 * when it was created) and does all of its bookkeeping there, in one
 * GSource of its own: each dispatch of that source is a *batch*, and
 * run_batch() reads as this list. A batch
 *   1. adds the children spawned since the last batch to the
 *      list_tasks() model, if somebody asked for one (R27),
 *   2. hands each started() value to its start caller (R18),
 *   3. finishes the children cancelled before they started (R5),
 *   4. starts the pending children in spawn order, as many as
 *      max-concurrent allows (R1, R19); at most START_CHUNK of them, the
 *      rest in the next batches (R28),
 *   5. reports the children that returned since the last batch, in
 *      completion order: counters, errors, policy, `task-finished`
 *      (R3, R7, R8, R11, R29); at most REPORT_CHUNK of them, the rest in
 *      the next batches, so that a burst does not hold the context (R28);
 *      a reported child nothing else can see is kept for the next spawn
 *      (nursery-group-release.c),
 *   6. closes the group if it is joining and no child is left: runs the
 *      exit stack (R22), then completes its waiters with the outcome
 *      (R6, R7),
 *   7. hands finished children to next_async() callers (R25, in
 *      nursery-group-stream.c),
 *   8. emits the notifications the batch caused, once each: the tasks'
 *      properties, the list model's items-changed, the group's
 *      properties (R21, R27),
 * then schedules itself again if children wait for a free slot, and lets
 * a dropped group go once it is closed (R20, R30).
 * So nothing is ever reported from inside the call that caused it, one
 * dispatch starts a few hundred children, and per child the group costs
 * one GObject and a few pointer moves (no GSource, no signal connection).
 *
 * States: open → joining (somebody waits) → closed (joining and no child
 * left). Cancellation is orthogonal and happens once, for the first
 * cause: an explicit cancel, a failure under fail-fast, a race won, a
 * waiter's cancellable, a deadline, the parent, a Unix signal, or the
 * last reference dropped. Cancelling walks the unfinished children once
 * (R12); each child's cancellable exists only if somebody asked for it.
 *
 * Threads: tasks return and anything may cancel from any thread (R23).
 * The queues and the cancellation state are guarded by the anchor's lock;
 * everything else belongs to the owner context. Cancellables are
 * cancelled after the lock is dropped, because their handlers may call
 * straight back into Nursery.
 *
 * Lifetime: tasks do not hold their group. When the last reference to a
 * group with unfinished children is dropped, dispose cancels them and
 * keeps the group alive until the last one has finished (R20).
 *
 * The file follows that order: the mechanisms (anchor, scheduling,
 * cancellation, reporting, the batch), the GObject, then one section per
 * feature with its internals beside its public API, each titled with its
 * rules (docs/rules.md). Four features live in files of their own: the
 * completion stream (nursery-group-stream.c, R25, R27), Unix signals and
 * the exit stack (nursery-group-shutdown.c, R22) and the tree dump
 * (nursery-group-dump.c, R14, R21, R29); reported children are released
 * or reused in nursery-group-release.c (R28); a dropped group outlives
 * its last reference in nursery-group-orphan.c (R20, R30); the fields
 * they share are in nursery-group-impl-private.h.
 */

#include "config.h"

#include "nursery-binding-private.h"
#include "nursery-cancel-link-private.h"
#include "nursery-cancel-private.h"
#include "nursery-clock-private.h"
#include "nursery-deadline-private.h"
#include "nursery-debug-private.h"
#include "nursery-enums.h"
#include "nursery-error.h"
#include "nursery-group-impl-private.h"
#include "nursery-links-private.h"
#include "nursery-pool-private.h"
#include "nursery-queued-child-private.h"
#include "nursery-refuse-private.h"
#include "nursery-task-list-private.h"
#include "nursery-task-private.h"
#include "nursery-tsan-private.h"
#include "nursery-waiters-private.h"

static const char * const cancel_cause_names[] = {
  "none", "explicit cancel", "a failure (fail-fast)", "a race won",
  "a waiter's cancellable", "last reference dropped", "its deadline",
  "its parent", "a Unix signal", "the application's shutdown",
};
G_STATIC_ASSERT (G_N_ELEMENTS (cancel_cause_names) == CANCEL_SHUTDOWN + 1);

/* The group's batch source. It is ready when `ready` is set (see
 * schedule_locked()) or when its ready time passes (a timed look again,
 * _nursery_group_release_orphan()). */
typedef struct
{
  GSource       source;
  NurseryGroup *group;
  int           ready;    /* atomic */
} GroupSource;

enum {
  TASK_FINISHED,
  TASK_FAILED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/**
 * NurseryGroup:
 *
 * A task group: it owns its child tasks and never finishes while one of
 * them still runs.
 *
 * A group is bound to its *owner context*, the thread-default
 * [struct@GLib.MainContext] when it was created. Children are spawned with
 * [method@Nursery.Group.spawn] (their function runs on the owner context)
 * or [method@Nursery.Group.spawn_in_thread] (on a worker thread), and
 * start on a later iteration of that context, in spawn order. Every
 * callback, signal and property notification of the group and its tasks
 * is dispatched there.
 *
 * [method@Nursery.Group.wait_async] (or the blocking
 * [method@Nursery.Group.wait]) joins the group: it completes once every
 * child has finished, then closes the group. Its outcome is the first
 * child failure, unchanged; otherwise a cancellation or time-out of the
 * group; otherwise success. Every failure is kept, in order, in
 * [method@Nursery.Group.get_errors].
 *
 * Cancelling the group ([method@Nursery.Group.cancel], a failure under
 * %NURSERY_POLICY_FAIL_FAST, its deadline, its parent, a waiter's
 * cancellable, a Unix signal) cancels every child that is not shielded,
 * and the group still waits for them.
 *
 * ```c
 * g_autoptr(NurseryGroup) group = nursery_group_new ();
 * g_autoptr(GError) error = NULL;
 *
 * g_object_unref (nursery_group_spawn (group, "fetch", fetch, url, NULL, NULL));
 * g_object_unref (nursery_group_spawn_in_thread (group, "hash", hash, NULL, NULL, NULL));
 *
 * if (!nursery_group_wait (group, NULL, &error))
 *   g_printerr ("%s\n", error->message);
 * ```
 *
 * See the [Concepts](concepts.html) page of the guide.
 *
 * Since: 1.0
 */
G_DEFINE_FINAL_TYPE (NurseryGroup, nursery_group, G_TYPE_OBJECT)

/* The anchor */

static NurseryAnchor *
nursery_anchor_new (NurseryGroup *group)
{
  NurseryAnchor *anchor = g_new0 (NurseryAnchor, 1);

  g_atomic_ref_count_init (&anchor->ref_count);
  g_mutex_init (&anchor->lock);
  anchor->group = group;
  return anchor;
}

NurseryAnchor *
_nursery_anchor_ref (NurseryAnchor *anchor)
{
  g_atomic_ref_count_inc (&anchor->ref_count);
  return anchor;
}

void
_nursery_anchor_unref (NurseryAnchor *anchor)
{
  if (!g_atomic_ref_count_dec (&anchor->ref_count))
    return;
  g_mutex_clear (&anchor->lock);
  g_free (anchor);
}

/* Scheduling and notification (R21) */

/* Marks the batch source ready. Only a thread other than the one
 * iterating the owner context wakes it up: that thread reads the mark in
 * its next prepare, and g_source_set_ready_time() would have written to
 * the context's eventfd (and the next poll read it) even from there, for
 * every batch that another source schedules (a deadline, a channel). */
static void
schedule_locked (NurseryGroup *self)
{
  if (self->scheduled)
    return;
  self->scheduled = TRUE;
  g_atomic_int_set (&((GroupSource *) self->source)->ready, TRUE);
  /* Inside its own batch (a child spawning the next) the owner context
   * is being dispatched: no need to ask GLib. Read after the mark: a
   * batch that ends after this read is followed by a prepare that sees
   * the mark. */
  if (!g_atomic_int_get (&self->in_batch) && !g_main_context_is_owner (self->context))
    g_main_context_wakeup (self->context);
}

/* The batch's steps that take a queue other threads fill skip the lock
 * while it is empty: each filler marks its WORK_ bit under the lock, and
 * schedules a batch, which therefore sees the mark. */
static inline gboolean
has_work (NurseryGroup *self,
          guint         work)
{
  return (g_atomic_int_get (&self->batch_work) & work) != 0;
}

static inline void
take_work_locked (NurseryGroup *self,
                  guint         work)
{
  g_atomic_int_and (&self->batch_work, ~work);
}

static void
schedule (NurseryGroup *self)
{
  g_mutex_lock (&self->anchor->lock);
  schedule_locked (self);
  g_mutex_unlock (&self->anchor->lock);
}

/* For nursery-group-orphan.c, with the anchor's lock held. */
void
_nursery_group_schedule_locked (NurseryGroup *self)
{
  schedule_locked (self);
}

static void
flush_notifications (NurseryGroup *self)
{
  guint dirty = g_atomic_int_and (&self->dirty, 0);

  /* Nobody listens: no freeze, notify and thaw per batch (the bits are
   * cleared all the same, so a later listener hears only later changes). */
  if (dirty == 0 || !_nursery_object_has_notify_handler (self))
    return;

  g_object_freeze_notify (G_OBJECT (self));
  for (guint prop = 1; prop < N_PROPS; prop++)
    if (dirty & BIT (prop))
      g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
  g_object_thaw_notify (G_OBJECT (self));
}

static void
set_state (NurseryGroup      *self,
           NurseryGroupState  state)
{
  g_atomic_int_set (&self->state, state);
  mark_dirty (self, BIT (PROP_STATE) | (state == NURSERY_GROUP_CLOSED ? BIT (PROP_CLOSED) : 0));
}

/* What the completion stream (nursery-group-stream.c) needs of its group,
 * on the owner context. */

NurseryGroupStream *
_nursery_group_get_stream (NurseryGroup *self)
{
  return &self->stream;
}

void
_nursery_group_schedule (NurseryGroup *self)
{
  schedule (self);
}

/* next_async() joins the group as wait_async() does (R6). */
void
_nursery_group_begin_join (NurseryGroup *self)
{
  if (nursery_group_get_state (self) == NURSERY_GROUP_OPEN)
    set_state (self, NURSERY_GROUP_JOINING);
}

/* The unfinished children, in spawn order, each with a reference; for
 * list_tasks(), so queued children become tasks first. */
GPtrArray *
_nursery_group_ref_unfinished (NurseryGroup *self)
{
  GPtrArray *unfinished = g_ptr_array_new_with_free_func (g_object_unref);

  g_mutex_lock (&self->anchor->lock);
  _nursery_group_adopt_queued_locked (self);
  /* Queued children left are about to be reported. */
  for (GList *l = self->unfinished.head; l != NULL; l = l->next)
    if (!_nursery_is_queued_child (l->data))
      g_ptr_array_add (unfinished, g_object_ref (l->data));
  g_mutex_unlock (&self->anchor->lock);
  return unfinished;
}

/* Cancellation (R11–R13) */

static void
cancel_and_unref (gpointer data)
{
  _nursery_cancel_take (data);
}

/* R5: a task cancelled before it started leaves the pending queue at
 * once, so it finishes on the next batch even when the concurrency limit
 * would have kept it waiting. */
void
_nursery_group_task_cancelled_locked (NurseryGroup *self,
                                      NurseryTask  *task)
{
  if (self == NULL || _nursery_task_get_queue_locked (task) != NURSERY_TASK_IN_PENDING)
    return;
  _nursery_task_move_locked (task, &self->doomed, NURSERY_TASK_IN_DOOMED);
  g_atomic_int_or (&self->batch_work, WORK_DOOMED);
  schedule_locked (self);
}

static void
cancel_task_locked (NurseryGroup  *self,
                    NurseryTask   *task,
                    GPtrArray    **cancellables)
{
  GCancellable *cancellable = _nursery_task_mark_cancelled_locked (task);

  if (cancellable != NULL)
    {
      if (*cancellables == NULL)
        *cancellables = g_ptr_array_new_with_free_func (cancel_and_unref);
      g_ptr_array_add (*cancellables, cancellable);
    }
  _nursery_group_task_cancelled_locked (self, task);
}

/* Cancels the group for @cause, once (R12): marks every unshielded child
 * and collects the cancellables to cancel once the lock is dropped, since
 * their handlers may call straight back into Nursery. */
static gboolean
cancel_locked (NurseryGroup  *self,
               CancelCause    cause,
               GPtrArray    **cancellables)
{
  if (self->cancel_cause != CANCEL_NONE ||
      g_atomic_int_get (&self->state) == NURSERY_GROUP_CLOSED)
    return FALSE;

  self->cancel_cause = cause;
  for (GList *l = self->unfinished.head; l != NULL; l = l->next)
    {
      NurseryTask *task = l->data;

      /* A queued child is cancelled when the batch takes it (R5). R15:
       * only a task's own cancel and deadline reach a shielded task. */
      if (!_nursery_is_queued_child (task) && !task->shielded)
        cancel_task_locked (self, task, cancellables);
    }
  mark_dirty (self, BIT (PROP_CANCELLED));
  schedule_locked (self);
  return TRUE;
}

/* Any thread. */
void
_nursery_group_cancel_with_cause (NurseryGroup *self,
                   CancelCause   cause)
{
  GPtrArray *cancellables = NULL;
  char *name = NULL;

  g_mutex_lock (&self->anchor->lock);
  /* A copy: the owner may rename the group once the lock is dropped. */
  if (cancel_locked (self, cause, &cancellables) && NURSERY_DEBUG_ON (CANCEL))
    name = g_strdup (group_name (self));
  g_mutex_unlock (&self->anchor->lock);

  if (name != NULL)
    NURSERY_NOTE (CANCEL, "group “%s”: cancelled by %s", name, cancel_cause_names[cause]);
  g_free (name);

  /* Outside the lock: the cancellables' handlers run right here. */
  g_clear_pointer (&cancellables, g_ptr_array_unref);
}

static void
cancel_for_waiter (gpointer target)
{
  _nursery_group_cancel_with_cause (target, CANCEL_WAITER);
}

/* R15: unshielding a task of a cancelled group cancels it then. */
void
_nursery_group_task_unshielded_locked (NurseryGroup  *self,
                                       NurseryTask   *task,
                                       GCancellable **to_cancel)
{
  if (self == NULL || self->cancel_cause == CANCEL_NONE)
    return;
  *to_cancel = _nursery_task_mark_cancelled_locked (task);
  _nursery_group_task_cancelled_locked (self, task);
}

/* R18: started() may come from any thread; the start caller hears of it
 * from the next batch, never from inside started(). */
void
_nursery_group_task_started_locked (NurseryGroup *self,
                                    NurseryTask  *task)
{
  g_ptr_array_add (self->started, g_object_ref (task));
  g_atomic_int_or (&self->batch_work, WORK_STARTED);
  schedule_locked (self);
}

/**
 * nursery_group_cancel:
 * @self: a group
 *
 * Cancels the group: every child's cancellable is cancelled and children
 * that have not started finish as cancelled without running ([R5](rules.html#R5),
 * [R12](rules.html#R12)). The group still waits for its running children. Idempotent, and
 * safe to call from any thread; does nothing once the group is closed.
 *
 * Since: 1.0
 */
void
nursery_group_cancel (NurseryGroup *self)
{
  g_return_if_fail (NURSERY_IS_GROUP (self));

  _nursery_group_cancel_with_cause (self, CANCEL_EXPLICIT);
}

/**
 * nursery_group_is_cancelled:
 * @self: a group
 *
 * Whether the group has been cancelled, for any reason. Thread-safe.
 *
 * Returns: %TRUE once the group was cancelled
 *
 * Since: 1.0
 */
gboolean
nursery_group_is_cancelled (NurseryGroup *self)
{
  gboolean cancelled;

  g_return_val_if_fail (NURSERY_IS_GROUP (self), FALSE);

  g_mutex_lock (&self->anchor->lock);
  cancelled = self->cancel_cause != CANCEL_NONE;
  g_mutex_unlock (&self->anchor->lock);
  return cancelled;
}

/* Reporting completions (R3, R7, R8, R11, R29) */

static GError *
outcome_error (NurseryGroup *self)
{
  const char *name = self->name != NULL ? self->name : "(unnamed)";
  CancelCause cause;

  if (self->winner != NULL)
    return NULL;
  if (self->failures.length > 0)
    return g_error_copy (kept_failure (self->failures.head)->error);

  g_mutex_lock (&self->anchor->lock);
  cause = self->cancel_cause;
  g_mutex_unlock (&self->anchor->lock);

  /* R7: the owner's own cancel is no failure; outside causes are. */
  if (cause == CANCEL_NONE || cause == CANCEL_EXPLICIT)
    return NULL;
  if (cause == CANCEL_DEADLINE)
    return g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "Group “%s” timed out", name);
  if (cause == CANCEL_SIGNAL)
    return _nursery_group_signal_error (self, name);
  return g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                      "Group “%s” was cancelled by %s", name, cancel_cause_names[cause]);
}

/* R29: a `task-failed` handler that returns TRUE takes the failure over:
 * it is counted but neither kept nor part of the outcome. Nobody
 * connected costs one check, no emission. */
static gboolean
failure_handled (NurseryGroup *self,
                 NurseryTask  *task)
{
  gboolean handled = FALSE;

  if (!g_signal_has_handler_pending (self, signals[TASK_FAILED], 0, TRUE))
    return FALSE;
  g_signal_emit (self, signals[TASK_FAILED], 0, task, task->error, &handled);
  return handled;
}

/* R29: a kept failure stays traceable to its task, in the same order.
 * Its name, not the task: a task kept by its group would keep alive
 * whatever a binding hung on it (a Python exception and its traceback,
 * which reaches the group again), a cycle no collector can break. */
static void
keep_failure (NurseryGroup *self,
              NurseryTask  *task)
{
  const char *name = nursery_task_get_name (task);
  KeptFailure *kept = g_new0 (KeptFailure, 1);

  kept->link.data = kept;
  kept->error = g_error_copy (task->error);
  kept->name = g_strdup (name != NULL ? name : "");
  g_queue_push_tail_link (&self->failures, &kept->link);
}

/* Counts the outcome; returns the cancel it calls for, applied only after
 * the child has been reported, so observers see the cause first. */
static CancelCause
record_outcome (NurseryGroup     *self,
                NurseryTask      *task,
                NurseryTaskState  outcome)
{
  counter_add (&self->n_finished, 1);
  mark_dirty_owner (self, BIT (PROP_N_FINISHED));
  if (outcome == NURSERY_TASK_SUCCEEDED)
    {
      counter_add (&self->n_succeeded, 1);
      mark_dirty_owner (self, BIT (PROP_N_SUCCEEDED));
    }
  else if (outcome == NURSERY_TASK_CANCELLED)
    {
      counter_add (&self->n_cancelled, 1);
      mark_dirty_owner (self, BIT (PROP_N_CANCELLED));
    }

  if (G_UNLIKELY (self->note_spawn))
    NURSERY_NOTE (SPAWN, "group “%s”: task “%s” %s", group_name (self),
                  nursery_task_get_name (task) ? nursery_task_get_name (task) : "(unnamed)",
                  g_enum_get_value (g_type_class_peek (NURSERY_TYPE_TASK_STATE), outcome)->value_nick);

  if (outcome == NURSERY_TASK_FAILED)
    {
      counter_add (&self->n_failed, 1);
      mark_dirty_owner (self, BIT (PROP_N_FAILED));
      if (failure_handled (self, task))
        return CANCEL_NONE;
      keep_failure (self, task);
      return self->policy == NURSERY_POLICY_FAIL_FAST ? CANCEL_FAILURE : CANCEL_NONE;
    }
  if (outcome == NURSERY_TASK_SUCCEEDED &&
      self->policy == NURSERY_POLICY_RACE && self->winner == NULL)
    {
      self->winner = g_object_ref (task);
      return CANCEL_RACE_WON;
    }
  return CANCEL_NONE;
}

/* R18: a start child that ends before started() reports to its start
 * caller, not to the group: that is no failure of the group. */
static void
report_to_starters (NurseryTask       *task,
                    GSList           **starters,
                    NurseryTaskState   outcome)
{
  g_autoptr(GError) not_started = NULL;

  if (outcome == NURSERY_TASK_SUCCEEDED)
    not_started = g_error_new (NURSERY_ERROR, NURSERY_ERROR_NOT_STARTED,
                               "Task “%s” finished without calling nursery_task_started()",
                               nursery_task_get_name (task) ? nursery_task_get_name (task) : "(unnamed)");
  _nursery_waiters_complete (starters, not_started != NULL ? not_started : nursery_task_get_error (task));
}

static void
report_finished (NurseryGroup *self,
                 NurseryTask  *task)
{
  NurseryTaskState outcome = _nursery_task_settle_outcome (task);
  CancelCause consequence = CANCEL_NONE;
  GSList *starters = NULL;
  gboolean ordinary;

  g_mutex_lock (&self->anchor->lock);
  _nursery_task_finish_locked (task, &self->unfinished, outcome);
  starters = _nursery_task_steal_starters_locked (task);
  g_mutex_unlock (&self->anchor->lock);

  /* R18: a start child that never started is its start caller's, not a
   * child of the group's: it is neither counted nor handed to next(). */
  ordinary = task->started || starters == NULL;
  if (ordinary)
    {
      /* Started, but the start caller has not heard yet: it does first. */
      _nursery_waiters_complete (&starters, NULL);
      consequence = record_outcome (self, task, outcome);
    }
  else
    {
      counter_add (&self->n_finished, 1);
      mark_dirty_owner (self, BIT (PROP_N_FINISHED));
      report_to_starters (task, &starters, outcome);
    }
  /* Its cleanups are spawned before it is reported: the group waits for them. */
  _nursery_task_spawn_cleanups (task, self, outcome);
  _nursery_group_stream_unlist (&self->stream, task);
  g_signal_emit (self, signals[TASK_FINISHED], 0, task);
  /* The user data outlives task-finished, so its handlers can read it. */
  _nursery_task_release (task);
  _nursery_task_complete_waiters (task);
  if (consequence != CANCEL_NONE)
    _nursery_group_cancel_with_cause (self, consequence);

  /* Its queue link is free now: the next_async() queue reuses it. */
  if (!(ordinary && _nursery_group_stream_take (&self->stream, task)))
    _nursery_group_release_task (self, task, FALSE);
}

/* The batch: run_batch() is the table of contents */

static void
finish_doomed (NurseryGroup *self)
{
  GQueue doomed = G_QUEUE_INIT;
  GList *link;

  if (!has_work (self, WORK_DOOMED))
    return;
  g_mutex_lock (&self->anchor->lock);
  take_work_locked (self, WORK_DOOMED);
  _nursery_task_take_all_locked (&self->doomed, &doomed);
  g_mutex_unlock (&self->anchor->lock);
  _nursery_group_stream_unlist_many (&self->stream, &doomed);

  while ((link = g_queue_pop_head_link (&doomed)) != NULL)
    {
      counter_add (&self->n_pending, -1);
      _nursery_task_finish_unstarted (link->data);
      report_finished (self, link->data);
      mark_dirty_owner (self, BIT (PROP_N_PENDING));
    }
}

static gboolean
has_free_slot (NurseryGroup *self)
{
  return self->max_concurrent == 0 || self->n_running < self->max_concurrent;
}

/* At most this many children are reported per batch: the rest are
 * reported by the next one, so that a burst of thousands of returns
 * does not hold the owner context for milliseconds, during which its
 * deadlines, its redraws and its other sources would wait (R28). */
#define REPORT_CHUNK 256

/* At most this many in-context children start per batch, for the reason
 * REPORT_CHUNK bounds the reports: a burst of 100k spawns would otherwise
 * hold the owner context for tens of milliseconds in one dispatch. It
 * also keeps a chunk's tasks in the cache from their start to their
 * report, when they return at once: started all in one batch, a million
 * children were each read back from memory to be reported. */
#define START_CHUNK REPORT_CHUNK

/* Takes out the children whose turn has come: those that may run, as far
 * as max-concurrent allows, and those that must not (R5: spawned into a
 * cancelled group and not shielded) whatever the limit; START_CHUNK of
 * the in-context ones, and a batch is scheduled for the rest. */
static void
take_startable_locked (NurseryGroup  *self,
                       GQueue        *starting,
                       GQueue        *doomed,
                       GPtrArray    **cancellables)
{
  GList *link, *next;
  guint run_here = 0;

  for (link = self->pending.head; link != NULL; link = next)
    {
      NurseryTask *task = link->data;
      gboolean queued = _nursery_is_queued_child (task);
      gboolean cancelled = self->cancel_cause != CANCEL_NONE && (queued || !task->shielded);

      next = link->next;
      /* In a cancelled group only shielded tasks wait for a slot: the
       * queued children behind them finish now (R5), as the spawned
       * ones, which the cancel took out of the queue, do. */
      if (!cancelled && !has_free_slot (self))
        {
          if (self->cancel_cause != CANCEL_NONE)
            continue;
          break;
        }
      /* Those that run here count; a thread child's start is a hand-off
       * to the pool, which a burst keeps busy best all at once. */
      if (!cancelled && (queued || !task->in_thread) && run_here++ == START_CHUNK)
        {
          schedule_locked (self);
          break;
        }
      if (queued)
        {
          /* Its task, made when the batch pops it, is cancelled then. */
          _nursery_group_take_queued_locked (self, link, cancelled ? doomed : starting);
          if (!cancelled)
            {
              counter_add (&self->n_pending, -1);
              counter_add (&self->n_running, 1);
            }
          continue;
        }
      /* Out of the pending queue first: cancelling it then leaves it in
       * the batch's doomed queue, not the group's. */
      _nursery_task_move_locked (task, cancelled ? doomed : starting, NURSERY_TASK_IN_NO_QUEUE);
      if (cancelled)
        {
          /* Still counted as pending until it is reported (R21). */
          cancel_task_locked (self, task, cancellables);
        }
      else
        {
          counter_add (&self->n_pending, -1);
          counter_add (&self->n_running, 1);
        }
    }
}

/* The task of @link, popped from a queue of the batch: a queued child's
 * (*@child) is made now. */
static NurseryTask *
popped_task (NurseryGroup        *self,
             GList               *link,
             NurseryQueuedChild **child)
{
  *child = NULL;
  if (!_nursery_is_queued_child (link->data))
    return link->data;
  *child = link->data;
  return _nursery_group_task_for_taken (self, *child);
}

/* The queued child at the head of @queue, or NULL. */
static NurseryQueuedChild *
next_queued (GQueue *queue)
{
  return queue->head != NULL && _nursery_is_queued_child (queue->head->data) ? queue->head->data : NULL;
}

static void
start_pending (NurseryGroup *self)
{
  GQueue starting = G_QUEUE_INIT;
  GQueue doomed = G_QUEUE_INIT;
  GPtrArray *cancellables = NULL;
  NurseryTask *lent = NULL;   /* the next queued child's, from the last one's settle */
  GList *link;

  /* Taken out in one go: children spawned by the ones started here wait
   * for the next batch (R1: never run inline, always in spawn order). */
  g_mutex_lock (&self->anchor->lock);
  take_startable_locked (self, &starting, &doomed, &cancellables);
  g_mutex_unlock (&self->anchor->lock);
  g_clear_pointer (&cancellables, g_ptr_array_unref);

  if (starting.length == 0 && doomed.length == 0)
    return;
  mark_dirty_owner (self, BIT (PROP_N_RUNNING) | BIT (PROP_N_PENDING));
  _nursery_group_stream_unlist_many (&self->stream, &doomed);

  while ((link = g_queue_pop_head_link (&doomed)) != NULL)
    {
      NurseryQueuedChild *child;
      NurseryTask *task = popped_task (self, link, &child);

      g_clear_pointer (&child, _nursery_queued_child_free);
      counter_add (&self->n_pending, -1);
      _nursery_task_finish_unstarted (task);
      report_finished (self, task);
    }

  while ((link = g_queue_pop_head_link (&starting)) != NULL)
    {
      NurseryQueuedChild *child = lent != NULL ? link->data : NULL;
      NurseryTask *task = lent != NULL ? g_steal_pointer (&lent) : popped_task (self, link, &child);

      /* R5 again: cancelled since it was taken out, by an earlier child
       * of the batch or from another thread. */
      if (nursery_task_is_cancelled (task))
        {
          g_clear_pointer (&child, _nursery_queued_child_free);
          counter_add (&self->n_running, -1);
          _nursery_task_finish_unstarted (task);
          _nursery_group_stream_unlist_cancelled (&self->stream, task, &starting);
          report_finished (self, task);
        }
      else
        {
          if (G_UNLIKELY (self->note_spawn))
            NURSERY_NOTE (SPAWN, "group “%s”: task “%s” starts", group_name (self),
                          nursery_task_get_name (task) ? nursery_task_get_name (task) : "(unnamed)");
          /* Seen: a task from spawn(), or made by list_tasks(). */
          _nursery_task_run (task, child == NULL || child->adopted != NULL);
          if (child != NULL)
            lent = _nursery_group_settle_taken (self, child, task, next_queued (&starting));
        }
    }
}

/* R18: hands each started() value to its start caller. */
static void
deliver_started (NurseryGroup *self)
{
  g_autoptr(GPtrArray) started = NULL;

  if (!has_work (self, WORK_STARTED))
    return;
  g_mutex_lock (&self->anchor->lock);
  take_work_locked (self, WORK_STARTED);
  if (self->started->len > 0)
    {
      started = g_steal_pointer (&self->started);
      self->started = g_ptr_array_new_with_free_func (g_object_unref);
    }
  g_mutex_unlock (&self->anchor->lock);

  for (guint i = 0; started != NULL && i < started->len; i++)
    {
      NurseryTask *task = started->pdata[i];
      GSList *starters;

      g_mutex_lock (&self->anchor->lock);
      starters = _nursery_task_steal_starters_locked (task);
      g_mutex_unlock (&self->anchor->lock);
      _nursery_waiters_complete (&starters, NULL);
    }
}

/* Moves the first REPORT_CHUNK returned children to @chunk; a batch is
 * scheduled for the rest. Called with the anchor's lock held. */
static void
take_returned_locked (NurseryGroup *self,
                      GQueue       *chunk)
{
  if (self->returned.length <= REPORT_CHUNK)
    _nursery_task_take_all_locked (&self->returned, chunk);
  else
    {
      g_queue_init (chunk);
      for (guint i = 0; i < REPORT_CHUNK; i++)
        {
          GList *head = self->returned.head;

          /* A queued child has no queue state to move: just its link. */
          if (_nursery_is_queued_child (head->data))
            {
              _nursery_link_unlink (&self->returned, head);
              _nursery_link_push_tail (chunk, head);
            }
          else
            _nursery_task_move_locked (head->data, chunk, NURSERY_TASK_IN_NO_QUEUE);
        }
      schedule_locked (self);
    }
  _nursery_group_unlist_returned_locked (self, chunk);
}

/* Whether reporting a success needs its task: to hand it to
 * task-finished (R21), to next_async() (R25), or as a race's winner
 * (R11). Asked per child: the handler of one may connect for the next. */
static gboolean
reporting_needs_task (NurseryGroup *self)
{
  return self->policy == NURSERY_POLICY_RACE || self->stream.tracking ||
         g_signal_has_handler_pending (self, signals[TASK_FINISHED], 0, TRUE);
}

/* A queued child whose success nothing but the group saw, out of the
 * unfinished ones since the batch took it: counted (R21), its user data
 * released, and gone. */
static void
report_queued_success (NurseryGroup       *self,
                       NurseryQueuedChild *child)
{
  counter_add (&self->n_finished, 1);
  counter_add (&self->n_succeeded, 1);
  mark_dirty_owner (self, BIT (PROP_N_FINISHED) | BIT (PROP_N_SUCCEEDED));
  if (G_UNLIKELY (self->note_spawn))
    NURSERY_NOTE (SPAWN, "group “%s”: task “%s” succeeded", group_name (self),
                  child->name != NULL ? child->name : "(unnamed)");
  if (child->destroy != NULL)
    child->destroy (child->user_data);
  _nursery_queued_child_free (child);
}

static void
report_returned (NurseryGroup *self)
{
  GQueue returned = G_QUEUE_INIT;
  GList *link;
  int needs_task = -1;     /* reporting_needs_task(), -1 until asked */

  g_mutex_lock (&self->anchor->lock);
  take_returned_locked (self, &returned);
  g_mutex_unlock (&self->anchor->lock);

  if (returned.length == 0)
    return;
  _nursery_group_stream_unlist_many (&self->stream, &returned);
  mark_dirty_owner (self, BIT (PROP_N_RUNNING));

  while ((link = g_queue_pop_head_link (&returned)) != NULL)
    {
      NurseryQueuedChild *child = link->data;

      counter_add (&self->n_running, -1);
      if (!_nursery_is_queued_child (child))
        {
          report_finished (self, link->data);
          needs_task = -1;
        }
      else if (needs_task == 1 || (needs_task == -1 && reporting_needs_task (self)))
        {
          report_finished (self, _nursery_group_task_for_returned (self, child));
          needs_task = -1;
        }
      else
        {
          /* Only user code connects a handler or changes the policy. */
          needs_task = child->destroy != NULL ? -1 : 0;
          report_queued_success (self, child);
        }
    }
}

/* R22: the exit stack, most recent first. A cleanup may spawn children;
 * the group then waits for them before it closes. */
static void
run_cleanups (NurseryGroup *self)
{
  while (self->cleanups != NULL)
    {
      Cleanup *cleanup = self->cleanups->data;

      self->cleanups = g_slist_delete_link (self->cleanups, self->cleanups);
      cleanup->func (self, cleanup->user_data);
      if (cleanup->destroy != NULL)
        cleanup->destroy (cleanup->user_data);
      g_free (cleanup);
    }
}

/* What only an open group needs: its timer, its signal sources and its
 * parent's handler. Owner context. */
static void
release_watchers (NurseryGroup *self)
{
  _nursery_deadline_destroy (&self->deadline_timer);
  if (self->signal_sources != NULL)
    {
      for (guint i = 0; i < self->signal_sources->len; i++)
        g_source_destroy (self->signal_sources->pdata[i]);
      g_clear_pointer (&self->signal_sources, g_ptr_array_unref);
    }
  /* Without waiting for a running handler: see parent_cancelled_cb(). */
  _nursery_cancel_link_detach (&self->parent_link);
}

static void
maybe_close (NurseryGroup *self)
{
  GError *error;

  if (g_atomic_int_get (&self->state) != NURSERY_GROUP_JOINING ||
      self->unfinished.length > 0)
    return;

  run_cleanups (self);
  if (self->unfinished.length > 0)
    return;

  set_state (self, NURSERY_GROUP_CLOSED);
  release_watchers (self);
  NURSERY_NOTE (GROUP, "group “%s”: closed after %u children, %u failed", group_name (self),
           self->n_finished, self->n_failed);
  flush_notifications (self);

  error = outcome_error (self);
  _nursery_waiters_complete (&self->waiters, error);
  g_clear_error (&error);
}

/* R21: the task setters' notifications, emitted here rather than inside
 * the setter. */
static void
flush_task_notifications (NurseryGroup *self)
{
  g_autoptr(GPtrArray) tasks = NULL;

  if (!has_work (self, WORK_NOTIFIES))
    return;
  g_mutex_lock (&self->anchor->lock);
  take_work_locked (self, WORK_NOTIFIES);
  if (self->task_notifies->len > 0)
    {
      tasks = g_steal_pointer (&self->task_notifies);
      self->task_notifies = g_ptr_array_new_with_free_func (g_object_unref);
    }
  g_mutex_unlock (&self->anchor->lock);

  for (guint i = 0; tasks != NULL && i < tasks->len; i++)
    _nursery_task_flush_notifications (tasks->pdata[i]);
}

/* Called with the anchor's lock held, from any thread. */
void
_nursery_group_task_notify_locked (NurseryGroup *self,
                                   NurseryTask  *task)
{
  g_ptr_array_add (self->task_notifies, g_object_ref (task));
  g_atomic_int_or (&self->batch_work, WORK_NOTIFIES);
  schedule_locked (self);
}

/* The batch is dispatching: a new schedule() arms the source again. */
static void
begin_batch (NurseryGroup *self)
{
  GThread *me = g_thread_self ();

  g_mutex_lock (&self->anchor->lock);
  /* The owner's rights move with the batch (owns_locked()): a spawn
   * from the thread that ran the last one either finished before
   * this lock, or is refused after it. Atomic: the spawns' quick check
   * reads it without the lock. */
  if (self->batch_thread != me)
    g_atomic_pointer_set (&self->batch_thread, me);
  self->scheduled = FALSE;
  g_atomic_int_set (&((GroupSource *) self->source)->ready, FALSE);
  /* Only _nursery_group_release_orphan() sets a ready time: most
   * batches skip GLib's context lock here. */
  if (self->look_again_armed)
    {
      self->look_again_armed = FALSE;
      g_source_set_ready_time (self->source, -1);
    }
  g_mutex_unlock (&self->anchor->lock);
}

/* Slots freed by this batch start the waiting children on the next one
 * (not this one: they may have been spawned during it, R1). */
static void
schedule_for_free_slots (NurseryGroup *self)
{
  /* Without a limit, every child spawned since the batch began has
   * scheduled the next one itself. */
  if (self->max_concurrent == 0)
    return;
  g_mutex_lock (&self->anchor->lock);
  if (self->pending.length > 0 && has_free_slot (self))
    schedule_locked (self);
  g_mutex_unlock (&self->anchor->lock);
}

/* One dispatch of the group's source: the steps of the essay at the top
 * of this file, in order. */
static void
run_batch (NurseryGroup *self)
{
  begin_batch (self);

  /* User code runs below (signals, notifies, destroy notifies, cleanups,
   * async callbacks); a blocking wait() from there would never return. */
  g_atomic_int_set (&self->in_batch, TRUE);
  /* Lines may come once per child: asked once per batch. */
  self->note_spawn = NURSERY_DEBUG_ON (SPAWN);
  _nursery_group_stream_add_spawned (&self->stream);       /* 1. R27 */
  deliver_started (self);                                   /* 2. R18 */
  finish_doomed (self);                                     /* 3. R5 */
  start_pending (self);                                     /* 4. R1, R19 */
  report_returned (self);                                   /* 5. R3, R7, R8, R11, R29 */
  maybe_close (self);                                       /* 6. R22, R6, R7 */
  _nursery_group_stream_serve (&self->stream, self);        /* 7. R25 */
  flush_task_notifications (self);                          /* 8. R21 */
  _nursery_group_stream_flush_list (&self->stream);         /*    R27 */
  flush_notifications (self);                               /*    R21 */
  g_atomic_int_set (&self->in_batch, FALSE);

  schedule_for_free_slots (self);
  _nursery_group_release_orphan (self);                     /* R20, R30 */
}

static gboolean
group_source_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  NurseryGroup *self = g_object_ref (((GroupSource *) source)->group);

  run_batch (self);
  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
group_source_check (GSource *source)
{
  return g_atomic_int_get (&((GroupSource *) source)->ready);
}

static gboolean
group_source_prepare (GSource *source,
                      gint    *timeout)
{
  *timeout = -1;    /* the ready time, if any, bounds the poll */
  return group_source_check (source);
}

static GSourceFuncs group_source_funcs = {
  .prepare = group_source_prepare,
  .check = group_source_check,
  .dispatch = group_source_dispatch,
};

/* Called with the anchor's lock held, from any thread. */
void
_nursery_group_task_returned_locked (NurseryGroup *self,
                                     NurseryTask  *task)
{
  _nursery_task_move_locked (task, &self->returned, NURSERY_TASK_IN_RETURNED);
  schedule_locked (self);
}

/* GObject */

static void
leave_parent_task (NurseryGroup *self)
{
  if (self->parent_task == NULL)
    return;
  _nursery_task_remove_nested_group (self->parent_task, self);
  g_clear_object (&self->parent_task);
}

static void
nursery_group_dispose (GObject *object)
{
  NurseryGroup *self = NURSERY_GROUP (object);
  gboolean holds_context;

  _nursery_tsan_acquire_sole_owner (object);
  if (_nursery_group_orphan (self, &holds_context))
    return;

  release_watchers (self);
  leave_parent_task (self);
  /* Detached above: this only drops the reference on the cancellable. */
  _nursery_cancel_link_clear (&self->parent_link);
  /* Held: no batch runs from here on, on any thread, and then the owner
   * context may go (R30). Not held when g_object_run_dispose() came on a
   * group already orphaned, whose batch still has children to run. */
  if (holds_context)
    {
      g_source_destroy (self->source);
      g_main_context_release (self->context);
    }

  G_OBJECT_CLASS (nursery_group_parent_class)->dispose (object);
}

static void
warn_unobserved_failures (NurseryGroup *self)
{
  const GError *first;

  if (self->failures.length == 0 || self->errors_observed)
    return;
  first = kept_failure (self->failures.head)->error;
  g_warning ("Group “%s” was finalized with %u failure(s) nobody read; the first: %s",
             self->name != NULL ? self->name : "(unnamed)", self->failures.length,
             first->message);
}

static void
nursery_group_finalize (GObject *object)
{
  NurseryGroup *self = NURSERY_GROUP (object);

  _nursery_tsan_acquire_sole_owner (object);
  g_assert (self->unfinished.length == 0);
  g_assert (self->waiters == NULL);

  warn_unobserved_failures (self);

  g_mutex_lock (&self->anchor->lock);
  self->anchor->group = NULL;
  g_mutex_unlock (&self->anchor->lock);

  _nursery_group_release_spares (self);
  /* Destroyed by dispose(). */
  g_clear_pointer (&self->source, g_source_unref);
  while (self->failures.length > 0)
    {
      KeptFailure *kept = kept_failure (g_queue_pop_head_link (&self->failures));

      g_error_free (kept->error);
      g_free (kept->name);
      g_free (kept);
    }
  g_clear_pointer (&self->started, g_ptr_array_unref);
  g_clear_pointer (&self->task_notifies, g_ptr_array_unref);
  _nursery_group_stream_clear (&self->stream);
  g_clear_object (&self->winner);
  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->anchor, _nursery_anchor_unref);

  G_OBJECT_CLASS (nursery_group_parent_class)->finalize (object);
}

/* The counter behind a counter property (R21). */
static guint *
counter_of (NurseryGroup *self,
            guint         prop_id)
{
  switch (prop_id)
    {
    case PROP_N_RUNNING: return &self->n_running;
    case PROP_N_PENDING: return &self->n_pending;
    case PROP_N_FINISHED: return &self->n_finished;
    case PROP_N_FAILED: return &self->n_failed;
    case PROP_N_SUCCEEDED: return &self->n_succeeded;
    case PROP_N_CANCELLED: return &self->n_cancelled;
    case PROP_N_SPAWNED: return &self->n_spawned;
    default: g_assert_not_reached ();
    }
}

static void
nursery_group_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  NurseryGroup *self = NURSERY_GROUP (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_CONTEXT:
      g_value_set_boxed (value, self->context);
      break;
    case PROP_STATE:
      g_value_set_enum (value, nursery_group_get_state (self));
      break;
    case PROP_POLICY:
      g_value_set_enum (value, self->policy);
      break;
    case PROP_MAX_CONCURRENT:
      g_value_set_uint (value, self->max_concurrent);
      break;
    case PROP_DEADLINE:
      g_value_set_int64 (value, self->deadline);
      break;
    case PROP_SHIELDED:
      g_value_set_boolean (value, nursery_group_get_shielded (self));
      break;
    case PROP_CANCELLED:
      g_value_set_boolean (value, nursery_group_is_cancelled (self));
      break;
    case PROP_CLOSED:
      g_value_set_boolean (value, nursery_group_is_closed (self));
      break;
    case PROP_N_RUNNING:
    case PROP_N_PENDING:
    case PROP_N_FINISHED:
    case PROP_N_FAILED:
    case PROP_N_SUCCEEDED:
    case PROP_N_CANCELLED:
    case PROP_N_SPAWNED:
      g_value_set_uint (value, counter_get (counter_of (self, prop_id)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nursery_group_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  NurseryGroup *self = NURSERY_GROUP (object);

  switch (prop_id)
    {
    case PROP_NAME:
      nursery_group_set_name (self, g_value_get_string (value));
      break;
    case PROP_POLICY:
      nursery_group_set_policy (self, g_value_get_enum (value));
      break;
    case PROP_MAX_CONCURRENT:
      nursery_group_set_max_concurrent (self, g_value_get_uint (value));
      break;
    case PROP_DEADLINE:
      nursery_group_set_deadline (self, g_value_get_int64 (value));
      break;
    case PROP_SHIELDED:
      nursery_group_set_shielded (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GParamSpec *
counter_pspec (const char *name)
{
  return g_param_spec_uint (name, NULL, NULL, 0, G_MAXUINT, 0,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
}

static GParamSpec *
flag_pspec (const char *name)
{
  return g_param_spec_boolean (name, NULL, NULL, FALSE,
                               G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
}

static void
nursery_group_class_init (NurseryGroupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = nursery_group_dispose;
  object_class->dispatch_properties_changed = _nursery_group_dispatch_properties_changed;
  object_class->finalize = nursery_group_finalize;
  object_class->get_property = nursery_group_get_property;
  object_class->set_property = nursery_group_set_property;

  /**
   * NurseryGroup:name:
   *
   * A name for logs, errors and tree dumps.
   *
   * Since: 1.0
   */
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, rw);

  /**
   * NurseryGroup:context:
   *
   * The owner context: the thread-default main context when the group was
   * created. Every callback, signal and notification of the group and its
   * tasks is dispatched there.
   *
   * Since: 1.0
   */
  properties[PROP_CONTEXT] =
    g_param_spec_boxed ("context", NULL, NULL, G_TYPE_MAIN_CONTEXT,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * NurseryGroup:state:
   *
   * Open, joining or closed.
   *
   * Since: 1.0
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, NURSERY_TYPE_GROUP_STATE, NURSERY_GROUP_OPEN,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * NurseryGroup:policy:
   *
   * What the group does when a child fails or succeeds.
   *
   * Since: 1.0
   */
  properties[PROP_POLICY] =
    g_param_spec_enum ("policy", NULL, NULL, NURSERY_TYPE_POLICY, NURSERY_POLICY_FAIL_FAST, rw);

  /**
   * NurseryGroup:max-concurrent:
   *
   * How many children may run at once; 0 means no limit. The others wait
   * in spawn order and are counted in [property@Nursery.Group:n-pending].
   *
   * Since: 1.0
   */
  properties[PROP_MAX_CONCURRENT] =
    g_param_spec_uint ("max-concurrent", NULL, NULL, 0, G_MAXUINT, 0, rw);

  /**
   * NurseryGroup:deadline:
   *
   * When the group times out, in monotonic microseconds
   * (g_get_monotonic_time()), or -1 for never. When it passes, the group
   * is cancelled and, unless a child failed, waiting for it fails with
   * `G_IO_ERROR_TIMED_OUT`.
   *
   * Since: 1.0
   */
  properties[PROP_DEADLINE] =
    g_param_spec_int64 ("deadline", NULL, NULL, -1, G_MAXINT64, -1, rw);

  /**
   * NurseryGroup:shielded:
   *
   * For a nested group: whether the cancellation of its parent passes it
   * by. Its own cancel and its own deadline still reach it.
   *
   * Since: 1.0
   */
  properties[PROP_SHIELDED] =
    g_param_spec_boolean ("shielded", NULL, NULL, FALSE, rw);

  /**
   * NurseryGroup:cancelled:
   *
   * Whether the group has been cancelled, for any reason.
   *
   * Since: 1.0
   */
  properties[PROP_CANCELLED] = flag_pspec ("cancelled");

  /**
   * NurseryGroup:closed:
   *
   * Whether the group is closed: it was joined and every child finished.
   *
   * Since: 1.0
   */
  properties[PROP_CLOSED] = flag_pspec ("closed");

  /**
   * NurseryGroup:n-running:
   *
   * How many children have started and not finished.
   *
   * Since: 1.0
   */
  properties[PROP_N_RUNNING] = counter_pspec ("n-running");

  /**
   * NurseryGroup:n-pending:
   *
   * How many children are spawned but not started.
   *
   * Since: 1.0
   */
  properties[PROP_N_PENDING] = counter_pspec ("n-pending");

  /**
   * NurseryGroup:n-finished:
   *
   * How many children have finished, however they ended.
   *
   * Since: 1.0
   */
  properties[PROP_N_FINISHED] = counter_pspec ("n-finished");

  /**
   * NurseryGroup:n-failed:
   *
   * How many children have failed.
   *
   * Since: 1.0
   */
  properties[PROP_N_FAILED] = counter_pspec ("n-failed");

  /**
   * NurseryGroup:n-succeeded:
   *
   * How many children have succeeded. With
   * [property@Nursery.Group:n-spawned] it makes a progress bar that does
   * not jump to 100 % on Cancel: n-succeeded + n-failed + n-cancelled is
   * n-finished, not counting start children that never started ([R18](rules.html#R18)).
   *
   * Since: 1.0
   */
  properties[PROP_N_SUCCEEDED] = counter_pspec ("n-succeeded");

  /**
   * NurseryGroup:n-cancelled:
   *
   * How many children have finished cancelled.
   *
   * Since: 1.0
   */
  properties[PROP_N_CANCELLED] = counter_pspec ("n-cancelled");

  /**
   * NurseryGroup:n-spawned:
   *
   * How many children have been spawned so far, however they ended: the
   * total for a progress bar.
   *
   * Since: 1.0
   */
  properties[PROP_N_SPAWNED] = counter_pspec ("n-spawned");

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * NurseryGroup::task-finished:
   * @self: the group
   * @task: the child that finished
   *
   * Emitted on the owner context once per child, in completion order,
   * after the group has counted it. The child's user data is still alive
   * here ([method@Nursery.Task.get_task_data]); its destroy notify runs
   * right after this emission.
   *
   * Since: 1.0
   */
  signals[TASK_FINISHED] =
    g_signal_new ("task-finished",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, NURSERY_TYPE_TASK);

  /**
   * NurseryGroup::task-failed:
   * @self: the group
   * @task: the child that failed
   * @error: its error
   *
   * Emitted on the owner context when a child fails, before
   * [signal@Nursery.Group::task-finished]. A handler that returns %TRUE
   * *handles* the failure ([R29](rules.html#R29)): it is still counted in
   * [property@Nursery.Group:n-failed], but it is not kept (neither in
   * [method@Nursery.Group.get_errors] nor in
   * [method@Nursery.Group.get_failed_task_names]), it does not decide the
   * outcome of wait and it does not cancel the group under
   * %NURSERY_POLICY_FAIL_FAST. A server that handles its failed
   * connections this way runs in bounded memory. Whatever the handler
   * returns, the failure stays readable from @task.
   *
   * Returns: %TRUE if the failure is handled
   *
   * Since: 1.0
   */
  signals[TASK_FAILED] =
    g_signal_new ("task-failed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, g_signal_accumulator_true_handled, NULL, NULL,
                  G_TYPE_BOOLEAN, 2, NURSERY_TYPE_TASK, G_TYPE_ERROR);

}

static void
nursery_group_init (NurseryGroup *self)
{
  self->anchor = nursery_anchor_new (self);
  self->context = g_main_context_ref_thread_default ();
  self->started = g_ptr_array_new_with_free_func (g_object_unref);
  self->task_notifies = g_ptr_array_new_with_free_func (g_object_unref);
  self->owner_thread = g_thread_self ();
  self->create_time = _nursery_birth_clock ();
  self->deadline = NURSERY_NO_DEADLINE;

  self->source = g_source_new (&group_source_funcs, sizeof (GroupSource));
  ((GroupSource *) self->source)->group = self;
  g_source_set_static_name (self->source, "NurseryGroup");
  g_source_attach (self->source, self->context);
}

/* Spawning (R1–R5, R24) */

/**
 * nursery_group_new:
 *
 * Creates a task group bound to the thread-default main context, its
 * *owner context*.
 *
 * Returns: (transfer full): a new, open group
 *
 * Since: 1.0
 */
NurseryGroup *
nursery_group_new (void)
{
  return g_object_new (NURSERY_TYPE_GROUP, NULL);
}

/* Spawning is for the owner (R1, R23, R24): the spawn paths move the
 * group's owner-only state (its spare tasks, its counters, its exit
 * stack) without a lock of their own, as its batch does, so they must
 * never run beside a batch on another thread. The owner is the thread
 * that runs the group's batches; before the first one, the thread that
 * made the group; and a thread that holds the owner context now, beside
 * which no batch can run. A thread child is none of them, and neither is
 * the thread that made the group once another thread runs its batches
 * (it made the group for a context another thread runs).
 * This is the quick check, for an early critical; it never decides
 * alone, since a batch may begin on another thread right after it: the
 * spawn paths decide under the anchor's lock
 * (_nursery_group_check_spawn_locked()), the calls that work outside it
 * with the owner context held (_nursery_group_acquire_owner()). */
gboolean
_nursery_group_called_on_owner (NurseryGroup *self)
{
  GThread *me = g_thread_self ();
  GThread *batch_thread = g_atomic_pointer_get (&self->batch_thread);

  return me == batch_thread || (batch_thread == NULL && me == self->owner_thread) ||
         g_main_context_is_owner (self->context);
}

/* Called with the anchor's lock held, which a batch takes to begin
 * (begin_batch()): whether the caller has the owner's rights for as long
 * as it holds the lock. A thread that holds the owner context takes them
 * over: no batch runs elsewhere while it does, and the next batch takes
 * them back. The context's lock nests inside the anchor's, as in
 * begin_batch(). */
static gboolean
owns_locked (NurseryGroup *self)
{
  GThread *me = g_thread_self ();

  if (me == self->batch_thread || (self->batch_thread == NULL && me == self->owner_thread))
    return TRUE;
  if (!g_main_context_is_owner (self->context))
    return FALSE;
  g_atomic_pointer_set (&self->batch_thread, me);
  return TRUE;
}

/* The critical of a call refused off the owner's thread (R23, R24),
 * named after @caller: the quick check's words, so that one mistake reads
 * as one message wherever it is caught. */
void
_nursery_group_warn_not_owner (const char *caller)
{
  g_return_if_fail_warning (G_LOG_DOMAIN, caller, "_nursery_group_called_on_owner (self)");
}

/* Takes the anchor's lock for a setter of the owner's (R23, R24): TRUE
 * with the lock held if the caller has the owner's rights, as a spawn
 * checks them; else FALSE, without the lock, and the owner critical for
 * @caller. Checked under the lock, and the setter's write made in it: a
 * batch that begins on another thread meanwhile finds it done. */
gboolean
_nursery_group_lock_as_owner (NurseryGroup *self,
                              const char   *caller)
{
  g_mutex_lock (&self->anchor->lock);
  if (owns_locked (self))
    return TRUE;
  g_mutex_unlock (&self->anchor->lock);
  _nursery_group_warn_not_owner (caller);
  return FALSE;
}

/* Holds the owner context for an owner-only call that works outside the
 * anchor's lock (R23, R24): TRUE, with the context held, if the caller
 * has the owner's rights; else FALSE and the owner critical for @caller.
 * The quick check passes for the thread that made the group until a batch
 * has run elsewhere, but that batch may begin right after it: holding the
 * context keeps every batch, and every timer of the context, off other
 * threads until _nursery_group_release_owner(). A thread that cannot take
 * the context now is not the owner (another thread runs it) and is
 * refused; it never waits. Recursive for the thread that runs the batch.
 * The rights are taken over under the anchor's lock, as a spawn from a
 * thread holding the context takes them (owns_locked()): the thread that
 * ran the last batch spawns no more beside this call. */
gboolean
_nursery_group_acquire_owner (NurseryGroup *self,
                              const char   *caller)
{
  if (!_nursery_group_called_on_owner (self) || !g_main_context_acquire (self->context))
    {
      _nursery_group_warn_not_owner (caller);
      return FALSE;
    }
  g_mutex_lock (&self->anchor->lock);
  (void) owns_locked (self);   /* TRUE: the context is held */
  g_mutex_unlock (&self->anchor->lock);
  return TRUE;
}

/* Ends _nursery_group_acquire_owner(). The anchor's lock first: the
 * context's own lock is taken inside libglib, where ThreadSanitizer does
 * not see it, and the next batch, on whichever thread, begins under the
 * anchor's lock; so the call's writes are ordered before that batch in a
 * way TSan sees too. */
void
_nursery_group_release_owner (NurseryGroup *self)
{
  g_mutex_lock (&self->anchor->lock);
  g_mutex_unlock (&self->anchor->lock);
  g_main_context_release (self->context);
}

/* A GTask of an owner-only call, made with the owner context held
 * (_nursery_group_acquire_owner()): it completes on the owner context,
 * as documented, whatever the caller's thread-default context is (the
 * thread that made the group, or one holding its context, may have
 * another; then nobody would run the completion). Held, the context may
 * be pushed. */
GTask *
_nursery_group_new_owner_task (NurseryGroup        *self,
                               gpointer             source_tag,
                               const char          *name,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task;

  g_main_context_push_thread_default (self->context);
  task = g_task_new (self, NULL, callback, user_data);
  g_main_context_pop_thread_default (self->context);
  g_task_set_source_tag (task, source_tag);
  g_task_set_name (task, name);
  return task;
}

/* Called with the anchor's lock held: whether the caller may spawn into
 * the group now. Everything a spawn changes is then changed in the same
 * locked section, so a batch that begins on another thread meanwhile
 * finds it done (R23). */
NurserySpawnCheck
_nursery_group_check_spawn_locked (NurseryGroup *self)
{
  if (!owns_locked (self))
    return NURSERY_SPAWN_NOT_OWNER;
  if (g_atomic_int_get (&self->state) == NURSERY_GROUP_CLOSED)
    return NURSERY_SPAWN_CLOSED;
  return NURSERY_SPAWN_ALLOWED;
}

/* After the lock: refuses a spawn for @check, and nothing leaks (R4,
 * R24). The destroy notify is user code, never run under the lock. The
 * critical names @caller, the public function called, as the quick check
 * would: the hot spawns skip that and let the locked check speak.
 * Returns FALSE. */
gboolean
_nursery_group_refuse_spawn (NurseryGroup      *self,
                             const char        *caller,
                             NurserySpawnCheck  check,
                             GDestroyNotify     destroy,
                             gpointer           user_data,
                             GError           **error)
{
  if (check == NURSERY_SPAWN_NOT_OWNER)
    _nursery_group_warn_not_owner (caller);
  else
    g_set_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED,
                 "Group “%s” is closed; it takes no more children",
                 self->name != NULL ? self->name : "(unnamed)");
  /* Last, once nothing reads the group any more: the data may hold the
   * caller's only reference to it (a closure, a runner given its key
   * back), and a closed group is finalized right in this call (R30). */
  _nursery_refuse_drop (destroy, user_data);
  return FALSE;
}

/* A child joined the pending queue. */
void
_nursery_group_count_spawned (NurseryGroup *self)
{
  counter_add (&self->n_pending, 1);
  counter_add (&self->n_spawned, 1);
  mark_dirty_owner (self, BIT (PROP_N_PENDING) | BIT (PROP_N_SPAWNED));
}

/* Called with the anchor's lock held, allowed to spawn
 * (_nursery_group_check_spawn_locked()). A task without a spare to
 * reuse is made here, under the lock: g_object_new() of a final class
 * whose init takes no lock and runs no user code. */
NurseryTask *
_nursery_group_spawn_locked (NurseryGroup    *self,
                             const char      *name,
                             NurseryTaskFunc  func,
                             gpointer         user_data,
                             GDestroyNotify   destroy,
                             gboolean         in_thread)
{
  /* The group's reference, dropped when the child is reported finished. */
  NurseryTask *task = _nursery_task_new (_nursery_group_take_spare_task (self), self->anchor,
                                         g_strdup (name), func, user_data, destroy, in_thread,
                                         _nursery_birth_clock ());

  /* Into a cancelled group too: R5 is applied when its turn comes, so a
   * child shielded right after spawn still runs. */
  _nursery_task_enqueue_locked (task, &self->unfinished, &self->pending);
  schedule_locked (self);
  _nursery_group_count_spawned (self);
  _nursery_group_stream_spawned (&self->stream, task);
  return task;
}

NurseryTask *
_nursery_group_spawn (NurseryGroup    *self,
                      const char      *caller,
                      const char      *name,
                      NurseryTaskFunc  func,
                      gpointer         user_data,
                      GDestroyNotify   destroy,
                      gboolean         in_thread,
                      GError         **error)
{
  NurserySpawnCheck check;
  NurseryTask *task = NULL;

  g_mutex_lock (&self->anchor->lock);
  check = _nursery_group_check_spawn_locked (self);
  /* The caller's reference, taken under the lock: once it is released, a
   * batch on the thread that runs the context may finish the child and
   * drop the group's (R23). A new or spare task has no toggle reference
   * whose callback would run here. */
  if (check == NURSERY_SPAWN_ALLOWED)
    task = g_object_ref (_nursery_group_spawn_locked (self, name, func, user_data, destroy, in_thread));
  g_mutex_unlock (&self->anchor->lock);

  if (task == NULL)
    _nursery_group_refuse_spawn (self, caller, check, destroy, user_data, error);
  return task;
}

/**
 * nursery_group_spawn:
 * @self: a group that is not closed
 * @name: (nullable): a name for logs and errors
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   child's body, run on the owner context
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data on the owner context once the
 *   child has finished (or at once if the group refuses the child)
 * @error: return location for a [error@Nursery.Error]
 *
 * Adds an in-context child. Its function runs on a later iteration of the
 * owner context, never inside this call, and children start in spawn
 * order ([R1](rules.html#R1)). The child finishes when it calls one of the
 * `nursery_task_return_*()` functions, possibly much later ([R2](rules.html#R2)).
 *
 * Spawning is allowed while the group is open or joining, cancelled or
 * not; a child spawned into a cancelled group finishes as cancelled
 * without running ([R5](rules.html#R5)). A closed group refuses with
 * %NURSERY_ERROR_CLOSED and calls @destroy ([R4](rules.html#R4)).
 *
 * Call it on the owner context's thread: the one that runs the group's
 * batches, or one that holds its context now; before the first batch,
 * the thread that made the group too. From any other thread it is
 * refused with a critical, and @destroy is called: a thread child's, or
 * the thread that made the group for a context another thread runs
 * ([R23](rules.html#R23)).
 *
 * Returns: (transfer full) (nullable): the child's handle; dropping it
 *   neither stops nor leaks the child
 *
 * Since: 1.0
 */
NurseryTask *
nursery_group_spawn (NurseryGroup     *self,
                     const char       *name,
                     NurseryTaskFunc   func,
                     gpointer          user_data,
                     GDestroyNotify    destroy,
                     GError          **error)
{
  /* R24: refused, but the user data is not lost. */
  NURSERY_REFUSE_UNLESS (NURSERY_IS_GROUP (self), destroy, user_data, NULL);
  NURSERY_REFUSE_UNLESS (func != NULL, destroy, user_data, NULL);
  NURSERY_REFUSE_UNLESS (error == NULL || *error == NULL, destroy, user_data, NULL);
  /* R23: the owner is checked under the lock, where the spawn is made. */
  return _nursery_group_spawn (self, G_STRFUNC, name, func, user_data, destroy, FALSE, error);
}

/**
 * nursery_group_spawn_in_thread:
 * @self: a group that is not closed
 * @name: (nullable): a name for logs and errors
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   child's body, run on a worker thread of Nursery's pool
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data on the owner context once the
 *   child has finished (or at once if the group refuses the child)
 * @error: return location for a [error@Nursery.Error]
 *
 * Adds a thread child. It starts like an in-context child ([R1](rules.html#R1)) but its
 * function runs on a worker thread; it may return a result from there,
 * and if it returns without one it succeeds with no value ([R2](rules.html#R2)). It
 * finishes only once its function has returned. It should poll
 * [method@Nursery.Task.is_cancelled] or pass its cancellable to blocking
 * calls: nothing can stop a thread from outside.
 *
 * The worker pool grows for children that block, up to
 * nursery_get_max_threads() ([R28](rules.html#R28)); see nursery_set_max_threads().
 *
 * GJS cannot run JavaScript on a worker thread: a JavaScript function is
 * refused with `G_IO_ERROR_NOT_SUPPORTED` rather than left to "succeed"
 * without running.
 *
 * Call it on the owner context's thread, as [method@Nursery.Group.spawn]:
 * a thread child spawning from its worker is refused with a critical,
 * and @destroy is called.
 *
 * Returns: (transfer full) (nullable): the child's handle
 *
 * Since: 1.0
 */
NurseryTask *
nursery_group_spawn_in_thread (NurseryGroup     *self,
                               const char       *name,
                               NurseryTaskFunc   func,
                               gpointer          user_data,
                               GDestroyNotify    destroy,
                               GError          **error)
{
  /* R24: refused, but the user data is not lost. */
  NURSERY_REFUSE_UNLESS (NURSERY_IS_GROUP (self), destroy, user_data, NULL);
  NURSERY_REFUSE_UNLESS (func != NULL, destroy, user_data, NULL);
  NURSERY_REFUSE_UNLESS (error == NULL || *error == NULL, destroy, user_data, NULL);
  NURSERY_REFUSE_UNLESS (_nursery_group_called_on_owner (self), destroy, user_data, NULL);
  if (_nursery_callback_is_gjs (func))
    {
      /* GJS would skip the function on the worker, and the child would
       * succeed without having run (R2): refused, clearly. */
      _nursery_refuse_drop (destroy, user_data);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "GJS cannot run JavaScript on a worker thread: spawn an async "
                           "function with spawn() instead (see the nursery.js module)");
      return NULL;
    }

  return _nursery_group_spawn (self, G_STRFUNC, name, func, user_data, destroy, TRUE, error);
}

/* Joining and the outcome (R6–R8, R10) */

/* The waiter of wait_async(), with the owner context held. */
static void
add_waiter (NurseryGroup        *self,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(GTask) waiter = NULL;
  GError *error;

  /* No cancellable on the GTask: a cancelled waiter must not complete
   * before the children (R10), it cancels the group instead. */
  waiter = _nursery_group_new_owner_task (self, nursery_group_wait_async,
                                          "nursery_group_wait_async", callback, user_data);

  switch (nursery_group_get_state (self))
    {
    case NURSERY_GROUP_CLOSED:
      error = outcome_error (self);
      if (error != NULL)
        g_task_return_error (waiter, error);
      else
        g_task_return_boolean (waiter, TRUE);
      return;

    case NURSERY_GROUP_OPEN:
      set_state (self, NURSERY_GROUP_JOINING);
      G_GNUC_FALLTHROUGH;

    case NURSERY_GROUP_JOINING:
    default:
      _nursery_waiters_add (&self->waiters, waiter, cancellable, cancel_for_waiter, self);
      schedule (self);
    }
}

/**
 * nursery_group_wait_async:
 * @self: a group
 * @cancellable: (nullable): cancelling it cancels the group; the wait
 *   still completes only once every child has finished ([R10](rules.html#R10))
 * @callback: (scope async): called on the owner context with the outcome
 * @user_data: (closure): data for @callback
 *
 * Joins the group: it completes once no child is left, then closes the
 * group ([R6](rules.html#R6)). It never completes inside this call, even for an empty
 * group. Any number of waiters may wait; all get the same outcome.
 *
 * Call it on the owner context's thread.
 *
 * Since: 1.0
 */
void
nursery_group_wait_async (NurseryGroup        *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_return_if_fail (NURSERY_IS_GROUP (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));
  /* The owner's (R23, R24): the waiters are a list the closing batch
   * takes without a lock, and the state moves to joining here. The
   * owner context is held meanwhile, so no batch can run beside it. */
  if (!_nursery_group_acquire_owner (self, G_STRFUNC))
    return;
  add_waiter (self, cancellable, callback, user_data);
  _nursery_group_release_owner (self);
}

/**
 * nursery_group_wait_finish:
 * @self: a group
 * @result: the result given to the callback
 * @error: return location for the group's error
 *
 * Finishes [method@Nursery.Group.wait_async]. The outcome ([R7](rules.html#R7)) is:
 * the first child failure, unchanged, if any child failed (errors win
 * over cancellation); otherwise `G_IO_ERROR_TIMED_OUT` if its deadline
 * cancelled it; otherwise `G_IO_ERROR_CANCELLED` if it was cancelled from
 * outside (a waiter's cancellable, its parent, a Unix signal); otherwise
 * success. An explicit [method@Nursery.Group.cancel] is no error. Under the race policy a winner makes it a
 * success. Every failure is in [method@Nursery.Group.get_errors].
 *
 * Returns: %TRUE if the group succeeded
 *
 * Since: 1.0
 */
gboolean
nursery_group_wait_finish (NurseryGroup  *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == nursery_group_wait_async, FALSE);

  self->errors_observed = TRUE;
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* A source that only ends the poll of the iteration it is due in. */
static gboolean
wake_dispatch (GSource     *source,
               GSourceFunc  callback,
               gpointer     user_data)
{
  g_source_set_ready_time (source, -1);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs wake_funcs = {
  .dispatch = wake_dispatch,
};

/* One blocking iteration of nursery_group_wait() from inside a
 * deadline's callback (a cancelled handler that waits for a group of its
 * own): it also fires the deadlines that come due, since their timer's
 * source is the one dispatching, which GLib does not dispatch again until
 * it returns; children that end by their deadlines would never end
 * (R16, R17). The poll then wakes for the next one. */
static void
wait_iteration_in_timer (GMainContext *context)
{
  gint64 next = _nursery_deadline_fire_nested (context);
  GSource *wake;

  if (next < 0)
    {
      g_main_context_iteration (context, TRUE);
      return;
    }
  wake = g_source_new (&wake_funcs, sizeof (GSource));
  g_source_set_static_name (wake, "NurseryGroup wait: next deadline");
  g_source_set_ready_time (wake, next);
  g_source_attach (wake, context);
  g_main_context_iteration (context, TRUE);
  g_source_destroy (wake);
  g_source_unref (wake);
}

/**
 * nursery_group_wait:
 * @self: a group
 * @cancellable: (nullable): cancelling it cancels the group (the wait
 *   still returns only once every child has finished)
 * @error: return location for the group's error
 *
 * Joins the group, iterating the owner context until it closes: the
 * blocking form of [method@Nursery.Group.wait_async], for the owner
 * context's thread. Other sources of the context keep running meanwhile.
 *
 * It cannot be called from inside one of the group's own callbacks
 * ([signal@Nursery.Group::task-finished], a notify, a child's destroy
 * notify, a cleanup, a next_async() callback): the group could not make
 * progress until the callback returned. That is a critical, and it
 * returns %FALSE with %NURSERY_ERROR_WOULD_DEADLOCK.
 *
 * Returns: %TRUE if the group succeeded; see
 *   [method@Nursery.Group.wait_finish] for the outcome
 *
 * Since: 1.0
 */
gboolean
nursery_group_wait (NurseryGroup  *self,
                    GCancellable  *cancellable,
                    GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  gboolean was_draining;

  g_return_val_if_fail (NURSERY_IS_GROUP (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_main_context_acquire (self->context))
    {
      g_critical ("%s: the owner context of group “%s” is owned by another thread",
                  G_STRFUNC, self->name != NULL ? self->name : "(unnamed)");
      return FALSE;
    }
  /* Read with the context held, so only a batch of this thread's can be
   * running: another thread's, read before, was taken for this one's
   * (the wrong critical) and raced its write. */
  if (g_atomic_int_get (&self->in_batch))
    {
      g_main_context_release (self->context);
      /* The group's own source is dispatching this callback: it cannot
       * run again until the callback returns, so the wait would hang. */
      g_critical ("%s: called from inside a callback of group “%s” (task-finished, "
                  "a notify, a destroy notify, a cleanup or an async callback), "
                  "where it could never return; use nursery_group_wait_async()",
                  G_STRFUNC, group_name (self));
      g_set_error (error, NURSERY_ERROR, NURSERY_ERROR_WOULD_DEADLOCK,
                   "Waiting for group “%s” from inside its own callback would never return",
                   group_name (self));
      return FALSE;
    }

  nursery_group_wait_async (self, cancellable, store_result_cb, &result);
  _nursery_pool_blocking_begin ();
  /* Perhaps inside a cancellable's handler: the cancels that the
   * children wait for must not wait for this wait (R30). */
  was_draining = _nursery_cancel_begin_blocking ();
  if (_nursery_deadline_in_dispatch (self->context))
    while (result == NULL)
      wait_iteration_in_timer (self->context);
  else
    while (result == NULL)
      g_main_context_iteration (self->context, TRUE);
  _nursery_cancel_end_blocking (was_draining);
  _nursery_pool_blocking_end ();
  g_main_context_release (self->context);

  return nursery_group_wait_finish (self, result, error);
}

/**
 * nursery_group_is_closed:
 * @self: a group
 *
 * Whether the group is closed.
 *
 * Returns: %TRUE once the group was joined and every child finished
 *
 * Since: 1.0
 */
gboolean
nursery_group_is_closed (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), FALSE);

  return nursery_group_get_state (self) == NURSERY_GROUP_CLOSED;
}

/**
 * nursery_group_get_state:
 * @self: a group
 *
 * Where the group is in its life.
 *
 * Returns: open, joining or closed
 *
 * Since: 1.0
 */
NurseryGroupState
nursery_group_get_state (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), NURSERY_GROUP_OPEN);

  return g_atomic_int_get (&self->state);
}

/**
 * nursery_group_get_errors:
 * @self: a group
 *
 * Every child failure so far, in the order they happened ([R8](rules.html#R8)).
 * Cancelled children are not failures.
 *
 * Returns: (transfer container) (element-type GLib.Error): copies of the
 *   errors, freed with the array
 *
 * Since: 1.0
 */
GPtrArray *
nursery_group_get_errors (NurseryGroup *self)
{
  GPtrArray *copy;

  g_return_val_if_fail (NURSERY_IS_GROUP (self), NULL);

  self->errors_observed = TRUE;
  copy = g_ptr_array_new_full (self->failures.length, (GDestroyNotify) g_error_free);
  for (GList *l = self->failures.head; l != NULL; l = l->next)
    g_ptr_array_add (copy, g_error_copy (kept_failure (l)->error));
  return copy;
}

/* Nesting (R14) and shielding (R15) */

/* The parent's cancellable holds the group's anchor, not the group, and its
 * handler takes no reference to the group: a temporary one could become
 * the last and finalize the group on the cancelling thread, racing its
 * owner (R30). Under the anchor's lock the group is alive or NULL. The
 * group ends the link without waiting for a running handler (an owned
 * NurseryCancelLink): waiting, as g_cancellable_disconnect() does, would
 * deadlock when the group is dropped from another handler of the same
 * cancellable. */
static void
parent_cancelled_cb (GCancellable *cancellable,
                     gpointer      data)
{
  NurseryAnchor *anchor = data;
  GPtrArray *cancellables = NULL;
  NurseryGroup *self;

  /* Any thread: the parent may be cancelled from anywhere. */
  g_mutex_lock (&anchor->lock);
  self = anchor->group;
  if (self != NULL)
    {
      self->parent_cancelled = TRUE;
      if (!self->shielded)
        cancel_locked (self, CANCEL_PARENT, &cancellables);
    }
  g_mutex_unlock (&anchor->lock);

  g_clear_pointer (&cancellables, g_ptr_array_unref);
}

static NurseryGroup *
new_under (GCancellable *parent)
{
  NurseryGroup *self = nursery_group_new ();

  /* Connected now: a parent that is already cancelled cancels the new
   * group at once, and its children never run (R5). An owned link: the
   * connection holds the anchor, never the group (see
   * parent_cancelled_cb()). Adopted at once: only the owner ends it. */
  _nursery_cancel_link_hold (&self->parent_link, parent);
  _nursery_cancel_link_adopt (&self->parent_link,
                              _nursery_cancel_link_connect_owned (&self->parent_link,
                                                                  G_CALLBACK (parent_cancelled_cb),
                                                                  _nursery_anchor_ref (self->anchor),
                                                                  (GDestroyNotify) _nursery_anchor_unref));
  return self;
}

/**
 * nursery_group_new_for_task:
 * @parent: the task the new group works for
 *
 * Creates a group nested in @parent: cancelling @parent (by any cause,
 * including the cancellation of its own group) cancels the new group and
 * all its children, also when @parent was cancelled before this call
 * ([R14](rules.html#R14)). The nesting shows in [method@Nursery.Group.dump_tree].
 *
 * Create it, like any group, on the thread whose thread-default context
 * is to own it.
 *
 * Returns: (transfer full): a new, open group
 *
 * Since: 1.0
 */
NurseryGroup *
nursery_group_new_for_task (NurseryTask *parent)
{
  NurseryGroup *self;

  g_return_val_if_fail (NURSERY_IS_TASK (parent), NULL);

  self = new_under (nursery_task_get_cancellable (parent));
  self->parent_task = g_object_ref (parent);
  _nursery_task_add_nested_group (parent, self);
  return self;
}

/**
 * nursery_group_new_with_cancellable:
 * @parent: a cancellable
 *
 * Creates a group that is cancelled when @parent is ([R14](rules.html#R14)), for
 * code that has a GCancellable rather than a task.
 *
 * Returns: (transfer full): a new, open group
 *
 * Since: 1.0
 */
NurseryGroup *
nursery_group_new_with_cancellable (GCancellable *parent)
{
  g_return_val_if_fail (G_IS_CANCELLABLE (parent), NULL);

  return new_under (parent);
}

/**
 * nursery_group_set_shielded:
 * @self: a nested group
 * @shielded: whether to shield it
 *
 * Shields a nested group from the cancellation of its parent ([R15](rules.html#R15));
 * its own cancel and deadline still reach it. Unshielding a group
 * whose parent was cancelled cancels it then.
 *
 * Since: 1.0
 */
void
nursery_group_set_shielded (NurseryGroup *self,
                            gboolean      shielded)
{
  gboolean cancel_now;

  g_return_if_fail (NURSERY_IS_GROUP (self));

  shielded = !!shielded;
  g_mutex_lock (&self->anchor->lock);
  if (self->shielded == shielded)
    {
      g_mutex_unlock (&self->anchor->lock);
      return;
    }
  self->shielded = shielded;
  cancel_now = !shielded && self->parent_cancelled;
  g_mutex_unlock (&self->anchor->lock);

  mark_dirty (self, BIT (PROP_SHIELDED));
  schedule (self);
  if (cancel_now)
    _nursery_group_cancel_with_cause (self, CANCEL_PARENT);
}

/**
 * nursery_group_get_shielded:
 * @self: a group
 *
 * Whether the group is shielded from its parent's cancellation.
 *
 * Returns: %TRUE if shielded
 *
 * Since: 1.0
 */
gboolean
nursery_group_get_shielded (NurseryGroup *self)
{
  gboolean shielded;

  g_return_val_if_fail (NURSERY_IS_GROUP (self), FALSE);

  g_mutex_lock (&self->anchor->lock);
  shielded = self->shielded;
  g_mutex_unlock (&self->anchor->lock);
  return shielded;
}

/* Deadlines (R16, R17) */

static void
group_deadline_fired (gpointer target)
{
  _nursery_group_cancel_with_cause (target, CANCEL_DEADLINE);
}

/**
 * nursery_group_set_deadline:
 * @self: a group
 * @deadline: when the group times out, in monotonic microseconds
 *   (g_get_monotonic_time()), or -1 for never
 *
 * Sets, moves (earlier or later) or clears the group's deadline ([R16](rules.html#R16)).
 * When it passes the group is cancelled; waiting for it then fails
 * with `G_IO_ERROR_TIMED_OUT`, unless a child failed ([R7](rules.html#R7)). Shielded
 * children are not reached. A deadline in the past fires on the next
 * iteration. Does nothing once the group is closed.
 *
 * Since: 1.0
 */
void
nursery_group_set_deadline (NurseryGroup *self,
                            gint64        deadline)
{
  gboolean changed;

  g_return_if_fail (NURSERY_IS_GROUP (self));
  g_return_if_fail (deadline >= -1);

  /* The owner's (R23, R24); under the lock, which a tree dump on another
   * context reads it in too (R14). */
  if (!_nursery_group_lock_as_owner (self, G_STRFUNC))
    return;
  changed = self->deadline != deadline && !nursery_group_is_closed (self);
  /* The timer too is armed in the lock. A batch on another thread (this
   * may be the thread that made the group) begins under it, so the batch
   * that closes the group finds the timer armed and releases it; armed
   * after the unlock, it could be armed on a group that batch had closed.
   * The timers' lock nests inside the anchor's; a timer calls its target
   * with neither held. */
  if (changed)
    {
      self->deadline = deadline;
      _nursery_deadline_set (&self->deadline_timer, self->context, deadline,
                             group_deadline_fired, self);
    }
  g_mutex_unlock (&self->anchor->lock);
  if (!changed)
    return;
  mark_dirty (self, BIT (PROP_DEADLINE));
  schedule (self);
}

/**
 * nursery_group_set_timeout:
 * @self: a group
 * @timeout: microseconds from now
 *
 * Sets the group's deadline @timeout microseconds from now; see
 * [method@Nursery.Group.set_deadline].
 *
 * Since: 1.0
 */
void
nursery_group_set_timeout (NurseryGroup *self,
                           GTimeSpan     timeout)
{
  g_return_if_fail (timeout >= 0);

  nursery_group_set_deadline (self, _nursery_deadline_after (timeout));
}

/**
 * nursery_group_clear_deadline:
 * @self: a group
 *
 * Removes the group's deadline.
 *
 * Since: 1.0
 */
void
nursery_group_clear_deadline (NurseryGroup *self)
{
  nursery_group_set_deadline (self, NURSERY_NO_DEADLINE);
}

/**
 * nursery_group_get_deadline:
 * @self: a group
 *
 * The group's deadline.
 *
 * Returns: the deadline in monotonic microseconds, or -1 for none
 *
 * Since: 1.0
 */
gint64
nursery_group_get_deadline (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), NURSERY_NO_DEADLINE);

  return self->deadline;
}
