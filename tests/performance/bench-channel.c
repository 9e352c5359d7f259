/* bench-channel.c: NurseryChannel against the queues people write by hand
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* What this measures (docs/performance.md has the table and its reading)
 *
 * ns per item moved from one producer to one consumer, each side and its
 * baseline in the same process, alternately, several rounds (the order
 * rotates each round); a figure is the median over the rounds, a ratio
 * the median of the per-round ratios. One warm-up round is not counted.
 *
 *  - threads: two threads, a blocking pointer send against a blocking
 *    pointer receive through a capacity-16 channel, against the bounded
 *    queue a careful C programmer writes: a ring, one GMutex, two GConds,
 *    signalled only when somebody waits on them;
 *  - thread child → context: a thread child sends with the blocking
 *    pointer form (capacity 1024; and, for information, 16 and no bound),
 *    the owner context receives with
 *    receive_async() one item at a time, against a thread that pushes to a
 *    GAsyncQueue and schedules one idle whenever the queue was idle, the
 *    idle draining everything queued.
 *
 * `--one-context CAPACITY` prints one figure, ns per item for a producer
 * and a consumer in one context (send_pointer_async() and
 * receive_async(), each started from the other's completion): what
 * bench-channel.py compares with asyncio.Queue, round by round. `--impl
 * NAME` runs one measurement of the chosen scenario, for callgrind. */

#include <nursery.h>

#include <stdio.h>
#include <stdlib.h>

#include "bench-report.h"

#define ITEMS            200000
#define THREAD_CAPACITY  16

#define TARGET_THREADS_RATIO  1.5
#define TARGET_CHILD_RATIO    2.0

static int opt_runs;
static gboolean opt_quick;
static int opt_one_context = -1;
static int opt_n;
static char *opt_impl;
static char *opt_scenario;

static guint
n_items (void)
{
  if (opt_n > 0)
    return (guint) opt_n;
  return opt_quick ? ITEMS / 10 : ITEMS;
}

/* The loop owns the context while it runs, as g_main_loop_run() does. */
static void
run_until_done (const gboolean *done)
{
  g_main_context_acquire (NULL);
  while (!*done)
    g_main_context_iteration (NULL, TRUE);
  g_main_context_release (NULL);
}

/* One context: a producer and a consumer coroutine */

typedef struct
{
  NurseryChannel *channel;
  guint           n;
  guint           sent;
  guint           received;
  gboolean        done;
} Pair;

static void produce (Pair *pair);

static void
produced_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  if (!nursery_channel_send_finish (NURSERY_CHANNEL (source), result, NULL))
    g_error ("send failed");
  produce (data);
}

static void
produce (Pair *pair)
{
  if (pair->sent < pair->n)
    {
      pair->sent++;
      nursery_channel_send_pointer_async (pair->channel, GUINT_TO_POINTER (pair->sent), NULL,
                                          NULL, produced_cb, pair);
    }
}

static void
consumed_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  Pair *pair = data;
  gpointer item = nursery_channel_receive_pointer_finish (NURSERY_CHANNEL (source), result, NULL);

  if (GPOINTER_TO_UINT (item) != ++pair->received)
    g_error ("item %u arrived as item %u", GPOINTER_TO_UINT (item), pair->received);
  if (pair->received == pair->n)
    pair->done = TRUE;
  else
    nursery_channel_receive_async (pair->channel, NULL, consumed_cb, pair);
}

static double
one_context_ns (guint capacity,
                guint n)
{
  Pair pair = { nursery_channel_new (capacity), n, 0, 0, FALSE };
  gint64 start = bench_now_ns ();

  produce (&pair);
  nursery_channel_receive_async (pair.channel, NULL, consumed_cb, &pair);
  run_until_done (&pair.done);
  g_object_unref (pair.channel);
  return (double) (bench_now_ns () - start) / n;
}

/* Threads: blocking send against blocking receive */

/* Sends items 1 to pair->n with the blocking form. */
static gpointer
channel_sender (gpointer data)
{
  Pair *pair = data;

  for (guint i = 1; i <= pair->n; i++)
    if (!nursery_channel_send_pointer_blocking (pair->channel, GUINT_TO_POINTER (i), NULL, NULL, NULL))
      g_error ("send failed");
  return NULL;
}

static double
threads_channel_ns (guint n,
                    guint capacity)
{
  NurseryChannel *channel = nursery_channel_new (capacity);
  Pair pair = { channel, n, 0, 0, FALSE };
  gint64 start = bench_now_ns ();
  GThread *sender = g_thread_new ("sender", channel_sender, &pair);

  for (guint i = 1; i <= n; i++)
    if (GPOINTER_TO_UINT (nursery_channel_receive_pointer_blocking (channel, NULL, NULL)) != i)
      g_error ("out of order");
  g_thread_join (sender);
  g_object_unref (channel);
  return (double) (bench_now_ns () - start) / n;
}

/* The baseline: a bounded ring under one mutex, two condition variables,
 * each signalled only when a thread waits on it (a signal is a futex
 * call). */
typedef struct
{
  GMutex   lock;
  GCond    not_empty;
  GCond    not_full;
  guint    waiting_receivers;
  guint    waiting_senders;
  gpointer ring[THREAD_CAPACITY];
  guint    head;
  guint    length;
  guint    n;
} BoundedQueue;

static void
bounded_push (BoundedQueue *q,
              gpointer      item)
{
  g_mutex_lock (&q->lock);
  while (q->length == THREAD_CAPACITY)
    {
      q->waiting_senders++;
      g_cond_wait (&q->not_full, &q->lock);
      q->waiting_senders--;
    }
  q->ring[(q->head + q->length++) % THREAD_CAPACITY] = item;
  if (q->waiting_receivers > 0)
    g_cond_signal (&q->not_empty);
  g_mutex_unlock (&q->lock);
}

static gpointer
bounded_pop (BoundedQueue *q)
{
  gpointer item;

  g_mutex_lock (&q->lock);
  while (q->length == 0)
    {
      q->waiting_receivers++;
      g_cond_wait (&q->not_empty, &q->lock);
      q->waiting_receivers--;
    }
  item = q->ring[q->head];
  q->head = (q->head + 1) % THREAD_CAPACITY;
  q->length--;
  if (q->waiting_senders > 0)
    g_cond_signal (&q->not_full);
  g_mutex_unlock (&q->lock);
  return item;
}

static gpointer
bounded_sender (gpointer data)
{
  BoundedQueue *q = data;

  for (guint i = 1; i <= q->n; i++)
    bounded_push (q, GUINT_TO_POINTER (i));
  return NULL;
}

static double
threads_bounded_ns (guint n,
                    guint capacity)
{
  BoundedQueue q = { 0 };
  gint64 start;
  GThread *sender;

  q.n = n;
  g_mutex_init (&q.lock);
  g_cond_init (&q.not_empty);
  g_cond_init (&q.not_full);
  start = bench_now_ns ();
  sender = g_thread_new ("sender", bounded_sender, &q);
  for (guint i = 1; i <= n; i++)
    if (GPOINTER_TO_UINT (bounded_pop (&q)) != i)
      g_error ("out of order");
  g_thread_join (sender);
  g_mutex_clear (&q.lock);
  g_cond_clear (&q.not_empty);
  g_cond_clear (&q.not_full);
  return (double) (bench_now_ns () - start) / n;
}

/* Thread child → receiver on the owner context */

static void
child_sender (NurseryTask *task,
              gpointer     pair)
{
  channel_sender (pair);
}

static double
child_channel_ns (guint n,
                  guint capacity)
{
  NurseryGroup *group = nursery_group_new ();
  Pair pair = { nursery_channel_new (capacity), n, 0, 0, FALSE };
  gint64 start = bench_now_ns ();

  g_object_unref (nursery_group_spawn_in_thread (group, "sender", child_sender, &pair, NULL, NULL));
  nursery_channel_receive_async (pair.channel, NULL, consumed_cb, &pair);
  run_until_done (&pair.done);
  if (!nursery_group_wait (group, NULL, NULL))
    g_error ("the sender failed");
  g_object_unref (group);
  g_object_unref (pair.channel);
  return (double) (bench_now_ns () - start) / n;
}

/* The baseline: GAsyncQueue, and one idle per burst that drains it. */
typedef struct
{
  GAsyncQueue  *queue;
  GMainContext *context;
  int           idle_pending;   /* atomic */
  guint         n;
  guint         received;
  gboolean      done;
} AsyncQueuePipe;

static gboolean
drain_cb (gpointer data)
{
  AsyncQueuePipe *pipe = data;
  gpointer item;

  /* Cleared first: an item pushed from now on schedules a new idle. */
  g_atomic_int_set (&pipe->idle_pending, 0);
  while ((item = g_async_queue_try_pop (pipe->queue)) != NULL)
    if (GPOINTER_TO_UINT (item) != ++pipe->received)
      g_error ("out of order");
  if (pipe->received == pipe->n)
    pipe->done = TRUE;
  return G_SOURCE_REMOVE;
}

static gpointer
async_queue_sender (gpointer data)
{
  AsyncQueuePipe *pipe = data;

  for (guint i = 1; i <= pipe->n; i++)
    {
      g_async_queue_push (pipe->queue, GUINT_TO_POINTER (i));
      if (g_atomic_int_compare_and_exchange (&pipe->idle_pending, 0, 1))
        {
          GSource *idle = g_idle_source_new ();

          g_source_set_callback (idle, drain_cb, pipe, NULL);
          g_source_attach (idle, pipe->context);
          g_source_unref (idle);
        }
    }
  return NULL;
}

static double
child_async_queue_ns (guint n,
                      guint capacity)
{
  AsyncQueuePipe pipe = { g_async_queue_new (), g_main_context_default (), 0, n, 0, FALSE };
  gint64 start = bench_now_ns ();
  GThread *sender = g_thread_new ("sender", async_queue_sender, &pipe);

  run_until_done (&pipe.done);
  g_thread_join (sender);
  /* An idle scheduled for items an earlier one drained still comes. */
  while (g_atomic_int_get (&pipe.idle_pending))
    g_main_context_iteration (NULL, TRUE);
  g_async_queue_unref (pipe.queue);
  return (double) (bench_now_ns () - start) / n;
}

/* Comparisons */

typedef double (*MeasureFunc) (guint n,
                               guint capacity);

typedef struct
{
  const char  *name;
  MeasureFunc  nursery;
  MeasureFunc  baseline;
  guint        capacity;      /* of the channel; the baselines have their own */
  const char  *id;
  const char  *scenario;
  const char  *baseline_name;
  double       target;        /* 0: no target, an INFO row */
} Scenario;

/* The thread child rows: the target row gives the channel a bound of
 * 1024 (it then applies back-pressure, which the unbounded GAsyncQueue
 * never does); the others show a small bound, and none (G_MAXUINT: the
 * ring grows on demand, and a fast sender fills megabytes). */
static const Scenario scenarios[] = {
  { "threads", threads_channel_ns, threads_bounded_ns, THREAD_CAPACITY,
    "channel-threads-16", "channel, blocking, 2 threads, capacity 16",
    "GMutex + 2 GCond bounded ring of 16 (signal only to waiters)", TARGET_THREADS_RATIO },
  { "child", child_channel_ns, child_async_queue_ns, 1024,
    "channel-child-to-context", "channel, thread child → context, capacity 1024",
    "GAsyncQueue (unbounded) + one idle per burst, draining", TARGET_CHILD_RATIO },
  { "child-16", child_channel_ns, child_async_queue_ns, THREAD_CAPACITY,
    "channel-child-to-context-16", "channel, thread child → context, capacity 16",
    "GAsyncQueue (unbounded) + one idle per burst, draining", 0 },
  { "child-unbounded", child_channel_ns, child_async_queue_ns, G_MAXUINT,
    "channel-child-to-context-unbounded", "channel, thread child → context, no bound",
    "GAsyncQueue (unbounded) + one idle per burst, draining", 0 },
};

static void
compare (const Scenario *s)
{
  g_autoptr(GArray) nursery = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) baseline = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) ratios = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *target = s->target > 0 ? g_strdup_printf ("≤ %.2f×", s->target) : NULL;
  guint n = n_items ();
  BenchRow row = { 0 };

  /* Warm-up: thread stacks, the heap, the types. */
  s->nursery (n / 10, s->capacity);
  s->baseline (n / 10, s->capacity);
  for (int run = 0; run < opt_runs; run++)
    {
      double a, b, ratio;

      if (run % 2 == 0)
        {
          a = s->nursery (n, s->capacity);
          b = s->baseline (n, s->capacity);
        }
      else
        {
          b = s->baseline (n, s->capacity);
          a = s->nursery (n, s->capacity);
        }
      ratio = a / b;
      g_array_append_val (nursery, a);
      g_array_append_val (baseline, b);
      g_array_append_val (ratios, ratio);
    }

  row.id = s->id;
  row.scenario = s->scenario;
  row.unit = "ns/item";
  row.nursery = bench_median (nursery);
  row.baseline = bench_median (baseline);
  row.baseline_name = s->baseline_name;
  row.ratio = bench_median (ratios);
  row.target = target;
  row.status = s->target > 0 ? bench_at_most (row.ratio, s->target) : BENCH_INFO;
  bench_report_row (&row);
}

static const Scenario *
find_scenario (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (scenarios); i++)
    if (g_str_equal (scenarios[i].name, name))
      return &scenarios[i];
  g_printerr ("Unknown --scenario '%s': use threads, child, child-16 or child-unbounded\n", name);
  exit (2);
}

static void
parse_options (int    *argc,
               char ***argv)
{
  const GOptionEntry entries[] = {
    { "runs", 'r', 0, G_OPTION_ARG_INT, &opt_runs,
      "Rounds per figure (default 5, or $NURSERY_BENCH_RUNS)", "R" },
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &opt_quick, "Tenfold fewer items: a smoke test", NULL },
    { "one-context", 0, 0, G_OPTION_ARG_INT, &opt_one_context,
      "Print ns/item for a producer and a consumer in one context at this capacity", "CAPACITY" },
    { "scenario", 's', 0, G_OPTION_ARG_STRING, &opt_scenario, "Only this scenario (threads, child, child-16, child-unbounded)", "NAME" },
    { "impl", 'i', 0, G_OPTION_ARG_STRING, &opt_impl,
      "With --scenario: measure only this side once (nursery, baseline), e.g. under callgrind", "NAME" },
    { "n", 'n', 0, G_OPTION_ARG_INT, &opt_n, "Items (default 200000)", "N" },
    G_OPTION_ENTRY_NULL
  };
  opt_runs = bench_parse_options ("- NurseryChannel against hand-written queues", entries, argc, argv, opt_runs, 5);
}

int
main (int    argc,
      char **argv)
{
  parse_options (&argc, &argv);

  if (opt_one_context >= 0)
    {
      /* For bench-channel.py: a warm-up, then one figure on stdout. */
      one_context_ns ((guint) opt_one_context, MAX (n_items () / 10, 100));
      g_print ("%.6g\n", one_context_ns ((guint) opt_one_context, n_items ()));
      return 0;
    }

  if (opt_impl != NULL)
    {
      const Scenario *s = find_scenario (opt_scenario != NULL ? opt_scenario : "threads");
      MeasureFunc measure = g_str_equal (opt_impl, "nursery") ? s->nursery : s->baseline;

      g_print ("%s %s N=%u: %.1f ns/item\n", s->name, opt_impl, n_items (), measure (n_items (), s->capacity));
      return 0;
    }

  g_print ("Channel benchmarks: %d runs, medians%s\n\n", opt_runs, opt_quick ? " (--quick: N/10)" : "");
  bench_report_header ();
  for (guint i = 0; i < G_N_ELEMENTS (scenarios); i++)
    if (opt_scenario == NULL || g_str_equal (opt_scenario, scenarios[i].name))
      compare (&scenarios[i]);

  /* A miss is a result, not a crash; NURSERY_BENCH_STRICT makes it fail. */
  if (bench_report_any_miss () && g_getenv ("NURSERY_BENCH_STRICT") != NULL)
    return 1;
  return 0;
}
