/* nursery-test-utils.h: child bodies and loop helpers shared by the C tests
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <nursery.h>

G_BEGIN_DECLS

/* A deadline for a loop that iterates a main context: every wait in the
 * C tests ends, and fails the test naming what it waited for, after
 * nt_timeout_seconds() (30 s, or NURSERY_TEST_TIMEOUT_SECONDS) instead of
 * hanging until meson kills the whole program. */
typedef struct
{
  GMainContext *context;        /* NULL: the global default, as for g_main_context_iteration() */
  GSource      *wake;           /* wakes a blocked iteration at the deadline */
  gint64        end;            /* monotonic */
  const char   *what;
  const char   *file;           /* where the wait is, for the failure */
  int           line;
  const char   *func;
} NtDeadline;

guint    nt_timeout_seconds      (void);
void     nt_deadline_begin       (NtDeadline     *deadline,
                                  GMainContext   *context,
                                  const char     *what,
                                  const char     *file,
                                  int             line,
                                  const char     *func);
/* One blocking iteration; fails the test once the deadline has passed. */
void     nt_deadline_iterate     (NtDeadline     *deadline);
void     nt_deadline_end         (NtDeadline     *deadline);

/* Iterates @context (NULL: the global default) until @expr holds, failing the
 * test with the text of @expr if it does not within the deadline.  Never
 * sleeps: a blocked iteration is woken by a source at the deadline. */
#define NT_ITERATE_CONTEXT_UNTIL(context, expr)                               \
  G_STMT_START {                                                              \
    NtDeadline nt_deadline_;                                                  \
    nt_deadline_begin (&nt_deadline_, (context), #expr, __FILE__, __LINE__,   \
                       G_STRFUNC);                                            \
    while (!(expr))                                                           \
      nt_deadline_iterate (&nt_deadline_);                                    \
    nt_deadline_end (&nt_deadline_);                                          \
  } G_STMT_END
#define NT_ITERATE_UNTIL(expr) NT_ITERATE_CONTEXT_UNTIL (NULL, expr)

/* Iterates the default context until *flag is TRUE (with the deadline). */
void     nt_run_until            (const gboolean *flag);
/* Iterates until *value >= target (with the deadline). */
void     nt_run_until_count      (const guint    *value,
                                  guint           target);
/* Iterates until @task has left NURSERY_TASK_PENDING (with the deadline). */
void     nt_wait_until_running   (NurseryTask    *task);
/* Waits for @group with nursery_group_wait(); returns its error or NULL. */
GError  *nt_wait                 (NurseryGroup   *group);

/* Child bodies. */
void     nt_child_return_int     (NurseryTask    *task,
                                  gpointer        int_value);   /* GINT_TO_POINTER */
void     nt_child_fail           (NurseryTask    *task,
                                  gpointer        message);     /* const char *, code G_IO_ERROR_FAILED */
void     nt_child_until_cancelled (NurseryTask   *task,
                                  gpointer        unused);      /* returns CANCELLED when cancelled */
void     nt_child_never_called   (NurseryTask    *task,
                                  gpointer        unused);      /* fails the test if run */
void     nt_child_block_until_cancelled (NurseryTask *task,
                                  gpointer        unused);      /* thread child: blocks on the cancellable's fd */

/* An in-context child that returns @int_value (GINT_TO_POINTER) from a
 * low-priority idle: later than its start, with no timer involved. */
void     nt_child_return_int_from_idle (NurseryTask *task,
                                  gpointer        int_value);

/* A GObject::notify handler that increments the guint it is given. */
void     nt_count_notify         (GObject        *object,
                                  GParamSpec     *pspec,
                                  gpointer        counter);

/* One GListModel::items-changed emission. */
typedef struct
{
  guint position;
  guint removed;
  guint added;
} NtChange;

/* A GListModel::items-changed handler that appends an NtChange to the
 * GArray it is given. */
void     nt_record_items_changed (GListModel     *model,
                                  guint           position,
                                  guint           removed,
                                  guint           added,
                                  gpointer        changes);

/* State for thread children or pool jobs that wait for each other: each
 * arrives, then waits (under @lock, on @cond) for @n arrivals; the tests
 * give up after a few seconds and set @timed_out. */
typedef struct
{
  GMutex   lock;
  GCond    cond;
  guint    n;
  guint    arrived;
  guint    left;          /* those done waiting (test-pool) */
  gboolean release;       /* lets every waiter go (test-pool) */
  gboolean timed_out;
  gboolean mark_blocked;  /* wait inside the pool's blocking_begin/end (test-pool) */
} NtBarrier;

void     nt_barrier_init         (NtBarrier      *barrier,
                                  guint           n);
void     nt_barrier_clear        (NtBarrier      *barrier);

/* A destroy notify that increments the guint it is given. */
void     nt_count_destroy        (gpointer        counter);

/* Spawns and drops the handle. */
void     nt_spawn                (NurseryGroup   *group,
                                  const char     *name,
                                  NurseryTaskFunc func,
                                  gpointer        data);

G_END_DECLS
