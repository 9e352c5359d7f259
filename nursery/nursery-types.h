/* nursery-types.h: forward declarations shared by the public headers
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (NURSERY_INSIDE) && !defined (NURSERY_COMPILATION)
# error "Only <nursery.h> can be included directly."
#endif

#include <gio/gio.h>

#include "nursery-version-macros.h"

G_BEGIN_DECLS

typedef struct _NurseryGroup  NurseryGroup;
typedef struct _NurseryTask   NurseryTask;
typedef struct _NurseryRunner NurseryRunner;

/**
 * NurseryTaskFunc:
 * @task: the task being run
 * @user_data: (closure): the data passed when the task was spawned
 *
 * The body of a child task.
 *
 * For a child spawned with [method@Nursery.Group.spawn] the function
 * runs on the group's owner context and the task finishes when one of
 * the `nursery_task_return_*()` functions is called, possibly later from
 * a callback. For a child spawned with [method@Nursery.Group.spawn_in_thread]
 * the function runs on a worker thread; if it returns without a result
 * the task succeeds with no value.
 *
 * Since: 1.0
 */
typedef void (*NurseryTaskFunc) (NurseryTask *task,
                                 gpointer     user_data);

/**
 * NurseryCleanupFunc:
 * @group: the group whose children have all finished
 * @user_data: (closure): the data passed to [method@Nursery.Group.add_cleanup]
 *
 * A cleanup on a group's exit stack; see [method@Nursery.Group.add_cleanup].
 *
 * Since: 1.0
 */
typedef void (*NurseryCleanupFunc) (NurseryGroup *group,
                                    gpointer      user_data);

G_END_DECLS
