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
 * on the object). A no-op in other builds.
 *
 * The dispose and finalize of every Nursery type call it first: they
 * run in the last unref, after every other holder's decrement. The shim
 * cannot say so itself: it reads the count before the real unref does,
 * and a holder on another thread may drop its reference in between, so
 * the shim saw two and the real unref one (a false race, from a tree
 * dump's thread finalizing a task the owner had just reported). */
static inline void
_nursery_tsan_acquire_sole_owner (gpointer object)
{
#ifdef NURSERY_TSAN
  __tsan_acquire (object);
#endif
}

G_END_DECLS
