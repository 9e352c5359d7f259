/* pipeline.c: the SHA-256 of every file under a directory, computed by a
 * producer/consumer pipeline and printed like
 *
 *   find DIR -type f | LC_ALL=C sort | xargs sha256sum
 *
 * One group, three stages, two bounded channels:
 *
 *   walk ──paths (8)──▶ hash: hash-1 … hash-N ──results (8)──▶ collect
 *   in-context          nested group of thread children        in-context
 *
 * What it shows:
 *  - "walk" lists the tree with async GIO (enumerate_children_async,
 *    next_files_async) on the main thread, with its task's cancellable,
 *    never following symbolic links, and sends each regular file's path.
 *    The channel is bounded: while the workers are behind, the walker's
 *    send waits, so however large the tree, at most 8 paths are queued
 *    (backpressure; the progress line shows "found" running ahead of
 *    "hashed" by a bounded amount);
 *  - "hash-1" … "hash-N" (--workers) are thread children. Each loops on
 *    the blocking nursery_channel_receive() until NURSERY_ERROR_CLOSED,
 *    hashes the file with GChecksum, and sends (path, digest) on with the
 *    blocking nursery_channel_send();
 *  - "collect" receives the results with receive_async and keeps them;
 *    they are sorted and printed once the group is done.
 *
 * Who closes which channel. A channel is closed by whoever owns its
 * sending side, once nothing can send on it any more:
 *  - paths has one sender, the walker. It closes it when the walk ends,
 *    in every case (done, failed or cancelled): the workers drain what is
 *    buffered, then get CLOSED and return.
 *  - results has N senders that stop at different times. Rather than
 *    counting live workers by hand, the "hash" child puts the workers in
 *    a group of their own, nested in its task
 *    (nursery_group_new_for_task), and pushes the close of results on
 *    that group's exit stack (nursery_group_add_cleanup). Cleanups run
 *    once every worker has finished, however it finished, and before the
 *    nested group's wait completes: the collector gets CLOSED exactly
 *    when the last result is in, and never earlier. This is trio's
 *    `async with send_channel, open_nursery() as workers:`.
 *
 * Cancellation follows the same tree: Ctrl-C cancels the group
 * (nursery_group_cancel_on_unix_signal), hence the walker's pending GIO
 * call or send, the workers' blocking receive, send or read (through the
 * nested group) and the collector's receive. Each stops with
 * G_IO_ERROR_CANCELLED; the program prints what it has collected, a
 * summary, and exits with 130 like a shell does after SIGINT. Under the
 * default fail-fast policy a stage that fails cancels the others the same
 * way. A file or directory that cannot be read is not a stage failure:
 * it is reported on stderr, like find and sha256sum do, and the rest is
 * still hashed.
 *
 * Usage: pipeline [--workers N] [--slow MS] DIR   (N from 1 to 64, default 4)
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

#define CHANNEL_CAPACITY 8

/* A worker holds its thread for the whole walk, blocked in receive while
 * it waits. Nursery's worker pool grows for blocked workers and is not
 * the GTask pool that runs the walker's async GIO calls, so any number
 * works; past the processors more workers only help when hashing waits
 * on the disk. */
#define MAX_WORKERS 64
#define BLOCK_SIZE (64 * 1024)

/* Directory entries asked of an enumerator at a time: one thread-pool
 * round trip per batch rather than per entry. */
#define ENTRIES_PER_BATCH 64

/* How often, at most, a progress line is printed when stderr is not a
 * terminal: a log file should not get a line per file. */
#define PROGRESS_LOG_INTERVAL (200 * G_TIME_SPAN_MILLISECOND)

typedef struct
{
  /* Set before the group runs, read by every stage and thread. */
  NurseryChannel *paths;          /* walk → workers: file paths (strings) */
  NurseryChannel *results;        /* workers → collect: HashResult */
  guint           n_workers;
  guint           slow_ms;        /* pause after each block (demos, tests) */

  /* Owner context only. */
  NurseryTask    *collector;      /* (borrowed) while it runs */
  GPtrArray      *hashed;         /* (element-type HashResult) collected */
  guint           n_found;        /* paths the walker has sent */
  guint           n_walk_errors;
  gboolean        progress_tty;   /* redraw one line with \r */
  gint64          last_progress;
} Pipeline;

/* Results: what a worker sends to the collector */

typedef struct
{
  char *path;     /* as printed: DIR/relative/name */
  char *digest;   /* SHA-256 in hex, or NULL if the file could not be read */
  char *error;    /* why it could not, or NULL */
} HashResult;

static HashResult *
hash_result_new (const char *path,
                 const char *digest,
                 const char *error)
{
  HashResult *result = g_new0 (HashResult, 1);

  result->path = g_strdup (path);
  result->digest = g_strdup (digest);
  result->error = g_strdup (error);
  return result;
}

static HashResult *
hash_result_copy (const HashResult *result)
{
  return hash_result_new (result->path, result->digest, result->error);
}

static void
hash_result_free (HashResult *result)
{
  g_free (result->path);
  g_free (result->digest);
  g_free (result->error);
  g_free (result);
}

/* A boxed type, so that a result can travel in a GValue: a thread child
 * has only the blocking nursery_channel_send(), which takes a GValue, and
 * a boxed item the channel drops undelivered (closed, cancelled) is freed
 * with it, which a plain G_TYPE_POINTER value would leak. */
GType hash_result_get_type (void);
G_DEFINE_BOXED_TYPE (HashResult, hash_result, hash_result_copy, hash_result_free)
#define TYPE_HASH_RESULT (hash_result_get_type ())

static int
compare_results (gconstpointer a,
                 gconstpointer b)
{
  const HashResult *ra = *(const HashResult * const *) a;
  const HashResult *rb = *(const HashResult * const *) b;

  /* Byte order, as `LC_ALL=C sort` orders whole paths. */
  return strcmp (ra->path, rb->path);
}

/* Progress, on the owner context */

static void
print_progress (Pipeline *app,
                gboolean  final)
{
  gint64 now = g_get_monotonic_time ();

  if (!app->progress_tty && !final && app->last_progress != 0 &&
      now - app->last_progress < PROGRESS_LOG_INTERVAL)
    return;
  app->last_progress = now;

  /* \033[K clears what a longer previous line left on the terminal. */
  if (app->progress_tty)
    g_printerr ("\rpipeline: %u found, %u hashed\033[K", app->n_found, app->hashed->len);
  else
    g_printerr ("pipeline: %u found, %u hashed\n", app->n_found, app->hashed->len);
}

static void
clear_progress (Pipeline *app)
{
  if (app->progress_tty)
    g_printerr ("\r\033[K");
}

/* Stage 1, "walk": an in-context child that lists the tree with async
 * GIO calls and sends every regular file's path. */

typedef struct
{
  GFile *file;
  char  *path;    /* as printed */
} Dir;

static Dir *
dir_new (GFile      *file,
         const char *path)
{
  Dir *dir = g_new0 (Dir, 1);

  dir->file = g_object_ref (file);
  dir->path = g_strdup (path);
  return dir;
}

static void
dir_free (gpointer data)
{
  Dir *dir = data;

  g_object_unref (dir->file);
  g_free (dir->path);
  g_free (dir);
}

typedef struct
{
  Pipeline        *app;
  NurseryTask     *task;        /* (borrowed) while it runs */
  GQueue           dirs;        /* Dir: found, not listed yet */
  Dir             *dir;         /* the one being listed */
  GFileEnumerator *children;    /* of @dir */
  GList           *batch;       /* (element-type GFileInfo): entries of @dir to look at */
} Walk;

static void walk_next_dir   (Walk *walk);
static void walk_next_entry (Walk *walk);

static Walk *
walk_new (Pipeline   *app,
          const char *root)
{
  Walk *walk = g_new0 (Walk, 1);
  g_autoptr(GFile) file = g_file_new_for_commandline_arg (root);

  walk->app = app;
  g_queue_init (&walk->dirs);
  g_queue_push_head (&walk->dirs, dir_new (file, root));
  return walk;
}

static void
walk_end_dir (Walk *walk)
{
  g_list_free_full (g_steal_pointer (&walk->batch), g_object_unref);
  /* Dropping the enumerator closes it: for a local directory that is a
   * closedir(), nothing worth an async call. */
  g_clear_object (&walk->children);
  g_clear_pointer (&walk->dir, dir_free);
}

/* The child's user data: the group frees it once the child has finished. */
static void
walk_free (gpointer data)
{
  Walk *walk = data;

  walk_end_dir (walk);
  g_queue_clear_full (&walk->dirs, dir_free);
  g_free (walk);
}

/* Every way the walk ends goes through here, so paths is always closed
 * and the workers never wait forever. Takes @error. */
static void
walk_finish (Walk   *walk,
             GError *error)
{
  nursery_channel_close (walk->app->paths);
  if (error != NULL)
    nursery_task_return_error (walk->task, error);
  else
    nursery_task_return_boolean (walk->task, TRUE);
}

/* A directory that cannot be listed is reported and skipped, as find
 * does; a cancelled walk (Ctrl-C, or another stage failed) ends. Takes
 * @error. */
static void
walk_dir_failed (Walk   *walk,
                 GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      walk_finish (walk, error);
      return;
    }
  g_printerr ("pipeline: %s: %s\n", walk->dir->path, error->message);
  walk->app->n_walk_errors++;
  g_error_free (error);
  walk_next_dir (walk);
}

static void
path_sent (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  Walk *walk = data;
  GError *error = NULL;

  /* Only cancellation refuses a path: nobody else closes paths. */
  if (!nursery_channel_send_finish (NURSERY_CHANNEL (source), result, &error))
    {
      walk_finish (walk, error);
      return;
    }
  walk->app->n_found++;
  print_progress (walk->app, FALSE);
  walk_next_entry (walk);
}

static void
walk_send (Walk       *walk,
           const char *path)
{
  g_auto(GValue) value = G_VALUE_INIT;

  /* A string value: the channel keeps its own copy, and a worker that
   * receives it frees it with g_value_unset(). */
  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, path);
  /* Completes once the path is buffered: at once while fewer than 8 are
   * queued, later when the workers are behind. */
  nursery_channel_send_async (walk->app->paths, &value,
                              nursery_task_get_cancellable (walk->task),
                              path_sent, walk);
}

/* Returns TRUE if it sent a path: path_sent() then goes on with the walk. */
static gboolean
walk_entry (Walk      *walk,
            GFileInfo *info)
{
  const char *name = g_file_info_get_name (info);
  g_autofree char *path = g_build_filename (walk->dir->path, name, NULL);

  switch (g_file_info_get_file_type (info))
    {
    case G_FILE_TYPE_DIRECTORY:
      {
        g_autoptr(GFile) child = g_file_get_child (walk->dir->file, name);

        /* Listed after this directory. The order does not matter: the
         * output is sorted at the end. */
        g_queue_push_head (&walk->dirs, dir_new (child, path));
        return FALSE;
      }

    case G_FILE_TYPE_REGULAR:
      walk_send (walk, path);
      return TRUE;

    default:
      /* Like `find -type f`: symbolic links are not followed (no loops),
       * and pipes, devices and sockets are not read (a FIFO would block
       * its reader). */
      return FALSE;
    }
}

static void
batch_listed (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  Walk *walk = data;
  GError *error = NULL;

  walk->batch = g_file_enumerator_next_files_finish (G_FILE_ENUMERATOR (source), result, &error);
  if (error != NULL)
    walk_dir_failed (walk, error);
  else if (walk->batch == NULL)
    walk_next_dir (walk);       /* this directory is done */
  else
    walk_next_entry (walk);
}

static void
walk_next_batch (Walk *walk)
{
  g_file_enumerator_next_files_async (walk->children, ENTRIES_PER_BATCH, G_PRIORITY_DEFAULT,
                                      nursery_task_get_cancellable (walk->task),
                                      batch_listed, walk);
}

/* Looks at the batch's entries in turn until one has to be sent. */
static void
walk_next_entry (Walk *walk)
{
  while (walk->batch != NULL)
    {
      g_autoptr(GFileInfo) info = walk->batch->data;

      walk->batch = g_list_delete_link (walk->batch, walk->batch);
      if (walk_entry (walk, info))
        return;
    }
  walk_next_batch (walk);
}

static void
dir_opened (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  Walk *walk = data;
  GError *error = NULL;

  walk->children = g_file_enumerate_children_finish (G_FILE (source), result, &error);
  if (walk->children == NULL)
    walk_dir_failed (walk, error);
  else
    walk_next_batch (walk);
}

static void
walk_next_dir (Walk *walk)
{
  walk_end_dir (walk);
  walk->dir = g_queue_pop_head (&walk->dirs);
  if (walk->dir == NULL)
    {
      walk_finish (walk, NULL);
      return;
    }
  g_file_enumerate_children_async (walk->dir->file,
                                   G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                   G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                   G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, G_PRIORITY_DEFAULT,
                                   nursery_task_get_cancellable (walk->task),
                                   dir_opened, walk);
}

static void
walk_tree (NurseryTask *task,
           gpointer     data)
{
  Walk *walk = data;

  /* The group keeps @task alive until it returns, and it returns last. */
  walk->task = task;
  walk_next_dir (walk);
}

/* Stage 2, "hash": thread children that hash the files */

/* --slow: waits @ms, waking up early if @cancellable is cancelled, so a
 * slow hash still reacts to Ctrl-C at once. */
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

  /* Every read checks the cancellable first: a cancelled worker stops
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

/* Returns NULL only when the worker was cancelled. A file that cannot be
 * read is not a failure of the worker, which goes on with the next one:
 * its result carries the reason instead of a digest. */
static HashResult *
hash_path (const char    *path,
           guint          slow_ms,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) in = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *digest = NULL;

  in = g_file_read (file, cancellable, &local_error);
  if (in != NULL)
    digest = hash_stream (G_INPUT_STREAM (in), slow_ms, cancellable, &local_error);
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return hash_result_new (path, digest, local_error != NULL ? local_error->message : NULL);
}

/* Takes one path, hashes it, passes the result on. Returns FALSE with
 * NURSERY_ERROR_CLOSED once the walk is over and every path was taken,
 * or with G_IO_ERROR_CANCELLED. */
static gboolean
hash_next (Pipeline      *app,
           GCancellable  *cancellable,
           GError       **error)
{
  g_auto(GValue) path = G_VALUE_INIT;
  g_auto(GValue) result = G_VALUE_INIT;
  HashResult *hashed;

  /* Blocks this worker thread, not the main context: the walker and the
   * collector go on meanwhile. */
  if (!nursery_channel_receive (app->paths, &path, cancellable, error))
    return FALSE;
  hashed = hash_path (g_value_get_string (&path), app->slow_ms, cancellable, error);
  if (hashed == NULL)
    return FALSE;
  g_value_init (&result, TYPE_HASH_RESULT);
  g_value_take_boxed (&result, hashed);
  /* results is closed only after the last worker has finished, so
   * this fails only if the worker was cancelled. */
  return nursery_channel_send (app->results, &result, cancellable, error);
}

static void
hash_worker (NurseryTask *task,
             gpointer     data)
{
  Pipeline *app = data;
  GCancellable *cancellable = nursery_task_get_cancellable (task);
  g_autoptr(GError) error = NULL;

  while (hash_next (app, cancellable, &error))
    ;
  /* CLOSED is the end of the stream, the normal way out: a thread child
   * that returns without a result has succeeded. CANCELLED makes it
   * cancelled, not failed. */
  if (!g_error_matches (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED))
    nursery_task_return_error (task, g_steal_pointer (&error));
}

/* The workers' exit stack: once no worker is left, nothing can send a
 * result any more. */
static void
close_channel (NurseryGroup *workers,
               gpointer      data)
{
  nursery_channel_close (data);
}

static void
workers_joined (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  NurseryGroup *workers = NURSERY_GROUP (source);
  NurseryTask *task = data;
  GError *error = NULL;

  /* The "hash" child ends as its workers did: the first failure,
   * unchanged, or CANCELLED (then the child counts as cancelled). */
  if (nursery_group_wait_finish (workers, result, &error))
    nursery_task_return_boolean (task, TRUE);
  else
    nursery_task_return_error (task, error);
  g_object_unref (workers);     /* the reference hash_files() made */
}

static void
hash_files (NurseryTask *task,
            gpointer     data)
{
  Pipeline *app = data;
  /* Nested in this task: cancelling the pipeline cancels every worker. */
  NurseryGroup *workers = nursery_group_new_for_task (task);

  nursery_group_set_name (workers, "workers");
  nursery_group_add_cleanup (workers, close_channel, g_object_ref (app->results), g_object_unref);
  for (guint i = 1; i <= app->n_workers; i++)
    {
      g_autofree char *name = g_strdup_printf ("hash-%u", i);

      /* The group is open, so spawning cannot fail. */
      g_object_unref (nursery_group_spawn_in_thread (workers, name, hash_worker, app, NULL, NULL));
    }
  /* @task is borrowed: the group keeps it until it returns. */
  nursery_group_wait_async (workers, NULL, workers_joined, task);
}

/* Stage 3, "collect": an in-context child that keeps every result */

static void collect_next (Pipeline *app);

/* Takes @error. */
static void
collect_finish (Pipeline *app,
                GError   *error)
{
  /* CLOSED: the last worker has finished and every result is in. */
  if (g_error_matches (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED))
    {
      g_error_free (error);
      nursery_task_return_boolean (app->collector, TRUE);
    }
  else
    nursery_task_return_error (app->collector, error);
}

static void
result_received (GObject      *source,
                 GAsyncResult *result,
                 gpointer      data)
{
  Pipeline *app = data;
  g_auto(GValue) value = G_VALUE_INIT;
  GError *error = NULL;

  if (!nursery_channel_receive_finish (NURSERY_CHANNEL (source), result, &value, &error))
    {
      collect_finish (app, error);
      return;
    }
  g_ptr_array_add (app->hashed, g_value_dup_boxed (&value));
  print_progress (app, FALSE);
  collect_next (app);
}

static void
collect_next (Pipeline *app)
{
  nursery_channel_receive_async (app->results, nursery_task_get_cancellable (app->collector),
                                 result_received, app);
}

static void
collect_results (NurseryTask *task,
                 gpointer     data)
{
  Pipeline *app = data;

  app->collector = task;
  collect_next (app);
}

/* Output */

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

/* Prints the digests in path order and the unreadable files on stderr;
 * returns how many files could not be read. */
static guint
print_results (Pipeline *app)
{
  guint n_unreadable = 0;

  g_ptr_array_sort (app->hashed, compare_results);
  for (guint i = 0; i < app->hashed->len; i++)
    {
      HashResult *result = app->hashed->pdata[i];

      if (result->digest != NULL)
        print_digest (result->digest, result->path);
      else
        {
          g_printerr ("pipeline: %s: %s\n", result->path, result->error);
          n_unreadable++;
        }
    }
  return n_unreadable;
}

static void
spawn_stages (NurseryGroup *group,
              Pipeline     *app,
              const char   *root)
{
  /* The group is open, so spawning cannot fail. */
  g_object_unref (nursery_group_spawn (group, "walk", walk_tree, walk_new (app, root), walk_free, NULL));
  g_object_unref (nursery_group_spawn (group, "hash", hash_files, app, NULL, NULL));
  g_object_unref (nursery_group_spawn (group, "collect", collect_results, app, NULL, NULL));
}

static int
run (Pipeline   *app,
     const char *root)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  guint n_unreadable;

  nursery_group_set_name (group, "pipeline");
  /* Before anything runs, so that an early Ctrl-C is not lost either. */
  nursery_group_cancel_on_unix_signal (group, SIGINT);
  spawn_stages (group, app, root);

  /* Returns once all three stages and every worker have finished. */
  nursery_group_wait (group, NULL, &error);
  print_progress (app, TRUE);
  clear_progress (app);

  n_unreadable = print_results (app);
  /* A failure wins over cancellation (R7): CANCELLED means Ctrl-C. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_printerr ("pipeline: interrupted: %u files hashed, %u found, the rest not hashed\n",
                  app->hashed->len - n_unreadable, app->n_found);
      return 128 + SIGINT;
    }
  if (error != NULL)
    {
      g_printerr ("pipeline: %s\n", error->message);
      return 1;
    }
  return n_unreadable > 0 || app->n_walk_errors > 0 ? 1 : 0;
}

static gboolean
parse_args (int       *argc,
            char    ***argv,
            int       *workers,
            int       *slow_ms)
{
  GOptionEntry options[] = {
    { "workers", 'w', 0, G_OPTION_ARG_INT, workers, "Hash with N threads, 1 to 8 (default 4)", "N" },
    { "slow", 0, 0, G_OPTION_ARG_INT, slow_ms, "Pause MS milliseconds after each 64 KiB block, to watch the pipeline", "MS" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("DIR — SHA-256 of every file under DIR, through a pipeline");
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("pipeline: %s\n", error->message);
      return FALSE;
    }
  if (*argc != 2 || *workers < 1 || *workers > MAX_WORKERS || *slow_ms < 0)
    {
      g_printerr ("Usage: pipeline [--workers N] [--slow MS] DIR\n");
      return FALSE;
    }
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(NurseryChannel) paths = nursery_channel_new (CHANNEL_CAPACITY);
  g_autoptr(NurseryChannel) results = nursery_channel_new (CHANNEL_CAPACITY);
  g_autoptr(GPtrArray) hashed = g_ptr_array_new_with_free_func ((GDestroyNotify) hash_result_free);
  Pipeline app = { 0 };
  int workers = 4;
  int slow_ms = 0;

  setlocale (LC_ALL, "");
  if (!parse_args (&argc, &argv, &workers, &slow_ms))
    return 2;

  app.paths = paths;
  app.results = results;
  app.n_workers = workers;
  app.slow_ms = slow_ms;
  app.hashed = hashed;
  app.progress_tty = isatty (STDERR_FILENO);
  return run (&app, argv[1]);
}
