/* nursery-group-release.c: what a group does with its reported children
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Once a child is reported (R3) the group drops its reference. A task
 * that nothing but its group can see (see _nursery_task_recycle()) is
 * reset and kept instead, up to G_N_ELEMENTS (spare_tasks), for the next
 * spawns: a child spawned per iteration then never pays a GObject's life
 * (R28). Everything here runs on the owner context. */

#include "config.h"

#include "nursery-group-impl-private.h"
#include "nursery-task-private.h"

/* The group's reference to @task, a child it has reported. */
void
_nursery_group_release_task (NurseryGroup *self,
                             NurseryTask  *task)
{
  if (self->n_spare_tasks < G_N_ELEMENTS (self->spare_tasks) && _nursery_task_recycle (task))
    self->spare_tasks[self->n_spare_tasks++] = task;
  else
    g_object_unref (task);
}

/* A spare task for spawn(), or NULL. */
NurseryTask *
_nursery_group_take_spare_task (NurseryGroup *self)
{
  return self->n_spare_tasks > 0 ? self->spare_tasks[--self->n_spare_tasks] : NULL;
}

/* From finalize. */
void
_nursery_group_release_spares (NurseryGroup *self)
{
  while (self->n_spare_tasks > 0)
    g_object_unref (self->spare_tasks[--self->n_spare_tasks]);
}
