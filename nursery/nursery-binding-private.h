/* nursery-binding-private.h: what Nursery can tell of a language binding
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether @func is a JavaScript function that GJS wrapped for C, called
 * from JavaScript on this thread: one that can never run on a worker. */
gboolean _nursery_callback_is_gjs (gpointer func);

G_END_DECLS
