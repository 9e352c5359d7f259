/* nursery-test-utils.h: child bodies and loop helpers shared by the C tests
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <nursery.h>

G_BEGIN_DECLS

/* Iterates the thread-default context until *flag is TRUE. */
void     nt_run_until            (const gboolean *flag);
/* Iterates until *value >= target. */
void     nt_run_until_count      (const guint    *value,
                                  guint           target);
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

/* A destroy notify that increments the guint it is given. */
void     nt_count_destroy        (gpointer        counter);

/* Spawns and drops the handle. */
void     nt_spawn                (NurseryGroup   *group,
                                  const char     *name,
                                  NurseryTaskFunc func,
                                  gpointer        data);

G_END_DECLS
