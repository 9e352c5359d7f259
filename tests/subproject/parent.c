/* parent.c: a program of a parent project that builds Nursery as a subproject
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <nursery.h>

static void
answer (NurseryTask *task,
        gpointer     data)
{
  nursery_task_return_int (task, 42);
}

int
main (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryTask) task = nursery_group_spawn (group, "answer", answer, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  if (!nursery_group_wait (group, NULL, &error))
    g_error ("%s", error->message);
  if (nursery_task_get_int (task) != 42 || !NURSERY_CHECK_VERSION (1, 0, 0))
    return 1;
  g_print ("parent: Nursery %u.%u.%u as a subproject\n", nursery_get_major_version (),
           nursery_get_minor_version (), nursery_get_micro_version ());
  return 0;
}
