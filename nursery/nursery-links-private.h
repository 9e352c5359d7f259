/* nursery-links-private.h: intrusive GQueue links without GQueue's checks
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* GQueue's link functions check their arguments on every call, which is
 * most of what they cost here (a move is otherwise a few pointer writes,
 * on every spawn); the callers check their moves against their own
 * tables instead. */
static inline void
_nursery_link_push_tail (GQueue *queue,
                         GList  *link)
{
  link->next = NULL;
  link->prev = queue->tail;
  if (queue->tail != NULL)
    queue->tail->next = link;
  else
    queue->head = link;
  queue->tail = link;
  queue->length++;
}

static inline void
_nursery_link_unlink (GQueue *queue,
                      GList  *link)
{
  if (link->prev != NULL)
    link->prev->next = link->next;
  else
    queue->head = link->next;
  if (link->next != NULL)
    link->next->prev = link->prev;
  else
    queue->tail = link->prev;
  link->next = link->prev = NULL;
  queue->length--;
}

/* @replacement takes @link's place in @queue; @link is left dangling. */
static inline void
_nursery_link_replace (GQueue *queue,
                       GList  *link,
                       GList  *replacement)
{
  replacement->prev = link->prev;
  replacement->next = link->next;
  if (link->prev != NULL)
    link->prev->next = replacement;
  else
    queue->head = replacement;
  if (link->next != NULL)
    link->next->prev = replacement;
  else
    queue->tail = replacement;
}

G_END_DECLS
