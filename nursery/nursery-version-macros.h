/* nursery-version-macros.h: symbol visibility and availability
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (NURSERY_INSIDE) && !defined (NURSERY_COMPILATION)
# error "Only <nursery.h> can be included directly."
#endif

#include <glib.h>

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

#define NURSERY_AVAILABLE_IN_ALL _NURSERY_EXTERN
#define NURSERY_AVAILABLE_IN_1_0 _NURSERY_EXTERN
