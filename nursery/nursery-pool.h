/* nursery-pool.h: the cap of Nursery's worker pool
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (NURSERY_INSIDE) && !defined (NURSERY_COMPILATION)
# error "Only <nursery.h> can be included directly."
#endif

#include <glib.h>

#include "nursery-version-macros.h"

G_BEGIN_DECLS

NURSERY_AVAILABLE_IN_1_0
void  nursery_set_max_threads (guint max_threads);
NURSERY_AVAILABLE_IN_1_0
guint nursery_get_max_threads (void);

G_END_DECLS
