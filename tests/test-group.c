/* test-group.c: NurseryGroup rules (R1–R12, R20, R21, R24)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "nursery-test-utils.h"

/* R1: spawning never runs the child inline */

static void
set_flag_and_return (NurseryTask *task,
                     gpointer     flag)
{
  *(gboolean *) flag = TRUE;
  nursery_task_return_boolean (task, TRUE);
}

static void
test_spawn_not_inline (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  gboolean ran = FALSE;
  g_autoptr(GError) error = NULL;

  nt_spawn (group, "child", set_flag_and_return, &ran);
  g_assert_false (ran);
  g_assert_cmpuint (nursery_group_get_n_pending (group), ==, 1);

  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_true (ran);
}

/* R1: children start in spawn order */

static void
append_index (NurseryTask *task,
              gpointer     data)
{
  GArray *order = g_object_get_data (G_OBJECT (task), "order");
  int index = GPOINTER_TO_INT (data);

  g_array_append_val (order, index);
  nursery_task_return_int (task, index);
}

static void
test_spawn_fifo (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GError) error = NULL;

  for (int i = 0; i < 100; i++)
    {
      g_autoptr(NurseryTask) task = nursery_group_spawn (group, NULL, append_index,
                                                         GINT_TO_POINTER (i), NULL, NULL);
      g_object_set_data (G_OBJECT (task), "order", order);
    }

  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpuint (order->len, ==, 100);
  for (int i = 0; i < 100; i++)
    g_assert_cmpint (g_array_index (order, int, i), ==, i);
}

/* R2: an in-context child finishes when it returns, possibly much later */

static void
test_in_context_returns_later (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "later", nt_child_return_int_from_idle, GINT_TO_POINTER (7), NULL, NULL);
  g_autoptr(GError) error = NULL;

  /* One batch starts it; it is running, not finished. */
  NT_ITERATE_UNTIL (nursery_task_get_state (task) != NURSERY_TASK_PENDING);
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_RUNNING);
  g_assert_cmpuint (nursery_group_get_n_running (group), ==, 1);

  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_SUCCEEDED);
  g_assert_cmpint (nursery_task_get_int (task), ==, 7);
}

/* R3: exactly once; a second return is a critical and is ignored */

static void
return_twice (NurseryTask *task,
              gpointer     data)
{
  nursery_task_return_int (task, 1);
  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*already returned*");
  nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "late");
  g_test_assert_expected_messages ();
  /* The plain returns claim, set and deliver in one go: refused alike. */
  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*return_int*already returned*");
  nursery_task_return_int (task, 2);
  g_test_assert_expected_messages ();
  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*return_boolean*already returned*");
  nursery_task_return_boolean (task, FALSE);
  g_test_assert_expected_messages ();
}

static void
count_finished (NurseryGroup *group,
                NurseryTask  *task,
                gpointer      counter)
{
  (*(guint *) counter)++;
}

static void
test_exactly_once (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "twice", return_twice, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;
  guint finished = 0;

  g_signal_connect (group, "task-finished", G_CALLBACK (count_finished), &finished);
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpuint (finished, ==, 1);
  g_assert_cmpint (nursery_task_get_int (task), ==, 1);
  g_assert_null (nursery_task_get_error (task));
}

/* R3: a return before the child has started is refused, and the child
 * still runs and returns its own result */

static void
return_seven (NurseryTask *task,
              gpointer     data)
{
  nursery_task_return_int (task, 7);
}

static void
test_return_before_start_refused (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "early", return_seven, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*return_boolean*not started yet*");
  nursery_task_return_boolean (task, TRUE);
  g_test_assert_expected_messages ();
  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*return_int*not started yet*");
  nursery_task_return_int (task, 1);
  g_test_assert_expected_messages ();
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_PENDING);

  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_SUCCEEDED);
  g_assert_cmpint (nursery_task_get_int (task), ==, 7);
}

/* R4: spawn while joining is accepted and awaited */

static void
spawn_sibling_then_return (NurseryTask *task,
                           gpointer     ran_flag)
{
  NurseryGroup *group = nursery_task_get_group (task);

  g_assert_cmpint (nursery_group_get_state (group), ==, NURSERY_GROUP_JOINING);
  nt_spawn (group, "late-sibling", set_flag_and_return, ran_flag);
  nursery_task_return_boolean (task, TRUE);
}

static void
test_spawn_while_joining (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  gboolean sibling_ran = FALSE;
  g_autoptr(GError) error = NULL;

  nt_spawn (group, "spawner", spawn_sibling_then_return, &sibling_ran);
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_true (sibling_ran);
  g_assert_cmpuint (nursery_group_get_n_finished (group), ==, 2);
}

/* R4: spawn into a closed group fails and frees the user data */

static void
test_spawn_closed (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  NurseryTask *task;
  guint destroyed = 0;

  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_true (nursery_group_is_closed (group));

  task = nursery_group_spawn (group, "late", nt_child_never_called, &destroyed, nt_count_destroy, &error);
  g_assert_null (task);
  g_assert_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  g_assert_cmpuint (destroyed, ==, 1);
  g_clear_error (&error);

  task = nursery_group_spawn_in_thread (group, "late", nt_child_never_called, &destroyed, nt_count_destroy, &error);
  g_assert_null (task);
  g_assert_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  g_assert_cmpuint (destroyed, ==, 2);
}

/* R5: a child spawned into a cancelled group never runs */

static void
test_spawn_into_cancelled (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(NurseryTask) task = NULL;
  g_autoptr(NurseryTask) thread_task = NULL;
  guint destroyed = 0;

  nursery_group_cancel (group);
  task = nursery_group_spawn (group, "doomed", nt_child_never_called, &destroyed, nt_count_destroy, &error);
  g_assert_no_error (error);
  thread_task = nursery_group_spawn_in_thread (group, "doomed", nt_child_never_called, &destroyed, nt_count_destroy, &error);
  g_assert_no_error (error);

  error = nt_wait (group);
  g_assert_true (nursery_task_is_cancelled (task));
  g_assert_no_error (error);  /* R7: the owner's own cancel is quiet */
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_CANCELLED);
  g_assert_cmpint (nursery_task_get_state (thread_task), ==, NURSERY_TASK_CANCELLED);
  g_assert_cmpuint (destroyed, ==, 2);
  g_assert_cmpuint (nursery_group_get_n_failed (group), ==, 0);
}

/* R5: a child cancelled while pending never runs */

static void
test_cancel_pending_task (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "pending", nt_child_never_called, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  nursery_task_cancel (task);
  error = nt_wait (group);
  /* R13: a task cancelled on its own is no failure and no group cancel. */
  g_assert_no_error (error);
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_CANCELLED);
  g_assert_error (nursery_task_get_error (task), G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* R6: wait on an empty group completes on a later iteration */

static void
set_flag_wait_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      flag)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (nursery_group_wait_finish (NURSERY_GROUP (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) flag = TRUE;
}

static void
test_wait_empty_not_synchronous (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  gboolean done = FALSE;

  nursery_group_wait_async (group, NULL, set_flag_wait_cb, &done);
  g_assert_false (done);
  g_assert_false (nursery_group_is_closed (group));
  nt_run_until (&done);
  g_assert_true (nursery_group_is_closed (group));
}

/* R6: wait completes only after every child, then closes */

typedef struct
{
  NurseryGroup *group;
  gboolean      done;
  guint         finished_at_completion;
} WaitProbe;

static void
probe_wait_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  WaitProbe *probe = data;

  nursery_group_wait_finish (probe->group, result, NULL);
  probe->finished_at_completion = nursery_group_get_n_finished (probe->group);
  g_assert_true (nursery_group_is_closed (probe->group));
  probe->done = TRUE;
}

static void
test_wait_after_all_children (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  WaitProbe probe = { group, FALSE, 0 };

  for (int i = 0; i < 5; i++)
    nt_spawn (group, NULL, nt_child_return_int_from_idle, GINT_TO_POINTER (7));
  nursery_group_wait_async (group, NULL, probe_wait_cb, &probe);
  g_assert_cmpint (nursery_group_get_state (group), ==, NURSERY_GROUP_JOINING);
  nt_run_until (&probe.done);
  g_assert_cmpuint (probe.finished_at_completion, ==, 5);
}

/* R7: the first failure is returned unchanged */

static void
fail_custom (NurseryTask *task,
             gpointer     data)
{
  nursery_task_return_new_error (task, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                                 "custom failure %d", 42);
}

static void
test_outcome_first_failure_unchanged (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;

  nt_spawn (group, "fails", fail_custom, NULL);
  nt_spawn (group, "waits", nt_child_until_cancelled, NULL);
  error = nt_wait (group);
  g_assert_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "custom failure 42");
}

/* R7: errors win over cancellation */

static void
fail_when_cancelled_cb (GCancellable *cancellable,
                        gpointer      task)
{
  nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "cleanup failed");
}

static void
fail_when_cancelled (NurseryTask *task,
                     gpointer     data)
{
  g_cancellable_connect (nursery_task_get_cancellable (task),
                         G_CALLBACK (fail_when_cancelled_cb), task, NULL);
}

static void
test_outcome_errors_win_over_cancel (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "fails-late", fail_when_cancelled, NULL, NULL, NULL);

  NT_ITERATE_UNTIL (nursery_task_get_state (task) != NURSERY_TASK_PENDING);
  nursery_group_cancel (group);
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
  g_assert_true (nursery_group_is_cancelled (group));
}

/* R7: the owner's own cancel with no failure is quiet: wait succeeds and
 * the children end cancelled (outside causes: see the R10 waiter test) */

static void
test_outcome_cancelled (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "waits", nt_child_until_cancelled, NULL, NULL, NULL);

  NT_ITERATE_UNTIL (nursery_task_get_state (task) != NURSERY_TASK_PENDING);
  nursery_group_cancel (group);
  nursery_group_cancel (group);  /* R12: idempotent */
  error = nt_wait (group);
  g_assert_no_error (error);  /* R7: the owner's own cancel is quiet */
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_CANCELLED);
  g_assert_cmpuint (nursery_group_get_n_failed (group), ==, 0);
}

/* R8: every failure kept, in order; cancelled children are no failure */

static void
test_errors_kept_in_order (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(NurseryTask) cancelled = NULL;

  nursery_group_set_policy (group, NURSERY_POLICY_SUPERVISE);
  nt_spawn (group, "a", nt_child_fail, (gpointer) "first");
  nt_spawn (group, "b", nt_child_return_int, GINT_TO_POINTER (1));
  nt_spawn (group, "c", nt_child_fail, (gpointer) "second");
  nt_spawn (group, "d", nt_child_fail, (gpointer) "third");
  cancelled = nursery_group_spawn (group, "e", nt_child_until_cancelled, NULL, NULL, NULL);
  NT_ITERATE_UNTIL (nursery_task_get_state (cancelled) != NURSERY_TASK_PENDING);
  nursery_task_cancel (cancelled);

  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "first");

  errors = nursery_group_get_errors (group);
  g_assert_cmpuint (errors->len, ==, 3);
  g_assert_cmpstr (((GError *) errors->pdata[0])->message, ==, "first");
  g_assert_cmpstr (((GError *) errors->pdata[1])->message, ==, "second");
  g_assert_cmpstr (((GError *) errors->pdata[2])->message, ==, "third");
  g_assert_cmpint (nursery_task_get_state (cancelled), ==, NURSERY_TASK_CANCELLED);
  g_assert_cmpuint (nursery_group_get_n_failed (group), ==, 3);
  g_assert_cmpuint (nursery_group_get_n_finished (group), ==, 5);
}

/* R8: G_IO_ERROR_CANCELLED from a child nobody cancelled is a failure */

static void
fail_with_cancelled (NurseryTask *task,
                     gpointer     data)
{
  nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "inner op cancelled");
}

static void
test_errors_uncancelled_cancel_is_failure (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "x", fail_with_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = nt_wait (group);

  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "inner op cancelled");
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_FAILED);
  g_assert_cmpuint (nursery_group_get_n_failed (group), ==, 1);
}

/* R10: several waiters get the same outcome */

typedef struct
{
  NurseryGroup *group;
  guint         completed;
  guint         running_at_completion;
} Waiters;

static void
count_waiter_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      data)
{
  Waiters *w = data;
  g_autoptr(GError) error = NULL;

  g_assert_false (nursery_group_wait_finish (w->group, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "boom");
  w->running_at_completion += nursery_group_get_n_running (w->group);
  w->completed++;
}

static void
test_wait_multiple_waiters (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  Waiters w = { group, 0, 0 };

  nt_spawn (group, "boom", nt_child_fail, (gpointer) "boom");
  nt_spawn (group, "waits", nt_child_until_cancelled, NULL);
  for (int i = 0; i < 3; i++)
    nursery_group_wait_async (group, NULL, count_waiter_cb, &w);
  nt_run_until_count (&w.completed, 3);
  g_assert_cmpuint (w.running_at_completion, ==, 0);

  /* A waiter after the close gets the same outcome. */
  nursery_group_wait_async (group, NULL, count_waiter_cb, &w);
  nt_run_until_count (&w.completed, 4);
}

/* R10: cancelling a waiter cancels the group; it completes after the children */

static void
cancelled_waiter_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      data)
{
  Waiters *w = data;
  g_autoptr(GError) error = NULL;

  g_assert_false (nursery_group_wait_finish (w->group, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  w->running_at_completion = nursery_group_get_n_running (w->group);
  w->completed++;
}

static gboolean
return_cancelled_later_cb (gpointer task)
{
  g_assert_true (nursery_task_return_error_if_cancelled (task));
  return G_SOURCE_REMOVE;
}

static void
schedule_cancelled_return (GCancellable *cancellable,
                           gpointer      task)
{
  g_idle_add_full (G_PRIORITY_LOW, return_cancelled_later_cb, g_object_ref (task), g_object_unref);
}

static void
return_later_when_cancelled (NurseryTask *task,
                             gpointer     data)
{
  g_cancellable_connect (nursery_task_get_cancellable (task),
                         G_CALLBACK (schedule_cancelled_return), task, NULL);
}

static void
test_wait_cancellable_cancels_group (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(NurseryTask) slow = NULL;
  Waiters w = { group, 0, 99 };

  slow = nursery_group_spawn (group, "slow", return_later_when_cancelled, NULL, NULL, NULL);
  nursery_group_wait_async (group, cancellable, cancelled_waiter_cb, &w);
  NT_ITERATE_UNTIL (nursery_task_get_state (slow) != NURSERY_TASK_PENDING);

  g_cancellable_cancel (cancellable);
  g_assert_true (nursery_group_is_cancelled (group));
  g_assert_true (nursery_task_is_cancelled (slow));
  g_assert_cmpuint (w.completed, ==, 0);
  g_assert_cmpint (nursery_task_get_state (slow), ==, NURSERY_TASK_RUNNING);

  nt_run_until_count (&w.completed, 1);
  g_assert_cmpuint (w.running_at_completion, ==, 0);
  g_assert_cmpint (nursery_task_get_state (slow), ==, NURSERY_TASK_CANCELLED);
}

static void
test_wait_cancellable_already_cancelled (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(NurseryTask) child = NULL;
  Waiters w = { group, 0, 0 };

  child = nursery_group_spawn (group, "waits", nt_child_until_cancelled, NULL, NULL, NULL);
  g_cancellable_cancel (cancellable);
  nursery_group_wait_async (group, cancellable, cancelled_waiter_cb, &w);
  g_assert_true (nursery_group_is_cancelled (group));
  nt_run_until_count (&w.completed, 1);
  g_assert_cmpuint (w.running_at_completion, ==, 0);
  g_assert_cmpint (nursery_task_get_state (child), ==, NURSERY_TASK_CANCELLED);
}

/* R11 FAIL_FAST: the first failure cancels the siblings */

static void
test_fail_fast_cancels_siblings (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) sibling = nursery_group_spawn (group, "sibling", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(NurseryTask) thread_sibling = nursery_group_spawn_in_thread (group, "thread", nt_child_block_until_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (nursery_group_get_policy (group), ==, NURSERY_POLICY_FAIL_FAST);
  nt_spawn (group, "fails", nt_child_fail, (gpointer) "boom");
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpint (nursery_task_get_state (sibling), ==, NURSERY_TASK_CANCELLED);
  g_assert_cmpint (nursery_task_get_state (thread_sibling), ==, NURSERY_TASK_CANCELLED);
  g_assert_true (nursery_group_is_cancelled (group));
}

/* R11 SUPERVISE: failures are recorded, siblings keep running */

static void
test_supervise_siblings_keep_running (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) sibling = NULL;
  g_autoptr(GError) error = NULL;

  nursery_group_set_policy (group, NURSERY_POLICY_SUPERVISE);
  nt_spawn (group, "fails", nt_child_fail, (gpointer) "boom");
  sibling = nursery_group_spawn (group, "later", nt_child_return_int_from_idle, GINT_TO_POINTER (7), NULL, NULL);
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_false (nursery_group_is_cancelled (group));
  g_assert_cmpint (nursery_task_get_state (sibling), ==, NURSERY_TASK_SUCCEEDED);
  g_assert_cmpint (nursery_task_get_int (sibling), ==, 7);
}

/* R11 RACE: the first success wins and cancels the rest */

static void
test_race_first_success_wins (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) slow = NULL;
  g_autoptr(NurseryTask) fast = NULL;
  g_autoptr(GError) error = NULL;

  nursery_group_set_policy (group, NURSERY_POLICY_RACE);
  nt_spawn (group, "loser-fails", nt_child_fail, (gpointer) "lost");
  slow = nursery_group_spawn (group, "slow", nt_child_until_cancelled, NULL, NULL, NULL);
  fast = nursery_group_spawn (group, "fast", nt_child_return_int_from_idle, GINT_TO_POINTER (7), NULL, NULL);

  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_true (nursery_group_get_winner (group) == fast);
  g_assert_cmpint (nursery_task_get_int (nursery_group_get_winner (group)), ==, 7);
  g_assert_cmpint (nursery_task_get_state (slow), ==, NURSERY_TASK_CANCELLED);
  g_assert_cmpuint (nursery_group_get_n_failed (group), ==, 1);
}

static void
test_race_all_fail (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;

  nursery_group_set_policy (group, NURSERY_POLICY_RACE);
  nt_spawn (group, "a", nt_child_fail, (gpointer) "first");
  nt_spawn (group, "b", nt_child_fail, (gpointer) "second");
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "first");
  g_assert_null (nursery_group_get_winner (group));
}

/* R12: cancel reaches every unshielded child, pending or running */

static void
test_cancel_reaches_all (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;

  for (int i = 0; i < 50; i++)
    g_ptr_array_add (tasks, nursery_group_spawn (group, NULL, nt_child_until_cancelled, NULL, NULL, NULL));
  /* Half start, half stay pending behind the limit (R19). */
  nursery_group_set_max_concurrent (group, 25);
  NT_ITERATE_UNTIL (nursery_group_get_n_running (group) >= 25);
  g_assert_cmpuint (nursery_group_get_n_pending (group), ==, 25);

  nursery_group_cancel (group);
  error = nt_wait (group);
  g_assert_no_error (error);  /* R7: the owner's own cancel is quiet */
  for (guint i = 0; i < tasks->len; i++)
    g_assert_cmpint (nursery_task_get_state (tasks->pdata[i]), ==, NURSERY_TASK_CANCELLED);
  g_assert_cmpuint (nursery_group_get_n_pending (group), ==, 0);
  g_assert_cmpuint (nursery_group_get_n_running (group), ==, 0);
}

/* R19: the limit caps running children; raising it starts the queue */

static void
test_limit_caps_running (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);

  nursery_group_set_max_concurrent (group, 2);
  for (int i = 0; i < 6; i++)
    g_ptr_array_add (tasks, nursery_group_spawn (group, NULL, nt_child_until_cancelled, NULL, NULL, NULL));
  NT_ITERATE_UNTIL (nursery_group_get_n_running (group) >= 2);
  g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (nursery_group_get_n_running (group), ==, 2);
  g_assert_cmpuint (nursery_group_get_n_pending (group), ==, 4);
  /* FIFO: the first two run. */
  g_assert_cmpint (nursery_task_get_state (tasks->pdata[0]), ==, NURSERY_TASK_RUNNING);
  g_assert_cmpint (nursery_task_get_state (tasks->pdata[1]), ==, NURSERY_TASK_RUNNING);
  g_assert_cmpint (nursery_task_get_state (tasks->pdata[2]), ==, NURSERY_TASK_PENDING);

  nursery_group_set_max_concurrent (group, 0);
  NT_ITERATE_UNTIL (nursery_group_get_n_running (group) >= 6);
  g_assert_cmpuint (nursery_group_get_n_pending (group), ==, 0);
  nursery_group_cancel (group);
  error = nt_wait (group);
  g_assert_no_error (error);  /* R7: the owner's own cancel is quiet */
}

/* R20: dropping the last reference cancels the children; the group is
 * finalized once they have all finished */

static void
test_drop_last_ref_cancels (void)
{
  NurseryGroup *group = nursery_group_new ();
  g_autoptr(NurseryTask) child = NULL;
  g_autoptr(NurseryTask) thread_child = NULL;
  guint destroyed = 0;

  child = nursery_group_spawn (group, "waits", nt_child_until_cancelled, &destroyed, nt_count_destroy, NULL);
  thread_child = nursery_group_spawn_in_thread (group, "blocks", nt_child_block_until_cancelled, &destroyed, nt_count_destroy, NULL);
  NT_ITERATE_UNTIL (nursery_group_get_n_running (group) >= 2);

  g_object_add_weak_pointer (G_OBJECT (group), (gpointer *) &group);
  g_object_unref (group);
  /* Still alive: its children run. */
  g_assert_nonnull (group);
  g_assert_true (nursery_task_is_cancelled (child));
  g_assert_true (nursery_task_is_cancelled (thread_child));

  NT_ITERATE_UNTIL (group == NULL);
  g_assert_cmpint (nursery_task_get_state (child), ==, NURSERY_TASK_CANCELLED);
  g_assert_cmpint (nursery_task_get_state (thread_child), ==, NURSERY_TASK_CANCELLED);
  g_assert_cmpuint (destroyed, ==, 2);
  /* The handles outlive the group safely. */
  g_assert_null (nursery_task_get_group (child));
  nursery_task_cancel (child);
}

/* R20: unobserved failures are logged when the group is finalized */

static void
test_unobserved_failure_warns (void)
{
  NurseryGroup *group = nursery_group_new ();

  nursery_group_set_name (group, "careless");
  nursery_group_set_policy (group, NURSERY_POLICY_SUPERVISE);
  nt_spawn (group, "fails", nt_child_fail, (gpointer) "nobody looked");
  nt_spawn (group, "waits", nt_child_return_int_from_idle, GINT_TO_POINTER (7));
  NT_ITERATE_UNTIL (nursery_group_get_n_failed (group) >= 1);

  g_object_add_weak_pointer (G_OBJECT (group), (gpointer *) &group);
  g_test_expect_message ("Nursery", G_LOG_LEVEL_WARNING, "*careless*1 failure*nobody looked*");
  g_object_unref (group);
  NT_ITERATE_UNTIL (group == NULL);
  g_test_assert_expected_messages ();
}

/* R21: notifies on the owner context, never inside the call, once per batch */

typedef struct
{
  guint n_pending;
  guint n_finished;
  guint closed;
  guint cancelled;
  guint max_concurrent;
} NotifyCounts;

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    data)
{
  NotifyCounts *counts = data;

  if (g_str_equal (pspec->name, "n-pending"))
    counts->n_pending++;
  else if (g_str_equal (pspec->name, "n-finished"))
    counts->n_finished++;
  else if (g_str_equal (pspec->name, "closed"))
    counts->closed++;
  else if (g_str_equal (pspec->name, "cancelled"))
    counts->cancelled++;
  else if (g_str_equal (pspec->name, "max-concurrent"))
    counts->max_concurrent++;
}

static void
test_properties_notify (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  NotifyCounts counts = { 0 };
  g_autoptr(GError) error = NULL;
  guint n_finished = 0;
  gboolean closed = FALSE;

  g_signal_connect (group, "notify", G_CALLBACK (count_notify), &counts);
  for (int i = 0; i < 10; i++)
    nt_spawn (group, NULL, nt_child_return_int, GINT_TO_POINTER (i));
  nursery_group_set_max_concurrent (group, 5);
  nursery_group_set_max_concurrent (group, 5);
  g_assert_cmpuint (counts.n_pending, ==, 0);
  g_assert_cmpuint (counts.max_concurrent, ==, 0);

  error = nt_wait (group);
  g_assert_no_error (error);
  g_object_get (group, "n-finished", &n_finished, "closed", &closed, NULL);
  g_assert_cmpuint (n_finished, ==, 10);
  g_assert_true (closed);
  g_assert_cmpuint (counts.max_concurrent, ==, 1);
  g_assert_cmpuint (counts.closed, ==, 1);
  g_assert_cmpuint (counts.cancelled, ==, 0);
  /* Coalesced: far fewer notifications than changes. */
  g_assert_cmpuint (counts.n_finished, >=, 1);
  g_assert_cmpuint (counts.n_finished, <, 10);
  g_assert_cmpuint (counts.n_pending, >=, 1);
}

/* R21: a batch with no "notify" handler skips its notifications; a
 * handler for one property only, a property binding and a handler
 * connected after the change but before the batch are all listeners. */

static void
count_calls (GObject    *object,
             GParamSpec *pspec,
             gpointer    counter)
{
  (*(guint *) counter)++;
}

static void
test_notify_detailed_listeners (void)
{
  g_autoptr(NurseryGroup) detailed = nursery_group_new ();
  g_autoptr(NurseryGroup) bound = nursery_group_new ();
  g_autoptr(NurseryGroup) target = nursery_group_new ();
  g_autoptr(NurseryGroup) late = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  guint n_finished_notifies = 0, n_spawned_notifies = 0;

  g_signal_connect (detailed, "notify::n-finished", G_CALLBACK (count_calls), &n_finished_notifies);
  g_object_bind_property (bound, "n-finished", target, "max-concurrent", G_BINDING_DEFAULT);
  for (int i = 0; i < 3; i++)
    {
      nt_spawn (detailed, NULL, nt_child_return_int, GINT_TO_POINTER (i));
      nt_spawn (bound, NULL, nt_child_return_int, GINT_TO_POINTER (i));
    }
  nt_spawn (late, NULL, nt_child_return_int, NULL);
  /* Connected after n-spawned changed: the batch still owes it that change. */
  g_signal_connect (late, "notify::n-spawned", G_CALLBACK (count_calls), &n_spawned_notifies);

  error = nt_wait (detailed);
  g_assert_no_error (error);
  error = nt_wait (bound);
  g_assert_no_error (error);
  error = nt_wait (late);
  g_assert_no_error (error);
  g_assert_cmpuint (n_finished_notifies, >=, 1);
  g_assert_cmpuint (nursery_group_get_max_concurrent (target), ==, 3);
  g_assert_cmpuint (n_spawned_notifies, ==, 1);
}

/* R21: task-finished once per child, in completion order */

static void
record_finished (NurseryGroup *group,
                 NurseryTask  *task,
                 gpointer      data)
{
  GPtrArray *names = data;

  g_assert_true (nursery_task_is_finished (task));
  g_ptr_array_add (names, g_strdup (nursery_task_get_name (task)));
}

static void
test_task_finished_order (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;

  g_signal_connect (group, "task-finished", G_CALLBACK (record_finished), names);
  nt_spawn (group, "returns-later", nt_child_return_int_from_idle, GINT_TO_POINTER (7));
  nt_spawn (group, "returns-now", nt_child_return_int, GINT_TO_POINTER (1));
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpuint (names->len, ==, 2);
  g_assert_cmpstr (names->pdata[0], ==, "returns-now");
  g_assert_cmpstr (names->pdata[1], ==, "returns-later");
}

/* 10 000 children finish and nothing leaks */

static void
weak_count (gpointer  data,
            GObject  *where_the_object_was)
{
  (*(guint *) data)++;
}

static void
return_true (NurseryTask *task,
             gpointer     data)
{
  nursery_task_return_boolean (task, TRUE);
}

static void
test_many_children_no_leak (void)
{
  NurseryGroup *group = nursery_group_new ();
  guint finalized = 0;
  guint destroyed = 0;
  g_autoptr(GError) error = NULL;
  const guint n = 10000;

  for (guint i = 0; i < n; i++)
    {
      NurseryTask *task = nursery_group_spawn (group, "child", return_true,
                                               &destroyed, nt_count_destroy, NULL);
      g_object_weak_ref (G_OBJECT (task), weak_count, &finalized);
      g_object_unref (task);
    }
  g_assert_cmpuint (finalized, ==, 0);
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpuint (nursery_group_get_n_finished (group), ==, n);
  g_assert_cmpuint (finalized, ==, n);
  g_assert_cmpuint (destroyed, ==, n);

  g_object_add_weak_pointer (G_OBJECT (group), (gpointer *) &group);
  g_object_unref (group);
  g_assert_null (group);
}

/* R24: bad input is a critical, never a crash */

static void
test_bad_input (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GCancellable) wrong_type = g_cancellable_new ();
  GError *error = NULL;
  guint destroyed = 0;

  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*NURSERY_IS_GROUP*");
  g_assert_null (nursery_group_spawn (NULL, "x", nt_child_never_called, NULL, NULL, NULL));
  g_test_assert_expected_messages ();

  /* Refused arguments still free the user data: nothing leaks. */
  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  g_assert_null (nursery_group_spawn (group, "x", NULL, &destroyed, nt_count_destroy, NULL));
  g_test_assert_expected_messages ();
  g_assert_cmpuint (destroyed, ==, 1);

  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*NURSERY_IS_GROUP*");
  nursery_group_cancel ((NurseryGroup *) wrong_type);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*NURSERY_IS_GROUP*");
  g_assert_false (nursery_group_wait (NULL, NULL, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);

  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*NURSERY_IS_TASK*");
  nursery_task_return_int (NULL, 1);
  g_test_assert_expected_messages ();
}

/* R6: a test's own wait (NT_ITERATE_UNTIL in nursery-test-utils.h) ends:
 * a condition that never holds, on a context with nothing to dispatch,
 * fails the test naming the condition instead of hanging */

static void
test_wait_helper_deadline (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(NurseryGroup) group = nursery_group_new ();

      g_setenv ("NURSERY_TEST_TIMEOUT_SECONDS", "1", TRUE);
      NT_ITERATE_UNTIL (nursery_group_get_n_running (group) > 0);
      return;
    }
  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*timed out after 1 s waiting for: nursery_group_get_n_running (group) > 0*");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nursery/group/R1/spawn/not-inline", test_spawn_not_inline);
  g_test_add_func ("/nursery/group/R1/spawn/fifo", test_spawn_fifo);
  g_test_add_func ("/nursery/group/R2/in-context/returns-later", test_in_context_returns_later);
  g_test_add_func ("/nursery/group/R3/exactly-once", test_exactly_once);
  g_test_add_func ("/nursery/group/R3/return-before-start-refused", test_return_before_start_refused);
  g_test_add_func ("/nursery/group/R4/spawn/while-joining", test_spawn_while_joining);
  g_test_add_func ("/nursery/group/R4/spawn/closed", test_spawn_closed);
  g_test_add_func ("/nursery/group/R5/spawn/into-cancelled", test_spawn_into_cancelled);
  g_test_add_func ("/nursery/group/R5/cancel/pending-task", test_cancel_pending_task);
  g_test_add_func ("/nursery/group/R6/wait/empty-not-synchronous", test_wait_empty_not_synchronous);
  g_test_add_func ("/nursery/group/R6/wait/after-all-children", test_wait_after_all_children);
  g_test_add_func ("/nursery/group/R7/outcome/first-failure-unchanged", test_outcome_first_failure_unchanged);
  g_test_add_func ("/nursery/group/R7/outcome/errors-win-over-cancel", test_outcome_errors_win_over_cancel);
  g_test_add_func ("/nursery/group/R7/own-cancel-is-quiet", test_outcome_cancelled);
  g_test_add_func ("/nursery/group/R8/errors/kept-in-order", test_errors_kept_in_order);
  g_test_add_func ("/nursery/group/R8/errors/uncancelled-cancel-is-failure", test_errors_uncancelled_cancel_is_failure);
  g_test_add_func ("/nursery/group/R10/wait/multiple-waiters", test_wait_multiple_waiters);
  g_test_add_func ("/nursery/group/R10/wait/cancellable-cancels-group", test_wait_cancellable_cancels_group);
  g_test_add_func ("/nursery/group/R10/wait/cancellable-already-cancelled", test_wait_cancellable_already_cancelled);
  g_test_add_func ("/nursery/group/R11/policy/fail-fast", test_fail_fast_cancels_siblings);
  g_test_add_func ("/nursery/group/R11/policy/supervise", test_supervise_siblings_keep_running);
  g_test_add_func ("/nursery/group/R11/policy/race", test_race_first_success_wins);
  g_test_add_func ("/nursery/group/R11/policy/race-all-fail", test_race_all_fail);
  g_test_add_func ("/nursery/group/R12/cancel/reaches-all", test_cancel_reaches_all);
  g_test_add_func ("/nursery/group/R19/limit/caps-running", test_limit_caps_running);
  g_test_add_func ("/nursery/group/R20/lifecycle/drop-last-ref", test_drop_last_ref_cancels);
  g_test_add_func ("/nursery/group/R20/lifecycle/unobserved-failure-warns", test_unobserved_failure_warns);
  g_test_add_func ("/nursery/group/R21/properties/notify", test_properties_notify);
  g_test_add_func ("/nursery/group/R21/notify/detailed-listeners", test_notify_detailed_listeners);
  g_test_add_func ("/nursery/group/R21/signals/task-finished-order", test_task_finished_order);
  g_test_add_func ("/nursery/group/R20/many-children-no-leak", test_many_children_no_leak);
  g_test_add_func ("/nursery/group/R24/bad-input", test_bad_input);
  g_test_add_func ("/nursery/group/R6/wait/helper-deadline", test_wait_helper_deadline);

  return g_test_run ();
}
