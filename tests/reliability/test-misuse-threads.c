/* test-misuse-threads.c: owner-only calls made from the wrong thread, and
 * callbacks that must come back on the owner's (docs/rules.md R23, R24, R30)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* R23 gives the owner context's thread the group's setters, its waits and
 * its streams; R24 wants a critical and a safe return when another thread
 * calls them. Each scene here has a thread child's worker call one of
 * them in a loop while the owner runs the group's batches beside it, and
 * checks that every call was refused with the owner critical and that
 * the owner's view of the group is the one it made. Before the setters
 * and the streams checked their caller, the worker's calls went through:
 * a rename freed the name the owner was reading (ASan: heap-use-after-free
 * in the owner's strlen), the worker's next_async() and wait_async()
 * pushed onto queues the batch pops without a lock, and the worker's
 * policy and limit replaced the owner's (a wrong value at the end).
 * Run them under the ASan and TSan setups (tools/ci-reliability). */

#include <signal.h>
#include <string.h>

#include "rel-utils.h"

/* Callbacks that note where they ran */

static GThread *owner_thread;
static int n_callbacks;
static int n_off_owner;

static void
note_thread (void)
{
  g_atomic_int_inc (&n_callbacks);
  if (g_thread_self () != owner_thread)
    g_atomic_int_inc (&n_off_owner);
}

static void
noted_async_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  note_thread ();
}

static void
noted_cleanup (NurseryGroup *group,
               gpointer      data)
{
  note_thread ();
}

/* The hammer: a thread child's worker calls one owner-only function
 * again and again while the owner runs batches of short children. */

typedef struct _Hammer Hammer;
typedef void (*HammerMisuse) (Hammer *h, NurseryGroup *group, guint i);
typedef void (*HammerOwnerStep) (Hammer *h, NurseryGroup *group);

struct _Hammer
{
  NurseryGroup    *group;
  HammerMisuse     misuse;
  HammerOwnerStep  owner_step;  /* nullable: what the owner does per batch */
  guint            n_calls;
  int              worker_done; /* atomic */
  gsize            name_bytes;  /* owner: what it read of its name */
  guint            n_batches;
  guint            n_handed;    /* owner: tasks its next_async() took */
  int              owner_next_busy;
  int              owner_next_closed;
};

static void
hammer_worker (NurseryTask *task,
               gpointer     data)
{
  Hammer *h = data;

  for (guint i = 0; i < h->n_calls; i++)
    h->misuse (h, h->group, i);
  g_atomic_int_set (&h->worker_done, 1);
  g_main_context_wakeup (NULL);
}

static void
hammer_child (NurseryTask *task,
              gpointer     data)
{
  rel_return_int_from_idle (task, 1, G_PRIORITY_DEFAULT);
}

/* Runs @misuse on a worker @n_calls times beside the owner's batches;
 * returns the group, closed, for the scene's own checks. */
static NurseryGroup *
hammer_run (Hammer *h)
{
  int refusals_before = rel_owner_refusals ();
  g_autoptr(NurseryTask) worker = NULL;
  g_autoptr(GError) error = NULL;

  owner_thread = g_thread_self ();
  g_atomic_int_set (&n_callbacks, 0);
  g_atomic_int_set (&n_off_owner, 0);
  h->group = nursery_group_new ();
  nursery_group_set_name (h->group, "owner");
  nursery_group_set_max_concurrent (h->group, 4);
  nursery_group_set_policy (h->group, NURSERY_POLICY_SUPERVISE);
  /* Before any child can finish: next_async() hands out the children
   * that finish from its first call on (R25). */
  if (h->owner_step != NULL)
    h->owner_step (h, h->group);

  worker = nursery_group_spawn_in_thread (h->group, "hammer", hammer_worker, h, NULL, NULL);
  while (!g_atomic_int_get (&h->worker_done))
    {
      g_object_unref (nursery_group_spawn (h->group, NULL, hammer_child, NULL, NULL, NULL));
      g_main_context_iteration (NULL, FALSE);
      if (h->owner_step != NULL)
        h->owner_step (h, h->group);
      h->n_batches++;
    }
  g_assert_true (nursery_group_wait (h->group, NULL, &error));
  g_assert_no_error (error);
  rel_drain (NULL);

  /* Every call refused with one critical, none carried out. */
  g_assert_cmpint (rel_owner_refusals () - refusals_before, ==, (int) h->n_calls);
  g_assert_cmpint (g_atomic_int_get (&n_off_owner), ==, 0);
  /* The owner's settings stand. */
  g_assert_cmpstr (nursery_group_get_name (h->group), ==, "owner");
  g_assert_cmpuint (nursery_group_get_max_concurrent (h->group), ==, 4);
  g_assert_cmpint (nursery_group_get_policy (h->group), ==, NURSERY_POLICY_SUPERVISE);
  g_assert_cmpint (nursery_group_get_deadline (h->group), ==, -1);
  g_assert_cmpuint (nursery_group_get_n_failed (h->group), ==, 0);
  g_test_message ("%u calls beside %u owner iterations", h->n_calls, h->n_batches);
  return h->group;
}

static void
hammer_scene (HammerMisuse    misuse,
              HammerOwnerStep owner_step,
              guint           n_calls)
{
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("misuse-threads");
  Hammer h = { .misuse = misuse, .owner_step = owner_step };

  h.n_calls = rel_scaled ("NURSERY_STRESS_ITERATIONS", n_calls);
  rel_owner_refusals_begin ();
  g_object_unref (hammer_run (&h));
  rel_drain (NULL);
  rel_owner_refusals_end ();
}

/* /reliability/misuse-threads/R23/set-name-from-worker: the owner reads
 * its group's name (get_name() hands out the group's own string) while a
 * worker renames the group. The rename freed the string under the
 * owner's strlen. */

static void
misuse_set_name (Hammer       *h,
                 NurseryGroup *group,
                 guint         i)
{
  nursery_group_set_name (group, i % 2 ? "worker-name-odd" : "worker-name-even-longer");
}

static void
owner_reads_name (Hammer       *h,
                  NurseryGroup *group)
{
  /* Many reads per batch: the worker's renames land between them. */
  for (guint i = 0; i < 200; i++)
    {
      const char *name = nursery_group_get_name (group);

      h->name_bytes += name != NULL ? strlen (name) : 0;
    }
}

static void
test_set_name_from_worker (void)
{
  hammer_scene (misuse_set_name, owner_reads_name, 20000);
}

/* /reliability/misuse-threads/R23/setters-from-worker: the limit, the
 * policy, the deadline, the Unix signal and g_object_set() on the
 * properties, from a worker. They replaced the owner's values (read by
 * the batch without a lock). */

static void
misuse_setters (Hammer       *h,
                NurseryGroup *group,
                guint         i)
{
  switch (i % 5)
    {
    case 0:
      nursery_group_set_max_concurrent (group, 1 + i % 3);
      break;
    case 1:
      nursery_group_set_policy (group, NURSERY_POLICY_FAIL_FAST);
      break;
    case 2:
      nursery_group_set_timeout (group, (GTimeSpan) G_USEC_PER_SEC * 3600);
      break;
    case 3:
      nursery_group_cancel_on_unix_signal (group, SIGHUP);
      break;
    default:
      g_object_set (group, "max-concurrent", 7u, NULL);
      break;
    }
}

static void
test_setters_from_worker (void)
{
  hammer_scene (misuse_setters, NULL, 2000);
}

/* /reliability/misuse-threads/R23/next-async-from-worker: the owner
 * takes every finished child with next_async() while a worker calls
 * next_async() too. The worker's call pushed onto the queue of waiters
 * the batch pops without a lock (nursery-group-stream.c). */

static void
misuse_next_async (Hammer       *h,
                   NurseryGroup *group,
                   guint         i)
{
  nursery_group_next_async (group, NULL, noted_async_cb, NULL);
}

static void
owner_next_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  Hammer *h = data;
  g_autoptr(NurseryTask) task = nursery_group_next_finish (NURSERY_GROUP (source), result, NULL);

  h->owner_next_busy = FALSE;
  if (task != NULL)
    h->n_handed++;
  else
    h->owner_next_closed = TRUE;
}

static void
owner_takes_next (Hammer       *h,
                  NurseryGroup *group)
{
  if (h->owner_next_busy || h->owner_next_closed)
    return;
  h->owner_next_busy = TRUE;
  nursery_group_next_async (group, NULL, owner_next_cb, h);
}

static void
test_next_async_from_worker (void)
{
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("next-async-from-worker");
  Hammer h = { .misuse = misuse_next_async, .owner_step = owner_takes_next };
  NurseryGroup *group;

  h.n_calls = rel_scaled ("NURSERY_STRESS_ITERATIONS", 3000);
  rel_owner_refusals_begin ();
  group = hammer_run (&h);
  /* The owner drains the rest: every child handed over once, to it. */
  while (!h.owner_next_closed)
    {
      owner_takes_next (&h, group);
      g_main_context_iteration (NULL, TRUE);
    }
  g_assert_cmpuint (h.n_handed, ==, nursery_group_get_n_spawned (group));
  g_assert_cmpint (g_atomic_int_get (&n_callbacks), ==, 0);
  g_object_unref (group);
  rel_drain (NULL);
  rel_owner_refusals_end ();
}

/* /reliability/misuse-threads/R23/wait-async-from-worker: a worker asks
 * to wait for its own group. Its waiter went onto the list the closing
 * batch takes without a lock; and a group waiting for its own child to
 * finish the wait can never close. */

static void
misuse_wait_async (Hammer       *h,
                   NurseryGroup *group,
                   guint         i)
{
  nursery_group_wait_async (group, NULL, noted_async_cb, NULL);
}

static void
test_wait_async_from_worker (void)
{
  hammer_scene (misuse_wait_async, NULL, 2000);
  g_assert_cmpint (g_atomic_int_get (&n_callbacks), ==, 0);
}

/* /reliability/misuse-threads/R23/list-tasks-from-worker: the owner
 * holds the live list (the batch updates it) while a worker asks for it:
 * the worker made the list or read it beside the batch's updates. */

static GListModel *owner_list;

static void
misuse_list_tasks (Hammer       *h,
                   NurseryGroup *group,
                   guint         i)
{
  GListModel *list = nursery_group_list_tasks (group);

  g_clear_object (&list);
}

static void
owner_holds_list (Hammer       *h,
                  NurseryGroup *group)
{
  if (owner_list == NULL)
    owner_list = nursery_group_list_tasks (group);
}

static void
test_list_tasks_from_worker (void)
{
  hammer_scene (misuse_list_tasks, owner_holds_list, 3000);
  g_assert_nonnull (owner_list);
  g_assert_cmpuint (g_list_model_get_n_items (owner_list), ==, 0);
  g_clear_object (&owner_list);
}

/* /reliability/misuse-threads/R23/refused-data-not-lost: the spawns, the
 * start and the cleanup a worker is refused free their user data once
 * each, and none of their callbacks runs. */

static void
never_runs (NurseryTask *task,
            gpointer     data)
{
  g_error ("a refused child ran");
}

static void
misuse_spawns (Hammer       *h,
               NurseryGroup *group,
               guint         i)
{
  static int destroyed;
  int before = g_atomic_int_get (&destroyed);
  g_autoptr(NurseryTask) task = NULL;

  switch (i % 4)
    {
    case 0:
      task = nursery_group_spawn (group, NULL, never_runs, &destroyed, rel_count_destroy, NULL);
      g_assert_null (task);
      break;
    case 1:
      g_assert_false (nursery_group_start_soon (group, NULL, never_runs, &destroyed,
                                                rel_count_destroy, NULL));
      break;
    case 2:
      nursery_group_start_async (group, NULL, never_runs, &destroyed, rel_count_destroy,
                                 NULL, noted_async_cb, NULL);
      break;
    default:
      nursery_group_add_cleanup (group, noted_cleanup, &destroyed, rel_count_destroy);
      break;
    }
  /* Freed once, right here: the worker keeps nothing it has to free. */
  g_assert_cmpint (g_atomic_int_get (&destroyed), ==, before + 1);
}

static void
test_refused_data_not_lost (void)
{
  hammer_scene (misuse_spawns, NULL, 2000);
  g_assert_cmpint (g_atomic_int_get (&n_callbacks), ==, 0);
}

/* /reliability/misuse-threads/R23/hold-application-from-worker: a worker
 * ties an application to the group. GApplication is not thread-safe, and
 * the hold would be released on the owner context when the group closes:
 * accepted from the worker, it held the application once per call. */

static GApplication *misuse_application;

static void
misuse_hold_application (Hammer       *h,
                         NurseryGroup *group,
                         guint         i)
{
  nursery_group_hold_application (group, misuse_application);
}

static void
test_hold_application_from_worker (void)
{
  misuse_application = g_application_new ("org.gnome.NurseryMisuseTest", G_APPLICATION_NON_UNIQUE);
  hammer_scene (misuse_hold_application, NULL, 200);
  g_clear_object (&misuse_application);
}

/* /reliability/misuse-threads/R23/owner-moves-to-another-thread: thread
 * A makes a group and runs its context, then stops; thread B takes the
 * context over (acquires it, spawns, runs it). Every callback (children,
 * destroy notifies, task-finished, notifies, the wait's callback) runs on
 * whichever thread runs the context at the time; once B has run a batch,
 * A is refused (its spawn and its setter), and A's last unref leaves the
 * finalization to B, never beside B's batch. */

typedef struct
{
  GMainContext *context;
  NurseryGroup *group;
  guint         n_children;
  int           a_done;        /* atomic: A ran its share and stopped */
  int           b_ran;         /* atomic: B has run batches */
  int           a_dropped;     /* atomic */
  GMutex        lock;
  GCond         cond;
  guint         refused_freed;
  int           finalized;     /* atomic */
  GThread      *finalized_on;
} Move;

static GThread *move_runner;   /* atomic: the thread that runs the context now */
static int n_move_off;

static void
move_note (void)
{
  g_atomic_int_inc (&n_callbacks);
  if (g_thread_self () != g_atomic_pointer_get (&move_runner))
    g_atomic_int_inc (&n_move_off);
}

static void
move_child (NurseryTask *task,
            gpointer     data)
{
  move_note ();
  nursery_task_return_int (task, 1);
}

static void
move_thread_child (NurseryTask *task,
                   gpointer     data)
{
  nursery_task_return_int (task, 2);
}

static void
move_destroy (gpointer data)
{
  move_note ();
}

static void
move_task_finished (NurseryGroup *group,
                    NurseryTask  *task,
                    gpointer      data)
{
  move_note ();
}

static void
move_notify (GObject    *object,
             GParamSpec *pspec,
             gpointer    data)
{
  move_note ();
}

static void
move_wait_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  move_note ();
  g_assert_true (nursery_group_wait_finish (NURSERY_GROUP (source), result, NULL));
  *(int *) data = 1;
}

static void
move_finalized (gpointer  data,
                GObject  *where_the_object_was)
{
  Move *m = data;

  m->finalized_on = g_thread_self ();
  g_atomic_int_set (&m->finalized, 1);
}

static void
move_spawn_some (Move *m)
{
  for (guint i = 0; i < m->n_children; i++)
    {
      g_autoptr(NurseryTask) task = NULL;

      if (i % 2 == 0)
        task = nursery_group_spawn (m->group, NULL, move_child, NULL, move_destroy, NULL);
      else
        task = nursery_group_spawn_in_thread (m->group, NULL, move_thread_child, NULL, move_destroy, NULL);
      g_assert_nonnull (task);
    }
}

static gpointer
move_thread_a (gpointer data)
{
  Move *m = data;
  g_autoptr(NurseryTask) refused = NULL;

  g_atomic_pointer_set (&move_runner, g_thread_self ());
  g_main_context_push_thread_default (m->context);
  m->group = nursery_group_new ();
  g_object_weak_ref (G_OBJECT (m->group), move_finalized, m);
  g_signal_connect (m->group, "task-finished", G_CALLBACK (move_task_finished), NULL);
  g_signal_connect (m->group, "notify::n-finished", G_CALLBACK (move_notify), NULL);
  move_spawn_some (m);
  while (nursery_group_get_n_finished (m->group) < m->n_children)
    g_main_context_iteration (m->context, TRUE);
  g_main_context_pop_thread_default (m->context);

  g_mutex_lock (&m->lock);
  g_atomic_int_set (&m->a_done, 1);
  g_cond_signal (&m->cond);
  while (!g_atomic_int_get (&m->b_ran))
    g_cond_wait (&m->cond, &m->lock);
  g_mutex_unlock (&m->lock);

  /* B runs the batches now: A is refused, and nothing it asked for runs. */
  /* A refused spawn frees its data at once, on the caller's thread. */
  refused = nursery_group_spawn (m->group, NULL, move_child, &m->refused_freed, rel_count_destroy, NULL);
  g_assert_null (refused);
  g_assert_cmpuint (m->refused_freed, ==, 1);
  nursery_group_set_max_concurrent (m->group, 9);
  /* The last reference, while B may be running the context. */
  g_object_unref (m->group);
  g_atomic_int_set (&m->a_dropped, 1);
  g_main_context_wakeup (m->context);
  return NULL;
}

static void
test_owner_moves (void)
{
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("owner-moves-to-another-thread");
  guint rounds = rel_scaled ("NURSERY_STRESS_ITERATIONS", 40);

  rel_owner_refusals_begin ();
  for (guint r = 0; r < rounds; r++)
    {
      Move m = { .n_children = 20 };
      int refusals_before = rel_owner_refusals ();
      int wait_done = 0;
      GThread *a;

      g_atomic_int_set (&n_callbacks, 0);
      g_atomic_int_set (&n_move_off, 0);
      m.context = g_main_context_new ();
      g_mutex_init (&m.lock);
      g_cond_init (&m.cond);
      a = g_thread_new ("runner-a", move_thread_a, &m);
      g_mutex_lock (&m.lock);
      while (!g_atomic_int_get (&m.a_done))
        g_cond_wait (&m.cond, &m.lock);
      g_mutex_unlock (&m.lock);

      /* B takes the context over: holding it, it may spawn. */
      g_atomic_pointer_set (&move_runner, g_thread_self ());
      g_assert_true (g_main_context_acquire (m.context));
      g_main_context_push_thread_default (m.context);
      move_spawn_some (&m);
      nursery_group_wait_async (m.group, NULL, move_wait_cb, &wait_done);
      g_main_context_pop_thread_default (m.context);
      while (nursery_group_get_n_finished (m.group) < 2 * m.n_children)
        g_main_context_iteration (m.context, TRUE);
      g_mutex_lock (&m.lock);
      g_atomic_int_set (&m.b_ran, 1);
      g_cond_signal (&m.cond);
      g_mutex_unlock (&m.lock);
      /* B keeps running the context while A drops its reference. */
      while (!g_atomic_int_get (&m.finalized))
        g_main_context_iteration (m.context, TRUE);
      g_thread_join (a);
      g_main_context_release (m.context);
      rel_drain (m.context);

      g_assert_true (wait_done);
      g_assert_true (m.finalized_on == g_thread_self ());
      g_assert_cmpint (g_atomic_int_get (&n_move_off), ==, 0);
      /* A's spawn and its setter, refused. */
      g_assert_cmpint (rel_owner_refusals () - refusals_before, ==, 2);
      g_main_context_unref (m.context);
      g_cond_clear (&m.cond);
      g_mutex_clear (&m.lock);
    }
  rel_owner_refusals_end ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/reliability/misuse-threads/R23/set-name-from-worker", test_set_name_from_worker);
  g_test_add_func ("/reliability/misuse-threads/R23/setters-from-worker", test_setters_from_worker);
  g_test_add_func ("/reliability/misuse-threads/R23/next-async-from-worker", test_next_async_from_worker);
  g_test_add_func ("/reliability/misuse-threads/R23/wait-async-from-worker", test_wait_async_from_worker);
  g_test_add_func ("/reliability/misuse-threads/R23/list-tasks-from-worker", test_list_tasks_from_worker);
  g_test_add_func ("/reliability/misuse-threads/R23/refused-data-not-lost", test_refused_data_not_lost);
  g_test_add_func ("/reliability/misuse-threads/R23/hold-application-from-worker",
                   test_hold_application_from_worker);

  g_test_add_func ("/reliability/misuse-threads/R23/owner-moves-to-another-thread", test_owner_moves);

  return g_test_run ();
}
