/* test-task.c: NurseryTask rules (R3, R8, R9, R13, R24)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "nursery-test-utils.h"

/* R9: a value returned before a cancel is kept */

static void
return_then_get_cancelled (NurseryTask *task,
                           gpointer     data)
{
  /* Returned, not reported yet: the cancels must not change the result
   * (with GTask's check-cancellable it would become CANCELLED). */
  nursery_task_return_int (task, 99);
  nursery_task_cancel (task);
  nursery_group_cancel (nursery_task_get_group (task));
  g_assert_false (nursery_task_is_finished (task));
}

static void
test_value_kept_after_cancel (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "v", return_then_get_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  error = nt_wait (group);
  g_assert_no_error (error);  /* R7: the owner's own cancel is quiet */
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_SUCCEEDED);
  g_assert_cmpint (nursery_task_get_int (task), ==, 99);
  g_assert_null (nursery_task_get_error (task));
}

/* R13: cancelling one task affects only that task and is no failure */

static void
test_cancel_one (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) victim = nursery_group_spawn (group, "victim", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(NurseryTask) sibling = nursery_group_spawn (group, "sibling", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  nt_wait_until_running (victim);
  nursery_task_cancel (victim);
  NT_ITERATE_UNTIL (nursery_task_is_finished (victim));
  g_assert_cmpint (nursery_task_get_state (victim), ==, NURSERY_TASK_CANCELLED);
  g_assert_false (nursery_task_is_cancelled (sibling));
  g_assert_false (nursery_group_is_cancelled (group));
  g_assert_cmpuint (nursery_group_get_n_failed (group), ==, 0);

  nursery_task_cancel (sibling);
  error = nt_wait (group);
  g_assert_no_error (error);
  /* After the finish, cancel is a no-op. */
  nursery_task_cancel (victim);
  g_assert_cmpint (nursery_task_get_state (victim), ==, NURSERY_TASK_CANCELLED);
}

/* The cancellable is created on demand, already cancelled if it must be */

static void
test_cancellable_on_demand (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "c", nt_child_until_cancelled, NULL, NULL, NULL);
  GCancellable *cancellable;

  nt_wait_until_running (task);
  cancellable = nursery_task_get_cancellable (task);
  g_assert_true (cancellable == nursery_task_get_cancellable (task));
  nursery_group_cancel (group);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  {
    g_autoptr(GError) error = nt_wait (group);
    g_assert_no_error (error);  /* R7: the owner's own cancel is quiet */
  }
}

static void
ask_cancellable_late (NurseryTask *task,
                      gpointer     data)
{
  /* Cancelled before anybody asked for the cancellable. */
  g_assert_true (g_cancellable_is_cancelled (nursery_task_get_cancellable (task)));
  nursery_task_return_error_if_cancelled (task);
}

static void
cancel_then_return (NurseryTask *task,
                    gpointer     data)
{
  nursery_task_cancel (task);
  ask_cancellable_late (task, data);
}

static void
test_cancellable_created_after_cancel (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "late", cancel_then_return, NULL, NULL, NULL);
  g_autoptr(GError) error = nt_wait (group);

  g_assert_no_error (error);
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_CANCELLED);
}

/* Result kinds */

static void
return_value_string (NurseryTask *task,
                     gpointer     data)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, "hello");
  nursery_task_return_value (task, &value);
}

static void
return_pointer (NurseryTask *task,
                gpointer     data)
{
  nursery_task_return_pointer (task, g_strdup ("owned"), g_free);
}

static void
return_bool (NurseryTask *task,
             gpointer     data)
{
  nursery_task_return_boolean (task, TRUE);
}

static void
return_nothing (NurseryTask *task,
                gpointer     data)
{
  nursery_task_return_value (task, NULL);
}

static void
test_result_kinds (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) str = nursery_group_spawn (group, "s", return_value_string, NULL, NULL, NULL);
  g_autoptr(NurseryTask) ptr = nursery_group_spawn (group, "p", return_pointer, NULL, NULL, NULL);
  g_autoptr(NurseryTask) boolean = nursery_group_spawn (group, "b", return_bool, NULL, NULL, NULL);
  g_autoptr(NurseryTask) none = nursery_group_spawn (group, "n", return_nothing, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_null (nursery_task_get_value (str));
  error = nt_wait (group);
  g_assert_no_error (error);

  g_assert_cmpstr (g_value_get_string (nursery_task_get_value (str)), ==, "hello");
  g_assert_cmpstr (nursery_task_get_pointer (ptr), ==, "owned");
  g_assert_true (nursery_task_get_boolean (boolean));
  g_assert_null (nursery_task_get_value (none));
  g_assert_cmpint (nursery_task_get_state (none), ==, NURSERY_TASK_SUCCEEDED);
  /* Asking for the wrong kind gives the default, not garbage. */
  g_assert_cmpint (nursery_task_get_int (str), ==, 0);
  g_assert_null (nursery_task_get_pointer (boolean));
}

/* R3: a return before the task started is refused */

static void
test_return_before_start (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "early", nt_child_return_int, GINT_TO_POINTER (5), NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*has not started*");
  nursery_task_return_int (task, 1);
  g_test_assert_expected_messages ();

  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpint (nursery_task_get_int (task), ==, 5);
}

/* Per-task wait */

typedef struct
{
  NurseryTask *task;
  guint        completed;
  gboolean     succeeded;
  GError      *error;
} TaskWait;

static void
task_wait_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  TaskWait *tw = data;

  g_assert_true (source == G_OBJECT (tw->task));
  g_assert_true (nursery_task_is_finished (tw->task));
  tw->succeeded = nursery_task_wait_finish (tw->task, result, &tw->error);
  tw->completed++;
}

static void
test_task_wait (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "w", nt_child_return_int_from_idle, GINT_TO_POINTER (3), NULL, NULL);
  TaskWait tw = { task, 0, FALSE, NULL };

  nursery_task_wait_async (task, NULL, task_wait_cb, &tw);
  g_assert_cmpuint (tw.completed, ==, 0);
  nt_run_until_count (&tw.completed, 1);
  g_assert_true (tw.succeeded);
  g_assert_no_error (tw.error);

  /* Waiting on a finished task completes later, never inline. */
  nursery_task_wait_async (task, NULL, task_wait_cb, &tw);
  g_assert_cmpuint (tw.completed, ==, 1);
  nt_run_until_count (&tw.completed, 2);
  g_assert_true (tw.succeeded);
  {
    g_autoptr(GError) error = nt_wait (group);
    g_assert_no_error (error);
  }
}

static void
test_task_wait_cancellable_cancels_task (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "w", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  TaskWait tw = { task, 0, TRUE, NULL };

  nursery_task_wait_async (task, cancellable, task_wait_cb, &tw);
  nt_wait_until_running (task);
  g_cancellable_cancel (cancellable);
  g_assert_true (nursery_task_is_cancelled (task));
  nt_run_until_count (&tw.completed, 1);
  g_assert_false (tw.succeeded);
  g_assert_error (tw.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&tw.error);
  error = nt_wait (group);
  g_assert_no_error (error);
}

/* Failed task: error readable from the task (R8) */

static void
test_task_error_readable (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "f", nt_child_fail, (gpointer) "bad", NULL, NULL);
  g_autoptr(GError) error = nt_wait (group);

  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_FAILED);
  g_assert_error (nursery_task_get_error (task), G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (nursery_task_get_error (task)->message, ==, "bad");
  g_assert_cmpstr (nursery_task_get_name (task), ==, "f");
}

/* R21: a task notifies every state change, on the owner context */

static void
record_state (GObject    *object,
              GParamSpec *pspec,
              gpointer    data)
{
  GArray *states = data;
  NurseryTaskState state = nursery_task_get_state (NURSERY_TASK (object));

  g_array_append_val (states, state);
}

static void
test_state_notify (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "s", nt_child_return_int_from_idle, GINT_TO_POINTER (3), NULL, NULL);
  g_autoptr(GArray) states = g_array_new (FALSE, FALSE, sizeof (NurseryTaskState));
  g_autoptr(GError) error = NULL;

  g_signal_connect (task, "notify::state", G_CALLBACK (record_state), states);
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpuint (states->len, ==, 2);
  g_assert_cmpint (g_array_index (states, NurseryTaskState, 0), ==, NURSERY_TASK_RUNNING);
  g_assert_cmpint (g_array_index (states, NurseryTaskState, 1), ==, NURSERY_TASK_SUCCEEDED);
}

/* R24 */

static void
test_bad_input (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "t", nt_child_return_int, GINT_TO_POINTER (1), NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*NURSERY_IS_TASK*");
  nursery_task_cancel (NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*error != NULL*");
  nursery_task_return_error (task, NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*NURSERY_IS_TASK*");
  g_assert_null (nursery_task_get_cancellable (NULL));
  g_test_assert_expected_messages ();

  error = nt_wait (group);
  g_assert_no_error (error);
}

/* R5, R8: the cancelled error names the task, named or not; an unnamed
 * task's message is a literal with the same text as the formatted one. */

static void
assert_cancelled_message (NurseryTask *task,
                          const char  *message)
{
  const GError *error = nursery_task_get_error (task);

  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, message);
}

static void
test_cancelled_error_messages (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryGroup) unstarted = nursery_group_new ();
  g_autoptr(NurseryTask) named = NULL, unnamed = NULL, named_pending = NULL, unnamed_pending = NULL;
  g_autoptr(GError) error = NULL;

  named = nursery_group_spawn (group, "fetch", nt_child_until_cancelled, NULL, NULL, NULL);
  unnamed = nursery_group_spawn (group, NULL, nt_child_until_cancelled, NULL, NULL, NULL);
  /* Both running, so they return the error themselves (R8). */
  NT_ITERATE_UNTIL (nursery_task_get_state (unnamed) == NURSERY_TASK_RUNNING);
  nursery_group_cancel (group);
  error = nt_wait (group);    /* the group's own outcome is not the point here */
  assert_cancelled_message (named, "Task “fetch” was cancelled");
  assert_cancelled_message (unnamed, "Task “(unnamed)” was cancelled");

  /* R5: cancelled before their turn came. */
  named_pending = nursery_group_spawn (unstarted, "parse", nt_child_never_called, NULL, NULL, NULL);
  unnamed_pending = nursery_group_spawn (unstarted, NULL, nt_child_never_called, NULL, NULL, NULL);
  nursery_group_cancel (unstarted);
  g_clear_error (&error);
  error = nt_wait (unstarted);
  assert_cancelled_message (named_pending, "Task “parse” was cancelled before it started");
  assert_cancelled_message (unnamed_pending, "Task “(unnamed)” was cancelled before it started");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nursery/task/R9/value-kept-after-cancel", test_value_kept_after_cancel);
  g_test_add_func ("/nursery/task/R13/cancel-one", test_cancel_one);
  g_test_add_func ("/nursery/task/R8/cancelled-error-messages", test_cancelled_error_messages);
  g_test_add_func ("/nursery/task/R13/cancellable/on-demand", test_cancellable_on_demand);
  g_test_add_func ("/nursery/task/R13/cancellable/created-after-cancel", test_cancellable_created_after_cancel);
  g_test_add_func ("/nursery/task/R9/result-kinds", test_result_kinds);
  g_test_add_func ("/nursery/task/R3/return-before-start", test_return_before_start);
  g_test_add_func ("/nursery/task/R10/wait", test_task_wait);
  g_test_add_func ("/nursery/task/R13/wait-cancellable-cancels-task", test_task_wait_cancellable_cancels_task);
  g_test_add_func ("/nursery/task/R8/error-readable", test_task_error_readable);
  g_test_add_func ("/nursery/task/R21/state-notify", test_state_notify);
  g_test_add_func ("/nursery/task/R24/bad-input", test_bad_input);

  return g_test_run ();
}
