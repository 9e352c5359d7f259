/* test-corners.c: the corners of the API the rule tests do not reach
 * (R2, R16, R21, R23; found with tools/coverage)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "rel-utils.h"

static void
return_seven (NurseryTask *task,
              gpointer     data)
{
  nursery_task_return_int (task, 7);
}

static void
fail_body (NurseryTask *task,
           gpointer     data)
{
  nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gone");
}

/* R21: every property through GObject, read and written */

static void
test_group_properties (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GMainContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  NurseryGroupState state;
  NurseryPolicy policy;
  gboolean shielded, cancelled, closed;
  guint max_concurrent, n_running, n_pending, n_finished, n_failed, notifies = 0;
  gint64 deadline;

  g_signal_connect (group, "notify", G_CALLBACK (rel_count_notify), &notifies);
  g_object_set (group,
                "name", "props",
                "policy", NURSERY_POLICY_SUPERVISE,
                "max-concurrent", 2u,
                "deadline", G_MAXINT64 / 2,
                "shielded", TRUE,
                NULL);
  g_object_get (group,
                "name", &name,
                "context", &context,
                "state", &state,
                "policy", &policy,
                "max-concurrent", &max_concurrent,
                "deadline", &deadline,
                "shielded", &shielded,
                "cancelled", &cancelled,
                "closed", &closed,
                "n-running", &n_running,
                "n-pending", &n_pending,
                "n-finished", &n_finished,
                "n-failed", &n_failed,
                NULL);
  g_assert_cmpstr (name, ==, "props");
  g_assert_cmpstr (nursery_group_get_name (group), ==, "props");
  g_assert_true (context == g_main_context_default ());
  g_assert_cmpint (state, ==, NURSERY_GROUP_OPEN);
  g_assert_cmpint (policy, ==, NURSERY_POLICY_SUPERVISE);
  g_assert_cmpuint (max_concurrent, ==, 2);
  g_assert_cmpint (deadline, ==, G_MAXINT64 / 2);
  g_assert_true (shielded);
  g_assert_false (cancelled);
  g_assert_false (closed);
  g_assert_cmpuint (n_running + n_pending + n_finished + n_failed, ==, 0);
  /* R21: notifications come later, on the owner context, once each. */
  g_assert_cmpuint (notifies, ==, 0);

  nursery_group_clear_deadline (group);
  g_assert_true (nursery_group_wait (group, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (notifies, >=, 5);
  g_object_get (group, "state", &state, "closed", &closed, NULL);
  g_assert_cmpint (state, ==, NURSERY_GROUP_CLOSED);
  g_assert_true (closed);
}

static void
test_task_properties (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "props", return_seven, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  NurseryTaskState state;
  gboolean shielded;
  gint64 deadline;

  g_object_set (task, "shielded", TRUE, "deadline", G_MAXINT64 / 2, NULL);
  g_object_get (task, "name", &name, "state", &state, "shielded", &shielded, "deadline", &deadline, NULL);
  g_assert_cmpstr (name, ==, "props");
  g_assert_cmpint (state, ==, NURSERY_TASK_PENDING);
  g_assert_true (shielded);
  g_assert_cmpint (deadline, ==, G_MAXINT64 / 2);

  g_assert_true (nursery_group_wait (group, NULL, &error));
  g_assert_no_error (error);
  g_object_get (task, "state", &state, NULL);
  g_assert_cmpint (state, ==, NURSERY_TASK_SUCCEEDED);
}

static void
test_channel_properties (void)
{
  g_autoptr(NurseryChannel) channel = NULL;
  GValue value = G_VALUE_INIT;
  guint capacity, n_items;
  gboolean closed;

  channel = g_object_new (NURSERY_TYPE_CHANNEL, "capacity", 3u, NULL);
  g_assert_cmpuint (nursery_channel_get_capacity (channel), ==, 3);
  g_value_init (&value, G_TYPE_INT);
  g_assert_true (nursery_channel_try_send (channel, &value, NULL));
  g_value_unset (&value);
  g_object_get (channel, "capacity", &capacity, "n-items", &n_items, "closed", &closed, NULL);
  g_assert_cmpuint (capacity, ==, 3);
  g_assert_cmpuint (n_items, ==, 1);
  g_assert_false (closed);
  nursery_channel_close (channel);
  g_object_get (channel, "closed", &closed, NULL);
  g_assert_true (closed);
}

/* Channel corners */

static void
test_channel_object_items (void)
{
  g_autoptr(NurseryChannel) channel = nursery_channel_new (1);
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GObject) received = NULL;
  g_autoptr(GError) error = NULL;
  GValue value = G_VALUE_INIT;

  /* An object sent as a GValue comes out of the pointer API as a new
   * reference. */
  g_value_init (&value, G_TYPE_OBJECT);
  g_value_set_object (&value, object);
  g_assert_true (nursery_channel_try_send (channel, &value, &error));
  g_assert_no_error (error);
  g_value_unset (&value);
  nursery_channel_receive_async (channel, NULL, rel_store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  received = nursery_channel_receive_pointer_finish (channel, result, &error);
  g_assert_no_error (error);
  g_assert_true (received == object);
  g_assert_cmpuint (G_OBJECT (object)->ref_count, ==, 2);
}

static void
test_channel_try_send_pointer_refused (void)
{
  g_autoptr(NurseryChannel) channel = nursery_channel_new (1);
  g_autoptr(GError) error = NULL;
  guint destroyed = 0;
  gpointer item;

  g_assert_true (nursery_channel_try_send_pointer (channel, &destroyed, rel_count_destroy, &error));
  g_assert_no_error (error);
  /* Full: refused, and the item freed. */
  g_assert_false (nursery_channel_try_send_pointer (channel, &destroyed, rel_count_destroy, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  g_assert_cmpuint (destroyed, ==, 1);
  g_clear_error (&error);

  /* Closed: refused with CLOSED, and freed; the buffered item is still
   * received (then owned by the receiver, not freed by the channel). */
  nursery_channel_close (channel);
  g_assert_false (nursery_channel_try_send_pointer (channel, &destroyed, rel_count_destroy, &error));
  g_assert_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  g_assert_cmpuint (destroyed, ==, 2);
  g_clear_error (&error);
  item = nursery_channel_try_receive_pointer (channel, &error);
  g_assert_no_error (error);
  g_assert_true (item == &destroyed);
  g_assert_null (nursery_channel_try_receive_pointer (channel, &error));
  g_assert_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  g_assert_cmpuint (destroyed, ==, 2);
}

/* R16: a deadline that passed but has not fired yet shows in the tree. */

static void
stubborn (NurseryTask *task,
          gpointer     release)
{
}

static void
test_dump_passed_deadline (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "late", stubborn, NULL, NULL, NULL);
  g_autofree char *tree = NULL;

  while (nursery_task_get_state (task) == NURSERY_TASK_PENDING)
    g_main_context_iteration (NULL, TRUE);
  nursery_task_set_deadline (task, 1);
  nursery_group_set_deadline (group, 1);
  tree = nursery_group_dump_tree (group);
  g_assert_nonnull (strstr (tree, "passed"));
  nursery_task_return_int (task, 1);
  nursery_group_clear_deadline (group);
  nursery_group_cancel (group);
  while (!nursery_group_is_closed (group))
    {
      GError *error = NULL;

      g_assert_true (nursery_group_wait (group, NULL, &error));  /* R7 */
      g_assert_no_error (error);
    }
}

/* R23: the owner context is iterated without being the thread-default
 * one: thread children still complete there. */

static void
thread_child (NurseryTask *task,
              gpointer     data)
{
  nursery_task_return_int (task, 3);
}

static void
wait_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      done)
{
  g_assert_true (nursery_group_wait_finish (NURSERY_GROUP (source), result, NULL));
  *(gboolean *) done = TRUE;
}

static void
test_owner_context_not_pushed (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(NurseryGroup) group = NULL;
  g_autoptr(NurseryTask) task = NULL;
  gboolean done = FALSE;

  g_main_context_push_thread_default (context);
  group = nursery_group_new ();
  task = nursery_group_spawn_in_thread (group, "t", thread_child, NULL, NULL, NULL);
  nursery_group_wait_async (group, NULL, wait_cb, &done);
  g_main_context_pop_thread_default (context);

  /* Iterated from outside, never pushed again. */
  while (!done)
    g_main_context_iteration (context, TRUE);
  g_assert_cmpint (nursery_task_get_int (task), ==, 3);
}

/* Waiting for a task that already failed gives its error. */

static void
test_task_wait_after_failure (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "f", fail_body, NULL, NULL, NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GError *group_error = NULL;

  g_assert_false (nursery_group_wait (group, NULL, &group_error));
  g_clear_error (&group_error);
  nursery_task_wait_async (task, NULL, rel_store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (nursery_task_wait_finish (task, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* The per-task debug lines, decided once per process: in a subprocess
 * started with G_MESSAGES_DEBUG=Nursery. */

static void
test_debug_lines (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(NurseryGroup) group = NULL;
      g_autoptr(NurseryTask) task = NULL;
      GError *error = NULL;

      g_test_expect_message ("Nursery", G_LOG_LEVEL_DEBUG, "*task “dbg” starts*");
      g_test_expect_message ("Nursery", G_LOG_LEVEL_DEBUG, "*task “dbg” succeeded*");
      group = nursery_group_new ();
      task = nursery_group_spawn (group, "dbg", return_seven, NULL, NULL, NULL);
      g_assert_true (nursery_group_wait (group, NULL, &error));
      g_test_assert_expected_messages ();
      return;
    }
  g_setenv ("G_MESSAGES_DEBUG", "Nursery", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("G_MESSAGES_DEBUG");
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/reliability/corners/R21/properties/group", test_group_properties);
  g_test_add_func ("/reliability/corners/R21/properties/task", test_task_properties);
  g_test_add_func ("/reliability/corners/R21/properties/channel", test_channel_properties);
  g_test_add_func ("/reliability/corners/R26/channel/object-items", test_channel_object_items);
  g_test_add_func ("/reliability/corners/R24/channel/try-send-pointer-refused", test_channel_try_send_pointer_refused);
  g_test_add_func ("/reliability/corners/R16/dump-passed-deadline", test_dump_passed_deadline);
  g_test_add_func ("/reliability/corners/R23/owner-context-not-pushed", test_owner_context_not_pushed);
  g_test_add_func ("/reliability/corners/R8/task-wait-after-failure", test_task_wait_after_failure);
  g_test_add_func ("/reliability/corners/R21/debug-lines", test_debug_lines);

  return g_test_run ();
}
