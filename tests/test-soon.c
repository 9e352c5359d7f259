/* test-soon.c: children spawned without a handle, nursery_group_start_soon()
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Such a child is a small record until its turn, and a success nobody
 * but the group saw is one again until it is reported (R28). Each test
 * pins a rule that must hold all the same: whatever looks at the child
 * (its own function, task-finished, next_async(), list_tasks(), the tree
 * dump, a race) sees a task, and one a child keeps is never reused. */

#include <nursery.h>

#include "nursery-test-utils.h"

static void
log_child (NurseryTask *task,
           gpointer     log)
{
  g_ptr_array_add (log, g_strdup (nursery_task_get_name (task)));
  nursery_task_return_boolean (task, TRUE);
}

static void
start_soon_ok (NurseryGroup    *group,
               const char      *name,
               NurseryTaskFunc  func,
               gpointer         data,
               GDestroyNotify   destroy)
{
  GError *error = NULL;

  g_assert_true (nursery_group_start_soon (group, name, func, data, destroy, &error));
  g_assert_no_error (error);
}

static void
assert_log (GPtrArray  *log,
            const char *expected)
{
  g_autofree char *joined = NULL;

  g_ptr_array_add (log, NULL);
  joined = g_strjoinv (" ", (char **) log->pdata);
  g_ptr_array_set_size (log, log->len - 1);
  g_assert_cmpstr (joined, ==, expected);
}

static void
test_spawn_order (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(NurseryTask) b = NULL;

  start_soon_ok (group, "a", log_child, log, NULL);
  b = nursery_group_spawn (group, "b", log_child, log, NULL, NULL);
  start_soon_ok (group, "c", log_child, log, NULL);
  /* R1: never inline. */
  g_assert_cmpuint (log->len, ==, 0);
  g_assert_cmpuint (nursery_group_get_n_pending (group), ==, 3);

  g_assert_null (nt_wait (group));
  assert_log (log, "a b c");
  g_assert_cmpuint (nursery_group_get_n_spawned (group), ==, 3);
  g_assert_cmpuint (nursery_group_get_n_succeeded (group), ==, 3);
  g_assert_cmpuint (nursery_group_get_n_finished (group), ==, 3);
  g_assert_cmpuint (nursery_group_get_n_pending (group), ==, 0);
  g_assert_cmpuint (nursery_group_get_n_running (group), ==, 0);
}

static void
test_closed_refuses (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  guint destroyed = 0;

  g_assert_null (nt_wait (group));
  g_assert_false (nursery_group_start_soon (group, "late", nt_child_never_called, &destroyed,
                                            nt_count_destroy, &error));
  g_assert_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  g_assert_cmpuint (destroyed, ==, 1);
}

static void
test_bad_input (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  guint destroyed = 0;

  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*NURSERY_IS_GROUP*");
  g_assert_false (nursery_group_start_soon (NULL, NULL, nt_child_never_called, &destroyed,
                                            nt_count_destroy, NULL));
  g_test_assert_expected_messages ();
  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  g_assert_false (nursery_group_start_soon (group, NULL, NULL, &destroyed, nt_count_destroy, NULL));
  g_test_assert_expected_messages ();
  /* R24: refused, and the user data was not lost. */
  g_assert_cmpuint (destroyed, ==, 2);
  g_assert_null (nt_wait (group));
}

static void
test_cancelled_before_turn (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  guint destroyed = 0;

  nursery_group_cancel (group);
  start_soon_ok (group, "never", nt_child_never_called, &destroyed, nt_count_destroy);
  g_assert_null (nt_wait (group));
  g_assert_cmpuint (nursery_group_get_n_cancelled (group), ==, 1);
  g_assert_cmpuint (destroyed, ==, 1);
}

static void
test_cancelled_behind_limit (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  guint destroyed = 0;

  nursery_group_set_max_concurrent (group, 1);
  start_soon_ok (group, "first", nt_child_return_int_from_idle, GINT_TO_POINTER (5), NULL);
  start_soon_ok (group, "queued", nt_child_never_called, &destroyed, nt_count_destroy);
  NT_ITERATE_UNTIL (nursery_group_get_n_running (group) == 1);
  g_assert_cmpuint (nursery_group_get_n_pending (group), ==, 1);

  nursery_group_cancel (group);
  g_assert_null (nt_wait (group));
  /* R9: the first returned a value; R5: the queued one never ran. */
  g_assert_cmpuint (nursery_group_get_n_succeeded (group), ==, 1);
  g_assert_cmpuint (nursery_group_get_n_cancelled (group), ==, 1);
  g_assert_cmpuint (destroyed, ==, 1);
}

/* Leaves its task running; *slot is set to it, for the test to return. */
static void
keep_running (NurseryTask *task,
              gpointer     slot)
{
  *(NurseryTask **) slot = task;
}

static void
test_cancelled_behind_shielded (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) shielded = NULL;
  NurseryTask *holder = NULL;
  guint destroyed = 0;

  nursery_group_set_max_concurrent (group, 1);
  start_soon_ok (group, "holder", keep_running, &holder, NULL);
  shielded = nursery_group_spawn (group, "shielded", nt_child_return_int, GINT_TO_POINTER (2),
                                  NULL, NULL);
  nursery_task_set_shielded (shielded, TRUE);
  start_soon_ok (group, "queued", nt_child_never_called, &destroyed, nt_count_destroy);
  NT_ITERATE_UNTIL (holder != NULL);

  /* R5: the queued child behind the shielded one, which waits for the
   * slot, finishes without it, as a spawn()ed one would. */
  nursery_group_cancel (group);
  NT_ITERATE_UNTIL (destroyed == 1);
  g_assert_cmpuint (nursery_group_get_n_cancelled (group), ==, 1);
  g_assert_cmpuint (nursery_group_get_n_pending (group), ==, 1);
  g_assert_cmpint (nursery_task_get_state (shielded), ==, NURSERY_TASK_PENDING);

  /* R15: the shielded one still runs once the slot is free. */
  nursery_task_return_int (holder, 1);
  g_assert_null (nt_wait (group));
  g_assert_cmpint (nursery_task_get_state (shielded), ==, NURSERY_TASK_SUCCEEDED);
  g_assert_cmpuint (nursery_group_get_n_succeeded (group), ==, 2);
}

/* task-finished: the name, state and value of each task it hears. */
static void
record_finished (NurseryGroup *group,
                 NurseryTask  *task,
                 gpointer      log)
{
  const GValue *value = nursery_task_get_value (task);

  g_assert_cmpint (nursery_task_get_state (task), ==, NURSERY_TASK_SUCCEEDED);
  g_assert_true (G_VALUE_HOLDS_BOOLEAN (value));
  g_assert_true (g_value_get_boolean (value));
  g_ptr_array_add (log, g_strdup (nursery_task_get_name (task)));
}

static void
test_task_finished_sees_tasks (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) ran = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) heard = g_ptr_array_new_with_free_func (g_free);

  g_signal_connect (group, "task-finished", G_CALLBACK (record_finished), heard);
  start_soon_ok (group, "x", log_child, ran, NULL);
  start_soon_ok (group, "y", log_child, ran, NULL);
  start_soon_ok (group, "z", log_child, ran, NULL);
  g_assert_null (nt_wait (group));
  assert_log (heard, "x y z");
}

/* The first child's user data connects task-finished when it is freed,
 * in the middle of the batch that reports the others. */
typedef struct
{
  NurseryGroup *group;
  GPtrArray    *ran;
  GPtrArray    *heard;
} LateListener;

static void
connect_when_freed (gpointer data)
{
  LateListener *late = data;

  g_signal_connect (late->group, "task-finished", G_CALLBACK (record_finished), late->heard);
}

static void
log_child_late (NurseryTask *task,
                gpointer     data)
{
  log_child (task, ((LateListener *) data)->ran);
}

static void
test_handler_connected_mid_batch (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) ran = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) heard = g_ptr_array_new_with_free_func (g_free);
  LateListener late = { group, ran, heard };

  start_soon_ok (group, "first", log_child_late, &late, connect_when_freed);
  start_soon_ok (group, "second", log_child, ran, NULL);
  start_soon_ok (group, "third", log_child, ran, NULL);
  g_assert_null (nt_wait (group));
  assert_log (ran, "first second third");
  /* R21: every child reported after the connection is heard. */
  assert_log (heard, "second third");
}

typedef struct
{
  GPtrArray *tasks;
  gboolean   drained;    /* next_async() gave NULL */
} Collected;

static void
collect_next (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Collected *collected = user_data;
  g_autoptr(GError) error = NULL;
  NurseryTask *task = nursery_group_next_finish (NURSERY_GROUP (source), result, &error);

  g_assert_no_error (error);
  if (task == NULL)
    {
      collected->drained = TRUE;
      return;
    }
  g_ptr_array_add (collected->tasks, task);
  nursery_group_next_async (NURSERY_GROUP (source), NULL, collect_next, collected);
}

static void
test_next_hands_out_tasks (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) ran = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  Collected collected = { tasks, FALSE };

  nursery_group_next_async (group, NULL, collect_next, &collected);
  start_soon_ok (group, "p", log_child, ran, NULL);
  start_soon_ok (group, "q", log_child, ran, NULL);
  NT_ITERATE_UNTIL (collected.drained);

  /* R25: each exactly once, in completion order, then NULL. */
  g_assert_cmpuint (tasks->len, ==, 2);
  g_assert_cmpstr (nursery_task_get_name (tasks->pdata[0]), ==, "p");
  g_assert_cmpstr (nursery_task_get_name (tasks->pdata[1]), ==, "q");
  g_assert_cmpint (nursery_task_get_state (tasks->pdata[1]), ==, NURSERY_TASK_SUCCEEDED);
}

static char *
list_names (GListModel *model)
{
  GString *names = g_string_new (NULL);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(NurseryTask) task = g_list_model_get_item (model, i);

      g_string_append_printf (names, "%s%s", i > 0 ? " " : "", nursery_task_get_name (task));
    }
  return g_string_free (names, FALSE);
}

static void
test_list_shows_queued (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) ran = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GListModel) list = NULL;
  g_autoptr(NurseryTask) c = NULL;
  g_autofree char *names = NULL;
  g_autofree char *after = NULL;

  nursery_group_set_max_concurrent (group, 1);
  start_soon_ok (group, "a", log_child, ran, NULL);
  start_soon_ok (group, "b", log_child, ran, NULL);
  c = nursery_group_spawn (group, "c", log_child, ran, NULL, NULL);
  start_soon_ok (group, "d", log_child, ran, NULL);

  /* R27: the queued children are tasks of the list, in spawn order. */
  list = nursery_group_list_tasks (group);
  names = list_names (list);
  g_assert_cmpstr (names, ==, "a b c d");

  /* Spawned while the list exists: on it from the next batch. */
  start_soon_ok (group, "e", log_child, ran, NULL);
  g_assert_null (nt_wait (group));
  assert_log (ran, "a b c d e");
  after = list_names (list);
  g_assert_cmpstr (after, ==, "");
}

/* Lists the group's tasks into *data, a string, and lets the list go
 * before it returns: its task is then seen by nothing but the group. */
static void
list_then_return (NurseryTask *task,
                  gpointer     names)
{
  g_autoptr(GListModel) list = nursery_group_list_tasks (nursery_task_get_group (task));

  *(char **) names = list_names (list);
  nursery_task_return_boolean (task, TRUE);
}

/* Four children, a to d, of which the one at @lister lists the group's
 * tasks: the children it lists run with their list's task, the one
 * before it with a task lent on by the batch. */
static void
list_asked_by (guint       lister,
               const char *expected_names,
               const char *expected_log)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) ran = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *names = NULL;
  static const char * const children[] = { "a", "b", "c", "d" };

  for (guint i = 0; i < G_N_ELEMENTS (children); i++)
    if (i == lister)
      start_soon_ok (group, children[i], list_then_return, &names, NULL);
    else
      start_soon_ok (group, children[i], log_child, ran, NULL);
  g_assert_null (nt_wait (group));
  /* R27: the children the batch had yet to run are tasks of the list. */
  g_assert_cmpstr (names, ==, expected_names);
  assert_log (ran, expected_log);
  g_assert_cmpuint (nursery_group_get_n_succeeded (group), ==, 4);
}

static void
test_list_asked_mid_batch (void)
{
  list_asked_by (0, "a b c d", "b c d");
  list_asked_by (1, "b c d", "a c d");
}

/* Cancels its group, then returns. */
static void
cancel_group_child (NurseryTask *task,
                    gpointer     data)
{
  nursery_group_cancel (nursery_task_get_group (task));
  nursery_task_return_boolean (task, TRUE);
}

static void
test_cancelled_mid_batch (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) ran = g_ptr_array_new_with_free_func (g_free);
  guint destroyed = 0;

  start_soon_ok (group, "a", log_child, ran, NULL);
  start_soon_ok (group, "b", cancel_group_child, NULL, NULL);
  start_soon_ok (group, "c", nt_child_never_called, &destroyed, nt_count_destroy);
  start_soon_ok (group, "d", nt_child_never_called, &destroyed, nt_count_destroy);
  g_assert_null (nt_wait (group));
  /* R5: the children the batch had yet to run, taken before the cancel,
   * are finished cancelled without running, their data freed. */
  assert_log (ran, "a");
  g_assert_cmpuint (nursery_group_get_n_succeeded (group), ==, 2);
  g_assert_cmpuint (nursery_group_get_n_cancelled (group), ==, 2);
  g_assert_cmpuint (destroyed, ==, 2);
}

/* task-finished: logs "name:state:cancelled" of each task it hears. */
static void
record_outcome (NurseryGroup *group,
                NurseryTask  *task,
                gpointer      log)
{
  g_ptr_array_add (log, g_strdup_printf ("%s:%d:%d", nursery_task_get_name (task),
                                         nursery_task_get_state (task),
                                         nursery_task_is_cancelled (task)));
}

/* What task-finished hears of a group whose children run in one batch:
 * "fails" fails (FAIL_FAST cancels the group when it is reported),
 * "succeeds" succeeds before that, "cancels" cancels the group and
 * succeeds. Spawned with start_soon() when @soon, spawn() otherwise. */
static char *
outcomes_after_cancels (gboolean soon)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) heard = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) ran = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  struct { const char *name; NurseryTaskFunc func; gpointer data; } children[] = {
    { "fails", nt_child_fail, (gpointer) "boom" },
    { "succeeds", log_child, ran },
    { "cancels", cancel_group_child, NULL },
  };

  g_signal_connect (group, "task-finished", G_CALLBACK (record_outcome), heard);
  for (guint i = 0; i < G_N_ELEMENTS (children); i++)
    if (soon)
      start_soon_ok (group, children[i].name, children[i].func, children[i].data, NULL);
    else
      g_object_unref (nursery_group_spawn (group, children[i].name, children[i].func,
                                           children[i].data, NULL, NULL));
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_ptr_array_add (heard, NULL);
  return g_strjoinv (" ", (char **) heard->pdata);
}

/* Cancels its own task, then returns. */
static void
cancel_self_child (NurseryTask *task,
                   gpointer     data)
{
  nursery_task_cancel (task);
  nursery_task_return_boolean (task, TRUE);
}

/* What task-finished hears of a child that cancels itself and succeeds,
 * in a group nothing cancels. */
static char *
outcome_of_self_cancel (gboolean soon)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) heard = g_ptr_array_new_with_free_func (g_free);

  g_signal_connect (group, "task-finished", G_CALLBACK (record_outcome), heard);
  if (soon)
    start_soon_ok (group, "self", cancel_self_child, NULL, NULL);
  else
    g_object_unref (nursery_group_spawn (group, "self", cancel_self_child, NULL, NULL, NULL));
  g_assert_null (nt_wait (group));
  g_assert_false (nursery_group_is_cancelled (group));
  g_assert_cmpuint (heard->len, ==, 1);
  return g_strdup (heard->pdata[0]);
}

static void
test_cancelled_as_spawned (void)
{
  g_autofree char *self_spawned = outcome_of_self_cancel (FALSE);
  g_autofree char *self_soon = outcome_of_self_cancel (TRUE);
  g_autofree char *self_expected = g_strdup_printf ("self:%d:1", NURSERY_TASK_SUCCEEDED);

  g_autofree char *spawned = outcomes_after_cancels (FALSE);
  g_autofree char *soon = outcomes_after_cancels (TRUE);
  g_autofree char *expected = g_strdup_printf ("fails:%d:1 succeeds:%d:1 cancels:%d:1",
                                               NURSERY_TASK_FAILED, NURSERY_TASK_SUCCEEDED,
                                               NURSERY_TASK_SUCCEEDED);

  /* R12: a child whose group was cancelled while it ran, or after it
   * returned but before it was reported, was cancelled: whichever task
   * the library hands out for it says so (R9: its value stands). */
  g_assert_cmpstr (spawned, ==, expected);
  g_assert_cmpstr (soon, ==, spawned);
  /* R13: cancelled on its own, in a group nobody cancelled. */
  g_assert_cmpstr (self_spawned, ==, self_expected);
  g_assert_cmpstr (self_soon, ==, self_spawned);
}

static void
test_dump_shows_queued (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) ran = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *dump = NULL;

  start_soon_ok (group, "queued-one", log_child, ran, NULL);
  dump = nursery_group_dump_tree (group);
  g_assert_nonnull (strstr (dump, "task “queued-one” [pending]"));
  g_assert_null (nt_wait (group));
}

/* Keeps a reference to its task in *data, then returns 7. */
static void
keep_task_child (NurseryTask *task,
                 gpointer     slot)
{
  *(NurseryTask **) slot = g_object_ref (task);
  nursery_task_return_int (task, 7);
}

static void
note_task_child (NurseryTask *task,
                 gpointer     slot)
{
  *(NurseryTask **) slot = task;
  nursery_task_return_int (task, 8);
}

static void
test_kept_task_not_reused (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) kept = NULL;
  NurseryTask *next = NULL;

  start_soon_ok (group, "kept", keep_task_child, &kept, NULL);
  start_soon_ok (group, "next", note_task_child, &next, NULL);
  g_assert_null (nt_wait (group));

  /* R9: the value stays readable from the handle the child kept. */
  g_assert_true (next != kept);
  g_assert_cmpstr (nursery_task_get_name (kept), ==, "kept");
  g_assert_cmpint (nursery_task_get_state (kept), ==, NURSERY_TASK_SUCCEEDED);
  g_assert_cmpint (g_value_get_int64 (nursery_task_get_value (kept)), ==, 7);
}

static void
note_distinct_task (NurseryTask *task,
                    gpointer     set)
{
  g_hash_table_add (set, task);
  nursery_task_return_int (task, 1);
}

static void
test_one_task_for_a_batch (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GHashTable) tasks = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < 1000; i++)
    start_soon_ok (group, NULL, note_distinct_task, tasks, NULL);
  g_assert_null (nt_wait (group));
  /* R28: children that finish within their turn lend one task on. */
  g_assert_cmpuint (g_hash_table_size (tasks), ==, 1);
  g_assert_cmpuint (nursery_group_get_n_succeeded (group), ==, 1000);
}

/* Listens to its own task's state, then returns. */
static void
listening_child (NurseryTask *task,
                 gpointer     counter)
{
  g_signal_connect (task, "notify::state", G_CALLBACK (nt_count_notify), counter);
  nursery_task_return_boolean (task, TRUE);
}

static void
test_child_listening_to_its_task (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  guint notifies = 0;

  start_soon_ok (group, "listener", listening_child, &notifies, NULL);
  g_assert_null (nt_wait (group));
  /* R21: it hears its task finish. */
  g_assert_cmpuint (notifies, ==, 1);
}

static void
test_race_winner_is_a_task (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) ran = g_ptr_array_new_with_free_func (g_free);
  NurseryTask *winner;

  nursery_group_set_policy (group, NURSERY_POLICY_RACE);
  start_soon_ok (group, "winner", log_child, ran, NULL);
  start_soon_ok (group, "second", log_child, ran, NULL);
  g_assert_null (nt_wait (group));
  winner = nursery_group_get_winner (group);
  g_assert_nonnull (winner);
  g_assert_cmpstr (nursery_task_get_name (winner), ==, "winner");
  g_assert_true (g_value_get_boolean (nursery_task_get_value (winner)));
}

static void
test_failure_attributed (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;

  start_soon_ok (group, "bad", nt_child_fail, (gpointer) "boom", NULL);
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "boom");
  names = nursery_group_get_failed_task_names (group);
  g_assert_cmpstr (names[0], ==, "bad");
  g_assert_null (names[1]);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nursery/soon/R1/later-iteration-in-spawn-order", test_spawn_order);
  g_test_add_func ("/nursery/soon/R4/closed-refuses", test_closed_refuses);
  g_test_add_func ("/nursery/soon/R24/bad-input", test_bad_input);
  g_test_add_func ("/nursery/soon/R5/cancelled-before-turn", test_cancelled_before_turn);
  g_test_add_func ("/nursery/soon/R5/cancelled-behind-limit", test_cancelled_behind_limit);
  g_test_add_func ("/nursery/soon/R5/cancelled-behind-shielded", test_cancelled_behind_shielded);
  g_test_add_func ("/nursery/soon/R21/task-finished-sees-tasks", test_task_finished_sees_tasks);
  g_test_add_func ("/nursery/soon/R21/handler-connected-mid-batch", test_handler_connected_mid_batch);
  g_test_add_func ("/nursery/soon/R21/child-listening-to-its-task", test_child_listening_to_its_task);
  g_test_add_func ("/nursery/soon/R25/next-hands-out-tasks", test_next_hands_out_tasks);
  g_test_add_func ("/nursery/soon/R27/list-shows-queued", test_list_shows_queued);
  g_test_add_func ("/nursery/soon/R27/list-asked-mid-batch", test_list_asked_mid_batch);
  g_test_add_func ("/nursery/soon/R5/cancelled-mid-batch", test_cancelled_mid_batch);
  g_test_add_func ("/nursery/soon/R12/cancelled-as-spawned", test_cancelled_as_spawned);
  g_test_add_func ("/nursery/soon/R14/dump-shows-queued", test_dump_shows_queued);
  g_test_add_func ("/nursery/soon/R9/kept-task-not-reused", test_kept_task_not_reused);
  g_test_add_func ("/nursery/soon/R28/one-task-for-a-batch", test_one_task_for_a_batch);
  g_test_add_func ("/nursery/soon/R11/race-winner-is-a-task", test_race_winner_is_a_task);
  g_test_add_func ("/nursery/soon/R29/failure-attributed", test_failure_attributed);

  return g_test_run ();
}
