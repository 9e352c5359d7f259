/* test-app-api.c: what real applications need (R7, R15, R21, R22, R27, R29)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>
#include <string.h>

#include "nursery-test-utils.h"

/* R29: a task-failed handler can take a failure over */

static gboolean
handle_if_named_handled (NurseryGroup *group,
                         NurseryTask  *task,
                         GError       *error,
                         gpointer      data)
{
  guint *emissions = data;

  (*emissions)++;
  /* The task has its outcome already: the same error. */
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (nursery_task_get_error (task)->message, ==, error->message);
  return g_str_has_prefix (nursery_task_get_name (task), "handled");
}

static void
test_task_failed_handled_not_kept (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) errors = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(GError) error = NULL;
  guint emissions = 0;

  nursery_group_set_policy (group, NURSERY_POLICY_SUPERVISE);
  g_signal_connect (group, "task-failed", G_CALLBACK (handle_if_named_handled), &emissions);
  nt_spawn (group, "handled 1", nt_child_fail, "one");
  nt_spawn (group, "kept", nt_child_fail, "two");
  nt_spawn (group, "handled 2", nt_child_fail, "three");
  nt_spawn (group, "fine", nt_child_return_int, GINT_TO_POINTER (1));

  error = nt_wait (group);
  /* The first *kept* failure, unchanged, decides the outcome. */
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "two");
  g_assert_cmpuint (emissions, ==, 3);
  g_assert_cmpuint (nursery_group_get_n_failed (group), ==, 3);
  errors = nursery_group_get_errors (group);
  g_assert_cmpuint (errors->len, ==, 1);
  names = nursery_group_get_failed_task_names (group);
  g_assert_cmpuint (g_strv_length (names), ==, 1);
  g_assert_cmpstr (names[0], ==, "kept");
}

static gboolean
handle_all (NurseryGroup *group,
            NurseryTask  *task,
            GError       *error,
            gpointer      data)
{
  return TRUE;
}

static void
test_task_failed_handled_no_fail_fast (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) sibling = NULL;
  g_autoptr(NurseryTask) failing = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(GError) error = NULL;

  g_signal_connect (group, "task-failed", G_CALLBACK (handle_all), NULL);
  sibling = nursery_group_spawn (group, "sibling", nt_child_until_cancelled, NULL, NULL, NULL);
  failing = nursery_group_spawn (group, "failing", nt_child_fail, "boom", NULL, NULL);
  NT_ITERATE_UNTIL (nursery_task_is_finished (failing));

  /* Handled under fail-fast: the sibling runs on, the group is fine. */
  g_assert_false (nursery_group_is_cancelled (group));
  g_assert_false (nursery_task_is_cancelled (sibling));
  g_assert_cmpint (nursery_task_get_state (failing), ==, NURSERY_TASK_FAILED);
  g_assert_cmpstr (nursery_task_get_error (failing)->message, ==, "boom");

  nursery_task_cancel (sibling);
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpuint (nursery_group_get_n_failed (group), ==, 1);
  errors = nursery_group_get_errors (group);
  g_assert_cmpuint (errors->len, ==, 0);
}

/* R29: unhandled failures are traceable to their tasks, in order */

static gboolean
handle_none (NurseryGroup *group,
             NurseryTask  *task,
             GError       *error,
             gpointer      data)
{
  g_ptr_array_add (data, g_object_ref (task));
  return FALSE;
}

static void
test_failed_task_names (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) errors = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(GError) error = NULL;

  nursery_group_set_policy (group, NURSERY_POLICY_SUPERVISE);
  g_signal_connect (group, "task-failed", G_CALLBACK (handle_none), seen);
  nt_spawn (group, "copy /etc/a", nt_child_fail, "Can’t copy special file");
  nt_spawn (group, NULL, nt_child_fail, "anonymous");
  nt_spawn (group, "copy /etc/b", nt_child_fail, "Permission denied");

  error = nt_wait (group);
  g_assert_cmpstr (error->message, ==, "Can’t copy special file");
  names = nursery_group_get_failed_task_names (group);
  errors = nursery_group_get_errors (group);
  g_assert_cmpuint (g_strv_length (names), ==, 3);
  g_assert_cmpuint (errors->len, ==, 3);
  g_assert_cmpstr (names[0], ==, "copy /etc/a");
  g_assert_cmpstr (names[1], ==, "");
  g_assert_cmpstr (names[2], ==, "copy /etc/b");
  g_assert_cmpstr (((GError *) errors->pdata[2])->message, ==, "Permission denied");
  /* The handler got every task with its error, in the same order. */
  g_assert_cmpuint (seen->len, ==, 3);
  g_assert_cmpstr (nursery_task_get_name (seen->pdata[2]), ==, "copy /etc/b");
}

/* R21: the spawn's user data, readable until task-finished ran */

typedef struct
{
  NurseryTask *task;
  int          step;
} MultiStep;

static gboolean
next_step_cb (gpointer data)
{
  NurseryTask *task = data;
  MultiStep *state = nursery_task_get_task_data (task);

  g_assert_true (state->task == task);
  if (++state->step < 3)
    return G_SOURCE_CONTINUE;
  nursery_task_return_int (task, state->step);
  return G_SOURCE_REMOVE;
}

static void
multi_step (NurseryTask *task,
            gpointer     data)
{
  MultiStep *state = data;

  g_assert_true (nursery_task_get_task_data (task) == data);
  state->task = task;
  g_idle_add (next_step_cb, task);
}

static void
log_event (GString    *log,
           const char *event)
{
  g_string_append (log, event);
  g_string_append_c (log, ' ');
}

static void
read_data_in_task_finished (NurseryGroup *group,
                            NurseryTask  *task,
                            gpointer      data)
{
  MultiStep *state = nursery_task_get_task_data (task);

  g_assert_nonnull (state);
  g_assert_cmpint (state->step, ==, 3);
  log_event (data, "task-finished");
}

static void
destroy_step (gpointer data)
{
  MultiStep *state = data;
  GString *log = g_object_get_data (G_OBJECT (state->task), "log");

  log_event (log, "destroy");
  g_free (state);
}

static void
test_task_data_and_destroy_order (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(NurseryTask) task = NULL;
  g_autoptr(GError) error = NULL;

  g_signal_connect (group, "task-finished", G_CALLBACK (read_data_in_task_finished), log);
  task = nursery_group_spawn (group, "steps", multi_step, g_new0 (MultiStep, 1), destroy_step, NULL);
  g_object_set_data (G_OBJECT (task), "log", log);

  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpint (nursery_task_get_int (task), ==, 3);
  /* The destroy notify comes after task-finished, then the data is gone. */
  g_assert_cmpstr (log->str, ==, "task-finished destroy ");
  g_assert_null (nursery_task_get_task_data (task));
}

/* R21: n-succeeded, n-cancelled, n-spawned, notified once per batch */

static void
test_counters (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  guint spawned_notifies = 0, succeeded_notifies = 0, cancelled_notifies = 0;
  guint n_spawned = 0, n_succeeded = 0, n_cancelled = 0;

  nursery_group_set_policy (group, NURSERY_POLICY_SUPERVISE);
  g_signal_connect (group, "notify::n-spawned", G_CALLBACK (nt_count_notify), &spawned_notifies);
  g_signal_connect (group, "notify::n-succeeded", G_CALLBACK (nt_count_notify), &succeeded_notifies);
  g_signal_connect (group, "notify::n-cancelled", G_CALLBACK (nt_count_notify), &cancelled_notifies);

  for (int i = 0; i < 5; i++)
    nt_spawn (group, "ok", nt_child_return_int, GINT_TO_POINTER (i));
  nt_spawn (group, "bad", nt_child_fail, "bad");
  for (int i = 0; i < 3; i++)
    nt_spawn (group, "waits", nt_child_until_cancelled, NULL);
  g_assert_cmpuint (nursery_group_get_n_spawned (group), ==, 9);
  /* Never inside spawn(). */
  g_assert_cmpuint (spawned_notifies, ==, 0);

  /* The first batch starts everything; the five return inside it. */
  NT_ITERATE_UNTIL (nursery_group_get_n_succeeded (group) >= 5);
  g_assert_cmpuint (spawned_notifies, ==, 1);
  g_assert_cmpuint (succeeded_notifies, ==, 1);

  nursery_group_cancel (group);
  g_clear_error (&(GError *) { nt_wait (group) });
  g_object_get (group, "n-spawned", &n_spawned, "n-succeeded", &n_succeeded,
                "n-cancelled", &n_cancelled, NULL);
  g_assert_cmpuint (n_spawned, ==, 9);
  g_assert_cmpuint (n_succeeded, ==, 5);
  g_assert_cmpuint (n_cancelled, ==, 3);
  g_assert_cmpuint (nursery_group_get_n_cancelled (group), ==, 3);
  g_assert_cmpuint (nursery_group_get_n_failed (group), ==, 1);
  g_assert_cmpuint (nursery_group_get_n_finished (group), ==, 9);
  g_assert_cmpuint (cancelled_notifies, ==, 1);
}

/* R21: a task's progress, set from a thread, notified on the owner context */

typedef struct
{
  GThread *owner;
  guint    notifies;
  double   last;
} ProgressWatch;

static void
progress_notified (GObject    *object,
                   GParamSpec *pspec,
                   gpointer    data)
{
  ProgressWatch *watch = data;

  g_assert_true (g_thread_self () == watch->owner);
  watch->notifies++;
  watch->last = nursery_task_get_progress (NURSERY_TASK (object));
}

static void
report_progress_in_thread (NurseryTask *task,
                           gpointer     data)
{
  for (int i = 1; i <= 2000; i++)
    nursery_task_set_progress (task, i / 2000.0);
}

static void
test_progress_from_thread (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = NULL;
  g_autoptr(GError) error = NULL;
  ProgressWatch watch = { g_thread_self (), 0, -1.0 };

  task = nursery_group_spawn_in_thread (group, "hash", report_progress_in_thread, NULL, NULL, NULL);
  g_assert_cmpfloat (nursery_task_get_progress (task), ==, -1.0);
  g_signal_connect (task, "notify::progress", G_CALLBACK (progress_notified), &watch);

  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpfloat (nursery_task_get_progress (task), ==, 1.0);
  g_assert_cmpfloat (watch.last, ==, 1.0);
  /* Coalesced: far fewer notifications than the 2000 updates. */
  g_assert_cmpuint (watch.notifies, >=, 1);
  g_assert_cmpuint (watch.notifies, <, 2000);
  g_test_message ("2000 updates, %u notifications", watch.notifies);
}

static void
test_progress_bad_input (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "t", nt_child_return_int, NULL, NULL, NULL);

  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*nursery_task_set_progress*");
  nursery_task_set_progress (task, 1.5);
  g_test_assert_expected_messages ();
  g_assert_cmpfloat (nursery_task_get_progress (task), ==, -1.0);
  g_clear_error (&(GError *) { nt_wait (group) });
}

/* R15, R16: per-task cleanups, shielded, bounded, waited for */

typedef struct
{
  GString *log;
  gboolean cancelled_at_start;
} CleanupLog;

static gboolean
cleanup_done_cb (gpointer task)
{
  CleanupLog *log = nursery_task_get_task_data (task);

  g_string_append (log->log, "cleaned ");
  nursery_task_return_boolean (task, TRUE);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

/* Asynchronous: it finishes from a timeout, after the group was cancelled. */
static void
async_cleanup (NurseryTask *task,
               gpointer     data)
{
  CleanupLog *log = data;

  log->cancelled_at_start = nursery_task_is_cancelled (task);
  g_string_append (log->log, "cleanup ");
  g_timeout_add (5, cleanup_done_cb, g_object_ref (task));
}

static void
add_cleanup_then_wait (NurseryTask *task,
                       gpointer     data)
{
  nursery_task_add_cleanup (task, G_USEC_PER_SEC * 10, async_cleanup, data, NULL);
  nt_child_until_cancelled (task, NULL);
}

static void
test_cleanup_on_cancel (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = NULL;
  g_autoptr(GError) error = NULL;
  CleanupLog log = { g_string_new (NULL), TRUE };

  task = nursery_group_spawn (group, "writer", add_cleanup_then_wait, &log, NULL, NULL);
  nt_wait_until_running (task);
  nursery_group_cancel (group);
  error = nt_wait (group);

  /* The group waited for the cleanup, which ran although it was cancelled. */
  g_assert_cmpstr (log.log->str, ==, "cleanup cleaned ");
  g_assert_false (log.cancelled_at_start);
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_CANCELLED);
  g_assert_cmpuint (nursery_group_get_n_spawned (group), ==, 2);
  g_assert_cmpuint (nursery_group_get_n_succeeded (group), ==, 1);
  g_string_free (log.log, TRUE);
}

static void
add_cleanup_then_fail (NurseryTask *task,
                       gpointer     data)
{
  nursery_task_add_cleanup (task, -1, async_cleanup, data, NULL);
  nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "disk full");
}

static void
test_cleanup_on_failure (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  CleanupLog log = { g_string_new (NULL), TRUE };

  nt_spawn (group, "writer", add_cleanup_then_fail, &log);
  error = nt_wait (group);
  /* Fail-fast cancelled the group, the shielded cleanup ran all the same. */
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_assert_cmpstr (log.log->str, ==, "cleanup cleaned ");
  g_assert_false (log.cancelled_at_start);
  g_string_free (log.log, TRUE);
}

static void
add_cleanup_then_succeed (NurseryTask *task,
                          gpointer     data)
{
  nursery_task_add_cleanup (task, -1, nt_child_never_called, data, nt_count_destroy);
  nursery_task_return_boolean (task, TRUE);
}

static void
test_cleanup_dropped_on_success (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  guint destroyed = 0;

  nt_spawn (group, "writer", add_cleanup_then_succeed, &destroyed);
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpuint (destroyed, ==, 1);
  g_assert_cmpuint (nursery_group_get_n_spawned (group), ==, 1);
}

static void
add_stuck_cleanup (NurseryTask *task,
                   gpointer     data)
{
  /* Shielded, the cleanup outlives the group's cancel: only its own
   * timeout can end it. */
  nursery_task_add_cleanup (task, 20 * 1000, nt_child_until_cancelled, NULL, NULL);
  nt_child_until_cancelled (task, NULL);
}

static void
test_cleanup_timeout (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;

  task = nursery_group_spawn (group, "conn", add_stuck_cleanup, NULL, NULL, NULL);
  nt_wait_until_running (task);
  nursery_group_cancel (group);
  error = nt_wait (group);
  /* R17: its own deadline cancelled it, so it failed with TIMED_OUT. */
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  names = nursery_group_get_failed_task_names (group);
  g_assert_cmpstr (names[0], ==, "conn cleanup");
}

static void
test_cleanup_bad_input (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "t", nt_child_return_int, NULL, NULL, NULL);
  guint destroyed = 0;

  g_clear_error (&(GError *) { nt_wait (group) });
  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*already finished*");
  nursery_task_add_cleanup (task, -1, nt_child_never_called, &destroyed, nt_count_destroy);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (destroyed, ==, 1);

  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  nursery_task_add_cleanup (task, -1, NULL, &destroyed, nt_count_destroy);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (destroyed, ==, 2);
}

/* R7: a task finishes with its nested group's outcome */

static void
nested_fails (NurseryTask *task,
              gpointer     data)
{
  NurseryGroup *nested = nursery_group_new_for_task (task);

  nt_spawn (nested, "ok", nt_child_return_int, GINT_TO_POINTER (1));
  nt_spawn (nested, "bad", nt_child_fail, "nested failure");
  nursery_task_return_from_group (task, nested);
  g_object_unref (nested);
}

static void
nested_succeeds (NurseryTask *task,
                 gpointer     data)
{
  NurseryGroup *nested = nursery_group_new_for_task (task);

  nursery_group_set_policy (nested, NURSERY_POLICY_RACE);
  nt_spawn (nested, "fast", nt_child_return_int, GINT_TO_POINTER (42));
  nursery_task_return_from_group (task, nested);
  g_object_unref (nested);
}

static void
nested_waits (NurseryTask *task,
              gpointer     data)
{
  NurseryGroup *nested = nursery_group_new_for_task (task);

  nt_spawn (nested, "waits", nt_child_until_cancelled, NULL);
  nursery_task_return_from_group (task, nested);
  g_object_unref (nested);
}

static void
test_return_from_group (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) failing = NULL;
  g_autoptr(NurseryTask) racing = NULL;
  g_autoptr(NurseryTask) waiting = NULL;
  g_autoptr(GError) error = NULL;

  nursery_group_set_policy (group, NURSERY_POLICY_SUPERVISE);
  failing = nursery_group_spawn (group, "failing", nested_fails, NULL, NULL, NULL);
  racing = nursery_group_spawn (group, "racing", nested_succeeds, NULL, NULL, NULL);
  waiting = nursery_group_spawn (group, "waiting", nested_waits, NULL, NULL, NULL);
  NT_ITERATE_UNTIL (nursery_task_is_finished (failing) && nursery_task_is_finished (racing));
  nursery_task_cancel (waiting);
  error = nt_wait (group);

  /* The nested failure comes back unchanged. */
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "nested failure");
  g_assert_cmpint (nursery_task_get_state (failing), ==, NURSERY_TASK_FAILED);
  /* A race's winner hands on its value. */
  g_assert_cmpint (nursery_task_get_state (racing), ==, NURSERY_TASK_SUCCEEDED);
  g_assert_cmpint (nursery_task_get_int (racing), ==, 42);
  /* Cancelled task, cancelled nested group: cancelled, not failed. */
  g_assert_cmpint (nursery_task_get_state (waiting), ==, NURSERY_TASK_CANCELLED);
}

/* R22: which signal cancelled the group, and a second one escalates */

static void
test_signal_number (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "t", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  nursery_group_set_name (group, "server");
  nursery_group_cancel_on_unix_signal (group, SIGINT);
  nursery_group_cancel_on_unix_signal (group, SIGTERM);
  g_assert_cmpint (nursery_group_get_cancel_signal (group), ==, 0);
  nt_wait_until_running (task);
  raise (SIGTERM);
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "Group “server” was cancelled by a Unix signal (SIGTERM)");
  g_assert_cmpint (nursery_group_get_cancel_signal (group), ==, SIGTERM);
}

static void
test_signal_not_the_cause (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();

  nursery_group_cancel_on_unix_signal (group, SIGHUP);
  nursery_group_cancel (group);
  g_clear_error (&(GError *) { nt_wait (group) });
  g_assert_cmpint (nursery_group_get_cancel_signal (group), ==, 0);
}

static void
test_second_signal_escalates (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) plain = nursery_group_spawn (group, "plain", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(NurseryTask) shielded = nursery_group_spawn (group, "shielded", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  nursery_task_set_shielded (shielded, TRUE);
  nursery_group_cancel_on_unix_signal (group, SIGINT);
  nt_wait_until_running (shielded);

  raise (SIGINT);
  NT_ITERATE_UNTIL (nursery_task_is_finished (plain));
  /* The first one is graceful: the shielded child runs on. */
  g_assert_false (nursery_task_is_cancelled (shielded));

  raise (SIGINT);
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (nursery_task_get_state (shielded), ==, NURSERY_TASK_CANCELLED);
  g_assert_cmpint (nursery_group_get_cancel_signal (group), ==, SIGINT);
}

/* R6, R23: a GApplication held by a group */

typedef struct
{
  NurseryGroup *group;
  NurseryTask  *task;
  gboolean      quit;
  GError       *outcome;
  gboolean      joined;
} AppRun;

static gboolean
return_later_cb (gpointer task)
{
  nursery_task_return_int (task, 5);
  return G_SOURCE_REMOVE;
}

static void
return_after_a_while (NurseryTask *task,
                      gpointer     data)
{
  g_timeout_add (20, return_later_cb, task);
}

static gboolean
quit_app_cb (gpointer app)
{
  g_application_quit (app);
  return G_SOURCE_REMOVE;
}

static void
app_joined_cb (GObject      *group,
               GAsyncResult *result,
               gpointer      data)
{
  AppRun *run = data;

  run->joined = TRUE;
  (void) nursery_group_wait_finish (NURSERY_GROUP (group), result, &run->outcome);
}

static void
activate_cb (GApplication *app,
             gpointer      data)
{
  AppRun *run = data;

  run->group = nursery_group_new ();
  run->task = nursery_group_spawn (run->group, "work",
                                   run->quit ? nt_child_until_cancelled : return_after_a_while,
                                   NULL, NULL, NULL);
  nursery_group_hold_application (run->group, app);
  /* Joined (and closed) by whoever; the outcome is noted. */
  nursery_group_wait_async (run->group, NULL, app_joined_cb, run);
  if (run->quit)
    g_idle_add (quit_app_cb, app);
}

static void
run_app (AppRun *run)
{
  g_autoptr(GApplication) app = g_application_new (NULL, G_APPLICATION_NON_UNIQUE);

  g_signal_connect (app, "activate", G_CALLBACK (activate_cb), run);
  g_assert_cmpint (g_application_run (app, 0, NULL), ==, 0);
}

static void
test_hold_application (void)
{
  AppRun run = { NULL, NULL, FALSE, NULL, FALSE };

  /* Without the hold, run() would return right after activate. */
  run_app (&run);
  g_assert_true (run.joined);
  g_assert_no_error (run.outcome);
  g_assert_cmpint (nursery_task_get_state (run.task), ==, NURSERY_TASK_SUCCEEDED);
  g_assert_true (nursery_group_is_closed (run.group));
  g_object_unref (run.task);
  g_object_unref (run.group);
}

static void
test_hold_application_shutdown_joins (void)
{
  AppRun run = { NULL, NULL, TRUE, NULL, FALSE };

  /* quit() while a child runs: shutdown cancels the group and joins it.
   * The cancellation is from outside (R7), as a Unix signal's: the
   * waiter learns its work was cut short. */
  run_app (&run);
  g_assert_true (run.joined);
  g_assert_error (run.outcome, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_nonnull (strstr (run.outcome->message, "shutdown"));
  g_clear_error (&run.outcome);
  g_assert_cmpint (nursery_task_get_state (run.task), ==, NURSERY_TASK_CANCELLED);
  g_assert_true (nursery_group_is_closed (run.group));
  g_object_unref (run.task);
  g_object_unref (run.group);
}

static void
test_hold_application_group_dropped (void)
{
  g_autoptr(GApplication) app = g_application_new (NULL, G_APPLICATION_NON_UNIQUE);
  NurseryGroup *group = nursery_group_new ();

  /* A group that goes without closing releases the application too (and
   * leaves no handler behind: valgrind would see the link leak). */
  nursery_group_hold_application (group, app);
  g_object_unref (group);
  g_assert_cmpuint (g_signal_handlers_disconnect_matched (app, G_SIGNAL_MATCH_ID,
                                                          g_signal_lookup ("shutdown", G_TYPE_APPLICATION),
                                                          0, NULL, NULL, NULL), ==, 0);
}

/* R27: list_tasks announces a batch's changes in ranges */

static void
test_list_ranges (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GListModel) model = nursery_group_list_tasks (group);
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (NtChange));
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(NurseryTask) item = NULL;
  g_autoptr(GError) error = NULL;
  NtChange *change;

  g_signal_connect (model, "items-changed", G_CALLBACK (nt_record_items_changed), changes);
  for (int i = 0; i < 100; i++)
    g_ptr_array_add (tasks, nursery_group_spawn (group, NULL, nt_child_until_cancelled, NULL, NULL, NULL));
  nt_wait_until_running (tasks->pdata[99]);
  /* 100 spawns, one batch, one range. */
  g_assert_cmpuint (changes->len, ==, 1);
  change = &g_array_index (changes, NtChange, 0);
  g_assert_cmpuint (change->position, ==, 0);
  g_assert_cmpuint (change->added, ==, 100);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 100);

  /* Positions 10–19 and 50 finish in one batch: two ranges. */
  for (int i = 10; i < 20; i++)
    nursery_task_cancel (tasks->pdata[i]);
  nursery_task_cancel (tasks->pdata[50]);
  NT_ITERATE_UNTIL (nursery_task_is_finished (tasks->pdata[50]));
  g_assert_cmpuint (changes->len, ==, 3);
  change = &g_array_index (changes, NtChange, 1);
  g_assert_cmpuint (change->position, ==, 50);
  g_assert_cmpuint (change->removed, ==, 1);
  change = &g_array_index (changes, NtChange, 2);
  g_assert_cmpuint (change->position, ==, 10);
  g_assert_cmpuint (change->removed, ==, 10);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 89);
  item = g_list_model_get_item (model, 10);
  g_assert_true (item == tasks->pdata[20]);

  /* The rest finish together: one range. */
  nursery_group_cancel (group);
  error = nt_wait (group);
  g_assert_cmpuint (changes->len, ==, 4);
  change = &g_array_index (changes, NtChange, 3);
  g_assert_cmpuint (change->position, ==, 0);
  g_assert_cmpuint (change->removed, ==, 89);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
}

/* Cancels its group, then returns. */
static void
cancel_group_then_return (NurseryTask *task,
                          gpointer     data)
{
  nursery_group_cancel (nursery_task_get_group (task));
  nursery_task_return_boolean (task, TRUE);
}

/* task-finished: the reported task must have left the list already. */
static void
assert_unlisted (NurseryGroup *group,
                 NurseryTask  *task,
                 gpointer      model)
{
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(NurseryTask) item = g_list_model_get_item (model, i);

      g_assert_true (item != task);
    }
}

static void
test_list_ranges_cancelled_at_turn (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GListModel) model = nursery_group_list_tasks (group);
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (NtChange));
  guint destroyed = 0;
  NtChange *change;

  g_signal_connect (model, "items-changed", G_CALLBACK (nt_record_items_changed), changes);
  g_signal_connect (group, "task-finished", G_CALLBACK (assert_unlisted), model);
  g_object_unref (nursery_group_spawn (group, "a", cancel_group_then_return, NULL, NULL, NULL));
  for (int i = 0; i < 4; i++)
    g_object_unref (nursery_group_spawn (group, NULL, nt_child_never_called, &destroyed,
                                         nt_count_destroy, NULL));
  g_assert_null (nt_wait (group));
  g_assert_cmpuint (destroyed, ==, 4);

  /* One batch adds the five; a, run first, cancels the group, so the four
   * after it, taken out by the same batch, finish at their turn (R5).
   * They leave together, before they are reported, then a leaves. */
  g_assert_cmpuint (changes->len, ==, 3);
  change = &g_array_index (changes, NtChange, 1);
  g_assert_cmpuint (change->position, ==, 1);
  g_assert_cmpuint (change->removed, ==, 4);
  change = &g_array_index (changes, NtChange, 2);
  g_assert_cmpuint (change->position, ==, 0);
  g_assert_cmpuint (change->removed, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nursery/group/R29/task-failed/handled-not-kept", test_task_failed_handled_not_kept);
  g_test_add_func ("/nursery/group/R29/task-failed/handled-no-fail-fast", test_task_failed_handled_no_fail_fast);
  g_test_add_func ("/nursery/group/R29/failed-task-names", test_failed_task_names);
  g_test_add_func ("/nursery/task/R21/task-data-and-destroy-order", test_task_data_and_destroy_order);
  g_test_add_func ("/nursery/group/R21/counters", test_counters);
  g_test_add_func ("/nursery/task/R21/progress/from-thread", test_progress_from_thread);
  g_test_add_func ("/nursery/task/R24/progress/bad-input", test_progress_bad_input);
  g_test_add_func ("/nursery/task/R15/cleanup/on-cancel", test_cleanup_on_cancel);
  g_test_add_func ("/nursery/task/R15/cleanup/on-failure", test_cleanup_on_failure);
  g_test_add_func ("/nursery/task/R15/cleanup/dropped-on-success", test_cleanup_dropped_on_success);
  g_test_add_func ("/nursery/task/R17/cleanup/timeout", test_cleanup_timeout);
  g_test_add_func ("/nursery/task/R24/cleanup/bad-input", test_cleanup_bad_input);
  g_test_add_func ("/nursery/task/R7/return-from-group", test_return_from_group);
  g_test_add_func ("/nursery/group/R22/signal/number", test_signal_number);
  g_test_add_func ("/nursery/group/R22/signal/not-the-cause", test_signal_not_the_cause);
  g_test_add_func ("/nursery/group/R22/signal/second-escalates", test_second_signal_escalates);
  g_test_add_func ("/nursery/group/R6/hold-application/released-on-close", test_hold_application);
  g_test_add_func ("/nursery/group/R7/hold-application/shutdown-joins-cancelled", test_hold_application_shutdown_joins);
  g_test_add_func ("/nursery/group/R20/hold-application/group-dropped", test_hold_application_group_dropped);
  g_test_add_func ("/nursery/streams/R27/list-ranges", test_list_ranges);
  g_test_add_func ("/nursery/streams/R27/list-ranges-cancelled-at-turn",
                   test_list_ranges_cancelled_at_turn);

  return g_test_run ();
}
