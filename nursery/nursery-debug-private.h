/* nursery-debug-private.h: debug output by category, decided at run time
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* NURSERY_DEBUG=spawn,cancel,... (or "all", or "help") selects categories;
 * their lines are messages, shown whatever G_MESSAGES_DEBUG says. Without
 * it, every category is on as debug output whenever GLib would show
 * Nursery's debug messages (G_MESSAGES_DEBUG=Nursery or all, or
 * g_log_set_debug_enabled()), at any moment of the run. */
typedef enum
{
  NURSERY_DEBUG_SPAWN    = 1 << 0,  /* children starting and finishing */
  NURSERY_DEBUG_CANCEL   = 1 << 1,  /* what cancelled a group */
  NURSERY_DEBUG_DEADLINE = 1 << 2,  /* deadlines firing */
  NURSERY_DEBUG_GROUP    = 1 << 3,  /* groups closing */
  NURSERY_DEBUG_CHANNEL  = 1 << 4,
  NURSERY_DEBUG_POOL     = 1 << 5,  /* the worker pool */
} NurseryDebugFlags;

/* 0 when the category is off, else the level its lines go out at. */
GLogLevelFlags _nursery_debug_level (NurseryDebugFlags category);

#define NURSERY_NOTE(category, ...)                                          \
  G_STMT_START {                                                             \
    GLogLevelFlags nursery_note_level_ = _nursery_debug_level (NURSERY_DEBUG_##category); \
    if (G_UNLIKELY (nursery_note_level_ != 0))                               \
      g_log (G_LOG_DOMAIN, nursery_note_level_, __VA_ARGS__);                \
  } G_STMT_END

#define NURSERY_DEBUG_ON(category) (_nursery_debug_level (NURSERY_DEBUG_##category) != 0)

G_END_DECLS
