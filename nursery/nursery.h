/* nursery.h: structured concurrency for GLib
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#define NURSERY_INSIDE
# include "nursery-version-macros.h"
# include "nursery-types.h"
# include "nursery-enums.h"
# include "nursery-error.h"
# include "nursery-task.h"
# include "nursery-runner.h"
# include "nursery-group.h"
# include "nursery-channel.h"
# include "nursery-pool.h"
#undef NURSERY_INSIDE
