/* nursery-task.h: one child of a NurseryGroup
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (NURSERY_INSIDE) && !defined (NURSERY_COMPILATION)
# error "Only <nursery.h> can be included directly."
#endif

#include <gio/gio.h>

#include "nursery-types.h"

G_BEGIN_DECLS

/**
 * NurseryTaskState:
 * @NURSERY_TASK_PENDING: spawned, its function has not been called yet
 * @NURSERY_TASK_RUNNING: its function has been called and it has not finished
 * @NURSERY_TASK_SUCCEEDED: finished with an optional value
 * @NURSERY_TASK_FAILED: finished with an error
 * @NURSERY_TASK_CANCELLED: finished because it was cancelled
 *
 * Where a [class@Nursery.Task] is in its life. Every task ends in exactly
 * one of the three finished states.
 *
 * Since: 1.0
 */
typedef enum
{
  NURSERY_TASK_PENDING,
  NURSERY_TASK_RUNNING,
  NURSERY_TASK_SUCCEEDED,
  NURSERY_TASK_FAILED,
  NURSERY_TASK_CANCELLED,
} NurseryTaskState;

#define NURSERY_TYPE_TASK (nursery_task_get_type ())

NURSERY_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (NurseryTask, nursery_task, NURSERY, TASK, GObject)

NURSERY_AVAILABLE_IN_1_0
const char       *nursery_task_get_name                   (NurseryTask          *self);
NURSERY_AVAILABLE_IN_1_0
NurseryGroup     *nursery_task_get_group                  (NurseryTask          *self);
NURSERY_AVAILABLE_IN_1_0
NurseryTaskState  nursery_task_get_state                  (NurseryTask          *self);
NURSERY_AVAILABLE_IN_1_0
gboolean          nursery_task_is_finished                (NurseryTask          *self);
NURSERY_AVAILABLE_IN_1_0
GCancellable     *nursery_task_get_cancellable            (NurseryTask          *self);
NURSERY_AVAILABLE_IN_1_0
gboolean          nursery_task_is_cancelled               (NurseryTask          *self);
NURSERY_AVAILABLE_IN_1_0
void              nursery_task_cancel                     (NurseryTask          *self);

NURSERY_AVAILABLE_IN_1_0
void              nursery_task_return_value               (NurseryTask          *self,
                                                           const GValue         *value);
NURSERY_AVAILABLE_IN_1_0
void              nursery_task_return_boolean             (NurseryTask          *self,
                                                           gboolean              result);
NURSERY_AVAILABLE_IN_1_0
void              nursery_task_return_int                 (NurseryTask          *self,
                                                           gint64                result);
NURSERY_AVAILABLE_IN_1_0
void              nursery_task_return_pointer             (NurseryTask          *self,
                                                           gpointer              result,
                                                           GDestroyNotify        result_destroy);
NURSERY_AVAILABLE_IN_1_0
void              nursery_task_return_error               (NurseryTask          *self,
                                                           GError               *error);
NURSERY_AVAILABLE_IN_1_0
void              nursery_task_return_new_error           (NurseryTask          *self,
                                                           GQuark                domain,
                                                           int                   code,
                                                           const char           *format,
                                                           ...) G_GNUC_PRINTF (4, 5);
NURSERY_AVAILABLE_IN_1_0
gboolean          nursery_task_return_error_if_cancelled  (NurseryTask          *self);

NURSERY_AVAILABLE_IN_1_0
const GValue     *nursery_task_get_value                  (NurseryTask          *self);
NURSERY_AVAILABLE_IN_1_0
gboolean          nursery_task_get_boolean                (NurseryTask          *self);
NURSERY_AVAILABLE_IN_1_0
gint64            nursery_task_get_int                    (NurseryTask          *self);
NURSERY_AVAILABLE_IN_1_0
gpointer          nursery_task_get_pointer                (NurseryTask          *self);
NURSERY_AVAILABLE_IN_1_0
const GError     *nursery_task_get_error                  (NurseryTask          *self);

NURSERY_AVAILABLE_IN_1_0
void              nursery_task_set_shielded               (NurseryTask          *self,
                                                           gboolean              shielded);
NURSERY_AVAILABLE_IN_1_0
gboolean          nursery_task_get_shielded               (NurseryTask          *self);
NURSERY_AVAILABLE_IN_1_0
void              nursery_task_set_deadline               (NurseryTask          *self,
                                                           gint64                deadline);
NURSERY_AVAILABLE_IN_1_0
void              nursery_task_set_timeout                (NurseryTask          *self,
                                                           GTimeSpan             timeout);
NURSERY_AVAILABLE_IN_1_0
void              nursery_task_clear_deadline             (NurseryTask          *self);
NURSERY_AVAILABLE_IN_1_0
gint64            nursery_task_get_deadline               (NurseryTask          *self);
NURSERY_AVAILABLE_IN_1_0
void              nursery_task_started                    (NurseryTask          *self,
                                                           const GValue         *value);

NURSERY_AVAILABLE_IN_1_0
void              nursery_task_wait_async                 (NurseryTask          *self,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
NURSERY_AVAILABLE_IN_1_0
gboolean          nursery_task_wait_finish                (NurseryTask          *self,
                                                           GAsyncResult         *result,
                                                           GError              **error);

NURSERY_AVAILABLE_IN_1_0
gpointer          nursery_task_get_task_data              (NurseryTask          *self);
NURSERY_AVAILABLE_IN_1_0
void              nursery_task_set_progress               (NurseryTask          *self,
                                                           double                progress);
NURSERY_AVAILABLE_IN_1_0
double            nursery_task_get_progress               (NurseryTask          *self);
NURSERY_AVAILABLE_IN_1_0
void              nursery_task_add_cleanup                (NurseryTask          *self,
                                                           GTimeSpan             timeout,
                                                           NurseryTaskFunc       func,
                                                           gpointer              user_data,
                                                           GDestroyNotify        destroy);
NURSERY_AVAILABLE_IN_1_0
void              nursery_task_return_from_group          (NurseryTask          *self,
                                                           NurseryGroup         *nested);

G_END_DECLS
