/* echo-server.c: a TCP echo server on 127.0.0.1, one child per connection
 *
 * What it shows:
 *  - a server is a group: one in-context child accepts connections
 *    (GSocketListener, accept_async), and each connection is one more
 *    in-context child of the same group, spawned by the acceptor;
 *  - no threads: every child drives async GIO calls with its task's
 *    cancellable, so cancelling the group stops all of them at once;
 *  - the supervise policy: a client that resets its connection is logged
 *    and the other clients do not notice; its failure is *handled* in a
 *    `task-failed` handler, so the group does not keep it: a server that
 *    sees millions of reset connections runs in bounded memory;
 *  - each callback reaches its connection's state through its task
 *    (nursery_task_get_task_data()), no borrowed task pointer kept;
 *  - graceful shutdown: SIGINT or SIGTERM (cancel_on_unix_signal) cancels
 *    the group; the acceptor stops and every connection stops reading.
 *    A connection's last words (the rest of an echo that was being
 *    written, then a goodbye line) are written by a *shielded* child
 *    spawned into the cancelled group: the group's cancellation passes it
 *    by and the group waits for it, but its own deadline (2 s) keeps a
 *    client that does not read from holding up the shutdown.
 *
 * Usage: echo-server [PORT]   (0 or nothing: pick a free port)
 * The first line on stdout is "listening on 127.0.0.1:PORT"; what
 * happens to each connection is logged on stderr.
 * Exit status: 0 after a signal-driven shutdown (the log names the
 * signal), 1 if the server could not listen or accept, 2 on bad usage.
 *
 * Try it: echo-server 7000 & nc 127.0.0.1 7000, type, then kill -INT %1.
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <nursery.h>

#define GOODBYE "goodbye: the server is shutting down\n"
#define GOODBYE_TIMEOUT (2 * G_USEC_PER_SEC)

typedef struct
{
  NurseryGroup    *group;
  GSocketListener *listener;
  NurseryTask     *acceptor;
  guint            n_accepted;
  gboolean         failed;      /* could not accept: exit status 1 */
} Server;

/* One client: the user data of its connection child and, at shutdown,
 * of its goodbye child, hence the reference count. The callbacks get the
 * task and find the connection with nursery_task_get_task_data(). */
typedef struct
{
  Server            *server;
  GSocketConnection *connection;
  GDataInputStream  *in;
  GOutputStream     *out;
  GString           *unsent;    /* what is owed to the client */
  guint              n_echoed;
} Connection;

static Connection *
connection_new (Server            *server,
                GSocketConnection *socket_connection)
{
  Connection *conn = g_rc_box_new0 (Connection);

  conn->server = server;
  conn->connection = socket_connection;
  conn->in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (socket_connection)));
  /* Lines end with \n; a \r before it is echoed as it came. */
  g_data_input_stream_set_newline_type (conn->in, G_DATA_STREAM_NEWLINE_TYPE_LF);
  conn->out = g_io_stream_get_output_stream (G_IO_STREAM (socket_connection));
  conn->unsent = g_string_new (NULL);
  return conn;
}

static void
connection_clear (gpointer data)
{
  Connection *conn = data;

  g_object_unref (conn->in);
  g_object_unref (conn->connection);
  g_string_free (conn->unsent, TRUE);
}

static void
connection_unref (gpointer data)
{
  g_rc_box_release_full (data, connection_clear);
}

/* The goodbye child: shielded, with its own deadline */

static void
goodbye_written (GObject      *stream,
                 GAsyncResult *result,
                 gpointer      data)
{
  NurseryTask *task = data;
  Connection *conn = nursery_task_get_task_data (task);
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (stream), result, NULL, &error))
    {
      /* Cancelled by its own deadline: the task fails with TIMED_OUT. */
      nursery_task_return_error (task, error);
      return;
    }
  /* Closing the socket is quick and local; the peer sees EOF after the
   * goodbye. */
  g_io_stream_close (G_IO_STREAM (conn->connection), NULL, NULL);
  nursery_task_return_boolean (task, TRUE);
}

static void
say_goodbye (NurseryTask *task,
             gpointer     data)
{
  Connection *conn = data;

  g_string_append (conn->unsent, GOODBYE);
  g_output_stream_write_all_async (conn->out, conn->unsent->str, conn->unsent->len,
                                   G_PRIORITY_DEFAULT, nursery_task_get_cancellable (task),
                                   goodbye_written, task);
}

/* Called when the connection child sees the group's cancellation. The
 * group is cancelled, but a child spawned into it and shielded before its
 * turn comes still runs (R5, R15), and the group waits for it. */
static void
spawn_goodbye (NurseryTask *task,
               Connection  *conn)
{
  g_autofree char *name = g_strdup_printf ("goodbye %s", nursery_task_get_name (task));
  g_autoptr(NurseryTask) goodbye = NULL;

  goodbye = nursery_group_spawn (conn->server->group, name, say_goodbye,
                                 g_rc_box_acquire (conn), connection_unref, NULL);
  nursery_task_set_shielded (goodbye, TRUE);
  nursery_task_set_timeout (goodbye, GOODBYE_TIMEOUT);
}

/* The connection child: read a line, echo it, again */

static void read_next_line (NurseryTask *task);

/* Ends the connection child with @error: at shutdown (the task was
 * cancelled) the goodbye child takes over and the task ends cancelled;
 * anything else is this client's failure, handled in on_task_failed(). */
static void
connection_failed (NurseryTask *task,
                   GError      *error)
{
  if (nursery_task_is_cancelled (task))
    spawn_goodbye (task, nursery_task_get_task_data (task));
  nursery_task_return_error (task, error);
}

static void
echo_written (GObject      *stream,
              GAsyncResult *result,
              gpointer      data)
{
  NurseryTask *task = data;
  Connection *conn = nursery_task_get_task_data (task);
  GError *error = NULL;
  gsize written = 0;

  /* On failure @written still says how much went out: the goodbye child
   * sends the rest, so a cancelled echo is never cut short. */
  g_output_stream_write_all_finish (G_OUTPUT_STREAM (stream), result, &written, &error);
  g_string_erase (conn->unsent, 0, written);
  if (error != NULL)
    {
      connection_failed (task, error);
      return;
    }
  conn->n_echoed++;
  read_next_line (task);
}

static void
line_read (GObject      *stream,
           GAsyncResult *result,
           gpointer      data)
{
  NurseryTask *task = data;
  Connection *conn = nursery_task_get_task_data (task);
  GError *error = NULL;
  gsize length;
  char *line;

  line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (stream), result, &length, &error);
  if (error != NULL)
    {
      connection_failed (task, error);
      return;
    }
  if (line == NULL)
    {
      /* End of stream: the client hung up, after its last echo. */
      nursery_task_return_int (task, conn->n_echoed);
      return;
    }
  g_string_append_len (conn->unsent, line, length);
  g_string_append_c (conn->unsent, '\n');
  g_free (line);
  g_output_stream_write_all_async (conn->out, conn->unsent->str, conn->unsent->len,
                                   G_PRIORITY_DEFAULT, nursery_task_get_cancellable (task),
                                   echo_written, task);
}

static void
read_next_line (NurseryTask *task)
{
  Connection *conn = nursery_task_get_task_data (task);

  g_data_input_stream_read_line_async (conn->in, G_PRIORITY_DEFAULT,
                                       nursery_task_get_cancellable (task),
                                       line_read, task);
}

static void
serve (NurseryTask *task,
       gpointer     data)
{
  read_next_line (task);
}

/* The acceptor child */

static void accept_next (Server *server);

static char *
describe_peer (GSocketConnection *connection)
{
  g_autoptr(GSocketAddress) address = g_socket_connection_get_remote_address (connection, NULL);

  if (address == NULL)
    return g_strdup ("?");
  return g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (address));
}

static void
spawn_connection (Server            *server,
                  GSocketConnection *socket_connection)
{
  g_autofree char *peer = describe_peer (socket_connection);
  g_autofree char *name = g_strdup_printf ("client %u (%s)", ++server->n_accepted, peer);
  Connection *conn = connection_new (server, socket_connection);

  g_printerr ("echo-server: %s connected\n", name);
  /* No handle is needed: the server never looks at one connection's
   * task, so it spawns the cheap way (trio's start_soon()). The group is
   * open or joining, never closed while the acceptor runs. */
  nursery_group_start_soon (server->group, name, serve, conn, connection_unref, NULL);
}

static void
accepted (GObject      *listener,
          GAsyncResult *result,
          gpointer      data)
{
  Server *server = data;
  GError *error = NULL;
  GSocketConnection *connection;

  connection = g_socket_listener_accept_finish (G_SOCKET_LISTENER (listener), result, NULL, &error);
  if (connection == NULL)
    {
      /* Shutdown (CANCELLED: the task ends cancelled) or a real failure.
       * Either way no more clients: refuse them at once. */
      g_socket_listener_close (server->listener);
      nursery_task_return_error (server->acceptor, error);
      return;
    }
  spawn_connection (server, connection);
  accept_next (server);
}

static void
accept_next (Server *server)
{
  g_socket_listener_accept_async (server->listener, nursery_task_get_cancellable (server->acceptor),
                                  accepted, server);
}

static void
accept_connections (NurseryTask *task,
                    gpointer     data)
{
  accept_next (data);
}

/* Logging, on the owner context */

/* R29: a client's failure is logged and handled here, so the group does
 * not keep it (memory stays flat however many clients fail) and it is
 * not the server's outcome. The acceptor's is not handled: it is. */
static gboolean
on_task_failed (NurseryGroup *group,
                NurseryTask  *task,
                GError       *error,
                gpointer      data)
{
  Server *server = data;

  if (task == server->acceptor)
    return FALSE;
  g_printerr ("echo-server: %s failed: %s\n", nursery_task_get_name (task), error->message);
  return TRUE;
}

static void
on_task_finished (NurseryGroup *group,
                  NurseryTask  *task,
                  gpointer      data)
{
  Server *server = data;
  const char *name = nursery_task_get_name (task);
  const GError *error = nursery_task_get_error (task);

  switch (nursery_task_get_state (task))
    {
    case NURSERY_TASK_SUCCEEDED:
      if (task == server->acceptor)
        break;
      if (g_str_has_prefix (name, "goodbye"))
        g_printerr ("echo-server: %s: sent\n", name);
      else
        g_printerr ("echo-server: %s hung up after %" G_GINT64_FORMAT " lines\n",
                    name, nursery_task_get_int (task));
      break;

    case NURSERY_TASK_CANCELLED:
      g_printerr ("echo-server: %s: stopped\n", name);
      break;

    default:
      /* Clients' failures were logged by on_task_failed(). Supervise
       * keeps the clients apart, but without its acceptor the server is
       * useless: shut down like on a signal. */
      if (task == server->acceptor)
        {
          g_printerr ("echo-server: %s: %s\n", name, error->message);
          server->failed = TRUE;
          nursery_group_cancel (group);
        }
      break;
    }
}

static guint16
listen_on_loopback (GSocketListener  *listener,
                    guint16           port,
                    GError          **error)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_autoptr(GSocketAddress) effective = NULL;

  if (!g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &effective, error))
    return 0;
  /* With port 0 the kernel picked one: tell the user which. */
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
}

static gboolean
parse_port (int      argc,
            char   **argv,
            guint16 *port)
{
  guint64 value = 0;

  if (argc > 2 || (argc == 2 && !g_ascii_string_to_unsigned (argv[1], 10, 0, G_MAXUINT16, &value, NULL)))
    {
      g_printerr ("Usage: echo-server [PORT]\n");
      return FALSE;
    }
  *port = value;
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(NurseryGroup) group = NULL;
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(NurseryTask) acceptor = NULL;
  g_autoptr(GError) error = NULL;
  Server server = { 0 };
  guint16 port;

  setlocale (LC_ALL, "");
  if (!parse_port (argc, argv, &port))
    return 2;

  /* Clients may come in floods: a longer accept queue than GIO's 10. */
  g_socket_listener_set_backlog (listener, 128);
  port = listen_on_loopback (listener, port, &error);
  if (port == 0)
    {
      g_printerr ("echo-server: %s\n", error->message);
      return 1;
    }
  printf ("listening on 127.0.0.1:%u\n", port);
  /* stdout may be a pipe to a script waiting for this line. */
  fflush (stdout);

  group = g_object_new (NURSERY_TYPE_GROUP,
                        "name", "echo-server",
                        "policy", NURSERY_POLICY_SUPERVISE,
                        NULL);
  nursery_group_cancel_on_unix_signal (group, SIGINT);
  nursery_group_cancel_on_unix_signal (group, SIGTERM);
  server.group = group;
  server.listener = listener;
  g_signal_connect (group, "task-failed", G_CALLBACK (on_task_failed), &server);
  g_signal_connect (group, "task-finished", G_CALLBACK (on_task_finished), &server);

  acceptor = nursery_group_spawn (group, "acceptor", accept_connections, &server, NULL, NULL);
  server.acceptor = acceptor;

  /* Runs until a signal (or a failed acceptor) cancelled the group and
   * every goodbye was sent or timed out. Clients' failures are theirs:
   * logged, not the server's exit status. */
  nursery_group_wait (group, NULL, NULL);
  g_printerr ("echo-server: stopped after %u clients, %u failed%s%s\n", server.n_accepted,
              nursery_group_get_n_failed (group),
              nursery_group_get_cancel_signal (group) != 0 ? ", on " : "",
              nursery_group_get_cancel_signal (group) == SIGINT ? "SIGINT" :
              nursery_group_get_cancel_signal (group) == SIGTERM ? "SIGTERM" : "");
  return server.failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
