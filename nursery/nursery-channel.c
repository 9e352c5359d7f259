/* nursery-channel.c: a main-loop-friendly bounded channel between tasks
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A NurseryChannel carries items from producers to consumers: Go's
 * channels, trio's memory channels, libdex's DexChannel, for the GLib
 * main loop (GAsyncQueue blocks threads; this never blocks a context).
 *
 * One lock guards the buffer (at most `capacity` items) and the two FIFO
 * queues of waiting senders (each holding its item) and receivers. At any
 * time at most one of them is non-empty in a way that matters: receivers
 * wait only when no item is available, senders only when the buffer is
 * full. Every item and every waiter moves under the lock, so an item is
 * delivered exactly once or handed back to its sender as an error.
 *
 * A waiter leaves its queue either by being served or by its cancellable;
 * whichever takes the lock first wins, so a cancelled receive never
 * consumes an item. Completions are always delivered from an idle on the
 * caller's thread-default context: never inside the call that caused them,
 * and never on a thread the caller did not choose.
 *
 * Watching a waiter's cancellable: the handler is connected after the
 * lock is dropped (a cancellable that fires meanwhile runs it inside
 * g_cancellable_connect(), which then must not find the lock taken), and
 * the connection holds its own reference on the waiter. Whoever sees the
 * waiter leave its queue *and* holds the handler id (taken under the
 * lock) disconnects it, exactly once, with g_signal_handler_disconnect():
 * unlike g_cancellable_disconnect() it never waits for a running handler,
 * so it is safe inside the cancellable's own emission. Disconnecting also
 * breaks the cancellable → handler → waiter → cancellable cycle.
 */

#include "config.h"

#include "nursery-channel.h"
#include "nursery-error.h"
#include "nursery-pool-private.h"

typedef struct
{
  GValue         value;
  GDestroyNotify destroy;   /* for pointer items; not called once delivered */
} Item;

typedef struct
{
  gatomicrefcount  ref_count;
  GTask           *task;
  Item            *item;          /* a sender's item while it waits */
  GCancellable    *cancellable;
  gulong           handler_id;
  GList            link;          /* in senders or receivers (lock) */
  GQueue          *queue;         /* which one, NULL once it left (lock) */
} Waiter;

struct _NurseryChannel
{
  GObject   parent_instance;

  GMutex    lock;
  guint     capacity;
  GQueue    buffer;      /* Item */
  GQueue    senders;     /* Waiter, oldest first */
  GQueue    receivers;   /* Waiter, oldest first */
  gboolean  closed;
};

enum {
  PROP_0,
  PROP_CAPACITY,
  PROP_N_ITEMS,
  PROP_CLOSED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/**
 * NurseryChannel:
 *
 * A bounded first-in, first-out channel that carries values from producer
 * tasks to consumer tasks without blocking a main context.
 *
 * A channel buffers up to [property@Nursery.Channel:capacity] items; with
 * a capacity of 0 every send waits for a receiver. Senders and receivers
 * are served in the order they came.
 * [method@Nursery.Channel.send_async] and
 * [method@Nursery.Channel.receive_async] complete on the caller's
 * thread-default context, never inside the call; the blocking
 * [method@Nursery.Channel.send] and [method@Nursery.Channel.receive] are
 * for thread children; the `try_` forms never wait.
 *
 * [method@Nursery.Channel.close] ends the stream: senders then fail with
 * %NURSERY_ERROR_CLOSED, and receivers get the buffered items, then
 * %NURSERY_ERROR_CLOSED. Every item is delivered exactly once, or handed
 * back to its sender as an error.
 *
 * Since: 1.0
 */
G_DEFINE_FINAL_TYPE (NurseryChannel, nursery_channel, G_TYPE_OBJECT)

/* Items */

static Item *
item_new_value (const GValue *value)
{
  Item *item = g_new0 (Item, 1);

  g_value_init (&item->value, G_VALUE_TYPE (value));
  g_value_copy (value, &item->value);
  return item;
}

static Item *
item_new_pointer (gpointer       pointer,
                  GDestroyNotify destroy)
{
  Item *item = g_new0 (Item, 1);

  g_value_init (&item->value, G_TYPE_POINTER);
  g_value_set_pointer (&item->value, pointer);
  item->destroy = destroy;
  return item;
}

/* Frees an item nobody received (closed, cancelled, finalized). */
static void
item_free (Item *item)
{
  if (item->destroy != NULL)
    item->destroy (g_value_get_pointer (&item->value));
  g_value_unset (&item->value);
  g_free (item);
}

/* Where no item is received, @out still gets a value (a NULL pointer):
 * GJS 1.74 converts caller-allocated out values even when the call
 * failed, and cannot convert an unset GValue. */
static void
set_no_value (GValue *out)
{
  if (out != NULL)
    g_value_init (out, G_TYPE_POINTER);
}

static void
item_take_value (Item   *item,
                 GValue *out)
{
  if (out != NULL)
    {
      g_value_init (out, G_VALUE_TYPE (&item->value));
      g_value_copy (&item->value, out);
    }
  item->destroy = NULL;
  item_free (item);
}

/* Hands @item (or, without one, a NULL pointer value) to @out. */
static gboolean
deliver_value (Item   *item,
               GValue *out)
{
  if (item == NULL)
    {
      set_no_value (out);
      return FALSE;
    }
  item_take_value (item, out);
  return TRUE;
}

/* The receiver owns a pointer item from now on; an object item comes as a
 * new reference. */
static gpointer
item_take_pointer (Item *item)
{
  gpointer pointer = NULL;

  if (G_VALUE_HOLDS_POINTER (&item->value))
    pointer = g_value_get_pointer (&item->value);
  else if (G_VALUE_HOLDS_OBJECT (&item->value))
    pointer = g_value_dup_object (&item->value);
  item->destroy = NULL;
  item_free (item);
  return pointer;
}

/* Waiters */

static Waiter *
waiter_new (NurseryChannel *self,
            gpointer        source_tag,
            Item           *item,
            GAsyncReadyCallback callback,
            gpointer        user_data)
{
  Waiter *waiter = g_new0 (Waiter, 1);

  g_atomic_ref_count_init (&waiter->ref_count);
  waiter->task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (waiter->task, source_tag);
  waiter->item = item;
  waiter->link.data = waiter;
  return waiter;
}

static void
waiter_unref (gpointer data)
{
  Waiter *waiter = data;

  if (!g_atomic_ref_count_dec (&waiter->ref_count))
    return;
  g_assert (waiter->item == NULL);
  g_clear_object (&waiter->task);
  g_clear_object (&waiter->cancellable);
  g_free (waiter);
}

typedef struct
{
  GTask  *task;
  Item   *item;
  GError *error;
} Completion;

static gboolean
complete_cb (gpointer data)
{
  Completion *completion = data;

  if (completion->error != NULL)
    g_task_return_error (completion->task, completion->error);
  else if (completion->item != NULL)
    g_task_return_pointer (completion->task, completion->item, (GDestroyNotify) item_free);
  else
    g_task_return_boolean (completion->task, TRUE);
  g_object_unref (completion->task);
  g_free (completion);
  return G_SOURCE_REMOVE;
}

/* Completes @task from an idle on its context: later, and where its
 * caller runs. Takes @item and @error. */
static void
complete_later (GTask  *task,
                Item   *item,
                GError *error)
{
  Completion *completion = g_new0 (Completion, 1);
  GSource *idle = g_idle_source_new ();

  completion->task = g_object_ref (task);
  completion->item = item;
  completion->error = error;
  g_source_set_callback (idle, complete_cb, completion, NULL);
  g_source_set_static_name (idle, "NurseryChannel completion");
  g_source_attach (idle, g_task_get_context (task));
  g_source_unref (idle);
}

/* After the lock is dropped: the waiter has left its queue, and
 * @handler_id is the connection to end, if any (see the top comment). */
static void
waiter_finish (Waiter *waiter,
               gulong  handler_id,
               Item   *received,
               GError *error)
{
  if (handler_id != 0)
    g_signal_handler_disconnect (waiter->cancellable, handler_id);
  if (waiter->item != NULL)
    item_free (g_steal_pointer (&waiter->item));
  complete_later (waiter->task, received, error);
  waiter_unref (waiter);
}

/* Served waiters, finished once the lock is dropped. */
typedef struct
{
  Waiter *waiter;
  gulong  handler_id;
  Item   *received;
  GError *error;
} Served;

/* Takes @waiter out of its queue, with the lock held. */
static gulong
leave_queue_locked (Waiter *waiter)
{
  gulong handler_id = waiter->handler_id;

  g_queue_unlink (waiter->queue, &waiter->link);
  waiter->queue = NULL;
  waiter->handler_id = 0;
  return handler_id;
}

static void
serve_locked (GArray *served,
              Waiter *waiter,
              Item   *received,
              GError *error)
{
  Served s = { waiter, 0, received, error };

  s.handler_id = leave_queue_locked (waiter);
  g_array_append_val (served, s);
}

static void
finish_served (GArray *served)
{
  for (guint i = 0; i < served->len; i++)
    {
      Served *s = &g_array_index (served, Served, i);

      waiter_finish (s->waiter, s->handler_id, s->received, s->error);
    }
  g_array_unref (served);
}

static GError *
closed_error (void)
{
  return g_error_new_literal (NURSERY_ERROR, NURSERY_ERROR_CLOSED, "The channel is closed");
}

/* The core moves, with the lock held */

/* Returns TRUE if @item was taken (delivered or buffered). */
static gboolean
offer_locked (NurseryChannel *self,
              Item           *item,
              GArray         *served)
{
  Waiter *receiver = g_queue_peek_head (&self->receivers);

  if (receiver != NULL)
    {
      serve_locked (served, receiver, item, NULL);
      return TRUE;
    }
  if (self->buffer.length < self->capacity)
    {
      g_queue_push_tail (&self->buffer, item);
      return TRUE;
    }
  return FALSE;
}

/* Returns the next item, or NULL if none is available. */
static Item *
take_locked (NurseryChannel *self,
             GArray         *served)
{
  Waiter *sender = g_queue_peek_head (&self->senders);
  Item *item = g_queue_pop_head (&self->buffer);

  if (sender == NULL)
    return item;

  /* The oldest waiting sender moves up: into the buffer, or straight to
   * this receiver when there is no buffer (rendezvous). */
  if (item != NULL)
    g_queue_push_tail (&self->buffer, g_steal_pointer (&sender->item));
  else
    item = g_steal_pointer (&sender->item);
  serve_locked (served, sender, NULL, NULL);
  return item;
}

static void
waiter_cancelled_cb (GCancellable *cancellable,
                     gpointer      data)
{
  Waiter *waiter = data;
  NurseryChannel *self = g_task_get_source_object (waiter->task);
  gboolean was_waiting;
  gulong handler_id = 0;

  /* Any thread. If it was already served, the cancel came too late. */
  g_mutex_lock (&self->lock);
  was_waiting = waiter->queue != NULL;
  if (was_waiting)
    handler_id = leave_queue_locked (waiter);
  g_mutex_unlock (&self->lock);

  if (was_waiting)
    waiter_finish (waiter, handler_id, NULL,
                   g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "The channel operation was cancelled"));
}

/* Queues @waiter, drops the lock (taken by the caller), then watches its
 * cancellable; see the top comment. Returns with nothing held. */
static void
wait_in (NurseryChannel *self,
         Waiter         *waiter,
         GQueue         *queue,
         GCancellable   *cancellable)
{
  gulong handler_id;

  g_queue_push_tail_link (queue, &waiter->link);
  waiter->queue = queue;
  if (cancellable == NULL)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  waiter->cancellable = g_object_ref (cancellable);
  /* The connection's own reference, dropped when it ends. */
  g_atomic_ref_count_inc (&waiter->ref_count);
  g_mutex_unlock (&self->lock);

  handler_id = g_cancellable_connect (cancellable, G_CALLBACK (waiter_cancelled_cb),
                                      waiter, waiter_unref);
  /* 0: it was already cancelled; the handler ran and the connection's
   * reference is gone, so the waiter may be too. */
  if (handler_id == 0)
    return;
  g_mutex_lock (&self->lock);
  if (waiter->queue != NULL)
    {
      waiter->handler_id = handler_id;
      handler_id = 0;
    }
  g_mutex_unlock (&self->lock);

  /* Served or cancelled meanwhile: nobody else can end the connection. */
  if (handler_id != 0)
    g_signal_handler_disconnect (cancellable, handler_id);
}

/* GObject */

static void
nursery_channel_finalize (GObject *object)
{
  NurseryChannel *self = NURSERY_CHANNEL (object);

  /* Waiters hold the channel (their GTask's source object). */
  g_assert (self->senders.length == 0 && self->receivers.length == 0);
  g_queue_clear_full (&self->buffer, (GDestroyNotify) item_free);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (nursery_channel_parent_class)->finalize (object);
}

static void
nursery_channel_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  NurseryChannel *self = NURSERY_CHANNEL (object);

  switch (prop_id)
    {
    case PROP_CAPACITY:
      g_value_set_uint (value, self->capacity);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, nursery_channel_get_n_items (self));
      break;
    case PROP_CLOSED:
      g_value_set_boolean (value, nursery_channel_is_closed (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nursery_channel_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  NurseryChannel *self = NURSERY_CHANNEL (object);

  switch (prop_id)
    {
    case PROP_CAPACITY:
      self->capacity = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nursery_channel_class_init (NurseryChannelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = nursery_channel_finalize;
  object_class->get_property = nursery_channel_get_property;
  object_class->set_property = nursery_channel_set_property;

  /**
   * NurseryChannel:capacity:
   *
   * How many items the channel buffers; 0 makes every send wait for a
   * receiver (a rendezvous).
   *
   * Since: 1.0
   */
  properties[PROP_CAPACITY] =
    g_param_spec_uint ("capacity", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * NurseryChannel:n-items:
   *
   * How many items are buffered right now. Not notified.
   *
   * Since: 1.0
   */
  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * NurseryChannel:closed:
   *
   * Whether [method@Nursery.Channel.close] was called. Not notified.
   *
   * Since: 1.0
   */
  properties[PROP_CLOSED] =
    g_param_spec_boolean ("closed", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
nursery_channel_init (NurseryChannel *self)
{
  g_mutex_init (&self->lock);
}

/**
 * nursery_channel_new:
 * @capacity: how many items to buffer; 0 for a rendezvous channel
 *
 * Creates an open channel.
 *
 * Returns: (transfer full): a new channel
 *
 * Since: 1.0
 */
NurseryChannel *
nursery_channel_new (guint capacity)
{
  return g_object_new (NURSERY_TYPE_CHANNEL, "capacity", capacity, NULL);
}

/**
 * nursery_channel_get_capacity:
 * @self: a channel
 *
 * The channel's capacity.
 *
 * Returns: how many items it buffers
 *
 * Since: 1.0
 */
guint
nursery_channel_get_capacity (NurseryChannel *self)
{
  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), 0);

  return self->capacity;
}

/**
 * nursery_channel_get_n_items:
 * @self: a channel
 *
 * How many items are buffered right now. Thread-safe.
 *
 * Returns: the number of buffered items
 *
 * Since: 1.0
 */
guint
nursery_channel_get_n_items (NurseryChannel *self)
{
  guint n;

  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), 0);

  g_mutex_lock (&self->lock);
  n = self->buffer.length;
  g_mutex_unlock (&self->lock);
  return n;
}

/**
 * nursery_channel_is_closed:
 * @self: a channel
 *
 * Whether the channel was closed. Thread-safe.
 *
 * Returns: %TRUE once closed
 *
 * Since: 1.0
 */
gboolean
nursery_channel_is_closed (NurseryChannel *self)
{
  gboolean closed;

  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), FALSE);

  g_mutex_lock (&self->lock);
  closed = self->closed;
  g_mutex_unlock (&self->lock);
  return closed;
}

/**
 * nursery_channel_close:
 * @self: a channel
 *
 * Closes the channel: waiting and later senders fail at once with
 * %NURSERY_ERROR_CLOSED (their items are not delivered); receivers first
 * drain the buffered items, in order, then fail with %NURSERY_ERROR_CLOSED.
 * Idempotent and thread-safe.
 *
 * Since: 1.0
 */
void
nursery_channel_close (NurseryChannel *self)
{
  GArray *served;
  Waiter *waiter;

  g_return_if_fail (NURSERY_IS_CHANNEL (self));

  served = g_array_new (FALSE, FALSE, sizeof (Served));
  g_mutex_lock (&self->lock);
  if (!self->closed)
    {
      self->closed = TRUE;
      while ((waiter = g_queue_peek_head (&self->senders)) != NULL)
        serve_locked (served, waiter, NULL, closed_error ());
      /* Receivers wait only when nothing is buffered. */
      while ((waiter = g_queue_peek_head (&self->receivers)) != NULL)
        serve_locked (served, waiter, NULL, closed_error ());
    }
  g_mutex_unlock (&self->lock);
  finish_served (served);
}

/* Sending */

static void
send_item_async (NurseryChannel      *self,
                 Item                *item,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  Waiter *waiter = waiter_new (self, nursery_channel_send_async, NULL, callback, user_data);
  GArray *served = g_array_new (FALSE, FALSE, sizeof (Served));
  GError *error = NULL;

  g_mutex_lock (&self->lock);
  if (self->closed)
    error = closed_error ();
  /* Asked once: another thread may cancel at any moment, and an item that
   * was offered successfully belongs to its receiver from then on. */
  else if (g_cancellable_is_cancelled (cancellable))
    error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "The channel operation was cancelled");
  else if (!offer_locked (self, item, served))
    {
      waiter->item = item;
      wait_in (self, waiter, &self->senders, cancellable);
      finish_served (served);
      return;
    }
  g_mutex_unlock (&self->lock);

  finish_served (served);
  /* Not taken: the sender hears why, and the item is dropped. */
  if (error != NULL)
    item_free (item);
  complete_later (waiter->task, NULL, error);
  waiter_unref (waiter);
}

/**
 * nursery_channel_send_async:
 * @self: a channel
 * @value: the item, copied
 * @cancellable: (nullable): cancelling it withdraws the item if it is
 *   still waiting for room
 * @callback: (scope async): called once the item was delivered or
 *   buffered, or refused
 * @user_data: (closure): data for @callback
 *
 * Sends an item: it goes to the oldest waiting receiver, or into the
 * buffer, or waits (in FIFO order with the other senders) until there is
 * room. The callback runs from the caller's thread-default context, never
 * inside this call. May be called from any thread.
 *
 * Since: 1.0
 */
void
nursery_channel_send_async (NurseryChannel      *self,
                            const GValue        *value,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (NURSERY_IS_CHANNEL (self));
  g_return_if_fail (G_IS_VALUE (value));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  send_item_async (self, item_new_value (value), cancellable, callback, user_data);
}

static gboolean
pointer_send_args_valid (NurseryChannel *self,
                         GCancellable   *cancellable)
{
  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  return TRUE;
}

/**
 * nursery_channel_send_pointer_async: (skip)
 * @self: a channel
 * @item: (nullable): the item; the receiver owns it once delivered
 * @item_destroy: (nullable): frees @item if it is never delivered
 * @cancellable: (nullable): cancelling it withdraws the item if it still waits
 * @callback: called once the item was delivered or buffered, or refused
 * @user_data: data for @callback
 *
 * Sends a pointer item; see [method@Nursery.Channel.send_async]. Finish
 * with [method@Nursery.Channel.send_finish].
 *
 * Since: 1.0
 */
void
nursery_channel_send_pointer_async (NurseryChannel      *self,
                                    gpointer             item,
                                    GDestroyNotify       item_destroy,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  if (!pointer_send_args_valid (self, cancellable))
    {
      /* R24: refused, but the item is not leaked. */
      if (item_destroy != NULL)
        item_destroy (item);
      return;
    }

  send_item_async (self, item_new_pointer (item, item_destroy), cancellable, callback, user_data);
}

/**
 * nursery_channel_send_finish:
 * @self: a channel
 * @result: the result given to the callback
 * @error: return location for %NURSERY_ERROR_CLOSED or `G_IO_ERROR_CANCELLED`
 *
 * Finishes a send.
 *
 * Returns: %TRUE if the item was delivered or buffered; %FALSE if it was
 *   not, and never will be
 *
 * Since: 1.0
 */
gboolean
nursery_channel_send_finish (NurseryChannel  *self,
                             GAsyncResult    *result,
                             GError         **error)
{
  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == nursery_channel_send_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
try_send_item (NurseryChannel  *self,
               Item            *item,
               GError         **error)
{
  GArray *served = g_array_new (FALSE, FALSE, sizeof (Served));
  gboolean taken = FALSE;
  gboolean closed;

  g_mutex_lock (&self->lock);
  closed = self->closed;
  if (!closed)
    taken = offer_locked (self, item, served);
  g_mutex_unlock (&self->lock);
  finish_served (served);

  if (taken)
    return TRUE;
  item_free (item);
  if (closed)
    g_propagate_error (error, closed_error ());
  else
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "The channel is full");
  return FALSE;
}

/**
 * nursery_channel_try_send:
 * @self: a channel
 * @value: the item, copied
 * @error: return location for `G_IO_ERROR_WOULD_BLOCK` or %NURSERY_ERROR_CLOSED
 *
 * Sends an item if that is possible without waiting. Thread-safe.
 *
 * Returns: %TRUE if the item was delivered or buffered
 *
 * Since: 1.0
 */
gboolean
nursery_channel_try_send (NurseryChannel  *self,
                          const GValue    *value,
                          GError         **error)
{
  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), FALSE);
  g_return_val_if_fail (G_IS_VALUE (value), FALSE);

  return try_send_item (self, item_new_value (value), error);
}

/**
 * nursery_channel_try_send_pointer: (skip)
 * @self: a channel
 * @item: (nullable): the item; the receiver owns it once delivered
 * @item_destroy: (nullable): frees @item if it is not taken
 * @error: return location for `G_IO_ERROR_WOULD_BLOCK` or %NURSERY_ERROR_CLOSED
 *
 * Sends a pointer item if that is possible without waiting; otherwise
 * @item is freed with @item_destroy.
 *
 * Returns: %TRUE if the item was delivered or buffered
 *
 * Since: 1.0
 */
gboolean
nursery_channel_try_send_pointer (NurseryChannel  *self,
                                  gpointer         item,
                                  GDestroyNotify   item_destroy,
                                  GError         **error)
{
  if (!pointer_send_args_valid (self, NULL))
    {
      /* R24: refused, but the item is not leaked. */
      if (item_destroy != NULL)
        item_destroy (item);
      return FALSE;
    }

  return try_send_item (self, item_new_pointer (item, item_destroy), error);
}

/* Receiving */

/**
 * nursery_channel_receive_async:
 * @self: a channel
 * @cancellable: (nullable): cancelling it gives up; no item is consumed
 * @callback: (scope async): called once an item arrived, or the channel is
 *   closed and drained
 * @user_data: (closure): data for @callback
 *
 * Receives the next item, in FIFO order with the other receivers. The
 * callback runs from the caller's thread-default context, never inside
 * this call.
 *
 * Since: 1.0
 */
void
nursery_channel_receive_async (NurseryChannel      *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  Waiter *waiter;
  GArray *served;
  GError *error = NULL;
  Item *item = NULL;

  g_return_if_fail (NURSERY_IS_CHANNEL (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  waiter = waiter_new (self, nursery_channel_receive_async, NULL, callback, user_data);
  served = g_array_new (FALSE, FALSE, sizeof (Served));

  g_mutex_lock (&self->lock);
  if (g_cancellable_is_cancelled (cancellable))
    error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "The channel operation was cancelled");
  else if ((item = take_locked (self, served)) == NULL)
    {
      if (!self->closed)
        {
          wait_in (self, waiter, &self->receivers, cancellable);
          finish_served (served);
          return;
        }
      error = closed_error ();
    }
  g_mutex_unlock (&self->lock);

  finish_served (served);
  complete_later (waiter->task, item, error);
  waiter_unref (waiter);
}

/**
 * nursery_channel_receive_finish:
 * @self: a channel
 * @result: the result given to the callback
 * @value: (out caller-allocates) (optional): an unset GValue that
 *   receives the item (a %NULL pointer value if none was received)
 * @error: return location for %NURSERY_ERROR_CLOSED or `G_IO_ERROR_CANCELLED`
 *
 * Finishes a receive. A pointer item sent with
 * [method@Nursery.Channel.send_pointer_async] arrives as a pointer value
 * that now belongs to the caller (its destroy notify is not called).
 *
 * Returns: %TRUE if an item was received
 *
 * Since: 1.0
 */
gboolean
nursery_channel_receive_finish (NurseryChannel  *self,
                                GAsyncResult    *result,
                                GValue          *value,
                                GError         **error)
{
  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == nursery_channel_receive_async, FALSE);

  return deliver_value (g_task_propagate_pointer (G_TASK (result), error), value);
}

/**
 * nursery_channel_receive_pointer_finish: (skip)
 * @self: a channel
 * @result: the result given to the callback
 * @error: return location for %NURSERY_ERROR_CLOSED or `G_IO_ERROR_CANCELLED`
 *
 * Finishes a receive of a pointer item (or an object item, as a new
 * reference). The caller owns the item.
 *
 * Returns: (transfer full) (nullable): the item; %NULL with @error set
 *   if none was received
 *
 * Since: 1.0
 */
gpointer
nursery_channel_receive_pointer_finish (NurseryChannel  *self,
                                        GAsyncResult    *result,
                                        GError         **error)
{
  Item *item;

  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == nursery_channel_receive_async, NULL);

  item = g_task_propagate_pointer (G_TASK (result), error);
  return item != NULL ? item_take_pointer (item) : NULL;
}

static Item *
try_take (NurseryChannel  *self,
          GError         **error)
{
  GArray *served = g_array_new (FALSE, FALSE, sizeof (Served));
  gboolean closed;
  Item *item;

  g_mutex_lock (&self->lock);
  item = take_locked (self, served);
  closed = self->closed;
  g_mutex_unlock (&self->lock);
  finish_served (served);

  if (item == NULL && closed)
    g_propagate_error (error, closed_error ());
  else if (item == NULL)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "The channel is empty");
  return item;
}

/**
 * nursery_channel_try_receive:
 * @self: a channel
 * @value: (out caller-allocates) (optional): an unset GValue that
 *   receives the item (a %NULL pointer value if none was received)
 * @error: return location for `G_IO_ERROR_WOULD_BLOCK` or %NURSERY_ERROR_CLOSED
 *
 * Receives an item if one is available without waiting. Thread-safe.
 *
 * Returns: %TRUE if an item was received
 *
 * Since: 1.0
 */
gboolean
nursery_channel_try_receive (NurseryChannel  *self,
                             GValue          *value,
                             GError         **error)
{
  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), FALSE);

  return deliver_value (try_take (self, error), value);
}

/**
 * nursery_channel_try_receive_pointer: (skip)
 * @self: a channel
 * @error: return location for `G_IO_ERROR_WOULD_BLOCK` or %NURSERY_ERROR_CLOSED
 *
 * Receives a pointer item if one is available without waiting.
 *
 * Returns: (transfer full) (nullable): the item, owned by the caller
 *
 * Since: 1.0
 */
gpointer
nursery_channel_try_receive_pointer (NurseryChannel  *self,
                                     GError         **error)
{
  Item *item;

  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), NULL);

  item = try_take (self, error);
  return item != NULL ? item_take_pointer (item) : NULL;
}

/* Blocking forms, for thread children */

static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Runs an async call on a private context until it completes: a thread
 * child has no main loop of its own. */
static GAsyncResult *
run_private (NurseryChannel *self,
             const GValue   *send_value,
             GCancellable   *cancellable)
{
  GMainContext *context = g_main_context_new ();
  GAsyncResult *result = NULL;

  g_main_context_push_thread_default (context);
  if (send_value != NULL)
    nursery_channel_send_async (self, send_value, cancellable, store_result_cb, &result);
  else
    nursery_channel_receive_async (self, cancellable, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return result;
}

/**
 * nursery_channel_send:
 * @self: a channel
 * @value: the item, copied
 * @cancellable: (nullable): cancelling it withdraws the item if it still waits
 * @error: return location for %NURSERY_ERROR_CLOSED or `G_IO_ERROR_CANCELLED`
 *
 * Sends an item, blocking the calling thread until it is taken: for
 * thread children. Never call it on a thread that runs the receivers'
 * main context: it would wait for itself.
 *
 * Returns: %TRUE if the item was delivered or buffered
 *
 * Since: 1.0
 */
gboolean
nursery_channel_send (NurseryChannel  *self,
                      const GValue    *value,
                      GCancellable    *cancellable,
                      GError         **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), FALSE);
  g_return_val_if_fail (G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);

  _nursery_pool_blocking_begin ();
  result = run_private (self, value, cancellable);
  _nursery_pool_blocking_end ();
  return nursery_channel_send_finish (self, result, error);
}

/**
 * nursery_channel_receive:
 * @self: a channel
 * @value: (out caller-allocates) (optional): an unset GValue that
 *   receives the item (a %NULL pointer value if none was received)
 * @cancellable: (nullable): cancelling it gives up; no item is consumed
 * @error: return location for %NURSERY_ERROR_CLOSED or `G_IO_ERROR_CANCELLED`
 *
 * Receives an item, blocking the calling thread until one arrives: for
 * thread children. Never call it on a thread that runs the senders'
 * main context. A thread blocked here holds a thread of the shared GTask
 * pool, which also serves GIO's async file operations: keep the number
 * of such workers below the pool's ten threads. As with
 * [method@Nursery.Channel.receive_finish], a pointer item received here
 * belongs to the caller.
 *
 * Returns: %TRUE if an item was received
 *
 * Since: 1.0
 */
gboolean
nursery_channel_receive (NurseryChannel  *self,
                         GValue          *value,
                         GCancellable    *cancellable,
                         GError         **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);

  _nursery_pool_blocking_begin ();
  result = run_private (self, NULL, cancellable);
  _nursery_pool_blocking_end ();
  return nursery_channel_receive_finish (self, result, value, error);
}
