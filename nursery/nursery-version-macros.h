/* nursery-version-macros.h: symbol visibility, availability and the
 * library's version at run time
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (NURSERY_INSIDE) && !defined (NURSERY_COMPILATION)
# error "Only <nursery.h> can be included directly."
#endif

#include <glib.h>

#include "nursery-version.h"

/* The library is built with -fvisibility=hidden: only symbols marked
 * with one of these macros are exported, so the ABI is exactly what the
 * headers annotate. */
#if defined (_WIN32) && defined (NURSERY_COMPILATION)
# define _NURSERY_EXTERN __declspec(dllexport) extern
#elif defined (_WIN32)
# define _NURSERY_EXTERN __declspec(dllimport) extern
#else
# define _NURSERY_EXTERN __attribute__((visibility ("default"))) extern
#endif

/* Versions as G_ENCODE_VERSION (major, minor): only stable (even minor)
 * releases add API, so these are the values NURSERY_VERSION_MIN_REQUIRED
 * and NURSERY_VERSION_MAX_ALLOWED take. */

/**
 * NURSERY_VERSION_1_0:
 *
 * The encoded value of version 1.0, for
 * `NURSERY_VERSION_MIN_REQUIRED` and `NURSERY_VERSION_MAX_ALLOWED`.
 *
 * Since: 1.0
 */
#define NURSERY_VERSION_1_0 (G_ENCODE_VERSION (1, 0))

/* The current stable series: an odd (development) minor version counts
 * as the next stable one, as in GLib. */
#if (NURSERY_MINOR_VERSION % 2)
# define NURSERY_VERSION_CUR_STABLE \
  (G_ENCODE_VERSION (NURSERY_MAJOR_VERSION, NURSERY_MINOR_VERSION + 1))
#else
# define NURSERY_VERSION_CUR_STABLE \
  (G_ENCODE_VERSION (NURSERY_MAJOR_VERSION, NURSERY_MINOR_VERSION))
#endif

/**
 * NURSERY_VERSION_MIN_REQUIRED:
 *
 * The oldest Nursery version the code must work with: define it (to a
 * `NURSERY_VERSION_x_y` value) before including `<nursery.h>`. Using API
 * deprecated in that version or earlier then warns. Defaults to the
 * version of the headers.
 *
 * Since: 1.0
 */
#ifndef NURSERY_VERSION_MIN_REQUIRED
# define NURSERY_VERSION_MIN_REQUIRED (NURSERY_VERSION_CUR_STABLE)
#endif

/**
 * NURSERY_VERSION_MAX_ALLOWED:
 *
 * The newest Nursery API the code may use: define it (to a
 * `NURSERY_VERSION_x_y` value) before including `<nursery.h>`. Using API
 * added after that version then warns. Defaults to the version of the
 * headers.
 *
 * Since: 1.0
 */
#ifndef NURSERY_VERSION_MAX_ALLOWED
# define NURSERY_VERSION_MAX_ALLOWED (NURSERY_VERSION_CUR_STABLE)
#endif

#if NURSERY_VERSION_MAX_ALLOWED < NURSERY_VERSION_MIN_REQUIRED
# error "NURSERY_VERSION_MAX_ALLOWED must be >= NURSERY_VERSION_MIN_REQUIRED"
#endif
#if NURSERY_VERSION_MIN_REQUIRED < NURSERY_VERSION_1_0
# error "NURSERY_VERSION_MIN_REQUIRED must be >= NURSERY_VERSION_1_0"
#endif

/**
 * NURSERY_DEPRECATED:
 *
 * Marks a declaration as deprecated: using it warns, unless
 * `NURSERY_DISABLE_DEPRECATION_WARNINGS` is defined.
 *
 * Since: 1.0
 */

/**
 * NURSERY_DEPRECATED_FOR:
 * @f: the replacement
 *
 * Like `NURSERY_DEPRECATED`, naming the replacement @f in the warning.
 *
 * Since: 1.0
 */

/**
 * NURSERY_UNAVAILABLE:
 * @maj: the major version that added the API
 * @min: the minor version that added the API
 *
 * Marks a declaration as added in @maj.@min, which is newer than
 * `NURSERY_VERSION_MAX_ALLOWED`: using it warns.
 *
 * Since: 1.0
 */

/* Deprecation warnings are compiler attributes on the declarations;
 * NURSERY_DISABLE_DEPRECATION_WARNINGS turns them off, as
 * GLIB_DISABLE_DEPRECATION_WARNINGS does for GLib. The library itself
 * is built without them. */
#if defined (NURSERY_DISABLE_DEPRECATION_WARNINGS) || defined (NURSERY_COMPILATION)
# define NURSERY_DEPRECATED _NURSERY_EXTERN
# define NURSERY_DEPRECATED_FOR(f) _NURSERY_EXTERN
# define NURSERY_UNAVAILABLE(maj,min) _NURSERY_EXTERN
#else
# define NURSERY_DEPRECATED G_DEPRECATED _NURSERY_EXTERN
# define NURSERY_DEPRECATED_FOR(f) G_DEPRECATED_FOR (f) _NURSERY_EXTERN
# define NURSERY_UNAVAILABLE(maj,min) G_UNAVAILABLE (maj, min) _NURSERY_EXTERN
#endif

/**
 * NURSERY_AVAILABLE_IN_ALL:
 *
 * Exports a declaration that is available in every version.
 *
 * Since: 1.0
 */
#define NURSERY_AVAILABLE_IN_ALL _NURSERY_EXTERN

/**
 * NURSERY_AVAILABLE_IN_1_0:
 *
 * Exports a declaration added in version 1.0.
 *
 * Since: 1.0
 */

/**
 * NURSERY_DEPRECATED_IN_1_0:
 *
 * Exports a declaration deprecated in version 1.0: using it warns when
 * `NURSERY_VERSION_MIN_REQUIRED` is 1.0 or newer.
 *
 * Since: 1.0
 */

/**
 * NURSERY_DEPRECATED_IN_1_0_FOR:
 * @f: the replacement
 *
 * Like `NURSERY_DEPRECATED_IN_1_0`, naming the replacement @f.
 *
 * Since: 1.0
 */

/* One block per stable version: API added in it is unavailable below
 * NURSERY_VERSION_MAX_ALLOWED, API deprecated in it warns at or above
 * NURSERY_VERSION_MIN_REQUIRED. */
#if NURSERY_VERSION_MIN_REQUIRED >= NURSERY_VERSION_1_0
# define NURSERY_DEPRECATED_IN_1_0 NURSERY_DEPRECATED
# define NURSERY_DEPRECATED_IN_1_0_FOR(f) NURSERY_DEPRECATED_FOR (f)
#else
# define NURSERY_DEPRECATED_IN_1_0 _NURSERY_EXTERN
# define NURSERY_DEPRECATED_IN_1_0_FOR(f) _NURSERY_EXTERN
#endif

#if NURSERY_VERSION_MAX_ALLOWED < NURSERY_VERSION_1_0
# define NURSERY_AVAILABLE_IN_1_0 NURSERY_UNAVAILABLE (1, 0)
#else
# define NURSERY_AVAILABLE_IN_1_0 _NURSERY_EXTERN
#endif

G_BEGIN_DECLS

NURSERY_AVAILABLE_IN_1_0
guint    nursery_get_major_version (void) G_GNUC_CONST;
NURSERY_AVAILABLE_IN_1_0
guint    nursery_get_minor_version (void) G_GNUC_CONST;
NURSERY_AVAILABLE_IN_1_0
guint    nursery_get_micro_version (void) G_GNUC_CONST;
NURSERY_AVAILABLE_IN_1_0
gboolean nursery_check_version     (guint major,
                                    guint minor,
                                    guint micro);

G_END_DECLS
