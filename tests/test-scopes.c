/* test-scopes.c: deadlines, shielding, nesting, start, limits, signals,
 * cleanups, tree dumps (R14–R19, R21, R22)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>

#include "nursery-test-utils.h"

#define HOUR ((gint64) G_USEC_PER_SEC * 3600)

/* R17: a task's own deadline turns its cancellation into TIMED_OUT */

static void
test_task_deadline_times_out (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "slow", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(NurseryTask) sibling = nursery_group_spawn (group, "sibling", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  nursery_task_set_timeout (task, 1000);
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_FAILED);
  g_assert_error (nursery_task_get_error (task), G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  /* A failure: under fail-fast it cancelled the sibling. */
  g_assert_cmpint (nursery_task_get_state (sibling), ==, NURSERY_TASK_CANCELLED);
  g_assert_cmpuint (nursery_group_get_n_failed (group), ==, 1);
}

/* R16: a past deadline fires on the next iteration */

static void
test_task_deadline_past_fires_next_iteration (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "t", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  nt_wait_until_running (task);
  nursery_task_set_deadline (task, g_get_monotonic_time () - G_USEC_PER_SEC);
  g_assert_false (nursery_task_is_cancelled (task));
  g_main_context_iteration (NULL, FALSE);
  g_assert_true (nursery_task_is_cancelled (task));
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

/* R16: moving a deadline later avoids it; earlier brings it forward */

static void
test_task_deadline_moved_later (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "t", nt_child_return_int_from_idle, GINT_TO_POINTER (5), NULL, NULL);
  g_autoptr(GError) error = NULL;

  nursery_task_set_deadline (task, g_get_monotonic_time ());
  nursery_task_set_deadline (task, g_get_monotonic_time () + HOUR);
  g_assert_cmpint (nursery_task_get_deadline (task), >, g_get_monotonic_time ());
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_SUCCEEDED);
}

static void
test_task_deadline_moved_earlier (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "t", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  nursery_task_set_deadline (task, g_get_monotonic_time () + HOUR);
  nt_wait_until_running (task);
  nursery_task_set_deadline (task, g_get_monotonic_time () - 1);
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

static void
test_task_deadline_cleared (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "t", nt_child_return_int_from_idle, GINT_TO_POINTER (5), NULL, NULL);
  g_autoptr(GError) error = NULL;

  /* Many moves re-arm one source; only the last setting counts. */
  for (int i = 0; i < 1000; i++)
    nursery_task_set_deadline (task, g_get_monotonic_time () - i);
  nursery_task_clear_deadline (task);
  g_assert_cmpint (nursery_task_get_deadline (task), ==, -1);
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_SUCCEEDED);
}

/* R24: a huge timeout means "never", not an overflow */

static void
test_timeout_saturates (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "t", nt_child_return_int_from_idle, GINT_TO_POINTER (5), NULL, NULL);
  g_autoptr(GError) error = NULL;

  nursery_task_set_timeout (task, G_MAXINT64);
  nursery_group_set_timeout (group, G_MAXINT64);
  g_assert_cmpint (nursery_task_get_deadline (task), ==, G_MAXINT64);
  g_assert_cmpint (nursery_group_get_deadline (group), ==, G_MAXINT64);
  error = nt_wait (group);
  g_assert_no_error (error);
}

/* R7, R16: a group deadline makes wait fail with TIMED_OUT, late by a bounded amount */

static void
test_group_deadline (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "t", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 20 * 1000;
  gint64 returned;

  nursery_group_set_deadline (group, deadline);
  g_assert_cmpint (nursery_group_get_deadline (group), ==, deadline);
  error = nt_wait (group);
  returned = g_get_monotonic_time ();
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_CANCELLED);
  /* Never early; the upper bound is generous for a loaded machine. */
  g_assert_cmpint (returned, >=, deadline);
  g_assert_cmpint (returned - deadline, <, 2 * G_USEC_PER_SEC);
}

static void
test_group_deadline_failure_wins (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;

  nursery_group_set_policy (group, NURSERY_POLICY_SUPERVISE);
  nt_spawn (group, "fails", nt_child_fail, (gpointer) "real failure");
  nt_spawn (group, "waits", nt_child_until_cancelled, NULL);
  nursery_group_set_timeout (group, 1000);
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_true (nursery_group_is_cancelled (group));
}

static void
test_group_deadline_moved_later (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;

  nt_spawn (group, "t", nt_child_return_int_from_idle, GINT_TO_POINTER (5));
  nursery_group_set_deadline (group, g_get_monotonic_time () - 1);
  nursery_group_set_timeout (group, HOUR);
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_false (nursery_group_is_cancelled (group));
}

/* R15: a shielded task ignores group cancellation and is still awaited */

static void
test_shield_task (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) shielded = nursery_group_spawn (group, "shielded", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(NurseryTask) plain = nursery_group_spawn (group, "plain", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  nursery_task_set_shielded (shielded, TRUE);
  g_assert_true (nursery_task_get_shielded (shielded));
  nt_wait_until_running (shielded);
  nursery_group_cancel (group);
  nursery_group_set_deadline (group, g_get_monotonic_time () - 1);
  NT_ITERATE_UNTIL (nursery_task_is_finished (plain));
  g_assert_false (nursery_task_is_cancelled (shielded));
  g_assert_false (nursery_task_is_finished (shielded));

  /* Its own cancel still reaches it; the group waited for it. */
  nursery_task_cancel (shielded);
  error = nt_wait (group);
  g_assert_no_error (error);  /* R7: the owner's own cancel is quiet */
  g_assert_cmpint (nursery_task_get_state (shielded), ==, NURSERY_TASK_CANCELLED);
}

/* R15, R17: a shielded task with its own expired deadline in a cancelled group times out */

static void
test_shield_keeps_own_deadline (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "shielded", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  nursery_task_set_shielded (task, TRUE);
  nt_wait_until_running (task);
  nursery_group_cancel (group);
  g_assert_false (nursery_task_is_cancelled (task));
  nursery_task_set_deadline (task, g_get_monotonic_time () - 1);
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_FAILED);
}

/* R15: unshielding inside a cancelled group cancels the task then */

static void
test_unshield_in_cancelled_group (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "t", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  nursery_task_set_shielded (task, TRUE);
  nt_wait_until_running (task);
  nursery_group_cancel (group);
  g_assert_false (nursery_task_is_cancelled (task));
  nursery_task_set_shielded (task, FALSE);
  g_assert_true (nursery_task_is_cancelled (task));
  error = nt_wait (group);
  g_assert_no_error (error);  /* R7: the owner's own cancel is quiet */
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_CANCELLED);
}

/* R5, R15: spawned into a cancelled group and shielded at once, it runs */

static void
test_shield_spawn_into_cancelled (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) cleanup = NULL;
  g_autoptr(NurseryTask) plain = NULL;
  g_autoptr(GError) error = NULL;

  nursery_group_cancel (group);
  cleanup = nursery_group_spawn (group, "cleanup", nt_child_return_int_from_idle, GINT_TO_POINTER (5), NULL, NULL);
  nursery_task_set_shielded (cleanup, TRUE);
  plain = nursery_group_spawn (group, "plain", nt_child_never_called, NULL, NULL, NULL);
  error = nt_wait (group);
  g_assert_no_error (error);  /* R7: the owner's own cancel is quiet */
  g_assert_cmpint (nursery_task_get_state (cleanup), ==, NURSERY_TASK_SUCCEEDED);
  g_assert_cmpint (nursery_task_get_state (plain), ==, NURSERY_TASK_CANCELLED);
}

/* R14: parent cancellation reaches a nested group and all its children */

typedef struct
{
  NurseryGroup *inner;
  NurseryTask  *inner_child;
} Nested;

static void
open_nested_group (NurseryTask *task,
                   gpointer     data)
{
  Nested *nested = data;

  nested->inner = nursery_group_new_for_task (task);
  nursery_group_set_name (nested->inner, "inner");
  nested->inner_child = nursery_group_spawn (nested->inner, "inner-child", nt_child_until_cancelled, NULL, NULL, NULL);
}

static void
test_nested_cancelled_by_parent (void)
{
  g_autoptr(NurseryGroup) outer = nursery_group_new ();
  g_autoptr(NurseryTask) parent = NULL;
  g_autoptr(GError) inner_error = NULL;
  g_autoptr(GError) error = NULL;
  Nested nested = { NULL, NULL };

  parent = nursery_group_spawn (outer, "parent", open_nested_group, &nested, NULL, NULL);
  nt_wait_until_running (parent);
  nt_wait_until_running (nested.inner_child);

  nursery_group_cancel (outer);
  g_assert_true (nursery_group_is_cancelled (nested.inner));
  inner_error = nt_wait (nested.inner);
  g_assert_error (inner_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (nursery_task_get_state (nested.inner_child), ==, NURSERY_TASK_CANCELLED);

  nursery_task_return_error_if_cancelled (parent);
  error = nt_wait (outer);
  g_assert_no_error (error);  /* R7: the owner's own cancel is quiet */
  g_clear_object (&nested.inner_child);
  g_clear_object (&nested.inner);
}

/* R14, R5: a nested group created under an already-cancelled task never runs its children */

static void
cancel_self_then_nest (NurseryTask *task,
                       gpointer     data)
{
  nursery_task_cancel (task);
  open_nested_group (task, data);
  nursery_task_return_error_if_cancelled (task);
}

static void
test_nested_under_cancelled_task (void)
{
  g_autoptr(NurseryGroup) outer = nursery_group_new ();
  g_autoptr(GError) inner_error = NULL;
  g_autoptr(GError) error = NULL;
  Nested nested = { NULL, NULL };
  guint destroyed = 0;
  g_autoptr(NurseryTask) never = NULL;

  nt_spawn (outer, "parent", cancel_self_then_nest, &nested);
  error = nt_wait (outer);
  g_assert_no_error (error);
  g_assert_true (nursery_group_is_cancelled (nested.inner));

  never = nursery_group_spawn (nested.inner, "never", nt_child_never_called, &destroyed, nt_count_destroy, NULL);
  inner_error = nt_wait (nested.inner);
  g_assert_error (inner_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (nursery_task_get_state (nested.inner_child), ==, NURSERY_TASK_CANCELLED);
  g_assert_cmpint (nursery_task_get_state (never), ==, NURSERY_TASK_CANCELLED);
  g_assert_cmpuint (destroyed, ==, 1);
  g_clear_object (&nested.inner_child);
  g_clear_object (&nested.inner);
}

static void
test_nested_with_cancellable (void)
{
  g_autoptr(GCancellable) parent = g_cancellable_new ();
  g_autoptr(NurseryGroup) group = nursery_group_new_with_cancellable (parent);
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "t", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  nt_wait_until_running (task);
  g_cancellable_cancel (parent);
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_CANCELLED);
}

/* R15: a shielded nested group ignores its parent; unshielding cancels it then */

static void
test_nested_shielded (void)
{
  g_autoptr(GCancellable) parent = g_cancellable_new ();
  g_autoptr(NurseryGroup) group = nursery_group_new_with_cancellable (parent);
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "t", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  nursery_group_set_shielded (group, TRUE);
  nt_wait_until_running (task);
  g_cancellable_cancel (parent);
  g_assert_false (nursery_group_is_cancelled (group));
  g_assert_false (nursery_task_is_cancelled (task));

  nursery_group_set_shielded (group, FALSE);
  g_assert_true (nursery_group_is_cancelled (group));
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* R14, R21: the tree dump shows nested groups and tasks */

/* Every "age X ms" of @tree, in order: none negative, and none older
 * than the line before it, as each of them was born after it. */
static void
assert_ages_in_birth_order (const char *tree)
{
  const char *at = tree;
  double previous = G_MAXDOUBLE;
  guint n = 0;

  while ((at = strstr (at, " age ")) != NULL)
    {
      char *end = NULL;
      double age = g_ascii_strtod (at + strlen (" age "), &end);

      g_assert_true (end != NULL && g_str_has_prefix (end, " ms"));
      g_assert_cmpfloat (age, >=, 0);
      g_assert_cmpfloat (age, <=, previous);
      previous = age;
      at = end;
      n++;
    }
  g_assert_cmpuint (n, ==, 4);
}

static void
test_dump_tree (void)
{
  g_autoptr(NurseryGroup) outer = g_object_new (NURSERY_TYPE_GROUP, "name", "outer", NULL);
  g_autoptr(NurseryTask) parent = NULL;
  g_autofree char *tree = NULL;
  g_autoptr(GError) error = NULL;
  Nested nested = { NULL, NULL };

  parent = nursery_group_spawn (outer, "parent", open_nested_group, &nested, NULL, NULL);
  nt_wait_until_running (parent);
  nt_wait_until_running (nested.inner_child);
  nursery_task_set_shielded (nested.inner_child, TRUE);
  nursery_task_set_timeout (nested.inner_child, HOUR);

  tree = nursery_group_dump_tree (outer);
  g_test_message ("%s", tree);
  g_assert_nonnull (strstr (tree, "group “outer” [open]"));
  g_assert_nonnull (strstr (tree, "└─ task “parent” [running]"));
  g_assert_nonnull (strstr (tree, "   group “inner” [open]"));
  g_assert_nonnull (strstr (tree, "task “inner-child” [running, shielded]"));
  g_assert_nonnull (strstr (tree, "deadline in "));
  assert_ages_in_birth_order (tree);

  nursery_task_cancel (nested.inner_child);
  g_clear_error (&error);
  error = nt_wait (nested.inner);
  g_assert_no_error (error);
  nursery_task_return_int (parent, 1);
  g_clear_error (&error);
  error = nt_wait (outer);
  g_assert_no_error (error);
  g_clear_object (&nested.inner_child);
  g_clear_object (&nested.inner);
}

/* R18: the start handshake */

typedef struct
{
  NurseryTask *task;
  GError      *error;
  GValue       value;
  gboolean     done;
} Start;

static void
start_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  Start *start = data;

  start->task = nursery_group_start_finish (NURSERY_GROUP (source), result, &start->value, &start->error);
  start->done = TRUE;
}

static void
start_clear (Start *start)
{
  g_clear_object (&start->task);
  g_clear_error (&start->error);
  if (G_IS_VALUE (&start->value))
    g_value_unset (&start->value);
}

static void
listen_then_serve (NurseryTask *task,
                   gpointer     data)
{
  g_auto(GValue) port = G_VALUE_INIT;

  g_value_init (&port, G_TYPE_INT);
  g_value_set_int (&port, 8080);
  nursery_task_started (task, &port);
  /* After started() it is an ordinary child: serve until cancelled. */
  nt_child_until_cancelled (task, NULL);
}

static void
test_start_delivers_value (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  Start start = { NULL, NULL, G_VALUE_INIT, FALSE };

  nursery_group_start_async (group, "server", listen_then_serve, NULL, NULL, NULL, start_cb, &start);
  g_assert_false (start.done);
  nt_run_until (&start.done);
  g_assert_no_error (start.error);
  g_assert_nonnull (start.task);
  g_assert_cmpint (g_value_get_int (&start.value), ==, 8080);
  g_assert_cmpint (nursery_task_get_state (start.task), ==, NURSERY_TASK_RUNNING);

  nursery_group_cancel (group);
  error = nt_wait (group);
  g_assert_no_error (error);  /* R7: the owner's own cancel is quiet */
  start_clear (&start);
}

static void
fail_before_started (NurseryTask *task,
                     gpointer     data)
{
  nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE, "port taken");
}

static void
test_start_failure_goes_to_caller (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  Start start = { NULL, NULL, G_VALUE_INIT, FALSE };

  nursery_group_start_async (group, "server", fail_before_started, NULL, NULL, NULL, start_cb, &start);
  nt_run_until (&start.done);
  g_assert_null (start.task);
  g_assert_error (start.error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  /* Not a failure of the group. */
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpuint (nursery_group_get_n_failed (group), ==, 0);
  start_clear (&start);
}

static void
test_start_success_without_started (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  Start start = { NULL, NULL, G_VALUE_INIT, FALSE };

  nursery_group_start_async (group, "lazy", nt_child_return_int, GINT_TO_POINTER (1), NULL, NULL, start_cb, &start);
  nt_run_until (&start.done);
  g_assert_error (start.error, NURSERY_ERROR, NURSERY_ERROR_NOT_STARTED);
  error = nt_wait (group);
  g_assert_no_error (error);
  start_clear (&start);
}

static void
test_start_caller_cancel (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  Start start = { NULL, NULL, G_VALUE_INIT, FALSE };

  nursery_group_start_async (group, "slow-start", nt_child_until_cancelled, NULL, NULL, cancellable, start_cb, &start);
  g_main_context_iteration (NULL, FALSE);
  g_cancellable_cancel (cancellable);
  nt_run_until (&start.done);
  g_assert_error (start.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (nursery_group_is_cancelled (group));
  error = nt_wait (group);
  g_assert_no_error (error);
  start_clear (&start);
}

static void
fail_after_started (NurseryTask *task,
                    gpointer     data)
{
  nursery_task_started (task, NULL);
  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*already started*");
  nursery_task_started (task, NULL);
  g_test_assert_expected_messages ();
  nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "crashed later");
}

static void
test_start_then_ordinary (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  Start start = { NULL, NULL, G_VALUE_INIT, FALSE };

  nursery_group_start_async (group, "s", fail_after_started, NULL, NULL, NULL, start_cb, &start);
  error = nt_wait (group);
  g_assert_true (start.done);
  g_assert_no_error (start.error);
  /* started (NULL): a NULL pointer value, never an unset one. */
  g_assert_true (G_VALUE_HOLDS_POINTER (&start.value));
  g_assert_null (g_value_get_pointer (&start.value));
  /* After started() its failure is the group's. */
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpuint (nursery_group_get_n_failed (group), ==, 1);
  start_clear (&start);
}

/* R19, R5: FIFO under the limit; a cancelled queued child never runs and frees its turn */

static void
record_start (NurseryTask *task,
              gpointer     data)
{
  GString *order = data;

  g_string_append (order, nursery_task_get_name (task));
  nt_child_until_cancelled (task, NULL);
}

static void
test_limit_fifo_with_cancelled (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GString) order = g_string_new (NULL);
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  const char *names[] = { "A", "B", "C", "D", "E" };
  g_autoptr(GError) error = NULL;

  nursery_group_set_max_concurrent (group, 1);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_ptr_array_add (tasks, nursery_group_spawn (group, names[i], record_start, order, NULL, NULL));
  nt_wait_until_running (tasks->pdata[0]);
  g_assert_cmpuint (nursery_group_get_n_pending (group), ==, 4);

  /* C is cancelled while queued: it finishes now, without running. */
  nursery_task_cancel (tasks->pdata[2]);
  NT_ITERATE_UNTIL (nursery_task_is_finished (tasks->pdata[2]));
  g_assert_cmpint (nursery_task_get_state (tasks->pdata[0]), ==, NURSERY_TASK_RUNNING);
  g_assert_cmpuint (nursery_group_get_n_pending (group), ==, 3);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (i == 2)
        continue;
      nt_wait_until_running (tasks->pdata[i]);
      g_assert_cmpuint (nursery_group_get_n_running (group), ==, 1);
      nursery_task_cancel (tasks->pdata[i]);
    }
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpstr (order->str, ==, "ABDE");
}

/* R22: a Unix signal cancels the group gracefully */

static void
test_unix_signal_cancels (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "t", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  nursery_group_cancel_on_unix_signal (group, SIGHUP);
  nt_wait_until_running (task);
  raise (SIGHUP);
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_nonnull (strstr (error->message, "Unix signal"));
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_CANCELLED);
}

/* R22: the signal source is removed when the group closes */

static void
test_unix_signal_removed_on_close (void)
{
  if (g_test_subprocess ())
    {
      NurseryGroup *group = nursery_group_new ();

      nursery_group_cancel_on_unix_signal (group, SIGTERM);
      g_clear_error (&(GError *) { nt_wait (group) });
      /* No handler left: the default action ends this process. */
      raise (SIGTERM);
      g_main_context_iteration (NULL, FALSE);
      g_object_unref (group);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
}

/* R22: cleanups run LIFO after the last child, before wait completes */

static void
push_name (NurseryGroup *group,
           gpointer      data)
{
  GString *log = g_object_get_data (G_OBJECT (group), "log");

  g_assert_cmpuint (nursery_group_get_n_running (group), ==, 0);
  g_assert_false (nursery_group_is_closed (group));
  g_string_append (log, data);
}

static void
log_child (NurseryTask *task,
           gpointer     data)
{
  g_string_append (data, "child;");
  nursery_task_return_boolean (task, TRUE);
}

static void
spawn_from_cleanup (NurseryGroup *group,
                    gpointer      data)
{
  nt_spawn (group, "late", log_child, g_object_get_data (G_OBJECT (group), "log"));
}

static void
test_cleanups_lifo (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  guint destroyed = 0;

  g_object_set_data (G_OBJECT (group), "log", log);
  nt_spawn (group, "first", log_child, log);
  nursery_group_add_cleanup (group, push_name, (gpointer) "1;", NULL);
  nursery_group_add_cleanup (group, spawn_from_cleanup, &destroyed, nt_count_destroy);
  nursery_group_add_cleanup (group, push_name, (gpointer) "3;", NULL);
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpstr (log->str, ==, "child;3;1;child;");
  g_assert_cmpuint (destroyed, ==, 1);
}

/* R21: deadline and max-concurrent notify on change only */

static void
test_notify_deadline_once (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  guint deadline_notifies = 0;
  gint64 deadline = g_get_monotonic_time () + HOUR;

  g_signal_connect (group, "notify::deadline", G_CALLBACK (nt_count_notify), &deadline_notifies);
  nursery_group_set_deadline (group, deadline);
  nursery_group_set_deadline (group, deadline);
  g_assert_cmpuint (deadline_notifies, ==, 0);
  g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (deadline_notifies, ==, 1);
  error = nt_wait (group);
  g_assert_no_error (error);
}

/* R21: lifecycle debug logs in the Nursery domain */

/* NURSERY_DEBUG selects categories, shown without G_MESSAGES_DEBUG */

static void
test_debug_categories (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(NurseryGroup) group = g_object_new (NURSERY_TYPE_GROUP, "name", "noted", NULL);

      g_object_unref (nursery_group_spawn (group, "child", nt_child_until_cancelled, NULL, NULL, NULL));
      NT_ITERATE_UNTIL (nursery_group_get_n_running (group) != 0);
      nursery_group_cancel (group);
      g_assert_true (nursery_group_wait (group, NULL, NULL));
      return;
    }

  /* The quotes may reach stderr as "?", converted to the locale's charset. */
  g_setenv ("NURSERY_DEBUG", "cancel,group", TRUE);
  g_unsetenv ("G_MESSAGES_DEBUG");
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("NURSERY_DEBUG");
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*group ?noted?: cancelled by explicit cancel*");
  g_test_trap_assert_stderr ("*group ?noted?: closed after 1 children*");
  /* The spawn category was not asked for. */
  g_test_trap_assert_stderr_unmatched ("*task ?child? starts*");
}

static void
test_debug_logs (void)
{
  g_autoptr(NurseryGroup) group = g_object_new (NURSERY_TYPE_GROUP, "name", "logged", NULL);
  g_autoptr(GError) error = NULL;

  g_log_set_debug_enabled (TRUE);
  g_test_expect_message ("Nursery", G_LOG_LEVEL_DEBUG, "*group “logged”: cancelled by explicit cancel*");
  nursery_group_cancel (group);
  g_test_assert_expected_messages ();
  g_test_expect_message ("Nursery", G_LOG_LEVEL_DEBUG, "*group “logged”: closed*");
  error = nt_wait (group);
  g_test_assert_expected_messages ();
  g_log_set_debug_enabled (FALSE);
  g_assert_no_error (error);  /* R7: the owner's own cancel is quiet */
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nursery/scopes/R17/task-deadline/times-out", test_task_deadline_times_out);
  g_test_add_func ("/nursery/scopes/R16/task-deadline/past-fires-next-iteration", test_task_deadline_past_fires_next_iteration);
  g_test_add_func ("/nursery/scopes/R16/task-deadline/moved-later", test_task_deadline_moved_later);
  g_test_add_func ("/nursery/scopes/R16/task-deadline/moved-earlier", test_task_deadline_moved_earlier);
  g_test_add_func ("/nursery/scopes/R16/task-deadline/cleared", test_task_deadline_cleared);
  g_test_add_func ("/nursery/scopes/R24/timeout-saturates", test_timeout_saturates);
  g_test_add_func ("/nursery/scopes/R16/group-deadline/times-out", test_group_deadline);
  g_test_add_func ("/nursery/scopes/R16/group-deadline/failure-wins", test_group_deadline_failure_wins);
  g_test_add_func ("/nursery/scopes/R16/group-deadline/moved-later", test_group_deadline_moved_later);
  g_test_add_func ("/nursery/scopes/R15/shield/task", test_shield_task);
  g_test_add_func ("/nursery/scopes/R15/shield/keeps-own-deadline", test_shield_keeps_own_deadline);
  g_test_add_func ("/nursery/scopes/R15/shield/unshield-in-cancelled-group", test_unshield_in_cancelled_group);
  g_test_add_func ("/nursery/scopes/R15/shield/spawn-into-cancelled", test_shield_spawn_into_cancelled);
  g_test_add_func ("/nursery/scopes/R14/nested/cancelled-by-parent", test_nested_cancelled_by_parent);
  g_test_add_func ("/nursery/scopes/R14/nested/under-cancelled-task", test_nested_under_cancelled_task);
  g_test_add_func ("/nursery/scopes/R14/nested/with-cancellable", test_nested_with_cancellable);
  g_test_add_func ("/nursery/scopes/R15/nested/shielded", test_nested_shielded);
  g_test_add_func ("/nursery/scopes/R21/dump-tree", test_dump_tree);
  g_test_add_func ("/nursery/scopes/R18/start/delivers-value", test_start_delivers_value);
  g_test_add_func ("/nursery/scopes/R18/start/failure-goes-to-caller", test_start_failure_goes_to_caller);
  g_test_add_func ("/nursery/scopes/R18/start/success-without-started", test_start_success_without_started);
  g_test_add_func ("/nursery/scopes/R18/start/caller-cancel", test_start_caller_cancel);
  g_test_add_func ("/nursery/scopes/R18/start/then-ordinary", test_start_then_ordinary);
  g_test_add_func ("/nursery/scopes/R19/limit/fifo-with-cancelled", test_limit_fifo_with_cancelled);
  g_test_add_func ("/nursery/scopes/R22/unix-signal/cancels", test_unix_signal_cancels);
  g_test_add_func ("/nursery/scopes/R22/unix-signal/removed-on-close", test_unix_signal_removed_on_close);
  g_test_add_func ("/nursery/scopes/R22/cleanups/lifo", test_cleanups_lifo);
  g_test_add_func ("/nursery/scopes/R21/notify/deadline-once", test_notify_deadline_once);
  g_test_add_func ("/nursery/scopes/R21/debug-logs", test_debug_logs);
  g_test_add_func ("/nursery/scopes/R21/debug-categories", test_debug_categories);

  return g_test_run ();
}
