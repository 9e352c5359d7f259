/* nursery-group-impl-private.h: a group's fields, for the files that
 * implement its features
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nursery-cancel-link-private.h"
#include "nursery-deadline-private.h"
#include "nursery-group-private.h"
#include "nursery-group-stream-private.h"
#include "nursery-queued-child-private.h"

G_BEGIN_DECLS

/* nursery-group.c holds the group's mechanisms (scheduling, cancellation,
 * reporting, the batch) and the GObject; nursery-group-props.c,
 * nursery-group-shutdown.c, nursery-group-dump.c,
 * nursery-group-release.c, nursery-group-orphan.c, nursery-group-soon.c
 * and nursery-group-start.c hold features that only use the fields below
 * and the few mechanisms declared with them.
 * The stream has its own, smaller interface
 * (nursery-group-stream-private.h). Include this header only from
 * nursery-group*.c. */

typedef enum
{
  CANCEL_NONE,
  CANCEL_EXPLICIT,
  CANCEL_FAILURE,
  CANCEL_RACE_WON,
  CANCEL_WAITER,
  CANCEL_DROPPED,
  CANCEL_DEADLINE,
  CANCEL_PARENT,
  CANCEL_SIGNAL,
  CANCEL_SHUTDOWN,
} CancelCause;

typedef struct
{
  NurseryCleanupFunc func;
  gpointer           user_data;
  GDestroyNotify     destroy;
} Cleanup;

struct _NurseryGroup
{
  GObject         parent_instance;

  NurseryAnchor  *anchor;
  GMainContext   *context;
  GSource        *source;
  char           *name;

  /* Guarded by anchor->lock. Tasks are linked in, never allocated for,
   * and moved only by the task's helpers, which check each move against
   * the table in nursery-task-private.h. */
  GQueue          unfinished;   /* every unfinished task, in spawn order */
  GQueue          pending;      /* spawned, waiting for their turn */
  GQueue          doomed;       /* cancelled before they started (R5) */
  GQueue          returned;     /* returned, not reported yet */
  GPtrArray      *started;      /* tasks whose started() is not delivered yet */
  GPtrArray      *task_notifies; /* tasks with property notifies to emit */
  CancelCause     cancel_cause;
  gboolean        scheduled;
  gboolean        shielded;     /* ignores its parent's cancellation (R15) */
  gboolean        parent_cancelled;
  gboolean        orphaned;     /* keeps itself alive until closed (R20, R30) */
  GThread        *unref_tail_thread; /* dropped off the owner: see orphan() */
  guint           orphan_retries;

  /* Written on the owner context only. The name and the deadline are
   * written under the lock too, and the counters atomically, because a
   * tree dump from another context reads them (R14). */
  GThread        *owner_thread; /* the thread that created the group */
  GThread        *batch_thread; /* the last one to run a batch, or to take
                                 * over (atomic, written under the lock) */
  NurseryPolicy   policy;
  guint           max_concurrent;
  guint           n_running;
  guint           n_pending;
  guint           n_finished;
  guint           n_failed;
  GQueue          failures;     /* KeptFailure, in order (R29) */
  NurseryTask    *winner;
  /* Reported children, released here (nursery-group-release.c). Owner
   * context. */
  NurseryTask    *spare_tasks[8];  /* reset for the next spawns */
  guint           n_spare_tasks;
  guint           n_released;       /* since malloc last coalesced */
  GSList         *waiters;
  NurseryGroupStream stream;    /* next_async() and list_tasks() (R27) */
  GSList         *cleanups;     /* Cleanup, most recent first (R22) */
  GPtrArray      *signal_sources;
  gint64          create_time;
  gint64          deadline;
  NurseryDeadline deadline_timer;    /* in the owner context's timer (R28) */
  NurseryTask    *parent_task;  /* for nursery_group_new_for_task() */
  NurseryCancelLink parent_link; /* to the parent's cancellable (R14): owned */
  gboolean        in_batch;     /* its source is dispatching: wait() would hang */
  gboolean        note_spawn;   /* NURSERY_DEBUG spawn lines, asked once per batch */
  gboolean        look_again_armed; /* release_orphan() set a ready time (lock) */
  guint           errors_observed : 1;

  int             state;        /* NurseryGroupState, atomic */
  guint           dirty;        /* atomic: property bits to notify */
  guint           batch_work;   /* atomic, set under (lock): WORK_ bits */

  /* Real-application API (R21, R29). Owner context unless marked. */
  guint           n_succeeded;
  guint           n_cancelled;
  guint           n_spawned;
  int             cancel_signum;  /* the signal that cancelled it, or 0 (lock) */
  int             first_signum;   /* the first signal received, or 0 */
  guint           n_signals;      /* how many of first_signum arrived */
};

/* A failure the group keeps (R29): a copy of the error and its task's
 * name ("" if unnamed). A list, not an array: a server's group may keep
 * a hundred thousand, and doubling an array that large in the middle of
 * a burst is one big allocation, for which malloc first consolidates
 * every small chunk freed since the last one (a stall of milliseconds). */
typedef struct
{
  GList   link;
  GError *error;
  char   *name;
} KeptFailure;

static inline KeptFailure *
kept_failure (GList *link)
{
  return link->data;
}

static inline const char *
group_name (NurseryGroup *self)
{
  return self->name != NULL ? self->name : "(unnamed)";
}

/* Counters change on the owner context only, but atomically: a tree dump
 * from another context reads them (R14). One writer needs no locked
 * read-modify-write (some 20 cycles, several per child): a load and a
 * store, each whole, do. */
static inline void
counter_add (guint *counter,
             int    delta)
{
#ifdef __ATOMIC_RELAXED
  __atomic_store_n (counter, __atomic_load_n (counter, __ATOMIC_RELAXED) + delta, __ATOMIC_RELAXED);
#else
  g_atomic_int_add ((gint *) counter, delta);
#endif
}

static inline guint
counter_get (guint *counter)
{
  return (guint) g_atomic_int_get ((gint *) counter);
}

enum {
  PROP_0,
  PROP_NAME,
  PROP_CONTEXT,
  PROP_STATE,
  PROP_POLICY,
  PROP_MAX_CONCURRENT,
  PROP_DEADLINE,
  PROP_SHIELDED,
  PROP_CANCELLED,
  PROP_CLOSED,
  PROP_N_RUNNING,
  PROP_N_PENDING,
  PROP_N_FINISHED,
  PROP_N_FAILED,
  PROP_N_SUCCEEDED,
  PROP_N_CANCELLED,
  PROP_N_SPAWNED,
  N_PROPS
};

#define BIT(prop) (1u << (prop))

/* What other threads left for the batch (batch_work). */
enum {
  WORK_STARTED  = 1 << 0,   /* the started array is not empty (R18) */
  WORK_DOOMED   = 1 << 1,   /* the doomed queue is not empty (R5) */
  WORK_NOTIFIES = 1 << 2,   /* the task_notifies array is not empty (R21) */
};

/* Marks properties to notify at the end of the next batch: notifications
 * are never emitted from inside the call that caused them, and a batch
 * that moves a counter many times notifies it once. */
static inline void
mark_dirty (NurseryGroup *self,
            guint         prop_bits)
{
  g_atomic_int_or (&self->dirty, prop_bits);
}

/* mark_dirty() on the owner context, which alone clears the bits (in its
 * batch's flush): bits set already stay set until then, so most children
 * skip the locked read-modify-write. */
static inline void
mark_dirty_owner (NurseryGroup *self,
                  guint         prop_bits)
{
  if ((g_atomic_int_get (&self->dirty) & prop_bits) != prop_bits)
    mark_dirty (self, prop_bits);
}

/* The owner checks (_nursery_group_called_on_owner(),
 * _nursery_group_acquire_owner() and the rest) are declared once, in
 * nursery-group-stream-private.h, which the stream and the tasks include
 * without this header. */

/* nursery-group-release.c: the group's reference to its reported
 * children (R28). */
void         _nursery_group_release_task    (NurseryGroup *self,
                                             NurseryTask  *task,
                                             gboolean      unseen);
NurseryTask *_nursery_group_take_spare_task (NurseryGroup *self);
void         _nursery_group_release_spares  (NurseryGroup *self);

/* nursery-group-orphan.c: a dropped group that outlives its last
 * reference (R20, R30). */
gboolean     _nursery_group_orphan                       (NurseryGroup *self,
                                                          gboolean     *holds_context);
void         _nursery_group_release_orphan               (NurseryGroup *self);
void         _nursery_group_dispatch_properties_changed  (GObject      *object,
                                                          guint         n_pspecs,
                                                          GParamSpec  **pspecs);
/* With the anchor's lock held, from any thread: a batch soon (R21). */
void         _nursery_group_schedule_locked              (NurseryGroup *self);

/* Spawning (R1, R4): the owner context's thread. */
/* Whether a spawn may go on, decided under the anchor's lock. */
typedef enum {
  NURSERY_SPAWN_ALLOWED,
  NURSERY_SPAWN_NOT_OWNER,   /* R23: a critical */
  NURSERY_SPAWN_CLOSED,      /* R4: a GError */
} NurserySpawnCheck;

NurserySpawnCheck _nursery_group_check_spawn_locked (NurseryGroup      *self);
gboolean          _nursery_group_lock_as_owner      (NurseryGroup      *self,
                                                     const char        *caller);
gboolean          _nursery_group_refuse_spawn       (NurseryGroup      *self,
                                                     const char        *caller,
                                                     NurserySpawnCheck  check,
                                                     GDestroyNotify     destroy,
                                                     gpointer           user_data,
                                                     GError           **error);
NurseryTask      *_nursery_group_spawn_locked       (NurseryGroup      *self,
                                                     const char        *name,
                                                     NurseryTaskFunc    func,
                                                     gpointer           user_data,
                                                     GDestroyNotify     destroy,
                                                     gboolean           in_thread);
void         _nursery_group_count_spawned (NurseryGroup    *self);
/* Returns: (transfer full): the task, which the group holds too */
NurseryTask *_nursery_group_spawn         (NurseryGroup    *self,
                                           const char      *caller,
                                           const char      *name,
                                           NurseryTaskFunc  func,
                                           gpointer         user_data,
                                           GDestroyNotify   destroy,
                                           gboolean         in_thread,
                                           GError         **error);
/* nursery_group_start_soon() once its arguments are checked. */
gboolean     _nursery_group_start_soon    (NurseryGroup    *self,
                                           const char      *caller,
                                           const char      *name,
                                           NurseryTaskFunc  func,
                                           gpointer         user_data,
                                           GDestroyNotify   destroy,
                                           GError         **error);

/* nursery-group-soon.c: children spawned without a handle, queued as
 * NurseryQueuedChild (nursery-queued-child-private.h) until their turn
 * and after a success nobody else could see (R28). The lock is the
 * anchor's; the rest runs on the owner context. */
void         _nursery_group_take_queued_locked  (NurseryGroup       *self,
                                                 GList              *queue_link,
                                                 GQueue             *batch_queue);
NurseryTask *_nursery_group_task_for_taken      (NurseryGroup       *self,
                                                 NurseryQueuedChild *child);
NurseryTask *_nursery_group_settle_taken        (NurseryGroup       *self,
                                                 NurseryQueuedChild *child,
                                                 NurseryTask        *task,
                                                 NurseryQueuedChild *next);
NurseryTask *_nursery_group_task_for_returned   (NurseryGroup       *self,
                                                 NurseryQueuedChild *child);
void         _nursery_group_unlist_returned_locked (NurseryGroup    *self,
                                                    GQueue          *chunk);
void         _nursery_queued_child_free         (NurseryQueuedChild *child);
void         _nursery_group_adopt_queued_locked (NurseryGroup       *self);

/* Any thread: cancels the group for @cause, once (R12). */
void    _nursery_group_cancel_with_cause (NurseryGroup *self,
                                          CancelCause   cause);
/* The error a group cancelled by a Unix signal completes with (R22). */
GError *_nursery_group_signal_error      (NurseryGroup *self,
                                          const char   *name);

G_END_DECLS
