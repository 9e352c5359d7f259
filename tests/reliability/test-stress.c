/* test-stress.c: thread races, thousands of times over (R3, R5–R10,
 * R12, R13, R18, R20, R23)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Each test repeats one scene many times (NURSERY_STRESS_ITERATIONS, or
 * the default scaled by NURSERY_RELIABILITY_SCALE). In every round helper
 * threads cancel the group, single tasks, waiters' and starters'
 * cancellables after a random busy-wait, while thread children return and
 * the owner context spawns and waits. Every round then checks, from what
 * the children and callbacks recorded:
 *  - every child finished exactly once (one task-finished, one destroy
 *    notify), and the wait completed once, after all of them;
 *  - every callback, signal, notify and destroy notify ran on the owner
 *    context's thread;
 *  - each child's outcome is the one its body and R5/R8/R9 allow, and the
 *    group's result is the one R7/R11 predict from those outcomes;
 *  - the group and every task are finalized once the handles are dropped.
 * A watchdog fails the test if a round stops making progress (deadlock). */

#include <string.h>

#include "rel-utils.h"

#define REL_ERROR (rel_error_quark ())
static G_DEFINE_QUARK (nursery-reliability-error-quark, rel_error)

typedef enum
{
  KIND_THREAD_VALUE,
  KIND_THREAD_FAIL,
  KIND_THREAD_BLOCK,          /* blocks until its cancellable is cancelled */
  KIND_CTX_UNTIL_CANCELLED,   /* returns from the cancelling thread */
  KIND_CTX_IDLE_VALUE,
  KIND_CTX_IDLE_FAIL,
  KIND_CTX_HANDOFF_VALUE,     /* returns from a thread of its own (R23) */
  N_KINDS
} Kind;

static const char * const kind_names[] = {
  "thread-value", "thread-fail", "thread-block", "ctx-until-cancelled",
  "ctx-idle-value", "ctx-idle-fail", "ctx-handoff-value",
};

static gboolean
kind_in_thread (Kind kind)
{
  return kind <= KIND_THREAD_BLOCK;
}

static gboolean
kind_blocks (Kind kind)
{
  return kind == KIND_THREAD_BLOCK || kind == KIND_CTX_UNTIL_CANCELLED;
}

static gboolean
kind_fails (Kind kind)
{
  return kind == KIND_THREAD_FAIL || kind == KIND_CTX_IDLE_FAIL;
}

typedef struct _Round Round;

typedef struct
{
  Round       *round;
  Kind         kind;
  guint        index;
  guint        spins;
  NurseryTask *task;
  GThread     *handoff;
  int          ran;               /* atomic */
  int          destroyed;         /* atomic */
  guint        finished_signals;  /* owner only */
} Child;

struct _Round
{
  GThread       *owner;
  GMainContext  *context;
  GRand         *rand;
  NurseryGroup  *group;
  NurseryPolicy  policy;
  GPtrArray     *children;        /* (element-type Child) owned */
  GPtrArray     *finish_order;    /* Child, in task-finished order */
  guint          extra_spawns;
  int            wait_done;       /* atomic */
  gboolean       wait_ok;
  GError        *wait_error;
  guint          finished_at_wait;
  RelLiveCount   live;
};

/* How often the interesting interleavings happened, so a run that never
 * collides is visible in the log. */
static struct
{
  guint children;
  guint not_run;              /* R5 */
  guint value_after_cancel;   /* R9: returned a value, cancelled too */
  guint failed_after_cancel;  /* R8: failed, cancelled too */
  guint cancelled_running;
  guint groups_cancelled;
  guint groups_failed;
} stats;

static void
assert_owner (Round *r)
{
  g_assert_true (g_thread_self () == r->owner);
}

/* Child bodies */

typedef struct
{
  GMutex   lock;
  GCond    cond;
  gboolean cancelled;
} Blocker;

static void
blocker_cancelled_cb (GCancellable *cancellable,
                      gpointer      data)
{
  Blocker *b = data;

  g_mutex_lock (&b->lock);
  b->cancelled = TRUE;
  g_cond_broadcast (&b->cond);
  g_mutex_unlock (&b->lock);
}

/* Blocks a worker until the task is cancelled, then disconnects: the
 * disconnect may race with the handler running on the cancelling thread. */
static void
block_until_cancelled (NurseryTask *task)
{
  GCancellable *cancellable = nursery_task_get_cancellable (task);
  Blocker b = { 0 };
  gulong id;

  g_mutex_init (&b.lock);
  g_cond_init (&b.cond);
  id = g_cancellable_connect (cancellable, G_CALLBACK (blocker_cancelled_cb), &b, NULL);
  g_mutex_lock (&b.lock);
  while (!b.cancelled)
    g_cond_wait (&b.cond, &b.lock);
  g_mutex_unlock (&b.lock);
  g_cancellable_disconnect (cancellable, id);
  g_mutex_clear (&b.lock);
  g_cond_clear (&b.cond);

  g_assert_true (nursery_task_return_error_if_cancelled (task));
}

static void
return_failure (NurseryTask *task,
                guint        index)
{
  nursery_task_return_new_error (task, REL_ERROR, (int) index, "child %u failed", index);
}

static void
thread_body (NurseryTask *task,
             gpointer     data)
{
  Child *c = data;

  g_assert_true (g_thread_self () != c->round->owner);
  g_atomic_int_set (&c->ran, 1);
  rel_spin (c->spins);

  switch (c->kind)
    {
    case KIND_THREAD_VALUE:
      nursery_task_return_int (task, c->index);
      break;
    case KIND_THREAD_FAIL:
      return_failure (task, c->index);
      break;
    case KIND_THREAD_BLOCK:
      block_until_cancelled (task);
      break;
    default:
      g_assert_not_reached ();
    }
}

static gboolean
idle_return_cb (gpointer data)
{
  Child *c = data;

  assert_owner (c->round);
  /* R9: a value returned after a cancellation is still a value. */
  if (c->kind == KIND_CTX_IDLE_VALUE)
    nursery_task_return_int (c->task, c->index);
  else
    return_failure (c->task, c->index);
  return G_SOURCE_REMOVE;
}

static gpointer
handoff_thread (gpointer data)
{
  Child *c = data;

  rel_spin (c->spins);
  nursery_task_return_int (c->task, c->index);
  return NULL;
}

static void
ctx_body (NurseryTask *task,
          gpointer     data)
{
  Child *c = data;
  GSource *source;

  assert_owner (c->round);
  g_assert_true (task == c->task);
  g_atomic_int_set (&c->ran, 1);

  switch (c->kind)
    {
    case KIND_CTX_UNTIL_CANCELLED:
      g_cancellable_connect (nursery_task_get_cancellable (task),
                             G_CALLBACK (rel_return_if_cancelled_cb), task, NULL);
      break;
    case KIND_CTX_IDLE_VALUE:
    case KIND_CTX_IDLE_FAIL:
      source = g_idle_source_new ();
      g_source_set_callback (source, idle_return_cb, c, NULL);
      g_source_attach (source, c->round->context);
      g_source_unref (source);
      break;
    case KIND_CTX_HANDOFF_VALUE:
      c->handoff = g_thread_new ("handoff", handoff_thread, c);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
child_destroy (gpointer data)
{
  Child *c = data;

  assert_owner (c->round);
  g_assert_cmpint (g_atomic_int_add (&c->destroyed, 1), ==, 0);
}

static void
child_free (gpointer data)
{
  Child *c = data;

  if (c->handoff != NULL)
    g_thread_join (c->handoff);
  g_clear_object (&c->task);
  g_free (c);
}

static Child *
spawn_child (Round *r,
             Kind   kind)
{
  Child *c = g_new0 (Child, 1);
  GError *error = NULL;

  c->round = r;
  c->kind = kind;
  c->index = r->children->len;
  c->spins = g_rand_int_range (r->rand, 0, 3000);
  /* The handle is set before the body can run: never inline (R1). */
  if (kind_in_thread (kind))
    c->task = nursery_group_spawn_in_thread (r->group, kind_names[kind], thread_body, c,
                                             child_destroy, &error);
  else
    c->task = nursery_group_spawn (r->group, kind_names[kind], ctx_body, c, child_destroy, &error);
  g_assert_no_error (error);
  g_assert_nonnull (c->task);
  g_assert_cmpint (g_atomic_int_get (&c->ran), ==, 0);
  g_object_set_data (G_OBJECT (c->task), "rel-child", c);
  rel_track (&r->live, c->task);
  g_ptr_array_add (r->children, c);
  return c;
}

static Kind
random_kind (Round    *r,
             gboolean  blocking_ok)
{
  for (;;)
    {
      Kind kind = g_rand_int_range (r->rand, 0, N_KINDS);

      if (blocking_ok || !kind_blocks (kind))
        return kind;
    }
}

/* Signals */

static void
task_finished_cb (NurseryGroup *group,
                  NurseryTask  *task,
                  gpointer      data)
{
  Round *r = data;
  Child *c = g_object_get_data (G_OBJECT (task), "rel-child");

  assert_owner (r);
  g_assert_nonnull (c);
  g_assert_true (nursery_task_is_finished (task));
  g_assert_cmpint (g_atomic_int_get (&r->wait_done), ==, 0);
  c->finished_signals++;
  g_ptr_array_add (r->finish_order, c);

  /* R4: spawning while joining (and maybe cancelled) is allowed. */
  if (r->extra_spawns > 0)
    {
      r->extra_spawns--;
      spawn_child (r, random_kind (r, FALSE));
    }
}

static void
notify_cb (GObject    *object,
           GParamSpec *pspec,
           gpointer    data)
{
  assert_owner (data);
}

static void
wait_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  Round *r = data;

  assert_owner (r);
  r->finished_at_wait = r->finish_order->len;
  /* R6: only once every child has finished. */
  for (guint i = 0; i < r->children->len; i++)
    g_assert_true (nursery_task_is_finished (((Child *) r->children->pdata[i])->task));
  r->wait_ok = nursery_group_wait_finish (NURSERY_GROUP (source), result, &r->wait_error);
  g_atomic_int_inc (&r->wait_done);
}

/* Helper jobs */

static void
cancel_group_job (gpointer group,
                  gpointer spins)
{
  rel_spin (GPOINTER_TO_UINT (spins));
  nursery_group_cancel (group);
}

typedef struct
{
  NurseryTask *task;
  guint        spins;
} CancelTarget;

static void
cancel_tasks_job (gpointer targets,
                  gpointer unused)
{
  GArray *array = targets;

  for (guint i = 0; i < array->len; i++)
    {
      CancelTarget *t = &g_array_index (array, CancelTarget, i);

      rel_spin (t->spins);
      nursery_task_cancel (t->task);
    }
}

static void
cancel_target_clear (gpointer data)
{
  g_clear_object (&((CancelTarget *) data)->task);
}

/* What R5, R8, R9 allow for one child, and what R7, R8, R11 predict for
 * the group. */
static void
check_round (Round *r)
{
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(GPtrArray) expected_errors = g_ptr_array_new ();
  Child *winner = NULL;
  const GError *expected = NULL;
  gboolean cancelled;

  g_assert_cmpint (g_atomic_int_get (&r->wait_done), ==, 1);
  g_assert_cmpuint (r->finished_at_wait, ==, r->children->len);
  g_assert_true (nursery_group_is_closed (r->group));
  g_assert_cmpuint (nursery_group_get_n_finished (r->group), ==, r->children->len);
  g_assert_cmpuint (nursery_group_get_n_running (r->group), ==, 0);
  g_assert_cmpuint (nursery_group_get_n_pending (r->group), ==, 0);

  for (guint i = 0; i < r->children->len; i++)
    {
      Child *c = r->children->pdata[i];
      NurseryTaskState state = nursery_task_get_state (c->task);

      g_assert_cmpuint (c->finished_signals, ==, 1);
      g_assert_cmpint (g_atomic_int_get (&c->destroyed), ==, 1);

      stats.children++;
      if (!g_atomic_int_get (&c->ran))
        stats.not_run++;
      else if (nursery_task_is_cancelled (c->task))
        {
          if (state == NURSERY_TASK_SUCCEEDED)
            stats.value_after_cancel++;
          else if (state == NURSERY_TASK_FAILED)
            stats.failed_after_cancel++;
          else
            stats.cancelled_running++;
        }

      if (!g_atomic_int_get (&c->ran))
        {
          /* R5: finished as cancelled without running. */
          g_assert_cmpint (state, ==, NURSERY_TASK_CANCELLED);
          g_assert_true (nursery_task_is_cancelled (c->task));
          g_assert_error (nursery_task_get_error (c->task), G_IO_ERROR, G_IO_ERROR_CANCELLED);
        }
      else if (kind_blocks (c->kind))
        {
          g_assert_cmpint (state, ==, NURSERY_TASK_CANCELLED);
          g_assert_error (nursery_task_get_error (c->task), G_IO_ERROR, G_IO_ERROR_CANCELLED);
        }
      else if (kind_fails (c->kind))
        {
          /* R8: a failure is a failure even if the task was cancelled. */
          g_assert_cmpint (state, ==, NURSERY_TASK_FAILED);
          g_assert_error (nursery_task_get_error (c->task), REL_ERROR, (int) c->index);
        }
      else
        {
          /* R9: never turned into CANCELLED. */
          if (state != NURSERY_TASK_SUCCEEDED)
            g_error ("round child %u (%s) ran and returned a value but ended %d (cancelled %d): %s",
                     c->index, kind_names[c->kind], state, nursery_task_is_cancelled (c->task),
                     nursery_task_get_error (c->task) ? nursery_task_get_error (c->task)->message : "");
          g_assert_cmpint (nursery_task_get_int (c->task), ==, c->index);
        }
    }

  for (guint i = 0; i < r->finish_order->len; i++)
    {
      Child *c = r->finish_order->pdata[i];
      NurseryTaskState state = nursery_task_get_state (c->task);

      if (state == NURSERY_TASK_FAILED)
        g_ptr_array_add (expected_errors, (gpointer) nursery_task_get_error (c->task));
      else if (state == NURSERY_TASK_SUCCEEDED && winner == NULL)
        winner = c;
    }

  /* R8: every failure, in the order they were reported. */
  errors = nursery_group_get_errors (r->group);
  g_assert_cmpuint (errors->len, ==, expected_errors->len);
  g_assert_cmpuint (nursery_group_get_n_failed (r->group), ==, expected_errors->len);
  for (guint i = 0; i < errors->len; i++)
    {
      const GError *got = errors->pdata[i], *want = expected_errors->pdata[i];

      g_assert_error (got, want->domain, want->code);
      g_assert_cmpstr (got->message, ==, want->message);
    }

  cancelled = nursery_group_is_cancelled (r->group);
  stats.groups_cancelled += cancelled;
  stats.groups_failed += expected_errors->len > 0;
  if (r->policy == NURSERY_POLICY_FAIL_FAST && expected_errors->len > 0)
    g_assert_true (cancelled);

  if (r->policy == NURSERY_POLICY_RACE)
    {
      g_assert_true (nursery_group_get_winner (r->group) == (winner ? winner->task : NULL));
      if (winner != NULL)
        g_assert_true (cancelled);
    }

  /* R7 (and R11 for a race won): a round is cancelled only by its
   * owner's nursery_group_cancel(), which is quiet. */
  if (r->policy == NURSERY_POLICY_RACE && winner != NULL)
    expected = NULL;
  else if (expected_errors->len > 0)
    expected = expected_errors->pdata[0];

  if (expected == NULL)
    {
      g_assert_no_error (r->wait_error);
      g_assert_true (r->wait_ok);
    }
  else
    {
      g_assert_false (r->wait_ok);
      g_assert_error (r->wait_error, expected->domain, expected->code);
      g_assert_cmpstr (r->wait_error->message, ==, expected->message);
    }
}

/* Drops every handle and checks that nothing stays alive (R20). */
static void
round_free (Round *r)
{
  g_ptr_array_unref (r->children);
  g_ptr_array_unref (r->finish_order);
  g_clear_object (&r->group);
  g_clear_error (&r->wait_error);
  rel_drain (r->context);
  if (g_atomic_int_get (&r->live.alive) != 0)
    g_error ("%d group/task objects still alive after the round", r->live.alive);
}

/* /reliability/stress/R7/cancel-race */

typedef struct
{
  RelHelper   *group_canceller;
  RelHelper   *task_canceller;
  RelWatchdog *watchdog;
  guint        iterations;
  guint32      seed;
  NurseryGroup *side_group;   /* task-side-part-race: one for all rounds */
} Stress;

static void
cancel_race_round (Stress *s,
                   guint   iteration)
{
  Round r = { 0 };
  g_autoptr(GArray) targets = g_array_new (FALSE, TRUE, sizeof (CancelTarget));
  gboolean blockers = FALSE;
  guint n;

  r.owner = g_thread_self ();
  r.context = g_main_context_ref_thread_default ();
  r.rand = g_rand_new_with_seed (s->seed + iteration);
  r.children = g_ptr_array_new_with_free_func (child_free);
  r.finish_order = g_ptr_array_new ();
  r.group = nursery_group_new ();
  rel_track (&r.live, r.group);

  r.policy = g_rand_int_range (r.rand, 0, 3);
  nursery_group_set_policy (r.group, r.policy);
  if (g_rand_boolean (r.rand))
    nursery_group_set_max_concurrent (r.group, g_rand_int_range (r.rand, 1, 5));
  g_signal_connect (r.group, "task-finished", G_CALLBACK (task_finished_cb), &r);
  g_signal_connect (r.group, "notify", G_CALLBACK (notify_cb), &r);

  n = g_rand_int_range (r.rand, 2, 9);
  for (guint i = 0; i < n; i++)
    {
      Child *c = spawn_child (&r, random_kind (&r, TRUE));

      blockers |= kind_blocks (c->kind);
      g_signal_connect (c->task, "notify", G_CALLBACK (notify_cb), &r);
      if (g_rand_int_range (r.rand, 0, 3) == 0)
        {
          CancelTarget t = { g_object_ref (c->task), g_rand_int_range (r.rand, 0, 20000) };

          g_array_append_val (targets, t);
        }
    }
  g_array_set_clear_func (targets, cancel_target_clear);

  /* Blocking children end only when cancelled: then the group is too. */
  if (blockers || g_rand_boolean (r.rand))
    rel_helper_run (s->group_canceller, cancel_group_job, r.group,
                    GUINT_TO_POINTER (g_rand_int_range (r.rand, 0, 40000)));
  rel_helper_run (s->task_canceller, cancel_tasks_job, targets, NULL);

  /* Meanwhile the owner runs the children, spawns more, then joins. */
  for (guint i = g_rand_int_range (r.rand, 0, 6); i > 0; i--)
    {
      g_main_context_iteration (r.context, FALSE);
      if (g_rand_boolean (r.rand))
        spawn_child (&r, random_kind (&r, FALSE));
    }
  r.extra_spawns = g_rand_int_range (r.rand, 0, 3);
  nursery_group_wait_async (r.group, NULL, wait_cb, &r);
  g_assert_cmpint (g_atomic_int_get (&r.wait_done), ==, 0);
  rel_run_until (r.context, &r.wait_done);

  rel_helper_finish (s->group_canceller);
  rel_helper_finish (s->task_canceller);
  check_round (&r);

  g_clear_pointer (&targets, g_array_unref);
  round_free (&r);
  g_rand_free (r.rand);
  g_main_context_unref (r.context);
}

static Stress *
stress_new (const char *name,
            guint       default_iterations)
{
  Stress *s = g_new0 (Stress, 1);

  s->iterations = rel_scaled ("NURSERY_STRESS_ITERATIONS", default_iterations);
  s->seed = rel_env_uint ("NURSERY_STRESS_SEED", g_test_rand_int ());
  s->group_canceller = rel_helper_new ("group-canceller");
  s->task_canceller = rel_helper_new ("task-canceller");
  s->watchdog = rel_watchdog_new (name);
  g_test_message ("%s: %u iterations, NURSERY_STRESS_SEED=%u", name, s->iterations, s->seed);
  return s;
}

static void
stress_free (Stress *s)
{
  rel_helper_free (s->group_canceller);
  rel_helper_free (s->task_canceller);
  rel_watchdog_free (s->watchdog);
  g_free (s);
}

typedef void (*RoundFunc) (Stress *s, guint iteration);

static void
run_rounds (Stress    *s,
            const char *name,
            RoundFunc  func)
{
  for (guint i = 0; i < s->iterations; i++)
    {
      rel_watchdog_kick (s->watchdog, "%s round %u (NURSERY_STRESS_SEED=%u)", name, i, s->seed);
      func (s, i);
    }
}

static void
print_stats (const char *name)
{
  g_test_message ("%s: %u children: %u never ran (R5), %u cancelled while running, "
                  "%u kept a value returned around a cancel (R9), %u failed around a cancel (R8); "
                  "groups: %u cancelled, %u failed",
                  name, stats.children, stats.not_run, stats.cancelled_running,
                  stats.value_after_cancel, stats.failed_after_cancel,
                  stats.groups_cancelled, stats.groups_failed);
  memset (&stats, 0, sizeof stats);
}

static void
test_cancel_race (void)
{
  Stress *s = stress_new ("cancel-race", 3000);

  run_rounds (s, "cancel-race", cancel_race_round);
  print_stats ("cancel-race");
  stress_free (s);
}

/* The same, owned by a context of another thread (not the default one). */

static gpointer
cancel_race_owner_thread (gpointer data)
{
  Stress *s = data;
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  run_rounds (s, "cancel-race-other-owner", cancel_race_round);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void
test_cancel_race_other_owner (void)
{
  Stress *s = stress_new ("cancel-race-other-owner", 1000);

  g_thread_join (g_thread_new ("owner", cancel_race_owner_thread, s));
  print_stats ("cancel-race-other-owner");
  stress_free (s);
}

/* /reliability/stress/R13/return-vs-cancel: R9, R13 — a value returned from
 * one thread while another cancels the task (or the group) */

typedef struct
{
  Stress       *stress;
  GThread      *owner;
  NurseryTask  *task;
  gboolean      check_first;    /* returns CANCELLED if it sees the cancel */
  gboolean      cancel_group;
  guint         spins_return;
  guint         spins_cancel;
  int           task_wait_done;
  gboolean      task_wait_ok;
  int           wait_done;
  GError       *wait_error;
} ReturnRace;

static void
return_job (gpointer data,
            gpointer unused)
{
  ReturnRace *rr = data;

  rel_spin (rr->spins_return);
  if (!rr->check_first || !nursery_task_return_error_if_cancelled (rr->task))
    nursery_task_return_int (rr->task, 42);
}

static void
cancel_one_job (gpointer data,
                gpointer unused)
{
  ReturnRace *rr = data;

  rel_spin (rr->spins_cancel);
  if (rr->cancel_group)
    nursery_group_cancel (nursery_task_get_group (rr->task));
  else
    nursery_task_cancel (rr->task);
}

static void
racer_body (NurseryTask *task,
            gpointer     data)
{
  ReturnRace *rr = data;

  g_assert_true (g_thread_self () == rr->owner);
  rr->task = task;
  rel_helper_run (rr->stress->group_canceller, return_job, rr, NULL);
  rel_helper_run (rr->stress->task_canceller, cancel_one_job, rr, NULL);
}

static void
thread_value_body (NurseryTask *task,
                   gpointer     spins)
{
  rel_spin (GPOINTER_TO_UINT (spins));
  nursery_task_return_int (task, 7);
}

static void
task_wait_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  ReturnRace *rr = data;

  g_assert_true (g_thread_self () == rr->owner);
  rr->task_wait_ok = nursery_task_wait_finish (NURSERY_TASK (source), result, NULL);
  g_atomic_int_inc (&rr->task_wait_done);
}

static void
race_wait_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  ReturnRace *rr = data;

  g_assert_true (g_thread_self () == rr->owner);
  nursery_group_wait_finish (NURSERY_GROUP (source), result, &rr->wait_error);
  g_atomic_int_inc (&rr->wait_done);
}

static void
return_vs_cancel_round (Stress *s,
                        guint   iteration)
{
  GRand *rand = g_rand_new_with_seed (s->seed + iteration);
  ReturnRace rr = { s, g_thread_self (), NULL, 0 };
  RelLiveCount live = { 0 };
  NurseryGroup *group = nursery_group_new ();
  NurseryTask *racer, *thread_child;

  rr.check_first = g_rand_boolean (rand);
  rr.cancel_group = g_rand_boolean (rand);
  rr.spins_return = g_rand_int_range (rand, 0, 5000);
  rr.spins_cancel = g_rand_int_range (rand, 0, 5000);

  rel_track (&live, group);
  racer = nursery_group_spawn (group, "racer", racer_body, &rr, NULL, NULL);
  thread_child = nursery_group_spawn_in_thread (group, "thread", thread_value_body,
                                                GUINT_TO_POINTER (g_rand_int_range (rand, 0, 5000)),
                                                NULL, NULL);
  rel_track (&live, racer);
  rel_track (&live, thread_child);
  nursery_task_wait_async (racer, NULL, task_wait_cb, &rr);
  nursery_group_wait_async (group, NULL, race_wait_cb, &rr);
  rel_run_until (NULL, &rr.wait_done);
  rel_helper_finish (s->group_canceller);
  rel_helper_finish (s->task_canceller);
  rel_drain (NULL);

  g_assert_cmpint (rr.task_wait_done, ==, 1);
  if (!rr.check_first)
    {
      /* R9: the value stands, cancelled or not. */
      g_assert_cmpint (nursery_task_get_state (racer), ==, NURSERY_TASK_SUCCEEDED);
      g_assert_cmpint (nursery_task_get_int (racer), ==, 42);
    }
  else if (nursery_task_get_state (racer) == NURSERY_TASK_CANCELLED)
    g_assert_true (nursery_task_is_cancelled (racer));
  else
    g_assert_cmpint (nursery_task_get_int (racer), ==, 42);
  g_assert_true (rr.task_wait_ok == (nursery_task_get_state (racer) == NURSERY_TASK_SUCCEEDED));

  if (nursery_task_get_state (thread_child) != NURSERY_TASK_SUCCEEDED)
    g_assert_cmpint (nursery_task_get_state (thread_child), ==, NURSERY_TASK_CANCELLED);
  else
    g_assert_cmpint (nursery_task_get_int (thread_child), ==, 7);

  /* R13: a task's cancel is not the group's; R7: no failure here, and
   * the owner's own cancel is quiet. */
  g_assert_true (nursery_group_is_cancelled (group) == rr.cancel_group ||
                 !nursery_group_is_cancelled (group));
  g_assert_no_error (rr.wait_error);
  if (!rr.cancel_group)
    g_assert_false (nursery_group_is_cancelled (group));

  g_clear_error (&rr.wait_error);
  g_object_unref (racer);
  g_object_unref (thread_child);
  g_object_unref (group);
  rel_drain (NULL);
  g_assert_cmpint (live.alive, ==, 0);
  g_rand_free (rand);
}

static void
test_return_vs_cancel (void)
{
  Stress *s = stress_new ("return-vs-cancel", 3000);

  run_rounds (s, "return-vs-cancel", return_vs_cancel_round);
  stress_free (s);
}

/* /reliability/stress/R20/drop-while-running: R20 — the last reference goes
 * while threads return and cancel */

typedef struct
{
  Round    r;
  int      group_gone;
} DropRound;

static void
group_gone_cb (gpointer  data,
               GObject  *where_the_object_was)
{
  DropRound *d = data;

  /* Finalized only after every child finished and was released. */
  assert_owner (&d->r);
  for (guint i = 0; i < d->r.children->len; i++)
    {
      Child *c = d->r.children->pdata[i];

      g_assert_true (nursery_task_is_finished (c->task));
      g_assert_cmpint (g_atomic_int_get (&c->destroyed), ==, 1);
    }
  d->group_gone = 1;
}

static void
drop_round (Stress *s,
            guint   iteration)
{
  DropRound d = { { 0 } };
  Round *r = &d.r;
  g_autoptr(GArray) targets = g_array_new (FALSE, TRUE, sizeof (CancelTarget));
  static const Kind kinds[] = { KIND_THREAD_VALUE, KIND_THREAD_BLOCK, KIND_CTX_UNTIL_CANCELLED,
                                KIND_CTX_IDLE_VALUE, KIND_CTX_HANDOFF_VALUE };

  r->owner = g_thread_self ();
  r->context = g_main_context_ref_thread_default ();
  r->rand = g_rand_new_with_seed (s->seed + iteration);
  r->children = g_ptr_array_new_with_free_func (child_free);
  r->finish_order = g_ptr_array_new ();
  r->group = nursery_group_new ();
  if (g_rand_boolean (r->rand))
    nursery_group_set_max_concurrent (r->group, g_rand_int_range (r->rand, 1, 4));
  g_object_weak_ref (G_OBJECT (r->group), group_gone_cb, &d);
  g_signal_connect (r->group, "task-finished", G_CALLBACK (task_finished_cb), r);

  for (guint i = g_rand_int_range (r->rand, 1, 7); i > 0; i--)
    {
      Child *c = spawn_child (r, kinds[g_rand_int_range (r->rand, 0, G_N_ELEMENTS (kinds))]);

      if (g_rand_boolean (r->rand))
        {
          CancelTarget t = { g_object_ref (c->task), g_rand_int_range (r->rand, 0, 20000) };

          g_array_append_val (targets, t);
        }
    }
  g_array_set_clear_func (targets, cancel_target_clear);
  rel_helper_run (s->task_canceller, cancel_tasks_job, targets, NULL);

  for (guint i = g_rand_int_range (r->rand, 0, 4); i > 0; i--)
    g_main_context_iteration (r->context, FALSE);
  g_clear_object (&r->group);
  rel_run_until (r->context, &d.group_gone);
  rel_helper_finish (s->task_canceller);

  for (guint i = 0; i < r->children->len; i++)
    {
      Child *c = r->children->pdata[i];
      NurseryTaskState state = nursery_task_get_state (c->task);

      g_assert_cmpuint (c->finished_signals, ==, 1);
      if (g_atomic_int_get (&c->ran) && !kind_blocks (c->kind))
        g_assert_cmpint (state, ==, NURSERY_TASK_SUCCEEDED);
      else
        g_assert_cmpint (state, ==, NURSERY_TASK_CANCELLED);
      /* The group is gone: the handle says so, and cancel is harmless. */
      g_assert_null (nursery_task_get_group (c->task));
      nursery_task_cancel (c->task);
    }

  g_clear_pointer (&targets, g_array_unref);
  round_free (r);
  g_rand_free (r->rand);
  g_main_context_unref (r->context);
}

static void
test_drop_while_running (void)
{
  Stress *s = stress_new ("drop-while-running", 2000);

  run_rounds (s, "drop-while-running", drop_round);
  stress_free (s);
}

/* /reliability/stress/R10/waiter-cancel: R10 — waiters' cancellables
 * cancelled from another thread while the group closes */

typedef struct
{
  GThread      *owner;
  int           done;
  gboolean      ok[2];
  GError       *error[2];
  guint         finished_at[2];
  NurseryGroup *group;
  int           task_done;
  GError       *task_error;
} WaiterRound;

static void
waiter_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  WaiterRound *w = g_object_get_data (G_OBJECT (source), "rel-waiters");
  guint which = GPOINTER_TO_UINT (data);

  g_assert_true (g_thread_self () == w->owner);
  g_assert_null (w->error[which]);
  w->finished_at[which] = nursery_group_get_n_finished (w->group);
  g_assert_true (nursery_group_is_closed (w->group));
  w->ok[which] = nursery_group_wait_finish (NURSERY_GROUP (source), result, &w->error[which]);
  g_atomic_int_inc (&w->done);
}

static void
blocker_wait_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      data)
{
  WaiterRound *w = data;

  g_assert_true (g_thread_self () == w->owner);
  g_assert_false (nursery_task_wait_finish (NURSERY_TASK (source), result, &w->task_error));
  g_atomic_int_inc (&w->task_done);
}

static void
cancel_cancellable_job (gpointer cancellable,
                        gpointer spins)
{
  rel_spin (GPOINTER_TO_UINT (spins));
  g_cancellable_cancel (cancellable);
}

static void
thread_block_body (NurseryTask *task,
                   gpointer     unused)
{
  block_until_cancelled (task);
}

static void
waiter_cancel_round (Stress *s,
                     guint   iteration)
{
  GRand *rand = g_rand_new_with_seed (s->seed + iteration);
  WaiterRound w = { g_thread_self (), 0 };
  g_autoptr(GCancellable) waiter_cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) task_cancellable = g_cancellable_new ();
  g_autoptr(NurseryTask) blocker = NULL;
  gboolean with_blocker = g_rand_boolean (rand);
  guint n = 0;

  w.group = nursery_group_new ();
  g_object_set_data (G_OBJECT (w.group), "rel-waiters", &w);
  for (guint i = g_rand_int_range (rand, 1, 6); i > 0; i--, n++)
    {
      g_object_unref (nursery_group_spawn_in_thread (w.group, NULL, thread_value_body,
                                                     GUINT_TO_POINTER (g_rand_int_range (rand, 0, 3000)),
                                                     NULL, NULL));
    }
  if (with_blocker)
    {
      blocker = nursery_group_spawn_in_thread (w.group, "blocker", thread_block_body, NULL, NULL, NULL);
      n++;
      nursery_task_wait_async (blocker, task_cancellable, blocker_wait_cb, &w);
      rel_helper_run (s->task_canceller, cancel_cancellable_job, task_cancellable,
                      GUINT_TO_POINTER (g_rand_int_range (rand, 0, 20000)));
    }

  nursery_group_wait_async (w.group, waiter_cancellable, waiter_cb, GUINT_TO_POINTER (0));
  nursery_group_wait_async (w.group, NULL, waiter_cb, GUINT_TO_POINTER (1));
  if (g_rand_boolean (rand))
    rel_helper_run (s->group_canceller, cancel_cancellable_job, waiter_cancellable,
                    GUINT_TO_POINTER (g_rand_int_range (rand, 0, 20000)));

  while (g_atomic_int_get (&w.done) < 2)
    g_main_context_iteration (NULL, TRUE);
  rel_helper_finish (s->group_canceller);
  rel_helper_finish (s->task_canceller);
  rel_drain (NULL);

  /* R10: both waiters, once each, after every child, same outcome. */
  g_assert_cmpint (w.done, ==, 2);
  g_assert_cmpuint (w.finished_at[0], ==, n);
  g_assert_cmpuint (w.finished_at[1], ==, n);
  g_assert_true (w.ok[0] == w.ok[1]);
  if (nursery_group_is_cancelled (w.group))
    {
      g_assert_error (w.error[0], G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_error (w.error[1], G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_true (g_cancellable_is_cancelled (waiter_cancellable));
    }
  else
    {
      g_assert_no_error (w.error[0]);
      g_assert_no_error (w.error[1]);
    }
  if (with_blocker)
    {
      g_assert_cmpint (w.task_done, ==, 1);
      g_assert_error (w.task_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpint (nursery_task_get_state (blocker), ==, NURSERY_TASK_CANCELLED);
    }

  g_clear_error (&w.error[0]);
  g_clear_error (&w.error[1]);
  g_clear_error (&w.task_error);
  g_object_add_weak_pointer (G_OBJECT (w.group), (gpointer *) &w.group);
  g_clear_object (&blocker);
  g_object_unref (w.group);
  rel_drain (NULL);
  g_assert_null (w.group);
  g_rand_free (rand);
}

static void
test_waiter_cancel (void)
{
  Stress *s = stress_new ("waiter-cancel", 2000);

  run_rounds (s, "waiter-cancel", waiter_cancel_round);
  stress_free (s);
}

/* /reliability/stress/R14/nested-cancel: R14 — a nested group's parent
 * cancelled from another thread while the nested group runs or closes */

typedef struct
{
  Stress       *stress;
  GRand        *rand;
  GThread      *owner;
  GCancellable *parent_cancellable;   /* for the with-cancellable variant */
  NurseryGroup *outer;
  NurseryTask  *parent;
  RelLiveCount  live;
  int           done;
  int           mode;                 /* 0 cancel parent task, 1 outer group, 2 cancellable */
} NestedRound;

static void
until_cancelled_body (NurseryTask *task,
                      gpointer     unused)
{
  g_cancellable_connect (nursery_task_get_cancellable (task),
                         G_CALLBACK (rel_return_if_cancelled_cb), task, NULL);
}

static void
cancel_task_job (gpointer task,
                 gpointer spins)
{
  rel_spin (GPOINTER_TO_UINT (spins));
  nursery_task_cancel (task);
}

static void
nested_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  NurseryTask *parent = data;
  GError *error = NULL;

  if (nursery_group_wait_finish (NURSERY_GROUP (source), result, &error))
    nursery_task_return_int (parent, 1);
  else
    nursery_task_return_error (parent, error);
  g_object_unref (parent);
}

static void
nested_parent_body (NurseryTask *task,
                    gpointer     data)
{
  NestedRound *nr = data;
  g_autoptr(NurseryGroup) inner = NULL;

  g_assert_true (g_thread_self () == nr->owner);
  if (nr->mode == 2)
    inner = nursery_group_new_with_cancellable (nr->parent_cancellable);
  else
    inner = nursery_group_new_for_task (task);
  rel_track (&nr->live, inner);
  for (guint i = g_rand_int_range (nr->rand, 1, 5); i > 0; i--)
    {
      g_autoptr(NurseryTask) child = NULL;

      switch (g_rand_int_range (nr->rand, 0, 3))
        {
        case 0:
          child = nursery_group_spawn_in_thread (inner, NULL, thread_value_body,
                                                 GUINT_TO_POINTER (100), NULL, NULL);
          break;
        case 1:
          child = nursery_group_spawn_in_thread (inner, NULL, thread_block_body, NULL, NULL, NULL);
          break;
        default:
          child = nursery_group_spawn (inner, NULL, until_cancelled_body, NULL, NULL, NULL);
        }
      rel_track (&nr->live, child);
    }
  nursery_group_wait_async (inner, NULL, nested_done_cb, g_object_ref (task));

  /* Whatever is cancelled, it reaches the nested group (R14). */
  switch (nr->mode)
    {
    case 0:
      rel_helper_run (nr->stress->task_canceller, cancel_task_job, task,
                      GUINT_TO_POINTER (g_rand_int_range (nr->rand, 0, 20000)));
      break;
    case 1:
      rel_helper_run (nr->stress->group_canceller, cancel_group_job, nr->outer,
                      GUINT_TO_POINTER (g_rand_int_range (nr->rand, 0, 20000)));
      break;
    default:
      rel_helper_run (nr->stress->group_canceller, cancel_cancellable_job, nr->parent_cancellable,
                      GUINT_TO_POINTER (g_rand_int_range (nr->rand, 0, 20000)));
    }
}

static void
outer_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  NestedRound *nr = data;
  g_autoptr(GError) error = NULL;
  NurseryTaskState state = nursery_task_get_state (nr->parent);

  g_assert_true (g_thread_self () == nr->owner);
  nursery_group_wait_finish (NURSERY_GROUP (source), result, &error);

  /* The nested group ended cancelled: the parent is cancelled if it was
   * cancelled itself, else that CANCELLED is its failure (R8), which
   * becomes the outer group's result (R7). */
  g_assert_true (nursery_task_is_finished (nr->parent));
  switch (state)
    {
    case NURSERY_TASK_SUCCEEDED:
      /* The nested group closed before the cancel reached it. */
      g_assert_cmpint (nursery_task_get_int (nr->parent), ==, 1);
      break;
    case NURSERY_TASK_CANCELLED:
      g_assert_true (nursery_task_is_cancelled (nr->parent));
      break;
    case NURSERY_TASK_FAILED:
      /* Only a cancellable that is not the parent's own cancels the nested
       * group without cancelling the parent. */
      g_assert_cmpint (nr->mode, ==, 2);
      g_assert_false (nursery_task_is_cancelled (nr->parent));
      g_assert_error (nursery_task_get_error (nr->parent), G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpuint (nursery_group_get_n_failed (NURSERY_GROUP (source)), ==, 1);
      break;
    default:
      g_assert_not_reached ();
    }

  /* R7; R13: cancelling the parent task alone is no failure of the outer
   * group, and the outer group's own cancel (mode 1) is quiet. */
  if (state == NURSERY_TASK_FAILED)
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  else
    g_assert_no_error (error);
  if (nr->mode == 0)
    g_assert_false (nursery_group_is_cancelled (NURSERY_GROUP (source)));
  g_atomic_int_inc (&nr->done);
}

static void
nested_round (Stress *s,
              guint   iteration)
{
  NestedRound nr = { s, g_rand_new_with_seed (s->seed + iteration), g_thread_self (), NULL };

  nr.mode = g_rand_int_range (nr.rand, 0, 3);
  nr.parent_cancellable = g_cancellable_new ();
  nr.outer = nursery_group_new ();
  rel_track (&nr.live, nr.outer);
  nr.parent = nursery_group_spawn (nr.outer, "parent", nested_parent_body, &nr, NULL, NULL);
  rel_track (&nr.live, nr.parent);
  nursery_group_wait_async (nr.outer, NULL, outer_done_cb, &nr);
  rel_run_until (NULL, &nr.done);
  rel_helper_finish (s->group_canceller);
  rel_helper_finish (s->task_canceller);

  g_clear_object (&nr.parent);
  g_clear_object (&nr.outer);
  g_clear_object (&nr.parent_cancellable);
  rel_drain (NULL);
  g_assert_cmpint (nr.live.alive, ==, 0);
  g_rand_free (nr.rand);
}

static void
test_nested_cancel (void)
{
  Stress *s = stress_new ("nested-cancel", 2000);

  run_rounds (s, "nested-cancel", nested_round);
  stress_free (s);
}

/* /reliability/stress/R18/start-race: R18 — started() from a thread while the
 * start caller's cancellable is cancelled from another */

typedef struct
{
  Stress       *stress;
  GThread      *owner;
  NurseryTask  *task;
  GCancellable *cancellable;
  guint         spins_start;
  guint         spins_cancel;
  int           start_done;
  NurseryTask  *started_task;
  GValue        started_value;
  GError       *start_error;
  int           wait_done;
  GError       *wait_error;
} StartRace;

static void
start_job (gpointer data,
           gpointer unused)
{
  StartRace *sr = data;
  GValue value = G_VALUE_INIT;

  rel_spin (sr->spins_start);
  if (nursery_task_return_error_if_cancelled (sr->task))
    return;
  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, 5);
  nursery_task_started (sr->task, &value);
  g_value_unset (&value);
  rel_spin (sr->spins_start);
  nursery_task_return_int (sr->task, 9);
}

static void
start_body (NurseryTask *task,
            gpointer     data)
{
  StartRace *sr = data;

  g_assert_true (g_thread_self () == sr->owner);
  sr->task = g_object_ref (task);
  rel_helper_run (sr->stress->group_canceller, start_job, sr, NULL);
  rel_helper_run (sr->stress->task_canceller, cancel_cancellable_job, sr->cancellable,
                  GUINT_TO_POINTER (sr->spins_cancel));
}

static void
start_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  StartRace *sr = data;

  g_assert_true (g_thread_self () == sr->owner);
  g_assert_cmpint (sr->start_done, ==, 0);
  sr->started_task = nursery_group_start_finish (NURSERY_GROUP (source), result,
                                                 &sr->started_value, &sr->start_error);
  g_atomic_int_inc (&sr->start_done);
}

static void
start_wait_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  StartRace *sr = data;

  g_assert_true (g_thread_self () == sr->owner);
  /* R18: the start caller heard first. */
  g_assert_cmpint (sr->start_done, ==, 1);
  nursery_group_wait_finish (NURSERY_GROUP (source), result, &sr->wait_error);
  g_atomic_int_inc (&sr->wait_done);
}

static void
start_race_round (Stress *s,
                  guint   iteration)
{
  GRand *rand = g_rand_new_with_seed (s->seed + iteration);
  StartRace sr = { s, g_thread_self (), NULL };
  NurseryGroup *group = nursery_group_new ();
  RelLiveCount live = { 0 };

  sr.cancellable = g_cancellable_new ();
  sr.spins_start = g_rand_int_range (rand, 0, 4000);
  sr.spins_cancel = g_rand_int_range (rand, 0, 8000);
  rel_track (&live, group);
  nursery_group_start_async (group, "starter", start_body, &sr, NULL, sr.cancellable, start_cb, &sr);
  nursery_group_wait_async (group, NULL, start_wait_cb, &sr);
  rel_run_until (NULL, &sr.wait_done);
  rel_helper_finish (s->group_canceller);
  rel_helper_finish (s->task_canceller);

  g_assert_nonnull (sr.task);
  g_assert_cmpint (sr.start_done, ==, 1);
  if (sr.started_task != NULL)
    {
      g_assert_no_error (sr.start_error);
      g_assert_true (sr.started_task == sr.task);
      g_assert_cmpint (g_value_get_int (&sr.started_value), ==, 5);
      g_assert_cmpint (nursery_task_get_state (sr.task), ==, NURSERY_TASK_SUCCEEDED);
      g_assert_cmpint (nursery_task_get_int (sr.task), ==, 9);
      g_value_unset (&sr.started_value);
      g_object_unref (sr.started_task);
    }
  else
    {
      /* Cancelled before started(): the caller hears it, not the group. */
      g_assert_error (sr.start_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpint (nursery_task_get_state (sr.task), ==, NURSERY_TASK_CANCELLED);
    }
  g_assert_no_error (sr.wait_error);
  g_assert_false (nursery_group_is_cancelled (group));
  g_assert_cmpuint (nursery_group_get_n_failed (group), ==, 0);

  g_clear_error (&sr.start_error);
  g_clear_object (&sr.task);
  g_object_unref (sr.cancellable);
  g_object_unref (group);
  rel_drain (NULL);
  g_assert_cmpint (live.alive, ==, 0);
  g_rand_free (rand);
}

static void
test_start_race (void)
{
  Stress *s = stress_new ("start-race", 2000);

  run_rounds (s, "start-race", start_race_round);
  stress_free (s);
}

/* /reliability/stress/R28/pool-starvation: thread children that wait for
 * each other outnumber the GTask pool's ten threads. GLib 2.74 grows the
 * pool slowly (a timer adds a thread when it is saturated), so they all
 * meet eventually; the watchdog fails the test if they never do. */

typedef struct
{
  GMutex lock;
  GCond  cond;
  guint  arrived;
  guint  expected;
} Barrier;

static void
barrier_body (NurseryTask *task,
              gpointer     data)
{
  Barrier *b = data;

  g_mutex_lock (&b->lock);
  b->arrived++;
  g_cond_broadcast (&b->cond);
  while (b->arrived < b->expected)
    g_cond_wait (&b->cond, &b->lock);
  g_mutex_unlock (&b->lock);
}

static void
test_pool_starvation (void)
{
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("pool-starvation");
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(NurseryGroup) blocked = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  Barrier b = { .expected = 14 };
  gint64 start = g_get_monotonic_time ();

  g_mutex_init (&b.lock);
  g_cond_init (&b.cond);
  for (guint i = 0; i < b.expected; i++)
    {
      g_object_unref (nursery_group_spawn_in_thread (group, "meet", barrier_body, &b, NULL, NULL));
    }
  g_assert_true (nursery_group_wait (group, NULL, &error));
  g_assert_no_error (error);
  g_test_message ("%u thread children waiting for each other met after %.0f ms",
                  b.expected, (g_get_monotonic_time () - start) / 1000.0);

  /* Many blocked thread children and a cancel: all finish, even those the
   * pool had not started when the cancel came. */
  rel_watchdog_kick (watchdog, "cancelling 24 blocked thread children");
  for (guint i = 0; i < 24; i++)
    {
      g_object_unref (nursery_group_spawn_in_thread (blocked, "blocked", thread_block_body,
                                                     NULL, NULL, NULL));
    }
  for (guint i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
  g_thread_join (g_thread_new ("cancel", (GThreadFunc) (void (*) (void)) nursery_group_cancel, blocked));
  g_assert_true (nursery_group_wait (blocked, NULL, &error));  /* R7: own cancel is quiet */
  g_assert_no_error (error);
  g_assert_cmpuint (nursery_group_get_n_finished (blocked), ==, 24);

  g_mutex_clear (&b.lock);
  g_cond_clear (&b.cond);
}

/* /reliability/stress/R23/task-side-part-race: the part of a task few
 * children use is allocated on first use, lock-free, by whichever thread
 * needs it first. Here a thread child sets its progress (allocating it on
 * the worker) while the owner asks to wait for the same task and lists
 * it (allocating it on the owner); every round's tasks are then reused by
 * the next round's spawns. Each set progress must be read back, each
 * wait must complete, and TSan must see no race. */

#define SIDE_PART_CHILDREN 8

typedef struct
{
  guint spins;
  double progress;
} SideChild;

static void
side_part_body (NurseryTask *task,
                gpointer     data)
{
  SideChild *child = data;

  rel_spin (child->spins);
  nursery_task_set_progress (task, child->progress);
}

static void
side_part_round (Stress *s,
                 guint   iteration)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (s->seed + iteration);
  g_autoptr(GListModel) model = nursery_group_list_tasks (s->side_group);
  SideChild children[SIDE_PART_CHILDREN];
  NurseryTask *tasks[SIDE_PART_CHILDREN];
  GAsyncResult *results[SIDE_PART_CHILDREN] = { NULL };

  for (guint i = 0; i < SIDE_PART_CHILDREN; i++)
    {
      children[i].spins = g_rand_int_range (rand, 0, 2000);
      children[i].progress = (i + 1) / (double) (SIDE_PART_CHILDREN + 1);
      tasks[i] = nursery_group_spawn_in_thread (s->side_group, NULL, side_part_body,
                                                &children[i], NULL, NULL);
    }
  /* The children start on the next iterations: race their workers. */
  for (guint i = 0; i < SIDE_PART_CHILDREN; i++)
    {
      rel_spin (g_rand_int_range (rand, 0, 2000));
      nursery_task_wait_async (tasks[i], NULL, rel_store_result, &results[i]);
      g_main_context_iteration (NULL, FALSE);
    }
  for (guint i = 0; i < SIDE_PART_CHILDREN; i++)
    {
      g_autoptr(GError) error = NULL;

      while (results[i] == NULL)
        g_main_context_iteration (NULL, TRUE);
      g_assert_true (nursery_task_wait_finish (tasks[i], results[i], &error));
      g_assert_no_error (error);
      g_assert_cmpfloat (nursery_task_get_progress (tasks[i]), ==, children[i].progress);
      g_object_unref (results[i]);
      g_object_unref (tasks[i]);
    }
}

static void
test_side_part_race (void)
{
  Stress *s = stress_new ("task-side-part-race", 1500);
  g_autoptr(GError) error = NULL;

  s->side_group = nursery_group_new ();
  run_rounds (s, "task-side-part-race", side_part_round);
  g_assert_true (nursery_group_wait (s->side_group, NULL, &error));
  g_assert_no_error (error);
  g_clear_object (&s->side_group);
  stress_free (s);
}

/* R28, R30: children spawned without a handle are records until their
 * turn and again after a success nobody saw, until reported; a worker
 * dumps the tree (which reads the records under the lock) and cancels
 * the group at a random moment of those moves. Every child must finish
 * once, release its data once, on the owner, and TSan must see no race. */

#define SOON_CHILDREN 12

typedef struct
{
  NurseryGroup *group;
  GThread      *owner;
  guint         released;
  gboolean      released_off_owner;
} SoonRound;

static void
soon_release (gpointer data)
{
  SoonRound *r = data;

  if (g_thread_self () != r->owner)
    r->released_off_owner = TRUE;
  r->released++;
}

static void
soon_return_now (NurseryTask *task,
                 gpointer     data)
{
  nursery_task_return_int (task, 1);
}

static gboolean
soon_return_later_cb (gpointer task)
{
  nursery_task_return_int (task, 2);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

/* Returns on a later iteration: its task stays a task meanwhile. */
static void
soon_return_later (NurseryTask *task,
                   gpointer     data)
{
  g_idle_add (soon_return_later_cb, g_object_ref (task));
}

static void
soon_dump_and_cancel_job (gpointer data,
                          gpointer spins)
{
  SoonRound *r = data;

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *dump = NULL;

      rel_spin (GPOINTER_TO_UINT (spins));
      dump = nursery_group_dump_tree (r->group);
      g_assert_nonnull (strstr (dump, "group “soon”"));
    }
  if (GPOINTER_TO_UINT (spins) % 2 == 0)
    nursery_group_cancel (r->group);
}

static void
soon_round (Stress *s,
            guint   iteration)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (s->seed + iteration);
  g_autoptr(GError) error = NULL;
  SoonRound r = { nursery_group_new (), g_thread_self (), 0, FALSE };

  nursery_group_set_name (r.group, "soon");
  for (guint i = 0; i < SOON_CHILDREN; i++)
    nursery_group_start_soon (r.group, "soon-child", i % 3 == 2 ? soon_return_later : soon_return_now,
                              &r, soon_release, NULL);
  rel_helper_run (s->group_canceller, soon_dump_and_cancel_job, &r,
                  GUINT_TO_POINTER (g_rand_int_range (rand, 0, 3000)));
  /* An explicit cancel is quiet (R7): the wait succeeds either way. */
  g_assert_true (nursery_group_wait (r.group, NULL, &error));
  g_assert_no_error (error);
  rel_helper_finish (s->group_canceller);

  g_assert_cmpuint (nursery_group_get_n_finished (r.group), ==, SOON_CHILDREN);
  g_assert_cmpuint (nursery_group_get_n_succeeded (r.group) + nursery_group_get_n_cancelled (r.group),
                    ==, SOON_CHILDREN);
  g_assert_cmpuint (r.released, ==, SOON_CHILDREN);
  g_assert_false (r.released_off_owner);
  g_object_unref (r.group);
}

static void
test_queued_children_race (void)
{
  Stress *s = stress_new ("queued-children-race", 2000);

  run_rounds (s, "queued-children-race", soon_round);
  stress_free (s);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* G_DEFINE_QUARK initialises lazily without a barrier: do it before any
   * thread can ask. */
  (void) rel_error_quark ();

  g_test_add_func ("/reliability/stress/R7/cancel-race", test_cancel_race);
  g_test_add_func ("/reliability/stress/R7/cancel-race-other-owner", test_cancel_race_other_owner);
  g_test_add_func ("/reliability/stress/R13/return-vs-cancel", test_return_vs_cancel);
  g_test_add_func ("/reliability/stress/R20/drop-while-running", test_drop_while_running);
  g_test_add_func ("/reliability/stress/R10/waiter-cancel", test_waiter_cancel);
  g_test_add_func ("/reliability/stress/R14/nested-cancel", test_nested_cancel);
  g_test_add_func ("/reliability/stress/R18/start-race", test_start_race);
  g_test_add_func ("/reliability/stress/R28/pool-starvation", test_pool_starvation);
  g_test_add_func ("/reliability/stress/R23/task-side-part-race", test_side_part_race);
  g_test_add_func ("/reliability/stress/R28/queued-children-race", test_queued_children_race);

  return g_test_run ();
}
