/* test-misuse-channels.c: channels and tasks across threads and teardown
 * (docs/rules.md R23, R24, R26, R30)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The second misuse campaign: what test-misuse-threads.c left out.
 *  - A task's owner-only setters (deadline, timeout, shield) called by a
 *    thread child's worker beside the owner's batches (R23, R24).
 *  - A channel's last reference dropped from every kind of place: a
 *    worker thread, an operation's callback, a cancellable handler on a
 *    cancelling thread, a blocking thread child (R30 asks it of groups
 *    and tasks; a channel's Ops own it while they are in flight).
 *  - Completions that must come back on the context their operation was
 *    started on, whichever thread serves, cancels or closes (R26).
 *  - nursery_task_started() from a worker racing the start's cancel and
 *    the child's own return (R18, R23).
 * test-channel-stress.c already covers the exactly-once accounting under
 * close and cancel races; these scenes are about who runs where and who
 * drops what. Run them under the ASan and TSan setups. */

#include <string.h>

#include "rel-utils.h"

static GThread *owner_thread;

/* /reliability/misuse-channels/R23/task-setters-from-worker: a thread
 * child's worker moves its own deadline and shield, which are the owner
 * context's (docs/threads.md), while the owner runs batches that fire
 * and clear deadlines. */

typedef struct
{
  NurseryGroup *group;
  guint         n_calls;
  int           worker_done;
} SetterScene;

static void
setter_worker (NurseryTask *task,
               gpointer     data)
{
  SetterScene *s = data;

  for (guint i = 0; i < s->n_calls; i++)
    {
      switch (i % 5)
        {
        case 0:
          nursery_task_set_deadline (task, g_get_monotonic_time () + (gint64) G_USEC_PER_SEC * 3600);
          break;
        case 1:
          nursery_task_clear_deadline (task);
          break;
        case 2:
          nursery_task_set_shielded (task, TRUE);
          break;
        case 3:
          nursery_task_set_shielded (task, FALSE);
          break;
        default:
          nursery_task_set_timeout (task, (GTimeSpan) G_USEC_PER_SEC * 7200);
          break;
        }
    }
  g_atomic_int_set (&s->worker_done, 1);
  g_main_context_wakeup (NULL);
  nursery_task_return_int (task, 1);
}

static void
short_child (NurseryTask *task,
             gpointer     data)
{
  rel_return_int_from_idle (task, 1, G_PRIORITY_DEFAULT);
}

static void
test_task_setters_from_worker (void)
{
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("task-setters-from-worker");
  SetterScene s = { NULL, rel_scaled ("NURSERY_MISUSE_CALLS", 5000), 0 };
  int refusals_before = rel_owner_refusals ();
  g_autoptr(NurseryTask) worker = NULL;
  g_autoptr(GError) error = NULL;
  guint n_batches = 0;

  s.group = nursery_group_new ();
  rel_owner_refusals_begin ();
  worker = nursery_group_spawn_in_thread (s.group, "setter", setter_worker, &s, NULL, NULL);
  while (!g_atomic_int_get (&s.worker_done))
    {
      g_autoptr(NurseryTask) child = nursery_group_spawn (s.group, NULL, short_child, NULL, NULL, NULL);

      /* The owner's own deadlines, on the same timer. */
      nursery_task_set_timeout (child, 1);
      nursery_task_set_shielded (child, TRUE);
      g_main_context_iteration (NULL, FALSE);
      n_batches++;
      rel_watchdog_kick (watchdog, "batch %u", n_batches);
    }
  g_assert_true (nursery_group_wait (s.group, NULL, &error) || error != NULL);
  rel_owner_refusals_end ();
  rel_drain (NULL);

  /* Every call refused with the owner critical; none took effect. */
  g_assert_cmpint (rel_owner_refusals () - refusals_before, ==, (int) s.n_calls);
  g_assert_cmpint (nursery_task_get_deadline (worker), ==, -1);
  g_assert_false (nursery_task_get_shielded (worker));
  g_assert_cmpint (nursery_task_get_int (worker), ==, 1);
  g_test_message ("%u worker calls beside %u owner iterations", s.n_calls, n_batches);
  g_object_unref (s.group);
}

/* /reliability/misuse-channels/R30/channel-last-unref-everywhere: in each
 * round one operation waits on a fresh channel, and the last reference
 * to the channel goes from a different place: the worker that serves it,
 * the worker that cancels it, the operation's own callback, a handler of
 * the operation's cancellable running on the cancelling thread, or a
 * blocking thread that received. The channel must be finalized once,
 * the callback must run once on the owner thread, and the item must be
 * freed exactly once. */

typedef enum
{
  DROP_BY_SERVER,        /* a worker sends, then drops the last reference */
  DROP_BY_CANCELLER,     /* a worker cancels, then drops it */
  DROP_IN_CALLBACK,      /* the receive's callback drops it */
  DROP_IN_CANCEL_HANDLER,/* a handler of the same cancellable, on the worker */
  DROP_BY_CLOSER,        /* a worker closes, then drops it */
  DROP_BY_BLOCKING,      /* a blocking receiver on a worker drops it */
  N_DROPS
} DropKind;

typedef struct
{
  NurseryChannel *channel;   /* the reference to drop */
  GCancellable   *cancellable;
  DropKind        kind;
  int             n_callbacks;
  int             n_off_owner;
  int             n_received;
  int             n_errors;
  int             done;
} DropRound;

static int items_alive;

static gpointer
item_new (void)
{
  g_atomic_int_inc (&items_alive);
  return g_new0 (int, 1);
}

static void
item_free (gpointer item)
{
  g_atomic_int_add (&items_alive, -1);
  g_free (item);
}

static void
drop_receive_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      data)
{
  DropRound *r = data;
  g_autoptr(GError) error = NULL;
  gpointer item;

  g_atomic_int_inc (&r->n_callbacks);
  if (g_thread_self () != owner_thread)
    g_atomic_int_inc (&r->n_off_owner);
  item = nursery_channel_receive_pointer_finish (NURSERY_CHANNEL (source), result, &error);
  if (item != NULL)
    {
      r->n_received++;
      item_free (item);
    }
  else
    r->n_errors++;
  if (r->kind == DROP_IN_CALLBACK)
    g_clear_object (&r->channel);
  g_atomic_int_set (&r->done, 1);
}

static void
drop_in_handler (GCancellable *cancellable,
                 gpointer      data)
{
  DropRound *r = data;

  /* On the cancelling thread, beside the channel's own handler. */
  g_clear_object (&r->channel);
}

static void
drop_job (gpointer data,
          gpointer unused)
{
  DropRound *r = data;
  g_autoptr(GError) error = NULL;

  switch (r->kind)
    {
    case DROP_BY_SERVER:
      g_assert_true (nursery_channel_try_send_pointer (r->channel, item_new (), item_free, &error));
      g_clear_object (&r->channel);
      break;
    case DROP_BY_CANCELLER:
    case DROP_IN_CANCEL_HANDLER:
      g_cancellable_cancel (r->cancellable);
      if (r->kind == DROP_BY_CANCELLER)
        g_clear_object (&r->channel);
      break;
    case DROP_BY_CLOSER:
      nursery_channel_close (r->channel);
      g_clear_object (&r->channel);
      break;
    case DROP_IN_CALLBACK:
      g_assert_true (nursery_channel_try_send_pointer (r->channel, item_new (), item_free, &error));
      break;
    case DROP_BY_BLOCKING:
      {
        gpointer item = nursery_channel_receive_pointer_blocking (r->channel, NULL, &error);

        g_assert_no_error (error);
        item_free (item);
        g_atomic_int_inc (&r->n_received);
        g_clear_object (&r->channel);
        g_atomic_int_set (&r->done, 1);
        g_main_context_wakeup (NULL);
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
test_channel_last_unref_everywhere (void)
{
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("channel-last-unref-everywhere");
  RelHelper *helper = rel_helper_new ("dropper");
  guint n_rounds = rel_scaled ("NURSERY_MISUSE_ROUNDS", 3000);
  RelLiveCount live = { 0 };
  guint per_kind[N_DROPS] = { 0 };

  owner_thread = g_thread_self ();
  for (guint i = 0; i < n_rounds; i++)
    {
      DropRound r = { NULL, NULL, i % N_DROPS, 0, 0, 0, 0, 0 };

      r.channel = nursery_channel_new (i % 2);
      rel_track (&live, r.channel);
      r.cancellable = g_cancellable_new ();
      if (r.kind == DROP_IN_CANCEL_HANDLER)
        g_cancellable_connect (r.cancellable, G_CALLBACK (drop_in_handler), &r, NULL);

      if (r.kind == DROP_BY_BLOCKING)
        {
          /* The worker waits (or not yet), the owner sends and lets go. */
          NurseryChannel *mine = g_object_ref (r.channel);

          rel_helper_run (helper, drop_job, &r, NULL);
          rel_spin (g_random_int_range (0, 2000));
          g_assert_true (nursery_channel_send_pointer_blocking (mine, item_new (), item_free, NULL, NULL));
          g_object_unref (mine);
          rel_run_until (NULL, &r.done);
          rel_helper_finish (helper);
        }
      else
        {
          nursery_channel_receive_async (r.channel, r.cancellable, drop_receive_cb, &r);
          rel_helper_run (helper, drop_job, &r, NULL);
          rel_run_until (NULL, &r.done);
          rel_helper_finish (helper);
          g_assert_cmpint (r.n_callbacks, ==, 1);
          g_assert_cmpint (r.n_off_owner, ==, 0);
          g_assert_cmpint (r.n_received + r.n_errors, ==, 1);
          g_assert_cmpint (r.n_received, ==, r.kind == DROP_BY_SERVER || r.kind == DROP_IN_CALLBACK);
        }
      g_assert_null (r.channel);
      rel_drain (NULL);
      g_object_unref (r.cancellable);
      g_assert_cmpint (live.alive, ==, 0);
      g_assert_cmpint (g_atomic_int_get (&items_alive), ==, 0);
      per_kind[r.kind]++;
      rel_watchdog_kick (watchdog, "round %u", i);
    }
  rel_helper_free (helper);
  g_test_message ("%u rounds", n_rounds);
}

/* /reliability/misuse-channels/R26/completions-on-starting-context: a
 * worker thread with its own thread-default context starts sends and
 * receives there; the owner thread serves, cancels and closes them. Each
 * completion must run on the worker (its context), each once. And the
 * other way round: the owner's operations, served by the worker, come
 * back on the owner. */

typedef struct
{
  NurseryChannel *channel;
  guint           n_ops;
  GThread        *worker_thread;
  int             worker_started;   /* atomic: its ops are queued */
  int             worker_callbacks; /* atomic */
  int             worker_off_thread;/* atomic */
  int             owner_callbacks;
  int             owner_off_thread;
  int             worker_done;      /* atomic */
  GCancellable   *worker_cancellable;
} Where;

/* Finishes a send or a receive, whichever @result is, freeing what it
 * took; its error, if any, is the scene's to expect. */
static void
finish_op (GObject      *source,
           GAsyncResult *result)
{
  g_autoptr(GError) error = NULL;
  gpointer item;

  if (g_async_result_is_tagged (result, nursery_channel_send_async))
    nursery_channel_send_finish (NURSERY_CHANNEL (source), result, &error);
  else if ((item = nursery_channel_receive_pointer_finish (NURSERY_CHANNEL (source), result, &error)) != NULL)
    item_free (item);
}

static void
worker_op_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  Where *w = data;

  if (g_thread_self () != w->worker_thread)
    g_atomic_int_inc (&w->worker_off_thread);
  finish_op (source, result);
  g_atomic_int_inc (&w->worker_callbacks);
}

static void
owner_op_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  Where *w = data;

  if (g_thread_self () != owner_thread)
    w->owner_off_thread++;
  finish_op (source, result);
  w->owner_callbacks++;
}

static gpointer
where_worker (gpointer data)
{
  Where *w = data;
  GMainContext *context = g_main_context_new ();

  /* Here, before any operation: set by the spawning thread after
   * g_thread_new(), it raced the first callbacks. */
  w->worker_thread = g_thread_self ();
  g_main_context_push_thread_default (context);
  /* Half receives, half sends with items: on a rendezvous channel each
   * waits until the owner serves, cancels or closes it. */
  for (guint i = 0; i < w->n_ops; i++)
    {
      if (i % 2 == 0)
        nursery_channel_receive_async (w->channel, w->worker_cancellable, worker_op_cb, w);
      else
        nursery_channel_send_pointer_async (w->channel, item_new (), item_free,
                                            w->worker_cancellable, worker_op_cb, w);
    }
  g_atomic_int_set (&w->worker_started, 1);
  g_main_context_wakeup (NULL);
  while (g_atomic_int_get (&w->worker_callbacks) < (int) w->n_ops)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  g_atomic_int_set (&w->worker_done, 1);
  g_main_context_wakeup (NULL);
  return NULL;
}

static void
test_completions_on_starting_context (void)
{
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("completions-on-starting-context");
  guint n_rounds = rel_scaled ("NURSERY_MISUSE_ROUNDS", 300);
  guint n_ops = 64;

  owner_thread = g_thread_self ();
  for (guint round = 0; round < n_rounds; round++)
    {
      Where w = { 0 };
      GThread *thread;
      guint n_owner_ops = 0;

      w.channel = nursery_channel_new (0);
      w.n_ops = n_ops;
      w.worker_cancellable = g_cancellable_new ();
      thread = g_thread_new ("where", where_worker, &w);
      /* The owner's own operations meet the worker's, from here. */
      for (guint i = 0; i < n_ops / 4; i++, n_owner_ops++)
        {
          if (i % 2 == 0)
            nursery_channel_send_pointer_async (w.channel, item_new (), item_free, NULL, owner_op_cb, &w);
          else
            nursery_channel_receive_async (w.channel, NULL, owner_op_cb, &w);
          g_main_context_iteration (NULL, FALSE);
        }
      rel_run_until (NULL, &w.worker_started);
      switch (round % 3)
        {
        case 0:
          g_cancellable_cancel (w.worker_cancellable);
          break;
        case 1:
          nursery_channel_close (w.channel);
          break;
        default:
          /* Serve what is left with try_ forms, then close. */
          for (guint i = 0; i < n_ops; i++)
            {
              gpointer item = nursery_channel_try_receive_pointer (w.channel, NULL);

              if (item != NULL)
                item_free (item);
              else
                nursery_channel_try_send_pointer (w.channel, item_new (), item_free, NULL);
            }
          nursery_channel_close (w.channel);
          break;
        }
      nursery_channel_close (w.channel);
      rel_run_until (NULL, &w.worker_done);
      g_thread_join (thread);
      while (w.owner_callbacks < (int) n_owner_ops)
        g_main_context_iteration (NULL, TRUE);
      g_assert_cmpint (g_atomic_int_get (&w.worker_callbacks), ==, (int) n_ops);
      g_assert_cmpint (g_atomic_int_get (&w.worker_off_thread), ==, 0);
      g_assert_cmpint (w.owner_off_thread, ==, 0);
      g_object_unref (w.channel);
      g_object_unref (w.worker_cancellable);
      rel_drain (NULL);
      g_assert_cmpint (g_atomic_int_get (&items_alive), ==, 0);
      rel_watchdog_kick (watchdog, "round %u", round);
    }
}

/* /reliability/misuse-channels/R18/started-races-cancel: a thread child
 * started with start_async() calls nursery_task_started() (with a value)
 * and returns at once from its worker, while the owner cancels the start
 * from a helper thread. The start must complete once, on the owner,
 * either with the task and the value or cancelled; nothing leaks. */

typedef struct
{
  GCancellable *cancellable;
  int           done;
  int           n_off_owner;
  gboolean      got_task;
  gboolean      got_value;
} StartRound;

/* On a plain thread of its own: started(), the return, and then the
 * thread's reference to the task, maybe the last one (R30). */
static gpointer
started_thread (gpointer data)
{
  NurseryTask *task = data;
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, "ready");
  rel_spin (g_random_int_range (0, 500));
  nursery_task_started (task, &value);
  g_value_unset (&value);
  nursery_task_return_int (task, 7);
  g_object_unref (task);
  return NULL;
}

static void
started_child (NurseryTask *task,
               gpointer     data)
{
  g_thread_unref (g_thread_new ("started", started_thread, g_object_ref (task)));
}

static void
started_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  StartRound *r = data;
  GValue value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  g_autoptr(NurseryTask) task = nursery_group_start_finish (NURSERY_GROUP (source), result, &value, &error);

  if (g_thread_self () != owner_thread)
    r->n_off_owner++;
  r->got_task = task != NULL;
  if (task != NULL)
    {
      g_assert_no_error (error);
      g_assert_cmpstr (g_value_get_string (&value), ==, "ready");
      r->got_value = TRUE;
    }
  else
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  if (G_IS_VALUE (&value))
    g_value_unset (&value);
  r->done = 1;
}

static void
cancel_job (gpointer data,
            gpointer unused)
{
  rel_spin (g_random_int_range (0, 500));
  g_cancellable_cancel (data);
}

static void
test_started_races_cancel (void)
{
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("started-races-cancel");
  RelHelper *helper = rel_helper_new ("start-canceller");
  guint n_rounds = rel_scaled ("NURSERY_MISUSE_ROUNDS", 1000);
  guint n_started = 0;

  owner_thread = g_thread_self ();
  for (guint i = 0; i < n_rounds; i++)
    {
      g_autoptr(NurseryGroup) group = nursery_group_new ();
      g_autoptr(GError) error = NULL;
      StartRound r = { g_cancellable_new (), 0, 0, FALSE, FALSE };

      nursery_group_set_policy (group, NURSERY_POLICY_SUPERVISE);
      nursery_group_start_async (group, "started", started_child, NULL, NULL, r.cancellable, started_cb, &r);
      rel_helper_run (helper, cancel_job, r.cancellable, NULL);
      rel_run_until (NULL, &r.done);
      rel_helper_finish (helper);
      nursery_group_wait (group, NULL, &error);
      g_clear_error (&error);
      g_assert_cmpint (r.n_off_owner, ==, 0);
      n_started += r.got_task;
      g_object_unref (r.cancellable);
      rel_watchdog_kick (watchdog, "round %u", i);
    }
  rel_helper_free (helper);
  g_test_message ("%u of %u starts won over the cancel", n_started, n_rounds);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/reliability/misuse-channels/R23/task-setters-from-worker", test_task_setters_from_worker);
  g_test_add_func ("/reliability/misuse-channels/R30/channel-last-unref-everywhere",
                   test_channel_last_unref_everywhere);
#if REL_UNDER_TSAN
  /* Under TSan it reports main's free of a destroyed worker-context
   * Dispatcher (dispatcher_get_locked(), from send_item_async()) racing
   * the worker's last `dispatching` decrement in dispatcher_dispatch().
   * The free is the last g_source_unref(): GLib holds a reference on a
   * source while it dispatches it, so it cannot come before that dispatch
   * returned, but the ordering lives in GLib's own atomics and context
   * lock, which TSan does not see (GLib is not instrumented), as for
   * channel-stress, which stays out of the tsan setup. It runs under
   * ASan and valgrind; set NURSERY_MISUSE_CHANNELS_TSAN to see it. */
  if (g_getenv ("NURSERY_MISUSE_CHANNELS_TSAN") != NULL)
#endif
  g_test_add_func ("/reliability/misuse-channels/R26/completions-on-starting-context",
                   test_completions_on_starting_context);
  g_test_add_func ("/reliability/misuse-channels/R18/started-races-cancel", test_started_races_cancel);

  return g_test_run ();
}
