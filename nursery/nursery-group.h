/* nursery-group.h: a structured-concurrency task group
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
#include "nursery-task.h"

G_BEGIN_DECLS

/**
 * NurseryGroupState:
 * @NURSERY_GROUP_OPEN: nobody waits for the group yet
 * @NURSERY_GROUP_JOINING: someone waits; the group closes when its last child finishes
 * @NURSERY_GROUP_CLOSED: joined: every child has finished and no more can be spawned
 *
 * The life of a [class@Nursery.Group]: open → joining → closed.
 * Whether it was cancelled is separate: see [property@Nursery.Group:cancelled].
 *
 * Since: 1.0
 */
typedef enum
{
  NURSERY_GROUP_OPEN,
  NURSERY_GROUP_JOINING,
  NURSERY_GROUP_CLOSED,
} NurseryGroupState;

/**
 * NurseryPolicy:
 * @NURSERY_POLICY_FAIL_FAST: the first failure cancels the group (the default)
 * @NURSERY_POLICY_SUPERVISE: failures are recorded; siblings keep running
 * @NURSERY_POLICY_RACE: the first child to succeed cancels the rest and
 *   becomes the group's winner; if every child fails, the first failure is
 *   the group's result
 *
 * What a [class@Nursery.Group] does when a child finishes.
 *
 * Since: 1.0
 */
typedef enum
{
  NURSERY_POLICY_FAIL_FAST,
  NURSERY_POLICY_SUPERVISE,
  NURSERY_POLICY_RACE,
} NurseryPolicy;

#define NURSERY_TYPE_GROUP (nursery_group_get_type ())

NURSERY_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (NurseryGroup, nursery_group, NURSERY, GROUP, GObject)

NURSERY_AVAILABLE_IN_1_0
NurseryGroup      *nursery_group_new              (void);

NURSERY_AVAILABLE_IN_1_0
NurseryGroup      *nursery_group_new_for_task     (NurseryTask          *parent);
NURSERY_AVAILABLE_IN_1_0
NurseryGroup      *nursery_group_new_with_cancellable (GCancellable     *parent);

NURSERY_AVAILABLE_IN_1_0
NurseryTask       *nursery_group_spawn            (NurseryGroup         *self,
                                                   const char           *name,
                                                   NurseryTaskFunc       func,
                                                   gpointer              user_data,
                                                   GDestroyNotify        destroy,
                                                   GError              **error);
NURSERY_AVAILABLE_IN_1_0
gboolean           nursery_group_start_soon       (NurseryGroup         *self,
                                                   const char           *name,
                                                   NurseryTaskFunc       func,
                                                   gpointer              user_data,
                                                   GDestroyNotify        destroy,
                                                   GError              **error);
NURSERY_AVAILABLE_IN_1_0
NurseryTask       *nursery_group_spawn_keyed      (NurseryGroup         *self,
                                                   const char           *name,
                                                   NurseryRunner        *runner,
                                                   gsize                 key,
                                                   GError              **error);
NURSERY_AVAILABLE_IN_1_0
gboolean           nursery_group_start_soon_keyed (NurseryGroup         *self,
                                                   const char           *name,
                                                   NurseryRunner        *runner,
                                                   gsize                 key,
                                                   GError              **error);
NURSERY_AVAILABLE_IN_1_0
NurseryTask       *nursery_group_spawn_in_thread  (NurseryGroup         *self,
                                                   const char           *name,
                                                   NurseryTaskFunc       func,
                                                   gpointer              user_data,
                                                   GDestroyNotify        destroy,
                                                   GError              **error);

NURSERY_AVAILABLE_IN_1_0
void               nursery_group_start_async      (NurseryGroup         *self,
                                                   const char           *name,
                                                   NurseryTaskFunc       func,
                                                   gpointer              user_data,
                                                   GDestroyNotify        destroy,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              callback_data);
NURSERY_AVAILABLE_IN_1_0
NurseryTask       *nursery_group_start_finish     (NurseryGroup         *self,
                                                   GAsyncResult         *result,
                                                   GValue               *started_value,
                                                   GError              **error);

NURSERY_AVAILABLE_IN_1_0
void               nursery_group_wait_async       (NurseryGroup         *self,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
NURSERY_AVAILABLE_IN_1_0
gboolean           nursery_group_wait_finish      (NurseryGroup         *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);
NURSERY_AVAILABLE_IN_1_0
gboolean           nursery_group_wait             (NurseryGroup         *self,
                                                   GCancellable         *cancellable,
                                                   GError              **error);

NURSERY_AVAILABLE_IN_1_0
void               nursery_group_next_async       (NurseryGroup         *self,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
NURSERY_AVAILABLE_IN_1_0
NurseryTask       *nursery_group_next_finish      (NurseryGroup         *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);
NURSERY_AVAILABLE_IN_1_0
GListModel        *nursery_group_list_tasks       (NurseryGroup         *self);

NURSERY_AVAILABLE_IN_1_0
void               nursery_group_cancel           (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
gboolean           nursery_group_is_cancelled     (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
gboolean           nursery_group_is_closed        (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
NurseryGroupState  nursery_group_get_state        (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
GPtrArray         *nursery_group_get_errors       (NurseryGroup         *self);

NURSERY_AVAILABLE_IN_1_0
const char        *nursery_group_get_name         (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
void               nursery_group_set_name         (NurseryGroup         *self,
                                                   const char           *name);
NURSERY_AVAILABLE_IN_1_0
GMainContext      *nursery_group_get_context      (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
NurseryPolicy      nursery_group_get_policy       (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
void               nursery_group_set_policy       (NurseryGroup         *self,
                                                   NurseryPolicy         policy);
NURSERY_AVAILABLE_IN_1_0
guint              nursery_group_get_max_concurrent (NurseryGroup       *self);
NURSERY_AVAILABLE_IN_1_0
void               nursery_group_set_max_concurrent (NurseryGroup       *self,
                                                     guint               max_concurrent);
NURSERY_AVAILABLE_IN_1_0
NurseryTask       *nursery_group_get_winner       (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
void               nursery_group_set_shielded     (NurseryGroup         *self,
                                                   gboolean              shielded);
NURSERY_AVAILABLE_IN_1_0
gboolean           nursery_group_get_shielded     (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
void               nursery_group_set_deadline     (NurseryGroup         *self,
                                                   gint64                deadline);
NURSERY_AVAILABLE_IN_1_0
void               nursery_group_set_timeout      (NurseryGroup         *self,
                                                   GTimeSpan             timeout);
NURSERY_AVAILABLE_IN_1_0
void               nursery_group_clear_deadline   (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
gint64             nursery_group_get_deadline     (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
void               nursery_group_cancel_on_unix_signal (NurseryGroup    *self,
                                                   int                   signum);
NURSERY_AVAILABLE_IN_1_0
void               nursery_group_add_cleanup      (NurseryGroup         *self,
                                                   NurseryCleanupFunc    func,
                                                   gpointer              user_data,
                                                   GDestroyNotify        destroy);
NURSERY_AVAILABLE_IN_1_0
char              *nursery_group_dump_tree        (NurseryGroup         *self);

NURSERY_AVAILABLE_IN_1_0
guint              nursery_group_get_n_running    (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
guint              nursery_group_get_n_pending    (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
guint              nursery_group_get_n_finished   (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
guint              nursery_group_get_n_failed     (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
guint              nursery_group_get_n_succeeded  (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
guint              nursery_group_get_n_cancelled  (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
guint              nursery_group_get_n_spawned    (NurseryGroup         *self);
NURSERY_AVAILABLE_IN_1_0
char             **nursery_group_get_failed_task_names (NurseryGroup    *self);
NURSERY_AVAILABLE_IN_1_0
int                nursery_group_get_cancel_signal (NurseryGroup        *self);
NURSERY_AVAILABLE_IN_1_0
void               nursery_group_hold_application (NurseryGroup         *self,
                                                   GApplication         *application);

G_END_DECLS
