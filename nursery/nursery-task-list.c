/* nursery-task-list.c: a group's unfinished tasks as a GListModel
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* What nursery_group_list_tasks() returns, for GtkListView and friends.
 * The tasks sit in a GSequence (a balanced tree), and each task remembers
 * its own node, so appending and removing are O(log n), positions
 * included. The group creates the list only when somebody asks for it and
 * updates it from its batch, on the owner context. */

#include "config.h"

#include "nursery-task-list-private.h"
#include "nursery-task-private.h"

struct _NurseryTaskList
{
  GObject    parent_instance;
  GSequence *tasks;   /* (element-type NurseryTask) (owned) */
};

static GType
nursery_task_list_get_item_type (GListModel *model)
{
  return NURSERY_TYPE_TASK;
}

static guint
nursery_task_list_get_n_items (GListModel *model)
{
  return g_sequence_get_length (NURSERY_TASK_LIST (model)->tasks);
}

static gpointer
nursery_task_list_get_item (GListModel *model,
                            guint       position)
{
  NurseryTaskList *self = NURSERY_TASK_LIST (model);
  GSequenceIter *iter = g_sequence_get_iter_at_pos (self->tasks, position);

  if (g_sequence_iter_is_end (iter))
    return NULL;
  return g_object_ref (g_sequence_get (iter));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = nursery_task_list_get_item_type;
  iface->get_n_items = nursery_task_list_get_n_items;
  iface->get_item = nursery_task_list_get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (NurseryTaskList, _nursery_task_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static void
forget_node (gpointer data)
{
  NurseryTask *task = data;

  task->model_iter = NULL;
  g_object_unref (task);
}

static void
_nursery_task_list_finalize (GObject *object)
{
  NurseryTaskList *self = NURSERY_TASK_LIST (object);

  g_sequence_free (self->tasks);
  G_OBJECT_CLASS (_nursery_task_list_parent_class)->finalize (object);
}

static void
_nursery_task_list_class_init (NurseryTaskListClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = _nursery_task_list_finalize;
}

static void
_nursery_task_list_init (NurseryTaskList *self)
{
  self->tasks = g_sequence_new (forget_node);
}

NurseryTaskList *
_nursery_task_list_new (void)
{
  return g_object_new (NURSERY_TYPE_TASK_LIST, NULL);
}

void
_nursery_task_list_append (NurseryTaskList *self,
                           NurseryTask     *task)
{
  guint position = g_sequence_get_length (self->tasks);

  g_assert (task->model_iter == NULL);
  task->model_iter = g_sequence_append (self->tasks, g_object_ref (task));
  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
}

void
_nursery_task_list_remove (NurseryTaskList *self,
                           NurseryTask     *task)
{
  guint position;

  if (task->model_iter == NULL)
    return;
  position = g_sequence_iter_get_position (task->model_iter);
  /* forget_node() drops the list's reference and the node pointer. */
  g_sequence_remove (task->model_iter);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
}
