/* test-pool.c: Nursery's worker pool on its own (R28)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built with nursery-pool.c compiled in, so the tests reach the pool's
 * private API and counters; thread children on it are covered through
 * the public API in test-engine.c.
 */

/* sched_setaffinity() and CPU_SET(), for the starved pool. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "config.h"

#include "nursery-pool.h"
#include "nursery-pool-private.h"
#include "nursery-test-utils.h"
#include "nursery-tsan-private.h"

#ifdef __linux__
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#define SECOND G_USEC_PER_SEC
#define DEFAULT_GROW_DELAY   1000
#define DEFAULT_IDLE_TIMEOUT (10 * SECOND)

/* Jobs meet at an NtBarrier: each arrives and waits for @n arrivals or
 * for `release`, giving up after 10 s (which fails the test). */
static void
barrier_job (gpointer data)
{
  NtBarrier *barrier = data;
  gint64 end = g_get_monotonic_time () + 10 * SECOND;

  if (barrier->mark_blocked)
    _nursery_pool_blocking_begin ();
  g_mutex_lock (&barrier->lock);
  barrier->arrived++;
  g_cond_broadcast (&barrier->cond);
  while (barrier->arrived < barrier->n && !barrier->release && !barrier->timed_out)
    if (!g_cond_wait_until (&barrier->cond, &barrier->lock, end))
      barrier->timed_out = TRUE;
  g_mutex_unlock (&barrier->lock);
  if (barrier->mark_blocked)
    _nursery_pool_blocking_end ();

  g_mutex_lock (&barrier->lock);
  barrier->left++;
  g_cond_broadcast (&barrier->cond);
  g_mutex_unlock (&barrier->lock);
}

/* Waits (10 s at most) until @count of the barrier reaches @target. */
static void
barrier_wait_for (NtBarrier   *barrier,
                  const guint *count,
                  guint        target)
{
  gint64 end = g_get_monotonic_time () + 10 * SECOND;

  g_mutex_lock (&barrier->lock);
  while (*count < target)
    g_assert_true (g_cond_wait_until (&barrier->cond, &barrier->lock, end));
  g_mutex_unlock (&barrier->lock);
}

static void
barrier_release (NtBarrier *barrier)
{
  g_mutex_lock (&barrier->lock);
  barrier->release = TRUE;
  g_cond_broadcast (&barrier->cond);
  g_mutex_unlock (&barrier->lock);
}

static void
get_stats (NurseryPoolStats *stats)
{
  _nursery_pool_get_stats (stats);
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates a private context on a 1 ms tick until the pool has at most
 * @n workers (failing at the tests' deadline): exiting idle workers say
 * nothing. */
static void
wait_for_workers_at_most (guint n)
{
  GMainContext *context = g_main_context_new ();
  GSource *tick = g_timeout_source_new (1);
  NurseryPoolStats stats;

  g_source_set_callback (tick, tick_cb, NULL, NULL);
  g_source_attach (tick, context);
  NT_ITERATE_CONTEXT_UNTIL (context, (get_stats (&stats), stats.n_threads <= n));
  g_source_destroy (tick);
  g_source_unref (tick);
  g_main_context_unref (context);
}

/* Every test starts from an empty pool. */
static void
drain_pool (void)
{
  _nursery_pool_set_timings (DEFAULT_GROW_DELAY, 1000);
  wait_for_workers_at_most (0);
  _nursery_pool_set_timings (DEFAULT_GROW_DELAY, DEFAULT_IDLE_TIMEOUT);
}

/* R28: a worker that declares itself blocked is replaced at once. With
 * the monitor switched off (a grow delay of a minute), only the marks
 * can let the last job of the barrier run. */
static void
test_blocked_worker_replaced (void)
{
  guint n = 2 * g_get_num_processors () + 2;
  NurseryPoolStats stats;
  NtBarrier barrier;

  drain_pool ();
  _nursery_pool_set_timings (60 * SECOND, DEFAULT_IDLE_TIMEOUT);
  nt_barrier_init (&barrier, n);
  barrier.mark_blocked = TRUE;
  for (guint i = 0; i < n; i++)
    _nursery_pool_push (barrier_job, &barrier);

  barrier_wait_for (&barrier, &barrier.left, n);
  g_assert_false (barrier.timed_out);
  get_stats (&stats);
  g_assert_cmpuint (stats.n_threads, >=, n);
  g_assert_cmpuint (stats.n_blocked, ==, 0);

  nt_barrier_clear (&barrier);
  drain_pool ();
}

/* R28: workers that block without saying so (a user's GCond) are
 * caught by the monitor: the pool grows for the waiting jobs. */
static void
test_stalled_pool_grows (void)
{
  guint n = 64;
  NtBarrier barrier;

  drain_pool ();
  nt_barrier_init (&barrier, n);
  for (guint i = 0; i < n; i++)
    _nursery_pool_push (barrier_job, &barrier);

  barrier_wait_for (&barrier, &barrier.left, n);
  g_assert_false (barrier.timed_out);

  nt_barrier_clear (&barrier);
  drain_pool ();
}

/* R28: the pool never starts more workers than the cap; jobs beyond it
 * wait for a worker and run once one is free. */
static void
test_cap (void)
{
  guint n = 12;
  guint max = nursery_get_max_threads ();
  NurseryPoolStats stats;
  NtBarrier barrier;

  drain_pool ();
  nursery_set_max_threads (4);
  g_assert_cmpuint (nursery_get_max_threads (), ==, 4);
  nt_barrier_init (&barrier, n);
  for (guint i = 0; i < n; i++)
    _nursery_pool_push (barrier_job, &barrier);

  barrier_wait_for (&barrier, &barrier.arrived, 4);
  get_stats (&stats);
  g_assert_cmpuint (stats.n_threads, ==, 4);
  g_assert_cmpuint (stats.n_queued, ==, n - 4);
  g_assert_cmpuint (barrier.arrived, ==, 4);

  /* Released, the first four free their workers for the rest. */
  barrier_release (&barrier);
  barrier_wait_for (&barrier, &barrier.left, n);
  g_assert_false (barrier.timed_out);
  get_stats (&stats);
  g_assert_cmpuint (stats.n_threads, <=, 4);

  nursery_set_max_threads (max);
  nt_barrier_clear (&barrier);
  drain_pool ();
}

/* R28: a lowered cap lets surplus workers go; the default cap is
 * documented as 64 per processor, at least 512. */
static void
test_lowered_cap_and_default (void)
{
  guint n = 8;
  NtBarrier barrier;

  g_assert_cmpuint (nursery_get_max_threads (), ==,
                    MAX (512, 64 * g_get_num_processors ()));
  drain_pool ();
  nt_barrier_init (&barrier, n);
  for (guint i = 0; i < n; i++)
    _nursery_pool_push (barrier_job, &barrier);
  barrier_wait_for (&barrier, &barrier.left, n);

  /* Idle now, they exit as soon as the cap is lowered below them. */
  nursery_set_max_threads (1);
  wait_for_workers_at_most (1);

  nursery_set_max_threads (MAX (512, 64 * g_get_num_processors ()));
  nt_barrier_clear (&barrier);
  drain_pool ();
}

/* Marks off a pool worker do nothing. */
static void
test_marks_off_worker (void)
{
  NurseryPoolStats stats;

  _nursery_pool_blocking_begin ();
  get_stats (&stats);
  g_assert_cmpuint (stats.n_blocked, ==, 0);
  _nursery_pool_blocking_end ();
  _nursery_pool_blocking_end ();
  get_stats (&stats);
  g_assert_cmpuint (stats.n_blocked, ==, 0);
}

/* Jobs run in the order they were pushed on a single worker, across the
 * growth of the ring that holds them. */
typedef struct
{
  GMutex  lock;
  GCond   cond;
  GArray *order;
  guint   n;
} OrderLog;

typedef struct
{
  OrderLog *log;
  guint     id;
} OrderJob;

static void
order_job (gpointer data)
{
  OrderJob *job = data;

  g_mutex_lock (&job->log->lock);
  g_array_append_val (job->log->order, job->id);
  g_cond_broadcast (&job->log->cond);
  g_mutex_unlock (&job->log->lock);
}

static void
test_fifo_across_ring_growth (void)
{
  OrderLog log = { .order = g_array_new (FALSE, FALSE, sizeof (guint)), .n = 1000 };
  OrderJob *jobs = g_new (OrderJob, log.n);
  gint64 end = g_get_monotonic_time () + 10 * SECOND;

  drain_pool ();
  nursery_set_max_threads (1);
  g_mutex_init (&log.lock);
  g_cond_init (&log.cond);
  for (guint i = 0; i < log.n; i++)
    {
      jobs[i] = (OrderJob) { &log, i };
      _nursery_pool_push (order_job, &jobs[i]);
    }
  g_mutex_lock (&log.lock);
  while (log.order->len < log.n)
    g_assert_true (g_cond_wait_until (&log.cond, &log.lock, end));
  g_mutex_unlock (&log.lock);
  for (guint i = 0; i < log.n; i++)
    g_assert_cmpuint (g_array_index (log.order, guint, i), ==, i);

  nursery_set_max_threads (MAX (512, 64 * g_get_num_processors ()));
  drain_pool ();
  g_mutex_clear (&log.lock);
  g_cond_clear (&log.cond);
  g_array_unref (log.order);
  g_free (jobs);
}

#if defined(__linux__) && !defined(NURSERY_TSAN)
/* Short jobs counted down to a GCond, as a thread child hands itself
 * back: its own function first, then a lock. */
typedef struct
{
  GMutex lock;
  GCond  cond;
  guint  remaining;
} Countdown;

static void
countdown_job (gpointer data)
{
  Countdown *countdown = data;

  _nursery_pool_user_code_done ();
  g_mutex_lock (&countdown->lock);
  if (--countdown->remaining == 0)
    g_cond_broadcast (&countdown->cond);
  g_mutex_unlock (&countdown->lock);
}

/* One process per processor that only spins, until killed; returns
 * once each has said it runs. */
static void
start_spinners (GPid   *spinners,
                guint   n)
{
  int running[2];
  char byte;

  g_assert_cmpint (pipe (running), ==, 0);
  for (guint i = 0; i < n; i++)
    {
      pid_t pid = fork ();

      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          volatile guint64 spins = 0;

          if (write (running[1], "r", 1) != 1)
            _exit (1);
          for (;;)
            spins++;
        }
      spinners[i] = pid;
    }
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (read (running[0], &byte, 1), ==, 1);
  close (running[0]);
  close (running[1]);
}

static void
stop_spinners (GPid  *spinners,
               guint  n)
{
  for (guint i = 0; i < n; i++)
    {
      kill (spinners[i], SIGKILL);
      waitpid (spinners[i], NULL, 0);
    }
}

/* In a process of its own: 50 000 short jobs while every processor
 * spins for another process and this one runs at the lowest priority
 * (the workers, created from this thread, inherit it). */
static void
run_starved_pool (void)
{
  guint n_cpu = g_get_num_processors ();
  guint n_spinners = 1;
  GPid spinners[1];
  Countdown countdown = { .remaining = 50000 };
  gint64 end = g_get_monotonic_time () + 60 * SECOND;
  guint n = countdown.remaining;
  NurseryPoolStats stats;

  cpu_set_t one_cpu;

  /* All on one processor, shared with one spinner: the workers (created
   * from this thread, so they inherit both) seldom get a turn. The
   * spinner first: it would inherit the priority. */
  CPU_ZERO (&one_cpu);
  CPU_SET (sched_getcpu () >= 0 ? sched_getcpu () : 0, &one_cpu);
  g_assert_cmpint (sched_setaffinity (0, sizeof one_cpu, &one_cpu), ==, 0);
  start_spinners (spinners, n_spinners);
  g_assert_cmpint (setpriority (PRIO_PROCESS, 0, 19), ==, 0);
  g_mutex_init (&countdown.lock);
  g_cond_init (&countdown.cond);
  for (guint i = 0; i < n; i++)
    _nursery_pool_push (countdown_job, &countdown);
  g_mutex_lock (&countdown.lock);
  while (countdown.remaining > 0)
    g_assert_true (g_cond_wait_until (&countdown.cond, &countdown.lock, end));
  g_mutex_unlock (&countdown.lock);
  stop_spinners (spinners, n_spinners);

  /* Workers live 10 s once idle: all it ever started are still here. */
  get_stats (&stats);
  g_assert_cmpuint (stats.n_threads, <=, n_cpu);
  g_mutex_clear (&countdown.lock);
  g_cond_clear (&countdown.cond);
}
#endif

/* R28: workers that cannot run because the machine is busy have not
 * blocked, and the pool does not multiply them. The monitor used to
 * judge by the process's CPU time alone: starved, the process looked
 * idle, and these jobs started the pool's whole cap (512 threads).
 * Not under TSan: its runtime takes locks of its own around every
 * mutex call, so a starved thread holding one puts the workers to
 * sleep where a plain build never sleeps, and the kernel, rightly,
 * reports them asleep. */
static void
test_starved_workers_not_multiplied (void)
{
#if defined(NURSERY_TSAN)
  g_test_skip ("TSan's runtime locks make starved workers sleep");
#elif defined(__linux__)
  if (g_test_subprocess ())
    {
      run_starved_pool ();
      return;
    }
  g_test_trap_subprocess (NULL, 120 * SECOND, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
#else
  g_test_skip ("needs Linux's /proc and fork()");
#endif
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nursery/pool/R28/blocked-worker-replaced", test_blocked_worker_replaced);
  g_test_add_func ("/nursery/pool/R28/stalled-pool-grows", test_stalled_pool_grows);
  g_test_add_func ("/nursery/pool/R28/cap", test_cap);
  g_test_add_func ("/nursery/pool/R28/lowered-cap-and-default", test_lowered_cap_and_default);
  g_test_add_func ("/nursery/pool/R28/marks-off-worker", test_marks_off_worker);
  g_test_add_func ("/nursery/pool/R28/fifo-across-ring-growth", test_fifo_across_ring_growth);
  g_test_add_func ("/nursery/pool/R28/starved-workers-not-multiplied",
                   test_starved_workers_not_multiplied);

  return g_test_run ();
}
