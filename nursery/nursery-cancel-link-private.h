/* nursery-cancel-link-private.h: one connection to a GCancellable
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A handler connected to a cancellable, with the reference that keeps the
 * cancellable alive until the handler is disconnected. Every connection
 * Nursery holds to a cancellable is one: the group and task waiters
 * (nursery-waiters.c), the next_async() waiters (nursery-group-stream.c),
 * a nested group's link to its parent (nursery-group.c, R14, R30) and the
 * channel's waiting operations (nursery-channel.c).
 *
 * The rules for all of them: connect last, once everything the handler
 * touches is in place, and with no lock held (a cancellable that is
 * already cancelled runs the handler from inside the connect, and the
 * handler takes locks); the link owns the handler id, and ends the
 * connection exactly once; and the connection never ends with
 * g_cancellable_disconnect() from inside the handler, which waits for the
 * running handler, that is for itself.
 *
 * A link ends in one of two ways, each with its own way to connect:
 *
 * - A *waiting* link (connect(), clear()): the handler's data belongs to
 *   whoever clears the link, who may free it right after. So clearing
 *   waits for a handler still running on another thread, with
 *   g_cancellable_disconnect(): never from inside the handler, nor with a
 *   lock the handler takes.
 * - An *owned* link (hold(), connect_owned(), adopt(), detach()): the
 *   connection owns its data (a reference that @data_destroy drops once
 *   the handler is disconnected and no longer running), so ending it never
 *   waits, with g_signal_handler_disconnect(): safe from inside the
 *   cancellable's own emission and from any thread. For links that may
 *   end there: a group dropped from another handler of its parent's
 *   cancellable, a channel operation served by its own cancellable's
 *   handler.
 */
typedef struct
{
  GCancellable *cancellable;
  gulong        handler_id;
} NurseryCancelLink;

/* A waiting link: connects @callback (@data) to @cancellable, if it is not
 * %NULL. If it is already cancelled, @callback runs at once, from here. */
static inline void
_nursery_cancel_link_connect (NurseryCancelLink *link,
                              GCancellable      *cancellable,
                              GCallback          callback,
                              gpointer           data)
{
  if (cancellable == NULL)
    return;
  link->cancellable = g_object_ref (cancellable);
  link->handler_id = g_cancellable_connect (cancellable, callback, data, NULL);
}

/* Disconnects the handler, waiting for it if it runs on another thread,
 * and drops the reference. Never from inside the handler, nor with a lock
 * the handler takes: it would deadlock. After detach() there is no
 * handler left, and this only drops the reference. */
static inline void
_nursery_cancel_link_clear (NurseryCancelLink *link)
{
  if (link->handler_id != 0)
    g_cancellable_disconnect (link->cancellable, link->handler_id);
  link->handler_id = 0;
  g_clear_object (&link->cancellable);
}

/* An owned link, step 1: takes @cancellable. Nothing runs, so a lock may
 * be held: whoever later ends the connection under that lock finds it. */
static inline void
_nursery_cancel_link_hold (NurseryCancelLink *link,
                           GCancellable      *cancellable)
{
  link->cancellable = g_object_ref (cancellable);
}

/* Step 2, with no lock held: connects @callback to the held cancellable,
 * the connection owning @data. If the cancellable is already cancelled,
 * @callback and then @data_destroy run from here, and this returns 0.
 * Otherwise it returns the handler id, which the caller gives the link
 * with adopt(): at once, or under the lock that says whether what the
 * handler watches is still there (if it is not, the caller ends the
 * connection with detach_handler()). */
static inline gulong
_nursery_cancel_link_connect_owned (NurseryCancelLink *link,
                                    GCallback          callback,
                                    gpointer           data,
                                    GDestroyNotify     data_destroy)
{
  return g_cancellable_connect (link->cancellable, callback, data, data_destroy);
}

static inline void
_nursery_cancel_link_adopt (NurseryCancelLink *link,
                            gulong             handler_id)
{
  link->handler_id = handler_id;
}

/* Ends the connection @handler_id (0: none) of an owned link, without
 * waiting for a running handler: that one keeps its data until it
 * returns, through the connection's own reference. */
static inline void
_nursery_cancel_link_detach_handler (NurseryCancelLink *link,
                                     gulong             handler_id)
{
  if (handler_id != 0)
    g_signal_handler_disconnect (link->cancellable, handler_id);
}

/* Ends the link's own connection, once, without waiting; keeps the
 * reference on the cancellable, which clear() drops. */
static inline void
_nursery_cancel_link_detach (NurseryCancelLink *link)
{
  gulong handler_id = link->handler_id;

  link->handler_id = 0;
  _nursery_cancel_link_detach_handler (link, handler_id);
}

G_END_DECLS
