/* nursery-group-orphan.c: a group that outlives its last reference
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* R20, R30: dropping the last reference to a group that still has
 * children cancels them, and the group lives on until they have finished;
 * dropped off its owner context, it lives on until its own batch lets it
 * go there, whatever the thread that dropped it is still doing. The
 * group keeps a reference on itself for that (it is *orphaned*), taken in
 * dispose() and dropped by the batch that finds it closed. */

#include "config.h"

#include "nursery-group-impl-private.h"
#include "nursery-group-stream-private.h"

/* Whether dispose must keep the group alive instead (R20, R30): children
 * still run, cleanups have yet to (and may spawn more), or the last
 * reference was dropped where the group may not be finalized: off its
 * owner context, perhaps while its batch runs. Off the owner nothing
 * else of the group is read here. */
static gboolean
must_outlive_dispose (NurseryGroup *self,
                      gboolean      holds_owner_context)
{
  if (!holds_owner_context)
    return TRUE;
  return self->unfinished.length > 0 || self->cleanups != NULL;
}

/* R30: a group dropped off its owner context keeps itself alive with a
 * reference taken in dispose(). The thread that dropped it is then still
 * inside g_object_unref(): on GLib 2.74 that takes the reference back
 * off the count (CAS) and only then thaws the notify queue it froze
 * around dispose(), reading the group. Were the owner to drop the
 * group's own reference in between, the group would be finalized under
 * that thread. So dispose() queues a notification into that frozen
 * queue, and the thaw hands it to
 * _nursery_group_dispatch_properties_changed() on the dropping thread:
 * the last thing g_object_unref() does with the group. (Or on the thread
 * whose thaw came after it, when another one had the queue frozen too.)
 * Only from there on may the batch let the group go. */
static void
await_unref_tail (NurseryGroup *self)
{
  g_object_notify (G_OBJECT (self), "state");
}

/* The group class's dispatch_properties_changed. */
void
_nursery_group_dispatch_properties_changed (GObject     *object,
                                            guint        n_pspecs,
                                            GParamSpec **pspecs)
{
  NurseryGroup *self = (NurseryGroup *) object;
  NurseryAnchor *anchor = self->anchor;
  GThread *dropper = g_atomic_pointer_get (&self->unref_tail_thread);

  if (G_LIKELY (dropper == NULL))
    {
      GObjectClass *parent = g_type_class_peek_parent (G_OBJECT_GET_CLASS (object));

      parent->dispatch_properties_changed (object, n_pspecs, pspecs);
      return;
    }

  /* The thaw of g_object_unref() on the thread that dropped the group
   * (or, where GLib did not freeze, dispose() itself). Or another
   * thread's: the notify queue's freeze is counted per object, not per
   * thread, so when the owner's batch has it frozen too (flushing the
   * group's notifications) while the dropper thaws, the dropper's thaw
   * only lowers the count and the owner's thaw dispatches what dispose()
   * queued, here, on the owner. That thaw comes after the dropper's: its
   * freeze kept the queue closed until then, so the dropper is as far
   * along as on its own thaw. Waiting for a dispatch on the dropper would
   * wait forever, and the group would never be let go (R20). Whatever was
   * queued is emitted by the owner's batch instead (R21). */
  for (guint i = 0; i < n_pspecs; i++)
    mark_dirty (self, BIT (pspecs[i]->param_id));
  g_mutex_lock (&anchor->lock);
  g_atomic_pointer_set (&self->unref_tail_thread, NULL);
  _nursery_group_schedule_locked (self);
  /* From here on the batch may finalize the group: only the anchor, which
   * the group's tasks keep too, is touched. */
  g_mutex_unlock (&anchor->lock);
}

/* From dispose(): takes a reference on itself that the batch closing the
 * group drops on the owner context (TRUE), or leaves the group to go now
 * (FALSE). *@holds_context says whether this thread then holds the owner
 * context, which dispose() lets go once the batch source is destroyed.
 * Dropped with children, it cancels them. Weak pointers are only notified
 * when the group really goes. */
/* R30: a group may be finalized only on its owner context's thread
 * (R23: where its batches run, or where it was made before any did), and
 * only while no batch of it can run elsewhere: its batch source and the
 * children returning from other threads reach it without a reference.
 * So that thread takes the owner context if it can (this never waits):
 * the thread that made the group and ran its last batch may be outside
 * the loop now, while another thread starts to run it. Whether it holds
 * the context now; it then releases it once. */
static gboolean
hold_owner_context (NurseryGroup *self)
{
  GThread *me = g_thread_self ();
  GThread *batch_thread = g_atomic_pointer_get (&self->batch_thread);

  if (!g_main_context_is_owner (self->context) && me != batch_thread &&
      (batch_thread != NULL || me != self->owner_thread))
    return FALSE;
  return g_main_context_acquire (self->context);
}

gboolean
_nursery_group_orphan (NurseryGroup *self,
                       gboolean     *holds_context)
{
  gboolean orphaned = FALSE, already;
  /* Kept until dispose() has destroyed the source, or released below. */
  gboolean holds_owner_context = hold_owner_context (self);

  /* Taken before it is published (the batch may drop it at once), and
   * outside the lock (a toggle reference's callback may run). */
  g_object_ref (self);
  g_mutex_lock (&self->anchor->lock);
  /* Already orphaned: g_object_run_dispose() on a group its batch still
   * keeps, which dispose() must leave to that batch. */
  already = self->orphaned;
  if (!already && must_outlive_dispose (self, holds_owner_context))
    {
      self->orphaned = orphaned = TRUE;
      if (!holds_owner_context)
        g_atomic_pointer_set (&self->unref_tail_thread, g_thread_self ());
    }
  g_mutex_unlock (&self->anchor->lock);

  *holds_context = holds_owner_context && !orphaned && !already;
  if (holds_owner_context && !*holds_context)
    g_main_context_release (self->context);
  if (!orphaned)
    {
      g_object_unref (self);
      return FALSE;
    }
  _nursery_group_begin_join (self);
  _nursery_group_cancel_with_cause (self, CANCEL_DROPPED);
  _nursery_group_schedule (self);
  if (!holds_owner_context)
    await_unref_tail (self);
  return TRUE;
}

/* R20, R30: the reference a dropped group keeps on itself goes once it is
 * closed, here on the owner context, where the group may then be
 * finalized. When a thread dropped the last reference off the owner, it
 * goes only after that thread has left g_object_unref(), which still
 * reads the group after dispose() took the reference (see
 * _nursery_group_orphan() and
 * _nursery_group_dispatch_properties_changed()). Then it goes when it and
 * this batch's own are the last two; otherwise the batch looks again a
 * millisecond later, and after ORPHAN_FAST_RETRIES looks every 50 ms, for
 * as long as it takes: when the one holding it lets go, its unref is not
 * the last, and a later look releases the group here. */
#define ORPHAN_FAST_RETRIES 200

/* At the end of every batch, on the owner context. */
void
_nursery_group_release_orphan (NurseryGroup *self)
{
  gboolean release, others;

  /* Most batches run in an open group: no lock for them. */
  if (g_atomic_int_get (&self->state) != NURSERY_GROUP_CLOSED)
    return;
  g_mutex_lock (&self->anchor->lock);
  release = self->orphaned && self->unref_tail_thread == NULL &&
            g_atomic_int_get (&self->state) == NURSERY_GROUP_CLOSED;
  /* An unchecked cast: this runs in every batch, on a live group. */
  others = g_atomic_int_get ((gint *) &((GObject *) self)->ref_count) > 2;
  if (release && others)
    {
      gint64 delay = self->orphan_retries++ < ORPHAN_FAST_RETRIES ? 1000 : 50000;

      g_source_set_ready_time (self->source, g_get_monotonic_time () + delay);
      self->look_again_armed = TRUE;
      release = FALSE;
    }
  if (release)
    self->orphaned = FALSE;
  g_mutex_unlock (&self->anchor->lock);

  if (release)
    g_object_unref (self);
}
