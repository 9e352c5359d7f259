/* nursery-queued-child-private.h: a child spawned without a handle,
 * until its turn comes
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nursery-task.h"

G_BEGIN_DECLS

/* nursery_group_start_soon() asks for no handle, so until its turn comes
 * (or somebody lists the group's tasks) its child is this record, not a
 * NurseryTask: a GObject per pending child is most of a spawn's cost and
 * of its memory (R28). It sits where a task would: its all_link in the
 * group's unfinished tasks, its queue_link in the pending queue or in a
 * queue of the batch that took it. The group turns it into a task (see
 * nursery-group-soon.c) before anything but the walks of those lists
 * sees it, and it may be one again once its child has succeeded, until
 * the batch reports it. Guarded by the group's lock, like a task's
 * links. */
typedef struct
{
  /* NULL, where a task (a GTypeInstance) has its class: the links' data
   * is either, and _nursery_is_queued_child() tells which. */
  gpointer         not_a_task;
  GList            all_link;
  GList            queue_link;
  char            *name;
  NurseryTaskFunc  func;
  gpointer         user_data;
  GDestroyNotify   destroy;
  gint64           spawn_time;
  /* Until it has returned: its task, when list_tasks() made one while
   * the batch held it. Once returned: its value, a plain one, of type
   * @value_type: G_TYPE_INVALID (none), G_TYPE_BOOLEAN or G_TYPE_INT64,
   * fundamental types whose ids fit a byte. Not a GValue: 16 bytes less
   * keep the record within the 128-byte chunks glibc's malloc() serves
   * from its fast bins. */
  union {
    NurseryTask   *adopted;
    gint64         value;
  };
  guint8           value_type;
  guint8           in_pending;
  /* It ran and succeeded, with @value, and is in the returned queue:
   * its task gave the outcome back (_nursery_group_settle_taken()). */
  guint8           returned;
} NurseryQueuedChild;

/* Whether @data, a link's data in a group's task lists, is a queued
 * child rather than a task. */
static inline gboolean
_nursery_is_queued_child (gconstpointer data)
{
  return ((const NurseryQueuedChild *) data)->not_a_task == NULL;
}

G_END_DECLS
