/* nursery-group-release.c: what a group does with its reported children
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Once a child is reported (R3) the group drops its reference. A task
 * that nothing but its group can see
 * (_nursery_task_is_seen_outside_group()) is reset and kept instead, up to G_N_ELEMENTS (spare_tasks), for the next
 * spawns: a child spawned per iteration then never pays a GObject's life
 * (R28). Everything here runs on the owner context. */

#include "config.h"

#include "nursery-group-impl-private.h"
#include "nursery-task-private.h"

/* A released child frees a handful of small blocks (its cancellable,
 * the closures connected to it, its error). glibc keeps such blocks in
 * its fast bins, unmerged, until a large request merges them all at once:
 * after a burst of 100k children with nothing large asked for in between,
 * the request that came (GObject's signal handler table shrinking) stalled
 * the owner context for 15–30 ms, and the p99 lateness of 100k deadlines
 * with it (R28). Asking for a large block every RELEASES_PER_COALESCE
 * released children makes glibc merge them in small steps instead; other
 * allocators pay one malloc and free. The size is above glibc's
 * per-thread cache (1 032 bytes) and its large-request bound (1 024). */
#define RELEASES_PER_COALESCE 16
#define COALESCE_REQUEST_SIZE 4096

static void
coalesce_freed_blocks (NurseryGroup *self)
{
  if (++self->n_released < RELEASES_PER_COALESCE)
    return;
  self->n_released = 0;
  g_free (g_malloc (COALESCE_REQUEST_SIZE));
}

/* The group's reference to @task, a child it has reported; @unseen when
 * the caller has just checked that nothing else can see it. */
void
_nursery_group_release_task (NurseryGroup *self,
                             NurseryTask  *task,
                             gboolean      unseen)
{
  if (self->n_spare_tasks < G_N_ELEMENTS (self->spare_tasks) &&
      (unseen || !_nursery_task_is_seen_outside_group (task)))
    {
      _nursery_task_reset (task);
      self->spare_tasks[self->n_spare_tasks++] = task;
      return;
    }
  g_object_unref (task);
  coalesce_freed_blocks (self);
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
