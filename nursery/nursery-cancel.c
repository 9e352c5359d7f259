/* nursery-cancel.c: cancelling GCancellables without recursion
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* g_cancellable_cancel() runs the cancellable's handlers before it
 * returns, and the handler a nested group connects to its parent task's
 * cancellable cancels that group's children in turn. Done naively, a tree
 * 10 000 groups deep is cancelled 10 000 calls deep and overflows the
 * stack (docs/rules.md, R30). So Nursery cancels through a queue of its
 * thread: a cancel made while another one is running on the same thread
 * is queued, and the outermost call runs them all, one after the other.
 * Every cancellable is still cancelled before that outermost call
 * returns; only the order becomes breadth-first. */

#include "config.h"

#include "nursery-cancel-private.h"

typedef struct
{
  GQueue   pending;   /* GCancellable, a reference each */
  gboolean draining;
} CancelQueue;

static void
cancel_queue_free (gpointer data)
{
  CancelQueue *queue = data;

  /* A thread ends outside any cancel, so nothing is left to cancel. */
  g_queue_clear_full (&queue->pending, g_object_unref);
  g_free (queue);
}

static GPrivate cancel_queue_key = G_PRIVATE_INIT (cancel_queue_free);

static CancelQueue *
cancel_queue_get (void)
{
  CancelQueue *queue = g_private_get (&cancel_queue_key);

  if (queue == NULL)
    {
      queue = g_new0 (CancelQueue, 1);
      g_private_set (&cancel_queue_key, queue);
    }
  return queue;
}

static void
cancel_queue_drain (CancelQueue *queue)
{
  GCancellable *cancellable;

  queue->draining = TRUE;
  while ((cancellable = g_queue_pop_head (&queue->pending)) != NULL)
    {
      g_cancellable_cancel (cancellable);
      g_object_unref (cancellable);
    }
  queue->draining = FALSE;
}

void
_nursery_cancel_take (GCancellable *cancellable)
{
  CancelQueue *queue = cancel_queue_get ();

  g_queue_push_tail (&queue->pending, cancellable);
  if (!queue->draining)
    cancel_queue_drain (queue);
}

/* A handler that blocks until cancels queued behind it have run would
 * wait forever: they run only once it returns. A deadline's or a group's
 * cancel that reaches a child's handler which then waits for another
 * group (whose children end by a cancel, or by a deadline) hung so. While
 * the thread blocks, the queue is drained as if no cancel ran: the
 * handlers reached from there are new outermost calls, and the depth of
 * the recursion is that of the blocking calls, which their callers nest,
 * not that of a tree of groups (R30). */
gboolean
_nursery_cancel_begin_blocking (void)
{
  CancelQueue *queue = cancel_queue_get ();
  gboolean was_draining = queue->draining;

  if (was_draining)
    cancel_queue_drain (queue);
  return was_draining;
}

void
_nursery_cancel_end_blocking (gboolean was_draining)
{
  /* The outer drain goes on with whatever was queued since. */
  cancel_queue_get ()->draining = was_draining;
}
