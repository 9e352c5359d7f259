/* nursery-runner.c: one function that runs many children, for bindings
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A language binding pays for every function it hands to C: PyGObject
 * makes a closure (libffi code, a closure record, a destroy notify) for
 * each call of nursery_group_spawn(), about a microsecond, a third of a
 * Python child. A runner is that closure made once: a child spawned with
 * nursery_group_spawn_keyed() carries only an integer key, which the
 * binding maps to the function it keeps on its side. The runner is
 * called exactly once per key, so the binding's map never leaks. */

#include "config.h"

#include "nursery-refuse-private.h"
#include "nursery-runner-private.h"
#include "nursery-tsan-private.h"

/**
 * NurseryRunner:
 *
 * One function that runs every child spawned with it, each told apart by
 * an integer key: for language bindings, for which a function handed to
 * C is dear (see [method@Nursery.Group.spawn_keyed]).
 *
 * A binding makes one runner, keeps what each child is to run under a
 * fresh key, and spawns with the key instead of a callback. The runner's
 * function is called exactly once for each key spawned: with the child's
 * task when it runs, on its group's owner context, or with %NULL when it
 * never will (refused, or cancelled before its turn), so that the binding
 * can drop what it kept.
 *
 * C code has no use for it: nursery_group_spawn() takes a function and
 * its data directly.
 *
 * Since: 1.0
 */
struct _NurseryRunner
{
  GObject            parent_instance;

  NurseryRunnerFunc  func;
  gpointer           user_data;
  GDestroyNotify     destroy;
};

G_DEFINE_FINAL_TYPE (NurseryRunner, nursery_runner, G_TYPE_OBJECT)

/* What a keyed child carries in place of its user data. */
typedef struct
{
  NurseryRunner *runner;
  gsize          key;
  gboolean       ran;
} KeyedChild;

static void
nursery_runner_finalize (GObject *object)
{
  NurseryRunner *self = NURSERY_RUNNER (object);

  _nursery_tsan_acquire_sole_owner (object);
  if (self->destroy != NULL)
    self->destroy (self->user_data);

  G_OBJECT_CLASS (nursery_runner_parent_class)->finalize (object);
}

static void
nursery_runner_class_init (NurseryRunnerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = nursery_runner_finalize;
}

static void
nursery_runner_init (NurseryRunner *self)
{
}

/**
 * nursery_runner_new:
 * @func: (scope notified) (closure user_data) (destroy destroy): runs
 *   the child of a key, or drops the key of one that never runs
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the runner is finalized
 *
 * Makes a runner for [method@Nursery.Group.spawn_keyed] and
 * [method@Nursery.Group.start_soon_keyed]. One runner serves any number
 * of groups; each child holds a reference until it has finished.
 *
 * Returns: (transfer full): a new runner
 *
 * Since: 1.0
 */
NurseryRunner *
nursery_runner_new (NurseryRunnerFunc func,
                    gpointer          user_data,
                    GDestroyNotify    destroy)
{
  NurseryRunner *self;

  /* R24: refused, but the user data is not lost. */
  NURSERY_REFUSE_UNLESS (func != NULL, destroy, user_data, NULL);

  self = g_object_new (NURSERY_TYPE_RUNNER, NULL);
  self->func = func;
  self->user_data = user_data;
  self->destroy = destroy;
  return self;
}

/* The NurseryTaskFunc of every keyed child. */
static void
run_keyed (NurseryTask *task,
           gpointer     data)
{
  KeyedChild *child = data;

  child->ran = TRUE;
  child->runner->func (task, child->key, child->runner->user_data);
}

/* Its destroy notify, on the owner context (or at once if the group
 * refuses the child): a key that never ran is dropped here. */
static void
release_keyed (gpointer data)
{
  KeyedChild *child = data;

  if (!child->ran)
    child->runner->func (NULL, child->key, child->runner->user_data);
  g_object_unref (child->runner);
  g_free (child);
}

void
_nursery_runner_bind (NurseryRunner   *self,
                      gsize            key,
                      NurseryTaskFunc *func,
                      gpointer        *user_data,
                      GDestroyNotify  *destroy)
{
  KeyedChild *child = g_new (KeyedChild, 1);

  child->runner = g_object_ref (self);
  child->key = key;
  child->ran = FALSE;
  *func = run_keyed;
  *user_data = child;
  *destroy = release_keyed;
}

gboolean
_nursery_runner_is_keyed_func (NurseryTaskFunc func)
{
  return func == run_keyed;
}
