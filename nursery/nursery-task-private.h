/* nursery-task-private.h: what NurseryGroup needs to see of a task
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nursery-task.h"
#include "nursery-group-private.h"
#include "nursery-deadline-private.h"

G_BEGIN_DECLS

struct _NurseryTask
{
  GObject          parent_instance;

  /* Shared with the group; its lock guards the fields marked (lock). The
   * anchor outlives the group, so a late cancel never touches freed memory. */
  NurseryAnchor   *anchor;

  /* Intrusive links (no allocation per child): all_link is in the group's
   * list of unfinished tasks, queue_link in at most one of its queues. (lock) */
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
  GDestroyNotify   value_destroy;    /* for nursery_task_return_pointer() */
  GError          *error;

  GSList          *waiters;          /* GTask of nursery_task_wait_async() */
  gint64           spawn_time;

  gint64           deadline;         /* monotonic µs, NURSERY_NO_DEADLINE if none */
  NurseryDeadline  deadline_timer;   /* in the owner context's timer (R28) */

  /* Start handshake (DESIGN R18): the start_async() caller waits here
   * until started() or the end. (lock) */
  GSList          *starters;
  GValue          *started_value;

  GSList          *nested_groups;    /* groups created for this task (no ref) */
  GSequenceIter   *model_iter;       /* its node in the group's task list, if any */

  int              state;            /* NurseryTaskState, atomic */
  int              returned;         /* atomic: set once by the first return */
  int              cancelled;        /* atomic, written under (lock) */
  gboolean         shielded;         /* (lock) */
  gboolean         started;          /* (lock) */
  guint            in_thread : 1;
  guint            timed_out : 1;    /* its own deadline cancelled it */
};

NurseryTask *_nursery_task_new              (NurseryAnchor    *anchor,
                                             const char       *name,
                                             NurseryTaskFunc   func,
                                             gpointer          user_data,
                                             GDestroyNotify    destroy,
                                             gboolean          in_thread);
GCancellable *_nursery_task_mark_cancelled_locked (NurseryTask *self);
void          _nursery_task_run             (NurseryTask      *self);
void          _nursery_task_finish_unstarted (NurseryTask     *self);
NurseryTaskState _nursery_task_settle_outcome (NurseryTask    *self);
void          _nursery_task_release         (NurseryTask      *self);
void          _nursery_task_complete_waiters (NurseryTask     *self);
void          _nursery_task_add_starter     (NurseryTask      *self,
                                             GTask            *starter,
                                             GCancellable     *cancellable);
GSList       *_nursery_task_steal_starters_locked (NurseryTask *self);

G_END_DECLS
