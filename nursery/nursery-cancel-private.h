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

G_END_DECLS
