/* nursery-cancel-private.h: cancelling GCancellables without recursion
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Cancels @cancellable and drops the reference it is given. Call it with
 * no lock held: the cancellable's handlers run from here. */
void _nursery_cancel_take (GCancellable *cancellable);

/* Around a call that blocks this thread until other work is done
 * (nursery_group_wait() iterating the owner context), which may come
 * from inside a cancellable's handler that Nursery runs: the cancels
 * queued behind that handler run at once, and those made while it blocks
 * run at once too, as outside any cancel. Returns what to hand
 * _nursery_cancel_end_blocking() afterwards. */
gboolean _nursery_cancel_begin_blocking (void);
void     _nursery_cancel_end_blocking   (gboolean was_draining);

G_END_DECLS
