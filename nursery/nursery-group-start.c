/* nursery-group-start.c: the start handshake, trio's and anyio's start() (R18)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* start_async() spawns a child and hands its start caller a GTask (the
 * starter) that the task keeps (_nursery_task_add_starter()); the batch
 * completes it when the child calls started() (deliver_started() in
 * nursery-group.c) or when the child finishes first (report_finished()).
 * This file holds the two public calls. */

#include "config.h"

#include "nursery-group-impl-private.h"
#include "nursery-refuse-private.h"
#include "nursery-task-private.h"

/**
 * nursery_group_start_async:
 * @self: a group that is not closed
 * @name: (nullable): a name for logs and errors
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   child's body, run on the owner context; it calls
 *   [method@Nursery.Task.started] once it is ready
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the child has finished
 * @cancellable: (nullable): cancelling it before the child has started
 *   cancels the child
 * @callback: (scope async): called on the owner context once the child
 *   has started, or has finished without starting
 * @callback_data: (closure): data for @callback
 *
 * Spawns an in-context child and completes once it calls
 * [method@Nursery.Task.started] — trio's and anyio's `start()` ([R18](rules.html#R18)).
 * If the child finishes first, its failure goes to this caller and
 * not to the group, and a success is %NURSERY_ERROR_NOT_STARTED. After
 * started() the child is an ordinary child of the group.
 *
 * Call it on the owner context's thread, as [method@Nursery.Group.spawn];
 * from any other thread it is refused with a critical, and @destroy is
 * called.
 *
 * Since: 1.0
 */
void
nursery_group_start_async (NurseryGroup        *self,
                           const char          *name,
                           NurseryTaskFunc      func,
                           gpointer             user_data,
                           GDestroyNotify       destroy,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             callback_data)
{
  g_autoptr(GTask) starter = NULL;
  NurseryTask *task;
  GError *error = NULL;

  /* R24: refused, but the user data is not lost. */
  NURSERY_REFUSE_UNLESS (cancellable == NULL || G_IS_CANCELLABLE (cancellable), destroy, user_data, );
  NURSERY_REFUSE_UNLESS (NURSERY_IS_GROUP (self), destroy, user_data, );
  NURSERY_REFUSE_UNLESS (func != NULL, destroy, user_data, );
  NURSERY_REFUSE_UNLESS (_nursery_group_called_on_owner (self), destroy, user_data, );
  /* The owner context is held while the child is queued and its starter
   * attached: a batch on another thread could otherwise start the child
   * in between, and its started() would miss the starter (R18, R23). A
   * thread that cannot take the context now is not the owner: another
   * thread runs it. Never waits. */
  if (!g_main_context_acquire (nursery_group_get_context (self)))
    {
      _nursery_refuse_drop (destroy, user_data);
      _nursery_group_warn_not_owner (G_STRFUNC);
      return;
    }

  /* Its callback on the owner context whatever the caller's
   * thread-default one is: g_task_new() takes it from there. The context
   * is held, so it may be pushed. */
  g_main_context_push_thread_default (nursery_group_get_context (self));
  starter = g_task_new (self, NULL, callback, callback_data);
  g_main_context_pop_thread_default (nursery_group_get_context (self));
  g_task_set_source_tag (starter, nursery_group_start_async);
  g_task_set_name (starter, "nursery_group_start_async");

  /* The group holds the task until it has finished, the starter (this
   * reference) until start_finish(). Refused as closed, the starter
   * completes with the error; as not the owner (which the held context
   * rules out), the critical was the answer. */
  task = _nursery_group_spawn (self, G_STRFUNC, name, func, user_data, destroy, FALSE, &error);
  if (task != NULL)
    {
      g_object_set_data_full (G_OBJECT (starter), "nursery-task", task, g_object_unref);
      _nursery_task_add_starter (task, starter, cancellable);
    }
  else if (error != NULL)
    g_task_return_error (starter, error);
  g_main_context_release (nursery_group_get_context (self));
}

/**
 * nursery_group_start_finish:
 * @self: a group
 * @result: the result given to the callback
 * @started_value: (out caller-allocates) (optional): an unset GValue that
 *   receives a copy of the value passed to started(); a %NULL pointer
 *   value if there was none or the child did not start
 * @error: return location for the child's error
 *
 * Finishes [method@Nursery.Group.start_async].
 *
 * Returns: (transfer full) (nullable): the started child, or %NULL with
 *   @error set if it finished before it started
 *
 * Since: 1.0
 */
NurseryTask *
nursery_group_start_finish (NurseryGroup  *self,
                            GAsyncResult  *result,
                            GValue        *started_value,
                            GError       **error)
{
  NurseryTask *task;
  NurseryTaskExtra *extra;

  g_return_val_if_fail (NURSERY_IS_GROUP (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == nursery_group_start_async, NULL);

  task = g_object_get_data (G_OBJECT (result), "nursery-task");
  if (!g_task_propagate_boolean (G_TASK (result), error))
    task = NULL;

  extra = task != NULL ? _nursery_task_peek_extra (task) : NULL;
  if (started_value == NULL)
    ;
  else if (extra != NULL && extra->started_value != NULL)
    {
      g_value_init (started_value, G_VALUE_TYPE (extra->started_value));
      g_value_copy (extra->started_value, started_value);
    }
  else
    {
      /* GJS 1.74 converts caller-allocated out values even when the call
       * failed, and cannot convert an unset GValue: hand back a NULL. */
      g_value_init (started_value, G_TYPE_POINTER);
    }
  return task != NULL ? g_object_ref (task) : NULL;
}
