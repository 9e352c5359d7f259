/* nursery-runner.h: one function that runs many children, for bindings
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (NURSERY_INSIDE) && !defined (NURSERY_COMPILATION)
# error "Only <nursery.h> can be included directly."
#endif

#include <glib-object.h>

#include "nursery-types.h"
#include "nursery-version-macros.h"

G_BEGIN_DECLS

/**
 * NurseryRunnerFunc:
 * @task: (nullable): the child to run, or %NULL if it never runs
 * @key: the key the child was spawned with
 * @user_data: (closure): the data passed to [ctor@Nursery.Runner.new]
 *
 * The body of every child spawned with a [class@Nursery.Runner]: it runs
 * the child @key names, as a [callback@Nursery.TaskFunc] would, or, when
 * @task is %NULL, lets go of what the caller keeps for @key.
 *
 * It is called on the owner context of the child's group, except when a
 * spawn is refused for bad arguments (a critical): then at once, on the
 * caller's thread.
 *
 * Since: 1.0
 */
typedef void (*NurseryRunnerFunc) (NurseryTask *task,
                                   gsize        key,
                                   gpointer     user_data);

#define NURSERY_TYPE_RUNNER (nursery_runner_get_type ())
NURSERY_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (NurseryRunner, nursery_runner, NURSERY, RUNNER, GObject)

NURSERY_AVAILABLE_IN_1_0
NurseryRunner *nursery_runner_new (NurseryRunnerFunc func,
                                   gpointer          user_data,
                                   GDestroyNotify    destroy);

G_END_DECLS
