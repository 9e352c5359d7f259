/* demo.c: one group, in-context and thread children, a failure under
 * fail-fast, and a timeline of what happens to the siblings.
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <locale.h>

#include <nursery.h>

static gint64 t0;

static void
say (const char *who,
     const char *what)
{
  g_print ("  %+7.1f ms  %-12s %s\n", (g_get_monotonic_time () - t0) / 1000.0, who, what);
}

/* An in-context child that finishes after @ms milliseconds. */
static gboolean
download_done (gpointer task)
{
  nursery_task_return_int (task, 4096);
  return G_SOURCE_REMOVE;
}

static void
download (NurseryTask *task,
          gpointer     data)
{
  say (nursery_task_get_name (task), "started (in-context): fetching...");
  g_timeout_add_full (G_PRIORITY_DEFAULT, 30, download_done, g_object_ref (task), g_object_unref);
}

/* A thread child that hashes in small chunks until it is cancelled. */
static void
hash (NurseryTask *task,
      gpointer     data)
{
  guint64 rounds = 0;

  say (nursery_task_get_name (task), "started (thread): hashing...");
  while (!nursery_task_is_cancelled (task))
    {
      g_autofree char *digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                                             (const guchar *) &rounds, sizeof rounds);
      rounds++;
      g_usleep (1000);
    }
  nursery_task_return_error_if_cancelled (task);
}

/* An in-context child that fails after 60 ms. */
static gboolean
parse_fails (gpointer task)
{
  nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                 "config.ini line 3: expected '=' after key");
  return G_SOURCE_REMOVE;
}

static void
parse (NurseryTask *task,
       gpointer     data)
{
  say (nursery_task_get_name (task), "started (in-context): parsing...");
  g_timeout_add_full (G_PRIORITY_DEFAULT, 60, parse_fails, g_object_ref (task), g_object_unref);
}

/* An in-context child that, when cancelled, needs 20 ms to clean up and
 * then fails too: the group keeps that error as well. */
static gboolean
upload_aborted (gpointer task)
{
  nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                 "upload aborted: peer closed the connection");
  return G_SOURCE_REMOVE;
}

static void
upload_cancelled (GCancellable *cancellable,
                  gpointer      task)
{
  say (nursery_task_get_name (task), "cancelled: closing the connection...");
  g_timeout_add_full (G_PRIORITY_DEFAULT, 20, upload_aborted, g_object_ref (task), g_object_unref);
}

static void
upload (NurseryTask *task,
        gpointer     data)
{
  say (nursery_task_get_name (task), "started (in-context): uploading until done...");
  g_cancellable_connect (nursery_task_get_cancellable (task),
                         G_CALLBACK (upload_cancelled), task, NULL);
}

/* A shielded child: it saves state for 100 ms and the group's cancel
 * passes it by; only its own deadline (150 ms) could stop it. */
static gboolean
save_done (gpointer task)
{
  nursery_task_return_int (task, 100);
  return G_SOURCE_REMOVE;
}

static void
save_state (NurseryTask *task,
            gpointer     data)
{
  say (nursery_task_get_name (task), "started (in-context, shielded, own deadline 150 ms): saving...");
  g_timeout_add_full (G_PRIORITY_DEFAULT, 100, save_done, g_object_ref (task), g_object_unref);
}

/* Half-way through: what is running, what is stuck. */
static gboolean
print_tree (gpointer group)
{
  g_autofree char *tree = nursery_group_dump_tree (group);
  g_auto(GStrv) lines = g_strsplit (tree, "\n", -1);

  say ("group", "tree at this moment:");
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    g_print ("                 %s\n", lines[i]);
  return G_SOURCE_REMOVE;
}

static const char *
state_name (NurseryTaskState state)
{
  return g_enum_get_value (g_type_class_peek (NURSERY_TYPE_TASK_STATE), state)->value_nick;
}

static void
on_task_finished (NurseryGroup *group,
                  NurseryTask  *task,
                  gpointer      data)
{
  g_autofree char *line = NULL;
  const GError *error = nursery_task_get_error (task);

  if (error != NULL)
    line = g_strdup_printf ("%s: %s", state_name (nursery_task_get_state (task)), error->message);
  else
    line = g_strdup_printf ("%s, value %" G_GINT64_FORMAT,
                            state_name (nursery_task_get_state (task)), nursery_task_get_int (task));
  say (nursery_task_get_name (task), line);
}

static void
on_cancelled (NurseryGroup *group,
              GParamSpec   *pspec,
              gpointer      data)
{
  if (nursery_group_is_cancelled (group))
    say ("group", "cancelled (fail-fast): the siblings are cancelled, the group waits for them");
}

static NurseryTask *
spawn (NurseryGroup    *group,
       const char      *name,
       NurseryTaskFunc  func,
       gboolean         in_thread)
{
  if (in_thread)
    return nursery_group_spawn_in_thread (group, name, func, NULL, NULL, NULL);
  return nursery_group_spawn (group, name, func, NULL, NULL, NULL);
}

int
main (void)
{
  g_autoptr(NurseryGroup) group = g_object_new (NURSERY_TYPE_GROUP, "name", "demo", NULL);
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(NurseryTask) saver = NULL;

  setlocale (LC_ALL, "");
  g_type_ensure (NURSERY_TYPE_TASK_STATE);
  g_print ("Nursery demo: one group, five children, fail-fast policy\n\n");
  t0 = g_get_monotonic_time ();

  g_signal_connect (group, "task-finished", G_CALLBACK (on_task_finished), NULL);
  g_signal_connect (group, "notify::cancelled", G_CALLBACK (on_cancelled), NULL);

  g_object_unref (spawn (group, "download", download, FALSE));
  g_object_unref (spawn (group, "hash", hash, TRUE));
  g_object_unref (spawn (group, "parse", parse, FALSE));
  g_object_unref (spawn (group, "upload", upload, FALSE));
  saver = spawn (group, "save-state", save_state, FALSE);
  nursery_task_set_shielded (saver, TRUE);
  nursery_task_set_timeout (saver, 150 * 1000);
  nursery_group_set_timeout (group, G_USEC_PER_SEC);
  say ("group", "spawned 5 children, group deadline in 1 s; none has run yet");
  g_timeout_add (45, print_tree, group);

  nursery_group_wait (group, NULL, &error);
  say ("group", "closed: every child has finished");

  g_print ("\nOutcome: %s\n", error != NULL ? error->message : "success");
  errors = nursery_group_get_errors (group);
  g_print ("Every failure, in order (%u):\n", errors->len);
  for (guint i = 0; i < errors->len; i++)
    g_print ("  %u. %s\n", i + 1, ((GError *) errors->pdata[i])->message);
  g_print ("Finished %u, failed %u.\n",
           nursery_group_get_n_finished (group), nursery_group_get_n_failed (group));

  /* The demo's expected outcome is the parse failure: exit 0 when the
   * library behaved as described. */
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA) && errors->len == 2 &&
         nursery_task_get_state (saver) == NURSERY_TASK_SUCCEEDED ? 0 : 1;
}
