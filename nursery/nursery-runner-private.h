/* nursery-runner-private.h: a keyed child as a function and its data
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nursery-runner.h"

G_BEGIN_DECLS

/* The function, user data and destroy notify a spawn function takes for
 * the child @key of @self: the notify calls the runner with %NULL if the
 * function never ran, so every key reaches the runner exactly once. */
void _nursery_runner_bind (NurseryRunner   *self,
                           gsize            key,
                           NurseryTaskFunc *func,
                           gpointer        *user_data,
                           GDestroyNotify  *destroy);

/* Whether @func is the function of every keyed child: such a child has no
 * user data of its own to show (nursery_task_get_task_data()). */
gboolean _nursery_runner_is_keyed_func (NurseryTaskFunc func);

G_END_DECLS
