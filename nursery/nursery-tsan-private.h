/* nursery-tsan-private.h: synchronisation ThreadSanitizer cannot see
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#if defined(__SANITIZE_THREAD__)
#define NURSERY_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NURSERY_TSAN 1
#endif
#endif

#ifdef NURSERY_TSAN
void __tsan_acquire (void *addr);
#endif

/* Reading @object's reference count as 1 orders the caller after every
 * other holder's g_object_unref(), whose atomic decrement is in
 * libgobject, which a TSan build does not instrument (the tests' TSan
 * shim, tests/reliability/tsan-glib-sync.c, marks each unref a release
 * on the object). A no-op in other builds. */
static inline void
_nursery_tsan_acquire_sole_owner (gpointer object)
{
#ifdef NURSERY_TSAN
  __tsan_acquire (object);
#endif
}

G_END_DECLS
