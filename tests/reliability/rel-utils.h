/* rel-utils.h: knobs, watchdog and bookkeeping shared by the reliability tests
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <nursery.h>

/* Whether this is the TSan build (gcc or clang): a few scenes race
 * memory that only uninstrumented GLib touches, under its own locks. */
#if defined(__SANITIZE_THREAD__)
# define REL_UNDER_TSAN 1
#elif defined(__has_feature)
# if __has_feature(thread_sanitizer)
#  define REL_UNDER_TSAN 1
# endif
#endif
#ifndef REL_UNDER_TSAN
# define REL_UNDER_TSAN 0
#endif

G_BEGIN_DECLS

/* Environment knobs. Every count a test runs is `default × scale`, where
 * the scale is NURSERY_RELIABILITY_SCALE (a percentage, default 100): the
 * valgrind and sanitizer setups lower it, a soak run raises it. A test's
 * own variable (e.g. NURSERY_STRESS_ITERATIONS) overrides the product. */
guint        rel_env_uint          (const char *name,
                                    guint       fallback);
guint        rel_scaled            (const char *name,
                                    guint       fallback);

/* A watchdog thread that fails the test (TAP "Bail out!" + abort) if the
 * test makes no progress for NURSERY_WATCHDOG_SECONDS (default 30): a
 * deadlock is a failure, never a hang. It waits on a condition variable
 * with a deadline; it is not used for synchronisation. */
typedef struct _RelWatchdog RelWatchdog;

RelWatchdog *rel_watchdog_new      (const char  *test);
void         rel_watchdog_kick     (RelWatchdog *self,
                                    const char  *format,
                                    ...) G_GNUC_PRINTF (2, 3);
void         rel_watchdog_free     (RelWatchdog *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RelWatchdog, rel_watchdog_free)

/* Iterates @context until *flag is set (atomically read), kicking nothing:
 * the watchdog bounds it. */
void         rel_run_until         (GMainContext *context,
                                    const int    *flag);

/* A busy wait of about @spins loop turns: lets two threads collide at
 * random points without sleeping. */
void         rel_spin              (guint        spins);

/* A NurseryTaskFunc that returns (cancelled) when its cancellable is
 * cancelled: at once if it already is, else on the cancelling thread. */
void         rel_child_until_cancelled (NurseryTask *task,
                                        gpointer     unused);

/* Counts finalizations through weak refs. */
typedef struct
{
  int alive;
} RelLiveCount;

void         rel_track             (RelLiveCount *count,
                                    gpointer      object);

/* A thread that runs queued jobs one after the other, first in first
 * out: where a test hands work to another thread from many places at
 * once (a RelHelper takes one job per round). rel_worker_push() returns
 * at once; rel_worker_drain() blocks until every job pushed so far has
 * returned. */
typedef struct _RelWorker RelWorker;

RelWorker   *rel_worker_new        (const char  *name);
void         rel_worker_push       (RelWorker   *self,
                                    GFunc        job,
                                    gpointer     data,
                                    gpointer     data2);
void         rel_worker_drain      (RelWorker   *self);
void         rel_worker_free       (RelWorker   *self);

/* A worker that runs one job per round, so that a test can fire cancels
 * from another thread thousands of times without creating a thread each
 * time. rel_helper_run() hands it a job (the last one has returned) and
 * returns at once; rel_helper_finish() blocks until the job has
 * returned. */
typedef RelWorker RelHelper;

RelHelper   *rel_helper_new        (const char  *name);
void         rel_helper_run        (RelHelper   *self,
                                    GFunc        job,
                                    gpointer     data,
                                    gpointer     data2);
void         rel_helper_finish     (RelHelper   *self);
void         rel_helper_free       (RelHelper   *self);

/* Returns @value from @task, an in-context child's, in an idle of
 * @priority on the global default context (as g_idle_add()): the group
 * keeps @task alive until then. */
void         rel_return_int_from_idle (NurseryTask *task,
                                       gint64       value,
                                       int          priority);

/* Small callbacks more than one program needs. */
/* A GAsyncReadyCallback that stores a reference to @result in the
 * GAsyncResult * @data points to. */
void         rel_store_result      (GObject      *source,
                                    GAsyncResult *result,
                                    gpointer      data);
/* Increments the guint it is given: a destroy notify, a notify handler. */
void         rel_count_destroy     (gpointer      counter);
void         rel_count_notify      (GObject      *object,
                                    GParamSpec   *pspec,
                                    gpointer      counter);
/* A GWeakNotify that sets the gboolean it is given. */
void         rel_set_flag          (gpointer      flag,
                                    GObject      *where_the_object_was);
/* A GCancellable::cancelled handler for the NurseryTask it is given. */
void         rel_return_if_cancelled_cb (GCancellable *cancellable,
                                    gpointer      task);
/* Dispatches what is ready on @context (NULL: the global default), without blocking. */
void         rel_drain             (GMainContext *context);

/* Between begin and end, the owner critical of a call made from the wrong
 * thread (R23: "…_nursery_group_called_on_owner (self)' failed", from
 * any thread) is counted instead of aborting the test; any other critical
 * still fails it. */
void         rel_owner_refusals_begin (void);
void         rel_owner_refusals_end   (void);
/* How many were counted so far, in the whole test program. */
int          rel_owner_refusals       (void);

/* Where each tracked group went (R30): it must be finalized on the
 * thread that tracked it, its owner. */
typedef struct
{
  GThread *owner;
  int      alive;       /* atomic */
  int      off_owner;   /* atomic: finalized on another thread, the defect */
} RelFinalized;

/* A GWeakNotify for a tracked group (data: the RelFinalized). */
void         rel_finalized_cb         (gpointer      data,
                                       GObject      *where_the_object_was);
/* Tracks @group, from its owner's thread. */
void         rel_finalized_track      (RelFinalized *f,
                                       NurseryGroup *group);
/* Iterates the thread-default context until every tracked group is gone
 * (the watchdog bounds it), and checks none went on another thread. */
void         rel_finalized_settle     (RelFinalized *f);

G_END_DECLS
