/* nursery-clock-private.h: when a child or a group was born
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <time.h>

G_BEGIN_DECLS

/* The birth clock of groups and children, read once per spawn and only
 * for the ages of the tree dump (R14): the kernel's coarse monotonic
 * clock where there is one. That clock returns a time the kernel keeps,
 * one tick (1 to 4 ms) behind; g_get_monotonic_time() reads the hardware
 * counter, which on a virtual machine took a tenth of a start_soon()
 * child's cost (R28). An age needs no better than a tick. Both clocks
 * count from the same origin, so the fallback mixes with either. */
static inline gint64
_nursery_birth_clock (void)
{
#ifdef CLOCK_MONOTONIC_COARSE
  struct timespec now;

  if (clock_gettime (CLOCK_MONOTONIC_COARSE, &now) == 0)
    return (gint64) now.tv_sec * G_USEC_PER_SEC + now.tv_nsec / 1000;
#endif
  return g_get_monotonic_time ();
}

G_END_DECLS
