/* nursery-group-stream-private.h: a group's completion stream
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nursery-group.h"
#include "nursery-task-list-private.h"

G_BEGIN_DECLS

/* What a group hands out as its children finish: next_async() callers and
 * the list_tasks() model (R27). Embedded in the group; every function
 * below runs on the group's owner context only, with no lock held, except
 * _nursery_group_schedule() (any thread). */
typedef struct
{
  GQueue           next_waiters;   /* NextWaiter of nursery_group_next_async() */
  GQueue           completed;      /* finished tasks not taken by next_async() yet */
  NurseryTaskList *task_list;      /* created by the first list_tasks() */
  GPtrArray       *list_additions; /* spawned since the last batch, for task_list */
  gboolean         tracking;       /* since the first next_async() */
} NurseryGroupStream;

/* The stream's side of the group's batch, in batch order. */
void     _nursery_group_stream_add_spawned  (NurseryGroupStream *stream);
void     _nursery_group_stream_unlist_many  (NurseryGroupStream *stream,
                                             GQueue             *tasks);
void     _nursery_group_stream_unlist_cancelled (NurseryGroupStream *stream,
                                                 NurseryTask        *task,
                                                 GQueue             *starting);
void     _nursery_group_stream_serve        (NurseryGroupStream *stream,
                                             NurseryGroup       *group);
void     _nursery_group_stream_flush_list   (NurseryGroupStream *stream);

/* A child entering and leaving the group. */
void     _nursery_group_stream_spawned      (NurseryGroupStream *stream,
                                             NurseryTask        *task);
void     _nursery_group_stream_unlist       (NurseryGroupStream *stream,
                                             NurseryTask        *task);
gboolean _nursery_group_stream_take         (NurseryGroupStream *stream,
                                             NurseryTask        *task);

void     _nursery_group_stream_clear        (NurseryGroupStream *stream);

/* Provided by nursery-group.c for the stream, and the owner checks for
 * every owner-only call (R23, R24): the quick one, the critical, and
 * holding the owner context around a call that works outside the
 * anchor's lock. */
NurseryGroupStream *_nursery_group_get_stream       (NurseryGroup *self);
void                _nursery_group_schedule         (NurseryGroup *self);
void                _nursery_group_begin_join       (NurseryGroup *self);
GPtrArray          *_nursery_group_ref_unfinished   (NurseryGroup *self);
gboolean            _nursery_group_called_on_owner  (NurseryGroup *self);
void                _nursery_group_warn_not_owner   (const char   *caller);
gboolean            _nursery_group_acquire_owner    (NurseryGroup *self,
                                                     const char   *caller);
void                _nursery_group_release_owner    (NurseryGroup *self);
GTask              *_nursery_group_new_owner_task   (NurseryGroup        *self,
                                                     gpointer             source_tag,
                                                     const char          *name,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);

G_END_DECLS
