/* nursery-group-keyed.c: children spawned with a runner and a key
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The keyed forms are the spawn functions with the function and its data
 * made by the runner (nursery-runner.c): the child is the same child, by
 * the same rules. The runner is checked first, so that every refusal
 * after it can hand the key back through the runner. */

#include "config.h"

#include "nursery-group-impl-private.h"
#include "nursery-refuse-private.h"
#include "nursery-runner-private.h"

/**
 * nursery_group_spawn_keyed:
 * @self: a group that is not closed
 * @name: (nullable): a name for logs and errors
 * @runner: the runner that runs the child
 * @key: what tells the child apart, for @runner
 * @error: return location for a [error@Nursery.Error]
 *
 * [method@Nursery.Group.spawn] for language bindings: the child's body is
 * `runner`'s function called with the child's task and @key, and nothing
 * is handed over but the key (see [class@Nursery.Runner]). The child runs
 * by the rules of any in-context child ([R1](rules.html#R1)–[R5](rules.html#R5)).
 *
 * If the group refuses the child, or it is cancelled before its turn,
 * the runner is called with %NULL and @key instead, on the owner context.
 * Call it on the owner context's thread, as nursery_group_spawn().
 *
 * Returns: (transfer full) (nullable): the child's task, or %NULL with
 *   @error set if the group is closed ([R4](rules.html#R4))
 *
 * Since: 1.0
 */
NurseryTask *
nursery_group_spawn_keyed (NurseryGroup   *self,
                           const char     *name,
                           NurseryRunner  *runner,
                           gsize           key,
                           GError        **error)
{
  NurseryTaskFunc func;
  gpointer data;
  GDestroyNotify release;

  g_return_val_if_fail (NURSERY_IS_RUNNER (runner), NULL);

  _nursery_runner_bind (runner, key, &func, &data, &release);
  /* R24: refused, but the key still reaches the runner. The checks are
   * written out in both keyed spawns rather than shared: a critical
   * names the function it comes from, which must be the one called. */
  NURSERY_REFUSE_UNLESS (NURSERY_IS_GROUP (self), release, data, NULL);
  NURSERY_REFUSE_UNLESS (error == NULL || *error == NULL, release, data, NULL);
  /* R23: the owner is checked under the lock, where the spawn is made. */
  return _nursery_group_spawn (self, G_STRFUNC, name, func, data, release, FALSE, error);
}

/**
 * nursery_group_start_soon_keyed:
 * @self: a group that is not closed
 * @name: (nullable): a name for logs and errors
 * @runner: the runner that runs the child
 * @key: what tells the child apart, for @runner
 * @error: return location for a [error@Nursery.Error]
 *
 * [method@Nursery.Group.start_soon] for language bindings, as
 * [method@Nursery.Group.spawn_keyed] is [method@Nursery.Group.spawn]:
 * the cheapest way a binding can add a child.
 *
 * Returns: %TRUE if the child was added; %FALSE with @error set if the
 *   group is closed ([R4](rules.html#R4))
 *
 * Since: 1.0
 */
gboolean
nursery_group_start_soon_keyed (NurseryGroup   *self,
                                const char     *name,
                                NurseryRunner  *runner,
                                gsize           key,
                                GError        **error)
{
  NurseryTaskFunc func;
  gpointer data;
  GDestroyNotify release;

  g_return_val_if_fail (NURSERY_IS_RUNNER (runner), FALSE);

  _nursery_runner_bind (runner, key, &func, &data, &release);
  /* R24: refused, but the key still reaches the runner. */
  NURSERY_REFUSE_UNLESS (NURSERY_IS_GROUP (self), release, data, FALSE);
  NURSERY_REFUSE_UNLESS (error == NULL || *error == NULL, release, data, FALSE);
  /* R23: the owner is checked under the lock, where the spawn is made. */
  return _nursery_group_start_soon (self, G_STRFUNC, name, func, data, release, error);
}
