/* test-app-memory.c: a server's handled failures use bounded memory (R29)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <unistd.h>

#include "nursery-test-utils.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
# define UNDER_SANITIZER 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#  define UNDER_SANITIZER 1
# endif
#endif

static gsize
resident_bytes (void)
{
  g_autofree char *statm = NULL;
  unsigned long size = 0, resident = 0;

  g_assert_true (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL));
  g_assert_cmpint (sscanf (statm, "%lu %lu", &size, &resident), ==, 2);
  return (gsize) resident * (gsize) sysconf (_SC_PAGESIZE);
}

static gboolean
handle_failure (NurseryGroup *group,
                NurseryTask  *task,
                GError       *error,
                gpointer      data)
{
  return TRUE;
}

static void
reset_connection (NurseryTask *task,
                  gpointer     data)
{
  nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                 "Connection reset by peer");
}

/* Spawns @n failing children in rounds, as connections come in, and lets
 * the group report them. */
static void
fail_connections (NurseryGroup *group,
                  guint         n)
{
  guint target = nursery_group_get_n_finished (group) + n;

  for (guint spawned = 0; spawned < n; )
    {
      for (guint i = 0; i < 1000 && spawned < n; i++, spawned++)
        nt_spawn (group, "connection", reset_connection, NULL);
      NT_ITERATE_UNTIL (nursery_group_get_n_finished (group) >= target - (n - spawned));
    }
  g_assert_cmpuint (nursery_group_get_n_finished (group), ==, target);
}

/* R29: 200 000 handled failures in a SUPERVISE group: RSS stays flat
 * between 20 000 and 200 000 (kept failures would cost ~100 B each,
 * ~18 MB here). */
static void
test_handled_failures_flat_rss (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) errors = NULL;
  gsize at_20k, at_200k;

  /* valgrind and the sanitizers replace malloc (ASan also quarantines
   * what is freed): RSS says nothing there. The valgrind and TSan setups
   * set NURSERY_RELIABILITY_SCALE. */
#ifdef UNDER_SANITIZER
  g_test_skip ("RSS is meaningless under a sanitizer");
  return;
#endif
  if (g_getenv ("NURSERY_RELIABILITY_SCALE") != NULL)
    {
      g_test_skip ("RSS is meaningless under valgrind or a sanitizer");
      return;
    }

  nursery_group_set_policy (group, NURSERY_POLICY_SUPERVISE);
  g_signal_connect (group, "task-failed", G_CALLBACK (handle_failure), NULL);

  fail_connections (group, 20000);
  at_20k = resident_bytes ();
  fail_connections (group, 180000);
  at_200k = resident_bytes ();

  g_test_message ("RSS %" G_GSIZE_FORMAT " kB at 20k failures, %" G_GSIZE_FORMAT " kB at 200k",
                  at_20k / 1024, at_200k / 1024);
  g_assert_cmpuint (nursery_group_get_n_failed (group), ==, 200000);
  errors = nursery_group_get_errors (group);
  g_assert_cmpuint (errors->len, ==, 0);
  g_assert_cmpuint (at_200k, <, at_20k + 2 * 1024 * 1024);

  nursery_group_cancel (group);
  g_clear_error (&(GError *) { nt_wait (group) });
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nursery/group/R29/handled-failures/flat-rss", test_handled_failures_flat_rss);

  return g_test_run ();
}
