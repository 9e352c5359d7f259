/* test-runner.c: children spawned with a runner and a key
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A binding keeps what each keyed child runs under its key: each test
 * pins that the runner is called exactly once per key, to run it by the
 * rules of any in-context child, or with NULL wherever the child will
 * never run, so the binding's map can never leak nor be read twice. */

#include <nursery.h>

#include "nursery-test-utils.h"

typedef struct
{
  GPtrArray *entries;   /* "run:KEY" or "drop:KEY", in call order */
  GThread   *owner;
  guint      destroyed;
} KeyLog;

static void
key_log_init (KeyLog *log)
{
  log->entries = g_ptr_array_new_with_free_func (g_free);
  log->owner = g_thread_self ();
  log->destroyed = 0;
}

static void
key_log_clear (KeyLog *log)
{
  g_ptr_array_unref (log->entries);
}

static void
assert_entries (KeyLog     *log,
                const char *expected)
{
  g_autofree char *joined = NULL;

  g_ptr_array_add (log->entries, NULL);
  joined = g_strjoinv (" ", (char **) log->entries->pdata);
  g_ptr_array_set_size (log->entries, log->entries->len - 1);
  g_assert_cmpstr (joined, ==, expected);
}

/* Runs the child of @key (it succeeds with @key) or logs its drop; on
 * the owner context's thread, always. */
static void
log_key (NurseryTask *task,
         gsize        key,
         gpointer     data)
{
  KeyLog *log = data;

  g_assert_true (g_thread_self () == log->owner);
  g_ptr_array_add (log->entries, g_strdup_printf ("%s:%" G_GSIZE_FORMAT,
                                                  task != NULL ? "run" : "drop", key));
  if (task == NULL)
    return;
  /* The runner's bookkeeping is not the caller's user data. */
  g_assert_null (nursery_task_get_task_data (task));
  nursery_task_return_int (task, (gint64) key);
}

static void
count_destroy (gpointer data)
{
  KeyLog *log = data;

  log->destroyed++;
}

/* A child of nursery_group_start_soon(), among the keyed ones. */
static void
log_plain (NurseryTask *task,
           gpointer     data)
{
  KeyLog *log = data;

  g_ptr_array_add (log->entries, g_strdup ("plain"));
  nursery_task_return_boolean (task, TRUE);
}

static NurseryRunner *
log_runner (KeyLog *log)
{
  return nursery_runner_new (log_key, log, count_destroy);
}

static void
test_keys_run_in_spawn_order (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) first = NULL;
  g_autoptr(NurseryTask) third = NULL;
  g_autoptr(GError) error = NULL;
  KeyLog log;
  NurseryRunner *runner;

  key_log_init (&log);
  runner = log_runner (&log);
  first = nursery_group_spawn_keyed (group, "first", runner, 1, &error);
  g_assert_no_error (error);
  g_assert_true (nursery_group_start_soon_keyed (group, "second", runner, 2, &error));
  g_assert_no_error (error);
  g_assert_true (nursery_group_start_soon (group, "plain", log_plain, &log, NULL, &error));
  g_assert_no_error (error);
  third = nursery_group_spawn_keyed (group, "third", runner, G_MAXUINT32, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (nursery_task_get_name (first), ==, "first");

  /* R1: never inline. */
  g_assert_cmpuint (log.entries->len, ==, 0);
  g_assert_cmpuint (nursery_group_get_n_pending (group), ==, 4);
  g_assert_null (nt_wait (group));

  /* R1: in spawn order with the other spawn functions' children. */
  assert_entries (&log, "run:1 run:2 plain run:4294967295");
  g_assert_cmpint (nursery_task_get_int (first), ==, 1);
  g_assert_cmpint (nursery_task_get_int (third), ==, (gint64) G_MAXUINT32);
  g_assert_cmpuint (nursery_group_get_n_succeeded (group), ==, 4);

  /* Each child held the runner: dropped with the caller's reference. */
  g_assert_cmpuint (log.destroyed, ==, 0);
  g_object_unref (runner);
  g_assert_cmpuint (log.destroyed, ==, 1);
  key_log_clear (&log);
}

static void
test_unstarted_keys_dropped (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) first = NULL;
  KeyLog log;
  NurseryRunner *runner;

  key_log_init (&log);
  runner = log_runner (&log);
  nursery_group_cancel (group);
  first = nursery_group_spawn_keyed (group, "first", runner, 1, NULL);
  g_assert_true (nursery_group_start_soon_keyed (group, "second", runner, 2, NULL));
  /* The caller's reference goes first: the children keep the runner. */
  g_object_unref (runner);
  g_assert_cmpuint (log.destroyed, ==, 0);

  g_assert_null (nt_wait (group));
  /* R5: neither ran, and each key came back once. */
  assert_entries (&log, "drop:1 drop:2");
  g_assert_cmpint (nursery_task_get_state (first), ==, NURSERY_TASK_CANCELLED);
  g_assert_cmpuint (nursery_group_get_n_cancelled (group), ==, 2);
  g_assert_cmpuint (log.destroyed, ==, 1);
  key_log_clear (&log);
}

static void
test_closed_group_drops_key (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryRunner) runner = NULL;
  g_autoptr(GError) error = NULL;
  KeyLog log;

  key_log_init (&log);
  runner = log_runner (&log);
  g_assert_null (nt_wait (group));

  /* R4: refused with an error, and the key is back before the call returns. */
  g_assert_null (nursery_group_spawn_keyed (group, NULL, runner, 7, &error));
  g_assert_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  assert_entries (&log, "drop:7");
  g_clear_error (&error);
  g_assert_false (nursery_group_start_soon_keyed (group, NULL, runner, 8, &error));
  g_assert_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  assert_entries (&log, "drop:7 drop:8");
  g_assert_cmpuint (nursery_group_get_n_spawned (group), ==, 0);
  key_log_clear (&log);
}

static void
test_bad_input_drops_key (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryRunner) runner = NULL;
  KeyLog log;

  key_log_init (&log);
  runner = log_runner (&log);

  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*NURSERY_IS_GROUP*");
  g_assert_null (nursery_group_spawn_keyed (NULL, NULL, runner, 1, NULL));
  g_test_assert_expected_messages ();
  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*NURSERY_IS_GROUP*");
  g_assert_false (nursery_group_start_soon_keyed (NULL, NULL, runner, 2, NULL));
  g_test_assert_expected_messages ();
  /* R24: refused, and the key was not lost. */
  assert_entries (&log, "drop:1 drop:2");

  /* Without a runner there is nobody to give the key back to. */
  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*NURSERY_IS_RUNNER*");
  g_assert_null (nursery_group_spawn_keyed (group, NULL, NULL, 3, NULL));
  g_test_assert_expected_messages ();
  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  g_assert_null (nursery_runner_new (NULL, &log, count_destroy));
  g_test_assert_expected_messages ();
  /* R24: nor the data of a refused runner. */
  g_assert_cmpuint (log.destroyed, ==, 1);

  assert_entries (&log, "drop:1 drop:2");
  g_assert_null (nt_wait (group));
  g_assert_cmpuint (nursery_group_get_n_spawned (group), ==, 0);
  key_log_clear (&log);
}

/* R24: a thread child spawning into its own group is refused, and each
 * key still reaches the runner, on the refusing thread. */

static void
count_drops (NurseryTask *task,
             gsize        key,
             gpointer     data)
{
  g_assert_null (task);
  g_atomic_int_add ((int *) data, (int) key);
}

static void
spawn_keyed_from_worker (NurseryTask *task,
                         gpointer     data)
{
  NurseryGroup *group = nursery_task_get_group (task);
  NurseryRunner *runner = data;

  g_assert_null (nursery_group_spawn_keyed (group, "sibling", runner, 1, NULL));
  g_assert_false (nursery_group_start_soon_keyed (group, "sibling", runner, 2, NULL));
}

static void
test_off_owner_drops_key (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryRunner) runner = NULL;
  g_autoptr(GError) error = NULL;
  int dropped = 0;

  runner = nursery_runner_new (count_drops, &dropped, NULL);
  for (guint i = 0; i < 2; i++)
    g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*_nursery_group_called_on_owner*");
  g_object_unref (nursery_group_spawn_in_thread (group, "spawner", spawn_keyed_from_worker,
                                                 runner, NULL, NULL));
  error = nt_wait (group);
  g_test_assert_expected_messages ();

  g_assert_no_error (error);
  g_assert_cmpint (g_atomic_int_get (&dropped), ==, 1 + 2);
  g_assert_cmpuint (nursery_group_get_n_finished (group), ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nursery/runner/R1/keys-run-in-spawn-order", test_keys_run_in_spawn_order);
  g_test_add_func ("/nursery/runner/R5/unstarted-keys-dropped", test_unstarted_keys_dropped);
  g_test_add_func ("/nursery/runner/R4/closed-group-drops-key", test_closed_group_drops_key);
  g_test_add_func ("/nursery/runner/R24/bad-input-drops-key", test_bad_input_drops_key);
  g_test_add_func ("/nursery/runner/R24/off-owner-drops-key", test_off_owner_drops_key);

  return g_test_run ();
}
