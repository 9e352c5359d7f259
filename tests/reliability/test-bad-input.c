/* test-bad-input.c: every public function with bad input (R4, R24)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* NULL, an object of the wrong type, a closed group, the wrong state or
 * the wrong thread: each call must hit the expected critical (domain
 * "Nursery") or GError, return a safe value, never crash, and free the
 * user data it was handed. Under valgrind/ASan this also proves that the
 * refused calls leak nothing. */

#include <signal.h>

#include "rel-utils.h"

#define EXPECT_CRITICAL(pattern, stmt)                                        \
  G_STMT_START {                                                              \
    g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, pattern);         \
    stmt;                                                                     \
    g_test_assert_expected_messages ();                                       \
  } G_STMT_END

#define NOT_GROUP "*NURSERY_IS_GROUP*"
#define NOT_TASK  "*NURSERY_IS_TASK*"

static void
never_called (NurseryTask *task,
              gpointer     data)
{
  g_assert_not_reached ();
}

static void
never_called_cleanup (NurseryGroup *group,
                      gpointer      data)
{
  g_assert_not_reached ();
}

static void
return_int_body (NurseryTask *task,
                 gpointer     data)
{
  nursery_task_return_int (task, 1);
}

/* A closed group, with one finished child. */
static NurseryGroup *
closed_group (NurseryTask **child)
{
  NurseryGroup *group = nursery_group_new ();
  GError *error = NULL;

  *child = nursery_group_spawn (group, "done", return_int_body, NULL, NULL, NULL);
  g_assert_true (nursery_group_wait (group, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (nursery_group_is_closed (group));
  return group;
}

/* Group: NULL and wrong-typed instances */

static void
test_group_null_and_wrong_type (void)
{
  g_autoptr(GObject) not_a_group = g_object_new (G_TYPE_OBJECT, NULL);
  NurseryGroup *bad[] = { NULL, (NurseryGroup *) not_a_group };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      NurseryGroup *g = bad[i];
      GError *error = NULL;
      guint destroyed = 0;

      EXPECT_CRITICAL (NOT_GROUP, g_assert_null (nursery_group_spawn (g, "x", never_called, &destroyed, rel_count_destroy, &error)));
      g_assert_cmpuint (destroyed, ==, 1);
      g_assert_no_error (error);
      EXPECT_CRITICAL (NOT_GROUP, g_assert_null (nursery_group_spawn_in_thread (g, "x", never_called, &destroyed, rel_count_destroy, &error)));
      g_assert_cmpuint (destroyed, ==, 2);
      EXPECT_CRITICAL (NOT_GROUP, nursery_group_start_async (g, "x", never_called, &destroyed, rel_count_destroy, NULL, NULL, NULL));
      g_assert_cmpuint (destroyed, ==, 3);
      EXPECT_CRITICAL (NOT_GROUP, nursery_group_add_cleanup (g, never_called_cleanup, &destroyed, rel_count_destroy));
      g_assert_cmpuint (destroyed, ==, 4);

      EXPECT_CRITICAL (NOT_GROUP, nursery_group_wait_async (g, NULL, NULL, NULL));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_false (nursery_group_wait (g, NULL, &error)));
      g_assert_no_error (error);
      EXPECT_CRITICAL (NOT_GROUP, g_assert_false (nursery_group_wait_finish (g, NULL, &error)));
      g_assert_no_error (error);
      EXPECT_CRITICAL (NOT_GROUP, g_assert_null (nursery_group_start_finish (g, NULL, NULL, &error)));
      g_assert_no_error (error);
      EXPECT_CRITICAL (NOT_GROUP, nursery_group_cancel (g));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_false (nursery_group_is_cancelled (g)));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_false (nursery_group_is_closed (g)));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_cmpint (nursery_group_get_state (g), ==, NURSERY_GROUP_OPEN));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_null (nursery_group_get_errors (g)));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_null (nursery_group_get_name (g)));
      EXPECT_CRITICAL (NOT_GROUP, nursery_group_set_name (g, "x"));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_null (nursery_group_get_context (g)));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_cmpint (nursery_group_get_policy (g), ==, NURSERY_POLICY_FAIL_FAST));
      EXPECT_CRITICAL (NOT_GROUP, nursery_group_set_policy (g, NURSERY_POLICY_RACE));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_cmpuint (nursery_group_get_max_concurrent (g), ==, 0));
      EXPECT_CRITICAL (NOT_GROUP, nursery_group_set_max_concurrent (g, 3));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_null (nursery_group_get_winner (g)));
      EXPECT_CRITICAL (NOT_GROUP, nursery_group_set_shielded (g, TRUE));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_false (nursery_group_get_shielded (g)));
      EXPECT_CRITICAL (NOT_GROUP, nursery_group_set_deadline (g, 0));
      EXPECT_CRITICAL (NOT_GROUP, nursery_group_set_timeout (g, 10));
      EXPECT_CRITICAL (NOT_GROUP, nursery_group_clear_deadline (g));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_cmpint (nursery_group_get_deadline (g), ==, -1));
      EXPECT_CRITICAL (NOT_GROUP, nursery_group_cancel_on_unix_signal (g, SIGTERM));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_null (nursery_group_dump_tree (g)));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_cmpuint (nursery_group_get_n_running (g), ==, 0));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_cmpuint (nursery_group_get_n_pending (g), ==, 0));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_cmpuint (nursery_group_get_n_finished (g), ==, 0));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_cmpuint (nursery_group_get_n_failed (g), ==, 0));
    }

  EXPECT_CRITICAL (NOT_TASK, g_assert_null (nursery_group_new_for_task (NULL)));
  EXPECT_CRITICAL (NOT_TASK, g_assert_null (nursery_group_new_for_task ((NurseryTask *) not_a_group)));
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*", g_assert_null (nursery_group_new_with_cancellable (NULL)));
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*", g_assert_null (nursery_group_new_with_cancellable ((GCancellable *) not_a_group)));
}

/* Group: bad arguments to a good group */

static void
test_group_bad_arguments (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GObject) not_a_cancellable = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GError) error = NULL;
  GError *preset = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "already set");
  guint destroyed = 0;

  EXPECT_CRITICAL ("nursery_group_spawn: *func != NULL*", g_assert_null (nursery_group_spawn (group, "x", NULL, &destroyed, rel_count_destroy, NULL)));
  g_assert_cmpuint (destroyed, ==, 1);
  EXPECT_CRITICAL ("nursery_group_spawn_in_thread: *func != NULL*", g_assert_null (nursery_group_spawn_in_thread (group, "x", NULL, &destroyed, rel_count_destroy, NULL)));
  g_assert_cmpuint (destroyed, ==, 2);
  EXPECT_CRITICAL ("nursery_group_spawn: *error == NULL || *error == NULL*", g_assert_null (nursery_group_spawn (group, "x", never_called, &destroyed, rel_count_destroy, &preset)));
  g_assert_cmpuint (destroyed, ==, 3);
  EXPECT_CRITICAL ("nursery_group_start_async: *func != NULL*", nursery_group_start_async (group, "x", NULL, &destroyed, rel_count_destroy, NULL, NULL, NULL));
  g_assert_cmpuint (destroyed, ==, 4);
  EXPECT_CRITICAL ("nursery_group_add_cleanup: *func != NULL*", nursery_group_add_cleanup (group, NULL, &destroyed, rel_count_destroy));
  g_assert_cmpuint (destroyed, ==, 5);

  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*", nursery_group_wait_async (group, (GCancellable *) not_a_cancellable, NULL, NULL));
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*", g_assert_false (nursery_group_wait (group, (GCancellable *) not_a_cancellable, NULL)));
  EXPECT_CRITICAL ("*error == NULL || *error == NULL*", g_assert_false (nursery_group_wait (group, NULL, &preset)));
  EXPECT_CRITICAL ("*policy*", nursery_group_set_policy (group, (NurseryPolicy) 42));
  g_assert_cmpint (nursery_group_get_policy (group), ==, NURSERY_POLICY_FAIL_FAST);
  EXPECT_CRITICAL ("*deadline >= -1*", nursery_group_set_deadline (group, -7));
  g_assert_cmpint (nursery_group_get_deadline (group), ==, -1);
  EXPECT_CRITICAL ("*timeout >= 0*", nursery_group_set_timeout (group, -1));
  g_assert_cmpint (nursery_group_get_deadline (group), ==, -1);
  EXPECT_CRITICAL ("*signum*", nursery_group_cancel_on_unix_signal (group, SIGKILL));
  EXPECT_CRITICAL ("*signum*", nursery_group_cancel_on_unix_signal (group, 0));

  /* The group is still perfectly usable. */
  g_assert_false (nursery_group_is_cancelled (group));
  g_assert_true (nursery_group_wait (group, NULL, &error));
  g_assert_no_error (error);
  g_error_free (preset);
}

/* R24: a refused start_async() still frees the user data it was handed */

static void
test_start_bad_cancellable_frees_data (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GObject) not_a_cancellable = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GError) error = NULL;
  guint destroyed = 0;

  EXPECT_CRITICAL ("nursery_group_start_async: *G_IS_CANCELLABLE*", nursery_group_start_async (group, "x", never_called, &destroyed, rel_count_destroy,
                                                                    (GCancellable *) not_a_cancellable, NULL, NULL));
  g_assert_cmpuint (destroyed, ==, 1);
  g_assert_true (nursery_group_wait (group, NULL, &error));
  g_assert_no_error (error);
}

/* Results that belong to another operation or object */

static void
started_body (NurseryTask *task,
              gpointer     data)
{
  nursery_task_started (task, NULL);
  nursery_task_return_int (task, 2);
}

static void
test_wrong_results (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryGroup) other = nursery_group_new ();
  g_autoptr(GAsyncResult) start_result = NULL;
  g_autoptr(GAsyncResult) wait_result = NULL;
  g_autoptr(GAsyncResult) task_result = NULL;
  g_autoptr(GAsyncResult) other_result = NULL;
  g_autoptr(NurseryTask) task = NULL;
  g_autoptr(NurseryTask) started = NULL;
  g_autoptr(GTask) foreign = g_task_new (NULL, NULL, NULL, NULL);
  GError *error = NULL;

  nursery_group_start_async (group, "s", started_body, NULL, NULL, NULL, rel_store_result, &start_result);
  task = nursery_group_spawn (group, "t", return_int_body, NULL, NULL, NULL);
  nursery_task_wait_async (task, NULL, rel_store_result, &task_result);
  nursery_group_wait_async (group, NULL, rel_store_result, &wait_result);
  nursery_group_wait_async (other, NULL, rel_store_result, &other_result);
  while (start_result == NULL || wait_result == NULL || task_result == NULL || other_result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_task_return_boolean (foreign, TRUE);

  /* A start result is not a wait result, and the other way round. */
  EXPECT_CRITICAL ("*source_tag*", g_assert_false (nursery_group_wait_finish (group, start_result, &error)));
  g_assert_no_error (error);
  EXPECT_CRITICAL ("*source_tag*", g_assert_null (nursery_group_start_finish (group, wait_result, NULL, &error)));
  g_assert_no_error (error);
  /* Another group's result, a task's result, a foreign GTask. */
  EXPECT_CRITICAL ("*g_task_is_valid*", g_assert_false (nursery_group_wait_finish (group, other_result, &error)));
  EXPECT_CRITICAL ("*g_task_is_valid*", g_assert_false (nursery_group_wait_finish (group, task_result, &error)));
  EXPECT_CRITICAL ("*g_task_is_valid*", g_assert_false (nursery_group_wait_finish (group, G_ASYNC_RESULT (foreign), &error)));
  EXPECT_CRITICAL ("*g_task_is_valid*", g_assert_false (nursery_task_wait_finish (task, wait_result, &error)));
  EXPECT_CRITICAL ("*g_task_is_valid*", g_assert_false (nursery_task_wait_finish (task, NULL, &error)));
  g_assert_no_error (error);

  /* The right results still work, also after the refusals. */
  started = nursery_group_start_finish (group, start_result, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (started);
  g_assert_true (nursery_group_wait_finish (group, wait_result, &error));
  g_assert_true (nursery_task_wait_finish (task, task_result, &error));
  g_assert_true (nursery_group_wait_finish (other, other_result, &error));
  g_assert_no_error (error);
}

/* A closed group: R4 */

static void
start_closed_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      data)
{
  GError **error = data;

  g_assert_null (nursery_group_start_finish (NURSERY_GROUP (source), result, NULL, error));
  g_assert_nonnull (*error);
}

static void
test_closed_group (void)
{
  g_autoptr(NurseryTask) child = NULL;
  g_autoptr(NurseryGroup) group = closed_group (&child);
  g_autoptr(GError) error = NULL;
  guint destroyed = 0;

  g_assert_null (nursery_group_spawn (group, "late", never_called, &destroyed, rel_count_destroy, &error));
  g_assert_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  g_assert_cmpuint (destroyed, ==, 1);
  g_clear_error (&error);

  g_assert_null (nursery_group_spawn_in_thread (group, "late", never_called, &destroyed, rel_count_destroy, &error));
  g_assert_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  g_assert_cmpuint (destroyed, ==, 2);
  g_clear_error (&error);

  /* Without a GError location: still refused, still freed. */
  g_assert_null (nursery_group_spawn (group, "late", never_called, &destroyed, rel_count_destroy, NULL));
  g_assert_cmpuint (destroyed, ==, 3);

  nursery_group_start_async (group, "late", never_called, &destroyed, rel_count_destroy, NULL, start_closed_cb, &error);
  g_assert_cmpuint (destroyed, ==, 4);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  g_clear_error (&error);

  EXPECT_CRITICAL ("*closed*", nursery_group_add_cleanup (group, never_called_cleanup, &destroyed, rel_count_destroy));
  g_assert_cmpuint (destroyed, ==, 5);
  EXPECT_CRITICAL ("*closed*", nursery_group_cancel_on_unix_signal (group, SIGTERM));

  /* Harmless on a closed group: no critical, no change. */
  nursery_group_cancel (group);
  g_assert_false (nursery_group_is_cancelled (group));
  nursery_group_set_deadline (group, 0);
  g_assert_cmpint (nursery_group_get_deadline (group), ==, -1);
  for (int i = 0; i < 5; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_false (nursery_group_is_cancelled (group));

  /* Waiting again gives the same outcome (R10). */
  g_assert_true (nursery_group_wait (group, NULL, &error));
  g_assert_no_error (error);

  /* The finished child: cancel, shield, deadline do nothing. */
  nursery_task_cancel (child);
  nursery_task_set_shielded (child, TRUE);
  nursery_task_set_deadline (child, 0);
  g_assert_cmpint (nursery_task_get_state (child), ==, NURSERY_TASK_SUCCEEDED);
  g_assert_false (nursery_task_is_cancelled (child));
  g_assert_false (nursery_task_get_shielded (child));
  g_assert_cmpint (nursery_task_get_deadline (child), ==, -1);
}

/* Task: NULL and wrong-typed instances */

static void
test_task_null_and_wrong_type (void)
{
  g_autoptr(GObject) not_a_task = g_object_new (G_TYPE_OBJECT, NULL);
  NurseryTask *bad[] = { NULL, (NurseryTask *) not_a_task };
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      NurseryTask *t = bad[i];
      GError *error = NULL;

      EXPECT_CRITICAL (NOT_TASK, g_assert_null (nursery_task_get_name (t)));
      EXPECT_CRITICAL (NOT_TASK, g_assert_null (nursery_task_get_group (t)));
      EXPECT_CRITICAL (NOT_TASK, g_assert_cmpint (nursery_task_get_state (t), ==, NURSERY_TASK_PENDING));
      EXPECT_CRITICAL (NOT_TASK, g_assert_false (nursery_task_is_finished (t)));
      EXPECT_CRITICAL (NOT_TASK, g_assert_null (nursery_task_get_cancellable (t)));
      EXPECT_CRITICAL (NOT_TASK, g_assert_false (nursery_task_is_cancelled (t)));
      EXPECT_CRITICAL (NOT_TASK, nursery_task_cancel (t));
      EXPECT_CRITICAL (NOT_TASK, nursery_task_return_value (t, &value));
      EXPECT_CRITICAL (NOT_TASK, nursery_task_return_boolean (t, TRUE));
      EXPECT_CRITICAL (NOT_TASK, nursery_task_return_int (t, 1));
      EXPECT_CRITICAL (NOT_TASK, nursery_task_return_new_error (t, G_IO_ERROR, G_IO_ERROR_FAILED, "x"));
      EXPECT_CRITICAL (NOT_TASK, g_assert_false (nursery_task_return_error_if_cancelled (t)));
      EXPECT_CRITICAL (NOT_TASK, g_assert_null (nursery_task_get_value (t)));
      EXPECT_CRITICAL (NOT_TASK, g_assert_false (nursery_task_get_boolean (t)));
      EXPECT_CRITICAL (NOT_TASK, g_assert_cmpint (nursery_task_get_int (t), ==, 0));
      EXPECT_CRITICAL (NOT_TASK, g_assert_null (nursery_task_get_pointer (t)));
      EXPECT_CRITICAL (NOT_TASK, g_assert_null (nursery_task_get_error (t)));
      EXPECT_CRITICAL (NOT_TASK, nursery_task_set_shielded (t, TRUE));
      EXPECT_CRITICAL (NOT_TASK, g_assert_false (nursery_task_get_shielded (t)));
      EXPECT_CRITICAL (NOT_TASK, nursery_task_set_deadline (t, 0));
      EXPECT_CRITICAL (NOT_TASK, nursery_task_set_timeout (t, 10));
      EXPECT_CRITICAL (NOT_TASK, nursery_task_clear_deadline (t));
      EXPECT_CRITICAL (NOT_TASK, g_assert_cmpint (nursery_task_get_deadline (t), ==, -1));
      EXPECT_CRITICAL (NOT_TASK, nursery_task_started (t, NULL));
      EXPECT_CRITICAL (NOT_TASK, nursery_task_wait_async (t, NULL, NULL, NULL));
      EXPECT_CRITICAL (NOT_TASK, g_assert_false (nursery_task_wait_finish (t, NULL, &error)));
      g_assert_no_error (error);
    }
  g_value_unset (&value);
}

/* R24: a refused return must not lose what it was handed. */

static void
test_task_refused_pointer_freed (void)
{
  g_autoptr(GObject) not_a_task = g_object_new (G_TYPE_OBJECT, NULL);
  guint destroyed = 0;

  EXPECT_CRITICAL (NOT_TASK, nursery_task_return_pointer (NULL, &destroyed, rel_count_destroy));
  g_assert_cmpuint (destroyed, ==, 1);
  EXPECT_CRITICAL (NOT_TASK, nursery_task_return_pointer ((NurseryTask *) not_a_task, &destroyed, rel_count_destroy));
  g_assert_cmpuint (destroyed, ==, 2);
}

/* An extended error domain (GLib 2.68) whose clear hook counts the
 * GErrors freed, so a leaked (transfer full) error fails the plain build,
 * not only the valgrind/ASan ones. */
typedef struct
{
  int unused;
} TrackedErrorPrivate;

static guint tracked_errors_freed;

static void
tracked_error_private_init (TrackedErrorPrivate *priv)
{
}

static void
tracked_error_private_copy (const TrackedErrorPrivate *src,
                            TrackedErrorPrivate       *dest)
{
}

static void
tracked_error_private_clear (TrackedErrorPrivate *priv)
{
  tracked_errors_freed++;
}

#define TRACKED_ERROR (tracked_error_quark ())
GQuark tracked_error_quark (void);
G_DEFINE_EXTENDED_ERROR (TrackedError, tracked_error)

static void
test_task_refused_error_freed (void)
{
  g_autoptr(GObject) not_a_task = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = NULL;
  g_autoptr(GError) error = NULL;

  EXPECT_CRITICAL (NOT_TASK, nursery_task_return_error (NULL, g_error_new_literal (TRACKED_ERROR, 1, "refused")));
  g_assert_cmpuint (tracked_errors_freed, ==, 1);
  EXPECT_CRITICAL (NOT_TASK, nursery_task_return_error ((NurseryTask *) not_a_task,
                                                        g_error_new_literal (TRACKED_ERROR, 1, "refused")));
  g_assert_cmpuint (tracked_errors_freed, ==, 2);

  /* Before the task started: refused and freed too. */
  task = nursery_group_spawn (group, "t", return_int_body, NULL, NULL, NULL);
  EXPECT_CRITICAL ("*has not started*", nursery_task_return_error (task, g_error_new_literal (TRACKED_ERROR, 1, "early")));
  g_assert_cmpuint (tracked_errors_freed, ==, 3);
  g_assert_true (nursery_group_wait (group, NULL, &error));
  g_assert_no_error (error);
  EXPECT_CRITICAL ("*already returned*", nursery_task_return_error (task, g_error_new_literal (TRACKED_ERROR, 1, "late")));
  g_assert_cmpuint (tracked_errors_freed, ==, 4);
}

/* Task: wrong state and bad arguments */

typedef struct
{
  guint destroyed;
  gboolean done;
} WrongState;

static void
wrong_state_body (NurseryTask *task,
                  gpointer     data)
{
  WrongState *ws = data;
  GValue uninitialized = G_VALUE_INIT;
  GValue value = G_VALUE_INIT;
  g_autoptr(GObject) not_a_cancellable = g_object_new (G_TYPE_OBJECT, NULL);

  EXPECT_CRITICAL ("*error != NULL*", nursery_task_return_error (task, NULL));
  EXPECT_CRITICAL ("*G_IS_VALUE*", nursery_task_return_value (task, &uninitialized));
  EXPECT_CRITICAL ("*format != NULL*", nursery_task_return_new_error (task, G_IO_ERROR, 0, NULL));
  EXPECT_CRITICAL ("*deadline >= -1*", nursery_task_set_deadline (task, -3));
  EXPECT_CRITICAL ("*timeout >= 0*", nursery_task_set_timeout (task, -3));
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*", nursery_task_wait_async (task, (GCancellable *) not_a_cancellable, NULL, NULL));
  /* Not spawned with start_async(): started() is a critical. */
  EXPECT_CRITICAL ("*not spawned with*", nursery_task_started (task, NULL));
  EXPECT_CRITICAL ("*G_IS_VALUE*", nursery_task_started (task, &uninitialized));
  g_assert_false (nursery_task_is_finished (task));

  /* Now the real return, then every later one is refused (R3) and what
   * it carried is freed. */
  nursery_task_return_int (task, 5);
  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, "late");
  EXPECT_CRITICAL ("*already returned*", nursery_task_return_value (task, &value));
  g_value_unset (&value);
  EXPECT_CRITICAL ("*already returned*", nursery_task_return_boolean (task, TRUE));
  EXPECT_CRITICAL ("*already returned*", nursery_task_return_int (task, 6));
  EXPECT_CRITICAL ("*already returned*", nursery_task_return_pointer (task, &ws->destroyed, rel_count_destroy));
  g_assert_cmpuint (ws->destroyed, ==, 1);
  EXPECT_CRITICAL ("*already returned*", nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "late"));
  EXPECT_CRITICAL ("*already returned*", nursery_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "late")));
  ws->done = TRUE;
}

static void
test_task_wrong_state (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = NULL;
  g_autoptr(GError) error = NULL;
  WrongState ws = { 0 };

  task = nursery_group_spawn (group, "wrong-state", wrong_state_body, &ws, NULL, NULL);

  /* Before it started: returns are criticals and leave it pending (R1). */
  EXPECT_CRITICAL ("*has not started*", nursery_task_return_int (task, 1));
  EXPECT_CRITICAL ("*has not started*", nursery_task_return_pointer (task, &ws.destroyed, rel_count_destroy));
  g_assert_cmpuint (ws.destroyed, ==, 1);
  ws.destroyed = 0;
  EXPECT_CRITICAL ("*has not started*", nursery_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "early")));
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_PENDING);
  g_assert_null (nursery_task_get_value (task));
  g_assert_null (nursery_task_get_error (task));

  g_assert_true (nursery_group_wait (group, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ws.done);
  g_assert_cmpint (nursery_task_get_int (task), ==, 5);
  g_assert_false (nursery_task_get_boolean (task));
  g_assert_null (nursery_task_get_pointer (task));

  /* started() after the end, on a task that is not a start child. */
  EXPECT_CRITICAL ("*not spawned with*", nursery_task_started (task, NULL));
}

/* started() twice on a start child (R18) */

static void
started_twice_body (NurseryTask *task,
                    gpointer     data)
{
  nursery_task_started (task, NULL);
  EXPECT_CRITICAL ("*already started*", nursery_task_started (task, NULL));
  nursery_task_return_int (task, 3);
}

static void
test_started_twice (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(NurseryTask) task = NULL;
  g_autoptr(GError) error = NULL;

  nursery_group_start_async (group, "twice", started_twice_body, NULL, NULL, NULL, rel_store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  task = nursery_group_start_finish (group, result, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (task);
  g_assert_true (nursery_group_wait (group, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (nursery_task_get_int (task), ==, 3);
}

/* R23: wait from a thread that does not own the owner context */

static gpointer
wait_from_thread (gpointer group)
{
  GError *error = NULL;
  gboolean ok;

  /* The critical is expected by the main thread; the message goes to
   * GTest's handler whatever thread logs it. */
  ok = nursery_group_wait (group, NULL, &error);
  g_assert_no_error (error);
  return GINT_TO_POINTER (ok);
}

static void
test_wait_from_wrong_thread (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  GThread *thread;

  g_assert_true (g_main_context_acquire (NULL));
  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*owned by another thread*");
  thread = g_thread_new ("wrong-thread", wait_from_thread, group);
  g_assert_false (GPOINTER_TO_INT (g_thread_join (thread)));
  g_test_assert_expected_messages ();
  g_main_context_release (NULL);

  /* Nothing was started by the refused wait. */
  g_assert_cmpint (nursery_group_get_state (group), ==, NURSERY_GROUP_OPEN);
  g_assert_true (nursery_group_wait (group, NULL, &error));
  g_assert_no_error (error);
}

/* Properties with bad values go through GObject's own checks. */

static void
test_properties_bad_values (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;

  g_test_expect_message ("GLib-GObject", G_LOG_LEVEL_WARNING, "*value*out of range*deadline*");
  g_object_set (group, "deadline", (gint64) -9, NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpint (nursery_group_get_deadline (group), ==, -1);

  g_test_expect_message ("GLib-GObject", G_LOG_LEVEL_WARNING, "*not writable*");
  g_object_set (group, "n-running", 4u, NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("GLib-GObject", G_LOG_LEVEL_WARNING, "*no property named*");
  g_object_set (group, "no-such-property", 1, NULL);
  g_test_assert_expected_messages ();

  g_assert_true (nursery_group_wait (group, NULL, &error));
  g_assert_no_error (error);
}

/* next_async() and list_tasks() */

static void
test_next_and_list_bad_input (void)
{
  g_autoptr(GObject) not_a_group = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GObject) not_a_cancellable = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GAsyncResult) wait_result = NULL;
  g_autoptr(GError) error = NULL;
  NurseryGroup *bad[] = { NULL, (NurseryGroup *) not_a_group };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      EXPECT_CRITICAL (NOT_GROUP, nursery_group_next_async (bad[i], NULL, NULL, NULL));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_null (nursery_group_next_finish (bad[i], NULL, &error)));
      EXPECT_CRITICAL (NOT_GROUP, g_assert_null (nursery_group_list_tasks (bad[i])));
    }
  g_assert_no_error (error);
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*", nursery_group_next_async (group, (GCancellable *) not_a_cancellable, NULL, NULL));
  /* The refused call did not join the group. */
  g_assert_cmpint (nursery_group_get_state (group), ==, NURSERY_GROUP_OPEN);

  nursery_group_wait_async (group, NULL, rel_store_result, &wait_result);
  while (wait_result == NULL)
    g_main_context_iteration (NULL, TRUE);
  EXPECT_CRITICAL ("*source_tag*", g_assert_null (nursery_group_next_finish (group, wait_result, &error)));
  g_assert_no_error (error);
  g_assert_true (nursery_group_wait_finish (group, wait_result, &error));
}

/* The channel */

#define NOT_CHANNEL "*NURSERY_IS_CHANNEL*"

typedef struct
{
  guint freed;
} Freed;

static void
count_freed (gpointer data)
{
  ((Freed *) data)->freed++;
}

static void
test_channel_null_and_wrong_type (void)
{
  g_autoptr(GObject) not_a_channel = g_object_new (G_TYPE_OBJECT, NULL);
  NurseryChannel *bad[] = { NULL, (NurseryChannel *) not_a_channel };
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      NurseryChannel *c = bad[i];
      GValue out = G_VALUE_INIT;
      GError *error = NULL;

      EXPECT_CRITICAL (NOT_CHANNEL, g_assert_cmpuint (nursery_channel_get_capacity (c), ==, 0));
      EXPECT_CRITICAL (NOT_CHANNEL, g_assert_cmpuint (nursery_channel_get_n_items (c), ==, 0));
      EXPECT_CRITICAL (NOT_CHANNEL, g_assert_false (nursery_channel_is_closed (c)));
      EXPECT_CRITICAL (NOT_CHANNEL, nursery_channel_close (c));
      EXPECT_CRITICAL (NOT_CHANNEL, nursery_channel_send_async (c, &value, NULL, NULL, NULL));
      EXPECT_CRITICAL (NOT_CHANNEL, g_assert_false (nursery_channel_send_finish (c, NULL, &error)));
      EXPECT_CRITICAL (NOT_CHANNEL, g_assert_false (nursery_channel_send (c, &value, NULL, &error)));
      EXPECT_CRITICAL (NOT_CHANNEL, g_assert_false (nursery_channel_try_send (c, &value, &error)));
      EXPECT_CRITICAL (NOT_CHANNEL, nursery_channel_receive_async (c, NULL, NULL, NULL));
      EXPECT_CRITICAL (NOT_CHANNEL, g_assert_false (nursery_channel_receive_finish (c, NULL, &out, &error)));
      EXPECT_CRITICAL (NOT_CHANNEL, g_assert_false (nursery_channel_receive (c, &out, NULL, &error)));
      EXPECT_CRITICAL (NOT_CHANNEL, g_assert_false (nursery_channel_try_receive (c, &out, &error)));
      EXPECT_CRITICAL (NOT_CHANNEL, g_assert_null (nursery_channel_receive_pointer_finish (c, NULL, &error)));
      EXPECT_CRITICAL (NOT_CHANNEL, g_assert_null (nursery_channel_try_receive_pointer (c, &error)));
      g_assert_no_error (error);
      if (G_IS_VALUE (&out))
        g_value_unset (&out);
    }
  g_value_unset (&value);
}

/* R24: a refused pointer send frees the item it was handed. */
static void
test_channel_refused_pointer_freed (void)
{
  g_autoptr(GObject) not_a_channel = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GObject) not_a_cancellable = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(NurseryChannel) channel = nursery_channel_new (1);
  Freed f = { 0 };

  EXPECT_CRITICAL (NOT_CHANNEL, nursery_channel_send_pointer_async (NULL, &f, count_freed, NULL, NULL, NULL));
  g_assert_cmpuint (f.freed, ==, 1);
  EXPECT_CRITICAL (NOT_CHANNEL, nursery_channel_send_pointer_async ((NurseryChannel *) not_a_channel, &f, count_freed,
                                                                    NULL, NULL, NULL));
  g_assert_cmpuint (f.freed, ==, 2);
  EXPECT_CRITICAL ("nursery_channel_send_pointer_async: *G_IS_CANCELLABLE*", nursery_channel_send_pointer_async (channel, &f, count_freed,
                                                                             (GCancellable *) not_a_cancellable,
                                                                             NULL, NULL));
  g_assert_cmpuint (f.freed, ==, 3);
  EXPECT_CRITICAL (NOT_CHANNEL, g_assert_false (nursery_channel_try_send_pointer (NULL, &f, count_freed, NULL)));
  g_assert_cmpuint (f.freed, ==, 4);
  g_assert_cmpuint (nursery_channel_get_n_items (channel), ==, 0);
}

static void
test_channel_bad_arguments (void)
{
  g_autoptr(NurseryChannel) channel = nursery_channel_new (1);
  g_autoptr(GObject) not_a_cancellable = g_object_new (G_TYPE_OBJECT, NULL);
  GValue uninitialized = G_VALUE_INIT;
  GValue value = G_VALUE_INIT;
  GError *error = NULL;

  EXPECT_CRITICAL ("*G_IS_VALUE*", nursery_channel_send_async (channel, &uninitialized, NULL, NULL, NULL));
  EXPECT_CRITICAL ("*G_IS_VALUE*", nursery_channel_send_async (channel, NULL, NULL, NULL, NULL));
  EXPECT_CRITICAL ("*G_IS_VALUE*", g_assert_false (nursery_channel_try_send (channel, &uninitialized, &error)));
  EXPECT_CRITICAL ("*G_IS_VALUE*", g_assert_false (nursery_channel_send (channel, NULL, NULL, &error)));
  g_value_init (&value, G_TYPE_INT);
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*", nursery_channel_send_async (channel, &value, (GCancellable *) not_a_cancellable, NULL, NULL));
  EXPECT_CRITICAL ("*G_IS_CANCELLABLE*", nursery_channel_receive_async (channel, (GCancellable *) not_a_cancellable, NULL, NULL));
  g_assert_no_error (error);
  g_assert_cmpuint (nursery_channel_get_n_items (channel), ==, 0);

  /* Still usable. */
  g_assert_true (nursery_channel_try_send (channel, &value, &error));
  g_assert_no_error (error);
  g_value_unset (&value);
  g_assert_true (nursery_channel_try_receive (channel, &value, &error));
  g_assert_no_error (error);
  g_value_unset (&value);
}

/* R24: the blocking forms with a wrong-typed cancellable: a critical, not
 * a thread blocked forever on a private context nothing will wake. */
static void
test_channel_blocking_bad_cancellable (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(NurseryChannel) channel = nursery_channel_new (0);
      g_autoptr(GObject) not_a_cancellable = g_object_new (G_TYPE_OBJECT, NULL);
      GValue value = G_VALUE_INIT;
      GError *error = NULL;

      EXPECT_CRITICAL ("*G_IS_CANCELLABLE*",
                       g_assert_false (nursery_channel_receive (channel, &value, (GCancellable *) not_a_cancellable, &error)));
      if (G_IS_VALUE (&value))
        g_value_unset (&value);
      g_value_init (&value, G_TYPE_INT);
      EXPECT_CRITICAL ("*G_IS_CANCELLABLE*",
                       g_assert_false (nursery_channel_send (channel, &value, (GCancellable *) not_a_cancellable, &error)));
      g_value_unset (&value);
      g_clear_error (&error);
      return;
    }
  g_test_trap_subprocess (NULL, (guint64) rel_env_uint ("NURSERY_SUBPROCESS_SECONDS", 20) * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* A send result given to receive_finish() and the other way round: a
 * critical, not a crash (or a lost item). */
static void
test_channel_wrong_results (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(NurseryChannel) channel = nursery_channel_new (1);
      g_autoptr(GAsyncResult) send_result = NULL;
      g_autoptr(GAsyncResult) receive_result = NULL;
      GValue value = G_VALUE_INIT;
      GValue out = G_VALUE_INIT;
      GError *error = NULL;
      Freed f = { 0 };

      g_value_init (&value, G_TYPE_INT);
      g_value_set_int (&value, 5);
      nursery_channel_send_async (channel, &value, NULL, rel_store_result, &send_result);
      g_value_unset (&value);
      nursery_channel_send_pointer_async (channel, &f, count_freed, NULL, NULL, NULL);
      nursery_channel_receive_async (channel, NULL, rel_store_result, &receive_result);
      while (send_result == NULL || receive_result == NULL)
        g_main_context_iteration (NULL, TRUE);

      EXPECT_CRITICAL ("*source_tag*", g_assert_false (nursery_channel_receive_finish (channel, send_result, &out, &error)));
      EXPECT_CRITICAL ("*source_tag*", g_assert_null (nursery_channel_receive_pointer_finish (channel, send_result, &error)));
      EXPECT_CRITICAL ("*source_tag*", g_assert_false (nursery_channel_send_finish (channel, receive_result, &error)));
      g_assert_no_error (error);
      if (G_IS_VALUE (&out))
        g_value_unset (&out);

      /* The right ones still work: nothing was taken by the wrong calls. */
      g_assert_true (nursery_channel_send_finish (channel, send_result, &error));
      g_assert_true (nursery_channel_receive_finish (channel, receive_result, &out, &error));
      g_assert_no_error (error);
      g_assert_cmpint (g_value_get_int (&out), ==, 5);
      g_value_unset (&out);
      return;
    }
  g_test_trap_subprocess (NULL, (guint64) rel_env_uint ("NURSERY_SUBPROCESS_SECONDS", 20) * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* Report every failing scene, not only the first. */
  g_test_set_nonfatal_assertions ();

  g_test_add_func ("/reliability/bad-input/R24/group/null-and-wrong-type", test_group_null_and_wrong_type);
  g_test_add_func ("/reliability/bad-input/R24/group/bad-arguments", test_group_bad_arguments);
  g_test_add_func ("/reliability/bad-input/R24/group/start-bad-cancellable-frees-data", test_start_bad_cancellable_frees_data);
  g_test_add_func ("/reliability/bad-input/R24/group/wrong-results", test_wrong_results);
  g_test_add_func ("/reliability/bad-input/R24/group/closed", test_closed_group);
  g_test_add_func ("/reliability/bad-input/R23/group/wait-from-wrong-thread", test_wait_from_wrong_thread);
  g_test_add_func ("/reliability/bad-input/R24/group/property-values", test_properties_bad_values);
  g_test_add_func ("/reliability/bad-input/R24/task/null-and-wrong-type", test_task_null_and_wrong_type);
  g_test_add_func ("/reliability/bad-input/R24/task/refused-pointer-freed", test_task_refused_pointer_freed);
  g_test_add_func ("/reliability/bad-input/R24/task/refused-error-freed", test_task_refused_error_freed);
  g_test_add_func ("/reliability/bad-input/R24/task/wrong-state", test_task_wrong_state);
  g_test_add_func ("/reliability/bad-input/R24/task/started-twice", test_started_twice);
  g_test_add_func ("/reliability/bad-input/R24/group/next-and-list", test_next_and_list_bad_input);
  g_test_add_func ("/reliability/bad-input/R24/channel/null-and-wrong-type", test_channel_null_and_wrong_type);
  g_test_add_func ("/reliability/bad-input/R24/channel/refused-pointer-freed", test_channel_refused_pointer_freed);
  g_test_add_func ("/reliability/bad-input/R24/channel/bad-arguments", test_channel_bad_arguments);
  g_test_add_func ("/reliability/bad-input/R24/channel/blocking-bad-cancellable", test_channel_blocking_bad_cancellable);
  g_test_add_func ("/reliability/bad-input/R24/channel/wrong-results", test_channel_wrong_results);

  return g_test_run ();
}
