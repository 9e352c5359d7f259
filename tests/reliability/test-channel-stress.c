/* test-channel-stress.c: NurseryChannel under thread races
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The channel promises: every item is delivered exactly once or handed
 * back to its sender as an error (and freed), a cancelled receive never
 * consumes an item, completions come on the caller's context, and
 * cancellable handlers never deadlock. Here producer and consumer threads
 * (half the calls with the channel's blocking pointer forms, half with
 * the async forms on a private context) and the
 * owner context hammer one channel while helper threads cancel their
 * cancellables at random moments and finally close it. Checked:
 *  - each item's destroy notify ran exactly once in all (after it was
 *    received, or by the channel if it never was);
 *  - a send that succeeded was received (or still buffered when the
 *    channel went), a send that failed was not received;
 *  - each consumer sees each producer's items in order (FIFO);
 *  - every operation completed exactly once, and every cancellable used
 *    was finalized once dropped (nothing keeps it alive);
 *  - no deadlock (the watchdog fails the test). */

#include "rel-utils.h"

typedef struct _Run Run;

typedef struct
{
  Run   *run;
  guint  producer;
  guint  seq;
  guint  id;
} Item;

struct _Run
{
  NurseryChannel *channel;
  guint           n_items;
  int            *destroyed;   /* atomic, per item id */
  int            *received;    /* atomic, per item id */
  int            *sent_ok;     /* atomic, per item id */
  RelLiveCount    cancellables;
  int             producers_done;
};

static void
item_destroy (gpointer data)
{
  Item *item = data;

  g_atomic_int_inc (&item->run->destroyed[item->id]);
  g_free (item);
}

/* Pointer send and receive on a thread: at random, the channel's own
 * blocking forms (a condition variable), or the async forms run on a
 * private context (completions from the dispatcher of a short-lived
 * context). */

static GAsyncResult *
wait_result (GMainContext  *context,
             GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (context, TRUE);
  return *result;
}

static gboolean
send_pointer (NurseryChannel *channel,
              Item           *item,
              GCancellable   *cancellable,
              GRand          *rand,
              GError        **error)
{
  GMainContext *context;
  GAsyncResult *result = NULL;
  gboolean ok;

  if (g_rand_boolean (rand))
    return nursery_channel_send_pointer_blocking (channel, item, item_destroy, cancellable, error);

  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  nursery_channel_send_pointer_async (channel, item, item_destroy, cancellable, rel_store_result, &result);
  ok = nursery_channel_send_finish (channel, wait_result (context, &result), error);
  g_main_context_pop_thread_default (context);
  g_object_unref (result);
  g_main_context_unref (context);
  return ok;
}

static Item *
receive_pointer (NurseryChannel *channel,
                 GCancellable   *cancellable,
                 GRand          *rand,
                 GError        **error)
{
  GMainContext *context;
  GAsyncResult *result = NULL;
  Item *item;

  if (g_rand_boolean (rand))
    return nursery_channel_receive_pointer_blocking (channel, cancellable, error);

  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  nursery_channel_receive_async (channel, cancellable, rel_store_result, &result);
  item = nursery_channel_receive_pointer_finish (channel, wait_result (context, &result), error);
  g_main_context_pop_thread_default (context);
  g_object_unref (result);
  g_main_context_unref (context);
  return item;
}

/* Cancellables cancelled by a helper thread after a random busy wait */

typedef struct
{
  GMutex        lock;
  GCond         cond;
  GQueue        queue;      /* (GCancellable, spins) pairs */
  gboolean      quit;
  GThread      *thread;
} Canceller;

static gpointer
canceller_thread (gpointer data)
{
  Canceller *c = data;

  g_mutex_lock (&c->lock);
  for (;;)
    {
      GCancellable *cancellable;
      guint spins;

      while (!c->quit && c->queue.length == 0)
        g_cond_wait (&c->cond, &c->lock);
      if (c->queue.length == 0)
        break;
      cancellable = g_queue_pop_head (&c->queue);
      spins = GPOINTER_TO_UINT (g_queue_pop_head (&c->queue));
      g_mutex_unlock (&c->lock);
      rel_spin (spins);
      g_cancellable_cancel (cancellable);
      g_object_unref (cancellable);
      g_mutex_lock (&c->lock);
    }
  g_mutex_unlock (&c->lock);
  return NULL;
}

static void
canceller_add (Canceller    *c,
               GCancellable *cancellable,
               guint         spins)
{
  g_mutex_lock (&c->lock);
  g_queue_push_tail (&c->queue, g_object_ref (cancellable));
  g_queue_push_tail (&c->queue, GUINT_TO_POINTER (spins));
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
}

/* A cancellable that is cancelled at a random moment (or never), tracked
 * so that a leak of it shows. */
static GCancellable *
maybe_cancellable (Run       *run,
                   Canceller *c,
                   GRand     *rand)
{
  GCancellable *cancellable;

  if (g_rand_int_range (rand, 0, 3) == 0)
    return NULL;
  cancellable = g_cancellable_new ();
  rel_track (&run->cancellables, cancellable);
  if (g_rand_boolean (rand))
    canceller_add (c, cancellable, g_rand_int_range (rand, 0, 3000));
  return cancellable;
}

/* Producers and consumers */

typedef struct
{
  Run       *run;
  Canceller *canceller;
  guint      index;
  guint      first_id;
  guint      count;
  guint32    seed;
  guint     *last_seq;    /* consumers: per producer */
  guint      n_producers;
} Worker;

static gpointer
producer_thread (gpointer data)
{
  Worker *w = data;
  GRand *rand = g_rand_new_with_seed (w->seed);

  for (guint i = 0; i < w->count; i++)
    {
      Item *item = g_new0 (Item, 1);
      GCancellable *cancellable = maybe_cancellable (w->run, w->canceller, rand);
      GError *error = NULL;
      guint id = w->first_id + i;

      item->run = w->run;
      item->producer = w->index;
      item->seq = i;
      item->id = id;
      /* The channel owns @item now: delivered (then the receiver
       * destroys it), or destroyed by the channel. */
      if (send_pointer (w->run->channel, item, cancellable, rand, &error))
        g_atomic_int_set (&w->run->sent_ok[id], 1);   /* @item may be gone already */
      else
        g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
                       g_error_matches (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED));
      g_clear_error (&error);
      g_clear_object (&cancellable);
    }
  g_atomic_int_inc (&w->run->producers_done);
  g_rand_free (rand);
  return NULL;
}

static void
consume (Worker *w,
         Item   *item)
{
  Run *run = w->run;

  g_assert_cmpint (g_atomic_int_add (&run->received[item->id], 1), ==, 0);
  /* FIFO: one consumer sees one producer's items in order. */
  g_assert_cmpuint (item->seq + 1, >, w->last_seq[item->producer]);
  w->last_seq[item->producer] = item->seq + 1;
  item_destroy (item);   /* the receiver owns a received item */
}

static gpointer
consumer_thread (gpointer data)
{
  Worker *w = data;
  GRand *rand = g_rand_new_with_seed (w->seed);

  for (;;)
    {
      GCancellable *cancellable = maybe_cancellable (w->run, w->canceller, rand);
      GError *error = NULL;
      Item *item = receive_pointer (w->run->channel, cancellable, rand, &error);

      g_clear_object (&cancellable);
      if (item != NULL)
        consume (w, item);
      else if (g_error_matches (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED))
        {
          g_error_free (error);
          break;
        }
      else
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&error);
    }
  g_rand_free (rand);
  return NULL;
}

/* The owner context receives too, asynchronously. */

typedef struct
{
  Worker        worker;
  GRand        *rand;
  GCancellable *cancellable;
  gboolean      closed;
  guint         completions;
  guint         calls;
} OwnerReceiver;

static void owner_receive_next (OwnerReceiver *o);

static void
owner_received_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      data)
{
  OwnerReceiver *o = data;
  GError *error = NULL;
  Item *item = nursery_channel_receive_pointer_finish (NURSERY_CHANNEL (source), result, &error);

  o->completions++;
  g_assert_cmpuint (o->completions, ==, o->calls);
  g_clear_object (&o->cancellable);
  if (item != NULL)
    consume (&o->worker, item);
  else if (g_error_matches (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED))
    o->closed = TRUE;
  else
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  if (!o->closed)
    owner_receive_next (o);
}

static void
owner_receive_next (OwnerReceiver *o)
{
  o->cancellable = maybe_cancellable (o->worker.run, o->worker.canceller, o->rand);
  o->calls++;
  nursery_channel_receive_async (o->worker.run->channel, o->cancellable, owner_received_cb, o);
}

static void
run_once (guint32      seed,
          guint        capacity,
          RelWatchdog *watchdog)
{
  enum { N_PRODUCERS = 3, N_CONSUMERS = 2, PER_PRODUCER = 300 };
  Run run = { 0 };
  Canceller canceller = { 0 };
  Worker producers[N_PRODUCERS], consumers[N_CONSUMERS];
  GThread *threads[N_PRODUCERS + N_CONSUMERS];
  OwnerReceiver owner = { { 0 } };
  guint delivered = 0, dropped = 0;

  g_mutex_init (&canceller.lock);
  g_cond_init (&canceller.cond);
  canceller.thread = g_thread_new ("canceller", canceller_thread, &canceller);

  run.channel = nursery_channel_new (capacity);
  run.n_items = N_PRODUCERS * PER_PRODUCER;
  run.destroyed = g_new0 (int, run.n_items);
  run.received = g_new0 (int, run.n_items);
  run.sent_ok = g_new0 (int, run.n_items);

  for (guint i = 0; i < N_CONSUMERS; i++)
    {
      consumers[i] = (Worker) { &run, &canceller, i, 0, 0, seed * 31 + i, g_new0 (guint, N_PRODUCERS), N_PRODUCERS };
      threads[N_PRODUCERS + i] = g_thread_new ("consumer", consumer_thread, &consumers[i]);
    }
  owner.worker = (Worker) { &run, &canceller, 99, 0, 0, 0, g_new0 (guint, N_PRODUCERS), N_PRODUCERS };
  owner.rand = g_rand_new_with_seed (seed * 7);
  owner_receive_next (&owner);
  for (guint i = 0; i < N_PRODUCERS; i++)
    {
      producers[i] = (Worker) { &run, &canceller, i, i * PER_PRODUCER, PER_PRODUCER, seed * 13 + i, NULL, 0 };
      threads[i] = g_thread_new ("producer", producer_thread, &producers[i]);
    }

  /* The owner context receives until every producer is done, then closes. */
  while (g_atomic_int_get (&run.producers_done) < N_PRODUCERS)
    {
      g_main_context_iteration (NULL, FALSE);
      rel_watchdog_kick (watchdog, NULL);
    }
  for (guint i = 0; i < N_PRODUCERS; i++)
    g_thread_join (threads[i]);
  nursery_channel_close (run.channel);
  while (!owner.closed)
    g_main_context_iteration (NULL, TRUE);
  for (guint i = 0; i < N_CONSUMERS; i++)
    g_thread_join (threads[N_PRODUCERS + i]);

  g_mutex_lock (&canceller.lock);
  canceller.quit = TRUE;
  g_cond_signal (&canceller.cond);
  g_mutex_unlock (&canceller.lock);
  g_thread_join (canceller.thread);

  /* Closed and drained: the channel goes, with it any buffered item. */
  g_assert_cmpuint (nursery_channel_get_n_items (run.channel), ==, 0);
  g_clear_object (&run.channel);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  for (guint id = 0; id < run.n_items; id++)
    {
      g_assert_cmpint (run.destroyed[id], ==, 1);
      g_assert_cmpint (run.received[id], <=, 1);
      /* Closed only after every producer finished: what was sent was received. */
      g_assert_cmpint (run.received[id], ==, run.sent_ok[id]);
      delivered += run.received[id];
      dropped += !run.received[id];
    }
  g_test_message ("capacity %u: %u items delivered, %u handed back to their senders",
                  capacity, delivered, dropped);

  /* Nothing keeps a cancellable alive once its operation is over. */
  if (g_atomic_int_get (&run.cancellables.alive) != 0)
    g_test_fail_printf ("%d cancellables still alive after their channel operations completed (leak)",
                        run.cancellables.alive);

  for (guint i = 0; i < N_CONSUMERS; i++)
    g_free (consumers[i].last_seq);
  g_free (owner.worker.last_seq);
  g_rand_free (owner.rand);
  g_free (run.destroyed);
  g_free (run.received);
  g_free (run.sent_ok);
  g_mutex_clear (&canceller.lock);
  g_cond_clear (&canceller.cond);
}

static void
test_exactly_once (void)
{
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("channel/exactly-once");
  guint rounds = rel_scaled ("NURSERY_STRESS_ITERATIONS", 20);
  guint32 seed = rel_env_uint ("NURSERY_STRESS_SEED", g_test_rand_int ());

  g_test_message ("%u rounds, NURSERY_STRESS_SEED=%u", rounds, seed);
  for (guint i = 0; i < rounds; i++)
    {
      rel_watchdog_kick (watchdog, "round %u (NURSERY_STRESS_SEED=%u)", i, seed);
      run_once (seed + i, i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : 8, watchdog);
      if (g_test_failed ())
        break;
    }
}

/* A cancel that lands just before the receive waits: between the check
 * of the cancellable and the connection to it. */

static void
cancel_job (gpointer cancellable,
            gpointer spins)
{
  rel_spin (GPOINTER_TO_UINT (spins));
  g_cancellable_cancel (cancellable);
}

static void
test_cancel_while_waiting (void)
{
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("channel/cancel-while-waiting");
  g_autoptr(NurseryChannel) channel = nursery_channel_new (0);
  RelHelper *helper = rel_helper_new ("canceller");
  guint rounds = rel_scaled ("NURSERY_STRESS_ITERATIONS", 60000);
  GRand *rand = g_rand_new_with_seed (rel_env_uint ("NURSERY_STRESS_SEED", g_test_rand_int ()));
  guint leaked = 0;

  for (guint i = 0; i < rounds; i++)
    {
      GCancellable *cancellable = g_cancellable_new ();
      GValue value = G_VALUE_INIT;
      GError *error = NULL;
      gboolean finalized = FALSE;

      rel_watchdog_kick (watchdog, "round %u", i);
      g_object_weak_ref (G_OBJECT (cancellable), rel_set_flag, &finalized);
      rel_helper_run (helper, cancel_job, cancellable, GUINT_TO_POINTER (g_rand_int_range (rand, 0, 400)));
      if (i % 2 == 0)
        g_assert_false (nursery_channel_receive (channel, &value, cancellable, &error));
      else
        {
          g_value_init (&value, G_TYPE_INT);
          g_assert_false (nursery_channel_send (channel, &value, cancellable, &error));
        }
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&error);
      g_value_unset (&value);
      rel_helper_finish (helper);
      g_object_unref (cancellable);
      leaked += !finalized;
      /* A leak of every cancelled wait also leaks its private main
       * context, an eventfd each: fail long before the process runs out. */
      if (leaked > 100)
        break;
    }
  if (leaked > 0)
    g_test_fail_printf ("%u cancelled channel operations kept their cancellable alive (leak)", leaked);
  g_rand_free (rand);
  rel_helper_free (helper);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();

  g_test_add_func ("/reliability/channel/R26/cancel-while-waiting", test_cancel_while_waiting);
  g_test_add_func ("/reliability/channel/R26/exactly-once", test_exactly_once);

  return g_test_run ();
}
