/* bench-rounds.h: side-by-side rounds shared by the C benchmarks
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <nursery.h>

#include "bench-report.h"

G_BEGIN_DECLS

/* "100k" for 100000: row labels follow the sizes actually run. */
char    *bench_human_count   (guint          n);
/* Iterates the default context, owned as g_main_loop_run() owns it, until
 * *remaining is 0. */
void     bench_run_until_zero (const guint  *remaining);
/* Waits for @group; its failure aborts the benchmark. */
void     bench_group_join    (NurseryGroup  *group);

/* Side-by-side rounds: impl 0 is Nursery, the others baselines. Each
 * measure returns one figure (lower is better). */
typedef double (*BenchMeasure) (guint n);

typedef struct
{
  guint   n_impls;
  GArray *samples[4];
} BenchRounds;

/* @runs rounds of every impl at @n, in an order that rotates each round,
 * after one warm-up call at @warm_up_n (0: none). */
void     bench_rounds_run    (BenchRounds        *rounds,
                              const BenchMeasure *impls,
                              guint               n_impls,
                              guint               n,
                              guint               runs,
                              guint               warm_up_n);
void     bench_rounds_clear  (BenchRounds        *rounds);
/* Nursery (impl 0) against impl @i: medians and the median ratio. */
BenchRow bench_rounds_row    (BenchRounds        *rounds,
                              guint               i);
/* The same, for a second Nursery variant, impl @nursery. */
BenchRow bench_rounds_row_between (BenchRounds   *rounds,
                                   guint          nursery,
                                   guint          i);
/* Fills in @row's labels and, with @target > 0, its verdict; prints it. */
void     bench_report        (BenchRow           *row,
                              const char         *id,
                              const char         *scenario,
                              const char         *unit,
                              const char         *baseline_name,
                              double              target);

G_END_DECLS
