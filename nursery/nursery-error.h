/* nursery-error.h: the Nursery error domain
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

/**
 * NURSERY_ERROR:
 *
 * The error domain of Nursery: errors in it have a code from
 * [error@Nursery.Error].
 *
 * Since: 1.0
 */
#define NURSERY_ERROR (nursery_error_quark ())

/**
 * NurseryError:
 * @NURSERY_ERROR_FAILED: a child failed with an error that has no GError
 *   of its own (for example an exception raised by a Python child)
 * @NURSERY_ERROR_CLOSED: the group (or channel) is closed and takes no more work
 * @NURSERY_ERROR_NOT_STARTED: a child passed to [method@Nursery.Group.start_async]
 *   finished successfully without calling [method@Nursery.Task.started]
 * @NURSERY_ERROR_WOULD_DEADLOCK: a blocking call was made where it could
 *   never return, such as [method@Nursery.Group.wait] from inside one of
 *   the group's own callbacks
 *
 * Error codes of the [error@Nursery.Error] domain.
 *
 * Since: 1.0
 */
typedef enum
{
  NURSERY_ERROR_FAILED,
  NURSERY_ERROR_CLOSED,
  NURSERY_ERROR_NOT_STARTED,
  NURSERY_ERROR_WOULD_DEADLOCK,
} NurseryError;

NURSERY_AVAILABLE_IN_1_0
GQuark nursery_error_quark (void);

G_END_DECLS
