/* nursery-group-private.h: what NurseryTask needs to see of its group
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nursery-group.h"

G_BEGIN_DECLS

#define NURSERY_CRITICAL_DOMAIN "Nursery"

/* The part of a group that its tasks keep: the lock that guards the
 * group's queues and the tasks' cancellation state, and a pointer back to
 * the group that is cleared when the group is finalized. Tasks may be
 * cancelled from any thread, even after their group is gone; the anchor
 * is what makes that safe. */
typedef struct _NurseryAnchor
{
  gatomicrefcount  ref_count;
  GMutex           lock;
  NurseryGroup    *group;   /* (lock), NULL once finalized */
} NurseryAnchor;

NurseryAnchor *_nursery_anchor_ref   (NurseryAnchor *anchor);
void           _nursery_anchor_unref (NurseryAnchor *anchor);

/* Called with anchor->lock held. */
void _nursery_group_task_returned_locked  (NurseryGroup *self,
                                           NurseryTask  *task);
void _nursery_group_task_cancelled_locked (NurseryGroup *self,
                                           NurseryTask  *task);
void _nursery_group_task_unshielded_locked (NurseryGroup *self,
                                            NurseryTask  *task,
                                            GCancellable **to_cancel);
void _nursery_group_task_started_locked   (NurseryGroup *self,
                                           NurseryTask  *task);
void _nursery_group_task_notify_locked    (NurseryGroup *self,
                                           NurseryTask  *task);

G_END_DECLS
