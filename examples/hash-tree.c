/* hash-tree.c: the SHA-256 of every file under a directory, printed like
 *
 *   find DIR -type f | LC_ALL=C sort | xargs sha256sum
 *
 * What it shows:
 *  - one thread child per file (nursery_group_spawn_in_thread), at most
 *    --jobs of them at once (the group's max-concurrent, R19);
 *  - a timeout per file (nursery_task_set_timeout), counted from when the
 *    file's hashing starts, not from when it was queued;
 *  - the supervise policy: one unreadable or slow file is reported, the
 *    others are still hashed;
 *  - a live progress line on stderr, driven by notify on the group's
 *    n-finished, n-running and n-failed properties (always emitted on the
 *    owner context, so plain stdio is safe);
 *  - a clean Ctrl-C: nursery_group_cancel_on_unix_signal() cancels the
 *    group, every hashing thread sees its cancellable and stops between
 *    two reads, queued files never start; the program prints what it has,
 *    a summary, and exits with 130 like a shell does after SIGINT.
 *
 * Usage: hash-tree [--jobs N] [--timeout SECONDS] [--slow MS] DIR
 * Exit status: 0 all files hashed, 1 some file or directory failed,
 * 2 bad usage, 130 interrupted.
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nursery.h>

#define BLOCK_SIZE (64 * 1024)

/* How often, at most, a progress line is printed when stderr is not a
 * terminal: a log file should not get a line per file. */
#define PROGRESS_LOG_INTERVAL (200 * G_TIME_SPAN_MILLISECOND)

typedef struct
{
  NurseryGroup *group;
  GMainContext *context;        /* the group's owner context */
  GPtrArray    *entries;        /* (element-type Entry), sorted by path */
  GTimeSpan     timeout;        /* per file; 0 for none */
  guint         slow_ms;        /* pause after each block (demos, tests) */
  gboolean      progress_tty;   /* redraw one line with \r */
  gint64        last_progress;
  char         *last_line;      /* not to print the same line twice */
  guint         n_walk_errors;
} HashTree;

typedef struct
{
  HashTree    *app;
  char        *path;            /* as printed: DIR/relative/name */
  NurseryTask *task;
} Entry;

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_clear_object (&entry->task);
  g_free (entry->path);
  g_free (entry);
}

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const Entry *ea = *(const Entry * const *) a;
  const Entry *eb = *(const Entry * const *) b;

  /* Byte order, as `LC_ALL=C sort` orders whole paths. */
  return strcmp (ea->path, eb->path);
}

/* Walking the tree */

static void
walk_error (HashTree     *app,
            const char   *path,
            const GError *error)
{
  g_printerr ("hash-tree: %s: %s\n", path, error->message);
  app->n_walk_errors++;
}

static void walk (HashTree   *app,
                  GFile      *dir,
                  const char *path);

static void
walk_child (HashTree   *app,
            GFile      *dir,
            const char *dir_path,
            GFileInfo  *info)
{
  const char *name = g_file_info_get_name (info);
  g_autofree char *path = g_build_filename (dir_path, name, NULL);

  switch (g_file_info_get_file_type (info))
    {
    case G_FILE_TYPE_DIRECTORY:
      {
        g_autoptr(GFile) child = g_file_get_child (dir, name);
        walk (app, child, path);
        break;
      }

    case G_FILE_TYPE_REGULAR:
      {
        Entry *entry = g_new0 (Entry, 1);

        entry->app = app;
        entry->path = g_steal_pointer (&path);
        g_ptr_array_add (app->entries, entry);
        break;
      }

    default:
      /* Like `find -type f`: symbolic links, pipes, devices and sockets
       * are not followed or read (a FIFO would block its reader). */
      break;
    }
}

/* Collects the regular files under @dir. It runs before any child, on the
 * main thread: a Ctrl-C meanwhile is remembered by the group's signal
 * source and cancels the group as soon as the walk is over. */
static void
walk (HashTree   *app,
      GFile      *dir,
      const char *path)
{
  g_autoptr(GFileEnumerator) children = NULL;
  g_autoptr(GError) error = NULL;
  GFileInfo *info;

  children = g_file_enumerate_children (dir,
                                        G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                        G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                        NULL, &error);
  if (children == NULL)
    {
      walk_error (app, path, error);
      return;
    }

  while ((info = g_file_enumerator_next_file (children, NULL, &error)) != NULL)
    {
      walk_child (app, dir, path, info);
      g_object_unref (info);
    }
  if (error != NULL)
    walk_error (app, path, error);
}

/* Hashing: the thread child */

static gboolean
arm_timeout (gpointer data)
{
  Entry *entry = data;

  /* Owner context. If the file was hashed meanwhile, the task is
   * finished and this does nothing. */
  nursery_task_set_timeout (entry->task, entry->app->timeout);
  return G_SOURCE_REMOVE;
}

/* A task's deadline belongs to its owner context, and this child runs on
 * a worker thread: hand the timeout over. Doing it here rather than at
 * spawn time makes it count from the start of hashing, not from when the
 * file was queued behind --jobs others. */
static void
arm_timeout_from_thread (Entry *entry)
{
  if (entry->app->timeout <= 0)
    return;
  g_main_context_invoke (entry->app->context, arm_timeout, entry);
}

/* --slow: waits @ms, waking up early if @cancellable is cancelled, so a
 * slow hash still reacts to Ctrl-C and timeouts at once. */
static void
pause_unless_cancelled (GCancellable *cancellable,
                        guint         ms)
{
  GPollFD pollfd;

  if (!g_cancellable_make_pollfd (cancellable, &pollfd))
    {
      g_usleep (ms * G_TIME_SPAN_MILLISECOND);
      return;
    }
  g_poll (&pollfd, 1, ms);
  g_cancellable_release_fd (cancellable);
}

static char *
hash_stream (GInputStream  *in,
             guint          slow_ms,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *block = g_malloc (BLOCK_SIZE);
  gssize n;

  /* Every read checks the cancellable first: a cancelled task stops
   * between two blocks with G_IO_ERROR_CANCELLED. */
  while ((n = g_input_stream_read (in, block, BLOCK_SIZE, cancellable, error)) > 0)
    {
      g_checksum_update (checksum, block, n);
      if (slow_ms > 0)
        pause_unless_cancelled (cancellable, slow_ms);
    }
  if (n < 0)
    return NULL;
  return g_strdup (g_checksum_get_string (checksum));
}

static void
hash_file (NurseryTask *task,
           gpointer     data)
{
  Entry *entry = data;
  GCancellable *cancellable = nursery_task_get_cancellable (task);
  g_autoptr(GFile) file = g_file_new_for_path (entry->path);
  g_autoptr(GFileInputStream) in = NULL;
  g_autoptr(GError) error = NULL;
  char *digest = NULL;

  arm_timeout_from_thread (entry);

  in = g_file_read (file, cancellable, &error);
  if (in != NULL)
    digest = hash_stream (G_INPUT_STREAM (in), entry->app->slow_ms, cancellable, &error);
  if (error != NULL)
    {
      /* G_IO_ERROR_CANCELLED makes the task cancelled (Ctrl-C) or, if its
       * own deadline cancelled it, failed with G_IO_ERROR_TIMED_OUT. */
      nursery_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  nursery_task_return_pointer (task, digest, g_free);
}

/* Progress, on the owner context */

static void
print_progress (HashTree *app,
                gboolean  final)
{
  NurseryGroup *group = app->group;
  gint64 now = g_get_monotonic_time ();
  g_autofree char *line = NULL;

  if (!app->progress_tty && !final && app->last_progress != 0 &&
      now - app->last_progress < PROGRESS_LOG_INTERVAL)
    return;
  line = g_strdup_printf ("hash-tree: %u/%u files, %u running, %u failed",
                          nursery_group_get_n_finished (group), app->entries->len,
                          nursery_group_get_n_running (group), nursery_group_get_n_failed (group));
  if (g_strcmp0 (line, app->last_line) == 0)
    return;
  app->last_progress = now;

  /* \033[K clears what a longer previous line left on the terminal. */
  if (app->progress_tty)
    g_printerr ("\r%s\033[K", line);
  else
    g_printerr ("%s\n", line);
  g_free (app->last_line);
  app->last_line = g_steal_pointer (&line);
}

static void
on_counter_changed (NurseryGroup *group,
                    GParamSpec   *pspec,
                    gpointer      data)
{
  print_progress (data, FALSE);
}

static void
clear_progress (HashTree *app)
{
  if (app->progress_tty)
    g_printerr ("\r\033[K");
}

/* Results */

/* sha256sum's format: a name with a backslash, newline or carriage return
 * is escaped, and its line starts with a backslash. */
static void
print_digest (const char *digest,
              const char *path)
{
  g_autoptr(GString) name = g_string_new (NULL);
  gboolean escaped = FALSE;

  for (const char *p = path; *p != '\0'; p++)
    {
      const char *escape = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : *p == '\r' ? "\\r" : NULL;

      if (escape != NULL)
        g_string_append (name, escape);
      else
        g_string_append_c (name, *p);
      escaped |= escape != NULL;
    }
  /* stdio, not g_print(): a path is bytes, which g_print() would
   * convert to the locale's charset (and mangle under LC_ALL=C). */
  printf ("%s%s  %s\n", escaped ? "\\" : "", digest, name->str);
}

static void
print_failure (HashTree *app,
               Entry    *entry)
{
  const GError *error = nursery_task_get_error (entry->task);

  /* R17: the task's own deadline turned its cancellation into TIMED_OUT. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_printerr ("hash-tree: %s: timed out after %.1f s\n", entry->path,
                (double) app->timeout / G_USEC_PER_SEC);
  else
    g_printerr ("hash-tree: %s: %s\n", entry->path, error->message);
}

/* Prints the hashes in path order and the failures on stderr; returns
 * how many files were hashed. */
static guint
print_results (HashTree *app)
{
  guint n_hashed = 0;

  for (guint i = 0; i < app->entries->len; i++)
    {
      Entry *entry = app->entries->pdata[i];

      switch (nursery_task_get_state (entry->task))
        {
        case NURSERY_TASK_SUCCEEDED:
          print_digest (nursery_task_get_pointer (entry->task), entry->path);
          n_hashed++;
          break;

        case NURSERY_TASK_FAILED:
          print_failure (app, entry);
          break;

        default:
          /* Cancelled by Ctrl-C, before or while it was hashed. */
          break;
        }
    }
  return n_hashed;
}

static void
spawn_all (HashTree *app)
{
  for (guint i = 0; i < app->entries->len; i++)
    {
      Entry *entry = app->entries->pdata[i];

      /* The group is open, so spawning cannot fail. */
      entry->task = nursery_group_spawn_in_thread (app->group, entry->path, hash_file,
                                                   entry, NULL, NULL);
    }
}

static int
run (HashTree   *app,
     const char *root)
{
  g_autoptr(GFile) dir = g_file_new_for_commandline_arg (root);
  gboolean interrupted;
  guint n_hashed, n_failed;

  walk (app, dir, root);
  g_ptr_array_sort (app->entries, compare_entries);
  spawn_all (app);

  /* The outcome is read per task below; wait's own error (the first
   * failure, or CANCELLED after Ctrl-C) adds nothing. */
  nursery_group_wait (app->group, NULL, NULL);
  interrupted = nursery_group_is_cancelled (app->group);
  print_progress (app, TRUE);
  clear_progress (app);

  n_hashed = print_results (app);
  n_failed = nursery_group_get_n_failed (app->group);
  if (interrupted)
    {
      g_printerr ("hash-tree: interrupted: %u of %u files hashed, %u failed, %u not hashed\n",
                  n_hashed, app->entries->len, n_failed, app->entries->len - n_hashed - n_failed);
      return 128 + SIGINT;
    }
  return n_failed > 0 || app->n_walk_errors > 0 ? 1 : 0;
}

static gboolean
parse_args (int       *argc,
            char    ***argv,
            int       *jobs,
            double    *timeout,
            int       *slow_ms)
{
  GOptionEntry options[] = {
    { "jobs", 'j', 0, G_OPTION_ARG_INT, jobs, "Hash at most N files at once (default 4)", "N" },
    { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, timeout, "Give up on a file after SECONDS (default 60, 0 for never)", "SECONDS" },
    { "slow", 0, 0, G_OPTION_ARG_INT, slow_ms, "Pause MS milliseconds after each 64 KiB block, to watch the progress", "MS" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("DIR — SHA-256 of every file under DIR");
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("hash-tree: %s\n", error->message);
      return FALSE;
    }
  if (*argc != 2 || *jobs < 1 || *timeout < 0 || *slow_ms < 0)
    {
      g_printerr ("Usage: hash-tree [--jobs N] [--timeout SECONDS] [--slow MS] DIR\n");
      return FALSE;
    }
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(NurseryGroup) group = NULL;
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func (entry_free);
  HashTree app = { 0 };
  int jobs = 4;
  double timeout = 60;
  int slow_ms = 0;
  int status;

  setlocale (LC_ALL, "");
  if (!parse_args (&argc, &argv, &jobs, &timeout, &slow_ms))
    return 2;

  group = g_object_new (NURSERY_TYPE_GROUP,
                        "name", "hash-tree",
                        "policy", NURSERY_POLICY_SUPERVISE,
                        "max-concurrent", (guint) jobs,
                        NULL);
  /* Before the walk, so that an early Ctrl-C is not lost either. */
  nursery_group_cancel_on_unix_signal (group, SIGINT);
  g_signal_connect (group, "notify::n-finished", G_CALLBACK (on_counter_changed), &app);
  g_signal_connect (group, "notify::n-running", G_CALLBACK (on_counter_changed), &app);
  g_signal_connect (group, "notify::n-failed", G_CALLBACK (on_counter_changed), &app);

  app.group = group;
  app.context = nursery_group_get_context (group);
  app.entries = entries;
  app.timeout = (GTimeSpan) (timeout * G_USEC_PER_SEC);
  app.slow_ms = slow_ms;
  app.progress_tty = isatty (STDERR_FILENO);

  status = run (&app, argv[1]);
  g_free (app.last_line);
  return status;
}
