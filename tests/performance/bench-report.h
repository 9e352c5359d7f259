/* bench-report.h: statistics, memory probes and the result table
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <nursery.h>

G_BEGIN_DECLS

/* How a row compares with its target. INFO rows have no target. */
typedef enum
{
  BENCH_INFO,
  BENCH_PASS,
  BENCH_MISS,
  BENCH_NOT_AVAILABLE,
} BenchStatus;

/* One line of the result table. Values that were not measured are NAN. */
typedef struct
{
  const char  *id;             /* stable key, e.g. "spawn-join-100k" */
  const char  *scenario;       /* what was measured, for humans */
  const char  *unit;           /* of nursery and baseline: "ns/child", "B/child", "µs" */
  double       nursery;
  double       baseline;
  const char  *baseline_name;  /* what the baseline is */
  double       ratio;          /* median of the per-run ratios nursery / baseline */
  const char  *target;         /* NULL for INFO rows */
  BenchStatus  status;
  const char  *note;           /* nullable: shown instead of a missing value */
} BenchRow;

double   bench_median          (GArray       *samples);
double   bench_percentile      (GArray       *samples,
                                double        fraction);
gint64   bench_now_ns          (void);
gint64   bench_status_kib      (const char   *field);

BenchStatus bench_at_most      (double        value,
                                double        limit);

void     bench_report_header   (void);
void     bench_report_row      (const BenchRow *row);
gboolean bench_report_any_miss (void);

/* A NurseryTaskFunc for @started, a guint it increments: the child ends
 * when its cancellable is cancelled. */
void     bench_waiting_child   (NurseryTask        *task,
                                gpointer            started);

/* A deadline, and when its owner saw it fire (0 until then): the first
 * member of each deadline benchmark's probe. */
typedef struct
{
  gint64       deadline;   /* monotonic µs */
  gint64       fired;
  NurseryTask *child;      /* the Nursery side's child, no reference */
} BenchDeadline;

/* A NurseryTaskFunc for @probe, a BenchDeadline: the child ends when its
 * cancellable is cancelled (its deadline passed), noting when. */
void     bench_deadline_child  (NurseryTask        *task,
                                gpointer            probe);
/* The lateness (fired − deadline, µs) of @n probes @stride bytes apart,
 * each starting with a BenchDeadline; aborts if one never fired. */
GArray  *bench_lateness        (gconstpointer       probes,
                                gsize               stride,
                                guint               n);

/* Parses the command line with @entries (a bad option exits with status
 * 2) and returns the rounds per figure: *@runs if --runs gave one, else
 * $NURSERY_BENCH_RUNS, else @default_runs; at least 1. */
int      bench_parse_options   (const char         *summary,
                                const GOptionEntry *entries,
                                int                *argc,
                                char             ***argv,
                                int                 runs,
                                int                 default_runs);

G_END_DECLS
