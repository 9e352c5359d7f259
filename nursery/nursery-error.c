/* nursery-error.c: the Nursery error domain
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nursery-error.h"

/**
 * nursery_error_quark:
 *
 * The quark of the [error@Nursery.Error] domain.
 *
 * Returns: the error quark
 *
 * Since: 1.0
 */
G_DEFINE_QUARK (nursery-error-quark, nursery_error)
