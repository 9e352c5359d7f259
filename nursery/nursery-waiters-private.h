/* nursery-waiters-private.h: GTasks waiting for one outcome
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef void (*NurseryCancelTarget) (gpointer target);

/* Adds @waiter to @waiters. Cancelling @cancellable does not fail the
 * waiter: it calls @cancel_target (@target), and the waiter still
 * completes with the target's outcome (R10). The waiter's GTask
 * keeps @target alive, so the handler never sees it freed. */
void _nursery_waiters_add      (GSList              **waiters,
                                GTask                *waiter,
                                GCancellable         *cancellable,
                                NurseryCancelTarget   cancel_target,
                                gpointer              target);

/* Completes and empties @waiters, oldest first: with @error (copied for
 * each) or, when @error is NULL, with TRUE. Owner context only. */
void _nursery_waiters_complete (GSList              **waiters,
                                const GError         *error);

G_END_DECLS
