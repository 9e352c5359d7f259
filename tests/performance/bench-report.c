/* bench-report.c: statistics, memory probes and the result table
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Every row goes two ways: a line of a fixed-width table on stdout (what
 * `meson test --benchmark -v` and the benchmark log show), and, when
 * NURSERY_BENCH_RESULTS names a file, one JSON object per line appended
 * to it, from which tests/performance/run-benchmarks prints the single
 * table of every suite (C and Python). */

#include "bench-report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static gboolean any_miss;

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Sorted copy, so callers keep their samples in run order. */
static GArray *
sorted_copy (GArray *samples)
{
  GArray *sorted = g_array_sized_new (FALSE, FALSE, sizeof (double), samples->len);

  g_array_append_vals (sorted, samples->data, samples->len);
  g_array_sort (sorted, compare_doubles);
  return sorted;
}

double
bench_median (GArray *samples)
{
  g_autoptr(GArray) sorted = NULL;
  guint mid;

  if (samples->len == 0)
    return NAN;
  sorted = sorted_copy (samples);
  mid = sorted->len / 2;
  if (sorted->len % 2 == 1)
    return g_array_index (sorted, double, mid);
  return (g_array_index (sorted, double, mid - 1) + g_array_index (sorted, double, mid)) / 2;
}

/* Nearest rank: the smallest sample with at least @fraction of the
 * samples at or below it (p99 of 1000 samples is the 990th). */
double
bench_percentile (GArray *samples,
                  double  fraction)
{
  g_autoptr(GArray) sorted = NULL;
  guint rank;

  if (samples->len == 0)
    return NAN;
  sorted = sorted_copy (samples);
  rank = (guint) ceil (fraction * sorted->len);
  rank = CLAMP (rank, 1, sorted->len);
  return g_array_index (sorted, double, rank - 1);
}

/* g_get_monotonic_time() has µs resolution: too coarse for 10k children
 * that finish in a few milliseconds. */
gint64
bench_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* A "Vm…:" line of /proc/self/status, in KiB; -1 if it is missing. */
gint64
bench_status_kib (const char *field)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, field);
  if (line == NULL)
    return -1;
  return g_ascii_strtoll (line + strlen (field), NULL, 10);
}

BenchStatus
bench_at_most (double value,
               double limit)
{
  if (isnan (value))
    return BENCH_NOT_AVAILABLE;
  return value <= limit ? BENCH_PASS : BENCH_MISS;
}

static const char *
status_name (BenchStatus status)
{
  switch (status)
    {
    case BENCH_PASS:
      return "PASS";
    case BENCH_MISS:
      return "MISS";
    case BENCH_NOT_AVAILABLE:
      return "n/a";
    case BENCH_INFO:
    default:
      return "info";
    }
}

/* Three significant digits are all a median of a few runs can tell. */
static char *
format_number (double value)
{
  if (isnan (value))
    return g_strdup ("n/a");
  if (fabs (value) >= 100)
    return g_strdup_printf ("%.0f", value);
  if (fabs (value) >= 10)
    return g_strdup_printf ("%.1f", value);
  return g_strdup_printf ("%.2f", value);
}

static char *
format_value (double      value,
              const char *unit,
              const char *note)
{
  g_autofree char *number = NULL;

  if (isnan (value))
    return g_strdup (note != NULL ? note : "n/a");
  number = format_number (value);
  if (*unit == '\0')
    return g_steal_pointer (&number);
  return g_strdup_printf ("%s %s", number, unit);
}

static char *
format_ratio (double ratio)
{
  g_autofree char *number = NULL;

  if (isnan (ratio))
    return g_strdup ("–");
  number = g_strdup_printf ("%.2f", ratio);
  return g_strdup_printf ("%s×", number);
}

/* printf pads by bytes; "µ", "×" and "≤" are two or three. */
static void
print_cell (const char *text,
            guint       width)
{
  glong chars = g_utf8_strlen (text, -1);

  fputs (text, stdout);
  for (glong i = chars; i < (glong) width; i++)
    fputc (' ', stdout);
}

static void
print_line (const char *cells[6])
{
  static const guint widths[6] = { 48, 22, 22, 8, 18, 6 };

  for (guint i = 0; i < 6; i++)
    {
      print_cell (cells[i], widths[i]);
      fputs (i < 5 ? " " : "\n", stdout);
    }
  fflush (stdout);
}

void
bench_report_header (void)
{
  const char *cells[6] = { "Scenario", "Nursery", "Baseline", "Ratio", "Target", "Result" };

  print_line (cells);
}

/* JSON numbers: NAN becomes null, and the C locale's '.' is guaranteed. */
static void
append_json_number (GString    *json,
                    const char *key,
                    double      value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (json, ", \"%s\": ", key);
  if (isnan (value))
    g_string_append (json, "null");
  else
    g_string_append (json, g_ascii_formatd (buffer, sizeof buffer, "%.6g", value));
}

/* Our strings are fixed ASCII/UTF-8 text without quotes or backslashes. */
static void
append_json_string (GString    *json,
                    const char *key,
                    const char *value)
{
  if (value == NULL)
    g_string_append_printf (json, ", \"%s\": null", key);
  else
    g_string_append_printf (json, ", \"%s\": \"%s\"", key, value);
}

static void
append_json_line (const BenchRow *row)
{
  const char *path = g_getenv ("NURSERY_BENCH_RESULTS");
  g_autoptr(GString) json = NULL;
  FILE *file;

  if (path == NULL || *path == '\0')
    return;

  json = g_string_new ("{\"suite\": \"c\"");
  append_json_string (json, "id", row->id);
  append_json_string (json, "scenario", row->scenario);
  append_json_string (json, "unit", row->unit);
  append_json_number (json, "nursery", row->nursery);
  append_json_number (json, "baseline", row->baseline);
  append_json_string (json, "baseline_name", row->baseline_name);
  append_json_number (json, "ratio", row->ratio);
  append_json_string (json, "target", row->target);
  append_json_string (json, "status", status_name (row->status));
  append_json_string (json, "note", row->note);
  g_string_append (json, "}\n");

  file = fopen (path, "a");
  if (file == NULL)
    g_error ("Cannot append to %s: %s", path, g_strerror (errno));
  fputs (json->str, file);
  fclose (file);
}

void
bench_report_row (const BenchRow *row)
{
  g_autofree char *nursery = format_value (row->nursery, row->unit, row->note);
  g_autofree char *baseline = format_value (row->baseline, row->unit, NULL);
  g_autofree char *ratio = format_ratio (row->ratio);
  const char *cells[6] = {
    row->scenario, nursery, baseline, ratio,
    row->target != NULL ? row->target : "–", status_name (row->status),
  };

  if (row->status == BENCH_MISS)
    any_miss = TRUE;
  print_line (cells);
  append_json_line (row);
}

gboolean
bench_report_any_miss (void)
{
  return any_miss;
}

int
bench_parse_options (const char         *summary,
                     const GOptionEntry *entries,
                     int                *argc,
                     char             ***argv,
                     int                 runs,
                     int                 default_runs)
{
  g_autoptr(GOptionContext) context = g_option_context_new (summary);
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("%s\n", error->message);
      exit (2);
    }
  if (runs <= 0)
    runs = g_getenv ("NURSERY_BENCH_RUNS") != NULL ? atoi (g_getenv ("NURSERY_BENCH_RUNS")) : default_runs;
  return MAX (runs, 1);
}

static void
deadline_child_cancelled (GCancellable *cancellable,
                          gpointer      data)
{
  BenchDeadline *probe = data;

  probe->fired = g_get_monotonic_time ();
  nursery_task_return_error_if_cancelled (probe->child);
}

void
bench_deadline_child (NurseryTask *task,
                      gpointer     data)
{
  BenchDeadline *probe = data;

  probe->child = task;
  g_cancellable_connect (nursery_task_get_cancellable (task),
                         G_CALLBACK (deadline_child_cancelled), probe, NULL);
}

GArray *
bench_lateness (gconstpointer probes,
                gsize         stride,
                guint         n)
{
  GArray *lateness = g_array_sized_new (FALSE, FALSE, sizeof (double), n);

  for (guint i = 0; i < n; i++)
    {
      const BenchDeadline *probe = (const BenchDeadline *) ((const char *) probes + i * stride);
      double late = (double) (probe->fired - probe->deadline);

      if (probe->fired == 0)
        g_error ("Deadline %u never fired", i);
      g_array_append_val (lateness, late);
    }
  return lateness;
}

static void
waiting_child_cancelled (GCancellable *cancellable,
                         gpointer      task)
{
  nursery_task_return_error_if_cancelled (task);
}

void
bench_waiting_child (NurseryTask *task,
                     gpointer     started)
{
  g_cancellable_connect (nursery_task_get_cancellable (task),
                         G_CALLBACK (waiting_child_cancelled), task, NULL);
  (*(guint *) started)++;
}
