/* nursery-test-utils.c: child bodies and loop helpers shared by the C tests
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "nursery-test-utils.h"

#include <string.h>

#define DEFAULT_TIMEOUT_SECONDS 30

guint
nt_timeout_seconds (void)
{
  const char *text = g_getenv ("NURSERY_TEST_TIMEOUT_SECONDS");
  guint64 seconds;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT / 1000, &seconds, NULL))
    return DEFAULT_TIMEOUT_SECONDS;
  return (guint) seconds;
}

static gboolean
wake_cb (gpointer unused)
{
  return G_SOURCE_REMOVE;
}

void
nt_deadline_begin (NtDeadline   *deadline,
                   GMainContext *context,
                   const char   *what,
                   const char   *file,
                   int           line,
                   const char   *func)
{
  guint seconds = nt_timeout_seconds ();

  deadline->context = context;
  deadline->end = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  deadline->what = what;
  deadline->file = file;
  deadline->line = line;
  deadline->func = func;
  /* Only there to end a blocking iteration that nothing else would end;
   * its callback does nothing, the time check below decides. */
  deadline->wake = g_timeout_source_new (seconds * 1000);
  g_source_set_static_name (deadline->wake, "nt-deadline");
  g_source_set_callback (deadline->wake, wake_cb, NULL, NULL);
  g_source_attach (deadline->wake, context);
}

void
nt_deadline_iterate (NtDeadline *deadline)
{
  g_main_context_iteration (deadline->context, TRUE);
  if (g_get_monotonic_time () >= deadline->end)
    {
      g_autofree char *message =
        g_strdup_printf ("timed out after %u s waiting for: %s "
                         "(NURSERY_TEST_TIMEOUT_SECONDS changes the limit)",
                         nt_timeout_seconds (), deadline->what);

      g_assertion_message (G_LOG_DOMAIN, deadline->file, deadline->line, deadline->func, message);
    }
}

void
nt_deadline_end (NtDeadline *deadline)
{
  g_source_destroy (deadline->wake);
  g_clear_pointer (&deadline->wake, g_source_unref);
}

void
nt_run_until (const gboolean *flag)
{
  NT_ITERATE_UNTIL (*flag);
}

void
nt_run_until_count (const guint *value,
                    guint        target)
{
  NT_ITERATE_UNTIL (*value >= target);
}

void
nt_wait_until_running (NurseryTask *task)
{
  NT_ITERATE_UNTIL (nursery_task_get_state (task) != NURSERY_TASK_PENDING);
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

typedef struct
{
  NurseryTask *task;
  int          value;
} IdleReturn;

static gboolean
return_int_cb (gpointer data)
{
  IdleReturn *ret = data;

  nursery_task_return_int (ret->task, ret->value);
  return G_SOURCE_REMOVE;
}

static void
idle_return_free (gpointer data)
{
  IdleReturn *ret = data;

  g_object_unref (ret->task);
  g_free (ret);
}

void
nt_child_return_int_from_idle (NurseryTask *task,
                               gpointer     int_value)
{
  IdleReturn *ret = g_new (IdleReturn, 1);

  ret->task = g_object_ref (task);
  ret->value = GPOINTER_TO_INT (int_value);
  g_idle_add_full (G_PRIORITY_LOW, return_int_cb, ret, idle_return_free);
}

void
nt_count_notify (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    counter)
{
  (*(guint *) counter)++;
}

void
nt_record_items_changed (GListModel *model,
                         guint       position,
                         guint       removed,
                         guint       added,
                         gpointer    changes)
{
  NtChange change = { position, removed, added };

  g_array_append_val ((GArray *) changes, change);
}

void
nt_barrier_init (NtBarrier *barrier,
                 guint      n)
{
  memset (barrier, 0, sizeof *barrier);
  g_mutex_init (&barrier->lock);
  g_cond_init (&barrier->cond);
  barrier->n = n;
}

void
nt_barrier_clear (NtBarrier *barrier)
{
  g_mutex_clear (&barrier->lock);
  g_cond_clear (&barrier->cond);
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
