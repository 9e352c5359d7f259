/* nursery-version.c: the version of the library loaded at run time
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nursery-version-macros.h"

/* These return the values the library was built with, which may differ
 * from the NURSERY_*_VERSION macros a program was compiled against. */

/**
 * nursery_get_major_version:
 *
 * The major version of the Nursery library loaded at run time (1 in
 * 1.0.2). [const@Nursery.MAJOR_VERSION] is the version of the headers.
 *
 * Returns: the major version
 *
 * Since: 1.0
 */
guint
nursery_get_major_version (void)
{
  return NURSERY_MAJOR_VERSION;
}

/**
 * nursery_get_minor_version:
 *
 * The minor version of the Nursery library loaded at run time (0 in
 * 1.0.2).
 *
 * Returns: the minor version
 *
 * Since: 1.0
 */
guint
nursery_get_minor_version (void)
{
  return NURSERY_MINOR_VERSION;
}

/**
 * nursery_get_micro_version:
 *
 * The micro version of the Nursery library loaded at run time (2 in
 * 1.0.2).
 *
 * Returns: the micro version
 *
 * Since: 1.0
 */
guint
nursery_get_micro_version (void)
{
  return NURSERY_MICRO_VERSION;
}

/* One integer that orders versions: 21 bits each for minor and micro
 * (larger values saturate). Not NURSERY_CHECK_VERSION(): comparing a
 * guint against a version component of 0 trips -Wtype-limits. */
static guint64
encode_version (guint major,
                guint minor,
                guint micro)
{
  const guint64 field_max = (G_GUINT64_CONSTANT (1) << 21) - 1;

  return ((guint64) major << 42) | (MIN (minor, field_max) << 21) | MIN (micro, field_max);
}

/**
 * nursery_check_version:
 * @major: required major version
 * @minor: required minor version
 * @micro: required micro version
 *
 * Whether the Nursery library loaded at run time is at least version
 * @major.@minor.@micro. `NURSERY_CHECK_VERSION()` checks the headers at
 * compile time instead.
 *
 * Returns: true if the library is that version or newer
 *
 * Since: 1.0
 */
gboolean
nursery_check_version (guint major,
                       guint minor,
                       guint micro)
{
  return encode_version (major, minor, micro) <=
         encode_version (NURSERY_MAJOR_VERSION, NURSERY_MINOR_VERSION, NURSERY_MICRO_VERSION);
}
