/* nursery-group-soon.c: children spawned without a handle (R1, R5, R28)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* nursery_group_start_soon() queues a NurseryQueuedChild, 112 bytes
 * and no GObject, where nursery_group_spawn() queues a task. It becomes a
 * task when nothing less will do:
 *  - when the batch takes it out of the pending queue, to start it or to
 *    finish it unstarted (R5): _nursery_group_task_for_taken(). The task
 *    is usually a spare one (nursery-group-release.c);
 *  - when list_tasks() needs every unfinished child as a task (R27):
 *    _nursery_group_adopt_queued_locked(), after which start_soon() spawns
 *    tasks until the list is gone.
 * Once its function has run, a child that succeeded with a plain value
 * while nothing else could see its task gives the outcome back to the
 * record (_nursery_group_settle_taken()), and the task is reset for the
 * next child of the batch: a batch of such children makes one GObject,
 * not one each. When that next child is a record too, the task is reset
 * and adopted for it in the lock it was given back in: two lock round
 * trips of the owner per child rather than three (spawn aside), some 9 %
 * of a child's cost. A task that was cancelled is not given back: the
 * record has no cancellable to say so. The record is reported as it is,
 * unless its report needs a task after all
 * (_nursery_group_task_for_returned()).
 * Only the walks of the group's lists see a record: cancelling the group
 * leaves it alone. One that waits is never shielded, so it is cancelled
 * when taken if the group is (R5); one that gave its success back gets a
 * task for its report that says it was cancelled if the group is by then,
 * as its own task would (R12). The tree dump describes it. */

#include "config.h"

#include "nursery-clock-private.h"
#include "nursery-group-impl-private.h"
#include "nursery-links-private.h"
#include "nursery-queued-child-private.h"
#include "nursery-refuse-private.h"
#include "nursery-task-private.h"

/* Frees the record; its user data is its task's, or released by the
 * caller. */
void
_nursery_queued_child_free (NurseryQueuedChild *child)
{
  g_free (child->name);
  g_slice_free (NurseryQueuedChild, child);
}

/* Owner context: @child's task, @recycled if not NULL, without its name
 * yet: a tree dump on another thread may be reading that until
 * adopt_locked() moves it. */
static NurseryTask *
task_for_recycled (NurseryGroup       *self,
                   NurseryQueuedChild *child,
                   NurseryTask        *recycled)
{
  return _nursery_task_new (recycled, self->anchor, NULL, child->func, child->user_data,
                            child->destroy, FALSE, child->spawn_time);
}

/* @child's task, a spare one if the group has one. */
static NurseryTask *
task_for (NurseryGroup       *self,
          NurseryQueuedChild *child)
{
  return task_for_recycled (self, child, _nursery_group_take_spare_task (self));
}

/* @task takes @child's place in the group's unfinished tasks and, if
 * @child waits in the pending queue, there too. A child of a cancelled
 * group that has not run is cancelled: it is never shielded (R5, R15). */
static void
adopt_locked (NurseryGroup       *self,
              NurseryQueuedChild *child,
              NurseryTask        *task)
{
  task->name = g_steal_pointer (&child->name);
  if (child->in_pending)
    _nursery_task_adopt_locked (task, &self->unfinished, &child->all_link,
                                &self->pending, &child->queue_link);
  else
    _nursery_task_adopt_locked (task, &self->unfinished, &child->all_link, NULL, NULL);
  if (self->cancel_cause == CANCEL_NONE)
    return;
  /* NULL: a new or reset task has no cancellable yet. */
  (void) _nursery_task_mark_cancelled_locked (task);
  _nursery_group_task_cancelled_locked (self, task);
}

/* The batch takes @queue_link, a queued child's, out of the pending
 * queue into @batch_queue. */
void
_nursery_group_take_queued_locked (NurseryGroup *self,
                                   GList        *queue_link,
                                   GQueue       *batch_queue)
{
  NurseryQueuedChild *child = queue_link->data;

  _nursery_link_unlink (&self->pending, queue_link);
  _nursery_link_push_tail (batch_queue, queue_link);
  child->in_pending = FALSE;
}

/* The task of @child, which the batch took and popped: its queue link is
 * free. The batch hands both to _nursery_group_settle_taken() once the
 * task has run, or frees @child if it does not run. */
NurseryTask *
_nursery_group_task_for_taken (NurseryGroup       *self,
                               NurseryQueuedChild *child)
{
  NurseryTask *task = child->adopted;

  /* Made outside the lock: g_object_new() may run for a while. */
  if (task == NULL)
    {
      task = task_for (self, child);
      g_mutex_lock (&self->anchor->lock);
      adopt_locked (self, child, task);
      g_mutex_unlock (&self->anchor->lock);
    }
  return task;
}

/* Whether @task, given back, may be reset and lent to @next in the lock
 * it was given back in: @next is a queued child the batch runs next,
 * without a task of its own, and the reset runs no code
 * (_nursery_task_holds_nothing()). A list that made @next a task holds
 * @task too, so @task is not given back then; the check stays because
 * lending over @next's own task would break the group's lists. */
static gboolean
lends_to_next_locked (NurseryTask        *task,
                      NurseryQueuedChild *next)
{
  return next != NULL && next->adopted == NULL && _nursery_task_holds_nothing (task);
}

/* Once @task, made for @child, has run: if it succeeded within its
 * function and nothing but the group can see it, its outcome goes back
 * into @child, which takes its place in the group's lists until the
 * batch reports it, and the task is free for the next child (R28).
 * Otherwise @child is freed.
 * @next is the queued child the batch runs next, if it is one. When it
 * can (lends_to_next_locked()), the task is reset and adopted for @next
 * in the same lock, saving a lock per child, and returned: the batch
 * runs @next with it. Otherwise NULL is returned. */
NurseryTask *
_nursery_group_settle_taken (NurseryGroup       *self,
                             NurseryQueuedChild *child,
                             NurseryTask        *task,
                             NurseryQueuedChild *next)
{
  gboolean given_back = FALSE;
  NurseryTask *lent = NULL;

  if (g_atomic_int_get (&task->returned))
    {
      g_mutex_lock (&self->anchor->lock);
      given_back = _nursery_task_get_queue_locked (task) == NURSERY_TASK_IN_RETURNED &&
                   _nursery_task_give_back_success_locked (task, child);
      if (given_back)
        {
          _nursery_link_replace (&self->unfinished, &task->all_link, &child->all_link);
          _nursery_link_replace (&self->returned, &task->queue_link, &child->queue_link);
          child->returned = TRUE;
          if (lends_to_next_locked (task, next))
            {
              _nursery_task_reset (task);
              lent = task_for_recycled (self, next, task);
              adopt_locked (self, next, lent);
            }
        }
      g_mutex_unlock (&self->anchor->lock);
    }
  if (!given_back)
    _nursery_queued_child_free (child);
  else if (lent == NULL)
    _nursery_group_release_task (self, task, TRUE);
  return lent;
}

/* The batch reports @child, a success given back, and something needs
 * its task after all (a task-finished handler, next_async(), a race):
 * a task that has returned its value takes its place; @child is freed. */
NurseryTask *
_nursery_group_task_for_returned (NurseryGroup       *self,
                                  NurseryQueuedChild *child)
{
  NurseryTask *task = task_for (self, child);

  /* Out of the group's lists already: nobody else reads the record. */
  task->name = g_steal_pointer (&child->name);
  _nursery_task_restore_success (task, child);
  /* Back among the unfinished, which the report takes it out of. */
  g_mutex_lock (&self->anchor->lock);
  _nursery_task_adopt_locked (task, &self->unfinished, NULL, NULL, NULL);
  /* R12: its group was cancelled since it returned (before, it would not
   * have given its success back), and its own task would say so. NULL:
   * a new task has no cancellable. */
  if (self->cancel_cause != CANCEL_NONE)
    (void) _nursery_task_mark_cancelled_locked (task);
  g_mutex_unlock (&self->anchor->lock);
  _nursery_queued_child_free (child);
  return task;
}

/* The batch took @chunk out of the returned queue: the queued children
 * in it leave the unfinished ones now, in the lock the batch holds. */
void
_nursery_group_unlist_returned_locked (NurseryGroup *self,
                                       GQueue       *chunk)
{
  for (GList *l = chunk->head; l != NULL; l = l->next)
    if (_nursery_is_queued_child (l->data))
      _nursery_link_unlink (&self->unfinished, &((NurseryQueuedChild *) l->data)->all_link);
}

/* Owner context, for list_tasks(): every queued child that has not run
 * becomes a task in its place. One the batch holds keeps its record,
 * which now names the task, until the batch pops it; one that returned
 * is left out, as the batch is about to report it. */
void
_nursery_group_adopt_queued_locked (NurseryGroup *self)
{
  GList *next;

  for (GList *l = self->unfinished.head; l != NULL; l = next)
    {
      NurseryQueuedChild *child = l->data;
      NurseryTask *task;

      next = l->next;
      if (!_nursery_is_queued_child (child) || child->returned)
        continue;
      task = task_for (self, child);
      adopt_locked (self, child, task);
      if (child->in_pending)
        _nursery_queued_child_free (child);
      else
        child->adopted = task;
    }
}

/**
 * nursery_group_start_soon:
 * @self: a group that is not closed
 * @name: (nullable): a name for logs and errors
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   child's body, run on the owner context
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data on the owner context once the
 *   child has finished (or at once if the group refuses the child)
 * @error: return location for a [error@Nursery.Error]
 *
 * Adds an in-context child, as [method@Nursery.Group.spawn] does, without
 * a handle (trio's and anyio's `start_soon()`). The child runs by the same
 * rules ([R1](rules.html#R1)–[R5](rules.html#R5)): on a later iteration, in spawn order with the
 * children of every other spawn function, finished as cancelled without
 * running if the group is cancelled before its turn.
 *
 * It is the cheaper spawn: until its turn comes the child is a small
 * record instead of a [class@Nursery.Task] (about a hundred bytes), and
 * a child that finishes within its turn lends its task to the next one
 * ([R28](rules.html#R28)). Its function still gets a task, and
 * [signal@Nursery.Group::task-finished], [method@Nursery.Group.next_async]
 * and [method@Nursery.Group.list_tasks] still see one: it is made when it
 * is needed.
 *
 * Call it on the owner context's thread: the one that runs the group's
 * batches, or one that holds its context now; before the first batch,
 * the thread that made the group too. From any other thread it is
 * refused with a critical, and @destroy is called: a thread child's, or
 * the thread that made the group for a context another thread runs
 * ([R23](rules.html#R23)).
 *
 * Returns: %TRUE if the child was added; %FALSE with @error set if the
 *   group is closed ([R4](rules.html#R4))
 *
 * Since: 1.0
 */
gboolean
nursery_group_start_soon (NurseryGroup     *self,
                          const char       *name,
                          NurseryTaskFunc   func,
                          gpointer          user_data,
                          GDestroyNotify    destroy,
                          GError          **error)
{
  /* R24: refused, but the user data is not lost. */
  NURSERY_REFUSE_UNLESS (NURSERY_IS_GROUP (self), destroy, user_data, FALSE);
  NURSERY_REFUSE_UNLESS (func != NULL, destroy, user_data, FALSE);
  NURSERY_REFUSE_UNLESS (error == NULL || *error == NULL, destroy, user_data, FALSE);
  /* R23: the owner is checked under the lock, where the spawn is made. */
  return _nursery_group_start_soon (self, G_STRFUNC, name, func, user_data, destroy, error);
}

/* Called with the anchor's lock held, allowed to spawn: @func's record
 * joins the queue. */
static void
queue_record_locked (NurseryGroup     *self,
                     const char       *name,
                     NurseryTaskFunc   func,
                     gpointer          user_data,
                     GDestroyNotify    destroy)
{
  NurseryQueuedChild *child = g_slice_new0 (NurseryQueuedChild);

  child->all_link.data = child;
  child->queue_link.data = child;
  child->name = g_strdup (name);
  child->func = func;
  child->user_data = user_data;
  child->destroy = destroy;
  child->spawn_time = _nursery_birth_clock ();
  child->in_pending = TRUE;

  /* Into a cancelled group too: R5 is applied when its turn comes. */
  _nursery_link_push_tail (&self->unfinished, &child->all_link);
  _nursery_link_push_tail (&self->pending, &child->queue_link);
  _nursery_group_schedule_locked (self);
  _nursery_group_count_spawned (self);
}

/* nursery_group_start_soon() once its arguments are checked: all of it
 * in one locked section, as _nursery_group_spawn() (R23). */
gboolean
_nursery_group_start_soon (NurseryGroup     *self,
                           const char       *caller,
                           const char       *name,
                           NurseryTaskFunc   func,
                           gpointer          user_data,
                           GDestroyNotify    destroy,
                           GError          **error)
{
  NurserySpawnCheck check;

  g_mutex_lock (&self->anchor->lock);
  check = _nursery_group_check_spawn_locked (self);
  /* A task, not a record: while somebody lists the tasks (R27: the list
   * shows a task per child from the batch after its spawn on), and when
   * the group has a spare one, so a child spawned per iteration reuses
   * the task of the one before (R28). */
  if (check == NURSERY_SPAWN_ALLOWED && (self->stream.task_list != NULL || self->n_spare_tasks > 0))
    _nursery_group_spawn_locked (self, name, func, user_data, destroy, FALSE);
  else if (check == NURSERY_SPAWN_ALLOWED)
    queue_record_locked (self, name, func, user_data, destroy);
  g_mutex_unlock (&self->anchor->lock);

  if (check != NURSERY_SPAWN_ALLOWED)
    return _nursery_group_refuse_spawn (self, caller, check, destroy, user_data, error);
  return TRUE;
}
