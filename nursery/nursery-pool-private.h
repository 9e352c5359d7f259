/* nursery-pool-private.h: Nursery's own worker pool for thread children
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef void (*NurseryPoolFunc) (gpointer data);

/* Runs @func (@data) on a worker thread of the process-wide pool (R28).
 * Nothing is allocated per job beyond a slot in the pool's ring; @func
 * reports its own completion. Any thread. */
void  _nursery_pool_push            (NurseryPoolFunc func,
                                     gpointer        data);

/* Around a wait that may last (a blocking channel call, a group wait):
 * on a pool worker, the pool counts it as blocked and starts another
 * worker for the waiting jobs at once, within the cap. No-ops on any
 * other thread. Pairs nest. */
void  _nursery_pool_blocking_begin  (void);
void  _nursery_pool_blocking_end    (void);

/* Called by a job once its own function (a thread child's) has
 * returned: what it does after that (handing the child back) only ever
 * waits for a lock, so the pool's monitor no longer reads a sleep there
 * as a blocked worker. A no-op on any other thread. */
void  _nursery_pool_user_code_done  (void);

/* For tests and the tree dump: a snapshot of the pool. */
typedef struct
{
  guint n_threads;    /* alive workers */
  guint n_idle;       /* waiting for a job */
  guint n_blocked;    /* inside blocking_begin/end */
  guint n_queued;     /* jobs no worker has taken yet */
} NurseryPoolStats;

void  _nursery_pool_get_stats       (NurseryPoolStats *stats);

/* For tests: how long jobs must wait with no worker taking one before
 * the pool grows (µs), and how long an idle worker lives (µs). */
void  _nursery_pool_set_timings     (gint64 grow_delay,
                                     gint64 idle_timeout);

G_END_DECLS
