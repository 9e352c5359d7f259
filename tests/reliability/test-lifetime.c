/* test-lifetime.c: lifetime traps of GLib 2.74, one scene each (R14,
 * R20, R22)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Found by the reliability harness; each test is the smallest scene that
 * shows the problem. Scenes that may deadlock run in a subprocess with a
 * timeout (NURSERY_SUBPROCESS_SECONDS, default 20), so a deadlock is a
 * clean failure. */

#include "rel-utils.h"

static guint64
subprocess_timeout (void)
{
  return (guint64) rel_env_uint ("NURSERY_SUBPROCESS_SECONDS", 20) * G_USEC_PER_SEC;
}

static void
return_one (NurseryTask *task,
            gpointer     ran)
{
  *(gboolean *) ran = TRUE;
  nursery_task_return_int (task, 1);
}

/* R22 + R20: a cleanup may spawn children, and the group waits for them —
 * also when the cleanups run because the last reference went. */

typedef struct
{
  gboolean     ran;
  gboolean     spawned;
  guint        destroyed;
} CleanupSpawn;

static void
count_destroy (gpointer data)
{
  ((CleanupSpawn *) data)->destroyed++;
}

static void
cleanup_spawns (NurseryGroup *group,
                gpointer      data)
{
  CleanupSpawn *cs = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "from-cleanup", return_one, &cs->ran,
                                                     NULL, &error);

  /* Either accepted (then it must finish) or refused (then nothing leaks). */
  cs->spawned = task != NULL;
  if (task == NULL)
    g_assert_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
}

static void
test_cleanup_spawns_when_joined (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  CleanupSpawn cs = { 0 };

  nursery_group_add_cleanup (group, cleanup_spawns, &cs, count_destroy);
  g_assert_true (nursery_group_wait (group, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (cs.spawned);
  g_assert_true (cs.ran);
  g_assert_cmpuint (cs.destroyed, ==, 1);
  g_assert_cmpuint (nursery_group_get_n_finished (group), ==, 1);
}

static void
test_cleanup_spawns_after_last_unref (void)
{
  if (g_test_subprocess ())
    {
      NurseryGroup *group = nursery_group_new ();
      gboolean finalized = FALSE;
      CleanupSpawn cs = { 0 };

      g_object_weak_ref (G_OBJECT (group), rel_set_flag, &finalized);
      nursery_group_add_cleanup (group, cleanup_spawns, &cs, count_destroy);
      /* Never waited, no children: the last unref runs the cleanups. */
      g_object_unref (group);
      while (!finalized)
        g_main_context_iteration (NULL, TRUE);
      g_assert_cmpuint (cs.destroyed, ==, 1);
      /* Spawned into a dropped (so cancelled) group, the child may finish
       * as cancelled without running (R5), but it must finish. */
      return;
    }

  g_test_trap_subprocess (NULL, subprocess_timeout (), G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* R14 + R20: a nested group dropped from a handler of its parent's
 * cancellable. dispose disconnects from that cancellable; GLib 2.74's
 * g_cancellable_disconnect() waits for the running handler — this one. */

typedef struct
{
  NurseryGroup *nested;
  gboolean      with_child;
} DropInHandler;

static void
drop_nested_cb (GCancellable *cancellable,
                gpointer      task)
{
  DropInHandler *d = g_object_get_data (G_OBJECT (task), "drop");

  g_clear_object (&d->nested);
  nursery_task_return_error_if_cancelled (task);
}

static void
until_cancelled (NurseryTask *task,
                 gpointer     unused)
{
  /* Nobody cancels it except its group, dropped with it. */
}

static void
parent_body (NurseryTask *task,
             gpointer     data)
{
  DropInHandler *d = data;

  d->nested = nursery_group_new_for_task (task);
  if (d->with_child)
    {
      g_object_unref (nursery_group_spawn (d->nested, "child", until_cancelled, NULL, NULL, NULL));
    }
  g_object_set_data (G_OBJECT (task), "drop", d);
  g_cancellable_connect (nursery_task_get_cancellable (task), G_CALLBACK (drop_nested_cb), task, NULL);
}

static void
run_drop_in_handler (gboolean with_child)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) parent = NULL;
  g_autoptr(GError) error = NULL;
  DropInHandler d = { NULL, with_child };

  parent = nursery_group_spawn (group, "parent", parent_body, &d, NULL, NULL);
  while (nursery_task_get_state (parent) == NURSERY_TASK_PENDING)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (d.nested);

  nursery_task_cancel (parent);
  g_assert_null (d.nested);
  g_assert_true (nursery_group_wait (group, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (nursery_task_get_state (parent), ==, NURSERY_TASK_CANCELLED);
}

static void
test_drop_nested_in_parent_cancel_handler (void)
{
  if (g_test_subprocess ())
    {
      run_drop_in_handler (FALSE);
      return;
    }
  g_test_trap_subprocess (NULL, subprocess_timeout (), G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_drop_busy_nested_in_parent_cancel_handler (void)
{
  if (g_test_subprocess ())
    {
      run_drop_in_handler (TRUE);
      return;
    }
  g_test_trap_subprocess (NULL, subprocess_timeout (), G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* The same with nursery_group_new_with_cancellable(). */

static void
drop_group_cb (GCancellable *cancellable,
               gpointer      data)
{
  g_clear_object ((NurseryGroup **) data);
}

static void
test_drop_in_cancellable_handler (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GCancellable) parent = g_cancellable_new ();
      NurseryGroup *group = nursery_group_new_with_cancellable (parent);

      g_cancellable_connect (parent, G_CALLBACK (drop_group_cb), &group, NULL);
      g_cancellable_cancel (parent);
      g_assert_null (group);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      return;
    }
  g_test_trap_subprocess (NULL, subprocess_timeout (), G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* R9 on GLib 2.74: a GTask with check-cancellable turns a returned value
 * into CANCELLED if its cancellable was cancelled; a task's value must
 * survive its cancellation, also through task_wait_async(). */

static void
value_then_cancel (NurseryTask *task,
                   gpointer     unused)
{
  nursery_task_return_int (task, 77);
  nursery_task_cancel (task);
  nursery_group_cancel (nursery_task_get_group (task));
}

static void
test_value_survives_cancel (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "v", value_then_cancel, NULL, NULL, NULL);
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  /* The value is returned, then the task and its group are cancelled. */
  while (!nursery_task_is_finished (task))
    g_main_context_iteration (NULL, TRUE);
  g_cancellable_cancel (cancelled);
  nursery_task_wait_async (task, cancelled, rel_store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (nursery_task_wait_finish (task, result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_SUCCEEDED);
  g_assert_cmpint (nursery_task_get_int (task), ==, 77);
  g_assert_true (nursery_group_wait (group, NULL, &error));  /* R7: own cancel is quiet */
  g_assert_no_error (error);
}

/* Every async call completes exactly once, even when its group is
 * dropped right away (GLib 2.74 does not warn about a GTask finalized
 * without returning: count it ourselves). */

static void
count_call (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  (*(guint *) data)++;
}

static void
start_then_linger (NurseryTask *task,
                   gpointer     unused)
{
  g_cancellable_connect (nursery_task_get_cancellable (task),
                         G_CALLBACK (rel_return_if_cancelled_cb), task, NULL);
}

static void
test_async_calls_complete_once (void)
{
  NurseryGroup *group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "t", start_then_linger, NULL, NULL, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  gboolean finalized = FALSE;
  guint starts = 0, task_waits = 0;

  g_object_weak_ref (G_OBJECT (group), rel_set_flag, &finalized);
  nursery_group_start_async (group, "s", start_then_linger, NULL, NULL, cancellable, count_call, &starts);
  nursery_task_wait_async (task, NULL, count_call, &task_waits);
  g_object_unref (group);   /* the start keeps it alive until it completes */
  g_cancellable_cancel (cancellable);
  nursery_task_cancel (task);
  while (!finalized)
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (starts, ==, 1);
  g_assert_cmpuint (task_waits, ==, 1);
}

/* next_async() hands finished tasks out one per call; a group finalized
 * with finished tasks nobody took must release them (and only them). */

static void
next_once_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  NurseryTask **task = data;

  *task = nursery_group_next_finish (NURSERY_GROUP (source), result, NULL);
  g_assert_nonnull (*task);
}

static void
count_gone (gpointer  data,
            GObject  *where_the_object_was)
{
  (*(guint *) data)++;
}

static void
test_next_leftovers_released (void)
{
  if (g_test_subprocess ())
    {
      NurseryGroup *group = nursery_group_new ();
      NurseryTask *first = NULL;
      gboolean finalized = FALSE;
      guint tasks_gone = 0;

      g_object_weak_ref (G_OBJECT (group), rel_set_flag, &finalized);
      for (guint i = 0; i < 3; i++)
        {
          NurseryTask *task = nursery_group_spawn (group, "t", return_one, &finalized, NULL, NULL);

          g_object_weak_ref (G_OBJECT (task), count_gone, &tasks_gone);
          g_object_unref (task);
        }
      /* One call takes one task; two stay queued for next_async(). */
      nursery_group_next_async (group, NULL, next_once_cb, &first);
      while (first == NULL || !nursery_group_is_closed (group))
        g_main_context_iteration (NULL, TRUE);
      g_object_unref (group);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_assert_true (finalized);
      g_assert_cmpuint (tasks_gone, ==, 2);
      g_object_unref (first);
      g_assert_cmpuint (tasks_gone, ==, 3);
      return;
    }
  g_test_trap_subprocess (NULL, subprocess_timeout (), G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* Report every failing scene, not only the first. */
  g_test_set_nonfatal_assertions ();

  g_test_add_func ("/reliability/lifetime/R22/cleanup-spawns/when-joined", test_cleanup_spawns_when_joined);
  g_test_add_func ("/reliability/lifetime/R22/cleanup-spawns/after-last-unref", test_cleanup_spawns_after_last_unref);
  g_test_add_func ("/reliability/lifetime/R14/drop-nested-in-parent-cancel-handler/empty",
                   test_drop_nested_in_parent_cancel_handler);
  g_test_add_func ("/reliability/lifetime/R14/drop-nested-in-parent-cancel-handler/busy",
                   test_drop_busy_nested_in_parent_cancel_handler);
  g_test_add_func ("/reliability/lifetime/R20/drop-in-cancellable-handler", test_drop_in_cancellable_handler);
  g_test_add_func ("/reliability/lifetime/R9/value-survives-cancel", test_value_survives_cancel);
  g_test_add_func ("/reliability/lifetime/R3/async-calls-complete-once", test_async_calls_complete_once);
  g_test_add_func ("/reliability/lifetime/R25/next-leftovers-released", test_next_leftovers_released);

  return g_test_run ();
}
