/* test-threads.c: thread children and cross-thread calls (R2, R6, R23)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "nursery-test-utils.h"

/* Every callback, signal, notify and destroy notify on the owner context */

typedef struct
{
  GThread *owner;
  guint    destroyed;
  guint    finished;
  guint    notifies;
} OwnerCheck;

static void
return_index_in_thread (NurseryTask *task,
                        gpointer     data)
{
  OwnerCheck *check = data;

  g_assert_true (g_thread_self () != check->owner);
  nursery_task_return_int (task, 1);
}

static void
destroy_on_owner (gpointer data)
{
  OwnerCheck *check = data;

  g_assert_true (g_thread_self () == check->owner);
  check->destroyed++;
}

static void
finished_on_owner (NurseryGroup *group,
                   NurseryTask  *task,
                   gpointer      data)
{
  OwnerCheck *check = data;

  g_assert_true (g_thread_self () == check->owner);
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_SUCCEEDED);
  check->finished++;
}

static void
notify_on_owner (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    data)
{
  OwnerCheck *check = data;

  g_assert_true (g_thread_self () == check->owner);
  check->notifies++;
}

static void
wait_on_owner_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      data)
{
  OwnerCheck *check = data;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_thread_self () == check->owner);
  g_assert_true (nursery_group_wait_finish (NURSERY_GROUP (source), result, &error));
  g_assert_no_error (error);
  check->owner = NULL;
}

static void
run_owner_check (GMainContext *context)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  OwnerCheck check = { g_thread_self (), 0, 0, 0 };
  const guint n = 64;

  g_assert_true (nursery_group_get_context (group) == context);
  g_signal_connect (group, "task-finished", G_CALLBACK (finished_on_owner), &check);
  g_signal_connect (group, "notify", G_CALLBACK (notify_on_owner), &check);
  for (guint i = 0; i < n; i++)
    g_object_unref (nursery_group_spawn_in_thread (group, "t", return_index_in_thread,
                                                   &check, destroy_on_owner, NULL));
  nursery_group_wait_async (group, NULL, wait_on_owner_cb, &check);
  NT_ITERATE_CONTEXT_UNTIL (context, check.owner == NULL);

  g_assert_cmpuint (check.finished, ==, n);
  g_assert_cmpuint (check.destroyed, ==, n);
  g_assert_cmpuint (check.notifies, >, 0);
  g_assert_cmpuint (nursery_group_get_n_finished (group), ==, n);
}

static void
test_callbacks_on_owner_context (void)
{
  run_owner_check (g_main_context_default ());
}

/* The owner context is the thread-default one, also on another thread */

static gpointer
owner_thread_func (gpointer data)
{
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  run_owner_check (context);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void
test_owner_context_on_other_thread (void)
{
  GThread *thread = g_thread_new ("owner", owner_thread_func, NULL);

  g_thread_join (thread);
}

/* R24, R1: spawning (and the exit stack) is for the owner context. A
 * thread child spawning a sibling from its worker is refused with a
 * critical, and what it handed over is freed; the group goes on. */

static void
count_destroyed (gpointer counter)
{
  g_atomic_int_inc ((gint *) counter);
}

static void
cleanup_never_called (NurseryGroup *group,
                      gpointer      data)
{
  g_assert_not_reached ();
}

static void
spawn_sibling_from_worker (NurseryTask *task,
                           gpointer     data)
{
  NurseryGroup *group = nursery_task_get_group (task);
  guint *destroyed = data;

  g_assert_null (nursery_group_spawn (group, "sibling", nt_child_never_called,
                                      destroyed, count_destroyed, NULL));
  g_assert_null (nursery_group_spawn_in_thread (group, "sibling", nt_child_never_called,
                                                destroyed, count_destroyed, NULL));
  g_assert_false (nursery_group_start_soon (group, "sibling", nt_child_never_called,
                                            destroyed, count_destroyed, NULL));
  nursery_group_add_cleanup (group, cleanup_never_called, destroyed, count_destroyed);
}

static void
test_spawn_from_worker_refused (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  guint destroyed = 0;

  for (guint i = 0; i < 4; i++)
    g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*_nursery_group_called_on_owner*");
  g_object_unref (nursery_group_spawn_in_thread (group, "spawner", spawn_sibling_from_worker,
                                                 &destroyed, NULL, NULL));
  error = nt_wait (group);
  g_test_assert_expected_messages ();

  g_assert_no_error (error);
  g_assert_cmpuint (g_atomic_int_get (&destroyed), ==, 4);
  g_assert_cmpuint (nursery_group_get_n_finished (group), ==, 1);
  g_assert_cmpuint (nursery_group_get_n_failed (group), ==, 0);
}

/* R1: the thread that holds the group's context may spawn into it, even
 * before the group's first batch, although another thread made it. */

typedef struct
{
  NurseryGroup *group;
  GMainContext *context;
  gboolean      ran;
} ForeignOwner;

static void
set_ran_and_return (NurseryTask *task,
                    gpointer     data)
{
  ForeignOwner *owner = data;

  owner->ran = TRUE;
  nursery_task_return_boolean (task, TRUE);
}

static gpointer
spawn_while_holding_context (gpointer data)
{
  ForeignOwner *owner = data;

  g_assert_true (g_main_context_acquire (owner->context));
  g_assert_true (nursery_group_start_soon (owner->group, "held", set_ran_and_return, owner, NULL, NULL));
  while (nursery_group_get_n_finished (owner->group) < 1)
    g_main_context_iteration (owner->context, TRUE);
  g_main_context_release (owner->context);
  return NULL;
}

static void
test_spawn_while_holding_context (void)
{
  ForeignOwner owner = { NULL, g_main_context_new (), FALSE };

  g_main_context_push_thread_default (owner.context);
  owner.group = nursery_group_new ();
  g_main_context_pop_thread_default (owner.context);

  g_thread_join (g_thread_new ("holder", spawn_while_holding_context, &owner));
  g_assert_true (owner.ran);

  g_object_unref (owner.group);
  g_main_context_unref (owner.context);
}

/* R2: a thread child that returns nothing succeeds */

static void
return_nothing (NurseryTask *task,
                gpointer     data)
{
}

static void
test_default_success (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn_in_thread (group, "silent", return_nothing, NULL, NULL, NULL);
  g_autoptr(GError) error = nt_wait (group);

  g_assert_no_error (error);
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_SUCCEEDED);
  g_assert_null (nursery_task_get_value (task));
}

/* R6: a thread child is finished only once its function has returned */

typedef struct
{
  GMutex   lock;
  GCond    cond;
  gboolean returned;
  gboolean release;
} Handshake;

static void
return_then_linger (NurseryTask *task,
                    gpointer     data)
{
  Handshake *hs = data;

  nursery_task_return_int (task, 11);
  g_mutex_lock (&hs->lock);
  hs->returned = TRUE;
  g_cond_broadcast (&hs->cond);
  while (!hs->release)
    g_cond_wait (&hs->cond, &hs->lock);
  g_mutex_unlock (&hs->lock);
}

static void
test_finished_after_function_returned (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = NULL;
  g_autoptr(GError) error = NULL;
  Handshake hs = { 0 };

  g_mutex_init (&hs.lock);
  g_cond_init (&hs.cond);
  task = nursery_group_spawn_in_thread (group, "linger", return_then_linger, &hs, NULL, NULL);

  NT_ITERATE_UNTIL (nursery_task_get_state (task) != NURSERY_TASK_PENDING);
  g_mutex_lock (&hs.lock);
  while (!hs.returned)
    g_cond_wait (&hs.cond, &hs.lock);
  g_mutex_unlock (&hs.lock);

  /* Returned, still inside its function: not finished, however long we run. */
  for (int i = 0; i < 100; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_false (nursery_task_is_finished (task));
  g_assert_cmpuint (nursery_group_get_n_running (group), ==, 1);

  g_mutex_lock (&hs.lock);
  hs.release = TRUE;
  g_cond_broadcast (&hs.cond);
  g_mutex_unlock (&hs.lock);

  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpint (nursery_task_get_int (task), ==, 11);
  g_mutex_clear (&hs.lock);
  g_cond_clear (&hs.cond);
}

/* R23: cancel from another thread */

static gpointer
cancel_group_thread (gpointer group)
{
  nursery_group_cancel (group);
  return NULL;
}

static gpointer
cancel_task_thread (gpointer task)
{
  nursery_task_cancel (task);
  return NULL;
}

static void
test_cancel_from_other_thread (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) one = nursery_group_spawn_in_thread (group, "one", nt_child_block_until_cancelled, NULL, NULL, NULL);
  g_autoptr(NurseryTask) two = nursery_group_spawn (group, "two", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(NurseryTask) three = nursery_group_spawn_in_thread (group, "three", nt_child_block_until_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  NT_ITERATE_UNTIL (nursery_group_get_n_running (group) >= 3);

  g_thread_join (g_thread_new ("cancel-task", cancel_task_thread, one));
  NT_ITERATE_UNTIL (nursery_task_is_finished (one));
  g_assert_cmpint (nursery_task_get_state (one), ==, NURSERY_TASK_CANCELLED);
  g_assert_false (nursery_group_is_cancelled (group));

  g_thread_join (g_thread_new ("cancel-group", cancel_group_thread, group));
  error = nt_wait (group);
  g_assert_no_error (error);  /* R7: the owner's own cancel is quiet */
  g_assert_cmpint (nursery_task_get_state (two), ==, NURSERY_TASK_CANCELLED);
  g_assert_cmpint (nursery_task_get_state (three), ==, NURSERY_TASK_CANCELLED);
}

/* R23: an in-context child may return from another thread */

static gpointer
return_from_thread (gpointer task)
{
  nursery_task_return_int (task, 21);
  g_object_unref (task);
  return NULL;
}

static void
hand_off_to_thread (NurseryTask *task,
                    gpointer     data)
{
  g_thread_unref (g_thread_new ("returner", return_from_thread, g_object_ref (task)));
}

static void
test_in_context_returns_from_thread (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  OwnerCheck check = { g_thread_self (), 0, 0, 0 };
  g_autoptr(NurseryTask) task = NULL;
  g_autoptr(GError) error = NULL;

  g_signal_connect (group, "task-finished", G_CALLBACK (finished_on_owner), &check);
  task = nursery_group_spawn (group, "handoff", hand_off_to_thread, &check, destroy_on_owner, NULL);
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpint (nursery_task_get_int (task), ==, 21);
  g_assert_cmpuint (check.destroyed, ==, 1);
}

/* Many thread children, each value delivered */

static void
return_data_in_thread (NurseryTask *task,
                       gpointer     data)
{
  nursery_task_return_int (task, GPOINTER_TO_INT (data));
}

static void
test_many_thread_children (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;

  for (int i = 0; i < 500; i++)
    g_ptr_array_add (tasks, nursery_group_spawn_in_thread (group, NULL, return_data_in_thread,
                                                           GINT_TO_POINTER (i), NULL, NULL));
  error = nt_wait (group);
  g_assert_no_error (error);
  for (int i = 0; i < 500; i++)
    g_assert_cmpint (nursery_task_get_int (tasks->pdata[i]), ==, i);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nursery/threads/R23/callbacks-on-owner-context", test_callbacks_on_owner_context);
  g_test_add_func ("/nursery/threads/R23/owner-context-on-other-thread", test_owner_context_on_other_thread);
  g_test_add_func ("/nursery/threads/R2/default-success", test_default_success);
  g_test_add_func ("/nursery/threads/R6/finished-after-function-returned", test_finished_after_function_returned);
  g_test_add_func ("/nursery/threads/R23/cancel-from-other-thread", test_cancel_from_other_thread);
  g_test_add_func ("/nursery/threads/R23/in-context-returns-from-thread", test_in_context_returns_from_thread);
  g_test_add_func ("/nursery/threads/R23/many-thread-children", test_many_thread_children);
  g_test_add_func ("/nursery/threads/R24/spawn-from-worker-refused", test_spawn_from_worker_refused);
  g_test_add_func ("/nursery/threads/R1/spawn-while-holding-context", test_spawn_while_holding_context);

  return g_test_run ();
}
