/* nursery-refuse-private.h: refusing bad input without losing what the
 * caller handed over (R24, docs/rules.md)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The g_return_val_if_fail() of a public function that takes ownership of
 * @data: unless @expr holds, it frees @data with @destroy (if @destroy is
 * not %NULL), emits the usual "assertion 'expr' failed" critical and
 * returns @retval. Leave @retval empty in a void function.
 *
 * Use it in the public function itself, never in a helper: G_STRFUNC then
 * names the function the caller called, as g_return_if_fail() does. */
#define NURSERY_REFUSE_UNLESS(expr, destroy, data, retval)                   \
  G_STMT_START {                                                             \
    if (G_LIKELY (expr))                                                     \
      { }                                                                    \
    else                                                                     \
      {                                                                      \
        _nursery_refuse_drop ((GDestroyNotify) (destroy), (data));           \
        g_return_if_fail_warning (G_LOG_DOMAIN, G_STRFUNC, #expr);           \
        return retval;                                                       \
      }                                                                      \
  } G_STMT_END

/* Frees @data with @destroy unless @destroy is %NULL: what a refusal that
 * is not an argument check (a closed group, a task that already returned)
 * does with what it was handed. */
static inline void
_nursery_refuse_drop (GDestroyNotify destroy,
                      gpointer       data)
{
  if (destroy != NULL)
    destroy (data);
}

G_END_DECLS
