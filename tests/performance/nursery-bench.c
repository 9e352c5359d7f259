/* nursery-bench.c: Nursery against the GTask code people write by hand
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* What this measures (docs/performance.md has the table and its reading)
 *
 * Every scenario runs Nursery and its hand-written baseline in the same
 * process, one after the other, several rounds; the order rotates each
 * round, because the first one of a round may pay for heap growth that
 * the next one reuses. A figure is the median over the rounds and a ratio
 * is the median of the per-round ratios, so a machine that drifts between
 * rounds hurts both sides alike. One warm-up round (not counted) registers
 * the types, starts the thread pool and grows the heap.
 *
 * The baselines are what a careful GLib programmer writes without Nursery:
 *  - spawn + join: per child g_task_new() (with or without a GCancellable)
 *    and a g_idle_add() that returns the GTask; the completion callback
 *    counts down; the loop runs until the count reaches zero;
 *  - threads: g_task_run_in_thread() per child, the same countdown;
 *  - cancel: per child a GCancellable whose ::cancelled handler returns
 *    the GTask cancelled; all of them cancelled in a loop;
 *  - deadlines: one g_timeout_add() per deadline.
 *
 * Memory per pending child is measured in a fresh process per figure
 * (this program re-executed with --memory-child), so heaps never mix:
 * the rise of the peak RSS while N children are spawned and none has run
 * yet, divided by N.
 *
 * `--impl NAME --n N` runs one measurement of the chosen scenarios and
 * prints it, without warm-up or comparison: what to put under
 * `valgrind --tool=callgrind`. */

#include <nursery.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench-report.h"

typedef enum
{
  IMPL_NURSERY,
  IMPL_BARE,
  IMPL_BARE_CANCELLABLE,
  IMPL_NURSERY_SOON,    /* nursery_group_start_soon(): no handle */
  IMPL_GTASK_BATCH,     /* a GTask per child, all returned by one idle */
  IMPL_STRUCT_BATCH,    /* a malloc'd struct per child: the lower bound */
  N_IMPLS
} Impl;

static const char * const impl_names[N_IMPLS] = {
  "nursery", "bare", "bare-cancellable", "nursery-soon", "gtask-batch", "struct-batch",
};

static gboolean
is_nursery (Impl impl)
{
  return impl == IMPL_NURSERY || impl == IMPL_NURSERY_SOON;
}

/* Sizes of the spawn + join and memory scenarios, and of the others. */
static const guint spawn_sizes[] = { 10000, 100000, 1000000 };
#define TARGET_SIZE_INDEX 1       /* the targets are set at 100k */
#define THREAD_CHILDREN   50000
#define CANCEL_CHILDREN   100000
#define DEADLINE_TASKS    1000
#define DEADLINE_LEAD_MS  20      /* the first deadline, after the spawns */
#define DEADLINE_SPREAD_MS 1000
#define WARM_UP_MAX       100000  /* a warm-up round needs no more */

/* The targets (docs/performance.md). */
#define TARGET_SPAWN_RATIO    0.70
#define TARGET_MEMORY_BYTES   400.0
/* The hot-path target at a million pending children. */
#define TARGET_MEMORY_BYTES_1M 160.0
#define TARGET_MEMORY_RATIO   0.80
#define TARGET_SCALING        1.30
#define TARGET_CANCEL_RATIO   1.00
#define TARGET_DEADLINE_P99   2000.0   /* µs */

static int opt_runs = 0;
static gboolean opt_quick;
static char **opt_scenarios;
static char *opt_impl;
static int opt_n;
static gboolean opt_memory_child;

static guint
scaled (guint n)
{
  /* --quick: a smoke test of the whole program in a few seconds. */
  return opt_quick ? MAX (n / 10, 100) : n;
}

/* "10k", "1M": row labels follow the sizes actually run. */
static char *
human_count (guint n)
{
  if (n >= 1000000 && n % 1000000 == 0)
    return g_strdup_printf ("%uM", n / 1000000);
  if (n >= 1000 && n % 1000 == 0)
    return g_strdup_printf ("%uk", n / 1000);
  return g_strdup_printf ("%u", n);
}

/* The loop owns the context for as long as it runs, as g_main_loop_run()
 * and nursery_group_wait() do: while nobody owns it, a worker thread that
 * attaches a source skips waking the loop up, which no real application
 * loop lets it do. */
static void
run_until_zero (const guint *remaining)
{
  g_main_context_acquire (NULL);
  while (*remaining > 0)
    g_main_context_iteration (NULL, TRUE);
  g_main_context_release (NULL);
}

static void
run_until_set (GAsyncResult * const *result)
{
  g_main_context_acquire (NULL);
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_main_context_release (NULL);
}

static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* Spawn + join of trivial in-context children */

/* A struct-batch child: the least any pending child can be. */
typedef struct _StructChild StructChild;
struct _StructChild
{
  StructChild *next;
  void       (*func) (StructChild *child);
  gboolean     result;
};

typedef struct
{
  Impl          impl;
  guint         n;
  guint         remaining;   /* bare: children not completed yet */
  NurseryGroup *group;       /* nursery */
  GPtrArray    *gtasks;      /* gtask-batch */
  StructChild  *structs;     /* struct-batch, most recent first */
} Batch;

static void
trivial_child (NurseryTask *task,
               gpointer     user_data)
{
  nursery_task_return_boolean (task, TRUE);
}

static gboolean
bare_child_idle (gpointer data)
{
  GTask *task = data;

  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

static void
bare_child_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  guint *remaining = user_data;

  if (!g_task_propagate_boolean (G_TASK (result), NULL))
    g_error ("A bare child failed");
  (*remaining)--;
}

static void
bare_spawn (guint    *remaining,
            gboolean  with_cancellable)
{
  g_autoptr(GCancellable) cancellable = with_cancellable ? g_cancellable_new () : NULL;
  GTask *task = g_task_new (NULL, cancellable, bare_child_done, remaining);

  (*remaining)++;
  g_idle_add (bare_child_idle, task);
}

static void
struct_child (StructChild *child)
{
  child->result = TRUE;
}

/* The strong baselines of bench-spawn, here for memory: what a careful
 * hand-writer keeps per pending child. */
static void
strong_spawn (Batch *batch)
{
  for (guint i = 0; i < batch->n; i++)
    {
      if (batch->impl == IMPL_GTASK_BATCH)
        {
          g_ptr_array_add (batch->gtasks, g_task_new (NULL, NULL, bare_child_done, &batch->remaining));
        }
      else
        {
          StructChild *child = g_new0 (StructChild, 1);

          child->func = struct_child;
          child->next = batch->structs;
          batch->structs = child;
        }
      batch->remaining++;
    }
}

static gboolean
gtask_batch_drain (gpointer data)
{
  GPtrArray *gtasks = data;

  for (guint i = 0; i < gtasks->len; i++)
    g_task_return_boolean (gtasks->pdata[i], TRUE);
  return G_SOURCE_REMOVE;
}

static void
strong_join (Batch *batch)
{
  StructChild *child;

  if (batch->impl == IMPL_GTASK_BATCH)
    {
      g_idle_add (gtask_batch_drain, batch->gtasks);
      run_until_zero (&batch->remaining);
      g_clear_pointer (&batch->gtasks, g_ptr_array_unref);
      return;
    }
  while ((child = batch->structs) != NULL)
    {
      batch->structs = child->next;
      child->func (child);
      if (!child->result)
        g_error ("A struct-batch child failed");
      g_free (child);
      batch->remaining--;
    }
}

static void
batch_spawn (Batch *batch)
{
  if (batch->impl == IMPL_GTASK_BATCH || batch->impl == IMPL_STRUCT_BATCH)
    {
      if (batch->impl == IMPL_GTASK_BATCH)
        batch->gtasks = g_ptr_array_new_with_free_func (g_object_unref);
      strong_spawn (batch);
      return;
    }
  if (!is_nursery (batch->impl))
    {
      for (guint i = 0; i < batch->n; i++)
        bare_spawn (&batch->remaining, batch->impl == IMPL_BARE_CANCELLABLE);
      return;
    }

  batch->group = nursery_group_new ();
  for (guint i = 0; i < batch->n; i++)
    {
      if (batch->impl == IMPL_NURSERY_SOON)
        nursery_group_start_soon (batch->group, NULL, trivial_child, NULL, NULL, NULL);
      else
        g_object_unref (nursery_group_spawn (batch->group, NULL, trivial_child, NULL, NULL, NULL));
    }
}

static void
batch_join (Batch *batch)
{
  g_autoptr(GError) error = NULL;

  if (batch->impl == IMPL_GTASK_BATCH || batch->impl == IMPL_STRUCT_BATCH)
    {
      strong_join (batch);
      return;
    }
  if (!is_nursery (batch->impl))
    {
      run_until_zero (&batch->remaining);
      return;
    }

  if (!nursery_group_wait (batch->group, NULL, &error))
    g_error ("The group failed: %s", error->message);
  if (nursery_group_get_n_finished (batch->group) != batch->n)
    g_error ("The group finished %u children of %u",
             nursery_group_get_n_finished (batch->group), batch->n);
  g_clear_object (&batch->group);
}

/* ns per child, from the first spawn until the last child is joined and
 * the group is gone: everything a caller pays for. */
static double
measure_spawn_join (Impl  impl,
                    guint n)
{
  Batch batch = { .impl = impl, .n = n };
  gint64 start = bench_now_ns ();

  batch_spawn (&batch);
  batch_join (&batch);
  return (double) (bench_now_ns () - start) / n;
}

/* Memory per pending child */

/* Bytes per child, in this process, which must be fresh: memory freed
 * earlier would be reused and hide the cost. The children are left
 * pending, for the process exits right after. */
static double
pending_memory_here (Impl  impl,
                     guint n)
{
  Batch batch = { .impl = impl, .n = n };
  gint64 before;

  /* Type and class initialization, GSlice magazines, the first sources of
   * the main context: paid once per process, not per child. */
  measure_spawn_join (impl, 256);

  before = bench_status_kib ("VmRSS:");
  batch_spawn (&batch);
  return (double) (bench_status_kib ("VmHWM:") - before) * 1024 / n;
}

static double
measure_pending_memory (Impl  impl,
                        guint n)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *n_arg = g_strdup_printf ("%u", n);
  const char *argv[] = { self, "--memory-child", "--impl", impl_names[impl], "--n", n_arg, NULL };
  g_autofree char *output = NULL;
  g_autoptr(GError) error = NULL;
  int wait_status;

  if (self == NULL)
    g_error ("Cannot find this program through /proc/self/exe");
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     &output, NULL, &wait_status, &error) ||
      !g_spawn_check_wait_status (wait_status, &error))
    g_error ("The memory probe for %s failed: %s", impl_names[impl], error->message);
  return g_ascii_strtod (output, NULL);
}

/* Thread children */

static void
empty_thread_child (NurseryTask *task,
                    gpointer     user_data)
{
  /* R2: a thread child that returns no result succeeds. */
}

static void
bare_thread_func (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  g_task_return_boolean (task, TRUE);
}

static void
threads_nursery (guint n)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < n; i++)
    g_object_unref (nursery_group_spawn_in_thread (group, NULL, empty_thread_child,
                                                   NULL, NULL, NULL));
  if (!nursery_group_wait (group, NULL, &error))
    g_error ("The thread group failed: %s", error->message);
}

static void
threads_bare (guint n)
{
  guint remaining = n;

  for (guint i = 0; i < n; i++)
    {
      GTask *task = g_task_new (NULL, NULL, bare_child_done, &remaining);

      g_task_run_in_thread (task, bare_thread_func);
      g_object_unref (task);
    }
  run_until_zero (&remaining);
}

static double
measure_threads (Impl  impl,
                 guint n)
{
  gint64 start = bench_now_ns ();

  if (impl == IMPL_NURSERY)
    threads_nursery (n);
  else
    threads_bare (n);
  return (double) (bench_now_ns () - start) / n;
}

/* Cancelling children that wait on their cancellables */

static void
check_cancelled (gboolean      succeeded,
                 const GError *error,
                 const char   *what)
{
  if (succeeded || !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_error ("%s did not end cancelled", what);
}

/* ns per child from nursery_group_cancel() until the wait completes. */
static double
cancel_nursery (guint n)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint started = 0;
  gint64 start, elapsed;
  gboolean succeeded;

  for (guint i = 0; i < n; i++)
    g_object_unref (nursery_group_spawn (group, NULL, bench_waiting_child, &started, NULL, NULL));
  nursery_group_wait_async (group, NULL, store_result_cb, &result);
  while (started < n)
    g_main_context_iteration (NULL, TRUE);

  start = bench_now_ns ();
  nursery_group_cancel (group);
  run_until_set (&result);
  elapsed = bench_now_ns () - start;

  /* R7: the owner's own cancel is quiet; every child ended cancelled. */
  succeeded = nursery_group_wait_finish (group, result, &error);
  if (!succeeded || nursery_group_get_n_cancelled (group) != n)
    g_error ("The group did not end with every child cancelled: %s",
             error != NULL ? error->message : "success");
  return (double) elapsed / n;
}

static void
bare_waiting_cancelled (GCancellable *cancellable,
                        gpointer      task)
{
  /* GTask defers the callback to the next iteration by itself: it never
   * completes from inside a ::cancelled handler. The reference dropped
   * here is the one of the pending operation. */
  if (g_task_return_error_if_cancelled (task))
    g_object_unref (task);
}

static void
bare_cancel_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  guint *remaining = user_data;
  g_autoptr(GError) error = NULL;
  gboolean succeeded = g_task_propagate_boolean (G_TASK (result), &error);

  check_cancelled (succeeded, error, "A bare waiting child");
  (*remaining)--;
}

/* ns per child from the first g_cancellable_cancel() until the last
 * callback ran and the cancellables are released. */
static double
cancel_bare (guint n)
{
  GPtrArray *cancellables = g_ptr_array_new_full (n, g_object_unref);
  guint remaining = n;
  gint64 start;

  for (guint i = 0; i < n; i++)
    {
      GCancellable *cancellable = g_cancellable_new ();
      GTask *task = g_task_new (NULL, cancellable, bare_cancel_done, &remaining);

      g_cancellable_connect (cancellable, G_CALLBACK (bare_waiting_cancelled), task, NULL);
      g_ptr_array_add (cancellables, cancellable);
    }

  start = bench_now_ns ();
  for (guint i = 0; i < n; i++)
    g_cancellable_cancel (g_ptr_array_index (cancellables, i));
  run_until_zero (&remaining);
  g_ptr_array_unref (cancellables);
  return (double) (bench_now_ns () - start) / n;
}

static double
measure_cancel (Impl  impl,
                guint n)
{
  return impl == IMPL_NURSERY ? cancel_nursery (n) : cancel_bare (n);
}

/* Deadline lateness */

typedef struct
{
  BenchDeadline at;         /* first: bench_lateness() reads it */
  guint        *remaining;
} DeadlineProbe;

/* Spread evenly over DEADLINE_SPREAD_MS, in whole milliseconds so that
 * g_timeout_add() can express every deadline exactly. */
static guint
deadline_delay_ms (guint i,
                   guint n)
{
  return DEADLINE_LEAD_MS + (guint) ((guint64) i * DEADLINE_SPREAD_MS / n);
}

static gboolean
timeout_fired (gpointer data)
{
  DeadlineProbe *probe = data;

  probe->at.fired = g_get_monotonic_time ();
  (*probe->remaining)--;
  return G_SOURCE_REMOVE;
}

static void
deadlines_glib (DeadlineProbe *probes,
                guint          n)
{
  guint remaining = n;

  for (guint i = 0; i < n; i++)
    {
      guint delay_ms = deadline_delay_ms (i, n);

      probes[i].remaining = &remaining;
      probes[i].at.deadline = g_get_monotonic_time () + (gint64) delay_ms * 1000;
      g_timeout_add (delay_ms, timeout_fired, &probes[i]);
    }
  run_until_zero (&remaining);
}

static void
deadlines_nursery (DeadlineProbe *probes,
                   guint          n)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  gint64 base = g_get_monotonic_time ();

  /* R17: a task whose deadline fires fails with TIMED_OUT; under
   * fail-fast the first one would cancel the siblings before their own
   * deadlines. */
  nursery_group_set_policy (group, NURSERY_POLICY_SUPERVISE);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(NurseryTask) task = nursery_group_spawn (group, NULL, bench_deadline_child,
                                                         &probes[i], NULL, NULL);

      probes[i].at.deadline = base + (gint64) deadline_delay_ms (i, n) * 1000;
      nursery_task_set_deadline (task, probes[i].at.deadline);
    }

  if (nursery_group_wait (group, NULL, &error) ||
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_error ("The deadline group did not time out");
}

typedef void (*DeadlineFunc) (DeadlineProbe *probes,
                              guint          n);

/* Lateness (fired − deadline) of every deadline, in µs. */
static GArray *
measure_lateness (DeadlineFunc func,
                  guint        n)
{
  g_autofree DeadlineProbe *probes = g_new0 (DeadlineProbe, n);

  func (probes, n);
  return bench_lateness (probes, sizeof *probes, n);
}

/* Side-by-side rounds */

typedef double (*MeasureFunc) (Impl  impl,
                               guint n);

typedef struct
{
  guint   n_impls;
  Impl    impls[N_IMPLS];
  GArray *samples[N_IMPLS];   /* per impl, in round order */
} Comparison;

static void
comparison_init (Comparison *cmp,
                 guint       n_impls,
                 const Impl *impls)
{
  cmp->n_impls = n_impls;
  for (guint i = 0; i < n_impls; i++)
    {
      cmp->impls[i] = impls[i];
      cmp->samples[i] = g_array_new (FALSE, FALSE, sizeof (double));
    }
}

static void
comparison_clear (Comparison *cmp)
{
  for (guint i = 0; i < cmp->n_impls; i++)
    g_clear_pointer (&cmp->samples[i], g_array_unref);
}

static void
comparison_run (Comparison  *cmp,
                MeasureFunc  measure,
                guint        n,
                guint        runs,
                gboolean     warm_up)
{
  for (guint i = 0; warm_up && i < cmp->n_impls; i++)
    measure (cmp->impls[i], MIN (n, WARM_UP_MAX));

  for (guint run = 0; run < runs; run++)
    for (guint k = 0; k < cmp->n_impls; k++)
      {
        guint i = (run + k) % cmp->n_impls;
        double value = measure (cmp->impls[i], n);

        g_array_append_val (cmp->samples[i], value);
      }
}

static double
comparison_median (Comparison *cmp,
                   guint       i)
{
  return bench_median (cmp->samples[i]);
}

/* Median of the per-round ratios of the first impl to impl @i. */
static double
comparison_ratio (Comparison *cmp,
                  guint       i)
{
  g_autoptr(GArray) ratios = g_array_new (FALSE, FALSE, sizeof (double));

  for (guint run = 0; run < cmp->samples[0]->len; run++)
    {
      double ratio = g_array_index (cmp->samples[0], double, run) /
                     g_array_index (cmp->samples[i], double, run);

      g_array_append_val (ratios, ratio);
    }
  return bench_median (ratios);
}

/* A row comparing impl 0 with impl @i of @cmp. */
static BenchRow
comparison_row (Comparison *cmp,
                guint       i)
{
  BenchRow row = { 0 };

  row.nursery = comparison_median (cmp, 0);
  row.baseline = comparison_median (cmp, i);
  row.ratio = comparison_ratio (cmp, i);
  row.status = BENCH_INFO;
  return row;
}

/* Scenarios */

static guint
runs_for (guint n)
{
  /* A round of 1M children takes seconds, yet a median of three let one
   * stretch of a busy host move the 1M ÷ 10k row by a fifth (1.17 to
   * 1.39 between runs, both columns alike): five take about 7 s more. */
  return n >= 1000000 ? MIN ((guint) opt_runs, 5) : (guint) opt_runs;
}

static void
report_spawn_join (Comparison *cmp,
                   guint       n,
                   gboolean    is_target)
{
  g_autofree char *count = human_count (n);
  g_autofree char *id = g_strdup_printf ("spawn-join-%s", count);
  g_autofree char *id_plain = g_strdup_printf ("spawn-join-%s-no-cancellable", count);
  g_autofree char *label = g_strdup_printf ("spawn+join N=%s vs GTask+idle+cancellable", count);
  g_autofree char *label_plain = g_strdup_printf ("spawn+join N=%s vs GTask+idle", count);
  g_autofree char *target = g_strdup_printf ("≤ %.2f×", TARGET_SPAWN_RATIO);
  BenchRow row = comparison_row (cmp, 1);
  BenchRow plain = comparison_row (cmp, 2);

  row.id = id;
  row.scenario = label;
  row.unit = "ns/child";
  row.baseline_name = "g_task_new + GCancellable + g_idle_add per child";
  if (is_target)
    {
      row.target = target;
      row.status = bench_at_most (row.ratio, TARGET_SPAWN_RATIO);
    }
  bench_report_row (&row);

  plain.id = id_plain;
  plain.scenario = label_plain;
  plain.unit = "ns/child";
  plain.baseline_name = "g_task_new + g_idle_add per child";
  bench_report_row (&plain);
}

/* O(1) per child: the cost per child at the largest N over the smallest. */
static void
report_scaling (const double *nursery,
                const double *baseline,
                guint         n_sizes)
{
  g_autofree char *small = human_count (scaled (spawn_sizes[0]));
  g_autofree char *large = human_count (scaled (spawn_sizes[n_sizes - 1]));
  g_autofree char *label = g_strdup_printf ("ns/child at N=%s ÷ at N=%s", large, small);
  g_autofree char *target = g_strdup_printf ("Nursery ≤ %.2f", TARGET_SCALING);
  BenchRow row = { 0 };

  row.id = "spawn-join-scaling";
  row.scenario = label;
  row.unit = "";
  row.nursery = nursery[n_sizes - 1] / nursery[0];
  row.baseline = baseline[n_sizes - 1] / baseline[0];
  row.baseline_name = "the same ratio for g_task_new + GCancellable + g_idle_add";
  row.ratio = NAN;
  row.target = target;
  row.status = bench_at_most (row.nursery, TARGET_SCALING);
  bench_report_row (&row);
}

static void
scenario_spawn_join (void)
{
  static const Impl impls[] = { IMPL_NURSERY, IMPL_BARE_CANCELLABLE, IMPL_BARE };
  double nursery[G_N_ELEMENTS (spawn_sizes)];
  double baseline[G_N_ELEMENTS (spawn_sizes)];

  for (guint s = 0; s < G_N_ELEMENTS (spawn_sizes); s++)
    {
      guint n = scaled (spawn_sizes[s]);
      Comparison cmp;

      comparison_init (&cmp, G_N_ELEMENTS (impls), impls);
      comparison_run (&cmp, measure_spawn_join, n, runs_for (n), TRUE);
      report_spawn_join (&cmp, n, s == TARGET_SIZE_INDEX);
      nursery[s] = comparison_median (&cmp, 0);
      baseline[s] = comparison_median (&cmp, 1);
      comparison_clear (&cmp);
    }

  report_scaling (nursery, baseline, G_N_ELEMENTS (spawn_sizes));
}

/* The hot-path target is for children spawned without a handle. */
static double
memory_target_bytes (guint    n,
                     gboolean soon)
{
  return soon && n >= 1000000 ? TARGET_MEMORY_BYTES_1M : TARGET_MEMORY_BYTES;
}

static BenchStatus
memory_status (double   bytes,
               double   ratio,
               guint    n,
               gboolean soon)
{
  BenchStatus absolute = bench_at_most (bytes, memory_target_bytes (n, soon));
  BenchStatus relative = bench_at_most (ratio, TARGET_MEMORY_RATIO);

  if (absolute == BENCH_MISS || relative == BENCH_MISS)
    return BENCH_MISS;
  return absolute;
}

/* An information row: impl 0 against impl @i. */
static void
report_memory_info (Comparison *cmp,
                    guint       i,
                    const char *id_format,
                    const char *label_format,
                    guint       n,
                    const char *baseline_name)
{
  g_autofree char *count = human_count (n);
  g_autofree char *id = g_strdup_printf (id_format, count);
  g_autofree char *label = g_strdup_printf (label_format, count);
  BenchRow row = comparison_row (cmp, i);

  row.id = id;
  row.scenario = label;
  row.unit = "B";
  row.baseline_name = baseline_name;
  bench_report_row (&row);
}

/* With @soon, impl 0 is start_soon() and impl 2 spawn() (info), 3 and 4
 * the strong baselines (info);
 * otherwise impl 0 is spawn() and impl 2, if any, plain GTask. */
static void
report_memory (Comparison *cmp,
               guint       n,
               gboolean    soon)
{
  g_autofree char *count = human_count (n);
  g_autofree char *id = g_strdup_printf ("pending-memory-%s", count);
  g_autofree char *id_third = g_strdup_printf (soon ? "pending-memory-%s-soon-vs-spawn"
                                                    : "pending-memory-%s-no-cancellable", count);
  g_autofree char *label = g_strdup_printf ("pending memory%s N=%s vs GTask+idle+cancellable",
                                            soon ? ", start_soon" : "", count);
  g_autofree char *label_third = g_strdup_printf (soon ? "pending memory N=%s, start_soon vs spawn"
                                                       : "pending memory N=%s vs GTask+idle", count);
  g_autofree char *target = g_strdup_printf ("≤ %.0f B, ≤ %.2f×", memory_target_bytes (n, soon),
                                             TARGET_MEMORY_RATIO);
  BenchRow row = comparison_row (cmp, 1);

  row.id = id;
  row.scenario = label;
  row.unit = "B";
  row.baseline_name = "g_task_new + GCancellable + g_idle_add per child";
  row.target = target;
  row.status = memory_status (row.nursery, row.ratio, n, soon);
  bench_report_row (&row);

  if (cmp->n_impls > 2)
    {
      BenchRow third = comparison_row (cmp, 2);

      third.id = id_third;
      third.scenario = label_third;
      third.unit = "B";
      third.baseline_name = soon ? "nursery_group_spawn(), a handle each"
                                 : "g_task_new + g_idle_add per child";
      bench_report_row (&third);
    }
  if (soon)
    {
      report_memory_info (cmp, 3, "pending-memory-%s-soon-vs-gtask-batch",
                          "pending memory N=%s, start_soon vs gtask-batch", n,
                          "g_task_new per child, no idle, no cancellable");
      report_memory_info (cmp, 4, "pending-memory-%s-soon-vs-struct-batch",
                          "pending memory N=%s, start_soon vs struct-batch (lower bound)", n,
                          "a malloc'd struct per child");
    }
}

static void
scenario_memory (void)
{
  static const Impl impls[] = { IMPL_NURSERY, IMPL_BARE_CANCELLABLE, IMPL_BARE };
  /* At a million, the hot-path target: children without a handle. */
  static const Impl soon_impls[] = {
    IMPL_NURSERY_SOON, IMPL_BARE_CANCELLABLE, IMPL_NURSERY, IMPL_GTASK_BATCH, IMPL_STRUCT_BATCH
  };

  for (guint s = 0; s < G_N_ELEMENTS (spawn_sizes); s++)
    {
      guint n = scaled (spawn_sizes[s]);
      gboolean soon = s == G_N_ELEMENTS (spawn_sizes) - 1;
      /* The plain pattern only at the target size: it has no target. */
      guint n_impls = soon ? G_N_ELEMENTS (soon_impls) : s == TARGET_SIZE_INDEX ? 3 : 2;
      Comparison cmp;

      /* Fresh processes: no warm-up to share. Memory varies far less than
       * time, so three rounds suffice. */
      comparison_init (&cmp, n_impls, soon ? soon_impls : impls);
      comparison_run (&cmp, measure_pending_memory, n, MIN ((guint) opt_runs, 3), FALSE);
      report_memory (&cmp, n, soon);
      comparison_clear (&cmp);
    }
}

static void
scenario_threads (void)
{
  static const Impl impls[] = { IMPL_NURSERY, IMPL_BARE };
  guint n = scaled (THREAD_CHILDREN);
  g_autofree char *count = human_count (n);
  g_autofree char *id = g_strdup_printf ("threads-%s", count);
  g_autofree char *label = g_strdup_printf ("thread children N=%s vs g_task_run_in_thread", count);
  Comparison cmp;
  BenchRow row;

  comparison_init (&cmp, G_N_ELEMENTS (impls), impls);
  comparison_run (&cmp, measure_threads, n, opt_runs, TRUE);
  row = comparison_row (&cmp, 1);
  row.id = id;
  row.scenario = label;
  row.unit = "ns/child";
  row.baseline_name = "g_task_new + g_task_run_in_thread per child";
  bench_report_row (&row);
  comparison_clear (&cmp);
}

static void
scenario_cancel (void)
{
  static const Impl impls[] = { IMPL_NURSERY, IMPL_BARE_CANCELLABLE };
  guint n = scaled (CANCEL_CHILDREN);
  g_autofree char *count = human_count (n);
  g_autofree char *id = g_strdup_printf ("cancel-%s", count);
  g_autofree char *label = g_strdup_printf ("cancel %s waiting children until joined", count);
  g_autofree char *target = g_strdup_printf ("≤ %.2f×", TARGET_CANCEL_RATIO);
  Comparison cmp;
  BenchRow row;

  comparison_init (&cmp, G_N_ELEMENTS (impls), impls);
  comparison_run (&cmp, measure_cancel, n, opt_runs, TRUE);
  row = comparison_row (&cmp, 1);
  row.id = id;
  row.scenario = label;
  row.unit = "ns/child";
  row.baseline_name = "g_cancellable_cancel on each of N GTask cancellables";
  row.target = target;
  row.status = bench_at_most (row.ratio, TARGET_CANCEL_RATIO);
  bench_report_row (&row);
  comparison_clear (&cmp);
}

typedef struct
{
  GArray *p50;
  GArray *p99;
} LatenessRuns;

static void
lateness_runs_add (LatenessRuns *runs,
                   DeadlineFunc  func,
                   guint         n)
{
  g_autoptr(GArray) lateness = measure_lateness (func, n);
  double p50 = bench_percentile (lateness, 0.50);
  double p99 = bench_percentile (lateness, 0.99);

  g_array_append_val (runs->p50, p50);
  g_array_append_val (runs->p99, p99);
}

static void
report_lateness (const char   *id,
                 const char   *label,
                 GArray       *nursery,
                 GArray       *baseline,
                 const char   *target,
                 BenchStatus (*status) (double value, double limit))
{
  BenchRow row = { 0 };

  row.id = id;
  row.scenario = label;
  row.unit = "µs";
  row.nursery = bench_median (nursery);
  row.baseline = bench_median (baseline);
  row.baseline_name = "g_timeout_add per deadline";
  row.ratio = isnan (row.nursery) ? NAN : row.nursery / row.baseline;
  row.target = target;
  row.status = status != NULL ? status (row.nursery, TARGET_DEADLINE_P99) : BENCH_INFO;
  bench_report_row (&row);
}

static void
scenario_deadline (void)
{
  guint n = DEADLINE_TASKS;
  /* A round lasts a second per side; five rounds keep a burst of load
   * from another process out of the median. */
  guint runs = MIN ((guint) opt_runs, 5);
  LatenessRuns nursery = { g_array_new (FALSE, FALSE, sizeof (double)),
                           g_array_new (FALSE, FALSE, sizeof (double)) };
  LatenessRuns glib = { g_array_new (FALSE, FALSE, sizeof (double)),
                        g_array_new (FALSE, FALSE, sizeof (double)) };
  g_autofree char *target = g_strdup_printf ("Nursery ≤ %.0f µs", TARGET_DEADLINE_P99);

  for (guint run = 0; run < runs; run++)
    {
      lateness_runs_add (&glib, deadlines_glib, n);
      lateness_runs_add (&nursery, deadlines_nursery, n);
    }

  report_lateness ("deadline-p50", "deadline lateness p50, 1000 over 1 s",
                   nursery.p50, glib.p50, NULL, NULL);
  report_lateness ("deadline-p99", "deadline lateness p99, 1000 over 1 s",
                   nursery.p99, glib.p99, target, bench_at_most);

  g_array_unref (nursery.p50);
  g_array_unref (nursery.p99);
  g_array_unref (glib.p50);
  g_array_unref (glib.p99);
}

/* Running */

typedef struct
{
  const char  *name;
  void       (*compare) (void);
  MeasureFunc  measure;     /* one measurement, for --impl */
} Scenario;

/* Deadline lateness first: after the million-children rounds of "spawn"
 * (760 MB resident, scattered), the main thread stalls for 10 to 20 ms
 * now and then inside GLib's own iteration (perf: g_main_context_check()
 * and _prepare() touching their sources; strace: no system call in the
 * gaps). That doubled the p99 of both sides alike, GLib's timeouts as
 * much as Nursery's deadlines: a figure of the previous scenario, not of
 * a deadline. */
static const Scenario scenarios[] = {
  { "deadline", scenario_deadline,   NULL },
  { "spawn",    scenario_spawn_join, measure_spawn_join },
  { "memory",   scenario_memory,     measure_pending_memory },
  { "threads",  scenario_threads,    measure_threads },
  { "cancel",   scenario_cancel,     measure_cancel },
};

static gboolean
scenario_selected (const Scenario *scenario)
{
  return opt_scenarios == NULL || g_strv_contains ((const char * const *) opt_scenarios, scenario->name);
}

/* A misspelt --scenario would otherwise run nothing and look like a pass. */
static void
check_scenario_names (void)
{
  for (guint i = 0; opt_scenarios != NULL && opt_scenarios[i] != NULL; i++)
    {
      gboolean known = FALSE;

      for (guint j = 0; j < G_N_ELEMENTS (scenarios); j++)
        known |= g_str_equal (opt_scenarios[i], scenarios[j].name);
      if (!known)
        {
          g_printerr ("Unknown --scenario '%s': use spawn, memory, threads, cancel or deadline\n",
                      opt_scenarios[i]);
          exit (2);
        }
    }
}

static Impl
parse_impl (const char *name)
{
  for (guint i = 0; i < N_IMPLS; i++)
    if (g_str_equal (name, impl_names[i]))
      return i;
  g_printerr ("Unknown --impl '%s': use nursery, bare or bare-cancellable\n", name);
  exit (2);
}

/* --impl: one measurement per selected scenario, for profilers. */
static void
measure_once (Impl impl)
{
  guint n = opt_n > 0 ? (guint) opt_n : 20000;

  for (guint i = 0; i < G_N_ELEMENTS (scenarios); i++)
    if (scenario_selected (&scenarios[i]) && scenarios[i].measure != NULL)
      g_print ("%s %s N=%u: %.1f per child\n", scenarios[i].name, impl_names[impl], n,
               scenarios[i].measure (impl, n));
}

static void
compare_all (void)
{
  g_print ("Nursery benchmarks: %d runs, medians%s\n\n", opt_runs,
           opt_quick ? " (--quick: N/10)" : "");
  bench_report_header ();
  for (guint i = 0; i < G_N_ELEMENTS (scenarios); i++)
    if (scenario_selected (&scenarios[i]))
      scenarios[i].compare ();
}

static void
parse_options (int    *argc,
               char ***argv)
{
  const GOptionEntry entries[] = {
    { "runs", 'r', 0, G_OPTION_ARG_INT, &opt_runs,
      "Rounds per figure (default 5, or $NURSERY_BENCH_RUNS)", "R" },
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &opt_quick, "Tenfold smaller N: a smoke test", NULL },
    { "scenario", 's', 0, G_OPTION_ARG_STRING_ARRAY, &opt_scenarios,
      "Only this scenario (spawn, memory, threads, cancel, deadline); repeatable", "NAME" },
    { "impl", 'i', 0, G_OPTION_ARG_STRING, &opt_impl,
      "Measure only this side once (nursery, bare, bare-cancellable), e.g. under callgrind", "NAME" },
    { "n", 'n', 0, G_OPTION_ARG_INT, &opt_n, "Children for --impl (default 20000)", "N" },
    { "memory-child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &opt_memory_child, NULL, NULL },
    G_OPTION_ENTRY_NULL
  };
  opt_runs = bench_parse_options ("- Nursery against hand-written GTask code", entries, argc, argv, opt_runs, 5);
  check_scenario_names ();
}

int
main (int    argc,
      char **argv)
{
  parse_options (&argc, &argv);

  if (opt_memory_child)
    {
      /* Re-executed by measure_pending_memory(): one figure on stdout. */
      g_print ("%.6g\n", pending_memory_here (parse_impl (opt_impl), (guint) opt_n));
      return 0;
    }

  if (opt_impl != NULL)
    measure_once (parse_impl (opt_impl));
  else
    compare_all ();

  /* A miss is a result, not a crash; NURSERY_BENCH_STRICT makes it fail. */
  if (bench_report_any_miss () && g_getenv ("NURSERY_BENCH_STRICT") != NULL)
    return 1;
  return 0;
}
