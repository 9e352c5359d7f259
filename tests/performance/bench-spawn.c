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

#include "bench-report.h"

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

static char *
human_count (guint n)
{
  if (n >= 1000 && n % 1000 == 0)
    return g_strdup_printf ("%uk", n / 1000);
  return g_strdup_printf ("%u", n);
}

/* The loop owns the context while it runs, as g_main_loop_run() does. */
static void
run_until_zero (const guint *remaining)
{
  g_main_context_acquire (NULL);
  while (*remaining > 0)
    g_main_context_iteration (NULL, TRUE);
  g_main_context_release (NULL);
}

static void
group_join (NurseryGroup *group)
{
  g_autoptr(GError) error = NULL;

  if (!nursery_group_wait (group, NULL, &error))
    g_error ("The group failed: %s", error->message);
}

/* Side-by-side rounds: impl 0 is Nursery, the others baselines; each
 * returns ns per child. */

typedef double (*Measure) (guint n);

typedef struct
{
  guint   n_impls;
  GArray *samples[3];
} Rounds;

static void
rounds_run (Rounds        *rounds,
            const Measure *impls,
            guint          n_impls,
            guint          n)
{
  rounds->n_impls = n_impls;
  for (guint i = 0; i < n_impls; i++)
    {
      rounds->samples[i] = g_array_new (FALSE, FALSE, sizeof (double));
      impls[i] (n);   /* warm-up: the allocator's arenas, the type classes */
    }
  for (int run = 0; run < opt_runs; run++)
    for (guint k = 0; k < n_impls; k++)
      {
        guint i = (run + k) % n_impls;
        double value = impls[i] (n);

        g_array_append_val (rounds->samples[i], value);
      }
}

static void
rounds_clear (Rounds *rounds)
{
  for (guint i = 0; i < rounds->n_impls; i++)
    g_clear_pointer (&rounds->samples[i], g_array_unref);
}

static void
report (Rounds     *rounds,
        guint       i,
        const char *id,
        const char *scenario,
        const char *baseline_name,
        double      target)
{
  g_autoptr(GArray) ratios = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *target_text = g_strdup_printf ("≤ %.2f×", target);
  BenchRow row = { 0 };

  for (guint run = 0; run < rounds->samples[0]->len; run++)
    {
      double ratio = g_array_index (rounds->samples[0], double, run) /
                     g_array_index (rounds->samples[i], double, run);

      g_array_append_val (ratios, ratio);
    }
  row.id = id;
  row.scenario = scenario;
  row.unit = "ns/child";
  row.nursery = bench_median (rounds->samples[0]);
  row.baseline = bench_median (rounds->samples[i]);
  row.baseline_name = baseline_name;
  row.ratio = bench_median (ratios);
  row.target = target_text;
  row.status = bench_at_most (row.ratio, target);
  bench_report_row (&row);
}

/* Spawn + join: Nursery, gtask-batch, struct-batch */

static void
trivial_child (NurseryTask *task,
               gpointer     user_data)
{
  nursery_task_return_boolean (task, TRUE);
}

static double
spawn_nursery (guint n)
{
  gint64 start = bench_now_ns ();
  NurseryGroup *group = nursery_group_new ();

  for (guint i = 0; i < n; i++)
    g_object_unref (nursery_group_spawn (group, NULL, trivial_child, NULL, NULL, NULL));
  group_join (group);
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
  run_until_zero (&batch.remaining);
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
  run_until_zero (&batch->remaining);
  g_source_destroy (&batch->source);
  g_source_unref (&batch->source);
  return (double) (bench_now_ns () - start) / n;
}

static void
scenario_spawn (void)
{
  static const Measure impls[] = { spawn_nursery, spawn_gtask_batch, spawn_struct_batch };
  guint n = scaled (SPAWN_CHILDREN);
  g_autofree char *count = human_count (n);
  g_autofree char *label_gtask = g_strdup_printf ("spawn+join N=%s vs gtask-batch", count);
  g_autofree char *label_struct = g_strdup_printf ("spawn+join N=%s vs struct-batch (lower bound)", count);
  g_autofree char *id_gtask = g_strdup_printf ("hot-spawn-%s-gtask-batch", count);
  g_autofree char *id_struct = g_strdup_printf ("hot-spawn-%s-struct-batch", count);
  Rounds rounds;

  rounds_run (&rounds, impls, G_N_ELEMENTS (impls), n);
  report (&rounds, 1, id_gtask, label_gtask,
          "g_task_new per child, all returned by one g_idle_add", TARGET_SPAWN_GTASK_BATCH);
  report (&rounds, 2, id_struct, label_struct,
          "malloc'd struct per child run by one GSource", TARGET_SPAWN_STRUCT_BATCH);
  rounds_clear (&rounds);
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

static double
chain_nursery (guint n)
{
  gint64 start = bench_now_ns ();
  Chain chain = { nursery_group_new (), n };

  g_object_unref (nursery_group_spawn (chain.group, NULL, chain_child, &chain, NULL, NULL));
  group_join (chain.group);
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
  run_until_zero (&chain.unfinished);
  return (double) (bench_now_ns () - start) / n;
}

static void
scenario_chain (void)
{
  static const Measure impls[] = { chain_nursery, chain_gtask_idle };
  guint n = scaled (CHAIN_CHILDREN);
  g_autofree char *count = human_count (n);
  g_autofree char *label = g_strdup_printf ("chain N=%s (one child per iteration) vs gtask-idle", count);
  g_autofree char *id = g_strdup_printf ("hot-chain-%s-gtask-idle", count);
  Rounds rounds;

  rounds_run (&rounds, impls, G_N_ELEMENTS (impls), n);
  report (&rounds, 1, id, label, "g_task_new + g_idle_add per child", TARGET_CHAIN_GTASK_IDLE);
  rounds_clear (&rounds);
}

/* --only: one implementation once, for callgrind */

static const Measure spawn_impls[] = { spawn_nursery, spawn_gtask_batch, spawn_struct_batch };
static const Measure chain_impls[] = { chain_nursery, chain_gtask_idle };

static int
run_only (void)
{
  gboolean chain = g_strcmp0 (opt_scenario, "chain") == 0;
  const Measure *impls = chain ? chain_impls : spawn_impls;
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
  g_autoptr(GOptionContext) context = g_option_context_new ("- Nursery spawn/join hot path");
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return EXIT_FAILURE;
    }
  if (opt_runs <= 0)
    opt_runs = g_getenv ("NURSERY_BENCH_RUNS") != NULL ? atoi (g_getenv ("NURSERY_BENCH_RUNS")) : 7;
  opt_runs = MAX (opt_runs, 1);
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
