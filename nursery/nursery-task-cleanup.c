/* nursery-task-cleanup.c: per-task cleanups and finishing with a nested group
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A task's cleanup is not run inline when the task ends: it becomes a
 * shielded child of the same group, spawned in the batch that reports the
 * task. So it may do asynchronous work, the group's cancellation passes it
 * by (R15), its own timeout bounds it (R16, R17), and the group waits for
 * it like for any child (R6). A task that succeeds drops its cleanups. */

#include "config.h"

#include "nursery-refuse-private.h"
#include "nursery-task-private.h"

typedef struct
{
  NurseryTaskFunc func;
  gpointer        user_data;
  GDestroyNotify  destroy;
  GTimeSpan       timeout;
} TaskCleanup;

static void
task_cleanup_drop (TaskCleanup *cleanup)
{
  if (cleanup->destroy != NULL)
    cleanup->destroy (cleanup->user_data);
  g_free (cleanup);
}

static GSList *
steal_cleanups (NurseryTask *self)
{
  NurseryTaskExtra *extra = _nursery_task_peek_extra (self);
  GSList *cleanups;

  if (extra == NULL)
    return NULL;
  g_mutex_lock (&self->anchor->lock);
  cleanups = g_steal_pointer (&extra->cleanups);
  g_mutex_unlock (&self->anchor->lock);
  return cleanups;
}

/**
 * nursery_task_add_cleanup:
 * @self: a task that has not finished
 * @timeout: how long the cleanup may take, in microseconds, or -1 for no
 *   limit
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   cleanup's body, run on the owner context as a child of the task's
 *   group; it returns like any child
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the cleanup has finished,
 *   or once the task has succeeded (then @func never runs)
 *
 * Registers work to do if the task ends cancelled or failed: deleting a
 * half-written file, telling a peer goodbye. When the task is reported
 * finished that way, each cleanup becomes a new child of the group, named
 * after the task with “ cleanup” appended, most recent first. It is
 * shielded from the group's cancellation ([R15](rules.html#R15)), so it runs even
 * when the group is being cancelled and may call asynchronous functions
 * with its own cancellable; @timeout becomes its deadline ([R16](rules.html#R16)), and the
 * group waits for it before it closes. A cleanup that fails is a failure
 * of the group like any other; a second Unix signal (see
 * [method@Nursery.Group.cancel_on_unix_signal]) cancels it too.
 *
 * May be called from any thread until the task has finished.
 *
 * Since: 1.0
 */
void
nursery_task_add_cleanup (NurseryTask     *self,
                          GTimeSpan        timeout,
                          NurseryTaskFunc  func,
                          gpointer         user_data,
                          GDestroyNotify   destroy)
{
  NurseryTaskExtra *extra;
  TaskCleanup *cleanup;
  gboolean refused;

  /* R24: refused, but the user data is not lost. */
  NURSERY_REFUSE_UNLESS (NURSERY_IS_TASK (self), destroy, user_data, );
  NURSERY_REFUSE_UNLESS (func != NULL, destroy, user_data, );
  NURSERY_REFUSE_UNLESS (timeout >= -1, destroy, user_data, );

  cleanup = g_new (TaskCleanup, 1);
  cleanup->func = func;
  cleanup->user_data = user_data;
  cleanup->destroy = destroy;
  cleanup->timeout = timeout;

  extra = _nursery_task_extra (self);
  g_mutex_lock (&self->anchor->lock);
  refused = nursery_task_is_finished (self);
  if (!refused)
    extra->cleanups = g_slist_prepend (extra->cleanups, cleanup);
  g_mutex_unlock (&self->anchor->lock);

  if (refused)
    {
      g_critical ("%s: task “%s” has already finished", G_STRFUNC,
                  self->name != NULL ? self->name : "(unnamed)");
      /* Last: the data may hold the only reference to the task (R24). */
      task_cleanup_drop (cleanup);
    }
}

static void
spawn_cleanup (NurseryGroup *group,
               NurseryTask  *task,
               TaskCleanup  *cleanup)
{
  g_autofree char *name = g_strconcat (task->name != NULL ? task->name : "(unnamed)",
                                       " cleanup", NULL);
  GTimeSpan timeout = cleanup->timeout;
  g_autoptr(NurseryTask) child = NULL;

  /* The child owns the user data now (or spawn freed it, if refused). */
  child = nursery_group_spawn (group, name, cleanup->func, cleanup->user_data,
                               cleanup->destroy, NULL);
  g_free (cleanup);
  if (child == NULL)
    return;
  /* Shielded before its turn comes, so it runs in a cancelled group (R5). */
  nursery_task_set_shielded (child, TRUE);
  if (timeout >= 0)
    nursery_task_set_timeout (child, timeout);
}

/* Owner context, from the batch that reports @self: before the task is
 * reported, so the group counts its cleanups as unfinished children. */
void
_nursery_task_spawn_cleanups (NurseryTask      *self,
                              NurseryGroup     *group,
                              NurseryTaskState  outcome)
{
  NurseryTaskExtra *extra = _nursery_task_peek_extra (self);
  GSList *cleanups;

  if (extra == NULL || extra->cleanups == NULL)
    return;
  cleanups = steal_cleanups (self);
  for (GSList *l = cleanups; l != NULL; l = l->next)
    {
      if (outcome == NURSERY_TASK_FAILED || outcome == NURSERY_TASK_CANCELLED)
        spawn_cleanup (group, self, l->data);
      else
        task_cleanup_drop (l->data);
    }
  g_slist_free (cleanups);
}

/* From finalize: cleanups of a task that was never reported. */
void
_nursery_task_drop_cleanups (NurseryTask *self)
{
  g_slist_free_full (steal_cleanups (self), (GDestroyNotify) task_cleanup_drop);
}

/* Finishing with a nested group's outcome */

static void
nested_closed_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(NurseryTask) self = user_data;
  NurseryGroup *nested = NURSERY_GROUP (source);
  NurseryTask *winner;
  GError *error = NULL;

  if (!nursery_group_wait_finish (nested, result, &error))
    {
      nursery_task_return_error (self, error);
      return;
    }
  /* A race's winner hands its value on. */
  winner = nursery_group_get_winner (nested);
  nursery_task_return_value (self, winner != NULL ? nursery_task_get_value (winner) : NULL);
}

/**
 * nursery_task_return_from_group:
 * @self: a running task
 * @nested: a group, usually created with [ctor@Nursery.Group.new_for_task]
 *   for @self
 *
 * Finishes @self with @nested's outcome once @nested has closed: this
 * joins @nested (as [method@Nursery.Group.wait_async] does), then @self
 * fails with @nested's error, unchanged ([R7](rules.html#R7)), or succeeds — with
 * the winner's value for a race. If @self was cancelled and so was
 * @nested, @self ends cancelled ([R8](rules.html#R8)). This replaces the hand-written
 * “wait, then return what the wait gave” callback of a task that runs a
 * nested group.
 *
 * @self must not return otherwise. Call it on @nested's owner context.
 *
 * Since: 1.0
 */
void
nursery_task_return_from_group (NurseryTask  *self,
                                NurseryGroup *nested)
{
  g_return_if_fail (NURSERY_IS_TASK (self));
  g_return_if_fail (NURSERY_IS_GROUP (nested));

  nursery_group_wait_async (nested, NULL, nested_closed_cb, g_object_ref (self));
}
