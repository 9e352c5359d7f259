/* nursery-channel.c: a main-loop-friendly bounded channel between tasks
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A NurseryChannel carries items from producers to consumers: Go's
 * channels, trio's memory channels, libdex's DexChannel, for the GLib
 * main loop (GAsyncQueue blocks threads; this never blocks a context).
 *
 * One lock guards the buffer (a ring of at most `capacity` items) and the
 * two FIFO queues of waiting senders (each holding its item) and
 * receivers. At any time at most one of them is non-empty in a way that
 * matters: receivers wait only when no item is available, senders only
 * when the buffer is full. Every item and every waiter moves under the
 * lock, so an item is delivered exactly once or handed back to its sender
 * as an error.
 *
 * Two kinds of waiter sit in those queues. An async operation is an Op:
 * a small GAsyncResult that is the waiter, the completion and the result
 * at once, so an operation that needs no wait allocates nothing else. A
 * blocking call (a thread child) waits on the stack, on its own GCond
 * paired with the channel lock: no GMainContext per call (R26).
 *
 * Completions (R26, and the GAsyncReadyCallback contract): an Op is never
 * completed inside the call that caused it, and always on the context
 * that was thread-default when it was started. Each channel keeps one
 * Dispatcher source per such context, holding a FIFO of finished Ops; a
 * dispatch runs their callbacks, including the ones those callbacks
 * finish in turn, up to a budget, so a producer and a consumer in one
 * context move many items per main-loop iteration without one GSource
 * per operation.
 *
 * What keeps an item cheap: items are held by value (in the buffer ring,
 * in waiters, on callers' stacks), so moving one allocates nothing; an Op
 * nobody kept after its callback becomes a spare for the next one; and
 * all Ops in flight share one reference on the channel. Waiting senders
 * are let into the buffer once it has drained to half its capacity, so a
 * producer thread blocked on a full channel is woken once per half buffer
 * rather than once per item; a sender never overtakes a waiting one.
 *
 * A waiter leaves its queue either by being served or by its cancellable;
 * whichever takes the lock first wins, so a cancelled operation never
 * moves an item.
 *
 * Watching a waiter's cancellable is a NurseryCancelLink
 * (nursery-cancel-link-private.h). An Op's is an owned link: the handler
 * is connected after the lock is dropped (a cancellable that fires
 * meanwhile runs it inside the connect, which then must not find the lock
 * taken), and the connection holds its own reference on the Op. The link
 * adopts the handler id under the lock, only if the Op still waits;
 * otherwise the connecting thread ends the connection itself. An adopted
 * one is ended, exactly once, when the Op completes, after it left its
 * queue: without waiting for a running handler, so it is safe inside the
 * cancellable's own emission. Ending it also breaks the cancellable →
 * handler → Op → cancellable cycle. A blocking waiter's is a waiting
 * link: its own thread clears it once woken, which waits for a handler
 * still running on the cancelling thread before the waiter's stack frame
 * goes.
 */

#include "config.h"

#include "nursery-cancel-link-private.h"
#include "nursery-channel.h"
#include "nursery-debug-private.h"
#include "nursery-error.h"
#include "nursery-pool-private.h"
#include "nursery-refuse-private.h"
#include "nursery-tsan-private.h"

/* How many completions one dispatch runs before it lets the main loop
 * serve other sources: enough to amortize an iteration, small enough that
 * a producer and a consumer feeding each other never starve the rest. */
#define DISPATCH_BUDGET 256

/* Spare Ops a channel keeps for reuse (see op_release()). */
#define MAX_SPARE_OPS 64

/* An item, held by value wherever it is (the buffer, a waiter, a
 * caller's stack): moving one allocates nothing. A pointer item bypasses
 * GValue, whose type checks cost more than the rest of a move. */
typedef enum
{
  ITEM_NONE,
  ITEM_VALUE,
  ITEM_POINTER,
} ItemKind;

typedef struct
{
  ItemKind       kind;
  GValue         value;     /* ITEM_VALUE */
  gpointer       pointer;   /* ITEM_POINTER */
  GDestroyNotify destroy;   /* ITEM_POINTER; not called once delivered */
} Item;

#define ITEM_INIT { ITEM_NONE, G_VALUE_INIT, NULL, NULL }

typedef struct _Dispatcher Dispatcher;

/* A sender or receiver in a queue. */
typedef struct
{
  GList    link;      /* first: in senders or receivers, then in a Dispatcher
                       * (lock); its data is the Op, or the Waiter itself */
  GQueue  *queue;     /* which waiter queue, NULL once it left (lock) */
  Item     item;      /* a sender's item while it waits; a receiver's once served */
  GError  *error;     /* once served: why nothing moved */
  GCond   *cond;      /* a blocking waiter's; NULL for an Op */
} Waiter;

#define NURSERY_TYPE_CHANNEL_OP (nursery_channel_op_get_type ())
G_DECLARE_FINAL_TYPE (NurseryChannelOp, nursery_channel_op, NURSERY, CHANNEL_OP, GObject)

/* An async send or receive: its waiter, completion and GAsyncResult. */
struct _NurseryChannelOp
{
  GObject              parent_instance;

  Waiter               waiter;
  NurseryChannel      *channel;       /* owned through n_ops, or owns_channel */
  gboolean             owns_channel;  /* outlived its completion */
  Dispatcher          *dispatcher;    /* where it completes */
  gboolean             owns_dispatcher; /* and its context: taken to wait */
  gpointer             source_tag;
  GAsyncReadyCallback  callback;
  gpointer             user_data;
  NurseryCancelLink    cancel_link;   /* owned; its handler id adopted
                                       * while it waits (lock) */
};

struct _NurseryChannel
{
  GObject   parent_instance;

  GMutex    lock;
  guint     capacity;
  Item     *ring;        /* the buffer: `n_items` from `head`, wrapping */
  guint     ring_size;   /* grown on demand, up to `capacity` */
  guint     head;
  guint     n_items;
  GQueue    senders;     /* Waiter, oldest first */
  GQueue    receivers;   /* Waiter, oldest first */
  GSList   *dispatchers; /* one per context that started an Op */
  GQueue    spare_ops;   /* NurseryChannelOp, released, for reuse */
  int       n_ops;       /* atomic: Ops started, not yet released; while
                          * there are any, the channel owns itself */
  gboolean  closed;
};

/* The channel's lock, with a short spin first. A thread child and its
 * owner context trade items through it on two cores at once: when one
 * finds it taken, the other is done within a few hundred cycles, and
 * waiting in the kernel instead marks the lock contended, so that every
 * unlock after that costs a futex wake (R26). A spin that fails falls
 * back to sleeping, as a plain lock does. */
#define LOCK_SPINS 64

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#elif defined(__aarch64__)
  __asm__ __volatile__ ("yield");
#endif
}

static void
channel_lock (NurseryChannel *self)
{
  for (guint i = 0; i < LOCK_SPINS; i++)
    {
      if (g_mutex_trylock (&self->lock))
        return;
      cpu_relax ();
    }
  g_mutex_lock (&self->lock);
}

/* One per channel and context: runs finished Ops' callbacks there. */
struct _Dispatcher
{
  GSource         source;
  NurseryChannel *channel;   /* not owned: alive while an Op is queued */
  GMainContext   *context;   /* not owned: compared only */
  GQueue          ready;     /* NurseryChannelOp (channel lock) */
  int             n_ready;   /* atomic copy of ready.length, for prepare */
  int             dispatching; /* atomic: dispatches running (they nest) */
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
 * [method@Nursery.Channel.send] and [method@Nursery.Channel.receive] (and
 * their pointer forms) are for thread children; the `try_` forms never
 * wait.
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

static inline gboolean
item_present (const Item *item)
{
  return item != NULL && item->kind != ITEM_NONE;
}

/* Moves @from into @to, which must be empty; @from is empty after. */
static inline void
item_move (Item *to,
           Item *from)
{
  *to = *from;
  *from = (Item) ITEM_INIT;
}

static void
item_init_value (Item         *item,
                 const GValue *value)
{
  item->kind = ITEM_VALUE;
  g_value_init (&item->value, G_VALUE_TYPE (value));
  g_value_copy (value, &item->value);
}

static void
item_init_pointer (Item           *item,
                   gpointer        pointer,
                   GDestroyNotify  destroy)
{
  item->kind = ITEM_POINTER;
  item->pointer = pointer;
  item->destroy = destroy;
}

/* Drops an item nobody received (closed, cancelled, finalized), if any. */
static void
item_clear (Item *item)
{
  if (item->kind == ITEM_POINTER && item->destroy != NULL)
    item->destroy (item->pointer);
  else if (item->kind == ITEM_VALUE)
    g_value_unset (&item->value);
  *item = (Item) ITEM_INIT;
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

/* Hands @item to @out (a value item's GValue moves, no copy; a pointer
 * item arrives as a pointer value, now the receiver's), or without an
 * item a NULL pointer value. */
static gboolean
deliver_value (Item   *item,
               GValue *out)
{
  if (!item_present (item))
    {
      set_no_value (out);
      return FALSE;
    }
  if (out != NULL && item->kind == ITEM_POINTER)
    {
      g_value_init (out, G_TYPE_POINTER);
      g_value_set_pointer (out, item->pointer);
    }
  else if (out != NULL)
    {
      *out = item->value;
      item->value = (GValue) G_VALUE_INIT;
    }
  /* Delivered: the receiver's now, even when it asked for no value. */
  item->destroy = NULL;
  item_clear (item);
  return TRUE;
}

/* The receiver owns a pointer item from now on; an object item comes as a
 * new reference. NULL without an item. */
static gpointer
item_take_pointer (Item *item)
{
  gpointer pointer = NULL;

  if (!item_present (item))
    return NULL;
  if (item->kind == ITEM_POINTER)
    pointer = item->pointer;
  else if (G_VALUE_HOLDS_POINTER (&item->value))
    pointer = g_value_get_pointer (&item->value);
  else if (G_VALUE_HOLDS_OBJECT (&item->value))
    pointer = g_value_dup_object (&item->value);
  item->destroy = NULL;
  item_clear (item);
  return pointer;
}

static GError *
closed_error (void)
{
  return g_error_new_literal (NURSERY_ERROR, NURSERY_ERROR_CLOSED, "The channel is closed");
}

static GError *
cancelled_error (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "The channel operation was cancelled");
}

/* The buffer, with the lock held */

/* Grows the full buffer, unwrapping it: rare, the ring keeps its size
 * after. Out of line, so that the push it interrupts stays small enough
 * to be inlined where items move. */
G_GNUC_NO_INLINE static void
ring_grow_locked (NurseryChannel *self)
{
  guint new_size = MIN (MAX (self->ring_size * 2, 8), MAX (self->capacity, 1));
  Item *ring = g_new (Item, new_size);

  for (guint i = 0; i < self->n_items; i++)
    ring[i] = self->ring[(self->head + i) % self->ring_size];
  g_free (self->ring);
  self->ring = ring;
  self->ring_size = new_size;
  self->head = 0;
}

/* Moves @item to the end of the buffer. */
static void
ring_push_locked (NurseryChannel *self,
                  Item           *item)
{
  if (G_UNLIKELY (self->n_items == self->ring_size))
    ring_grow_locked (self);
  self->ring[(self->head + self->n_items) % self->ring_size] = *item;
  *item = (Item) ITEM_INIT;
  self->n_items++;
}

/* Moves the first buffered item to @out (empty), if there is one. */
static gboolean
ring_pop_locked (NurseryChannel *self,
                 Item           *out)
{
  if (self->n_items == 0)
    return FALSE;
  *out = self->ring[self->head];
  self->head = (self->head + 1) % self->ring_size;
  self->n_items--;
  return TRUE;
}

/* The completion queue of each context */

static gboolean
dispatcher_prepare (GSource *source,
                    int     *timeout)
{
  *timeout = -1;
  return g_atomic_int_get (&((Dispatcher *) source)->n_ready) > 0;
}

static gboolean
dispatcher_check (GSource *source)
{
  return g_atomic_int_get (&((Dispatcher *) source)->n_ready) > 0;
}

static NurseryChannelOp *op_complete (NurseryChannelOp *op);
static void op_keep_spare_locked (NurseryChannel   *self,
                                  NurseryChannelOp *op);

/* Takes the next finished Op out, and puts @spare (if any) aside for
 * reuse: one lock for both, as each Op is dispatched. Ops leave one at a
 * time, so that a callback that iterates the context (a nested loop)
 * still finds the ones after it. */
static NurseryChannelOp *
dispatcher_next (Dispatcher       *dispatcher,
                 NurseryChannelOp *spare)
{
  NurseryChannel *self = dispatcher->channel;
  GList *link;

  channel_lock (self);
  if (spare != NULL)
    op_keep_spare_locked (self, spare);
  link = g_queue_pop_head_link (&dispatcher->ready);
  if (link != NULL)
    g_atomic_int_add (&dispatcher->n_ready, -1);
  g_mutex_unlock (&self->lock);
  return link != NULL ? link->data : NULL;
}

static gboolean
dispatcher_dispatch (GSource     *source,
                     GSourceFunc  callback,
                     gpointer     user_data)
{
  Dispatcher *dispatcher = (Dispatcher *) source;
  NurseryChannelOp *spare = NULL;
  NurseryChannelOp *op;
  NurseryChannel *self;
  guint n = 0;

  /* Only dispatches take Ops out, and while there are any the channel
   * owns itself: it is alive now, and kept so until the loop is over. */
  if (g_atomic_int_get (&dispatcher->n_ready) == 0)
    return G_SOURCE_CONTINUE;
  self = g_object_ref (dispatcher->channel);
  g_atomic_int_inc (&dispatcher->dispatching);
  while (n++ < DISPATCH_BUDGET && (op = dispatcher_next (dispatcher, g_steal_pointer (&spare))) != NULL)
    spare = op_complete (op);
  if (spare != NULL)
    {
      channel_lock (self);
      op_keep_spare_locked (self, spare);
      g_mutex_unlock (&self->lock);
    }
  g_atomic_int_add (&dispatcher->dispatching, -1);
  /* May finalize the channel, which destroys this source: allowed. */
  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs dispatcher_funcs = {
  dispatcher_prepare,
  dispatcher_check,
  dispatcher_dispatch,
  NULL, NULL, NULL,
};

/* The dispatcher for the calling thread's thread-default context. */
static Dispatcher *
dispatcher_get_locked (NurseryChannel *self)
{
  GMainContext *context = g_main_context_get_thread_default ();
  Dispatcher *dispatcher;
  GSource *source;

  if (context == NULL)
    context = g_main_context_default ();
  for (GSList **l = &self->dispatchers; *l != NULL;)
    {
      dispatcher = (*l)->data;
      /* A destroyed one belonged to a context that went away (its address
       * may be a new context's now): dropped, so that threads that use a
       * context per call do not make the list grow. */
      if (g_source_is_destroyed ((GSource *) dispatcher))
        {
          g_source_unref ((GSource *) dispatcher);
          *l = g_slist_delete_link (*l, *l);
          continue;
        }
      if (dispatcher->context == context)
        return dispatcher;
      l = &(*l)->next;
    }

  source = g_source_new (&dispatcher_funcs, sizeof (Dispatcher));
  dispatcher = (Dispatcher *) source;
  dispatcher->channel = self;
  dispatcher->context = context;
  g_source_set_priority (source, G_PRIORITY_DEFAULT_IDLE);
  g_source_set_static_name (source, "NurseryChannel completions");
  /* A callback may iterate the context (a nested loop) and wait there
   * for another completion of this channel. */
  g_source_set_can_recurse (source, TRUE);
  g_source_attach (source, context);
  self->dispatchers = g_slist_prepend (self->dispatchers, dispatcher);
  return dispatcher;
}

/* Queues a finished @op on its dispatcher, with the lock held. */
static void
dispatcher_push_locked (NurseryChannelOp *op)
{
  Dispatcher *dispatcher = op->dispatcher;

  g_queue_push_tail_link (&dispatcher->ready, &op->waiter.link);
  /* The context's own thread prepares the source before it polls again,
   * and a running dispatch takes this Op too (or leaves it to the next
   * prepare): only a context that may be polling needs waking, once per
   * batch. */
  if (g_atomic_int_add (&dispatcher->n_ready, 1) == 0 &&
      g_atomic_int_get (&dispatcher->dispatching) == 0 &&
      !g_main_context_is_owner (dispatcher->context))
    g_main_context_wakeup (dispatcher->context);
}

static void
dispatchers_free (NurseryChannel *self)
{
  for (GSList *l = self->dispatchers; l != NULL; l = l->next)
    {
      /* While Ops are in flight the channel owns itself: none is queued. */
      g_assert (((Dispatcher *) l->data)->ready.length == 0);
      g_source_destroy (l->data);
      g_source_unref (l->data);
    }
  g_clear_pointer (&self->dispatchers, g_slist_free);
}

/* Ops
 *
 * Internal paths cast an Op, or a result already checked to be one,
 * without GType checks: a checked cast to an interface costs more than
 * the rest of a completion. */

static void
nursery_channel_op_async_result_iface_init (GAsyncResultIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (NurseryChannelOp, nursery_channel_op, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_RESULT,
                                                      nursery_channel_op_async_result_iface_init))

/* Frees what the Op still holds: an item nobody took (a sender's refused
 * one, or a receiver's never finished), an error nobody read. */
static void
op_clear (NurseryChannelOp *op)
{
  g_assert (op->waiter.queue == NULL && op->cancel_link.handler_id == 0);
  item_clear (&op->waiter.item);
  g_clear_error (&op->waiter.error);
  _nursery_cancel_link_clear (&op->cancel_link);
  op->callback = NULL;
  op->user_data = NULL;
}

static void
nursery_channel_op_finalize (GObject *object)
{
  NurseryChannelOp *op = NURSERY_CHANNEL_OP (object);

  _nursery_tsan_acquire_sole_owner (object);
  op_clear (op);
  if (op->owns_channel)
    g_object_unref (op->channel);

  G_OBJECT_CLASS (nursery_channel_op_parent_class)->finalize (object);
}

static void
nursery_channel_op_class_init (NurseryChannelOpClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = nursery_channel_op_finalize;
}

static void
nursery_channel_op_init (NurseryChannelOp *op)
{
  op->waiter.link.data = op;
}

static gpointer
op_get_user_data (GAsyncResult *result)
{
  return NURSERY_CHANNEL_OP (result)->user_data;
}

static GObject *
op_get_source_object (GAsyncResult *result)
{
  NurseryChannelOp *op = NURSERY_CHANNEL_OP (result);

  return op->channel != NULL ? g_object_ref (G_OBJECT (op->channel)) : NULL;
}

static gboolean
op_is_tagged (GAsyncResult *result,
              gpointer      source_tag)
{
  return NURSERY_CHANNEL_OP (result)->source_tag == source_tag;
}

static void
nursery_channel_op_async_result_iface_init (GAsyncResultIface *iface)
{
  iface->get_user_data = op_get_user_data;
  iface->get_source_object = op_get_source_object;
  iface->is_tagged = op_is_tagged;
}

/* A spare Op if there is one, else a new one; the lock is held. */
static NurseryChannelOp *
op_new_locked (NurseryChannel      *self,
               gpointer             source_tag,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  GList *link = g_queue_pop_head_link (&self->spare_ops);
  NurseryChannelOp *op;

  op = link != NULL ? link->data : g_object_new (NURSERY_TYPE_CHANNEL_OP, NULL);
  /* One reference for all the Ops in flight, not one each: a producer
   * and a consumer that restart from their completions never let the
   * count drop to 0. */
  op->channel = self;
  if (g_atomic_int_add (&self->n_ops, 1) == 0)
    g_object_ref (self);
  op->dispatcher = dispatcher_get_locked (self);
  op->source_tag = source_tag;
  op->callback = callback;
  op->user_data = user_data;
  return op;
}

/* After its callback: nobody else holds @op (the usual case) makes it a
 * spare, returned to be kept for the next operation, which then
 * allocates nothing; anyone who does (a caller that kept the result, a
 * cancellable connection not yet ended) gets an ordinary object, which
 * owns its channel from now on. The dispatch holds the channel: the
 * references dropped here never finalize it. */
static NurseryChannelOp *
op_release (NurseryChannelOp *op)
{
  NurseryChannel *self = op->channel;

  if (op->owns_dispatcher)
    {
      g_main_context_unref (op->dispatcher->context);
      g_source_unref ((GSource *) op->dispatcher);
    }
  op->owns_dispatcher = FALSE;
  op->dispatcher = NULL;
  if (g_atomic_int_get (&((GObject *) op)->ref_count) != 1)
    {
      op->owns_channel = TRUE;
      g_object_ref (self);
      g_object_unref (op);
      op = NULL;
    }
  else
    {
      op_clear (op);
      op->channel = NULL;
    }
  if (g_atomic_int_dec_and_test (&self->n_ops))
    g_object_unref (self);
  return op;
}

/* With the lock held. */
static void
op_keep_spare_locked (NurseryChannel   *self,
                      NurseryChannelOp *op)
{
  if (self->spare_ops.length < MAX_SPARE_OPS)
    g_queue_push_head_link (&self->spare_ops, &op->waiter.link);
  else
    /* Not the last reference to anything but the Op's own state. */
    g_object_unref (op);
}

/* Runs @op's callback, in a dispatch on its context; returns it if it
 * can be reused. */
static NurseryChannelOp *
op_complete (NurseryChannelOp *op)
{
  /* Adopted, if at all, while the Op waited, under the lock that was
   * taken since to take it out of its queue and then out of the
   * dispatcher: nobody changes it any more. */
  _nursery_cancel_link_detach (&op->cancel_link);

  /* A sender's refused item goes before the sender hears of it. */
  if (op->source_tag == nursery_channel_send_async)
    item_clear (&op->waiter.item);
  if (op->callback != NULL)
    op->callback ((GObject *) op->channel, (GAsyncResult *) op, op->user_data);
  return op_release (op);
}

/* Takes @op's result: where its item is (to move out from there), or
 * NULL with @error set. */
static Item *
op_propagate (NurseryChannelOp  *op,
              GError           **error)
{
  if (op->waiter.error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&op->waiter.error));
      return NULL;
    }
  return &op->waiter.item;
}

static gboolean
op_is_valid (GAsyncResult   *result,
             NurseryChannel *self)
{
  return NURSERY_IS_CHANNEL_OP (result) && ((NurseryChannelOp *) result)->channel == self;
}

static gpointer
op_source_tag (GAsyncResult *result)
{
  return ((NurseryChannelOp *) result)->source_tag;
}

/* TRUE, with @error set, if @op failed. */
static gboolean
op_failed (NurseryChannelOp  *op,
           GError           **error)
{
  if (op->waiter.error == NULL)
    return FALSE;
  g_propagate_error (error, g_steal_pointer (&op->waiter.error));
  return TRUE;
}

/* Waiters, with the lock held */

/* Done with @waiter: it receives @received (a receiver) or @error, and
 * wakes up or completes. */
static void
finish_waiter_locked (Waiter *waiter,
                      Item   *received,
                      GError *error)
{
  if (received != NULL)
    item_move (&waiter->item, received);
  waiter->error = error;
  if (waiter->cond != NULL)
    g_cond_signal (waiter->cond);
  else
    dispatcher_push_locked (waiter->link.data);
}

/* Takes @waiter out of its queue and finishes it. Its cancellable link
 * stays: an Op ends it when it completes, a blocking waiter once woken
 * (see the top comment). */
static void
serve_locked (Waiter *waiter,
              Item   *received,
              GError *error)
{
  g_queue_unlink (waiter->queue, &waiter->link);
  waiter->queue = NULL;
  finish_waiter_locked (waiter, received, error);
}

/* The core moves, with the lock held */

/* The oldest waiter in @queue, if any: its link comes first in a Waiter. */
static Waiter *
peek_waiter (GQueue *queue)
{
  return (Waiter *) g_queue_peek_head_link (queue);
}

/* Returns TRUE if @item was taken (delivered or buffered). Never ahead
 * of a waiting sender (FIFO), even when there is room. */
static gboolean
offer_locked (NurseryChannel *self,
              Item           *item)
{
  Waiter *receiver = peek_waiter (&self->receivers);

  if (receiver != NULL)
    {
      serve_locked (receiver, item, NULL);
      return TRUE;
    }
  if (self->n_items < self->capacity && self->senders.length == 0)
    {
      ring_push_locked (self, item);
      return TRUE;
    }
  return FALSE;
}

/* Moves waiting senders' items into the buffer, oldest first, once it
 * has drained to half its capacity: a sender blocked on a full channel is
 * woken once per half-buffer, and then sends the next items without
 * waiting, instead of being woken (a futex call, a context switch) for
 * every single item. */
static void
admit_senders_locked (NurseryChannel *self)
{
  Waiter *sender;

  if (self->n_items > self->capacity / 2)
    return;
  while (self->n_items < self->capacity && (sender = peek_waiter (&self->senders)) != NULL)
    {
      ring_push_locked (self, &sender->item);
      serve_locked (sender, NULL, NULL);
    }
}

/* Moves the next item to @out (empty); FALSE if none is available. */
static gboolean
take_locked (NurseryChannel *self,
             Item           *out)
{
  gboolean taken = ring_pop_locked (self, out);
  Waiter *sender;

  /* Without a buffered item (a rendezvous, or senders not admitted yet),
   * the oldest waiting sender hands its item over directly. */
  if (!taken && (sender = peek_waiter (&self->senders)) != NULL)
    {
      item_move (out, &sender->item);
      serve_locked (sender, NULL, NULL);
      taken = TRUE;
    }
  admit_senders_locked (self);
  return taken;
}

/* Async waits */

static void
op_cancelled_cb (GCancellable *cancellable,
                 gpointer      data)
{
  NurseryChannelOp *op = data;
  NurseryChannel *self = op->channel;

  /* Any thread. If it was already served, the cancel came too late. */
  channel_lock (self);
  if (op->waiter.queue != NULL)
    serve_locked (&op->waiter, NULL, cancelled_error ());
  g_mutex_unlock (&self->lock);
}

/* Queues @op, drops the lock (taken by the caller), then watches its
 * cancellable; see the top comment. Returns with nothing held. */
static void
op_wait (NurseryChannel   *self,
         NurseryChannelOp *op,
         GQueue           *queue,
         GCancellable     *cancellable)
{
  gulong handler_id;

  /* Kept alive while the Op waits, as a GTask keeps its context: whoever
   * serves it later queues it there and may wake the context up. (One
   * that completes at once is queued before the lock is dropped, while
   * its caller's thread-default context is alive.) */
  g_source_ref ((GSource *) op->dispatcher);
  g_main_context_ref (op->dispatcher->context);
  op->owns_dispatcher = TRUE;
  g_queue_push_tail_link (queue, &op->waiter.link);
  op->waiter.queue = queue;
  if (cancellable == NULL)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  /* Under the lock: op_clear() finds it once the Op completes. */
  _nursery_cancel_link_hold (&op->cancel_link, cancellable);
  g_mutex_unlock (&self->lock);

  /* The connection's own reference, dropped when it ends. */
  handler_id = _nursery_cancel_link_connect_owned (&op->cancel_link, G_CALLBACK (op_cancelled_cb),
                                                   g_object_ref (op), g_object_unref);
  /* 0: it was already cancelled; the handler ran and the connection's
   * reference is gone. */
  if (handler_id == 0)
    return;
  channel_lock (self);
  if (op->waiter.queue != NULL)
    {
      _nursery_cancel_link_adopt (&op->cancel_link, handler_id);
      handler_id = 0;
    }
  g_mutex_unlock (&self->lock);

  /* Served or cancelled meanwhile: nobody else can end the connection
   * (its reference keeps the Op alive until then). */
  _nursery_cancel_link_detach_handler (&op->cancel_link, handler_id);
}

/* Blocking waits */

typedef struct
{
  NurseryChannel *channel;
  Waiter         *waiter;
} BlockingWatch;

static void
blocking_cancelled_cb (GCancellable *cancellable,
                       gpointer      data)
{
  BlockingWatch *watch = data;
  NurseryChannel *self = watch->channel;

  channel_lock (self);
  if (watch->waiter->queue != NULL)
    serve_locked (watch->waiter, NULL, cancelled_error ());
  g_mutex_unlock (&self->lock);
}

/* Queues @waiter and waits, on the calling thread, until it was served or
 * cancelled. Called with the lock held; returns with nothing held. */
static void
blocking_wait (NurseryChannel *self,
               Waiter         *waiter,
               GQueue         *queue,
               GCancellable   *cancellable)
{
  BlockingWatch watch = { self, waiter };
  NurseryCancelLink link = { NULL, 0 };
  GCond cond;

  g_cond_init (&cond);
  waiter->cond = &cond;
  waiter->link.data = waiter;
  g_queue_push_tail_link (queue, &waiter->link);
  waiter->queue = queue;
  if (cancellable != NULL)
    {
      /* Not under the lock: an already cancelled cancellable runs the
       * handler right here, and the handler takes the lock. */
      g_mutex_unlock (&self->lock);
      _nursery_cancel_link_connect (&link, cancellable, G_CALLBACK (blocking_cancelled_cb), &watch);
      channel_lock (self);
    }
  if (waiter->queue != NULL)
    {
      /* R28: a pool worker that waits here lets the pool grow, so the
       * partner it waits for gets a thread. */
      _nursery_pool_blocking_begin ();
      while (waiter->queue != NULL)
        g_cond_wait (&cond, &self->lock);
      _nursery_pool_blocking_end ();
    }
  g_mutex_unlock (&self->lock);

  /* A waiting link: clearing it waits for a handler still running on
   * another thread, as @watch lives on this stack. */
  _nursery_cancel_link_clear (&link);
  g_cond_clear (&cond);
}

/* GObject */

static void
nursery_channel_finalize (GObject *object)
{
  NurseryChannel *self = NURSERY_CHANNEL (object);

  _nursery_tsan_acquire_sole_owner (object);
  /* While Ops are in flight the channel owns itself, and a blocking
   * caller must own it too: nobody waits. */
  g_assert (self->senders.length == 0 && self->receivers.length == 0);
  while (self->n_items > 0)
    {
      Item item = ITEM_INIT;

      ring_pop_locked (self, &item);
      item_clear (&item);
    }
  g_free (self->ring);
  while (self->spare_ops.length > 0)
    g_object_unref (g_queue_pop_head_link (&self->spare_ops)->data);
  dispatchers_free (self);
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

  channel_lock (self);
  n = self->n_items;
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

  channel_lock (self);
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
  Waiter *waiter;

  g_return_if_fail (NURSERY_IS_CHANNEL (self));

  channel_lock (self);
  if (!self->closed)
    {
      NURSERY_NOTE (CHANNEL, "channel %p: closed with %u item(s) to drain, waiters %s",
                    (void *) self, self->n_items,
                    self->senders.length + self->receivers.length > 0 ? "woken" : "none");
      self->closed = TRUE;
      while ((waiter = peek_waiter (&self->senders)) != NULL)
        serve_locked (waiter, NULL, closed_error ());
      /* Receivers wait only when nothing is buffered. */
      while ((waiter = peek_waiter (&self->receivers)) != NULL)
        serve_locked (waiter, NULL, closed_error ());
    }
  g_mutex_unlock (&self->lock);
}

/* Sending */

/* Starts an async send of @item (moved out). */
static void
send_item_async (NurseryChannel      *self,
                 Item                *item,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  NurseryChannelOp *op;
  GError *error = NULL;

  channel_lock (self);
  op = op_new_locked (self, nursery_channel_send_async, callback, user_data);
  if (self->closed)
    error = closed_error ();
  /* Asked once: another thread may cancel at any moment, and an item that
   * was offered successfully belongs to its receiver from then on. */
  else if (g_cancellable_is_cancelled (cancellable))
    error = cancelled_error ();
  else if (!offer_locked (self, item))
    {
      item_move (&op->waiter.item, item);
      op_wait (self, op, &self->senders, cancellable);
      return;
    }
  /* Not taken: the item is dropped before the sender hears why. */
  if (error != NULL)
    item_move (&op->waiter.item, item);
  finish_waiter_locked (&op->waiter, NULL, error);
  g_mutex_unlock (&self->lock);
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
  Item item = ITEM_INIT;

  g_return_if_fail (NURSERY_IS_CHANNEL (self));
  g_return_if_fail (G_IS_VALUE (value));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  item_init_value (&item, value);
  send_item_async (self, &item, cancellable, callback, user_data);
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
  Item moved = ITEM_INIT;

  /* R24: refused, but the item is not leaked. */
  NURSERY_REFUSE_UNLESS (NURSERY_IS_CHANNEL (self), item_destroy, item, );
  NURSERY_REFUSE_UNLESS (cancellable == NULL || G_IS_CANCELLABLE (cancellable), item_destroy, item, );

  item_init_pointer (&moved, item, item_destroy);
  send_item_async (self, &moved, cancellable, callback, user_data);
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
  g_return_val_if_fail (op_is_valid (result, self), FALSE);
  g_return_val_if_fail (op_source_tag (result) == nursery_channel_send_async, FALSE);

  return !op_failed ((NurseryChannelOp *) result, error);
}

static gboolean
try_send_item (NurseryChannel  *self,
               Item            *item,
               GError         **error)
{
  gboolean taken = FALSE;
  gboolean closed;

  channel_lock (self);
  closed = self->closed;
  if (!closed)
    taken = offer_locked (self, item);
  g_mutex_unlock (&self->lock);

  if (taken)
    return TRUE;
  item_clear (item);
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
  Item item = ITEM_INIT;

  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), FALSE);
  g_return_val_if_fail (G_IS_VALUE (value), FALSE);

  item_init_value (&item, value);
  return try_send_item (self, &item, error);
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
  Item moved = ITEM_INIT;

  /* R24: refused, but the item is not leaked. */
  NURSERY_REFUSE_UNLESS (NURSERY_IS_CHANNEL (self), item_destroy, item, FALSE);

  item_init_pointer (&moved, item, item_destroy);
  return try_send_item (self, &moved, error);
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
  NurseryChannelOp *op;
  GError *error = NULL;

  g_return_if_fail (NURSERY_IS_CHANNEL (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  channel_lock (self);
  op = op_new_locked (self, nursery_channel_receive_async, callback, user_data);
  if (g_cancellable_is_cancelled (cancellable))
    error = cancelled_error ();
  else if (!take_locked (self, &op->waiter.item))
    {
      if (!self->closed)
        {
          op_wait (self, op, &self->receivers, cancellable);
          return;
        }
      error = closed_error ();
    }
  finish_waiter_locked (&op->waiter, NULL, error);
  g_mutex_unlock (&self->lock);
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
  g_return_val_if_fail (op_is_valid (result, self), FALSE);
  g_return_val_if_fail (op_source_tag (result) == nursery_channel_receive_async, FALSE);

  return deliver_value (op_propagate ((NurseryChannelOp *) result, error), value);
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
  g_return_val_if_fail (op_is_valid (result, self), NULL);
  g_return_val_if_fail (op_source_tag (result) == nursery_channel_receive_async, NULL);

  item = op_propagate ((NurseryChannelOp *) result, error);
  return item_take_pointer (item);
}

/* Moves the next item to @out (empty) if there is one. */
static gboolean
try_take (NurseryChannel  *self,
          Item            *out,
          GError         **error)
{
  gboolean taken;
  gboolean closed;

  channel_lock (self);
  taken = take_locked (self, out);
  closed = self->closed;
  g_mutex_unlock (&self->lock);

  if (!taken && closed)
    g_propagate_error (error, closed_error ());
  else if (!taken)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "The channel is empty");
  return taken;
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
  Item item = ITEM_INIT;

  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), FALSE);

  try_take (self, &item, error);
  return deliver_value (&item, value);
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
  Item item = ITEM_INIT;

  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), NULL);

  try_take (self, &item, error);
  return item_take_pointer (&item);
}

/* Blocking forms, for thread children */

/* Sends @item (moved out), blocking until it was taken or refused. */
static gboolean
send_item_blocking (NurseryChannel  *self,
                    Item            *item,
                    GCancellable    *cancellable,
                    GError         **error)
{
  Waiter waiter = { { NULL, }, NULL, ITEM_INIT, NULL, NULL };

  channel_lock (self);
  if (self->closed)
    waiter.error = closed_error ();
  else if (g_cancellable_is_cancelled (cancellable))
    waiter.error = cancelled_error ();
  else if (!offer_locked (self, item))
    {
      item_move (&waiter.item, item);
      blocking_wait (self, &waiter, &self->senders, cancellable);
      /* Refused: the waiter still holds its item. */
      item_move (item, &waiter.item);
      channel_lock (self);
    }
  g_mutex_unlock (&self->lock);

  item_clear (item);
  if (waiter.error == NULL)
    return TRUE;
  g_propagate_error (error, waiter.error);
  return FALSE;
}

/* Receives an item into @out (empty), blocking until one arrives or none
 * ever will. */
static void
receive_item_blocking (NurseryChannel  *self,
                       Item            *out,
                       GCancellable    *cancellable,
                       GError         **error)
{
  Waiter waiter = { { NULL, }, NULL, ITEM_INIT, NULL, NULL };

  channel_lock (self);
  if (g_cancellable_is_cancelled (cancellable))
    waiter.error = cancelled_error ();
  else if (!take_locked (self, out))
    {
      if (self->closed)
        waiter.error = closed_error ();
      else
        {
          blocking_wait (self, &waiter, &self->receivers, cancellable);
          item_move (out, &waiter.item);
          channel_lock (self);
        }
    }
  g_mutex_unlock (&self->lock);

  if (waiter.error != NULL)
    g_propagate_error (error, waiter.error);
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
  Item item = ITEM_INIT;

  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), FALSE);
  g_return_val_if_fail (G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);

  item_init_value (&item, value);
  return send_item_blocking (self, &item, cancellable, error);
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
 * main context. A thread child blocked here marks its worker blocked, and
 * Nursery's pool starts another worker for the children still waiting
 * ([R28](rules.html#R28)), so a pipeline of blocking stages never starves. As with
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
  Item item = ITEM_INIT;

  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);

  receive_item_blocking (self, &item, cancellable, error);
  return deliver_value (&item, value);
}

/**
 * nursery_channel_send_pointer_blocking: (skip)
 * @self: a channel
 * @item: (nullable): the item; the receiver owns it once delivered
 * @item_destroy: (nullable): frees @item if it is never delivered
 * @cancellable: (nullable): cancelling it withdraws the item if it still waits
 * @error: return location for %NURSERY_ERROR_CLOSED or `G_IO_ERROR_CANCELLED`
 *
 * Sends a pointer item, blocking the calling thread until it is taken:
 * the pointer form of [method@Nursery.Channel.send], for thread children,
 * with the same caveats. An item that is not delivered (the channel
 * closed, or @cancellable fired while it waited) is freed with
 * @item_destroy before this returns.
 *
 * Returns: %TRUE if the item was delivered or buffered
 *
 * Since: 1.0
 */
gboolean
nursery_channel_send_pointer_blocking (NurseryChannel  *self,
                                       gpointer         item,
                                       GDestroyNotify   item_destroy,
                                       GCancellable    *cancellable,
                                       GError         **error)
{
  Item moved = ITEM_INIT;

  /* R24: refused, but the item is not leaked. */
  NURSERY_REFUSE_UNLESS (NURSERY_IS_CHANNEL (self), item_destroy, item, FALSE);
  NURSERY_REFUSE_UNLESS (cancellable == NULL || G_IS_CANCELLABLE (cancellable), item_destroy, item, FALSE);

  item_init_pointer (&moved, item, item_destroy);
  return send_item_blocking (self, &moved, cancellable, error);
}

/**
 * nursery_channel_receive_pointer_blocking: (skip)
 * @self: a channel
 * @cancellable: (nullable): cancelling it gives up; no item is consumed
 * @error: return location for %NURSERY_ERROR_CLOSED or `G_IO_ERROR_CANCELLED`
 *
 * Receives a pointer item (or an object item, as a new reference),
 * blocking the calling thread until one arrives: the pointer form of
 * [method@Nursery.Channel.receive], for thread children, with the same
 * caveats. The caller owns the item (its destroy notify is not called).
 *
 * Returns: (transfer full) (nullable): the item; %NULL with @error set
 *   if none was received
 *
 * Since: 1.0
 */
gpointer
nursery_channel_receive_pointer_blocking (NurseryChannel  *self,
                                          GCancellable    *cancellable,
                                          GError         **error)
{
  Item item = ITEM_INIT;

  g_return_val_if_fail (NURSERY_IS_CHANNEL (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);

  receive_item_blocking (self, &item, cancellable, error);
  return item_take_pointer (&item);
}
