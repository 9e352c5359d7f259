/* nursery-group-stream.c: a group's children as they finish
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Two ways to follow a group's children, both fed by the group's batch on
 * the owner context:
 *
 * - nursery_group_next_async() hands every child that finishes from the
 *   first call on to one caller, in completion order. The group's batch
 *   reports a finished child, and if the stream is tracking, the child's
 *   own queue link joins the completed queue (no allocation); the batch
 *   then serves the waiting callers, oldest first.
 * - nursery_group_list_tasks() is a live GListModel of the unfinished
 *   children (R27, docs/rules.md): children spawned since the last batch
 *   join it at the start of the next batch, finished ones leave it before
 *   anybody hears that they finished, and the batch announces each change
 *   in ranges.
 *
 * Nothing here takes the group's lock: it all runs on the owner context,
 * and the group hands over what it reads under its lock. */

#include "config.h"

#include "nursery-cancel-link-private.h"
#include "nursery-group-stream-private.h"
#include "nursery-queued-child-private.h"
#include "nursery-task-private.h"

/* next_async(): finished children, in completion order */

typedef struct
{
  GTask             *task;
  NurseryCancelLink  link;
} NextWaiter;

static void
next_waiter_complete (NextWaiter  *waiter,
                      NurseryTask *finished,
                      GError      *error)
{
  /* Disconnected on the owner context with no lock held: never from
   * inside the handler, which would deadlock. */
  _nursery_cancel_link_clear (&waiter->link);
  if (error != NULL)
    g_task_return_error (waiter->task, error);
  else
    g_task_return_pointer (waiter->task, finished, g_object_unref);
  g_object_unref (waiter->task);
  g_free (waiter);
}

/* Hands finished tasks to next_async() callers, oldest caller first. A
 * caller whose cancellable was cancelled takes no task (none is lost). */
void
_nursery_group_stream_serve (NurseryGroupStream *stream,
                             NurseryGroup       *group)
{
  NextWaiter *waiter;

  while ((waiter = g_queue_peek_head (&stream->next_waiters)) != NULL)
    {
      if (g_cancellable_is_cancelled (waiter->link.cancellable))
        {
          g_queue_pop_head (&stream->next_waiters);
          next_waiter_complete (waiter, NULL,
                                g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                     "Waiting for the next task was cancelled"));
        }
      else if (stream->completed.length > 0)
        {
          GList *link = g_queue_pop_head_link (&stream->completed);

          g_queue_pop_head (&stream->next_waiters);
          next_waiter_complete (waiter, link->data, NULL);
        }
      else if (nursery_group_is_closed (group))
        {
          g_queue_pop_head (&stream->next_waiters);
          next_waiter_complete (waiter, NULL, NULL);
        }
      else
        break;
    }
}

static void
next_waiter_cancelled_cb (GCancellable *cancellable,
                          gpointer      data)
{
  /* Any thread: the batch answers the waiter on the owner context. */
  _nursery_group_schedule (data);
}

/* Keeps the group's reference on a reported @task for next_async(), if
 * anybody called it; returns whether it did. Its queue link is free once
 * it is reported: the completed queue reuses it. */
gboolean
_nursery_group_stream_take (NurseryGroupStream *stream,
                            NurseryTask        *task)
{
  if (!stream->tracking)
    return FALSE;
  _nursery_task_queue_finished (task, &stream->completed);
  return TRUE;
}

/* The waiter of next_async(), with the owner context held. */
static void
add_next_waiter (NurseryGroup        *self,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  NurseryGroupStream *stream = _nursery_group_get_stream (self);
  NextWaiter *waiter = g_new0 (NextWaiter, 1);

  waiter->task = _nursery_group_new_owner_task (self, nursery_group_next_async,
                                                "nursery_group_next_async", callback, user_data);
  stream->tracking = TRUE;
  _nursery_group_begin_join (self);

  g_queue_push_tail (&stream->next_waiters, waiter);
  _nursery_cancel_link_connect (&waiter->link, cancellable, G_CALLBACK (next_waiter_cancelled_cb), self);
  _nursery_group_schedule (self);
}

/**
 * nursery_group_next_async:
 * @self: a group
 * @cancellable: (nullable): cancelling it gives up this call only: it
 *   completes with `G_IO_ERROR_CANCELLED` and takes no task
 * @callback: (scope async): called on the owner context with the next
 *   finished task
 * @user_data: (closure): data for @callback
 *
 * Waits for the next child to finish and hands it over: every child that
 * finishes from the first call on is handed over exactly once, in
 * completion order, to the callers in the order they called (Tokio's
 * `JoinSet::join_next`, Python's `as_completed`). Like
 * [method@Nursery.Group.wait_async] it joins the group: the group closes
 * when every child has finished, and once it is closed and every finished
 * task has been handed over, the call gives %NULL:
 *
 * ```vala
 * Nursery.Task? task;
 * while ((task = yield group.next_async (null)) != null)
 *   print ("%s finished\n", task.get_name ());
 * ```
 *
 * Children are handed over only from the first call on, so make it before
 * returning to the main loop after spawning (a loop like the one above
 * does). A start child that finishes before calling started() reports to
 * its start caller instead. Works alongside
 * [signal@Nursery.Group::task-finished]. Call it on the owner context.
 *
 * Since: 1.0
 */
void
nursery_group_next_async (NurseryGroup        *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_return_if_fail (NURSERY_IS_GROUP (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));
  /* Nothing here takes a lock (see the top): the waiter goes onto the
   * queue the batch pops. So the owner context is held meanwhile: no
   * batch runs beside it (R23, R24). */
  if (!_nursery_group_acquire_owner (self, G_STRFUNC))
    return;
  add_next_waiter (self, cancellable, callback, user_data);
  _nursery_group_release_owner (self);
}

/**
 * nursery_group_next_finish:
 * @self: a group
 * @result: the result given to the callback
 * @error: return location for `G_IO_ERROR_CANCELLED`
 *
 * Finishes [method@Nursery.Group.next_async].
 *
 * Returns: (transfer full) (nullable): the next finished task, or %NULL
 *   when the group is closed and every task was handed over (or on error)
 *
 * Since: 1.0
 */
NurseryTask *
nursery_group_next_finish (NurseryGroup  *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == nursery_group_next_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The live task list (R27) */

/* R27: a spawned child joins the model at the next batch, never inside
 * spawn(). */
void
_nursery_group_stream_spawned (NurseryGroupStream *stream,
                               NurseryTask        *task)
{
  if (stream->task_list != NULL)
    g_ptr_array_add (stream->list_additions, g_object_ref (task));
}

/* list_tasks(): the children spawned since the last batch join the model
 * here, so the model only changes inside a batch, never inside spawn(). */
void
_nursery_group_stream_add_spawned (NurseryGroupStream *stream)
{
  g_autoptr(GPtrArray) additions = NULL;

  if (stream->list_additions == NULL || stream->list_additions->len == 0)
    return;
  additions = g_steal_pointer (&stream->list_additions);
  stream->list_additions = g_ptr_array_new_with_free_func (g_object_unref);
  /* R27: one items-changed for all of them. */
  _nursery_task_list_append_many (stream->task_list, additions);
}

/* R27: @task, about to be reported, leaves the live list now, if it is
 * still there: a batch takes the children it reports out of the list in
 * ranges beforehand (_nursery_group_stream_unlist_many()), but a child
 * cancelled at its turn, or one a list made within the batch holds, is
 * reported on its own. */
void
_nursery_group_stream_unlist (NurseryGroupStream *stream,
                              NurseryTask        *task)
{
  /* Usually gone already, with its range. */
  if (stream->task_list != NULL && _nursery_task_list_remove (stream->task_list, task))
    _nursery_task_list_flush (stream->task_list);
}

/* R27: the tasks a batch is about to report leave the live list first,
 * one items-changed per contiguous range, so whoever hears that a task
 * finished already sees the list without it. */
void
_nursery_group_stream_unlist_many (NurseryGroupStream *stream,
                                   GQueue             *tasks)
{
  if (stream->task_list == NULL)
    return;
  /* A queued child in @tasks was never listed. */
  for (GList *l = tasks->head; l != NULL; l = l->next)
    if (!_nursery_is_queued_child (l->data))
      _nursery_task_list_remove (stream->task_list, l->data);
  _nursery_task_list_flush (stream->task_list);
}

/* The task in the group's lists for @data, a link's data in a queue of
 * the batch: a task, or a queued child's task if list_tasks() made one. */
static NurseryTask *
listed_task (gpointer data)
{
  if (!_nursery_is_queued_child (data))
    return data;
  /* Not run yet, so the union holds its adopted task. */
  return ((NurseryQueuedChild *) data)->adopted;
}

/* R27: @task, cancelled at its turn after the batch took it out to start,
 * leaves the live list before it is reported, and with it the children
 * after it in @starting that are cancelled too (an earlier child of the
 * batch cancelled the group, say), so that they leave in ranges like the
 * children a batch reports together. */
void
_nursery_group_stream_unlist_cancelled (NurseryGroupStream *stream,
                                        NurseryTask        *task,
                                        GQueue             *starting)
{
  /* Not listed: left with the range of an earlier one, or never was. */
  if (stream->task_list == NULL || !_nursery_task_list_remove (stream->task_list, task))
    return;
  for (GList *l = starting->head; l != NULL; l = l->next)
    {
      NurseryTask *later = listed_task (l->data);

      if (later != NULL && nursery_task_is_cancelled (later))
        _nursery_task_list_remove (stream->task_list, later);
    }
  _nursery_task_list_flush (stream->task_list);
}

void
_nursery_group_stream_flush_list (NurseryGroupStream *stream)
{
  if (stream->task_list != NULL)
    _nursery_task_list_flush (stream->task_list);
}

/**
 * nursery_group_list_tasks:
 * @self: a group
 *
 * The group's unfinished tasks, in spawn order, as a live list model for
 * `GtkListView` and friends: children appear on the batch after their
 * spawn and disappear when they finish, with `items-changed` on the owner
 * context. A batch announces its changes in ranges ([R27](rules.html#R27)): one
 * `items-changed` for the children it adds, one per contiguous range of
 * positions for the children it reports finished, emitted before anybody
 * hears that they finished. A child reported on its own (cancelled after
 * the batch took it out to start, or held by a list made within the
 * batch) leaves on its own, also before anybody hears that it finished. The list exists only once somebody asked for
 * it; then each change costs O(log n).
 *
 * Returns: (transfer full): a list model of [class@Nursery.Task]
 *
 * Since: 1.0
 */
GListModel *
nursery_group_list_tasks (NurseryGroup *self)
{
  NurseryGroupStream *stream;
  GListModel *list;

  g_return_val_if_fail (NURSERY_IS_GROUP (self), NULL);
  /* The owner's (R23, R24): the batch updates the list without a lock,
   * so the owner context is held while it is made. */
  if (!_nursery_group_acquire_owner (self, G_STRFUNC))
    return NULL;

  stream = _nursery_group_get_stream (self);
  if (stream->task_list == NULL)
    {
      g_autoptr(GPtrArray) unfinished = _nursery_group_ref_unfinished (self);

      stream->task_list = _nursery_task_list_new ();
      stream->list_additions = g_ptr_array_new_with_free_func (g_object_unref);
      _nursery_task_list_append_many (stream->task_list, unfinished);
    }
  list = g_object_ref (G_LIST_MODEL (stream->task_list));
  _nursery_group_release_owner (self);
  return list;
}

/* Finalizing */

/* The links are the tasks' own (queue_link): pop them, never free them. */
static void
release_completed (NurseryGroupStream *stream)
{
  GList *link;

  while ((link = g_queue_pop_head_link (&stream->completed)) != NULL)
    g_object_unref (link->data);
}

/* Called from the group's finalize. */
void
_nursery_group_stream_clear (NurseryGroupStream *stream)
{
  release_completed (stream);
  g_clear_pointer (&stream->list_additions, g_ptr_array_unref);
  g_clear_object (&stream->task_list);
}
