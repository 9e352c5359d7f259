/* bench-engine.c: Nursery's engine against the strongest hand-written GLib
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* What this measures (docs/performance.md has the table and its reading)
 *
 * nursery-bench.c compares Nursery with the GTask code people commonly
 * write; this program compares it with what a competent GLib developer
 * writes when they care about cost (R28), in the same process, rounds
 * rotated as there, medians of the per-round figures and ratios:
 *  - (spawn + join against "gtask-batch" and "struct-batch" is
 *    bench-spawn.c's);
 *  - cancel: GTasks sharing one GCancellable, whose one handler returns
 *    them all;
 *  - threads: g_task_run_in_thread() per child, and a GThreadPool with
 *    one thread per processor counting down to a GCond;
 *  - barrier: N thread children that wait for each other, against a
 *    GThreadPool sized N; both start cold (no idle thread left over);
 *  - deadlines: 100k operations with a deadline each, one GSource over a
 *    binary heap in the baseline; CPU time of the main thread and the
 *    lateness of each deadline;
 *  - deadline churn: children with (far) deadlines finishing one per
 *    iteration, against the same children without deadlines.
 *
 * `--scenario NAME` (repeatable) runs a subset; `--quick` divides N. */

#include <nursery.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench-rounds.h"

#define CANCEL_CHILDREN   100000
#define THREAD_CHILDREN   20000
#define DEADLINES         100000
#define DEADLINE_LEAD_MS  1500      /* after spawning and starting them all */
#define DEADLINE_SPREAD_MS 1000
#define CHURN_CHILDREN    100000

#define TARGET_THREADS_RATIO   1.00
#define TARGET_BARRIER_RATIO   3.00
#define TARGET_DEADLINE_CPU    2.00
#define TARGET_DEADLINE_P99    1.50
#define TARGET_CHURN_RATIO     2.00

static const guint barrier_sizes[] = { 16, 64, 256 };

static int opt_runs;
static gboolean opt_quick;
static char **opt_scenarios;

static guint
scaled (guint n)
{
  return opt_quick ? MAX (n / 10, 100) : n;
}


/* Cancel: Nursery against GTasks sharing one GCancellable */

/* ns per child from the cancel until the group is joined. */
static double
cancel_nursery (guint n)
{
  NurseryGroup *group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  guint started = 0;
  gint64 start;
  double result;

  for (guint i = 0; i < n; i++)
    g_object_unref (nursery_group_spawn (group, NULL, bench_waiting_child, &started, NULL, NULL));
  while (started < n)
    g_main_context_iteration (NULL, TRUE);

  start = bench_now_ns ();
  nursery_group_cancel (group);
  /* R7: the owner's own cancel is quiet; every child ended cancelled. */
  if (!nursery_group_wait (group, NULL, &error) || nursery_group_get_n_cancelled (group) != n)
    g_error ("The group did not end with every child cancelled");
  g_object_unref (group);
  result = (double) (bench_now_ns () - start) / n;
  return result;
}

typedef struct
{
  GPtrArray *tasks;
  guint      remaining;
} SharedCancel;

static void
shared_cancel_done (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  SharedCancel *shared = user_data;
  g_autoptr(GError) error = NULL;

  if (g_task_propagate_boolean (G_TASK (result), &error) ||
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_error ("A shared-cancellable child did not end cancelled");
  shared->remaining--;
}

/* The one handler: every waiting GTask returns cancelled (GTask defers
 * the callbacks to the next iteration itself). */
static void
shared_cancelled (GCancellable *cancellable,
                  gpointer      data)
{
  SharedCancel *shared = data;

  for (guint i = 0; i < shared->tasks->len; i++)
    g_task_return_error_if_cancelled (shared->tasks->pdata[i]);
  g_ptr_array_set_size (shared->tasks, 0);
}

static double
cancel_shared_cancellable (guint n)
{
  GCancellable *cancellable = g_cancellable_new ();
  SharedCancel shared = { g_ptr_array_new_with_free_func (g_object_unref), n };
  gint64 start;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (shared.tasks, g_task_new (NULL, cancellable, shared_cancel_done, &shared));
  g_cancellable_connect (cancellable, G_CALLBACK (shared_cancelled), &shared, NULL);

  start = bench_now_ns ();
  g_cancellable_cancel (cancellable);
  bench_run_until_zero (&shared.remaining);
  g_object_unref (cancellable);
  g_ptr_array_unref (shared.tasks);
  return (double) (bench_now_ns () - start) / n;
}

static void
scenario_cancel (void)
{
  static const BenchMeasure impls[] = { cancel_nursery, cancel_shared_cancellable };
  guint n = scaled (CANCEL_CHILDREN);
  g_autofree char *count = bench_human_count (n);
  g_autofree char *label = g_strdup_printf ("cancel %s waiting children vs one shared GCancellable", count);
  g_autofree char *id = g_strdup_printf ("engine-cancel-%s-shared-cancellable", count);
  BenchRounds rounds;
  BenchRow row;

  bench_rounds_run (&rounds, impls, G_N_ELEMENTS (impls), n, opt_runs, n);
  row = bench_rounds_row (&rounds, 1);
  bench_report (&row, id, label, "ns/child",
          "GTasks sharing one GCancellable, one ::cancelled handler returns them", 0);
  bench_rounds_clear (&rounds);
}

/* Thread children: spawn + join of empty ones */

static void
empty_thread_child (NurseryTask *task,
                    gpointer     user_data)
{
}

static double
threads_nursery (guint n)
{
  gint64 start = bench_now_ns ();
  NurseryGroup *group = nursery_group_new ();

  for (guint i = 0; i < n; i++)
    g_object_unref (nursery_group_spawn_in_thread (group, NULL, empty_thread_child,
                                                   NULL, NULL, NULL));
  bench_group_join (group);
  g_object_unref (group);
  return (double) (bench_now_ns () - start) / n;
}

static void
gtask_thread_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  guint *remaining = user_data;

  if (!g_task_propagate_boolean (G_TASK (result), NULL))
    g_error ("A g_task_run_in_thread child failed");
  (*remaining)--;
}

static void
gtask_thread_func (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  g_task_return_boolean (task, TRUE);
}

static double
threads_gtask (guint n)
{
  gint64 start = bench_now_ns ();
  guint remaining = n;

  for (guint i = 0; i < n; i++)
    {
      GTask *task = g_task_new (NULL, NULL, gtask_thread_done, &remaining);

      g_task_run_in_thread (task, gtask_thread_func);
      g_object_unref (task);
    }
  bench_run_until_zero (&remaining);
  return (double) (bench_now_ns () - start) / n;
}

/* A GThreadPool, one thread per processor, counting down to a GCond:
 * no main context at all, the cheapest join there is. */
typedef struct
{
  GMutex lock;
  GCond  cond;
  guint  remaining;
} Countdown;

static void
countdown_init (Countdown *countdown,
                guint      n)
{
  g_mutex_init (&countdown->lock);
  g_cond_init (&countdown->cond);
  countdown->remaining = n;
}

static void
countdown_clear (Countdown *countdown)
{
  g_mutex_clear (&countdown->lock);
  g_cond_clear (&countdown->cond);
}

static void
countdown_one (Countdown *countdown)
{
  g_mutex_lock (&countdown->lock);
  if (--countdown->remaining == 0)
    g_cond_broadcast (&countdown->cond);
  g_mutex_unlock (&countdown->lock);
}

static void
countdown_wait (Countdown *countdown)
{
  g_mutex_lock (&countdown->lock);
  while (countdown->remaining > 0)
    g_cond_wait (&countdown->cond, &countdown->lock);
  g_mutex_unlock (&countdown->lock);
}

static void
pool_empty_job (gpointer data,
                gpointer user_data)
{
  countdown_one (user_data);
}

static double
threads_thread_pool (guint n)
{
  gint64 start = bench_now_ns ();
  Countdown countdown;
  GThreadPool *pool;

  countdown_init (&countdown, n);
  pool = g_thread_pool_new (pool_empty_job, &countdown, g_get_num_processors (), FALSE, NULL);
  for (guint i = 0; i < n; i++)
    g_thread_pool_push (pool, GUINT_TO_POINTER (i + 1), NULL);
  countdown_wait (&countdown);
  g_thread_pool_free (pool, FALSE, TRUE);
  countdown_clear (&countdown);
  return (double) (bench_now_ns () - start) / n;
}

static void
scenario_threads (void)
{
  static const BenchMeasure impls[] = { threads_nursery, threads_gtask, threads_thread_pool };
  guint n = scaled (THREAD_CHILDREN);
  g_autofree char *count = bench_human_count (n);
  g_autofree char *label = g_strdup_printf ("thread spawn+join N=%s vs g_task_run_in_thread", count);
  g_autofree char *label_pool = g_strdup_printf ("thread spawn+join N=%s vs GThreadPool (no context)", count);
  g_autofree char *id = g_strdup_printf ("engine-threads-%s-gtask", count);
  g_autofree char *id_pool = g_strdup_printf ("engine-threads-%s-thread-pool", count);
  BenchRounds rounds;
  BenchRow row;

  bench_rounds_run (&rounds, impls, G_N_ELEMENTS (impls), n, opt_runs, n);
  row = bench_rounds_row (&rounds, 1);
  bench_report (&row, id, label, "ns/child", "g_task_new + g_task_run_in_thread per child",
          TARGET_THREADS_RATIO);
  row = bench_rounds_row (&rounds, 2);
  bench_report (&row, id_pool, label_pool, "ns/child",
          "GThreadPool of one thread per processor, a GCond countdown", 0);
  bench_rounds_clear (&rounds);
}

/* Barrier: N thread children that wait for each other */

typedef struct
{
  GMutex lock;
  GCond  cond;
  guint  n;
  guint  arrived;
} Barrier;

static void
barrier_arrive (Barrier *barrier)
{
  g_mutex_lock (&barrier->lock);
  if (++barrier->arrived == barrier->n)
    g_cond_broadcast (&barrier->cond);
  while (barrier->arrived < barrier->n)
    g_cond_wait (&barrier->cond, &barrier->lock);
  g_mutex_unlock (&barrier->lock);
}

static void
barrier_init (Barrier *barrier,
              guint    n)
{
  g_mutex_init (&barrier->lock);
  g_cond_init (&barrier->cond);
  barrier->n = n;
  barrier->arrived = 0;
}

static void
barrier_clear (Barrier *barrier)
{
  g_mutex_clear (&barrier->lock);
  g_cond_clear (&barrier->cond);
}

/* Threads of this process, from /proc/self/status. */
static gint64
n_threads_now (void)
{
  return bench_status_kib ("Threads:");
}

/* Both sides start cold: lowering Nursery's cap to one lets its idle
 * workers exit, and GLib's unused threads are stopped. Bounded wait. */
static void
make_cold (void)
{
  guint max = nursery_get_max_threads ();
  gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC;

  nursery_set_max_threads (1);
  g_thread_pool_set_max_unused_threads (0);
  g_thread_pool_stop_unused_threads ();
  while (n_threads_now () > 4 && g_get_monotonic_time () < end)
    g_thread_yield ();
  nursery_set_max_threads (max);
}

static void
barrier_child (NurseryTask *task,
               gpointer     data)
{
  barrier_arrive (data);
}

static double
barrier_nursery (guint n)
{
  NurseryGroup *group;
  Barrier barrier;
  gint64 start;
  double ms;

  make_cold ();
  barrier_init (&barrier, n);
  start = bench_now_ns ();
  group = nursery_group_new ();
  for (guint i = 0; i < n; i++)
    g_object_unref (nursery_group_spawn_in_thread (group, NULL, barrier_child, &barrier, NULL, NULL));
  bench_group_join (group);
  g_object_unref (group);
  ms = (double) (bench_now_ns () - start) / 1e6;
  barrier_clear (&barrier);
  return ms;
}

typedef struct
{
  Barrier   barrier;
  Countdown countdown;
} BarrierRun;

static void
pool_barrier_job (gpointer data,
                  gpointer user_data)
{
  BarrierRun *run = user_data;

  barrier_arrive (&run->barrier);
  countdown_one (&run->countdown);
}

static double
barrier_thread_pool (guint n)
{
  BarrierRun run;
  GThreadPool *pool;
  gint64 start;
  double ms;

  make_cold ();
  barrier_init (&run.barrier, n);
  countdown_init (&run.countdown, n);
  start = bench_now_ns ();
  pool = g_thread_pool_new (pool_barrier_job, &run, n, FALSE, NULL);
  for (guint i = 0; i < n; i++)
    g_thread_pool_push (pool, GUINT_TO_POINTER (i + 1), NULL);
  countdown_wait (&run.countdown);
  ms = (double) (bench_now_ns () - start) / 1e6;
  g_thread_pool_free (pool, FALSE, TRUE);
  barrier_clear (&run.barrier);
  countdown_clear (&run.countdown);
  return ms;
}

static void
scenario_barrier (void)
{
  static const BenchMeasure impls[] = { barrier_nursery, barrier_thread_pool };

  for (guint s = 0; s < G_N_ELEMENTS (barrier_sizes); s++)
    {
      guint n = barrier_sizes[s];
      g_autofree char *label = g_strdup_printf ("barrier of %u blocking thread children", n);
      g_autofree char *id = g_strdup_printf ("engine-barrier-%u", n);
      BenchRounds rounds;
      BenchRow row;

      bench_rounds_run (&rounds, impls, G_N_ELEMENTS (impls), n, opt_runs, 0);
      row = bench_rounds_row (&rounds, 1);
      bench_report (&row, id, label, "ms", "GThreadPool sized N, started cold", TARGET_BARRIER_RATIO);
      bench_rounds_clear (&rounds);
    }
}

/* Deadlines: 100k operations, each with its own deadline */

typedef struct
{
  BenchDeadline at;           /* first: bench_lateness() reads it */
  guint         index;        /* heap baseline: 1-based, 0 when out */
  GTask        *task;         /* heap baseline */
  GCancellable *cancellable;  /* heap baseline with cancellables */
  guint        *remaining;    /* heap baseline: operations not completed */
} Probe;

typedef struct
{
  double cpu_ms;      /* of this (the main) thread, spawns to join */
  double p99_us;      /* lateness */
} DeadlineRun;

static double
thread_cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static gint64
deadline_for (gint64 base,
              guint  i,
              guint  n)
{
  guint lead = opt_quick ? DEADLINE_LEAD_MS / 5 : DEADLINE_LEAD_MS;

  /* Spread evenly, in a scrambled order so that neither side only ever
   * appends to the end of its structure. */
  guint k = (guint) (((guint64) i * 7919) % n);

  return base + (gint64) lead * 1000 + (gint64) k * DEADLINE_SPREAD_MS * 1000 / n;
}

static double
probes_p99 (Probe *probes,
            guint  n)
{
  g_autoptr(GArray) lateness = bench_lateness (probes, sizeof *probes, n);

  return bench_percentile (lateness, 0.99);
}

static DeadlineRun
deadlines_nursery (guint n)
{
  g_autofree Probe *probes = g_new0 (Probe, n);
  NurseryGroup *group;
  g_autoptr(GError) error = NULL;
  double cpu = thread_cpu_ms ();
  gint64 base = g_get_monotonic_time ();
  DeadlineRun run;

  group = nursery_group_new ();
  /* R17: under fail-fast the first timeout would cancel the others. */
  nursery_group_set_policy (group, NURSERY_POLICY_SUPERVISE);
  for (guint i = 0; i < n; i++)
    {
      NurseryTask *task = nursery_group_spawn (group, NULL, bench_deadline_child, &probes[i], NULL, NULL);

      probes[i].at.deadline = deadline_for (base, i, n);
      nursery_task_set_deadline (task, probes[i].at.deadline);
      g_object_unref (task);
    }
  if (nursery_group_wait (group, NULL, &error) ||
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_error ("The deadline group did not time out");
  g_object_unref (group);
  run.cpu_ms = thread_cpu_ms () - cpu;
  run.p99_us = probes_p99 (probes, n);
  return run;
}

/* The baselines: one GSource over a binary heap of deadlines, each entry
 * knowing its index. On expiry either the GTask returns TIMED_OUT right
 * away (an operation with nothing to abort: the cheapest), or, like a
 * Nursery child, the operation is cancelled through its own GCancellable
 * and its ::cancelled handler returns it TIMED_OUT. */
typedef struct
{
  GSource  source;
  Probe  **heap;
  guint    len;
} HeapTimer;

static void
heap_put (HeapTimer *timer,
          guint      i,
          Probe     *probe)
{
  timer->heap[i] = probe;
  probe->index = i + 1;
}

static void
heap_push (HeapTimer *timer,
           Probe     *probe)
{
  guint i = timer->len++;

  while (i > 0 && probe->at.deadline < timer->heap[(i - 1) / 2]->at.deadline)
    {
      heap_put (timer, i, timer->heap[(i - 1) / 2]);
      i = (i - 1) / 2;
    }
  heap_put (timer, i, probe);
}

static Probe *
heap_pop (HeapTimer *timer)
{
  Probe *first = timer->heap[0];
  Probe *last = timer->heap[--timer->len];
  guint i = 0;

  for (;;)
    {
      guint child = 2 * i + 1;

      if (child >= timer->len)
        break;
      if (child + 1 < timer->len && timer->heap[child + 1]->at.deadline < timer->heap[child]->at.deadline)
        child++;
      if (last->at.deadline <= timer->heap[child]->at.deadline)
        break;
      heap_put (timer, i, timer->heap[child]);
      i = child;
    }
  if (timer->len > 0)
    heap_put (timer, i, last);
  first->index = 0;
  return first;
}

static gboolean
heap_timer_dispatch (GSource     *source,
                     GSourceFunc  callback,
                     gpointer     user_data)
{
  HeapTimer *timer = (HeapTimer *) source;
  gint64 now = g_get_monotonic_time ();

  while (timer->len > 0 && timer->heap[0]->at.deadline <= now)
    {
      Probe *probe = heap_pop (timer);

      if (probe->cancellable != NULL)
        {
          g_cancellable_cancel (probe->cancellable);
          continue;
        }
      probe->at.fired = g_get_monotonic_time ();
      g_task_return_new_error (probe->task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "Timed out");
      g_clear_object (&probe->task);
    }
  g_source_set_ready_time (source, timer->len > 0 ? timer->heap[0]->at.deadline : -1);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs heap_timer_funcs = { .dispatch = heap_timer_dispatch };

/* An operation's completion. Like a Nursery child's end, it releases what
 * the operation held: its GCancellable goes here, in the timed window, as
 * in real code (its ::cancelled handler with it). */
static void
heap_task_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Probe *probe = user_data;
  g_autoptr(GError) error = NULL;

  if (g_task_propagate_boolean (G_TASK (result), &error) ||
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_error ("A heap-baseline task did not time out");
  g_clear_object (&probe->cancellable);
  (*probe->remaining)--;
}

static void
heap_operation_cancelled (GCancellable *cancellable,
                          gpointer      data)
{
  Probe *probe = data;

  probe->at.fired = g_get_monotonic_time ();
  g_task_return_new_error (probe->task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "Timed out");
  g_clear_object (&probe->task);
}

static DeadlineRun
deadlines_heap (guint    n,
                gboolean with_cancellables)
{
  g_autofree Probe *probes = g_new0 (Probe, n);
  HeapTimer *timer;
  guint remaining = n;
  double cpu = thread_cpu_ms ();
  gint64 base = g_get_monotonic_time ();
  DeadlineRun run;

  timer = (HeapTimer *) g_source_new (&heap_timer_funcs, sizeof (HeapTimer));
  timer->heap = g_new (Probe *, n);
  g_source_attach (&timer->source, NULL);
  for (guint i = 0; i < n; i++)
    {
      probes[i].at.deadline = deadline_for (base, i, n);
      if (with_cancellables)
        {
          probes[i].cancellable = g_cancellable_new ();
          g_cancellable_connect (probes[i].cancellable, G_CALLBACK (heap_operation_cancelled),
                                 &probes[i], NULL);
        }
      probes[i].remaining = &remaining;
      probes[i].task = g_task_new (NULL, probes[i].cancellable, heap_task_done, &probes[i]);
      /* The result is TIMED_OUT, not the CANCELLED of a cancelled task. */
      g_task_set_check_cancellable (probes[i].task, FALSE);
      heap_push (timer, &probes[i]);
      /* Only an earlier first deadline moves the ready time. */
      if (timer->heap[0] == &probes[i])
        g_source_set_ready_time (&timer->source, probes[i].at.deadline);
    }
  bench_run_until_zero (&remaining);
  g_source_destroy (&timer->source);
  g_free (timer->heap);
  g_source_unref (&timer->source);
  run.cpu_ms = thread_cpu_ms () - cpu;
  run.p99_us = probes_p99 (probes, n);
  return run;
}

static DeadlineRun
deadlines_run (guint impl,
               guint n)
{
  switch (impl)
    {
    case 0:
      return deadlines_nursery (n);
    case 1:
      return deadlines_heap (n, TRUE);
    default:
      return deadlines_heap (n, FALSE);
    }
}

static void
scenario_deadlines (void)
{
  guint n = scaled (DEADLINES);
  /* A round lasts over two seconds per side. */
  guint runs = MIN ((guint) opt_runs, 5);
  g_autofree char *count = bench_human_count (n);
  g_autofree char *label_cpu = g_strdup_printf ("%s deadlines over 1 s: main-thread CPU", count);
  g_autofree char *label_cpu_bare = g_strdup_printf ("%s deadlines: CPU vs heap without cancellables", count);
  g_autofree char *label_p99 = g_strdup_printf ("%s deadlines over 1 s: lateness p99", count);
  g_autofree char *label_p99_bare = g_strdup_printf ("%s deadlines: p99 vs heap without cancellables", count);
  g_autofree char *id_cpu = g_strdup_printf ("engine-deadlines-%s-cpu", count);
  g_autofree char *id_cpu_bare = g_strdup_printf ("engine-deadlines-%s-cpu-no-cancellable", count);
  g_autofree char *id_p99 = g_strdup_printf ("engine-deadlines-%s-p99", count);
  g_autofree char *id_p99_bare = g_strdup_printf ("engine-deadlines-%s-p99-no-cancellable", count);
  BenchRounds cpu = { 3, { 0 } };
  BenchRounds late = { 3, { 0 } };
  BenchRow row;

  for (guint i = 0; i < 3; i++)
    {
      cpu.samples[i] = g_array_new (FALSE, FALSE, sizeof (double));
      late.samples[i] = g_array_new (FALSE, FALSE, sizeof (double));
      deadlines_run (i, MIN (n, 10000));
    }
  for (guint run = 0; run < runs; run++)
    for (guint k = 0; k < 3; k++)
      {
        guint i = (run + k) % 3;
        DeadlineRun result = deadlines_run (i, n);

        g_array_append_val (cpu.samples[i], result.cpu_ms);
        g_array_append_val (late.samples[i], result.p99_us);
      }

  row = bench_rounds_row (&cpu, 1);
  bench_report (&row, id_cpu, label_cpu, "ms",
          "GTask + GCancellable per operation, one GSource over a binary heap cancels it",
          TARGET_DEADLINE_CPU);
  row = bench_rounds_row (&late, 1);
  bench_report (&row, id_p99, label_p99, "µs", "the same heap baseline", TARGET_DEADLINE_P99);
  row = bench_rounds_row (&cpu, 2);
  bench_report (&row, id_cpu_bare, label_cpu_bare, "ms",
          "GTask per operation, one GSource over a binary heap returns it TIMED_OUT", 0);
  row = bench_rounds_row (&late, 2);
  bench_report (&row, id_p99_bare, label_p99_bare, "µs", "the same, without cancellables", 0);
  bench_rounds_clear (&cpu);
  bench_rounds_clear (&late);
}

/* Deadline churn: children with deadlines finishing one per iteration */

typedef struct
{
  NurseryTask **tasks;
  guint         next;
  guint         n;
} Churn;

static void
churn_child (NurseryTask *task,
             gpointer     data)
{
}

/* One child returns per iteration, in spawn order. */
static gboolean
churn_step (gpointer data)
{
  Churn *churn = data;

  nursery_task_return_boolean (churn->tasks[churn->next++], TRUE);
  return churn->next < churn->n ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static double
churn_run (guint    n,
           gboolean with_deadlines)
{
  gint64 start = bench_now_ns ();
  NurseryGroup *group = nursery_group_new ();
  /* Far enough never to fire: what is measured is carrying them. */
  gint64 far = g_get_monotonic_time () + (gint64) 3600 * G_USEC_PER_SEC;
  Churn churn = { g_new (NurseryTask *, n), 0, n };

  for (guint i = 0; i < n; i++)
    {
      churn.tasks[i] = nursery_group_spawn (group, NULL, churn_child, NULL, NULL, NULL);
      if (with_deadlines)
        nursery_task_set_deadline (churn.tasks[i], far + i);
    }
  g_idle_add (churn_step, &churn);
  bench_group_join (group);
  for (guint i = 0; i < n; i++)
    g_object_unref (churn.tasks[i]);
  g_free (churn.tasks);
  g_object_unref (group);
  return (double) (bench_now_ns () - start) / n;
}

static double
churn_with_deadlines (guint n)
{
  return churn_run (n, TRUE);
}

static double
churn_without_deadlines (guint n)
{
  return churn_run (n, FALSE);
}

static void
scenario_churn (void)
{
  static const BenchMeasure impls[] = { churn_with_deadlines, churn_without_deadlines };
  guint n = scaled (CHURN_CHILDREN);
  g_autofree char *count = bench_human_count (n);
  g_autofree char *label = g_strdup_printf ("%s children with deadlines, one finishing per iteration", count);
  g_autofree char *id = g_strdup_printf ("engine-deadline-churn-%s", count);
  BenchRounds rounds;
  BenchRow row;

  bench_rounds_run (&rounds, impls, G_N_ELEMENTS (impls), n, MIN ((guint) opt_runs, 3), MIN (n, 10000));
  row = bench_rounds_row (&rounds, 1);
  bench_report (&row, id, label, "ns/child", "the same children without deadlines",
          TARGET_CHURN_RATIO);
  bench_rounds_clear (&rounds);
}

/* Running */

typedef struct
{
  const char *name;
  void      (*run) (void);
} Scenario;

static const Scenario scenarios[] = {
  { "cancel",   scenario_cancel },
  { "threads",  scenario_threads },
  { "barrier",  scenario_barrier },
  { "deadlines", scenario_deadlines },
  { "churn",    scenario_churn },
};

static gboolean
scenario_selected (const Scenario *scenario)
{
  return opt_scenarios == NULL || g_strv_contains ((const char * const *) opt_scenarios, scenario->name);
}

static void
parse_options (int    *argc,
               char ***argv)
{
  const GOptionEntry entries[] = {
    { "runs", 'r', 0, G_OPTION_ARG_INT, &opt_runs,
      "BenchRounds per figure (default 5, or $NURSERY_BENCH_RUNS)", "R" },
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &opt_quick, "Tenfold smaller N: a smoke test", NULL },
    { "scenario", 's', 0, G_OPTION_ARG_STRING_ARRAY, &opt_scenarios,
      "Only this scenario (spawn, cancel, threads, barrier, deadlines, churn); repeatable", "NAME" },
    G_OPTION_ENTRY_NULL
  };
  opt_runs = bench_parse_options ("- Nursery's engine against strong GLib baselines", entries, argc, argv, opt_runs, 5);
  for (guint i = 0; opt_scenarios != NULL && opt_scenarios[i] != NULL; i++)
    {
      gboolean known = FALSE;

      for (guint j = 0; j < G_N_ELEMENTS (scenarios); j++)
        known |= g_str_equal (opt_scenarios[i], scenarios[j].name);
      if (!known)
        {
          g_printerr ("Unknown --scenario '%s'\n", opt_scenarios[i]);
          exit (2);
        }
    }
}

int
main (int    argc,
      char **argv)
{
  parse_options (&argc, &argv);

  g_print ("Nursery engine benchmarks: %d runs, medians%s\n\n", opt_runs,
           opt_quick ? " (--quick: N/10)" : "");
  bench_report_header ();
  for (guint i = 0; i < G_N_ELEMENTS (scenarios); i++)
    if (scenario_selected (&scenarios[i]))
      scenarios[i].run ();

  if (bench_report_any_miss () && g_getenv ("NURSERY_BENCH_STRICT") != NULL)
    return 1;
  return 0;
}
