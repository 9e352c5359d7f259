/* nursery-task-list-private.h: a group's unfinished tasks as a GListModel
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "nursery-task.h"

G_BEGIN_DECLS

#define NURSERY_TYPE_TASK_LIST (_nursery_task_list_get_type ())

G_DECLARE_FINAL_TYPE (NurseryTaskList, _nursery_task_list, NURSERY, TASK_LIST, GObject)

NurseryTaskList *_nursery_task_list_new    (void);
void             _nursery_task_list_append (NurseryTaskList *self,
                                            NurseryTask     *task);
gboolean         _nursery_task_list_remove (NurseryTaskList *self,
                                            NurseryTask     *task);
void             _nursery_task_list_append_many (NurseryTaskList *self,
                                                 GPtrArray       *tasks);
void             _nursery_task_list_flush  (NurseryTaskList *self);

G_END_DECLS
