/* tsan-glib-sync.c: shows ThreadSanitizer the synchronisation inside GLib
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Debian's GLib is not built with -fsanitize=thread, and since 2.54 its
 * GMutex and GCond are futex-based: TSan sees neither, so every field
 * Nursery guards with a GMutex looks racy. This library, preloaded
 * (LD_PRELOAD) into the tests of a TSan build by tools/ci-reliability,
 * wraps the GLib calls that order memory between threads. Each wrapper
 * calls the real function (dlsym (RTLD_NEXT)) and tells TSan about the
 * edge with __tsan_acquire()/__tsan_release(); GLib's behaviour does not
 * change. Calls inside libglib itself bind directly (it is linked with
 * -Bsymbolic-functions) and stay invisible: what remains is listed, with
 * reasons, in tsan.supp.
 *
 * Wrapped:
 *  - GMutex, GRecMutex, GRWLock, GCond: lock = acquire, unlock = release,
 *    a wait releases and re-acquires its mutex;
 *  - g_once_init_enter/leave: the initialiser's writes before readers;
 *  - g_atomic_ref_count_dec, g_object_unref, g_main_context_unref and
 *    g_source_unref: what every owner did before its unref happens before
 *    the finalizer (the last unref);
 *  - GThreadPool (the GTask pool): a push happens before the worker
 *    runs the item;
 *  - idle and timeout sources: g_source_attach() happens before the
 *    source's callback (GTask completions, NurseryChannel completions).
 */

#define _GNU_SOURCE
#include <dlfcn.h>

#include <glib.h>
#include <glib-object.h>

/* Weak: the library is also preloaded into helpers (timeout, shells)
 * that have no TSan runtime; there the wrappers only pass through. */
void __tsan_acquire (void *addr) __attribute__ ((weak));
void __tsan_release (void *addr) __attribute__ ((weak));

#define ACQUIRE(addr) G_STMT_START { if (__tsan_acquire != NULL) __tsan_acquire ((void *) (addr)); } G_STMT_END
#define RELEASE(addr) G_STMT_START { if (__tsan_release != NULL) __tsan_release ((void *) (addr)); } G_STMT_END

#define REAL(name) \
  static __typeof__ (name) *real = NULL; \
  if (G_UNLIKELY (real == NULL)) \
    real = (__typeof__ (name) *) dlsym (RTLD_NEXT, #name)

/* GMutex, GRecMutex, GRWLock, GCond */

void
g_mutex_lock (GMutex *mutex)
{
  REAL (g_mutex_lock);
  real (mutex);
  ACQUIRE (mutex);
}

gboolean
g_mutex_trylock (GMutex *mutex)
{
  gboolean locked;
  REAL (g_mutex_trylock);

  locked = real (mutex);
  if (locked)
    ACQUIRE (mutex);
  return locked;
}

void
g_mutex_unlock (GMutex *mutex)
{
  REAL (g_mutex_unlock);
  RELEASE (mutex);
  real (mutex);
}

void
g_rec_mutex_lock (GRecMutex *mutex)
{
  REAL (g_rec_mutex_lock);
  real (mutex);
  ACQUIRE (mutex);
}

gboolean
g_rec_mutex_trylock (GRecMutex *mutex)
{
  gboolean locked;
  REAL (g_rec_mutex_trylock);

  locked = real (mutex);
  if (locked)
    ACQUIRE (mutex);
  return locked;
}

void
g_rec_mutex_unlock (GRecMutex *mutex)
{
  REAL (g_rec_mutex_unlock);
  RELEASE (mutex);
  real (mutex);
}

void
g_rw_lock_writer_lock (GRWLock *lock)
{
  REAL (g_rw_lock_writer_lock);
  real (lock);
  ACQUIRE (lock);
}

gboolean
g_rw_lock_writer_trylock (GRWLock *lock)
{
  gboolean locked;
  REAL (g_rw_lock_writer_trylock);

  locked = real (lock);
  if (locked)
    ACQUIRE (lock);
  return locked;
}

void
g_rw_lock_writer_unlock (GRWLock *lock)
{
  REAL (g_rw_lock_writer_unlock);
  RELEASE (lock);
  real (lock);
}

void
g_rw_lock_reader_lock (GRWLock *lock)
{
  REAL (g_rw_lock_reader_lock);
  real (lock);
  ACQUIRE (lock);
}

gboolean
g_rw_lock_reader_trylock (GRWLock *lock)
{
  gboolean locked;
  REAL (g_rw_lock_reader_trylock);

  locked = real (lock);
  if (locked)
    ACQUIRE (lock);
  return locked;
}

void
g_rw_lock_reader_unlock (GRWLock *lock)
{
  REAL (g_rw_lock_reader_unlock);
  RELEASE (lock);
  real (lock);
}

void
g_cond_wait (GCond  *cond,
             GMutex *mutex)
{
  REAL (g_cond_wait);
  RELEASE (mutex);
  real (cond, mutex);
  ACQUIRE (mutex);
}

gboolean
g_cond_wait_until (GCond  *cond,
                   GMutex *mutex,
                   gint64  end_time)
{
  gboolean signalled;
  REAL (g_cond_wait_until);

  RELEASE (mutex);
  signalled = real (cond, mutex, end_time);
  ACQUIRE (mutex);
  return signalled;
}

/* One-time initialisation */

gboolean
(g_once_init_enter) (volatile void *location)
{
  gboolean must_init;
  REAL (g_once_init_enter);

  must_init = real (location);
  if (!must_init)
    ACQUIRE (location);
  return must_init;
}

void
(g_once_init_leave) (volatile void *location,
                     gsize          result)
{
  REAL (g_once_init_leave);
  RELEASE (location);
  real (location, result);
}

/* Reference counts: the last owner sees what the others did. */

gboolean
(g_atomic_ref_count_dec) (gatomicrefcount *arc)
{
  gboolean last;
  REAL (g_atomic_ref_count_dec);

  RELEASE (arc);
  last = real (arc);
  if (last)
    ACQUIRE (arc);
  return last;
}

void
g_object_unref (gpointer object)
{
  REAL (g_object_unref);

  RELEASE (object);
  /* About to be the last reference: finalize runs in this call. */
  if (object != NULL && g_atomic_int_get ((gint *) &((GObject *) object)->ref_count) == 1)
    ACQUIRE (object);
  real (object);
}

/* GMainContext and GSource are refcounted with GLib's own atomics: every
 * unref releases, and acquires what earlier unrefs released, so the last
 * one (which frees) comes after all. Their refcounts are private, so this
 * over-synchronises a little: unrefs of one context or source are ordered. */

void
g_main_context_unref (GMainContext *context)
{
  REAL (g_main_context_unref);
  RELEASE (context);
  ACQUIRE (context);
  real (context);
}

void
g_source_unref (GSource *source)
{
  REAL (g_source_unref);
  RELEASE (source);
  ACQUIRE (source);
  real (source);
}

/* GThreadPool: a push happens before its item runs. */

typedef struct
{
  GFunc    func;
  gpointer user_data;
} PoolFunc;

static void
pool_trampoline (gpointer data,
                 gpointer user_data)
{
  PoolFunc *pf = user_data;

  ACQUIRE (data);
  pf->func (data, pf->user_data);
}

GThreadPool *
g_thread_pool_new (GFunc     func,
                   gpointer  user_data,
                   gint      max_threads,
                   gboolean  exclusive,
                   GError  **error)
{
  /* Lives as long as the pool; GLib's pools live until exit. */
  PoolFunc *pf = g_new (PoolFunc, 1);
  REAL (g_thread_pool_new);

  pf->func = func;
  pf->user_data = user_data;
  return real (pool_trampoline, pf, max_threads, exclusive, error);
}

gboolean
g_thread_pool_push (GThreadPool  *pool,
                    gpointer      data,
                    GError      **error)
{
  REAL (g_thread_pool_push);
  RELEASE (data);
  return real (pool, data, error);
}

/* Idle and timeout sources: attaching happens before the callback. */

typedef struct
{
  GSource        *source;
  GSourceFunc     func;
  gpointer        data;
  GDestroyNotify  notify;
} SourceCallback;

static gboolean
source_trampoline (gpointer data)
{
  SourceCallback *sc = data;

  ACQUIRE (sc->source);
  return sc->func (sc->data);
}

static void
source_callback_free (gpointer data)
{
  SourceCallback *sc = data;

  if (sc->notify != NULL)
    sc->notify (sc->data);
  g_free (sc);
}

void
g_source_set_callback (GSource        *source,
                       GSourceFunc     func,
                       gpointer        data,
                       GDestroyNotify  notify)
{
  REAL (g_source_set_callback);

  /* Only where the callback is known to be a GSourceFunc. */
  if (func != NULL && (source->source_funcs == &g_idle_funcs || source->source_funcs == &g_timeout_funcs))
    {
      SourceCallback *sc = g_new (SourceCallback, 1);

      sc->source = source;
      sc->func = func;
      sc->data = data;
      sc->notify = notify;
      real (source, source_trampoline, sc, source_callback_free);
      return;
    }
  real (source, func, data, notify);
}

guint
g_source_attach (GSource      *source,
                 GMainContext *context)
{
  REAL (g_source_attach);
  RELEASE (source);
  return real (source, context);
}
