/* bench-rounds.c: side-by-side rounds shared by the C benchmarks
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "bench-rounds.h"

char *
bench_human_count (guint n)
{
  if (n >= 1000 && n % 1000 == 0)
    return g_strdup_printf ("%uk", n / 1000);
  return g_strdup_printf ("%u", n);
}

void
bench_run_until_zero (const guint *remaining)
{
  g_main_context_acquire (NULL);
  while (*remaining > 0)
    g_main_context_iteration (NULL, TRUE);
  g_main_context_release (NULL);
}

void
bench_group_join (NurseryGroup *group)
{
  g_autoptr(GError) error = NULL;

  if (!nursery_group_wait (group, NULL, &error))
    g_error ("The group failed: %s", error->message);
}

void
bench_rounds_run (BenchRounds        *rounds,
                  const BenchMeasure *impls,
                  guint               n_impls,
                  guint               n,
                  guint               runs,
                  guint               warm_up_n)
{
  rounds->n_impls = n_impls;
  for (guint i = 0; i < n_impls; i++)
    {
      rounds->samples[i] = g_array_new (FALSE, FALSE, sizeof (double));
      if (warm_up_n > 0)
        impls[i] (warm_up_n);
    }
  for (guint run = 0; run < runs; run++)
    for (guint k = 0; k < n_impls; k++)
      {
        guint i = (run + k) % n_impls;
        double value = impls[i] (n);

        g_array_append_val (rounds->samples[i], value);
      }
}

void
bench_rounds_clear (BenchRounds *rounds)
{
  for (guint i = 0; i < rounds->n_impls; i++)
    g_clear_pointer (&rounds->samples[i], g_array_unref);
}

BenchRow
bench_rounds_row (BenchRounds *rounds,
                  guint        i)
{
  return bench_rounds_row_between (rounds, 0, i);
}

BenchRow
bench_rounds_row_between (BenchRounds *rounds,
                          guint        nursery,
                          guint        i)
{
  g_autoptr(GArray) ratios = g_array_new (FALSE, FALSE, sizeof (double));
  BenchRow row = { 0 };

  for (guint run = 0; run < rounds->samples[nursery]->len; run++)
    {
      double ratio = g_array_index (rounds->samples[nursery], double, run) /
                     g_array_index (rounds->samples[i], double, run);

      g_array_append_val (ratios, ratio);
    }
  row.nursery = bench_median (rounds->samples[nursery]);
  row.baseline = bench_median (rounds->samples[i]);
  row.ratio = bench_median (ratios);
  row.status = BENCH_INFO;
  return row;
}

void
bench_report (BenchRow   *row,
              const char *id,
              const char *scenario,
              const char *unit,
              const char *baseline_name,
              double      target)
{
  g_autofree char *target_text = target > 0 ? g_strdup_printf ("≤ %.2f×", target) : NULL;

  row->id = id;
  row->scenario = scenario;
  row->unit = unit;
  row->baseline_name = baseline_name;
  if (target > 0)
    {
      row->target = target_text;
      row->status = bench_at_most (row->ratio, target);
    }
  bench_report_row (row);
}
