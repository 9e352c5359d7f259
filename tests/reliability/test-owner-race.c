/* test-owner-race.c: the owner-only calls that work outside the group's
 * lock, made by the thread that made the group while another thread
 * begins running its batches (docs/rules.md R23, R24)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A thread that makes a group for a context another thread runs (its
 * thread-default context was that one) is the group's owner until a batch
 * runs on the other thread. Spawns and the group's setters decide that
 * under the lock a batch begins with. These calls did their owner-only
 * work outside any lock, after a quick unlocked check: next_async(),
 * wait_async(), list_tasks(), cancel_on_unix_signal(),
 * hold_application() and the task's deadline and shield setters. So the
 * maker passed the check just before the other thread's first batch and
 * then ran beside it: pushed onto the queue the batch pops, made the list
 * the batch fills, moved a deadline the context's timer fires (TSan: data
 * races in the stress below). Its wait_async() and next_async() also
 * completed on the maker's own thread-default context, which nobody runs,
 * so their callbacks never came. Now each holds the owner context for its
 * work, as start_async() does, and a thread that cannot take it (another
 * thread runs it) is refused with the owner critical. Two scenes at the
 * end check that nursery_group_wait() from another thread still works,
 * and is refused for the right reason when it cannot.
 *
 * The scenes never make a thread wait in g_main_context_acquire() (nor in
 * g_main_context_iteration() for a context another thread holds): that
 * leaves GLib-internal memory that TSan cannot see ordered (see
 * REL_UNDER_TSAN in test-stress.c). The thread that runs the context takes
 * it with a non-waiting acquire in a loop, and keeps it. */

#include <signal.h>
#include <string.h>

#include "rel-utils.h"

typedef enum {
  OP_NEXT_ASYNC,
  OP_WAIT_ASYNC,
  OP_LIST_TASKS,
  OP_CANCEL_ON_UNIX_SIGNAL,
  OP_HOLD_APPLICATION,
  OP_SET_DEADLINE,
  OP_SET_TIMEOUT,
  OP_CLEAR_DEADLINE,
  OP_SET_SHIELDED,
  N_OPS
} Op;

static const char * const op_names[N_OPS] = {
  "next-async", "wait-async", "list-tasks", "cancel-on-unix-signal", "hold-application",
  "set-deadline", "set-timeout", "clear-deadline", "set-shielded",
};

/* The thread that runs the context, and its callbacks */

static GThread *runner;
static GMainContext *owner_context;
static int n_callbacks;     /* atomic */
static int n_off_runner;    /* atomic: callbacks elsewhere */

/* A completion of next_async() or wait_async(): on the owner context,
 * so on the runner's thread. */
static void
counted_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  GSource *dispatching = g_main_current_source ();

  g_atomic_int_inc (&n_callbacks);
  if (g_thread_self () != runner || dispatching == NULL ||
      g_source_get_context (dispatching) != owner_context)
    g_atomic_int_inc (&n_off_runner);
}

/* Takes @context without ever waiting inside GLib for it (see the top). */
static void
acquire_spinning (GMainContext *context)
{
  while (!g_main_context_acquire (context))
    g_thread_yield ();
}

/* One scene: the maker makes the group, then calls; the runner runs the
 * context. */

typedef struct
{
  GMainContext *context;
  NurseryGroup *group;
  NurseryTask  *keeper;      /* unfinished until the group is cancelled */
  GApplication *application;
  Op            only;        /* N_OPS: every op in turn */
  guint         n_calls;
  guint         accepted;    /* maker: calls not refused */
  guint         async_accepted;  /* maker: next/wait calls not refused */
  GListModel   *list;        /* maker: the last list_tasks() */
  GMutex        lock;
  GCond         cond;
  gboolean      made;        /* under lock */
  gboolean      held;        /* under lock: the runner holds the context */
  gboolean      wait_for_held;
  int           done;        /* atomic: the maker's calls are over */
} Scene;

static void
signal_flag (Scene    *s,
             gboolean *flag)
{
  g_mutex_lock (&s->lock);
  *flag = TRUE;
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
}

static void
wait_flag (Scene    *s,
           gboolean *flag)
{
  g_mutex_lock (&s->lock);
  while (!*flag)
    g_cond_wait (&s->cond, &s->lock);
  g_mutex_unlock (&s->lock);
}

/* Makes one owner-only call of @op as the maker; whether it was taken
 * (its critical, if refused, came within the call, on this thread). */
static gboolean
maker_call (Scene *s,
            Op     op,
            guint  i)
{
  int before = rel_owner_refusals ();
  GListModel *list;

  switch (op)
    {
    case OP_NEXT_ASYNC:
      nursery_group_next_async (s->group, NULL, counted_cb, NULL);
      break;
    case OP_WAIT_ASYNC:
      nursery_group_wait_async (s->group, NULL, counted_cb, NULL);
      break;
    case OP_LIST_TASKS:
      list = nursery_group_list_tasks (s->group);
      if (list != NULL)
        {
          g_clear_object (&s->list);
          s->list = list;
        }
      break;
    case OP_CANCEL_ON_UNIX_SIGNAL:
      nursery_group_cancel_on_unix_signal (s->group, SIGHUP);
      break;
    case OP_HOLD_APPLICATION:
      nursery_group_hold_application (s->group, s->application);
      break;
    case OP_SET_DEADLINE:
      /* Far away, and moved each time. */
      nursery_task_set_deadline (s->keeper, g_get_monotonic_time () + G_TIME_SPAN_HOUR + i);
      break;
    case OP_SET_TIMEOUT:
      nursery_task_set_timeout (s->keeper, G_TIME_SPAN_HOUR + i);
      break;
    case OP_CLEAR_DEADLINE:
      nursery_task_clear_deadline (s->keeper);
      break;
    case OP_SET_SHIELDED:
      nursery_task_set_shielded (s->keeper, i % 2 == 0);
      break;
    case N_OPS:
    default:
      g_assert_not_reached ();
    }
  return rel_owner_refusals () == before;
}

static void
short_child (NurseryTask *task,
             gpointer     data)
{
  nursery_task_return_boolean (task, TRUE);
}

static gpointer
maker_thread (gpointer data)
{
  Scene *s = data;

  /* Made here, for the context the runner runs; so is the first batch's
   * work, before any batch. */
  g_main_context_push_thread_default (s->context);
  s->group = nursery_group_new ();
  s->keeper = nursery_group_spawn (s->group, "keeper", rel_child_until_cancelled, NULL, NULL, NULL);
  for (guint i = 0; i < 8; i++)
    g_object_unref (nursery_group_spawn (s->group, NULL, short_child, NULL, NULL, NULL));
  g_main_context_pop_thread_default (s->context);
  signal_flag (s, &s->made);
  if (s->wait_for_held)
    wait_flag (s, &s->held);

  for (guint i = 0; i < s->n_calls; i++)
    {
      Op op = s->only != N_OPS ? s->only : (Op) (i % N_OPS);

      if (maker_call (s, op, i))
        {
          s->accepted++;
          if (op == OP_NEXT_ASYNC || op == OP_WAIT_ASYNC)
            s->async_accepted++;
        }
    }
  g_atomic_int_set (&s->done, 1);
  g_main_context_wakeup (s->context);
  return NULL;
}

static void
scene_init (Scene *s,
            Op     only,
            guint  n_calls)
{
  memset (s, 0, sizeof *s);
  s->context = g_main_context_new ();
  owner_context = s->context;
  s->application = g_application_new ("org.example.OwnerRace", G_APPLICATION_NON_UNIQUE);
  s->only = only;
  s->n_calls = n_calls;
  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);
}

/* As the runner, holding the context: ends the group (so that every
 * waiter the maker added completes) and checks that every call taken
 * completed once, here. */
static void
scene_finish (Scene *s)
{
  g_autoptr(GError) error = NULL;

  /* The maker may have shielded it. */
  nursery_task_cancel (s->keeper);
  nursery_group_cancel (s->group);
  /* Pushed as a runner of the context would have it (the wait without
   * it is the last scene's). */
  g_main_context_push_thread_default (s->context);
  g_assert_true (nursery_group_wait (s->group, NULL, &error));
  g_main_context_pop_thread_default (s->context);
  g_assert_no_error (error);
  /* A completion on the wrong context would be lost there: look. */
  rel_drain (s->context);
  rel_drain (NULL);
  g_assert_cmpint (g_atomic_int_get (&n_off_runner), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&n_callbacks), ==, (int) s->async_accepted);
  if (s->list != NULL)
    g_assert_cmpuint (g_list_model_get_n_items (s->list), ==, 0);
}

static void
scene_clear (Scene *s)
{
  g_clear_object (&s->list);
  g_clear_object (&s->keeper);
  g_clear_object (&s->group);
  rel_drain (s->context);
  g_main_context_release (s->context);
  g_main_context_unref (s->context);
  g_clear_object (&s->application);
  g_cond_clear (&s->cond);
  g_mutex_clear (&s->lock);
}

/* /reliability/owner-race/R23/maker-refused-while-context-held/…: the
 * runner holds the context before the group's first batch (it runs a
 * loop there, say); the maker's call is refused with one critical, and
 * nothing of it happens. Before, the maker's quick check passed (no batch
 * had run) and the call went on beside whatever the runner did. */

static void
test_refused_while_held (gconstpointer data)
{
  Op op = GPOINTER_TO_INT (data);
  int refusals_before;
  Scene s;
  GThread *maker;

  runner = g_thread_self ();
  g_atomic_int_set (&n_callbacks, 0);
  g_atomic_int_set (&n_off_runner, 0);
  scene_init (&s, op, 1);
  s.wait_for_held = TRUE;
  rel_owner_refusals_begin ();
  refusals_before = rel_owner_refusals ();

  maker = g_thread_new ("maker", maker_thread, &s);
  wait_flag (&s, &s.made);
  acquire_spinning (s.context);
  signal_flag (&s, &s.held);
  g_thread_join (maker);

  g_assert_cmpuint (s.accepted, ==, 0);
  g_assert_cmpint (rel_owner_refusals () - refusals_before, ==, 1);
  g_assert_null (s.list);
  g_assert_cmpint (nursery_task_get_deadline (s.keeper), ==, -1);
  g_assert_false (nursery_task_get_shielded (s.keeper));
  rel_owner_refusals_end ();

  scene_finish (&s);
  g_assert_cmpint (g_atomic_int_get (&n_callbacks), ==, 0);
  scene_clear (&s);
}

/* /reliability/owner-race/R23/maker-calls-beside-first-batch: the maker
 * calls each of them in turn while the runner takes the context and
 * begins running the group's batches. Every call either was taken whole
 * before the runner took the context, or was refused with one critical;
 * every next_async() and wait_async() taken completes once, on the
 * runner's thread. Before, the calls that passed the quick check raced
 * the runner's first batches (TSan: data races on the completion stream's
 * queue and the task list; plain: callbacks that never came). */

static void
race_round (guint n_calls)
{
  int refusals_before = rel_owner_refusals ();
  Scene s;
  GThread *maker;

  g_atomic_int_set (&n_callbacks, 0);
  g_atomic_int_set (&n_off_runner, 0);
  scene_init (&s, N_OPS, n_calls);
  maker = g_thread_new ("maker", maker_thread, &s);
  wait_flag (&s, &s.made);
  /* Batches run here, holding the context, while the maker calls. */
  acquire_spinning (s.context);
  while (!g_atomic_int_get (&s.done))
    {
      g_object_unref (nursery_group_spawn (s.group, NULL, short_child, NULL, NULL, NULL));
      g_main_context_iteration (s.context, FALSE);
    }
  g_thread_join (maker);

  g_assert_cmpint (rel_owner_refusals () - refusals_before, ==, (int) (n_calls - s.accepted));
  scene_finish (&s);
  scene_clear (&s);
}

static void
test_maker_calls_beside_first_batch (void)
{
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("maker-calls-beside-first-batch");
  guint rounds = rel_scaled ("NURSERY_STRESS_ITERATIONS", 200);

  runner = g_thread_self ();
  rel_owner_refusals_begin ();
  for (guint i = 0; i < rounds; i++)
    {
      race_round (400);
      rel_watchdog_kick (watchdog, "round %u", i);
    }
  rel_owner_refusals_end ();
  g_test_message ("maker-calls-beside-first-batch: %u rounds, %d refused", rounds,
                  rel_owner_refusals ());
}

/* /reliability/owner-race/R23/wait-from-thread-with-other-default: a
 * thread that takes the owner context for nursery_group_wait() while its
 * own thread-default context is another one. The wait's completion is
 * the owner context's, which the wait iterates; before, it went to the
 * caller's thread-default context and the wait never returned. */

typedef struct
{
  NurseryGroup *group;
  gboolean      ok;
} WaitFromThread;

static gpointer
waiter_thread (gpointer data)
{
  WaitFromThread *w = data;
  g_autoptr(GError) error = NULL;

  w->ok = nursery_group_wait (w->group, NULL, &error);
  g_assert_no_error (error);
  return NULL;
}

static void
test_wait_from_thread (void)
{
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("wait-from-thread-with-other-default");
  GMainContext *context = g_main_context_new ();
  WaitFromThread w = { NULL };

  g_main_context_push_thread_default (context);
  w.group = nursery_group_new ();
  for (guint i = 0; i < 8; i++)
    g_object_unref (nursery_group_spawn (w.group, NULL, short_child, NULL, NULL, NULL));
  g_main_context_pop_thread_default (context);

  /* Nobody runs @context but the waiter. */
  g_thread_join (g_thread_new ("waiter", waiter_thread, &w));
  g_assert_true (w.ok);
  g_assert_cmpuint (nursery_group_get_n_succeeded (w.group), ==, 8);
  g_object_unref (w.group);
  rel_drain (context);
  g_main_context_unref (context);
}

/* /reliability/owner-race/R23/wait-refused-while-context-held: a thread
 * calls nursery_group_wait() while another runs the group's batches,
 * holding its context. Each call is refused because the context is owned
 * by another thread. Before, the wait read the group's in-batch flag
 * before it tried the context: another thread's batch was taken for the
 * caller's own (the critical for a wait from inside a callback, and
 * NURSERY_ERROR_WOULD_DEADLOCK), and the read raced the batch's write
 * (TSan). */

static int n_wait_not_owner;     /* atomic */
static int n_wait_in_callback;   /* atomic */

static gboolean
is_wait_refusal (const char *message)
{
  return strstr (message, "nursery_group_wait") != NULL &&
         (strstr (message, "owned by another thread") != NULL ||
          strstr (message, "inside a callback") != NULL);
}

static void
count_wait_refusal (const char     *domain,
                    GLogLevelFlags  level,
                    const char     *message,
                    gpointer        data)
{
  if (!is_wait_refusal (message))
    {
      g_log_default_handler (domain, level, message, data);
      return;
    }
  if (strstr (message, "inside a callback") != NULL)
    g_atomic_int_inc (&n_wait_in_callback);
  else
    g_atomic_int_inc (&n_wait_not_owner);
}

static gboolean
wait_refusal_is_not_fatal (const char     *domain,
                           GLogLevelFlags  level,
                           const char     *message,
                           gpointer        data)
{
  return !is_wait_refusal (message);
}

typedef struct
{
  NurseryGroup *group;
  guint         n_calls;
  int           done;     /* atomic */
} WaitBeside;

static gpointer
wait_beside_thread (gpointer data)
{
  WaitBeside *w = data;

  for (guint i = 0; i < w->n_calls; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (nursery_group_wait (w->group, NULL, &error));
      /* Refused before it began: no error of the group's. */
      g_assert_no_error (error);
    }
  g_atomic_int_set (&w->done, 1);
  return NULL;
}

/* Makes each batch long enough for the waits to come during one. */
static void
slow_task_finished (NurseryGroup *group,
                    NurseryTask  *task,
                    gpointer      data)
{
  rel_spin (20000);
}

static void
test_wait_refused_while_held (void)
{
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("wait-refused-while-context-held");
  g_autoptr(GError) error = NULL;
  GMainContext *context = g_main_context_new ();
  WaitBeside w = { .n_calls = rel_scaled ("NURSERY_STRESS_ITERATIONS", 2000) };
  guint handler;
  GThread *waiter;

  g_main_context_push_thread_default (context);
  w.group = nursery_group_new ();
  g_signal_connect (w.group, "task-finished", G_CALLBACK (slow_task_finished), NULL);
  handler = g_log_set_handler ("Nursery", G_LOG_LEVEL_CRITICAL | G_LOG_FLAG_FATAL,
                               count_wait_refusal, NULL);
  g_test_log_set_fatal_handler (wait_refusal_is_not_fatal, NULL);

  waiter = g_thread_new ("waiter", wait_beside_thread, &w);
  while (!g_atomic_int_get (&w.done))
    {
      g_object_unref (nursery_group_spawn (w.group, NULL, short_child, NULL, NULL, NULL));
      g_main_context_iteration (context, FALSE);
    }
  g_thread_join (waiter);
  g_log_remove_handler ("Nursery", handler);
  g_test_log_set_fatal_handler (NULL, NULL);

  g_assert_cmpint (g_atomic_int_get (&n_wait_in_callback), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&n_wait_not_owner), ==, (int) w.n_calls);
  g_assert_true (nursery_group_wait (w.group, NULL, &error));
  g_assert_no_error (error);
  g_main_context_pop_thread_default (context);
  g_object_unref (w.group);
  rel_drain (context);
  g_main_context_unref (context);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (Op op = 0; op < N_OPS; op++)
    {
      g_autofree char *path = g_strdup_printf ("/reliability/owner-race/R23/maker-refused-while-context-held/%s",
                                               op_names[op]);

      g_test_add_data_func (path, GINT_TO_POINTER (op), test_refused_while_held);
    }
  g_test_add_func ("/reliability/owner-race/R23/maker-calls-beside-first-batch",
                   test_maker_calls_beside_first_batch);
  g_test_add_func ("/reliability/owner-race/R23/wait-from-thread-with-other-default",
                   test_wait_from_thread);
  g_test_add_func ("/reliability/owner-race/R23/wait-refused-while-context-held",
                   test_wait_refused_while_held);

  return g_test_run ();
}
