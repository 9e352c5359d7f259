/* test-streams.c: completion order (next_async), the live task list and
 * NurseryChannel
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "nursery-test-utils.h"

static gboolean
return_name_cb (gpointer task)
{
  nursery_task_return_int (task, 1);
  return G_SOURCE_REMOVE;
}

/* Returns from an idle whose priority its data gives (a larger number
 * runs later), or at once for 0: completion order without timers. */
static void
return_after_idles (NurseryTask *task,
                    gpointer     data)
{
  guint n = GPOINTER_TO_UINT (data);

  if (n == 0)
    nursery_task_return_int (task, 0);
  else
    g_idle_add_full (G_PRIORITY_LOW + n, return_name_cb, g_object_ref (task), g_object_unref);
}

/* next_async: completion order, each exactly once, then NULL */

typedef struct
{
  NurseryGroup *group;
  GPtrArray    *names;
  gboolean      done;
  guint         finished_signals;
} NextLoop;

static void
next_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  NextLoop *loop = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(NurseryTask) task = nursery_group_next_finish (loop->group, result, &error);

  g_assert_no_error (error);
  if (task == NULL)
    {
      g_assert_true (nursery_group_is_closed (loop->group));
      loop->done = TRUE;
      return;
    }
  g_assert_true (nursery_task_is_finished (task));
  g_ptr_array_add (loop->names, g_strdup (nursery_task_get_name (task)));
  nursery_group_next_async (loop->group, NULL, next_cb, loop);
}

static void
count_signal (NurseryGroup *group,
              NurseryTask  *task,
              gpointer      data)
{
  ((NextLoop *) data)->finished_signals++;
}

static void
test_next_completion_order (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  NextLoop loop = { group, names, FALSE, 0 };
  const char *spawn_order[] = { "slow", "medium", "fast" };

  g_signal_connect (group, "task-finished", G_CALLBACK (count_signal), &loop);
  for (guint i = 0; i < 3; i++)
    g_object_unref (nursery_group_spawn (group, spawn_order[i], return_after_idles,
                                         GUINT_TO_POINTER ((2 - i) * 3), NULL, NULL));
  nursery_group_next_async (group, NULL, next_cb, &loop);
  nt_run_until (&loop.done);

  g_assert_cmpuint (names->len, ==, 3);
  g_assert_cmpstr (names->pdata[0], ==, "fast");
  g_assert_cmpstr (names->pdata[1], ==, "medium");
  g_assert_cmpstr (names->pdata[2], ==, "slow");
  g_assert_cmpuint (loop.finished_signals, ==, 3);
}

/* next_async: a cancelled call takes no task */

typedef struct
{
  NurseryTask *task;
  GError      *error;
  gboolean     done;
} NextOne;

static void
next_one_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  NextOne *one = data;

  one->task = nursery_group_next_finish (NURSERY_GROUP (source), result, &one->error);
  one->done = TRUE;
}

static void
test_next_cancelled_takes_nothing (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(NurseryTask) child = nursery_group_spawn (group, "only", nt_child_until_cancelled, NULL, NULL, NULL);
  NextOne first = { NULL, NULL, FALSE };
  NextOne second = { NULL, NULL, FALSE };

  nursery_group_next_async (group, cancellable, next_one_cb, &first);
  nursery_group_next_async (group, NULL, next_one_cb, &second);
  nt_wait_until_running (child);
  g_cancellable_cancel (cancellable);
  nt_run_until (&first.done);
  g_assert_error (first.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (first.task);
  /* Not the group's cancel: the child still runs. */
  g_assert_false (nursery_task_is_cancelled (child));

  nursery_task_cancel (child);
  nt_run_until (&second.done);
  g_assert_no_error (second.error);
  g_assert_true (second.task == child);
  g_clear_error (&first.error);
  g_clear_object (&second.task);
}

/* next_async on an empty group: NULL, on a later iteration */

static void
test_next_empty (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  NextOne one = { NULL, NULL, FALSE };

  nursery_group_next_async (group, NULL, next_one_cb, &one);
  g_assert_false (one.done);
  nt_run_until (&one.done);
  g_assert_no_error (one.error);
  g_assert_null (one.task);
  g_assert_true (nursery_group_is_closed (group));
}

/* R27: list_tasks: a live model of the unfinished tasks */

static void
test_list_tasks (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (NtChange));
  g_autoptr(NurseryTask) a = nursery_group_spawn (group, "a", nt_child_until_cancelled, NULL, NULL, NULL);
  g_autoptr(NurseryTask) b = NULL;
  /* "a" is already spawned: the model starts with it. */
  g_assert_nonnull (a);
  g_autoptr(NurseryTask) c = NULL;
  g_autoptr(GListModel) model = nursery_group_list_tasks (group);
  g_autoptr(NurseryTask) item = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_list_model_get_item_type (model) == NURSERY_TYPE_TASK);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 1);
  g_signal_connect (model, "items-changed", G_CALLBACK (nt_record_items_changed), changes);

  b = nursery_group_spawn (group, "b", nt_child_until_cancelled, NULL, NULL, NULL);
  c = nursery_group_spawn (group, "c", nt_child_until_cancelled, NULL, NULL, NULL);
  /* Never inside spawn(): the model changes in the batch. */
  g_assert_cmpuint (changes->len, ==, 0);
  nt_wait_until_running (c);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 3);
  item = g_list_model_get_item (model, 1);
  g_assert_true (item == b);
  g_assert_null (g_list_model_get_item (model, 3));

  nursery_task_cancel (b);
  NT_ITERATE_UNTIL (nursery_task_is_finished (b));
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 2);
  /* R27: b and c came in one batch, so in one range. */
  g_assert_cmpuint (changes->len, ==, 2);
  g_assert_cmpuint (g_array_index (changes, NtChange, 0).position, ==, 1);
  g_assert_cmpuint (g_array_index (changes, NtChange, 0).added, ==, 2);
  g_assert_cmpuint (g_array_index (changes, NtChange, 1).position, ==, 1);
  g_assert_cmpuint (g_array_index (changes, NtChange, 1).removed, ==, 1);

  nursery_group_cancel (group);
  error = nt_wait (group);
  g_assert_no_error (error);  /* R7: the owner's own cancel is quiet */
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
}

/* NurseryChannel */

static GValue *
int_value (GValue *value,
           int     n)
{
  g_value_init (value, G_TYPE_INT);
  g_value_set_int (value, n);
  return value;
}

typedef struct
{
  gboolean ok;
  GError  *error;
  GValue   value;
  gboolean done;
} Op;

static void
op_clear (Op *op)
{
  g_clear_error (&op->error);
  if (G_IS_VALUE (&op->value))
    g_value_unset (&op->value);
  op->done = FALSE;
  op->ok = FALSE;
}

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  Op *op = data;

  op->ok = nursery_channel_send_finish (NURSERY_CHANNEL (source), result, &op->error);
  op->done = TRUE;
}

static void
received_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  Op *op = data;

  op->ok = nursery_channel_receive_finish (NURSERY_CHANNEL (source), result, &op->value, &op->error);
  op->done = TRUE;
}

static void
test_channel_buffered (void)
{
  g_autoptr(NurseryChannel) channel = nursery_channel_new (2);
  g_auto(GValue) v = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_assert_true (nursery_channel_try_send (channel, int_value (&v, 1), NULL));
  g_value_unset (&v);
  g_assert_true (nursery_channel_try_send (channel, int_value (&v, 2), NULL));
  g_value_unset (&v);
  g_assert_false (nursery_channel_try_send (channel, int_value (&v, 3), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  g_clear_error (&error);
  g_value_unset (&v);
  g_assert_cmpuint (nursery_channel_get_n_items (channel), ==, 2);

  g_assert_true (nursery_channel_try_receive (channel, &v, NULL));
  g_assert_cmpint (g_value_get_int (&v), ==, 1);
  g_value_unset (&v);
  g_assert_true (nursery_channel_try_receive (channel, &v, NULL));
  g_assert_cmpint (g_value_get_int (&v), ==, 2);
  g_value_unset (&v);
  g_assert_false (nursery_channel_try_receive (channel, &v, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
}

static void
test_channel_rendezvous (void)
{
  g_autoptr(NurseryChannel) channel = nursery_channel_new (0);
  g_auto(GValue) v = G_VALUE_INIT;
  Op send = { 0 }, recv = { 0 };

  nursery_channel_send_async (channel, int_value (&v, 7), NULL, sent_cb, &send);
  /* Nobody receives: the sender waits (and never completes inline). */
  for (int i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_false (send.done);

  nursery_channel_receive_async (channel, NULL, received_cb, &recv);
  g_assert_false (recv.done);
  nt_run_until (&recv.done);
  nt_run_until (&send.done);
  g_assert_true (send.ok);
  g_assert_true (recv.ok);
  g_assert_cmpint (g_value_get_int (&recv.value), ==, 7);
  op_clear (&send);
  op_clear (&recv);
}

/* FIFO among waiting receivers; a closed channel is drained in order */

static void
test_channel_fifo_and_close (void)
{
  g_autoptr(NurseryChannel) channel = nursery_channel_new (4);
  g_auto(GValue) v = G_VALUE_INIT;
  Op recv[3] = { { 0 } };
  Op late = { 0 };
  Op send = { 0 };

  for (int i = 0; i < 3; i++)
    nursery_channel_receive_async (channel, NULL, received_cb, &recv[i]);
  for (int i = 0; i < 3; i++)
    {
      g_assert_true (nursery_channel_try_send (channel, int_value (&v, i), NULL));
      g_value_unset (&v);
    }
  for (int i = 0; i < 3; i++)
    {
      nt_run_until (&recv[i].done);
      g_assert_cmpint (g_value_get_int (&recv[i].value), ==, i);
      op_clear (&recv[i]);
    }

  /* Buffered items survive the close and come out in order. */
  for (int i = 10; i < 13; i++)
    {
      g_assert_true (nursery_channel_try_send (channel, int_value (&v, i), NULL));
      g_value_unset (&v);
    }
  nursery_channel_close (channel);
  g_assert_true (nursery_channel_is_closed (channel));
  nursery_channel_send_async (channel, int_value (&v, 99), NULL, sent_cb, &send);
  g_value_unset (&v);
  nt_run_until (&send.done);
  g_assert_error (send.error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);

  for (int i = 10; i < 13; i++)
    {
      nursery_channel_receive_async (channel, NULL, received_cb, &late);
      nt_run_until (&late.done);
      g_assert_true (late.ok);
      g_assert_cmpint (g_value_get_int (&late.value), ==, i);
      op_clear (&late);
    }
  nursery_channel_receive_async (channel, NULL, received_cb, &late);
  nt_run_until (&late.done);
  g_assert_false (late.ok);
  g_assert_error (late.error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  op_clear (&late);
  op_clear (&send);
}

/* Closing refuses the waiting senders; their pointer items are freed */

static void
test_channel_close_refuses_waiting_senders (void)
{
  g_autoptr(NurseryChannel) channel = nursery_channel_new (0);
  guint freed = 0;
  Op send = { 0 };

  nursery_channel_send_pointer_async (channel, &freed, nt_count_destroy, NULL, sent_cb, &send);
  g_main_context_iteration (NULL, FALSE);
  g_assert_false (send.done);
  nursery_channel_close (channel);
  nt_run_until (&send.done);
  g_assert_error (send.error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  g_assert_cmpuint (freed, ==, 1);
  op_clear (&send);
}

/* A delivered pointer item belongs to the receiver; an undelivered one is freed */

static void
test_channel_pointer_ownership (void)
{
  NurseryChannel *channel = nursery_channel_new (2);
  guint freed = 0;
  gpointer item;

  g_assert_true (nursery_channel_try_send_pointer (channel, &freed, nt_count_destroy, NULL));
  g_assert_true (nursery_channel_try_send_pointer (channel, &freed, nt_count_destroy, NULL));
  item = nursery_channel_try_receive_pointer (channel, NULL);
  g_assert_true (item == &freed);
  g_assert_cmpuint (freed, ==, 0);
  g_object_unref (channel);
  g_assert_cmpuint (freed, ==, 1);
}

/* A cancelled receive never consumes an item */

static void
test_channel_cancelled_receive (void)
{
  g_autoptr(NurseryChannel) channel = nursery_channel_new (1);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_auto(GValue) v = G_VALUE_INIT;
  Op first = { 0 }, second = { 0 };

  nursery_channel_receive_async (channel, cancellable, received_cb, &first);
  nursery_channel_receive_async (channel, NULL, received_cb, &second);
  g_cancellable_cancel (cancellable);
  g_assert_true (nursery_channel_try_send (channel, int_value (&v, 5), NULL));
  nt_run_until (&first.done);
  nt_run_until (&second.done);
  g_assert_error (first.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (second.ok);
  g_assert_cmpint (g_value_get_int (&second.value), ==, 5);
  op_clear (&first);
  op_clear (&second);
}

/* An operation's cancellable link ends without waiting for a running
 * handler (an owned NurseryCancelLink): a receive cancelled, then
 * completed from inside the same cancellable's emission (a later handler
 * iterates the context), neither deadlocks nor keeps its channel. */

static void
iterate_until_received_cb (GCancellable *cancellable,
                           gpointer      data)
{
  Op *op = data;

  nt_run_until (&op->done);
}

static void
test_channel_completes_inside_cancel_emission (void)
{
  NurseryChannel *channel = nursery_channel_new (1);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Op op = { 0 };
  gulong handler_id;

  g_object_add_weak_pointer (G_OBJECT (channel), (gpointer *) &channel);
  nursery_channel_receive_async (channel, cancellable, received_cb, &op);
  /* Runs after the receive's own handler, which serves it. */
  handler_id = g_cancellable_connect (cancellable, G_CALLBACK (iterate_until_received_cb), &op, NULL);
  g_cancellable_cancel (cancellable);

  g_assert_true (op.done);
  g_assert_error (op.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* The connection, ended, no longer keeps the operation and through it
   * the channel: the last reference is the test's. */
  g_object_unref (channel);
  g_assert_null (channel);
  g_cancellable_disconnect (cancellable, handler_id);
  op_clear (&op);
}

/* A cancelled receive racing a send from another thread: the item is
 * received exactly once, or stays in the channel */

static gpointer
cancel_thread (gpointer cancellable)
{
  g_cancellable_cancel (cancellable);
  return NULL;
}

static void
test_channel_cancel_races_send (void)
{
  g_autoptr(NurseryChannel) channel = nursery_channel_new (1);
  guint received = 0, left = 0;

  for (int n = 0; n < 2000; n++)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_auto(GValue) v = G_VALUE_INIT;
      GThread *canceller;
      Op op = { 0 };

      nursery_channel_receive_async (channel, cancellable, received_cb, &op);
      /* The send here and the cancel there really race. */
      canceller = g_thread_new ("canceller", cancel_thread, cancellable);
      g_assert_true (nursery_channel_try_send (channel, int_value (&v, n), NULL));
      g_value_unset (&v);
      g_thread_join (canceller);
      nt_run_until (&op.done);
      if (op.ok)
        {
          g_assert_cmpint (g_value_get_int (&op.value), ==, n);
          g_assert_false (nursery_channel_try_receive (channel, &v, NULL));
          received++;
        }
      else
        {
          g_assert_error (op.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
          g_assert_true (nursery_channel_try_receive (channel, &v, NULL));
          g_assert_cmpint (g_value_get_int (&v), ==, n);
          left++;
        }
      op_clear (&op);
    }
  g_test_message ("received by the receiver %u times, left in the channel %u times", received, left);
  g_assert_cmpuint (received + left, ==, 2000);
}

/* 100 000 items through a capacity-16 channel between two children */

#define N_PIPELINE 100000

typedef struct
{
  NurseryChannel *channel;
  NurseryTask    *task;
  int             next;
  gint64          sum;
} Pipe;

static void produce_next (Pipe *pipe);

static void
produced_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  Pipe *pipe = data;
  g_autoptr(GError) error = NULL;

  g_assert_true (nursery_channel_send_finish (pipe->channel, result, &error));
  g_assert_no_error (error);
  produce_next (pipe);
}

static void
produce_next (Pipe *pipe)
{
  g_auto(GValue) v = G_VALUE_INIT;

  if (pipe->next == N_PIPELINE)
    {
      nursery_channel_close (pipe->channel);
      nursery_task_return_boolean (pipe->task, TRUE);
      return;
    }
  nursery_channel_send_async (pipe->channel, int_value (&v, pipe->next++), NULL, produced_cb, pipe);
}

static void
producer (NurseryTask *task,
          gpointer     data)
{
  Pipe *pipe = data;

  pipe->task = task;
  produce_next (pipe);
}

static void
consumed_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  Pipe *pipe = data;
  g_auto(GValue) v = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  if (!nursery_channel_receive_finish (pipe->channel, result, &v, &error))
    {
      g_assert_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
      nursery_task_return_int (pipe->task, pipe->next);
      return;
    }
  /* In order, nothing lost, nothing twice. */
  g_assert_cmpint (g_value_get_int (&v), ==, pipe->next);
  pipe->next++;
  pipe->sum += g_value_get_int (&v);
  nursery_channel_receive_async (pipe->channel, NULL, consumed_cb, pipe);
}

static void
consumer (NurseryTask *task,
          gpointer     data)
{
  Pipe *pipe = data;

  pipe->task = task;
  nursery_channel_receive_async (pipe->channel, NULL, consumed_cb, pipe);
}

static void
test_channel_pipeline (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryChannel) channel = nursery_channel_new (16);
  g_autoptr(NurseryTask) consumer_task = NULL;
  g_autoptr(GError) error = NULL;
  Pipe out = { channel, NULL, 0, 0 };
  Pipe in = { channel, NULL, 0, 0 };

  g_object_unref (nursery_group_spawn (group, "producer", producer, &out, NULL, NULL));
  consumer_task = nursery_group_spawn (group, "consumer", consumer, &in, NULL, NULL);
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpint (nursery_task_get_int (consumer_task), ==, N_PIPELINE);
  g_assert_cmpint (in.sum, ==, (gint64) N_PIPELINE * (N_PIPELINE - 1) / 2);
}

/* A thread child sends with the blocking form; the receiver runs on the owner context */

static void
blocking_producer (NurseryTask *task,
                   gpointer     channel)
{
  for (int i = 0; i < 1000; i++)
    {
      g_auto(GValue) v = G_VALUE_INIT;

      g_assert_true (nursery_channel_send (channel, int_value (&v, i), nursery_task_get_cancellable (task), NULL));
    }
  nursery_channel_close (channel);
}

static void
test_channel_thread_producer (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryChannel) channel = nursery_channel_new (4);
  g_autoptr(NurseryTask) consumer_task = NULL;
  g_autoptr(GError) error = NULL;
  Pipe in = { channel, NULL, 0, 0 };

  g_object_unref (nursery_group_spawn_in_thread (group, "producer", blocking_producer, channel, NULL, NULL));
  consumer_task = nursery_group_spawn (group, "consumer", consumer, &in, NULL, NULL);
  error = nt_wait (group);
  g_assert_no_error (error);
  g_assert_cmpint (nursery_task_get_int (consumer_task), ==, 1000);
}

/* Randomized: random senders, receivers, cancels and a close; every item
 * is received exactly once or reported back to its sender */

typedef struct
{
  GHashTable *received;    /* item → TRUE */
  guint       refused;
  guint       receives_done;
  guint       sends_done;
} Ledger;

typedef struct
{
  Ledger *ledger;
  int     item;
} SendOp;

static void
random_sent_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  SendOp *op = data;
  GError *error = NULL;

  if (!nursery_channel_send_finish (NURSERY_CHANNEL (source), result, &error))
    {
      /* Reported back: it must never show up at a receiver. */
      g_assert_false (g_hash_table_contains (op->ledger->received, GINT_TO_POINTER (op->item)));
      g_hash_table_add (op->ledger->received, GINT_TO_POINTER (-op->item - 1));
      op->ledger->refused++;
      g_error_free (error);
    }
  op->ledger->sends_done++;
  g_free (op);
}

static void
random_received_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      data)
{
  Ledger *ledger = data;
  g_auto(GValue) v = G_VALUE_INIT;
  GError *error = NULL;

  if (nursery_channel_receive_finish (NURSERY_CHANNEL (source), result, &v, &error))
    {
      int item = g_value_get_int (&v);

      g_assert_false (g_hash_table_contains (ledger->received, GINT_TO_POINTER (item)));
      g_hash_table_add (ledger->received, GINT_TO_POINTER (item));
    }
  else
    g_error_free (error);
  ledger->receives_done++;
}

static void
run_random_channel (GRand *rand)
{
  g_autoptr(NurseryChannel) channel = nursery_channel_new (g_rand_int_range (rand, 0, 4));
  g_autoptr(GPtrArray) cancellables = g_ptr_array_new_with_free_func (g_object_unref);
  Ledger ledger = { g_hash_table_new (NULL, NULL), 0, 0, 0 };
  guint n_sends = 0, n_receives = 0;
  g_auto(GValue) v = G_VALUE_INIT;
  int next_item = 0;

  for (int step = 0; step < 60; step++)
    {
      GCancellable *cancellable = g_cancellable_new ();

      g_ptr_array_add (cancellables, cancellable);
      switch (g_rand_int_range (rand, 0, 10))
        {
        case 0: case 1: case 2: case 3:
          {
            SendOp *op = g_new (SendOp, 1);

            op->ledger = &ledger;
            op->item = next_item++;
            nursery_channel_send_async (channel, int_value (&v, op->item), cancellable, random_sent_cb, op);
            g_value_unset (&v);
            n_sends++;
            break;
          }
        case 4: case 5: case 6:
          nursery_channel_receive_async (channel, cancellable, random_received_cb, &ledger);
          n_receives++;
          break;
        case 7: case 8:
          /* Cancel some earlier operation. */
          g_cancellable_cancel (cancellables->pdata[g_rand_int_range (rand, 0, cancellables->len)]);
          break;
        default:
          g_main_context_iteration (NULL, FALSE);
        }
    }
  nursery_channel_close (channel);
  /* Drain what is left. */
  NT_ITERATE_UNTIL (ledger.sends_done >= n_sends && ledger.receives_done >= n_receives);
  while (nursery_channel_try_receive (channel, &v, NULL))
    {
      g_assert_false (g_hash_table_contains (ledger.received, GINT_TO_POINTER (g_value_get_int (&v))));
      g_hash_table_add (ledger.received, GINT_TO_POINTER (g_value_get_int (&v)));
      g_value_unset (&v);
    }

  /* Every item: received exactly once, or refused to its sender. */
  for (int item = 0; item < next_item; item++)
    g_assert_true (g_hash_table_contains (ledger.received, GINT_TO_POINTER (item)) !=
                   g_hash_table_contains (ledger.received, GINT_TO_POINTER (-item - 1)));
  g_hash_table_unref (ledger.received);
}

static void
test_channel_randomized (void)
{
  const char *env = g_getenv ("NURSERY_TEST_SEED");
  guint32 seed = env != NULL ? (guint32) g_ascii_strtoull (env, NULL, 10) : (guint32) g_test_rand_int ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);

  g_test_message ("seed %u (set NURSERY_TEST_SEED to reproduce)", seed);
  for (int i = 0; i < 500; i++)
    run_random_channel (rand);
}

/* R26: the blocking pointer forms, between two plain threads: FIFO,
 * exactly once, the receiver owns each item */

#define BLOCKING_ITEMS 20000

typedef struct
{
  NurseryChannel *channel;
} PointerPipe;

static gpointer
pointer_sender_thread (gpointer data)
{
  PointerPipe *pipe = data;

  for (guint i = 1; i <= BLOCKING_ITEMS; i++)
    g_assert_true (nursery_channel_send_pointer_blocking (pipe->channel, GUINT_TO_POINTER (i),
                                                          NULL, NULL, NULL));
  nursery_channel_close (pipe->channel);
  return NULL;
}

static gpointer
pointer_receiver_thread (gpointer data)
{
  PointerPipe *pipe = data;
  GError *error = NULL;
  gpointer item;
  guint expected = 1;

  while ((item = nursery_channel_receive_pointer_blocking (pipe->channel, NULL, &error)) != NULL)
    g_assert_cmpuint (GPOINTER_TO_UINT (item), ==, expected++);
  g_assert_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  g_error_free (error);
  return GUINT_TO_POINTER (expected - 1);
}

static void
test_channel_blocking_pointers_across_threads (void)
{
  const guint capacities[] = { 0, 1, 16 };

  for (guint c = 0; c < G_N_ELEMENTS (capacities); c++)
    {
      g_autoptr(NurseryChannel) channel = nursery_channel_new (capacities[c]);
      PointerPipe pipe = { channel };
      GThread *receiver = g_thread_new ("receiver", pointer_receiver_thread, &pipe);
      GThread *sender = g_thread_new ("sender", pointer_sender_thread, &pipe);

      g_thread_join (sender);
      g_assert_cmpuint (GPOINTER_TO_UINT (g_thread_join (receiver)), ==, BLOCKING_ITEMS);
      g_assert_cmpuint (nursery_channel_get_n_items (channel), ==, 0);
    }
}

/* A blocking call has queued itself once it watches its cancellable: the
 * only moment a test can see from outside without sleeping. */
static void
wait_until_watched (GCancellable *cancellable)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  guint signal_id = g_signal_lookup ("cancelled", G_TYPE_CANCELLABLE);

  while (!g_signal_has_handler_pending (cancellable, signal_id, 0, TRUE))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_thread_yield ();
    }
}

typedef struct
{
  NurseryChannel *channel;
  GCancellable   *cancellable;
  gpointer        item;
  GError         *error;
  gboolean        ok;
  guint           destroyed;   /* atomic */
} BlockedCall;

static void
blocked_call_destroy (gpointer data)
{
  g_atomic_int_inc (&((BlockedCall *) data)->destroyed);
}

static gpointer
blocked_receive_thread (gpointer data)
{
  BlockedCall *call = data;

  call->item = nursery_channel_receive_pointer_blocking (call->channel, call->cancellable, &call->error);
  return NULL;
}

static gpointer
blocked_send_thread (gpointer data)
{
  BlockedCall *call = data;

  call->ok = nursery_channel_send_pointer_blocking (call->channel, call, blocked_call_destroy,
                                                    call->cancellable, &call->error);
  return NULL;
}

/* R26: a blocking receive cancelled from another thread wakes up with
 * G_IO_ERROR_CANCELLED and takes no item: the item sent after stays */
static void
test_channel_blocking_receive_cancelled (void)
{
  g_autoptr(NurseryChannel) channel = nursery_channel_new (1);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  BlockedCall call = { channel, cancellable, NULL, NULL, FALSE, 0 };
  GThread *thread = g_thread_new ("receiver", blocked_receive_thread, &call);
  guint destroyed = 0;

  wait_until_watched (cancellable);
  g_cancellable_cancel (cancellable);
  g_thread_join (thread);
  g_assert_error (call.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (call.item);
  g_clear_error (&call.error);

  /* Nobody waits any more: the item is buffered, not handed over. */
  g_assert_true (nursery_channel_try_send_pointer (channel, &destroyed, nt_count_destroy, NULL));
  g_assert_cmpuint (nursery_channel_get_n_items (channel), ==, 1);
  g_assert_true (nursery_channel_try_receive_pointer (channel, NULL) == &destroyed);
  g_assert_cmpuint (destroyed, ==, 0);
}

/* R26: a blocking send cancelled while it waits for room moves no item:
 * its item is freed once, the buffer holds only what was there */
static void
test_channel_blocking_send_cancelled (void)
{
  g_autoptr(NurseryChannel) channel = nursery_channel_new (1);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  BlockedCall call = { channel, cancellable, NULL, NULL, FALSE, 0 };
  GThread *thread;
  GError *error = NULL;

  g_assert_true (nursery_channel_try_send_pointer (channel, GUINT_TO_POINTER (1), NULL, NULL));
  thread = g_thread_new ("sender", blocked_send_thread, &call);
  wait_until_watched (cancellable);
  g_cancellable_cancel (cancellable);
  g_thread_join (thread);
  g_assert_false (call.ok);
  g_assert_error (call.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&call.error);
  g_assert_cmpuint (g_atomic_int_get (&call.destroyed), ==, 1);

  g_assert_true (nursery_channel_try_receive_pointer (channel, NULL) == GUINT_TO_POINTER (1));
  g_assert_null (nursery_channel_try_receive_pointer (channel, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  g_clear_error (&error);
}

/* R26: close wakes blocked receivers (NURSERY_ERROR_CLOSED) and blocked
 * senders (NURSERY_ERROR_CLOSED, their item freed); what was buffered
 * before still drains */
static void
test_channel_close_wakes_blocked (void)
{
  g_autoptr(NurseryChannel) empty = nursery_channel_new (0);
  g_autoptr(NurseryChannel) full = nursery_channel_new (1);
  g_autoptr(GCancellable) receiver_watch = g_cancellable_new ();
  g_autoptr(GCancellable) sender_watch = g_cancellable_new ();
  BlockedCall receive = { empty, receiver_watch, NULL, NULL, FALSE, 0 };
  BlockedCall send = { full, sender_watch, NULL, NULL, FALSE, 0 };
  GThread *receiver = g_thread_new ("receiver", blocked_receive_thread, &receive);
  GThread *sender;
  GError *error = NULL;

  g_assert_true (nursery_channel_try_send_pointer (full, GUINT_TO_POINTER (7), NULL, NULL));
  sender = g_thread_new ("sender", blocked_send_thread, &send);

  /* The cancellables are never cancelled: they show the calls waiting. */
  wait_until_watched (receiver_watch);
  wait_until_watched (sender_watch);
  nursery_channel_close (empty);
  nursery_channel_close (full);
  g_thread_join (receiver);
  g_thread_join (sender);

  g_assert_error (receive.error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  g_assert_null (receive.item);
  g_assert_error (send.error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  g_assert_false (send.ok);
  g_assert_cmpuint (g_atomic_int_get (&send.destroyed), ==, 1);
  g_clear_error (&receive.error);
  g_clear_error (&send.error);

  g_assert_true (nursery_channel_receive_pointer_blocking (full, NULL, NULL) == GUINT_TO_POINTER (7));
  g_assert_null (nursery_channel_receive_pointer_blocking (full, NULL, &error));
  g_assert_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  g_clear_error (&error);
}

/* R26: an async operation started on a thread with its own context
 * completes there, never inside the call, whichever thread served it */

typedef struct
{
  NurseryChannel *channel;
  GMainContext   *context;
  GThread        *thread;
  gboolean        in_call;
  gboolean        done;
  gboolean        ok;
} ContextCall;

static void
context_received_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      data)
{
  ContextCall *call = data;
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_false (call->in_call);
  g_assert_true (g_thread_self () == call->thread);
  g_assert_true (g_main_context_is_owner (call->context));
  call->ok = nursery_channel_receive_finish (NURSERY_CHANNEL (source), result, &value, NULL);
  g_assert_cmpint (g_value_get_int (&value), ==, 42);
  call->done = TRUE;
}

static gpointer
context_receiver_thread (gpointer data)
{
  ContextCall *call = data;

  call->context = g_main_context_new ();
  call->thread = g_thread_self ();
  g_main_context_push_thread_default (call->context);
  call->in_call = TRUE;
  nursery_channel_receive_async (call->channel, NULL, context_received_cb, call);
  call->in_call = FALSE;
  NT_ITERATE_CONTEXT_UNTIL (call->context, call->done);
  g_main_context_pop_thread_default (call->context);
  g_main_context_unref (call->context);
  return NULL;
}

static void
test_channel_completes_on_callers_context (void)
{
  for (guint round = 0; round < 2; round++)
    {
      g_autoptr(NurseryChannel) channel = nursery_channel_new (1);
      ContextCall call = { channel, NULL, NULL, FALSE, FALSE, FALSE };
      g_auto(GValue) v = G_VALUE_INIT;
      GThread *thread;

      /* Round 0: the item is there first; round 1: the receive may wait. */
      if (round == 0)
        g_assert_true (nursery_channel_try_send (channel, int_value (&v, 42), NULL));
      thread = g_thread_new ("receiver", context_receiver_thread, &call);
      if (round == 1)
        g_assert_true (nursery_channel_send (channel, int_value (&v, 42), NULL, NULL));
      g_thread_join (thread);
      g_assert_true (call.ok);
    }
}

/* A callback that runs a nested loop until another completion of the same
 * channel arrived: completions are not held back behind the running one */

typedef struct
{
  NurseryChannel *channel;
  Op              inner;
  gboolean        outer_done;
} Nested;

static void
nested_outer_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      data)
{
  Nested *nested = data;

  g_assert_true (nursery_channel_send_finish (NURSERY_CHANNEL (source), result, NULL));
  nursery_channel_receive_async (nested->channel, NULL, received_cb, &nested->inner);
  nt_run_until (&nested->inner.done);
  nested->outer_done = TRUE;
}

static void
test_channel_nested_loop_in_callback (void)
{
  g_autoptr(NurseryChannel) channel = nursery_channel_new (1);
  Nested nested = { channel, { 0, }, FALSE };
  g_auto(GValue) v = G_VALUE_INIT;

  nursery_channel_send_async (channel, int_value (&v, 3), NULL, nested_outer_cb, &nested);
  nt_run_until (&nested.outer_done);
  g_assert_true (nested.inner.ok);
  g_assert_cmpint (g_value_get_int (&nested.inner.value), ==, 3);
  op_clear (&nested.inner);
}

/* R26: in one context, completions of a producer and a consumer run
 * many to a main-loop iteration (one source per context drains them), not
 * one iteration (and one GSource) per operation */

typedef struct
{
  NurseryChannel *channel;
  guint           n;
  guint           sent;
  guint           received;
} Batch;

static void batch_produce (Batch *batch);

static void
batch_sent_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  g_assert_true (nursery_channel_send_finish (NURSERY_CHANNEL (source), result, NULL));
  batch_produce (data);
}

static void
batch_produce (Batch *batch)
{
  if (batch->sent < batch->n)
    nursery_channel_send_pointer_async (batch->channel, GUINT_TO_POINTER (++batch->sent), NULL, NULL,
                                        batch_sent_cb, batch);
}

static void
batch_received_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      data)
{
  Batch *batch = data;
  gpointer item = nursery_channel_receive_pointer_finish (NURSERY_CHANNEL (source), result, NULL);

  g_assert_cmpuint (GPOINTER_TO_UINT (item), ==, ++batch->received);
  if (batch->received < batch->n)
    nursery_channel_receive_async (batch->channel, NULL, batch_received_cb, batch);
}

static void
test_channel_completions_batched (void)
{
  g_autoptr(NurseryChannel) channel = nursery_channel_new (16);
  Batch batch = { channel, 20000, 0, 0 };
  guint iterations = 0;
  NtDeadline deadline;

  batch_produce (&batch);
  nursery_channel_receive_async (channel, NULL, batch_received_cb, &batch);
  /* Counts the iterations, so the deadline is spelled out. */
  nt_deadline_begin (&deadline, NULL, "batch.received >= batch.n", __FILE__, __LINE__, G_STRFUNC);
  while (batch.received < batch.n)
    {
      nt_deadline_iterate (&deadline);
      iterations++;
    }
  nt_deadline_end (&deadline);
  g_test_message ("%u items in %u iterations", batch.n, iterations);
  g_assert_cmpuint (iterations, <=, batch.n / 16);
}

/* A result a callback keeps is not reused for later operations: it still
 * gives its own item, and its source object, when finished later */

static void
keep_result_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  g_ptr_array_add (data, g_object_ref (result));
}

static void
test_channel_kept_results (void)
{
  g_autoptr(NurseryChannel) channel = nursery_channel_new (4);
  g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint round = 0; round < 3; round++)
    {
      for (guint i = 0; i < 4; i++)
        g_assert_true (nursery_channel_try_send_pointer (channel, GUINT_TO_POINTER (round * 4 + i + 1),
                                                         NULL, NULL));
      for (guint i = 0; i < 4; i++)
        nursery_channel_receive_async (channel, NULL, keep_result_cb, kept);
      NT_ITERATE_UNTIL (kept->len >= (round + 1) * 4);
    }

  for (guint i = 0; i < kept->len; i++)
    {
      GAsyncResult *result = g_ptr_array_index (kept, i);
      g_autoptr(GObject) source = g_async_result_get_source_object (result);

      g_assert_true (source == G_OBJECT (channel));
      g_assert_cmpuint (GPOINTER_TO_UINT (nursery_channel_receive_pointer_finish (channel, result, NULL)),
                        ==, i + 1);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nursery/streams/R25/next/completion-order", test_next_completion_order);
  g_test_add_func ("/nursery/streams/R25/next/cancelled-takes-nothing", test_next_cancelled_takes_nothing);
  g_test_add_func ("/nursery/streams/R25/next/empty", test_next_empty);
  g_test_add_func ("/nursery/streams/R27/list-tasks", test_list_tasks);
  g_test_add_func ("/nursery/streams/R26/channel/buffered", test_channel_buffered);
  g_test_add_func ("/nursery/streams/R26/channel/rendezvous", test_channel_rendezvous);
  g_test_add_func ("/nursery/streams/R26/channel/fifo-and-close", test_channel_fifo_and_close);
  g_test_add_func ("/nursery/streams/R26/channel/close-refuses-waiting-senders", test_channel_close_refuses_waiting_senders);
  g_test_add_func ("/nursery/streams/R26/channel/pointer-ownership", test_channel_pointer_ownership);
  g_test_add_func ("/nursery/streams/R26/channel/cancelled-receive", test_channel_cancelled_receive);
  g_test_add_func ("/nursery/streams/R26/channel/cancel-races-send", test_channel_cancel_races_send);
  g_test_add_func ("/nursery/streams/R26/channel/completes-inside-cancel-emission",
                   test_channel_completes_inside_cancel_emission);
  g_test_add_func ("/nursery/streams/R26/channel/pipeline-100k", test_channel_pipeline);
  g_test_add_func ("/nursery/streams/R26/channel/thread-producer", test_channel_thread_producer);
  g_test_add_func ("/nursery/streams/R26/channel/randomized", test_channel_randomized);
  g_test_add_func ("/nursery/streams/channel/R26/blocking-pointers-across-threads",
                   test_channel_blocking_pointers_across_threads);
  g_test_add_func ("/nursery/streams/channel/R26/blocking-receive-cancelled-moves-no-item",
                   test_channel_blocking_receive_cancelled);
  g_test_add_func ("/nursery/streams/channel/R26/blocking-send-cancelled-moves-no-item",
                   test_channel_blocking_send_cancelled);
  g_test_add_func ("/nursery/streams/channel/R26/close-wakes-blocked", test_channel_close_wakes_blocked);
  g_test_add_func ("/nursery/streams/channel/R26/completes-on-callers-context",
                   test_channel_completes_on_callers_context);
  g_test_add_func ("/nursery/streams/R26/channel/nested-loop-in-callback", test_channel_nested_loop_in_callback);
  g_test_add_func ("/nursery/streams/channel/R26/completions-batched", test_channel_completions_batched);
  g_test_add_func ("/nursery/streams/R26/channel/kept-results", test_channel_kept_results);

  return g_test_run ();
}
