/* nursery-cancel-link-private.h: one connection to a GCancellable
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A handler connected to a cancellable, with the reference that keeps the
 * cancellable alive until the handler is disconnected. Used by the group
 * and task waiters (nursery-waiters.c) and the next_async() waiters
 * (nursery-group-stream.c). */
typedef struct
{
  GCancellable *cancellable;
  gulong        handler_id;
} NurseryCancelLink;

/* Connects @callback (@data) to @cancellable, if it is not %NULL. If it is
 * already cancelled, @callback runs at once, from here: connect last, once
 * everything the handler touches is in place, and with no lock held. */
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

/* Disconnects the handler and drops the reference. Never from inside the
 * handler, nor with a lock the handler takes: g_cancellable_disconnect()
 * waits for a handler that is running, and would deadlock. */
static inline void
_nursery_cancel_link_clear (NurseryCancelLink *link)
{
  if (link->handler_id != 0)
    g_cancellable_disconnect (link->cancellable, link->handler_id);
  link->handler_id = 0;
  g_clear_object (&link->cancellable);
}

G_END_DECLS
