/* test-engine.c: thread children on Nursery's pool and deadlines on the
 * per-context timer, through the public API (R28, R16, R17)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "nursery-test-utils.h"

#define SECOND G_USEC_PER_SEC

/* Thread children meet at an NtBarrier: each waits for all @n, for its
 * cancellable, or 10 s (which fails the test). */
static void
barrier_wake (GCancellable *cancellable,
              gpointer      data)
{
  NtBarrier *barrier = data;

  g_mutex_lock (&barrier->lock);
  g_cond_broadcast (&barrier->cond);
  g_mutex_unlock (&barrier->lock);
}

static void
barrier_child (NurseryTask *task,
               gpointer     data)
{
  NtBarrier *barrier = data;
  GCancellable *cancellable = nursery_task_get_cancellable (task);
  gint64 end = g_get_monotonic_time () + 10 * SECOND;
  gulong handler = g_cancellable_connect (cancellable, G_CALLBACK (barrier_wake), barrier, NULL);

  g_mutex_lock (&barrier->lock);
  barrier->arrived++;
  g_cond_broadcast (&barrier->cond);
  while (barrier->arrived < barrier->n && !g_cancellable_is_cancelled (cancellable))
    if (!g_cond_wait_until (&barrier->cond, &barrier->lock, end))
      {
        barrier->timed_out = TRUE;
        break;
      }
  g_mutex_unlock (&barrier->lock);
  g_cancellable_disconnect (cancellable, handler);
  nursery_task_return_error_if_cancelled (task);
}

/* R28: N thread children that wait for each other all complete: the
 * pool grows beyond its one worker per processor for them. */
static void
test_thread_barrier (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  NtBarrier barrier;

  nt_barrier_init (&barrier, 64);
  for (guint i = 0; i < barrier.n; i++)
    g_object_unref (nursery_group_spawn_in_thread (group, "barrier", barrier_child,
                                                   &barrier, NULL, NULL));
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_false (barrier.timed_out);
  g_assert_cmpuint (barrier.arrived, ==, 64);
  nt_barrier_clear (&barrier);
}

static gboolean
arrived_at_least (NtBarrier *barrier,
                  guint      n)
{
  gboolean reached;

  g_mutex_lock (&barrier->lock);
  reached = barrier->arrived >= n;
  g_mutex_unlock (&barrier->lock);
  return reached;
}

/* R28: with the cap at M and N > M children waiting on each other, they
 * cannot all run; cancelling the group still ends it: the running ones
 * see their cancellable, the waiting ones start cancelled. */
static void
test_cap_then_cancel (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  guint max = nursery_get_max_threads ();
  gint64 end = g_get_monotonic_time () + 10 * SECOND;
  NtBarrier barrier;

  nursery_set_max_threads (3);
  nt_barrier_init (&barrier, 12);
  for (guint i = 0; i < barrier.n; i++)
    g_object_unref (nursery_group_spawn_in_thread (group, "capped", barrier_child,
                                                   &barrier, NULL, NULL));
  /* Every worker the cap allows is taken: 3 children wait for 9 more. */
  while (!arrived_at_least (&barrier, 3))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, FALSE);
    }
  g_assert_cmpint (nursery_group_get_n_running (group), ==, 12);

  nursery_group_cancel (group);
  error = nt_wait (group);
  g_assert_no_error (error);  /* R7: the owner's own cancel is quiet */
  g_assert_false (barrier.timed_out);
  g_assert_cmpint (nursery_group_get_n_running (group), ==, 0);

  nursery_set_max_threads (max);
  nt_barrier_clear (&barrier);
}

/* R28: a pipeline of thread children blocked in the channels' blocking
 * calls, far more stages than processors, carries every item through. */
#define STAGES 32
#define ITEMS  200

typedef struct
{
  NurseryChannel *in;
  NurseryChannel *out;  /* NULL for the last stage */
  guint           sum;
} Stage;

static void
stage_child (NurseryTask *task,
             gpointer     data)
{
  Stage *stage = data;
  GCancellable *cancellable = nursery_task_get_cancellable (task);
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  while (nursery_channel_receive (stage->in, &value, cancellable, &error))
    {
      stage->sum += g_value_get_uint (&value);
      if (stage->out != NULL &&
          !nursery_channel_send (stage->out, &value, cancellable, &error))
        break;
      g_value_unset (&value);
    }
  if (stage->out != NULL)
    nursery_channel_close (stage->out);
  if (!g_error_matches (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED))
    nursery_task_return_error (task, g_steal_pointer (&error));
}

static void
producer_child (NurseryTask *task,
                gpointer     data)
{
  NurseryChannel *out = data;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_value_init (&value, G_TYPE_UINT);
  for (guint i = 1; i <= ITEMS; i++)
    {
      g_value_set_uint (&value, i);
      if (!nursery_channel_send (out, &value, nursery_task_get_cancellable (task), &error))
        {
          nursery_task_return_error (task, g_steal_pointer (&error));
          break;
        }
    }
  nursery_channel_close (out);
}

static void
test_channel_pipeline_of_thread_children (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  NurseryChannel *channels[STAGES];
  Stage stages[STAGES];

  for (guint i = 0; i < STAGES; i++)
    channels[i] = nursery_channel_new (0);
  /* Consumers first: they all block before anything flows. */
  for (guint i = 0; i < STAGES; i++)
    {
      stages[i] = (Stage) { channels[i], i + 1 < STAGES ? channels[i + 1] : NULL, 0 };
      g_object_unref (nursery_group_spawn_in_thread (group, "stage", stage_child,
                                                     &stages[i], NULL, NULL));
    }
  g_object_unref (nursery_group_spawn_in_thread (group, "producer", producer_child,
                                                 channels[0], NULL, NULL));

  error = nt_wait (group);
  g_assert_no_error (error);
  for (guint i = 0; i < STAGES; i++)
    {
      g_assert_cmpuint (stages[i].sum, ==, ITEMS * (ITEMS + 1) / 2);
      g_object_unref (channels[i]);
    }
}

/* R16, R28: many task deadlines of one context, set out of order, fire
 * in deadline order; each timed-out task fails with TIMED_OUT (R17). */
typedef struct
{
  GArray      *order;
  guint       *started;
  guint        id;
} Probe;

static void
probe_cancelled (GCancellable *cancellable,
                 gpointer      data)
{
  Probe *probe = data;

  g_array_append_val (probe->order, probe->id);
}

static void
probe_child (NurseryTask *task,
             gpointer     data)
{
  Probe *probe = data;

  (*probe->started)++;
  g_signal_connect (nursery_task_get_cancellable (task), "cancelled",
                    G_CALLBACK (probe_cancelled), data);
  g_signal_connect_swapped (nursery_task_get_cancellable (task), "cancelled",
                            G_CALLBACK (nursery_task_return_error_if_cancelled), task);
}

static void
test_task_deadlines_in_order (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (guint));
  guint n = 2000;
  guint started = 0;
  g_autofree Probe *probes = g_new (Probe, n);
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 base;

  nursery_group_set_policy (group, NURSERY_POLICY_SUPERVISE);
  for (guint i = 0; i < n; i++)
    {
      probes[i] = (Probe) { order, &started, i };
      g_ptr_array_add (tasks, nursery_group_spawn (group, NULL, probe_child, &probes[i], NULL, NULL));
    }
  /* Task 1 is cancelled by hand before it starts (R5): it never runs. */
  nursery_task_cancel (tasks->pdata[1]);
  nt_run_until_count (&started, n - 1);

  /* Nothing fires while they are set (the context is not iterated), so
   * the order is the deadlines' alone: reverse spawn order, some moved
   * later, one cleared. */
  base = g_get_monotonic_time () + 1000;
  for (guint i = 0; i < n; i++)
    {
      nursery_task_set_deadline (tasks->pdata[i], base + (n - i) * 10);
      if (i % 7 == 0)
        nursery_task_set_deadline (tasks->pdata[i], base + (n - i) * 10 + 5);
    }
  nursery_task_clear_deadline (tasks->pdata[n - 1]);
  nursery_task_cancel (tasks->pdata[n - 1]);

  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  /* n - 1 was cancelled by hand, at once; then the deadlines in order. */
  g_assert_cmpuint (order->len, ==, n - 1);
  g_assert_cmpuint (g_array_index (order, guint, 0), ==, n - 1);
  for (guint k = 1; k < n - 1; k++)
    {
      guint expected = n - 1 - k;

      g_assert_cmpuint (g_array_index (order, guint, k), ==, expected == 1 ? 0 : expected);
    }
  for (guint i = 0; i < n - 1; i++)
    g_assert_cmpint (nursery_task_get_state (tasks->pdata[i]), ==,
                     i == 1 ? NURSERY_TASK_CANCELLED : NURSERY_TASK_FAILED);
  g_assert_cmpint (nursery_task_get_state (tasks->pdata[n - 1]), ==, NURSERY_TASK_CANCELLED);
}

/* R28: a burst of returns is reported over several batches, so the
 * owner context's other sources (a deadline, a redraw) run between them
 * instead of waiting for thousands of reports. An idle at the group's
 * priority counts the iterations. */
typedef struct
{
  guint iteration;
  guint last_iteration;
  guint in_this_iteration;
  guint most_in_one_iteration;
  guint finished;
} BurstCount;

static gboolean
burst_count_iteration (gpointer data)
{
  BurstCount *count = data;

  count->iteration++;
  return G_SOURCE_CONTINUE;
}

static void
burst_task_finished (NurseryGroup *group,
                     NurseryTask  *task,
                     BurstCount   *count)
{
  if (count->iteration != count->last_iteration)
    {
      count->last_iteration = count->iteration;
      count->in_this_iteration = 0;
    }
  count->in_this_iteration++;
  count->most_in_one_iteration = MAX (count->most_in_one_iteration, count->in_this_iteration);
  count->finished++;
}

static void
test_burst_reported_in_chunks (void)
{
  const guint n = 4000;
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  BurstCount count = { 0 };
  guint idle;

  for (guint i = 0; i < n; i++)
    g_object_unref (nursery_group_spawn (group, NULL, nt_child_until_cancelled, NULL, NULL, NULL));
  NT_ITERATE_UNTIL (nursery_group_get_n_running (group) == n);
  g_signal_connect (group, "task-finished", G_CALLBACK (burst_task_finished), &count);
  idle = g_idle_add_full (G_PRIORITY_DEFAULT, burst_count_iteration, &count, NULL);

  /* All n return in this one call; their reports are what is spread. */
  nursery_group_cancel (group);
  error = nt_wait (group);
  g_source_remove (idle);

  g_assert_no_error (error);
  g_assert_cmpuint (count.finished, ==, n);
  g_assert_cmpuint (count.most_in_one_iteration, >, 0);
  g_assert_cmpuint (count.most_in_one_iteration, <=, n / 8);
}

/* R28, R1: a burst of spawns is started a chunk per batch too, in spawn
 * order; children that wait stay started. */
typedef struct
{
  BurstCount *count;
  guint       index;
  guint      *next_index;
} BurstStart;

static void
burst_child_starts (NurseryTask *task,
                    gpointer     data)
{
  BurstStart *start = data;

  g_assert_cmpuint (start->index, ==, *start->next_index);
  (*start->next_index)++;
  burst_task_finished (NULL, task, start->count);
  nt_child_until_cancelled (task, NULL);
}

static void
test_burst_started_in_chunks (void)
{
  const guint n = 4000;
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  BurstCount count = { 0 };
  guint next_index = 0;
  guint idle = g_idle_add_full (G_PRIORITY_DEFAULT, burst_count_iteration, &count, NULL);

  for (guint i = 0; i < n; i++)
    {
      BurstStart *start = g_new (BurstStart, 1);

      *start = (BurstStart) { &count, i, &next_index };
      if (i % 2 == 0)
        g_object_unref (nursery_group_spawn (group, NULL, burst_child_starts, start, g_free, NULL));
      else
        g_assert_true (nursery_group_start_soon (group, NULL, burst_child_starts, start, g_free, NULL));
    }
  NT_ITERATE_UNTIL (nursery_group_get_n_running (group) == n);
  g_source_remove (idle);

  g_assert_cmpuint (next_index, ==, n);
  g_assert_cmpuint (count.finished, ==, n);
  g_assert_cmpuint (count.most_in_one_iteration, >, 0);
  g_assert_cmpuint (count.most_in_one_iteration, <=, n / 8);
  g_assert_cmpuint (nursery_group_get_n_pending (group), ==, 0);

  nursery_group_cancel (group);
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpuint (nursery_group_get_n_cancelled (group), ==, n);
}

/* R28: a reported child that nothing but its group could see is reset
 * and reused by the next spawn; one anybody else can see never is. */
static gboolean
fail_after_traces (gpointer data)
{
  NurseryTask *task = data;

  g_cancellable_cancel (nursery_task_get_cancellable (task));
  nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "traces");
  return G_SOURCE_REMOVE;
}

/* Leaves a trace in every field it can, then fails on a later
 * iteration, once the group has emitted its notifies. */
static void
leave_traces_and_fail (NurseryTask *task,
                       gpointer     seen)
{
  *(NurseryTask **) seen = task;
  nursery_task_set_shielded (task, TRUE);
  nursery_task_set_progress (task, 0.5);
  nursery_task_set_deadline (task, g_get_monotonic_time () + (gint64) 3600 * SECOND);
  g_idle_add_full (G_PRIORITY_LOW, fail_after_traces, task, NULL);
}

static void
test_spawn_reuses_unseen_task (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) second = NULL;
  g_autoptr(GError) error = NULL;
  NurseryTask *first = NULL;

  nursery_group_set_policy (group, NURSERY_POLICY_SUPERVISE);
  g_object_unref (nursery_group_spawn (group, "first", leave_traces_and_fail, &first, NULL, NULL));
  NT_ITERATE_UNTIL (nursery_group_get_n_finished (group) == 1);

  /* The same object, as good as new. */
  second = nursery_group_spawn (group, "second", nt_child_return_int, GINT_TO_POINTER (2), NULL, NULL);
  g_assert_true (second == first);
  g_assert_cmpstr (nursery_task_get_name (second), ==, "second");
  g_assert_cmpint (nursery_task_get_state (second), ==, NURSERY_TASK_PENDING);
  g_assert_false (nursery_task_get_shielded (second));
  g_assert_cmpfloat (nursery_task_get_progress (second), ==, -1.0);
  g_assert_cmpint (nursery_task_get_deadline (second), ==, -1);
  g_assert_false (nursery_task_is_cancelled (second));
  g_assert_false (g_cancellable_is_cancelled (nursery_task_get_cancellable (second)));
  g_assert_no_error (nursery_task_get_error (second));

  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpint (nursery_task_get_state (second), ==, NURSERY_TASK_SUCCEEDED);
  g_assert_cmpint (nursery_task_get_int (second), ==, 2);
}

static void
count_finalized (gpointer  counter,
                 GObject  *where_the_object_was)
{
  (*(guint *) counter)++;
}

static void
test_seen_task_never_reused (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) kept = nursery_group_spawn (group, "kept", nt_child_return_int,
                                                     GINT_TO_POINTER (1), NULL, NULL);
  NurseryTask *watched = nursery_group_spawn (group, "watched", nt_child_return_int,
                                              GINT_TO_POINTER (2), NULL, NULL);
  NurseryTask *listened = nursery_group_spawn (group, "listened", nt_child_return_int,
                                               GINT_TO_POINTER (3), NULL, NULL);
  g_autoptr(GPtrArray) later = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  guint finalized = 0;
  guint notified = 0;

  g_object_weak_ref (G_OBJECT (watched), count_finalized, &finalized);
  g_signal_connect (listened, "notify", G_CALLBACK (nt_count_notify), &notified);
  g_object_unref (watched);
  NT_ITERATE_UNTIL (nursery_group_get_n_finished (group) == 3);
  g_assert_cmpuint (finalized, ==, 1);

  /* None of them comes back from spawn, and nothing of the new children
   * reaches them. */
  for (guint i = 0; i < 16; i++)
    g_ptr_array_add (later, nursery_group_spawn (group, "later", nt_child_return_int,
                                                 GINT_TO_POINTER (4), NULL, NULL));
  for (guint i = 0; i < later->len; i++)
    g_assert_true (later->pdata[i] != kept && later->pdata[i] != listened);
  notified = 0;
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpuint (notified, ==, 0);
  g_assert_cmpstr (nursery_task_get_name (kept), ==, "kept");
  g_assert_cmpint (nursery_task_get_int (kept), ==, 1);
  g_assert_cmpint (nursery_task_get_int (listened), ==, 3);
  g_signal_handlers_disconnect_by_func (listened, nt_count_notify, &notified);
  g_object_unref (listened);
}

/* R30: every child a group reports is finalized on its owner, before
 * wait() returns (nothing else holds them). */
typedef struct
{
  guint    finalized;
  GThread *owner;
} FinalizeCount;

static void
count_finalized_on_owner (gpointer  data,
                          GObject  *where_the_object_was)
{
  FinalizeCount *count = data;

  g_assert_true (g_thread_self () == count->owner);
  count->finalized++;
}

static void
test_burst_released_before_wait_returns (void)
{
  const guint n = 2000;
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  FinalizeCount count = { 0, g_thread_self () };

  for (guint i = 0; i < n; i++)
    {
      NurseryTask *task = nursery_group_spawn (group, NULL, nt_child_return_int, GINT_TO_POINTER (1),
                                               NULL, NULL);

      g_object_weak_ref (G_OBJECT (task), count_finalized_on_owner, &count);
      g_object_unref (task);
    }
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpuint (count.finalized, ==, n);
}

/* R28: a batch that another source schedules on the owner thread (here
 * the deadline timer's dispatch, through the child it cancels) is picked
 * up by the context's next prepare: it does not wake the context through
 * its eventfd, which costs a write and a read per batch. A poll function
 * counts the polls that found an fd ready; the context has no fd but its
 * wakeup. */
static guint polls_woken;

static gint
counting_poll (GPollFD *fds,
               guint    n_fds,
               gint     timeout)
{
  gint ready = g_poll (fds, n_fds, timeout);

  for (guint i = 0; i < n_fds; i++)
    if (fds[i].revents != 0)
      {
        polls_woken++;
        break;
      }
  return ready;
}

static void
test_owner_schedule_wakes_nothing (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(NurseryGroup) group = NULL;
  g_autoptr(NurseryTask) task = NULL;
  g_autoptr(GError) error = NULL;

  g_main_context_push_thread_default (context);
  g_main_context_set_poll_func (context, counting_poll);
  group = nursery_group_new ();
  task = nursery_group_spawn (group, "waits", nt_child_until_cancelled, NULL, NULL, NULL);
  nursery_task_set_deadline (task, g_get_monotonic_time () + 5000);
  /* Spawning and setting the deadline outside any iteration do wake it. */
  while (g_main_context_iteration (context, FALSE))
    ;

  polls_woken = 0;
  while (nursery_group_get_n_finished (group) == 0)
    g_main_context_iteration (context, TRUE);
  g_assert_cmpuint (polls_woken, ==, 0);
  g_assert_error (nursery_task_get_error (task), G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  error = nt_wait (group);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);

  g_main_context_pop_thread_default (context);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nursery/engine/R28/thread-barrier", test_thread_barrier);
  g_test_add_func ("/nursery/engine/R28/cap-then-cancel", test_cap_then_cancel);
  g_test_add_func ("/nursery/engine/R28/channel-pipeline-of-thread-children",
                   test_channel_pipeline_of_thread_children);
  g_test_add_func ("/nursery/engine/R16/task-deadlines-in-order", test_task_deadlines_in_order);
  g_test_add_func ("/nursery/engine/R28/burst-reported-in-chunks", test_burst_reported_in_chunks);
  g_test_add_func ("/nursery/engine/R28/burst-started-in-chunks", test_burst_started_in_chunks);
  g_test_add_func ("/nursery/engine/R28/spawn-reuses-unseen-task", test_spawn_reuses_unseen_task);
  g_test_add_func ("/nursery/engine/R28/owner-schedule-wakes-nothing", test_owner_schedule_wakes_nothing);
  g_test_add_func ("/nursery/engine/R30/burst-released-before-wait-returns",
                   test_burst_released_before_wait_returns);
  g_test_add_func ("/nursery/engine/R28/seen-task-never-reused", test_seen_task_never_reused);

  return g_test_run ();
}
