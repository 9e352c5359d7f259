/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <nursery.h>

static void answer (NurseryTask *task, gpointer data) { nursery_task_return_int (task, 42); }
static void count (NurseryTask *task, gpointer data) { gint64 n = 0; for (int i = 0; i < 1000; i++) n += i; nursery_task_return_int (task, n); }

int
main (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) a = nursery_group_spawn (group, "answer", answer, NULL, NULL, NULL);
  g_autoptr(NurseryTask) b = nursery_group_spawn_in_thread (group, "count", count, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  if (!nursery_group_wait (group, NULL, &error))   /* the first failure, unchanged */
    g_error ("%s", error->message);
  g_print ("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", nursery_task_get_int (a), nursery_task_get_int (b));
}
