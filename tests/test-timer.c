/* test-timer.c: the per-context deadline timer on its own (R28,
 * with R16's "a deadline in the past fires on the next iteration")
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built with nursery-deadline.c compiled in, so the tests reach the
 * timer's private API; what groups and tasks make of a deadline is
 * covered through the public API in test-scopes.c and test-engine.c.
 */

#include "config.h"

#include "nursery-deadline-private.h"
#include "nursery-test-utils.h"

#define SECOND G_USEC_PER_SEC

/* Records the order deadlines fire in. */
typedef struct
{
  GArray *fired;   /* of guint: the probe's id */
} Log;

typedef struct _ThreadRun ThreadRun;

typedef struct
{
  NurseryDeadline  deadline;
  guint            id;
  Log             *log;
  ThreadRun       *run;   /* for test_contexts_on_threads() */
} Probe;

static void
probe_fired (gpointer target)
{
  Probe *probe = target;

  g_array_append_val (probe->log->fired, probe->id);
}

static void
probes_init (Probe *probes,
             guint  n,
             Log   *log)
{
  memset (probes, 0, n * sizeof (Probe));
  log->fired = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < n; i++)
    {
      probes[i].id = i;
      probes[i].log = log;
    }
}

static void
probe_set (Probe  *probe,
           gint64  when)
{
  _nursery_deadline_set (&probe->deadline, g_main_context_get_thread_default (),
                         when, probe_fired, probe);
}

/* Iterates until @n deadlines fired (failing at the tests' deadline). */
static void
run_until_fired (Log   *log,
                 guint  n)
{
  NT_ITERATE_CONTEXT_UNTIL (g_main_context_get_thread_default (), log->fired->len >= n);
}

static guint
fired_at (Log  *log,
          guint i)
{
  return g_array_index (log->fired, guint, i);
}

/* Each test runs on a context of its own, pushed as thread default. */
static GMainContext *
push_context (void)
{
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  return context;
}

static void
pop_context (GMainContext *context)
{
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  g_assert_cmpuint (_nursery_deadline_n_timers (), ==, 0);
}

/* R28: deadlines fire in deadline order, ties in the order they were
 * set, whatever the order they were set in. */
static void
test_ordering (void)
{
  GMainContext *context = push_context ();
  gint64 base = g_get_monotonic_time () + 20000;
  /* Deadlines (ms after base) given out of order; 2 and 8 tie. */
  static const guint offsets[] = { 9, 3, 5, 0, 7, 1, 8, 4, 5, 2 };
  static const guint expected[] = { 3, 5, 9, 1, 7, 2, 8, 4, 6, 0 };
  Probe probes[G_N_ELEMENTS (offsets)];
  Log log;

  probes_init (probes, G_N_ELEMENTS (probes), &log);
  for (guint i = 0; i < G_N_ELEMENTS (probes); i++)
    probe_set (&probes[i], base + offsets[i] * 1000);
  g_assert_cmpuint (_nursery_deadline_n_timers (), ==, 1);

  run_until_fired (&log, G_N_ELEMENTS (probes));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpuint (fired_at (&log, i), ==, expected[i]);

  g_array_unref (log.fired);
  pop_context (context);
}

/* R16: a moved deadline fires at its new time, earlier or later. */
static void
test_move (void)
{
  GMainContext *context = push_context ();
  gint64 now = g_get_monotonic_time ();
  Probe probes[3];
  Log log;

  probes_init (probes, 3, &log);
  probe_set (&probes[0], now + 10 * SECOND);
  probe_set (&probes[1], now + 20000);
  probe_set (&probes[2], now + 40000);
  /* 0 moves from last to first, 1 from first to after 2. */
  probe_set (&probes[0], now + 10000);
  probe_set (&probes[1], now + 60000);

  run_until_fired (&log, 3);
  g_assert_cmpuint (fired_at (&log, 0), ==, 0);
  g_assert_cmpuint (fired_at (&log, 1), ==, 2);
  g_assert_cmpuint (fired_at (&log, 2), ==, 1);
  g_assert_cmpint (g_get_monotonic_time (), >=, now + 60000);

  g_array_unref (log.fired);
  pop_context (context);
}

/* R16: a cleared deadline never fires, and clearing twice is harmless. */
static void
test_clear (void)
{
  GMainContext *context = push_context ();
  gint64 now = g_get_monotonic_time ();
  Probe probes[3];
  Log log;

  probes_init (probes, 3, &log);
  probe_set (&probes[0], now);
  probe_set (&probes[1], now + 1000);
  probe_set (&probes[2], now + 30000);
  probe_set (&probes[0], NURSERY_NO_DEADLINE);
  _nursery_deadline_destroy (&probes[1].deadline);
  _nursery_deadline_destroy (&probes[1].deadline);

  run_until_fired (&log, 1);
  g_assert_cmpuint (log.fired->len, ==, 1);
  g_assert_cmpuint (fired_at (&log, 0), ==, 2);

  g_array_unref (log.fired);
  pop_context (context);
}

/* R16: a deadline in the past fires on the next iteration, and one set
 * while deadlines fire waits for the iteration after. */
static Probe *late_probe;

static void
fired_then_set_past (gpointer target)
{
  probe_fired (target);
  probe_set (late_probe, 0);
}

static void
test_past_fires_next_iteration (void)
{
  GMainContext *context = push_context ();
  Probe probes[2];
  Log log;

  probes_init (probes, 2, &log);
  late_probe = &probes[1];
  _nursery_deadline_set (&probes[0].deadline, context, g_get_monotonic_time () - SECOND,
                         fired_then_set_past, &probes[0]);

  g_assert_true (g_main_context_iteration (context, FALSE));
  g_assert_cmpuint (log.fired->len, ==, 1);
  g_assert_true (g_main_context_iteration (context, FALSE));
  g_assert_cmpuint (log.fired->len, ==, 2);
  g_assert_cmpuint (fired_at (&log, 1), ==, 1);
  /* Both fired: the timer went with its last deadline. */
  g_assert_cmpuint (_nursery_deadline_n_timers (), ==, 0);

  g_array_unref (log.fired);
  pop_context (context);
}

/* R28: the source's ready time (an eventfd write) moves only when the
 * earliest deadline moves earlier, not on every set, move or clear. */
static void
test_rearm_only_when_earlier (void)
{
  GMainContext *context = push_context ();
  gint64 base = g_get_monotonic_time () + 10 * SECOND;
  Probe probes[1000];
  guint before;
  Log log;

  probes_init (probes, G_N_ELEMENTS (probes), &log);
  before = _nursery_deadline_n_rearms ();
  for (guint i = 0; i < G_N_ELEMENTS (probes); i++)
    probe_set (&probes[i], base + i);
  /* Later moves and clears, the earliest one included. */
  for (guint i = 0; i < G_N_ELEMENTS (probes); i += 2)
    probe_set (&probes[i], base + 2 * SECOND + i);
  for (guint i = 1; i < G_N_ELEMENTS (probes); i += 2)
    _nursery_deadline_destroy (&probes[i].deadline);
  g_assert_cmpuint (_nursery_deadline_n_rearms () - before, ==, 1);

  /* An earlier one moves it. */
  probe_set (&probes[0], base - SECOND);
  g_assert_cmpuint (_nursery_deadline_n_rearms () - before, ==, 2);

  for (guint i = 0; i < G_N_ELEMENTS (probes); i++)
    _nursery_deadline_destroy (&probes[i].deadline);
  g_assert_cmpuint (log.fired->len, ==, 0);
  g_array_unref (log.fired);
  pop_context (context);
}

/* R28: a timer that wakes up early (its earliest deadline moved later)
 * fires nothing and sleeps on until the deadline really passes. */
static void
test_early_wakeup_refires_later (void)
{
  GMainContext *context = push_context ();
  gint64 now = g_get_monotonic_time ();
  Probe probes[1];
  Log log;

  probes_init (probes, 1, &log);
  probe_set (&probes[0], now + 1000);
  probe_set (&probes[0], now + 50000);
  run_until_fired (&log, 1);
  g_assert_cmpint (g_get_monotonic_time (), >=, now + 50000);

  g_array_unref (log.fired);
  pop_context (context);
}

/* R28: every context has its own timer; contexts on several threads
 * each fire their own deadlines, on their own thread. */
#define N_THREADS 4
#define PER_THREAD 2000

struct _ThreadRun
{
  GThread *thread;
  gboolean wrong_thread;
};

static void
probe_fired_check_thread (gpointer target)
{
  Probe *probe = target;
  ThreadRun *run = probe->run;

  if (g_thread_self () != run->thread)
    run->wrong_thread = TRUE;
  probe_fired (target);
}

static gpointer
thread_run (gpointer data)
{
  ThreadRun *run = data;
  GMainContext *context = g_main_context_new ();
  Probe *probes = g_new (Probe, PER_THREAD);
  gint64 base = g_get_monotonic_time () + 5000;
  Log log[1];

  g_main_context_push_thread_default (context);
  probes_init (probes, PER_THREAD, &log[0]);
  for (guint i = 0; i < PER_THREAD; i++)
    {
      probes[i].run = run;
      _nursery_deadline_set (&probes[i].deadline, context,
                             base + (PER_THREAD - i) * 10, probe_fired_check_thread, &probes[i]);
    }
  run_until_fired (&log[0], PER_THREAD);
  for (guint i = 0; i < PER_THREAD; i++)
    g_assert_cmpuint (fired_at (&log[0], i), ==, PER_THREAD - 1 - i);

  g_array_unref (log[0].fired);
  g_free (probes);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void
test_contexts_on_threads (void)
{
  ThreadRun runs[N_THREADS] = { 0 };

  for (guint i = 0; i < N_THREADS; i++)
    runs[i].thread = g_thread_new ("timer-test", thread_run, &runs[i]);
  for (guint i = 0; i < N_THREADS; i++)
    {
      g_thread_join (runs[i].thread);
      g_assert_false (runs[i].wrong_thread);
    }
  g_assert_cmpuint (_nursery_deadline_n_timers (), ==, 0);
}

/* R28: the timer is freed with its last deadline, whether that one is
 * cleared or fires, and made again for the next one. */
static void
test_freed_with_last_deadline (void)
{
  GMainContext *context = push_context ();
  Probe probes[2];
  Log log;

  probes_init (probes, 2, &log);
  probe_set (&probes[0], g_get_monotonic_time () + SECOND);
  probe_set (&probes[1], g_get_monotonic_time () + SECOND);
  g_assert_cmpuint (_nursery_deadline_n_timers (), ==, 1);
  _nursery_deadline_destroy (&probes[0].deadline);
  g_assert_cmpuint (_nursery_deadline_n_timers (), ==, 1);
  _nursery_deadline_destroy (&probes[1].deadline);
  g_assert_cmpuint (_nursery_deadline_n_timers (), ==, 0);

  probe_set (&probes[0], 0);
  g_assert_cmpuint (_nursery_deadline_n_timers (), ==, 1);
  run_until_fired (&log, 1);
  g_assert_cmpuint (_nursery_deadline_n_timers (), ==, 0);

  g_array_unref (log.fired);
  pop_context (context);
}

/* R28 at scale: 100k deadlines in random order fire in order. */
static void
test_many (void)
{
  GMainContext *context = push_context ();
  guint n = 100000;
  Probe *probes = g_new (Probe, n);
  gint64 base = g_get_monotonic_time ();
  GRand *rand = g_rand_new_with_seed (12);
  gint64 last = G_MININT64;
  Log log;

  probes_init (probes, n, &log);
  /* Random deadlines within 50 ms, then a third of them cleared. */
  for (guint i = 0; i < n; i++)
    probe_set (&probes[i], base + g_rand_int_range (rand, 0, 50000));
  for (guint i = 0; i < n; i += 3)
    _nursery_deadline_destroy (&probes[i].deadline);

  run_until_fired (&log, n - (n + 2) / 3);
  for (guint i = 0; i < log.fired->len; i++)
    {
      Probe *probe = &probes[fired_at (&log, i)];

      g_assert_cmpuint (probe->id % 3, !=, 0);
      g_assert_cmpint (probe->deadline.when, >=, last);
      last = probe->deadline.when;
    }

  g_rand_free (rand);
  g_array_unref (log.fired);
  g_free (probes);
  pop_context (context);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nursery/timer/R28/ordering", test_ordering);
  g_test_add_func ("/nursery/timer/R16/move", test_move);
  g_test_add_func ("/nursery/timer/R16/clear", test_clear);
  g_test_add_func ("/nursery/timer/R16/past-fires-next-iteration", test_past_fires_next_iteration);
  g_test_add_func ("/nursery/timer/R28/rearm-only-when-earlier", test_rearm_only_when_earlier);
  g_test_add_func ("/nursery/timer/R28/early-wakeup-refires-later", test_early_wakeup_refires_later);
  g_test_add_func ("/nursery/timer/R28/contexts-on-threads", test_contexts_on_threads);
  g_test_add_func ("/nursery/timer/R28/freed-with-last-deadline", test_freed_with_last_deadline);
  g_test_add_func ("/nursery/timer/R28/many", test_many);

  return g_test_run ();
}
