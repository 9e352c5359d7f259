/* nursery-debug.c: debug output by category, decided at run time
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nursery-debug-private.h"

static const GDebugKey debug_keys[] = {
  { "spawn", NURSERY_DEBUG_SPAWN },
  { "cancel", NURSERY_DEBUG_CANCEL },
  { "deadline", NURSERY_DEBUG_DEADLINE },
  { "group", NURSERY_DEBUG_GROUP },
  { "channel", NURSERY_DEBUG_CHANNEL },
  { "pool", NURSERY_DEBUG_POOL },
};

static guint selected;      /* from NURSERY_DEBUG, read once */
static gboolean by_domain;  /* G_MESSAGES_DEBUG names Nursery (or all), read once */

/* As GLib reads it: a space-separated list of domains, or "all". */
static gboolean
names_nursery (const char *domains)
{
  g_auto(GStrv) names = NULL;

  if (domains == NULL)
    return FALSE;
  names = g_strsplit (domains, " ", -1);
  return g_strv_contains ((const char * const *) names, "all") ||
         g_strv_contains ((const char * const *) names, G_LOG_DOMAIN);
}

static void
read_environment (void)
{
  static gsize done = 0;

  if (!g_once_init_enter (&done))
    return;
  selected = g_parse_debug_string (g_getenv ("NURSERY_DEBUG"), debug_keys, G_N_ELEMENTS (debug_keys));
  /* Read once: GLib's own check reads the environment on every call,
   * too slow for lines that may come once per child. */
  by_domain = names_nursery (g_getenv ("G_MESSAGES_DEBUG"));
  g_once_init_leave (&done, 1);
}

GLogLevelFlags
_nursery_debug_level (NurseryDebugFlags category)
{
  read_environment ();
  if (selected & category)
    return G_LOG_LEVEL_MESSAGE;
  /* g_log_set_debug_enabled() may be switched on at any time. */
  if (by_domain || g_log_get_debug_enabled ())
    return G_LOG_LEVEL_DEBUG;
  return 0;
}
