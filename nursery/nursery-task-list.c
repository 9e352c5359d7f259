/* nursery-task-list.c: a group's unfinished tasks as a GListModel
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* What nursery_group_list_tasks() returns, for GtkListView and friends.
 * The tasks sit in a GSequence (a balanced tree), and each task remembers
 * its own node, so appending and removing are O(log n), positions
 * included. The group creates the list only when somebody asks for it and
 * updates it from its batch, on the owner context.
 *
 * R27: a batch announces its changes in ranges, never task by task. The
 * children it adds are appended in one go (one items-changed); the ones
 * it reports finished leave together before they are reported, with one
 * items-changed per contiguous range of positions. */

#include "config.h"

#include "nursery-task-list-private.h"
#include "nursery-task-private.h"
#include "nursery-tsan-private.h"

struct _NurseryTaskList
{
  GObject    parent_instance;
  GSequence *tasks;     /* (element-type NurseryTask) (owned) */
  GPtrArray *removals;  /* finished during this batch; nodes still in tasks */
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

/* The task's node in a list, or NULL. */
static GSequenceIter *
model_iter (NurseryTask *task)
{
  NurseryTaskExtra *extra = _nursery_task_peek_extra (task);

  return extra != NULL ? extra->model_iter : NULL;
}

static void
forget_node (gpointer data)
{
  NurseryTask *task = data;

  _nursery_task_extra (task)->model_iter = NULL;
  g_object_unref (task);
}

static void
_nursery_task_list_finalize (GObject *object)
{
  NurseryTaskList *self = NURSERY_TASK_LIST (object);

  _nursery_tsan_acquire_sole_owner (object);
  g_ptr_array_unref (self->removals);
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
  self->removals = g_ptr_array_new ();
}

NurseryTaskList *
_nursery_task_list_new (void)
{
  return g_object_new (NURSERY_TYPE_TASK_LIST, NULL);
}

/* Appends the unfinished ones among @tasks, announced as one range. */
void
_nursery_task_list_append_many (NurseryTaskList *self,
                                GPtrArray       *tasks)
{
  guint position = g_sequence_get_length (self->tasks);
  guint added = 0;

  for (guint i = 0; i < tasks->len; i++)
    {
      NurseryTask *task = tasks->pdata[i];

      if (nursery_task_is_finished (task))
        continue;
      g_assert (model_iter (task) == NULL);
      _nursery_task_extra (task)->model_iter = g_sequence_append (self->tasks, g_object_ref (task));
      added++;
    }
  if (added > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), position, 0, added);
}

/* The task leaves with the next _nursery_task_list_flush(); once.
 * Returns whether it was in the list. */
gboolean
_nursery_task_list_remove (NurseryTaskList *self,
                           NurseryTask     *task)
{
  /* Each task is reported once, and a flushed one has no node left. */
  if (model_iter (task) == NULL)
    return FALSE;
  g_ptr_array_add (self->removals, task);
  return TRUE;
}

static int
by_position_descending (gconstpointer a,
                        gconstpointer b)
{
  guint pa = *(const guint *) a;
  guint pb = *(const guint *) b;

  return pa < pb ? 1 : pa > pb ? -1 : 0;
}

/* Removes @n nodes from @position on and announces them once. */
static void
remove_range (NurseryTaskList *self,
              guint            position,
              guint            n)
{
  GSequenceIter *begin = g_sequence_get_iter_at_pos (self->tasks, position);
  GSequenceIter *end = g_sequence_get_iter_at_pos (self->tasks, position + n);

  /* forget_node() drops the list's references and the node pointers. */
  g_sequence_remove_range (begin, end);
  g_list_model_items_changed (G_LIST_MODEL (self), position, n, 0);
}

/* R27: one items-changed per contiguous range, highest range first so
 * the positions of the lower ones stay valid. */
void
_nursery_task_list_flush (NurseryTaskList *self)
{
  g_autoptr(GArray) positions = NULL;
  guint run_start, run_length;

  if (self->removals->len == 0)
    return;
  positions = g_array_sized_new (FALSE, FALSE, sizeof (guint), self->removals->len);
  for (guint i = 0; i < self->removals->len; i++)
    {
      guint position = g_sequence_iter_get_position (model_iter (self->removals->pdata[i]));

      g_array_append_val (positions, position);
    }
  g_ptr_array_set_size (self->removals, 0);
  g_array_sort (positions, by_position_descending);

  run_start = g_array_index (positions, guint, 0);
  run_length = 1;
  for (guint i = 1; i < positions->len; i++)
    {
      guint position = g_array_index (positions, guint, i);

      if (position + 1 == run_start)
        {
          run_start = position;
          run_length++;
          continue;
        }
      remove_range (self, run_start, run_length);
      run_start = position;
      run_length = 1;
    }
  remove_range (self, run_start, run_length);
}
