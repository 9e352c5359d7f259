/* test-unref-tail.c: a group dropped off its owner is not finalized under
 * the thread still leaving g_object_unref() (docs/rules.md R30)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* When a thread drops the last reference to a group off its owner
 * context, dispose() keeps the group alive with a reference of its own
 * that the owner's batch drops later. On GLib 2.74 that thread is then
 * still inside g_object_unref(): it takes the reference back off the
 * count and only then locks GObject's notify lock to thaw the notify
 * queue, reading the group. A batch dropping the group's own reference in
 * that window finalized the group under the thread (an ASan crash in CI,
 * once in thousands of rounds of teardown's drop-after-cancel-on-worker).
 *
 * This test holds the dropping thread exactly there. It wraps
 * g_mutex_lock() (libgobject calls it through the PLT; dlsym (RTLD_NEXT)
 * finds the real one, or the TSan build's wrapper): on the dropping
 * thread, the first lock taken after the group's count went from 2 (the
 * thread's reference and the one dispose() took) back to 1 is the thaw's.
 * There the thread waits while the owner runs every batch that is ready;
 * the group must still be alive, then go on the owner once the thread
 * has left g_object_unref(). */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>

#include "rel-utils.h"

/* The dropping thread's progress, guarded by `lock` (pthread: the
 * g_mutex_lock() wrapper must not call itself). */
typedef enum
{
  DROP_ARMED,     /* the wrapper watches the dropping thread */
  DROP_STALLED,   /* it waits in the wrapper, before the thaw's lock */
  DROP_RESUMED,   /* the owner let it go */
  DROP_RETURNED,  /* g_object_unref() returned */
} DropState;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static DropState drop_state;
static GThread *dropper;          /* NULL: the wrapper only passes through */
static NurseryGroup *dropped;
static gboolean seen_resurrected; /* the count was 2 inside the unref */

static void
set_drop_state (DropState state)
{
  pthread_mutex_lock (&lock);
  drop_state = state;
  pthread_cond_broadcast (&cond);
  pthread_mutex_unlock (&lock);
}

static DropState
wait_drop_state_past (DropState state)
{
  DropState now;

  pthread_mutex_lock (&lock);
  while (drop_state <= state)
    pthread_cond_wait (&cond, &lock);
  now = drop_state;
  pthread_mutex_unlock (&lock);
  return now;
}

/* On the dropping thread, before the real lock. */
static void
stall_in_unref_tail (void)
{
  int count = g_atomic_int_get (&G_OBJECT (dropped)->ref_count);

  if (count >= 2)
    {
      seen_resurrected = TRUE;
      return;
    }
  if (!seen_resurrected)
    return;
  /* 2 → 1: g_object_unref() took its reference back after dispose(). */
  g_atomic_pointer_set (&dropper, NULL);
  set_drop_state (DROP_STALLED);
  wait_drop_state_past (DROP_STALLED);
}

void
g_mutex_lock (GMutex *mutex)
{
  static __typeof__ (g_mutex_lock) *real = NULL;
  GThread *watched = g_atomic_pointer_get (&dropper);

  if (G_UNLIKELY (real == NULL))
    real = (__typeof__ (g_mutex_lock) *) dlsym (RTLD_NEXT, "g_mutex_lock");
  if (G_UNLIKELY (watched != NULL) && watched == g_thread_self ())
    stall_in_unref_tail ();
  real (mutex);
}

static void
drop_job (gpointer group,
          gpointer unused)
{
  g_atomic_pointer_set (&dropper, g_thread_self ());
  g_object_unref (group);
  set_drop_state (DROP_RETURNED);
}

typedef struct
{
  GThread *owner;
  GThread *finalized_on;
  int      finalized;
  int      heard_on_owner;   /* notify::state, R21 */
  int      heard_elsewhere;
} Gone;

/* R21: the notification the dropping thread queues in dispose() to find
 * its way out of g_object_unref() is emitted by the owner's batch, never
 * on the dropping thread. */
static void
state_notified (GObject    *group,
                GParamSpec *pspec,
                Gone       *gone)
{
  if (g_thread_self () == gone->owner)
    gone->heard_on_owner++;
  else
    g_atomic_int_inc (&gone->heard_elsewhere);
}

static void
gone_cb (gpointer  data,
         GObject  *where_the_object_was)
{
  Gone *gone = data;

  gone->finalized_on = g_thread_self ();
  g_atomic_int_set (&gone->finalized, TRUE);
}

/* Whether GLib has the window this test holds open. */
static gboolean
glib_thaws_after_decrement (void)
{
  return glib_check_version (2, 74, 0) == NULL && glib_check_version (2, 75, 0) != NULL;
}

static void
test_dropped_off_owner (gconstpointer data)
{
  gboolean with_child = GPOINTER_TO_INT (data);
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("unref-tail");
  RelHelper *helper = rel_helper_new ("dropper");
  NurseryGroup *group = nursery_group_new ();
  Gone gone = { g_thread_self (), NULL, FALSE, 0, 0 };

  g_object_weak_ref (G_OBJECT (group), gone_cb, &gone);
  g_signal_connect (group, "notify::state", G_CALLBACK (state_notified), &gone);
  if (with_child)
    g_object_unref (nursery_group_spawn (group, "waits", rel_child_until_cancelled, NULL, NULL, NULL));
  while (g_main_context_iteration (NULL, FALSE))
    ;

  dropped = group;
  seen_resurrected = FALSE;
  drop_state = DROP_ARMED;
  rel_helper_run (helper, drop_job, group, NULL);

  if (wait_drop_state_past (DROP_ARMED) == DROP_RETURNED)
    {
      /* No lock after the decrement: nothing to hold open here. */
      g_assert_false (glib_thaws_after_decrement ());
      g_test_skip ("this GLib takes no lock between the decrement and the thaw");
    }
  else
    {
      /* Every batch that is ready runs: the child's report, the close,
       * the release of the group's own reference (were it allowed). */
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_assert_false (g_atomic_int_get (&gone.finalized));
      set_drop_state (DROP_RESUMED);
      wait_drop_state_past (DROP_RESUMED);
    }
  rel_helper_finish (helper);

  while (!g_atomic_int_get (&gone.finalized))
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (gone.finalized_on == g_thread_self ());
  g_assert_cmpint (g_atomic_int_get (&gone.heard_elsewhere), ==, 0);
  g_assert_cmpint (gone.heard_on_owner, >, 0);
  rel_helper_free (helper);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/reliability/teardown/R30/dropped-off-owner-in-unref-tail/running-child",
                        GINT_TO_POINTER (TRUE), test_dropped_off_owner);
  g_test_add_data_func ("/reliability/teardown/R30/dropped-off-owner-in-unref-tail/idle",
                        GINT_TO_POINTER (FALSE), test_dropped_off_owner);
  return g_test_run ();
}
