/* nursery-group-props.c: a group's properties and counters (R11, R19, R21)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The accessors of the group's properties, for the owner context. A
 * setter only marks what changed: the next batch emits the notifications
 * (R21, see mark_dirty()). */

#include "config.h"

#include "nursery-group-impl-private.h"

/**
 * nursery_group_get_name:
 * @self: a group
 *
 * The group's name.
 *
 * Returns: (nullable): the name
 *
 * Since: 1.0
 */
const char *
nursery_group_get_name (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), NULL);

  return self->name;
}

/**
 * nursery_group_set_name:
 * @self: a group
 * @name: (nullable): the new name
 *
 * Names the group, for logs, errors and tree dumps.
 *
 * Since: 1.0
 */
void
nursery_group_set_name (NurseryGroup *self,
                        const char   *name)
{
  gboolean changed;

  g_return_if_fail (NURSERY_IS_GROUP (self));

  /* The owner's (R23, R24): the owner reads the name without the lock
   * (get_name() hands out the string itself), so a rename from a thread
   * child's worker freed it under the owner's reads. Under the lock:
   * cancels and tree dumps on other threads read it. */
  if (!_nursery_group_lock_as_owner (self, G_STRFUNC))
    return;
  changed = g_strcmp0 (self->name, name) != 0;
  if (changed)
    {
      g_free (self->name);
      self->name = g_strdup (name);
    }
  g_mutex_unlock (&self->anchor->lock);
  if (!changed)
    return;
  mark_dirty (self, BIT (PROP_NAME));
  _nursery_group_schedule (self);
}

/**
 * nursery_group_get_context:
 * @self: a group
 *
 * The owner context.
 *
 * Returns: (transfer none): the context every callback of the group runs on
 *
 * Since: 1.0
 */
GMainContext *
nursery_group_get_context (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), NULL);

  return self->context;
}

/**
 * nursery_group_get_policy:
 * @self: a group
 *
 * The group's policy.
 *
 * Returns: the policy
 *
 * Since: 1.0
 */
NurseryPolicy
nursery_group_get_policy (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), NURSERY_POLICY_FAIL_FAST);

  return self->policy;
}

/**
 * nursery_group_set_policy:
 * @self: a group
 * @policy: the new policy
 *
 * Sets what the group does when a child fails or succeeds ([R11](rules.html#R11)).
 * It applies to the children that finish from now on.
 *
 * Since: 1.0
 */
void
nursery_group_set_policy (NurseryGroup  *self,
                          NurseryPolicy  policy)
{
  gboolean changed;

  g_return_if_fail (NURSERY_IS_GROUP (self));
  g_return_if_fail (policy <= NURSERY_POLICY_RACE);

  /* The owner's (R23, R24): the batch reads it without a lock, and a
   * thread child's worker that changed it raced the batch. */
  if (!_nursery_group_lock_as_owner (self, G_STRFUNC))
    return;
  changed = self->policy != policy;
  self->policy = policy;
  g_mutex_unlock (&self->anchor->lock);
  if (!changed)
    return;
  mark_dirty (self, BIT (PROP_POLICY));
  _nursery_group_schedule (self);
}

/**
 * nursery_group_get_max_concurrent:
 * @self: a group
 *
 * The limit on running children.
 *
 * Returns: the limit, 0 for none
 *
 * Since: 1.0
 */
guint
nursery_group_get_max_concurrent (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), 0);

  return self->max_concurrent;
}

/**
 * nursery_group_set_max_concurrent:
 * @self: a group
 * @max_concurrent: how many children may run at once, 0 for no limit
 *
 * Limits how many children run at once ([R19](rules.html#R19)). Raising the limit
 * starts waiting children on the next iteration; lowering it lets the
 * running ones finish.
 *
 * Since: 1.0
 */
void
nursery_group_set_max_concurrent (NurseryGroup *self,
                                  guint         max_concurrent)
{
  gboolean changed;

  g_return_if_fail (NURSERY_IS_GROUP (self));

  /* The owner's (R23, R24): the batch reads it without a lock, and a
   * thread child's worker that changed it raced the batch. */
  if (!_nursery_group_lock_as_owner (self, G_STRFUNC))
    return;
  changed = self->max_concurrent != max_concurrent;
  self->max_concurrent = max_concurrent;
  g_mutex_unlock (&self->anchor->lock);
  if (!changed)
    return;
  mark_dirty (self, BIT (PROP_MAX_CONCURRENT));
  _nursery_group_schedule (self);
}

/**
 * nursery_group_get_winner:
 * @self: a group
 *
 * Under [enum@Nursery.Policy.RACE], the first child that succeeded.
 *
 * Returns: (transfer none) (nullable): the winner, or %NULL
 *
 * Since: 1.0
 */
NurseryTask *
nursery_group_get_winner (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), NULL);

  return self->winner;
}

/**
 * nursery_group_get_n_running:
 * @self: a group
 *
 * How many children have started and not finished.
 *
 * Returns: the count
 *
 * Since: 1.0
 */
guint
nursery_group_get_n_running (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), 0);

  return self->n_running;
}

/**
 * nursery_group_get_n_pending:
 * @self: a group
 *
 * How many children are spawned but not started.
 *
 * Returns: the count
 *
 * Since: 1.0
 */
guint
nursery_group_get_n_pending (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), 0);

  return self->n_pending;
}

/**
 * nursery_group_get_n_finished:
 * @self: a group
 *
 * How many children have finished, however they ended.
 *
 * Returns: the count
 *
 * Since: 1.0
 */
guint
nursery_group_get_n_finished (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), 0);

  return self->n_finished;
}

/**
 * nursery_group_get_n_failed:
 * @self: a group
 *
 * How many children have failed.
 *
 * Returns: the count
 *
 * Since: 1.0
 */
guint
nursery_group_get_n_failed (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), 0);

  return self->n_failed;
}

/**
 * nursery_group_get_n_succeeded:
 * @self: a group
 *
 * How many children have succeeded; see [property@Nursery.Group:n-succeeded].
 *
 * Returns: the count
 *
 * Since: 1.0
 */
guint
nursery_group_get_n_succeeded (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), 0);

  return self->n_succeeded;
}

/**
 * nursery_group_get_n_cancelled:
 * @self: a group
 *
 * How many children have finished cancelled.
 *
 * Returns: the count
 *
 * Since: 1.0
 */
guint
nursery_group_get_n_cancelled (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), 0);

  return self->n_cancelled;
}

/**
 * nursery_group_get_n_spawned:
 * @self: a group
 *
 * How many children have been spawned so far.
 *
 * Returns: the count
 *
 * Since: 1.0
 */
guint
nursery_group_get_n_spawned (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), 0);

  return self->n_spawned;
}
