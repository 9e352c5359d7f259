/* nursery-test-utils.c: child bodies and loop helpers shared by the C tests
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "nursery-test-utils.h"

void
nt_run_until (const gboolean *flag)
{
  while (!*flag)
    g_main_context_iteration (NULL, TRUE);
}

void
nt_run_until_count (const guint *value,
                    guint        target)
{
  while (*value < target)
    g_main_context_iteration (NULL, TRUE);
}

GError *
nt_wait (NurseryGroup *group)
{
  GError *error = NULL;

  if (nursery_group_wait (group, NULL, &error))
    g_assert_no_error (error);
  else
    g_assert_nonnull (error);
  return error;
}

void
nt_child_return_int (NurseryTask *task,
                     gpointer     int_value)
{
  nursery_task_return_int (task, GPOINTER_TO_INT (int_value));
}

void
nt_child_fail (NurseryTask *task,
               gpointer     message)
{
  nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", (const char *) message);
}

static void
return_cancelled_cb (GCancellable *cancellable,
                     gpointer      task)
{
  nursery_task_return_error_if_cancelled (task);
}

void
nt_child_until_cancelled (NurseryTask *task,
                          gpointer     unused)
{
  /* g_cancellable_connect runs the handler at once if already cancelled. */
  g_cancellable_connect (nursery_task_get_cancellable (task),
                         G_CALLBACK (return_cancelled_cb), task, NULL);
}

void
nt_child_never_called (NurseryTask *task,
                       gpointer     unused)
{
  g_assert_not_reached ();
}

void
nt_child_block_until_cancelled (NurseryTask *task,
                                gpointer     unused)
{
  GCancellable *cancellable = nursery_task_get_cancellable (task);
  GPollFD pfd;

  g_assert_true (g_cancellable_make_pollfd (cancellable, &pfd));
  while (!g_cancellable_is_cancelled (cancellable))
    g_poll (&pfd, 1, -1);
  g_cancellable_release_fd (cancellable);
  nursery_task_return_error_if_cancelled (task);
}

void
nt_count_destroy (gpointer counter)
{
  g_atomic_int_inc ((int *) counter);
}

void
nt_spawn (NurseryGroup    *group,
          const char      *name,
          NurseryTaskFunc  func,
          gpointer         data)
{
  GError *error = NULL;
  NurseryTask *task = nursery_group_spawn (group, name, func, data, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (task);
  g_object_unref (task);
}
