/* bench-spawn.c: the in-context spawn → run → return → report path
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* What this measures (docs/performance.md has the table and its reading)
 *
 * The targets of the spawn/join hot path, against what a competent GLib
 * developer writes (R28), in the same process, rounds rotated, medians
 * of the per-round ratios:
 *  - spawn + join of N trivial in-context children, all spawned before
 *    the join: "gtask-batch", one GTask per child returned by a single
 *    idle, and "struct-batch", a malloc'd struct per child run by one
 *    GSource, the lower bound of any group;
 *  - chain: one child per main-loop iteration (each spawns the next and
 *    returns), against "gtask-idle", a GTask and an idle per child, the
 *    naive pattern, whose idle returns its task and starts the next.
 *
 * `--scenario spawn|chain` runs one of them; `--quick` divides N;
 * `--only IMPL -n N` runs a single implementation once (0 is Nursery,
 * then the baselines in the order above) and prints ns per child, for
 * `valgrind --tool=callgrind` (see docs/performance.md). */

#include <nursery.h>

#include <stdio.h>
#include <stdlib.h>

#include "bench-rounds.h"

#define SPAWN_CHILDREN  100000
#define CHAIN_CHILDREN  100000

#define TARGET_SPAWN_GTASK_BATCH   0.70
#define TARGET_SPAWN_STRUCT_BATCH  2.50
#define TARGET_CHAIN_GTASK_IDLE    0.80

static int opt_runs;
static gboolean opt_quick;
static char *opt_scenario;
static int opt_only = -1;
static int opt_n;

static guint
scaled (guint n)
{
  return opt_quick ? MAX (n / 10, 100) : n;
}

/* Spawn + join: Nursery, gtask-batch, struct-batch */

static void
trivial_child (NurseryTask *task,
               gpointer     user_data)
{
  nursery_task_return_boolean (task, TRUE);
}

/* As users write a child they need no handle for (trio's start_soon()). */
static double
start_soon_nursery (guint n)
{
  gint64 start = bench_now_ns ();
  NurseryGroup *group = nursery_group_new ();

  for (guint i = 0; i < n; i++)
    nursery_group_start_soon (group, NULL, trivial_child, NULL, NULL, NULL);
  bench_group_join (group);
  g_object_unref (group);
  return (double) (bench_now_ns () - start) / n;
}

static double
spawn_nursery (guint n)
{
  gint64 start = bench_now_ns ();
  NurseryGroup *group = nursery_group_new ();

  for (guint i = 0; i < n; i++)
    g_object_unref (nursery_group_spawn (group, NULL, trivial_child, NULL, NULL, NULL));
  bench_group_join (group);
  g_object_unref (group);
  return (double) (bench_now_ns () - start) / n;
}

typedef struct
{
  GPtrArray *pending;
  guint      remaining;
} GTaskBatch;

static void
gtask_batch_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTaskBatch *batch = user_data;

  if (!g_task_propagate_boolean (G_TASK (result), NULL))
    g_error ("A gtask-batch child failed");
  batch->remaining--;
}

/* The one idle: returns every pending GTask, in spawn order. */
static gboolean
gtask_batch_drain (gpointer data)
{
  GTaskBatch *batch = data;

  for (guint i = 0; i < batch->pending->len; i++)
    g_task_return_boolean (batch->pending->pdata[i], TRUE);
  g_ptr_array_set_size (batch->pending, 0);
  return G_SOURCE_REMOVE;
}

static double
spawn_gtask_batch (guint n)
{
  gint64 start = bench_now_ns ();
  GTaskBatch batch = { g_ptr_array_new_with_free_func (g_object_unref), 0 };

  for (guint i = 0; i < n; i++)
    {
      g_ptr_array_add (batch.pending, g_task_new (NULL, NULL, gtask_batch_done, &batch));
      batch.remaining++;
    }
  g_idle_add (gtask_batch_drain, &batch);
  bench_run_until_zero (&batch.remaining);
  g_ptr_array_unref (batch.pending);
  return (double) (bench_now_ns () - start) / n;
}

/* struct-batch: a child is a malloc'd struct in an intrusive list; one
 * GSource runs them all and counts them down. */
typedef struct _Child Child;
struct _Child
{
  Child    *next;
  void    (*func) (Child *child, gpointer data);
  gpointer  data;
  gboolean  result;
};

typedef struct
{
  GSource  source;
  Child   *head;
  Child  **tail;
  guint    remaining;
} StructBatch;

static void
struct_child (Child    *child,
              gpointer  data)
{
  child->result = TRUE;
}

static gboolean
struct_batch_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  StructBatch *batch = (StructBatch *) source;
  Child *child;

  while ((child = batch->head) != NULL)
    {
      batch->head = child->next;
      child->func (child, child->data);
      if (!child->result)
        g_error ("A struct-batch child failed");
      g_free (child);
      batch->remaining--;
    }
  batch->tail = &batch->head;
  g_source_set_ready_time (source, -1);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs struct_batch_funcs = { .dispatch = struct_batch_dispatch };

static double
spawn_struct_batch (guint n)
{
  gint64 start = bench_now_ns ();
  StructBatch *batch = (StructBatch *) g_source_new (&struct_batch_funcs, sizeof (StructBatch));

  batch->tail = &batch->head;
  g_source_attach (&batch->source, NULL);
  for (guint i = 0; i < n; i++)
    {
      Child *child = g_new0 (Child, 1);

      child->func = struct_child;
      *batch->tail = child;
      batch->tail = &child->next;
      batch->remaining++;
    }
  g_source_set_ready_time (&batch->source, 0);
  bench_run_until_zero (&batch->remaining);
  g_source_destroy (&batch->source);
  g_source_unref (&batch->source);
  return (double) (bench_now_ns () - start) / n;
}

static void
scenario_spawn (void)
{
  static const BenchMeasure impls[] = {
    start_soon_nursery, spawn_gtask_batch, spawn_struct_batch, spawn_nursery
  };
  guint n = scaled (SPAWN_CHILDREN);
  g_autofree char *count = bench_human_count (n);
  g_autofree char *label_gtask = g_strdup_printf ("start_soon+join N=%s vs gtask-batch", count);
  g_autofree char *label_struct = g_strdup_printf ("start_soon+join N=%s vs struct-batch (lower bound)", count);
  g_autofree char *label_spawn = g_strdup_printf ("spawn+join (a handle each) N=%s vs gtask-batch", count);
  g_autofree char *label_spawn_struct = g_strdup_printf ("spawn+join (a handle each) N=%s vs struct-batch", count);
  g_autofree char *id_gtask = g_strdup_printf ("hot-spawn-%s-gtask-batch", count);
  g_autofree char *id_struct = g_strdup_printf ("hot-spawn-%s-struct-batch", count);
  g_autofree char *id_spawn = g_strdup_printf ("hot-spawn-handle-%s-gtask-batch", count);
  g_autofree char *id_spawn_struct = g_strdup_printf ("hot-spawn-handle-%s-struct-batch", count);
  BenchRounds rounds;
  BenchRow row;

  bench_rounds_run (&rounds, impls, G_N_ELEMENTS (impls), n, opt_runs, n);
  row = bench_rounds_row (&rounds, 1);
  bench_report (&row, id_gtask, label_gtask, "ns/child",
                "g_task_new per child, all returned by one g_idle_add", TARGET_SPAWN_GTASK_BATCH);
  row = bench_rounds_row (&rounds, 2);
  bench_report (&row, id_struct, label_struct, "ns/child",
                "malloc'd struct per child run by one GSource", TARGET_SPAWN_STRUCT_BATCH);
  row = bench_rounds_row_between (&rounds, 3, 1);
  bench_report (&row, id_spawn, label_spawn, "ns/child",
                "g_task_new per child, all returned by one g_idle_add", 0);
  row = bench_rounds_row_between (&rounds, 3, 2);
  bench_report (&row, id_spawn_struct, label_spawn_struct, "ns/child",
                "malloc'd struct per child run by one GSource", 0);
  bench_rounds_clear (&rounds);
}

/* Chain: one child per iteration, Nursery against GTask + idle */

typedef struct
{
  NurseryGroup *group;
  guint         remaining;   /* children still to spawn */
} Chain;

static void
chain_child (NurseryTask *task,
             gpointer     user_data)
{
  Chain *chain = user_data;

  /* R1: the next one runs in the next batch, not inline. */
  if (--chain->remaining > 0)
    g_object_unref (nursery_group_spawn (chain->group, NULL, chain_child, chain, NULL, NULL));
  nursery_task_return_boolean (task, TRUE);
}

/* The same without handles, as users write it (start_soon()). */
static void
chain_soon_child (NurseryTask *task,
                  gpointer     user_data)
{
  Chain *chain = user_data;

  if (--chain->remaining > 0)
    nursery_group_start_soon (chain->group, NULL, chain_soon_child, chain, NULL, NULL);
  nursery_task_return_boolean (task, TRUE);
}

static double
chain_soon (guint n)
{
  gint64 start = bench_now_ns ();
  Chain chain = { nursery_group_new (), n };

  nursery_group_start_soon (chain.group, NULL, chain_soon_child, &chain, NULL, NULL);
  bench_group_join (chain.group);
  g_object_unref (chain.group);
  return (double) (bench_now_ns () - start) / n;
}

static double
chain_nursery (guint n)
{
  gint64 start = bench_now_ns ();
  Chain chain = { nursery_group_new (), n };

  g_object_unref (nursery_group_spawn (chain.group, NULL, chain_child, &chain, NULL, NULL));
  bench_group_join (chain.group);
  g_object_unref (chain.group);
  return (double) (bench_now_ns () - start) / n;
}

typedef struct
{
  guint to_spawn;
  guint unfinished;
} IdleChain;

static void idle_chain_spawn (IdleChain *chain);

static void
idle_chain_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  IdleChain *chain = user_data;

  if (!g_task_propagate_boolean (G_TASK (result), NULL))
    g_error ("A gtask-idle child failed");
  chain->unfinished--;
}

/* The child's idle: spawns the next one and returns its own task. */
static gboolean
idle_chain_child (gpointer data)
{
  GTask *task = data;
  IdleChain *chain = g_task_get_task_data (task);

  if (chain->to_spawn > 0)
    idle_chain_spawn (chain);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

static void
idle_chain_spawn (IdleChain *chain)
{
  GTask *task = g_task_new (NULL, NULL, idle_chain_done, chain);

  g_task_set_task_data (task, chain, NULL);
  chain->to_spawn--;
  chain->unfinished++;
  g_idle_add (idle_chain_child, task);
}

static double
chain_gtask_idle (guint n)
{
  gint64 start = bench_now_ns ();
  IdleChain chain = { n, 0 };

  idle_chain_spawn (&chain);
  bench_run_until_zero (&chain.unfinished);
  return (double) (bench_now_ns () - start) / n;
}

static void
scenario_chain (void)
{
  static const BenchMeasure impls[] = { chain_soon, chain_gtask_idle, chain_nursery };
  guint n = scaled (CHAIN_CHILDREN);
  g_autofree char *count = bench_human_count (n);
  g_autofree char *label = g_strdup_printf ("chain N=%s (one start_soon per iteration) vs gtask-idle", count);
  g_autofree char *label_spawn = g_strdup_printf ("chain N=%s (one spawn, a handle each) vs gtask-idle", count);
  g_autofree char *id = g_strdup_printf ("hot-chain-%s-gtask-idle", count);
  g_autofree char *id_spawn = g_strdup_printf ("hot-chain-handle-%s-gtask-idle", count);
  BenchRounds rounds;
  BenchRow row;

  bench_rounds_run (&rounds, impls, G_N_ELEMENTS (impls), n, opt_runs, n);
  row = bench_rounds_row (&rounds, 1);
  bench_report (&row, id, label, "ns/child", "g_task_new + g_idle_add per child",
                TARGET_CHAIN_GTASK_IDLE);
  row = bench_rounds_row_between (&rounds, 2, 1);
  bench_report (&row, id_spawn, label_spawn, "ns/child", "g_task_new + g_idle_add per child", 0);
  bench_rounds_clear (&rounds);
}

/* --only: one implementation once, for callgrind */

static const BenchMeasure spawn_impls[] = {
  start_soon_nursery, spawn_gtask_batch, spawn_struct_batch, spawn_nursery
};
static const BenchMeasure chain_impls[] = { chain_soon, chain_gtask_idle, chain_nursery };

static int
run_only (void)
{
  gboolean chain = g_strcmp0 (opt_scenario, "chain") == 0;
  const BenchMeasure *impls = chain ? chain_impls : spawn_impls;
  guint n_impls = chain ? G_N_ELEMENTS (chain_impls) : G_N_ELEMENTS (spawn_impls);

  if (opt_only >= (int) n_impls || opt_n <= 0)
    {
      fprintf (stderr, "--only needs an implementation below %u and -n N > 0\n", n_impls);
      return EXIT_FAILURE;
    }
  printf ("%.1f ns/child\n", impls[opt_only] (opt_n));
  return EXIT_SUCCESS;
}

int
main (int   argc,
      char *argv[])
{
  const GOptionEntry entries[] = {
    { "runs", 0, 0, G_OPTION_ARG_INT, &opt_runs, "Measured rounds (default 7, or $NURSERY_BENCH_RUNS)", "N" },
    { "quick", 0, 0, G_OPTION_ARG_NONE, &opt_quick, "Divide N by 10", NULL },
    { "scenario", 0, 0, G_OPTION_ARG_STRING, &opt_scenario, "spawn or chain (default both)", "NAME" },
    { "only", 0, 0, G_OPTION_ARG_INT, &opt_only, "Run one implementation once (0 = Nursery)", "IMPL" },
    { "n", 'n', 0, G_OPTION_ARG_INT, &opt_n, "Children for --only", "N" },
    { NULL }
  };
  opt_runs = bench_parse_options ("- Nursery spawn/join hot path", entries, &argc, &argv, opt_runs, 7);
  if (opt_only >= 0)
    return run_only ();

  bench_report_header ();
  if (opt_scenario == NULL || g_str_equal (opt_scenario, "spawn"))
    scenario_spawn ();
  if (opt_scenario == NULL || g_str_equal (opt_scenario, "chain"))
    scenario_chain ();
  /* As nursery-bench: a MISS fails the run only when asked to. */
  if (bench_report_any_miss () && g_getenv ("NURSERY_BENCH_STRICT") != NULL)
    return EXIT_FAILURE;
  return EXIT_SUCCESS;
}
