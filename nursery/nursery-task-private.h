/* nursery-task-private.h: what NurseryGroup needs to see of a task
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nursery-task.h"
#include "nursery-group-private.h"
#include "nursery-deadline-private.h"
#include "nursery-queued-child-private.h"

G_BEGIN_DECLS

/* Which of its group's queues a task's queue_link is in. (lock) */
typedef enum
{
  NURSERY_TASK_IN_NO_QUEUE,  /* free, or in a queue the owner's batch holds */
  NURSERY_TASK_IN_PENDING,   /* spawned, waiting for its turn (R1, R19) */
  NURSERY_TASK_IN_DOOMED,    /* cancelled before it started (R5) */
  NURSERY_TASK_IN_RETURNED,  /* returned, not reported yet */
  NURSERY_TASK_N_QUEUES
} NurseryTaskQueue;

/* A task's life, and what holds at each point. The state and the queue
 * change only through the helpers below (the group writes neither); in
 * debug builds each move is checked against this table, one lookup
 * (legal_move[] in nursery-task.c), and a broken invariant aborts:
 *
 *   state      queue      flags cancelled and returned (checked)
 *   PENDING    no queue   being spawned, or taken by the batch (to
 *                         start, or to finish unstarted: then it is
 *                         cancelled and, once finished, returned)
 *   PENDING    pending    neither cancelled nor returned
 *   PENDING    doomed     cancelled, not returned
 *   RUNNING    no queue   its function runs, or it returned and is
 *                         being handed over or reported
 *   RUNNING    returned   returned
 *   finished   no queue   returned; its link is free, and the completion
 *                         stream may keep it in its queue (owner context)
 *
 * Moves: no queue → pending (spawn), pending → doomed (cancelled before
 * its turn, R5), pending → no queue (taken by the batch), no queue →
 * returned (it returned), doomed or returned → no queue (the batch takes
 * the whole queue). States: PENDING → RUNNING (started), PENDING →
 * CANCELLED or FAILED (finished unstarted; FAILED when its own deadline
 * cancelled it, R17), RUNNING → any finished state (reported).
 * The other flags hold without a check: started only once RUNNING (R18),
 * timed_out implies cancelled, cancelled_at_return and timed_out_at_return
 * are fixed when returned is set (claim_return()). */

/* The parts of a task few children use (the start handshake, nesting,
 * list_tasks(), progress, cleanups, waiters, pointer results), allocated
 * on first use and freed with the task: a pending child costs what every
 * child needs, no more (R28). Each field keeps the locking of its
 * comment. Deadlines stay in the task: a child with one touches one
 * object when it fires, and a burst of them freed together leaves no
 * small chunks for malloc to consolidate in the middle of the next
 * deadlines (a 20 ms stall at 100k). */
typedef struct
{
  /* Start handshake (R18): the start_async() caller waits here
   * until started() or the end. (lock) */
  GSList          *starters;
  GValue          *started_value;

  GSList          *nested_groups;    /* groups created for this task, no ref (lock) */
  GSequenceIter   *model_iter;       /* its node in the group's task list, if any */
  double           progress;         /* -1 unknown, else 0–1 (lock) */
  GSList          *cleanups;         /* TaskCleanup, most recent first (lock) */
  GSList          *waiters;          /* GTask of nursery_task_wait_async() */
  GDestroyNotify   value_destroy;    /* for nursery_task_return_pointer() */
} NurseryTaskExtra;

struct _NurseryTask
{
  GObject          parent_instance;

  /* Shared with the group; its lock guards the fields marked (lock). The
   * anchor outlives the group, so a late cancel never touches freed memory. */
  NurseryAnchor   *anchor;

  /* Intrusive links (no allocation per child): all_link is in the group's
   * list of unfinished tasks, queue_link in at most one of its queues,
   * `queue` (of kind `in_queue`), or NULL. (lock) */
  GList            all_link;
  GList            queue_link;
  GQueue          *queue;

  char            *name;
  NurseryTaskFunc  func;
  gpointer         user_data;
  GDestroyNotify   destroy;

  GCancellable    *cancellable;      /* created on first request (lock) */

  /* The result, written once by whoever wins `returned`. */
  GValue           value;
  GError          *error;

  gint64           spawn_time;
  gint64           deadline;         /* NURSERY_NO_DEADLINE if none (lock) */
  NurseryDeadline  deadline_timer;   /* in the owner context's timer (R28) */
  NurseryTaskExtra *extra;           /* NULL until first needed (atomic) */

  int              state;            /* NurseryTaskState, atomic */
  int              returned;         /* atomic, written under (lock) by the first return */
  int              cancelled;        /* atomic, written under (lock) */
  guint            dirty;            /* atomic: property bits to notify in a batch */

  /* One byte each, not bit-fields: a bit-field's word is rewritten whole,
   * so a bit written on one thread (timed_out, on the owner) would race
   * a neighbour read on another (in_thread, by the worker); bytes are
   * memory locations of their own. */
  guint8           in_queue;         /* NurseryTaskQueue (lock) */
  guint8           shielded;         /* (lock) */
  guint8           started;          /* (lock) */
  guint8           timed_out;        /* (lock) its own deadline cancelled it */

  /* What decides the outcome, fixed when the child returns (R7, R8, R17):
   * whether it was cancelled then, and by its own deadline. A later
   * cancel, by a sibling's failure or a deadline passing before the batch
   * reports it, changes nothing. (lock) */
  guint8           cancelled_at_return;
  guint8           timed_out_at_return;

  /* Set at spawn and read by the worker thread. */
  guint8           in_thread;
};

/* @self's extra parts, allocated on first use; any thread. */
NurseryTaskExtra *_nursery_task_extra       (NurseryTask      *self);

/* Its extra parts, or NULL while it has never needed them: readers then
 * see the defaults (progress -1, empty lists). */
static inline NurseryTaskExtra *
_nursery_task_peek_extra (NurseryTask *self)
{
  return g_atomic_pointer_get (&self->extra);
}

NurseryTask *_nursery_task_new              (NurseryTask      *recycled,
                                             NurseryAnchor    *anchor,
                                             char             *name,
                                             NurseryTaskFunc   func,
                                             gpointer          user_data,
                                             GDestroyNotify    destroy,
                                             gboolean          in_thread,
                                             gint64            spawn_time);
gboolean      _nursery_task_is_seen_outside_group (NurseryTask *self);
gboolean      _nursery_task_holds_nothing   (NurseryTask      *self);
void          _nursery_task_reset           (NurseryTask      *self);
gboolean      _nursery_task_give_back_success_locked (NurseryTask        *self,
                                                      NurseryQueuedChild *child);
void          _nursery_task_restore_success (NurseryTask      *self,
                                             NurseryQueuedChild *child);
/* The moves of the table above, with the anchor's lock held. */
void          _nursery_task_enqueue_locked  (NurseryTask      *self,
                                             GQueue           *unfinished,
                                             GQueue           *pending);
void          _nursery_task_move_locked     (NurseryTask      *self,
                                             GQueue           *to,
                                             NurseryTaskQueue  in_queue);
void          _nursery_task_adopt_locked    (NurseryTask      *self,
                                             GQueue           *unfinished,
                                             GList            *all_link,
                                             GQueue           *pending,
                                             GList            *queue_link);
void          _nursery_task_take_all_locked (GQueue           *from,
                                             GQueue           *to);
void          _nursery_task_finish_locked   (NurseryTask      *self,
                                             GQueue           *unfinished,
                                             NurseryTaskState  outcome);
NurseryTaskQueue _nursery_task_get_queue_locked (NurseryTask  *self);
/* Owner context, once finished: its free link joins @queue. */
void          _nursery_task_queue_finished  (NurseryTask      *self,
                                             GQueue           *queue);

/* The groups nested in a task (R14), for the tree dump; any thread. */
void          _nursery_task_add_nested_group    (NurseryTask  *self,
                                                 NurseryGroup *group);
void          _nursery_task_remove_nested_group (NurseryTask  *self,
                                                 NurseryGroup *group);

GCancellable *_nursery_task_mark_cancelled_locked (NurseryTask *self);
void          _nursery_task_run             (NurseryTask      *self,
                                             gboolean          seen);
void          _nursery_task_finish_unstarted (NurseryTask     *self);
NurseryTaskState _nursery_task_settle_outcome (NurseryTask    *self);
void          _nursery_task_release         (NurseryTask      *self);
void          _nursery_task_complete_waiters (NurseryTask     *self);
void          _nursery_task_add_starter     (NurseryTask      *self,
                                             GTask            *starter,
                                             GCancellable     *cancellable);
GSList       *_nursery_task_steal_starters_locked (NurseryTask *self);
void          _nursery_task_flush_notifications (NurseryTask *self);
gboolean      _nursery_object_has_notify_handler (gpointer   object);
void          _nursery_task_spawn_cleanups  (NurseryTask      *self,
                                             NurseryGroup     *group,
                                             NurseryTaskState  outcome);
void          _nursery_task_drop_cleanups   (NurseryTask      *self);

G_END_DECLS
