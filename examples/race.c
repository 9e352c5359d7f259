/* race.c: ask several servers the same question, take the first answer
 *
 * What it shows:
 *  - the race policy (nursery_group_set_policy (group, NURSERY_POLICY_RACE)):
 *    one in-context child per server connects (GSocketClient) and reads
 *    one line; the first child to *succeed* is the group's winner
 *    (nursery_group_get_winner) and the group cancels the others, which
 *    stop connecting or reading at once through their cancellables;
 *  - failures do not end a race: a server that refuses or hangs up just
 *    loses, and only if every child fails does the group fail (with the
 *    first failure);
 *  - a group deadline (--timeout) bounds the whole race;
 *  - structure: the program ends only once every loser has really
 *    stopped and closed its connection, and says how each one ended.
 *
 * Usage: race [--timeout SECONDS] SERVER...
 * A SERVER is PORT (on 127.0.0.1) or HOST:PORT. Each contender's end is
 * printed as it happens, then "winner: SERVER answered "LINE"".
 * Exit status: 0 with a winner, 1 if nobody answered, 2 on bad usage.
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <locale.h>
#include <stdlib.h>

#include <nursery.h>

typedef struct
{
  char              *server;     /* HOST:PORT */
  NurseryTask       *task;       /* (borrowed) while it runs */
  GSocketConnection *connection;
  GDataInputStream  *in;
  const char        *stage;      /* what it was doing, for the report */
  gint64             start;
} Contender;

static void
contender_free (gpointer data)
{
  Contender *contender = data;

  g_clear_object (&contender->in);
  g_clear_object (&contender->connection);
  g_free (contender->server);
  g_free (contender);
}

/* Every contender hangs up as it finishes, explicitly rather than when
 * it is freed after the race: a loser lets go of its server at once. */
static void
hang_up (Contender *contender)
{
  if (contender->connection != NULL)
    g_io_stream_close (G_IO_STREAM (contender->connection), NULL, NULL);
}

static void
answered (GObject      *stream,
          GAsyncResult *result,
          gpointer      data)
{
  Contender *contender = data;
  GError *error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  char *line;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (stream), result, NULL, &error);
  hang_up (contender);
  if (error != NULL)
    {
      /* Cancelled (another contender won) or a real failure. */
      nursery_task_return_error (contender->task, error);
      return;
    }
  if (line == NULL)
    {
      nursery_task_return_new_error (contender->task, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                     "closed the connection without answering");
      return;
    }
  /* The answer is the task's value: the group keeps it on its winner. */
  g_value_init (&value, G_TYPE_STRING);
  g_value_take_string (&value, line);
  nursery_task_return_value (contender->task, &value);
}

static void
connected (GObject      *client,
           GAsyncResult *result,
           gpointer      data)
{
  Contender *contender = data;
  GError *error = NULL;

  contender->connection = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (client), result, &error);
  if (contender->connection == NULL)
    {
      nursery_task_return_error (contender->task, error);
      return;
    }
  contender->stage = "waiting for its answer";
  contender->in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (contender->connection)));
  g_data_input_stream_read_line_async (contender->in, G_PRIORITY_DEFAULT,
                                       nursery_task_get_cancellable (contender->task),
                                       answered, contender);
}

static void
contend (NurseryTask *task,
         gpointer     data)
{
  Contender *contender = data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();

  contender->task = task;
  contender->stage = "connecting";
  contender->start = g_get_monotonic_time ();
  g_socket_client_connect_to_host_async (client, contender->server, 0,
                                         nursery_task_get_cancellable (task),
                                         connected, contender);
}

/* Reporting, on the owner context, in completion order */

static void
on_task_finished (NurseryGroup *group,
                  NurseryTask  *task,
                  gpointer      data)
{
  GPtrArray *contenders = data;
  Contender *contender = NULL;
  double ms;

  for (guint i = 0; i < contenders->len && contender == NULL; i++)
    if (((Contender *) contenders->pdata[i])->task == task)
      contender = contenders->pdata[i];
  g_assert (contender != NULL);
  ms = (g_get_monotonic_time () - contender->start) / 1000.0;

  switch (nursery_task_get_state (task))
    {
    case NURSERY_TASK_SUCCEEDED:
      g_print ("%s: answered \"%s\" after %.1f ms\n", contender->server,
               g_value_get_string (nursery_task_get_value (task)), ms);
      break;

    case NURSERY_TASK_CANCELLED:
      g_print ("%s: cancelled after %.1f ms while %s\n", contender->server, ms, contender->stage);
      break;

    default:
      g_print ("%s: failed after %.1f ms while %s: %s\n", contender->server, ms,
               contender->stage, nursery_task_get_error (task)->message);
      break;
    }
}

static char *
server_address (const char *arg)
{
  guint64 port;

  if (g_ascii_string_to_unsigned (arg, 10, 1, G_MAXUINT16, &port, NULL))
    return g_strdup_printf ("127.0.0.1:%u", (guint) port);
  return g_strdup (arg);
}

static void
spawn_contenders (NurseryGroup  *group,
                  GPtrArray     *contenders,
                  char         **servers)
{
  for (guint i = 0; servers[i] != NULL; i++)
    {
      Contender *contender = g_new0 (Contender, 1);

      contender->server = server_address (servers[i]);
      contender->stage = "waiting to start";
      /* @contenders owns them: the report needs them after the race. */
      g_ptr_array_add (contenders, contender);
      g_object_unref (nursery_group_spawn (group, contender->server, contend, contender, NULL, NULL));
    }
}

int
main (int    argc,
      char **argv)
{
  double timeout = 10;
  GOptionEntry options[] = {
    { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &timeout, "Give up after SECONDS (default 10)", "SECONDS" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("SERVER... — first answer wins");
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) contenders = g_ptr_array_new_with_free_func (contender_free);
  g_autoptr(GError) error = NULL;
  NurseryTask *winner;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc < 2 || timeout <= 0)
    {
      g_printerr ("Usage: race [--timeout SECONDS] SERVER...\n");
      return 2;
    }

  nursery_group_set_name (group, "race");
  nursery_group_set_policy (group, NURSERY_POLICY_RACE);
  nursery_group_set_timeout (group, (GTimeSpan) (timeout * G_USEC_PER_SEC));
  g_signal_connect (group, "task-finished", G_CALLBACK (on_task_finished), contenders);
  spawn_contenders (group, contenders, argv + 1);

  /* Returns once the winner has answered *and* every loser has stopped. */
  if (!nursery_group_wait (group, NULL, &error))
    {
      g_printerr ("race: nobody answered: %s\n", error->message);
      return EXIT_FAILURE;
    }
  winner = nursery_group_get_winner (group);
  g_print ("winner: %s answered \"%s\"\n", nursery_task_get_name (winner),
           g_value_get_string (nursery_task_get_value (winner)));
  return EXIT_SUCCESS;
}
