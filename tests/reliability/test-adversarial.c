/* test-adversarial.c: what an outside adversarial campaign tries next
 * (docs/rules.md R4, R7, R8, R11, R16, R17, R18, R20, R22, R24, R25, R29, R30)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The earlier campaigns (test-teardown.c, test-stress.c,
 * test-misuse-*.c) drop the last reference from the batch's own
 * callbacks and race cancels against returns. These scenes go where they
 * did not:
 *   1. the last reference to a group (and the only handle to a task)
 *      dropped from the callbacks that a deadline (the group's, a
 *      task's), a Unix signal, start_async(), a runner given its key
 *      back, a destroy notify, wait, next and the exit stack run after a
 *      deadline, while a second reference goes on a thread child's worker
 *      or a plain thread at a random moment around it;
 *   2. deadlines at scale: many children with deadlines moved by the
 *      owner while thread children finish, the group cancelled from
 *      another thread, its deadline firing, or dropped with timers armed;
 *   3. many thread children failing at once while the group is cancelled:
 *      every failure kept exactly once, every count adding up;
 *   4. re-entrancy: spawning, cancelling, moving deadlines and dropping
 *      from inside those callbacks;
 *   5. refusals that free the caller's data, which holds the last
 *      reference to the group or task being refused;
 *   6. the unref tail of a group dropped off its owner, ended by the
 *      owner's thaw of the notify queue.
 * Each stress prints how often each interleaving was hit and asserts the
 * ones a round makes certain. Parts 5 and 6 each found a defect (see
 * there); run them all under the ASan and TSan setups
 * (tools/ci-reliability). */

#include <signal.h>
#include <string.h>

#include "rel-utils.h"

static GLogWriterOutput
swallow_debug (GLogLevelFlags   level,
               const GLogField *fields,
               gsize            n_fields,
               gpointer         data)
{
  if (level & G_LOG_LEVEL_DEBUG)
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, fields, n_fields, data);
}


static gboolean
set_flag_once (gpointer flag)
{
  *(gboolean *) flag = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the owner context until the monotonic clock passes @when: a
 * deadline a dropped group or task had armed would fire by then, on
 * freed memory if the timer still knew it. Not a synchronisation: it
 * only lets time pass while the context runs. Blocking, on a timeout
 * of its own: spinning took the workers' time (valgrind runs one thread
 * at a time). */
static void
run_past (gint64 when)
{
  gint64 wait = MAX (when - g_get_monotonic_time (), 0);
  g_autoptr(GSource) past = g_timeout_source_new ((guint) (wait / 1000) + 1);
  gboolean passed = FALSE;

  g_source_set_callback (past, set_flag_once, &passed, NULL);
  g_source_attach (past, NULL);
  while (!passed)
    g_main_context_iteration (NULL, TRUE);
  g_main_context_iteration (NULL, FALSE);
}

/* Marks every failure of the group observed, so a group finalized with
 * failures does not warn (R20): these tests count them themselves. */
static void
observe_failures (NurseryGroup *group,
                  NurseryTask  *task,
                  gpointer      unused)
{
  g_ptr_array_unref (nursery_group_get_errors (group));
}

/* Part 1. R30: the last reference dropped from the callbacks a deadline,
 * a Unix signal and start_async() run.
 *
 * Each round makes a group with two references. One is dropped by the
 * callback under test (with the only handle to the child the callback
 * is about); the other by a "racer": the owner once the callback has run,
 * a thread child of the group itself after a random spin, or a plain
 * thread after a random spin. So the last reference goes in the
 * callback, on the group's own worker or on a foreign thread, before,
 * during or after the callback's dispatch; the group must be finalized
 * on its owner (the weak ref checks the thread) and nothing may touch
 * freed memory (ASan, valgrind) or race (TSan). */

typedef enum
{
  AT_GROUP_DEADLINE,    /* a child's cancelled handler, run by the group's deadline */
  AT_TASK_DEADLINE,     /* a child's cancelled handler, run by its own deadline */
  AT_TIMED_OUT_WAIT,    /* a timed-out child's nursery_task_wait_async() callback */
  AT_CANCELLED_NOTIFY,  /* notify::cancelled of a group its deadline cancelled */
  AT_UNIX_SIGNAL,       /* a child's cancelled handler, run by the signal's source */
  AT_START_CALLBACK,    /* start_async()'s callback, started or failed */
  /* The group's deadline cancels, then the batch runs the callback: */
  AT_KEYED_GIVEN_BACK,  /* a runner given its key back (its child cancelled before its turn) */
  AT_DESTROY_NOTIFY,    /* the user data's destroy notify of a child the deadline cancelled */
  AT_WAIT_CALLBACK,     /* wait_async()'s callback after the deadline */
  AT_NEXT_CALLBACK,     /* next_async()'s callback with the child the deadline cancelled */
  AT_CLEANUP,           /* the exit stack, after the deadline */
  N_AT
} At;

static const char * const at_names[] = {
  "group-deadline", "task-deadline", "timed-out-task-wait", "cancelled-notify",
  "unix-signal", "start-callback", "keyed-given-back", "destroy-notify", "wait-callback",
  "next-callback", "cleanup",
};

typedef enum
{
  RACER_OWNER,          /* the owner drops the second reference after the callback */
  RACER_THREAD_CHILD,   /* a thread child of the group drops it */
  RACER_PLAIN_THREAD,   /* a plain thread drops it */
  N_RACERS
} Racer;

typedef struct
{
  At            at;
  Racer         racer;
  GThread      *owner;
  NurseryGroup *cb_ref;       /* dropped by the callback (atomic) */
  NurseryGroup *racer_ref;    /* dropped by the racer (atomic) */
  NurseryTask  *task;         /* the only handle to the child, dropped by the callback */
  guint         spins;
  int           drops;        /* atomic: references dropped so far */
  int           callback_ran; /* atomic */
  int           racer_second; /* atomic: the racer's drop came second */
  int           cb_in_timer;
  int           cb_off_owner;
} DropRound;

typedef struct
{
  guint rounds;
  guint in_timer;        /* callbacks run inside the deadline timer's dispatch */
  guint off_owner;       /* callbacks run on the racer's thread (its drop cancelled) */
  guint racer_second;    /* the racer's reference went last */
  guint callback_second; /* the callback's reference went last */
} DropHits;

static void
drop_ref (DropRound     *r,
          NurseryGroup **slot,
          gboolean       by_racer)
{
  NurseryGroup *group = g_atomic_pointer_exchange (slot, NULL);

  if (group == NULL)
    return;
  if (g_atomic_int_add (&r->drops, 1) == 1 && by_racer)
    g_atomic_int_set (&r->racer_second, TRUE);
  g_object_unref (group);
}

/* The callback under test: drops its reference to the group and the
 * only handle to the child. Where it runs is recorded. */
static void
drop_in_callback (DropRound *r)
{
  GSource *source = g_main_current_source ();
  NurseryTask *task = g_atomic_pointer_exchange (&r->task, NULL);

  if (g_thread_self () != r->owner)
    r->cb_off_owner = TRUE;
  else if (source != NULL && g_strcmp0 (g_source_get_name (source), "NurseryTimer") == 0)
    r->cb_in_timer = TRUE;
  drop_ref (r, &r->cb_ref, FALSE);
  g_clear_object (&task);
  g_atomic_int_set (&r->callback_ran, TRUE);
}

static void
drop_in_cancelled (GCancellable *cancellable,
                   gpointer      data)
{
  drop_in_callback (data);
}

static void
drop_in_notify (GObject    *object,
                GParamSpec *pspec,
                gpointer    data)
{
  DropRound *r = data;

  /* Disconnected first: the group may go below, and a later notify of
   * another property would find a dead round otherwise. */
  g_signal_handlers_disconnect_by_data (object, data);
  drop_in_callback (r);
}

static void
drop_in_task_wait (GObject      *source,
                   GAsyncResult *result,
                   gpointer      data)
{
  DropRound *r = data;
  g_autoptr(GError) error = NULL;

  /* R17: its own deadline made it a failure; unless the racer's drop
   * cancelled the group first, and then it was cancelled. */
  g_assert_false (nursery_task_wait_finish (NURSERY_TASK (source), result, &error));
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  drop_in_callback (r);
}

static void
drop_in_start (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  DropRound *r = data;
  g_autoptr(GError) error = NULL;
  NurseryTask *task = nursery_group_start_finish (NURSERY_GROUP (source), result, NULL, &error);

  /* Odd spins: the child failed before started() (R18); or the racer's
   * drop cancelled it before its turn (R5). */
  if (task == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
      g_assert_true (r->spins % 2 != 0 || r->racer != RACER_OWNER);
    }
  else
    {
      g_assert_no_error (error);
      g_assert_true (r->spins % 2 == 0);
      /* The start caller's handle: the last one the test holds. */
      g_atomic_pointer_set (&r->task, task);
    }
  drop_in_callback (r);
}

static void
drop_in_destroy (gpointer data)
{
  drop_in_callback (data);
}

static void
drop_in_async (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  drop_in_callback (data);
}

static void
drop_in_cleanup (NurseryGroup *group,
                 gpointer      data)
{
  drop_in_callback (data);
}

/* Given the key back: the child was cancelled before its turn (R5). */
static void
drop_in_runner (NurseryTask *task,
                gsize        key,
                gpointer     data)
{
  if (task != NULL)
    {
      /* Its turn came before the deadline: it waits for the cancel. */
      rel_child_until_cancelled (task, NULL);
      return;
    }
  drop_in_callback (data);
}

/* The start_async() child: started() at once, or a failure first. */
static void
child_start_or_fail (NurseryTask *task,
                     gpointer     data)
{
  DropRound *r = data;

  if (r->spins % 2 != 0)
    {
      nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "failed before started");
      return;
    }
  nursery_task_started (task, NULL);
  rel_child_until_cancelled (task, NULL);
}

/* Every third round the racer cancels the group first (from its own
 * thread: R23), so the callback under test may run there instead. */
static void
racer_drop (DropRound *r)
{
  rel_spin (r->spins);
  if (r->spins % 3 == 0)
    nursery_group_cancel (g_atomic_pointer_get (&r->racer_ref));
  drop_ref (r, &r->racer_ref, TRUE);
}

static void
racer_child (NurseryTask *task,
             gpointer     data)
{
  racer_drop (data);
}

static void
racer_job (gpointer data,
           gpointer unused)
{
  racer_drop (data);
}

/* A child that waits for its cancel, with the callback under test on its
 * cancellable (connected before the child runs: a cancel before its turn
 * reaches it too, R5). */
static NurseryTask *
spawn_waiting_child (NurseryGroup *group,
                     DropRound    *r,
                     gboolean      drop_when_cancelled)
{
  NurseryTask *task = nursery_group_spawn (group, "waits", rel_child_until_cancelled,
                                           NULL, NULL, NULL);

  if (drop_when_cancelled)
    g_cancellable_connect (nursery_task_get_cancellable (task),
                           G_CALLBACK (drop_in_cancelled), r, NULL);
  return task;
}

static void
arm_at (DropRound    *r,
        NurseryGroup *group,
        GRand        *rand)
{
  GTimeSpan timeout = g_rand_int_range (rand, 0, 300);

  switch (r->at)
    {
    case AT_GROUP_DEADLINE:
      r->task = spawn_waiting_child (group, r, TRUE);
      nursery_group_set_timeout (group, timeout);
      break;
    case AT_TASK_DEADLINE:
      r->task = spawn_waiting_child (group, r, TRUE);
      nursery_task_set_timeout (r->task, timeout);
      break;
    case AT_TIMED_OUT_WAIT:
      r->task = spawn_waiting_child (group, r, FALSE);
      nursery_task_set_timeout (r->task, timeout);
      nursery_task_wait_async (r->task, NULL, drop_in_task_wait, r);
      break;
    case AT_CANCELLED_NOTIFY:
      r->task = spawn_waiting_child (group, r, FALSE);
      g_signal_connect (group, "notify::cancelled", G_CALLBACK (drop_in_notify), r);
      nursery_group_set_timeout (group, timeout);
      break;
    case AT_UNIX_SIGNAL:
      r->task = spawn_waiting_child (group, r, TRUE);
      nursery_group_cancel_on_unix_signal (group, SIGHUP);
      /* Raised while the group's source is attached, so GLib's handler
       * catches it (GLib restores SIG_DFL when the last source goes):
       * nothing else cancels the group before the racer drops. */
      raise (SIGHUP);
      break;
    case AT_START_CALLBACK:
      nursery_group_start_async (group, "starts", child_start_or_fail, r, NULL, NULL,
                                 drop_in_start, r);
      break;
    case AT_KEYED_GIVEN_BACK:
      {
        g_autoptr(NurseryRunner) runner = nursery_runner_new (drop_in_runner, r, NULL);

        /* Queued behind a child that waits for the cancel (R19): the
         * deadline's cancel finishes it before its turn (R5). */
        nursery_group_set_max_concurrent (group, 1);
        r->task = spawn_waiting_child (group, r, FALSE);
        g_assert_true (nursery_group_start_soon_keyed (group, "keyed", runner, r->spins, NULL));
        nursery_group_set_timeout (group, timeout);
      }
      break;
    case AT_DESTROY_NOTIFY:
      r->task = nursery_group_spawn (group, "waits", rel_child_until_cancelled, r, drop_in_destroy, NULL);
      nursery_group_set_timeout (group, timeout);
      break;
    case AT_WAIT_CALLBACK:
      r->task = spawn_waiting_child (group, r, FALSE);
      nursery_group_set_timeout (group, timeout);
      nursery_group_wait_async (group, NULL, drop_in_async, r);
      break;
    case AT_NEXT_CALLBACK:
      r->task = spawn_waiting_child (group, r, FALSE);
      nursery_group_set_timeout (group, timeout);
      nursery_group_next_async (group, NULL, drop_in_async, r);
      break;
    case AT_CLEANUP:
      r->task = spawn_waiting_child (group, r, FALSE);
      nursery_group_set_timeout (group, timeout);
      nursery_group_add_cleanup (group, drop_in_cleanup, r, NULL);
      nursery_group_wait_async (group, NULL, NULL, NULL);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
test_drop_in_callback (gconstpointer data)
{
  At at = GPOINTER_TO_UINT (data);
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new (at_names[at]);
  g_autoptr(GRand) rand = g_rand_new ();
  RelHelper *helper = rel_helper_new ("racer");
  guint rounds = rel_scaled ("NURSERY_STRESS_ITERATIONS", 600);
  g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func (g_free);
  DropHits hits[N_RACERS] = { { 0, }, };
  RelFinalized f = { 0, };

  for (guint i = 0; i < rounds; i++)
    {
      DropRound *r = g_new0 (DropRound, 1);
      NurseryGroup *group = nursery_group_new ();
      DropHits *h;

      /* Rounds outlive their loop: a late handler may still read one. */
      g_ptr_array_add (kept, r);
      r->at = at;
      r->racer = i % N_RACERS;
      r->owner = g_thread_self ();
      /* The signal's and the start's callbacks come later than a
       * deadline's: the racer spins longer there to reach past them. */
      r->spins = g_rand_int_range (rand, 0, at == AT_UNIX_SIGNAL || at == AT_START_CALLBACK ? 40000 : 4000);
      r->cb_ref = group;
      r->racer_ref = g_object_ref (group);
      rel_finalized_track (&f, group);
      g_signal_connect (group, "task-finished", G_CALLBACK (observe_failures), NULL);

      arm_at (r, group, rand);
      if (r->racer == RACER_THREAD_CHILD)
        {
          NurseryTask *racer = nursery_group_spawn_in_thread (group, "racer", racer_child, r, NULL, NULL);

          /* Shielded: it runs even when a cancel came before its turn,
           * behind the limit of keyed-given-back (R5, R15). */
          nursery_task_set_shielded (racer, TRUE);
          g_object_unref (racer);
        }
      else if (r->racer == RACER_PLAIN_THREAD)
        rel_helper_run (helper, racer_job, r, NULL);

      /* Not blocking: the callback may run on the racer's thread. */
      while (!g_atomic_int_get (&r->callback_ran))
        g_main_context_iteration (NULL, FALSE);
      if (r->racer == RACER_OWNER)
        drop_ref (r, &r->racer_ref, TRUE);
      rel_helper_finish (helper);
      rel_finalized_settle (&f);
      g_assert_null (g_atomic_pointer_get (&r->task));

      h = &hits[r->racer];
      h->rounds++;
      h->in_timer += r->cb_in_timer;
      h->off_owner += r->cb_off_owner;
      if (g_atomic_int_get (&r->racer_second))
        h->racer_second++;
      else
        h->callback_second++;
      rel_watchdog_kick (watchdog, "round %u", i);
    }
  rel_helper_free (helper);

  for (Racer racer = 0; racer < N_RACERS; racer++)
    g_test_message ("%s, racer %u: %u rounds, callback in the timer %u, on the racer's thread %u; "
                    "last reference: racer %u, callback %u",
                    at_names[at], racer, hits[racer].rounds, hits[racer].in_timer,
                    hits[racer].off_owner, hits[racer].racer_second, hits[racer].callback_second);

  /* What a round makes certain: with the owner as the racer, the
   * callback's reference goes first, and a deadline's handler runs in the
   * timer's dispatch. */
  g_assert_cmpuint (hits[RACER_OWNER].racer_second, ==, hits[RACER_OWNER].rounds);
  if (at == AT_GROUP_DEADLINE || at == AT_TASK_DEADLINE)
    g_assert_cmpuint (hits[RACER_OWNER].in_timer, ==, hits[RACER_OWNER].rounds);
  /* What the racers must have reached at least once in that many rounds:
   * the racer's reference went last on its own thread. */
  g_assert_cmpuint (hits[RACER_THREAD_CHILD].racer_second + hits[RACER_PLAIN_THREAD].racer_second, >, 0);
}

/* Part 2. R16, R17, R28, R30: deadlines at scale, racing cancel and
 * teardown. Each round spawns SCALE_CHILDREN children of four kinds
 * (thread children that return after a spin or block until cancelled,
 * in-context ones that wait for their cancel or return from an idle),
 * most with a deadline a few hundred microseconds away, and perhaps a
 * group deadline. While the thread children run, the owner keeps moving
 * the deadlines (earlier, later, cleared) and a plain thread cancels the
 * group at a random moment, or drops a second reference to it. The round
 * then waits for the group, or drops it with timers still armed and lets
 * every deadline it had set pass.
 *
 * Each child must be reported once (task-finished), in a state its
 * kind allows; the counters must add up; the kept failures must be
 * exactly the failed children's errors; a dropped group must be
 * finalized on its owner, and no timer may fire on a freed group or
 * task (ASan, valgrind). */

#define SCALE_CHILDREN 48

typedef enum
{
  KIND_THREAD_RETURNS,   /* spins, then returns an int, an error or nothing */
  KIND_THREAD_POLLS,     /* blocks until cancelled; always has a deadline */
  KIND_WAITS,            /* in-context, waits for its cancel */
  KIND_IDLE_RETURNS,     /* in-context, returns from an idle */
  N_KINDS
} Kind;

#define OWN_ERROR_CODE 42

typedef struct
{
  NurseryTask *task;
  Kind         kind;
  guint        spins;
  gboolean     had_deadline;
  guint        reported;    /* task-finished emissions */
} ScaleChild;

typedef struct
{
  NurseryGroup *group;       /* the helper's reference, if it drops one (atomic) */
  guint         spins;
  gboolean      cancel;
} ScaleHelperJob;

typedef struct
{
  guint rounds;
  guint timed_out;          /* children failed by their own deadline */
  guint group_timed_out;    /* waits that ended TIMED_OUT */
  guint helper_cancelled;   /* rounds the helper cancelled before the group closed */
  guint helper_dropped_last;
  guint dropped_armed;      /* rounds dropped with a deadline still armed */
  guint moves;              /* deadlines moved while children ran */
} ScaleHits;

static void
scale_thread_child (NurseryTask *task,
                    gpointer     data)
{
  ScaleChild *c = data;

  if (c->kind == KIND_THREAD_POLLS)
    {
      /* Blocked in poll() on its cancellable, not spinning: a spinning
       * worker took the other threads' time (valgrind runs one thread at
       * a time). */
      GCancellable *cancellable = nursery_task_get_cancellable (task);
      GPollFD pfd;

      g_assert_true (g_cancellable_make_pollfd (cancellable, &pfd));
      while (!g_cancellable_is_cancelled (cancellable))
        g_poll (&pfd, 1, -1);
      g_cancellable_release_fd (cancellable);
      nursery_task_return_error_if_cancelled (task);
      return;
    }
  rel_spin (c->spins);
  switch (c->spins % 3)
    {
    case 0:
      nursery_task_return_int (task, c->spins);
      break;
    case 1:
      nursery_task_return_new_error (task, G_IO_ERROR, OWN_ERROR_CODE, "child %p failed", c);
      break;
    default:
      break;  /* succeeds with no value (R2) */
    }
}

static void
scale_in_context_child (NurseryTask *task,
                        gpointer     data)
{
  ScaleChild *c = data;

  if (c->kind == KIND_WAITS)
    rel_child_until_cancelled (task, NULL);
  else
    rel_return_int_from_idle (task, 1, G_PRIORITY_DEFAULT);
}

static void
scale_task_finished (NurseryGroup *group,
                     NurseryTask  *task,
                     gpointer      data)
{
  ScaleChild *c = g_object_get_data (G_OBJECT (task), "scale-child");

  g_assert_nonnull (c);
  c->reported++;
  g_ptr_array_unref (nursery_group_get_errors (group));
}

static void
scale_helper_job (gpointer data,
                  gpointer unused)
{
  ScaleHelperJob *job = data;
  NurseryGroup *group = g_atomic_pointer_exchange (&job->group, NULL);

  rel_spin (job->spins);
  if (job->cancel)
    nursery_group_cancel (group);
  g_object_unref (group);
}

/* Whether only its own deadline may end @c: a poller always, and a
 * waiting child in a round that nothing else cancels. */
static gboolean
needs_deadline (ScaleChild *c,
                gboolean    round_cancels)
{
  return c->kind == KIND_THREAD_POLLS || (c->kind == KIND_WAITS && !round_cancels);
}

/* A new deadline for @c: earlier, later or none (unless it needs one). */
static void
move_deadline (ScaleChild *c,
               gboolean    round_cancels,
               GRand      *rand)
{
  guint choice = g_rand_int_range (rand, 0, 4);

  if (choice == 0 && !needs_deadline (c, round_cancels))
    nursery_task_clear_deadline (c->task);
  else
    {
      nursery_task_set_timeout (c->task, g_rand_int_range (rand, 0, choice == 1 ? 100 : 2000));
      c->had_deadline = TRUE;
    }
}

static void
check_scale_child (ScaleChild *c,
                   GPtrArray  *failed_messages,
                   ScaleHits  *hits)
{
  NurseryTaskState state = nursery_task_get_state (c->task);
  const GError *error = nursery_task_get_error (c->task);

  g_assert_cmpuint (c->reported, ==, 1);
  g_assert_true (nursery_task_is_finished (c->task));
  switch (state)
    {
    case NURSERY_TASK_SUCCEEDED:
      g_assert_true (c->kind == KIND_THREAD_RETURNS || c->kind == KIND_IDLE_RETURNS);
      break;
    case NURSERY_TASK_CANCELLED:
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      break;
    case NURSERY_TASK_FAILED:
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        {
          /* R17: only its own deadline times a child out. */
          g_assert_true (c->had_deadline);
          hits->timed_out++;
        }
      else
        {
          g_assert_error (error, G_IO_ERROR, OWN_ERROR_CODE);
          g_assert_cmpint (c->kind, ==, KIND_THREAD_RETURNS);
        }
      g_ptr_array_add (failed_messages, error->message);
      break;
    default:
      g_assert_not_reached ();
    }
}

static gint
compare_messages (gconstpointer a,
                  gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
test_deadlines_at_scale (gconstpointer data)
{
  gboolean drop = GPOINTER_TO_UINT (data);
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("deadlines-at-scale");
  g_autoptr(GRand) rand = g_rand_new ();
  RelHelper *helper = rel_helper_new ("canceller");
  guint rounds = rel_scaled ("NURSERY_STRESS_ITERATIONS", 60);
  ScaleHits hits = { 0, };
  RelFinalized f = { 0, };

  for (guint i = 0; i < rounds; i++)
    {
      NurseryGroup *group = nursery_group_new ();
      ScaleChild children[SCALE_CHILDREN];
      ScaleHelperJob job = { NULL, g_rand_int_range (rand, 0, 200000), i % 3 != 2 };
      g_autoptr(GPtrArray) failed_messages = g_ptr_array_new ();
      gint64 latest = g_get_monotonic_time ();
      gboolean group_deadline = i % 2 == 0;
      /* Whether something but the children's deadlines ends the round. */
      gboolean round_cancels = group_deadline || job.cancel || drop;
      guint moves = 0;

      rel_finalized_track (&f, group);
      nursery_group_set_policy (group, i % 4 < 2 ? NURSERY_POLICY_SUPERVISE : NURSERY_POLICY_FAIL_FAST);
      g_signal_connect (group, "task-finished", G_CALLBACK (scale_task_finished), NULL);
      if (group_deadline)
        nursery_group_set_timeout (group, g_rand_int_range (rand, 200, 3000));
      for (guint k = 0; k < SCALE_CHILDREN; k++)
        {
          ScaleChild *c = &children[k];

          *c = (ScaleChild) { NULL, k % N_KINDS, g_rand_int_range (rand, 0, 20000), FALSE, 0 };
          if (c->kind == KIND_THREAD_RETURNS || c->kind == KIND_THREAD_POLLS)
            c->task = nursery_group_spawn_in_thread (group, "thread", scale_thread_child, c, NULL, NULL);
          else
            c->task = nursery_group_spawn (group, "in-context", scale_in_context_child, c, NULL, NULL);
          g_object_set_data (G_OBJECT (c->task), "scale-child", c);
          if (needs_deadline (c, round_cancels) || k % 3 != 0)
            move_deadline (c, round_cancels, rand);
        }

      /* The helper cancels (two rounds in three) and drops a reference
       * of its own at a random moment. */
      job.group = g_object_ref (group);
      rel_helper_run (helper, scale_helper_job, &job, NULL);

      /* The owner moves deadlines while the children run; a bounded
       * number of times, or it could keep postponing them all. */
      while (nursery_group_get_n_finished (group) < SCALE_CHILDREN / 2)
        {
          /* A few per wakeup, so that they land among the returns. */
          for (guint m = 0; m < 8 && moves < 2 * SCALE_CHILDREN; m++)
            {
              ScaleChild *c = &children[g_rand_int_range (rand, 0, SCALE_CHILDREN)];

              if (nursery_task_is_finished (c->task))
                continue;
              move_deadline (c, round_cancels, rand);
              moves++;
              hits.moves++;
            }
          latest = MAX (latest, g_get_monotonic_time () + 2000);
          /* Blocking: a returning child or a deadline wakes it. Spinning
           * here took the workers' time, under valgrind most of all,
           * which runs one thread at a time. */
          g_main_context_iteration (NULL, TRUE);
        }

      if (drop)
        {
          /* Dropped with deadlines armed: the group's and its tasks'. */
          if (nursery_group_get_deadline (group) != -1 && nursery_group_get_state (group) != NURSERY_GROUP_CLOSED)
            hits.dropped_armed++;
          g_object_unref (group);
          rel_helper_finish (helper);
          rel_finalized_settle (&f);
          run_past (latest);
        }
      else
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(GPtrArray) errors = NULL;
          g_autoptr(GPtrArray) kept = NULL;
          gboolean ok = nursery_group_wait (group, NULL, &error);

          rel_helper_finish (helper);
          g_assert_cmpuint (nursery_group_get_n_finished (group), ==, SCALE_CHILDREN);
          g_assert_cmpuint (nursery_group_get_n_spawned (group), ==, SCALE_CHILDREN);
          g_assert_cmpuint (nursery_group_get_n_succeeded (group) + nursery_group_get_n_failed (group) +
                            nursery_group_get_n_cancelled (group), ==, SCALE_CHILDREN);
          errors = nursery_group_get_errors (group);
          g_assert_cmpuint (errors->len, ==, nursery_group_get_n_failed (group));
          /* R7: the first failure; else a time-out of the group's own
           * deadline; an explicit cancel is quiet. */
          if (errors->len > 0)
            {
              const GError *first = errors->pdata[0];

              g_assert_false (ok);
              g_assert_error (error, first->domain, first->code);
              g_assert_cmpstr (error->message, ==, first->message);
            }
          else if (!ok)
            {
              g_assert_true (group_deadline);
              g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
              hits.group_timed_out++;
            }
          /* Every kept failure is one failed child's, once (R8): the
           * same messages, as multisets (a time-out's names its child,
           * and children share names). */
          for (guint k = 0; k < SCALE_CHILDREN; k++)
            check_scale_child (&children[k], failed_messages, &hits);
          g_assert_cmpuint (failed_messages->len, ==, errors->len);
          kept = g_ptr_array_new ();
          for (guint k = 0; k < errors->len; k++)
            g_ptr_array_add (kept, ((GError *) errors->pdata[k])->message);
          g_ptr_array_sort (kept, compare_messages);
          g_ptr_array_sort (failed_messages, compare_messages);
          for (guint k = 0; k < kept->len; k++)
            g_assert_cmpstr (kept->pdata[k], ==, failed_messages->pdata[k]);
          g_object_unref (group);
          rel_finalized_settle (&f);
          run_past (latest);
        }
      if (drop)
        for (guint k = 0; k < SCALE_CHILDREN; k++)
          {
            /* The tasks outlive the group: each still reported once. */
            g_assert_cmpuint (children[k].reported, ==, 1);
            g_assert_true (nursery_task_is_finished (children[k].task));
          }
      if (job.cancel)
        hits.helper_cancelled++;
      for (guint k = 0; k < SCALE_CHILDREN; k++)
        g_object_unref (children[k].task);
      hits.rounds++;
      rel_watchdog_kick (watchdog, "round %u", i);
    }
  rel_helper_free (helper);

  g_test_message ("%u rounds: %u children timed out, %u waits timed out, %u rounds cancelled "
                  "by the helper, %u dropped with the group's deadline armed, %u deadline moves",
                  hits.rounds, hits.timed_out, hits.group_timed_out, hits.helper_cancelled,
                  hits.dropped_armed, hits.moves);
  g_assert_cmpuint (hits.moves, >, 0);
  if (!drop)
    g_assert_cmpuint (hits.timed_out, >, 0);
}

/* Part 3. R7, R8, R25, R29: many thread children fail at once while the
 * group is cancelled. The children of a round meet at a gate with a
 * plain thread, then all return together: most fail with an error of
 * their own, some return G_IO_ERROR_CANCELLED whether or not they were
 * cancelled, some return CANCELLED only if they were, some succeed; the
 * plain thread cancels the group right after the gate opens, after a
 * random spin. Under fail-fast the first failure cancels the group too;
 * a task-failed handler takes every fifth own failure over (R29).
 *
 * Every child must be reported exactly once by task-finished and by
 * next_async(); every failure that was not handled must be kept exactly
 * once, in the order task-finished reported them; the counters must add
 * up; a child that returned CANCELLED after it saw its cancel is
 * cancelled, one never cancelled failed (R8); wait gives the first kept
 * failure (R7). */

#define FAIL_CHILDREN 24

typedef enum
{
  FAIL_OWN,              /* its own error */
  FAIL_CANCELLED_ANYWAY, /* G_IO_ERROR_CANCELLED, cancelled or not */
  FAIL_IF_CANCELLED,     /* CANCELLED if it was cancelled, else its own error */
  FAIL_SUCCEEDS,
  N_FAILS
} Fail;

typedef struct _FailRound FailRound;

typedef struct
{
  FailRound   *round;
  guint        index;
  Fail         fail;
  NurseryTask *task;
  int          saw_cancel;     /* atomic: cancelled when it returned */
  guint        finished_seen;  /* task-finished */
  guint        next_seen;      /* next_async() */
} FailChild;

struct _FailRound
{
  GMutex        lock;
  GCond         cond;
  guint         arrived;
  guint         spins;
  NurseryGroup *group;
  FailChild     children[FAIL_CHILDREN];
  GPtrArray    *reported_failures;  /* messages, in task-finished order, unhandled */
  guint         handled;
  guint         next_null;
  gboolean      next_done;
  guint         cancelled_seen;     /* children that returned after the cancel */
  NurseryTask  *first_success;      /* the first success task-finished reported */
};

/* Set in main(), before any thread: G_DEFINE_QUARK's lazy static
 * would race between the children (a benign race TSan reports). */
static GQuark adversarial_error;

static void
gate_pass (FailRound *r)
{
  g_mutex_lock (&r->lock);
  if (++r->arrived == FAIL_CHILDREN + 1)
    g_cond_broadcast (&r->cond);
  while (r->arrived < FAIL_CHILDREN + 1)
    g_cond_wait (&r->cond, &r->lock);
  g_mutex_unlock (&r->lock);
}

static void
failing_child (NurseryTask *task,
               gpointer     data)
{
  FailChild *c = data;

  gate_pass (c->round);
  g_atomic_int_set (&c->saw_cancel, nursery_task_is_cancelled (task));
  switch (c->fail)
    {
    case FAIL_OWN:
      nursery_task_return_new_error (task, adversarial_error, c->index,
                                     "child %u failed", c->index);
      break;
    case FAIL_CANCELLED_ANYWAY:
      nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                     "child %u says cancelled", c->index);
      break;
    case FAIL_IF_CANCELLED:
      if (!nursery_task_return_error_if_cancelled (task))
        nursery_task_return_new_error (task, adversarial_error, c->index,
                                       "child %u failed", c->index);
      break;
    default:
      break;
    }
}

static void
cancel_after_gate (gpointer data,
                   gpointer unused)
{
  FailRound *r = data;

  gate_pass (r);
  rel_spin (r->spins);
  nursery_group_cancel (r->group);
}

static FailChild *
fail_child_of (FailRound   *r,
               NurseryTask *task)
{
  for (guint i = 0; i < FAIL_CHILDREN; i++)
    if (r->children[i].task == task)
      return &r->children[i];
  g_assert_not_reached ();
  return NULL;
}

static gboolean
fail_task_failed (NurseryGroup *group,
                  NurseryTask  *task,
                  const GError *error,
                  gpointer      data)
{
  FailRound *r = data;
  FailChild *c = fail_child_of (r, task);

  if (c->fail == FAIL_OWN && c->index % 5 == 0)
    {
      r->handled++;
      g_object_set_data (G_OBJECT (task), "handled", GINT_TO_POINTER (TRUE));
      return TRUE;
    }
  return FALSE;
}

static void
fail_task_finished (NurseryGroup *group,
                    NurseryTask  *task,
                    gpointer      data)
{
  FailRound *r = data;
  FailChild *c = fail_child_of (r, task);

  c->finished_seen++;
  if (nursery_group_is_cancelled (group))
    r->cancelled_seen++;
  if (r->first_success == NULL && nursery_task_get_state (task) == NURSERY_TASK_SUCCEEDED)
    r->first_success = task;
  if (nursery_task_get_state (task) == NURSERY_TASK_FAILED &&
      g_object_get_data (G_OBJECT (task), "handled") == NULL)
    g_ptr_array_add (r->reported_failures, g_strdup (nursery_task_get_error (task)->message));
}

static void
fail_next_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  FailRound *r = data;
  g_autoptr(GError) error = NULL;
  NurseryTask *task = nursery_group_next_finish (NURSERY_GROUP (source), result, &error);

  g_assert_no_error (error);
  if (task == NULL)
    {
      r->next_null++;
      r->next_done = TRUE;
      return;
    }
  fail_child_of (r, task)->next_seen++;
  g_object_unref (task);
  nursery_group_next_async (NURSERY_GROUP (source), NULL, fail_next_cb, r);
}

static void
test_failures_while_cancelled (gconstpointer data)
{
  NurseryPolicy policy = GPOINTER_TO_UINT (data);
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("failures-while-cancelled");
  g_autoptr(GRand) rand = g_rand_new ();
  RelHelper *helper = rel_helper_new ("canceller");
  guint rounds = rel_scaled ("NURSERY_STRESS_ITERATIONS", 150);
  guint races_won = 0, mixed = 0, after_cancel = 0, cancelled_anyway_cancelled = 0, cancelled_anyway_failed = 0;
  RelFinalized f = { 0, };

  for (guint i = 0; i < rounds; i++)
    {
      g_autofree FailRound *r = g_new0 (FailRound, 1);
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) errors = NULL;
      guint n_failed = 0, n_cancelled = 0, n_succeeded = 0, saw = 0;
      gboolean ok;

      g_mutex_init (&r->lock);
      g_cond_init (&r->cond);
      r->spins = g_rand_int_range (rand, 0, 30000);
      r->reported_failures = g_ptr_array_new_with_free_func (g_free);
      r->group = nursery_group_new ();
      rel_finalized_track (&f, r->group);
      nursery_group_set_policy (r->group, policy);
      g_signal_connect (r->group, "task-failed", G_CALLBACK (fail_task_failed), r);
      g_signal_connect (r->group, "task-finished", G_CALLBACK (fail_task_finished), r);
      for (guint k = 0; k < FAIL_CHILDREN; k++)
        {
          FailChild *c = &r->children[k];

          c->round = r;
          c->index = k;
          c->fail = (k + i) % N_FAILS;
          c->task = nursery_group_spawn_in_thread (r->group, "fails", failing_child, c, NULL, NULL);
        }
      nursery_group_next_async (r->group, NULL, fail_next_cb, r);
      rel_helper_run (helper, cancel_after_gate, r, NULL);

      ok = nursery_group_wait (r->group, NULL, &error);
      rel_helper_finish (helper);
      while (!r->next_done)
        g_main_context_iteration (NULL, TRUE);

      errors = nursery_group_get_errors (r->group);
      for (guint k = 0; k < FAIL_CHILDREN; k++)
        {
          FailChild *c = &r->children[k];
          NurseryTaskState state = nursery_task_get_state (c->task);

          g_assert_cmpuint (c->finished_seen, ==, 1);
          g_assert_cmpuint (c->next_seen, ==, 1);
          saw += g_atomic_int_get (&c->saw_cancel);
          n_failed += state == NURSERY_TASK_FAILED;
          n_cancelled += state == NURSERY_TASK_CANCELLED;
          n_succeeded += state == NURSERY_TASK_SUCCEEDED;
          if (c->fail == FAIL_SUCCEEDS)
            g_assert_cmpint (state, ==, NURSERY_TASK_SUCCEEDED);
          if (c->fail == FAIL_OWN)
            g_assert_cmpint (state, ==, NURSERY_TASK_FAILED);
          if (c->fail == FAIL_CANCELLED_ANYWAY || c->fail == FAIL_IF_CANCELLED)
            {
              /* R8: cancelled when it returned → cancelled; never
               * cancelled at all → its CANCELLED error is a failure. */
              if (g_atomic_int_get (&c->saw_cancel))
                g_assert_cmpint (state, ==, NURSERY_TASK_CANCELLED);
              if (!nursery_task_is_cancelled (c->task))
                g_assert_cmpint (state, ==, NURSERY_TASK_FAILED);
            }
          if (c->fail == FAIL_CANCELLED_ANYWAY && state == NURSERY_TASK_CANCELLED)
            cancelled_anyway_cancelled++;
          if (c->fail == FAIL_CANCELLED_ANYWAY && state == NURSERY_TASK_FAILED)
            cancelled_anyway_failed++;
        }
      g_assert_cmpuint (r->next_null, ==, 1);
      g_assert_cmpuint (nursery_group_get_n_finished (r->group), ==, FAIL_CHILDREN);
      g_assert_cmpuint (nursery_group_get_n_failed (r->group), ==, n_failed);
      g_assert_cmpuint (nursery_group_get_n_cancelled (r->group), ==, n_cancelled);
      g_assert_cmpuint (nursery_group_get_n_succeeded (r->group), ==, n_succeeded);
      g_assert_cmpuint (n_failed + n_cancelled + n_succeeded, ==, FAIL_CHILDREN);
      /* R8, R29: every unhandled failure kept once, in report order. */
      g_assert_cmpuint (errors->len, ==, n_failed - r->handled);
      g_assert_cmpuint (errors->len, ==, r->reported_failures->len);
      for (guint k = 0; k < errors->len; k++)
        g_assert_cmpstr (((GError *) errors->pdata[k])->message, ==, r->reported_failures->pdata[k]);
      /* R11: a race's winner is its first success, once, and wait
       * succeeds with it; R7: else the first kept failure, unchanged; an
       * explicit cancel is quiet. */
      if (policy == NURSERY_POLICY_RACE && n_succeeded > 0)
        {
          g_assert_true (nursery_group_get_winner (r->group) == r->first_success);
          g_assert_true (ok);
          g_assert_no_error (error);
          races_won++;
        }
      else if (errors->len > 0)
        {
          g_assert_false (ok);
          g_assert_cmpstr (error->message, ==, ((GError *) errors->pdata[0])->message);
        }
      else
        {
          g_assert_true (ok);
          g_assert_no_error (error);
        }

      if (saw > 0 && saw < FAIL_CHILDREN)
        mixed++;
      after_cancel += r->cancelled_seen;
      for (guint k = 0; k < FAIL_CHILDREN; k++)
        g_object_unref (r->children[k].task);
      g_clear_object (&r->group);
      rel_finalized_settle (&f);
      g_ptr_array_unref (r->reported_failures);
      g_mutex_clear (&r->lock);
      g_cond_clear (&r->cond);
      rel_watchdog_kick (watchdog, "round %u", i);
    }
  rel_helper_free (helper);

  g_test_message ("%u rounds: %u where the cancel came between the children's returns, "
                  "%u children reported after the cancel; CANCELLED returns: %u cancelled, %u failures; "
                  "%u races won",
                  rounds, mixed, after_cancel, cancelled_anyway_cancelled, cancelled_anyway_failed,
                  races_won);
  g_assert_cmpuint (after_cancel, >, 0);
}

/* Part 3, continued. R25: next_async() calls cancelled from another
 * thread while the batch hands finished children out. Each call has a
 * cancellable of its own that a plain thread cancels after a random
 * spin, before, during or after the batch serves it; a cancelled call
 * takes nothing, so every child is still handed out exactly once, to
 * some later call, and the stream ends with NULL once. */

#define NEXT_CHILDREN 64

typedef struct
{
  GHashTable *seen;          /* task → count */
  RelWorker  *canceller;
  GRand      *rand;
  guint       cancelled;     /* calls that ended CANCELLED */
  guint       got_after_cancel;  /* calls handed a task with their cancellable cancelled */
  guint       ends;
  guint       calls;
  guint       precancelled;  /* calls cancelled before they were made */
} NextRace;

static void next_race_arm (NurseryGroup *group, NextRace *nr);

static void
cancel_later_job (gpointer cancellable,
                  gpointer spins)
{
  rel_spin (GPOINTER_TO_UINT (spins));
  g_cancellable_cancel (cancellable);
  g_object_unref (cancellable);
}

static void
next_race_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  g_autoptr(GCancellable) cancellable = data;
  NextRace *nr = g_object_get_data (G_OBJECT (cancellable), "next-race");
  g_autoptr(GError) error = NULL;
  NurseryTask *task = nursery_group_next_finish (NURSERY_GROUP (source), result, &error);

  if (error != NULL)
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      nr->cancelled++;
    }
  else if (task == NULL)
    {
      nr->ends++;
      return;
    }
  else
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (nr->seen, task));

      g_hash_table_insert (nr->seen, task, GUINT_TO_POINTER (n + 1));
      if (g_cancellable_is_cancelled (cancellable))
        nr->got_after_cancel++;
    }
  next_race_arm (NURSERY_GROUP (source), nr);
}

/* Every eighth call is cancelled before it is made: it must take
 * nothing, whatever is ready (R25). The others are cancelled by the
 * plain thread at a random moment. */
static void
next_race_arm (NurseryGroup *group,
               NextRace     *nr)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  g_object_set_data (G_OBJECT (cancellable), "next-race", nr);
  if (nr->calls++ % 8 == 7)
    {
      g_cancellable_cancel (cancellable);
      nr->precancelled++;
    }
  nursery_group_next_async (group, cancellable, next_race_cb, g_object_ref (cancellable));
  rel_worker_push (nr->canceller, cancel_later_job, g_object_ref (cancellable),
                   GUINT_TO_POINTER (g_rand_int_range (nr->rand, 0, 20000)));
}

static void
return_index (NurseryTask *task,
              gpointer     data)
{
  nursery_task_return_int (task, GPOINTER_TO_UINT (data));
}

static void
test_next_cancelled_from_thread (void)
{
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("next-cancelled-from-thread");
  g_autoptr(GRand) rand = g_rand_new ();
  RelWorker *canceller = rel_worker_new ("canceller");
  guint rounds = rel_scaled ("NURSERY_STRESS_ITERATIONS", 40);
  guint cancelled = 0, got_after_cancel = 0, precancelled = 0;

  for (guint i = 0; i < rounds; i++)
    {
      g_autoptr(NurseryGroup) group = nursery_group_new ();
      g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
      NextRace nr = { g_hash_table_new_full (NULL, NULL, g_object_unref, NULL), canceller, rand, 0, 0, 0, 0, 0 };

      for (guint k = 0; k < NEXT_CHILDREN; k++)
        g_ptr_array_add (tasks, k % 2 == 0
                                ? nursery_group_spawn_in_thread (group, "thread", return_index,
                                                                 GUINT_TO_POINTER (k), NULL, NULL)
                                : nursery_group_spawn (group, "in-context", return_index,
                                                       GUINT_TO_POINTER (k), NULL, NULL));
      next_race_arm (group, &nr);
      while (nr.ends == 0)
        g_main_context_iteration (NULL, TRUE);
      rel_worker_drain (canceller);
      rel_drain (NULL);

      /* R25: each child handed out once, the end once. */
      g_assert_cmpuint (nr.ends, ==, 1);
      g_assert_cmpuint (g_hash_table_size (nr.seen), ==, NEXT_CHILDREN);
      for (guint k = 0; k < NEXT_CHILDREN; k++)
        g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (nr.seen, tasks->pdata[k])), ==, 1);
      g_assert_true (nursery_group_is_closed (group));
      /* A call cancelled before it was made took nothing. */
      g_assert_cmpuint (nr.cancelled, >=, nr.precancelled);
      cancelled += nr.cancelled;
      precancelled += nr.precancelled;
      got_after_cancel += nr.got_after_cancel;
      g_hash_table_unref (nr.seen);
      rel_watchdog_kick (watchdog, "round %u", i);
    }
  rel_worker_free (canceller);

  g_test_message ("%u rounds of %u children: %u calls cancelled (took nothing), %u of them by the "
                  "plain thread; %u handed a task although cancelled just after the batch looked",
                  rounds, NEXT_CHILDREN, cancelled, cancelled - precancelled, got_after_cancel);
  g_assert_cmpuint (precancelled, >, 0);
}

/* Part 4. R22, R25, R30: re-entrancy. From inside every kind of callback
 * a group runs (task-finished, next_async(), a child's cancelled handler
 * run by a deadline or by another thread's cancel, a cleanup of the
 * group and of a task, start_async()'s and wait_async()'s callbacks) the
 * test spawns more children, moves deadlines to now, cancels the group
 * and single tasks, and drops handles; a plain thread cancels the group
 * and a task at random moments; the wait callback drops the last
 * reference. Every child must be reported once by task-finished and once
 * by next_async(), every destroy notify must run once on the owner, the
 * counters must add up, and the group must be finalized on its owner. */

#define RE_SEEDS 8
#define RE_BUDGET 24

typedef struct
{
  GThread      *owner;
  NurseryGroup *group;       /* the test's one reference, dropped by the wait callback */
  GPtrArray    *tasks;       /* every task spawned, a reference each */
  GRand        *rand;
  guint         budget;      /* spawns the callbacks may still make */
  guint         spawned;
  guint         refused;     /* spawns refused as closed (R4) */
  guint         after_drop;  /* spawns skipped: the group was gone */
  guint         destroyed;   /* destroy notifies, on the owner */
  guint         finished_seen;
  guint         next_seen;
  gboolean      next_done;
  gboolean      wait_done;
  RelWorker    *worker;
  guint         hits_in_timer;   /* spawns made from inside a deadline's dispatch */
  guint         hits_off_owner;  /* cancelled handlers run on the helper */
  guint         hits_cleanup;    /* spawns from a group cleanup */
  guint         not_started;     /* start children cancelled before their turn */
  guint         counters[6];     /* the group's when it closed: finished, failed,
                                  * succeeded, cancelled, kept failures, spawned */
} Re;

static void re_spawn (Re *re, const char *why);

static void
re_destroy (gpointer data)
{
  Re *re = data;

  g_assert_true (g_thread_self () == re->owner);
  re->destroyed++;
}

static void
re_cancelled (GCancellable *cancellable,
              gpointer      data)
{
  Re *re = data;
  GSource *source;

  if (g_thread_self () != re->owner)
    {
      /* Only what any thread may do (R23). */
      re->hits_off_owner++;
      return;
    }
  source = g_main_current_source ();
  if (source != NULL && g_strcmp0 (g_source_get_name (source), "NurseryTimer") == 0)
    {
      re->hits_in_timer++;
      /* A deadline set inside the timer's own dispatch (R16). */
      nursery_group_set_timeout (re->group, g_rand_int_range (re->rand, 0, 200));
    }
  re_spawn (re, "from a cancelled handler");
}

static void
re_child (NurseryTask *task,
          gpointer     data)
{
  Re *re = data;
  guint pick = g_rand_int_range (re->rand, 0, 4);

  g_assert_true (g_thread_self () == re->owner);
  switch (pick)
    {
    case 0:
      rel_return_int_from_idle (task, 1, G_PRIORITY_DEFAULT);
      break;
    case 1:
      nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "re-entrant failure");
      break;
    default:
      rel_child_until_cancelled (task, NULL);
      g_cancellable_connect (nursery_task_get_cancellable (task), G_CALLBACK (re_cancelled), re, NULL);
      nursery_task_set_timeout (task, g_rand_int_range (re->rand, 0, 500));
      break;
    }
}

static void
re_thread_child (NurseryTask *task,
                 gpointer     data)
{
  rel_spin (GPOINTER_TO_UINT (nursery_task_get_task_data (task)) % 5000);
  if (nursery_task_return_error_if_cancelled (task))
    return;
  nursery_task_return_int (task, 2);
}

static void
re_task_cleanup (NurseryTask *task,
                 gpointer     data)
{
  nursery_task_return_int (task, 3);
}

static void
re_start_child (NurseryTask *task,
                gpointer     data)
{
  nursery_task_started (task, NULL);
  rel_child_until_cancelled (task, NULL);
}

static void
re_started (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  Re *re = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(NurseryTask) task = nursery_group_start_finish (NURSERY_GROUP (source), result, NULL, &error);

  /* Cancelled before its turn, it never started (R5, R18): reported
   * by task-finished but not a child of the group's, so not by next. */
  if (task == NULL)
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      re->not_started++;
    }
  re_spawn (re, "from a start callback");
}

static void
re_spawn (Re         *re,
          const char *why)
{
  g_autoptr(GError) error = NULL;
  NurseryTask *task = NULL;
  guint pick;

  if (re->budget == 0)
    return;
  if (re->group == NULL)
    {
      /* After the wait callback dropped it: nothing to spawn into. */
      re->after_drop++;
      return;
    }
  re->budget--;
  pick = g_rand_int_range (re->rand, 0, 6);
  switch (pick)
    {
    case 0:
    case 1:
      task = nursery_group_spawn (re->group, why, re_child, re, re_destroy, &error);
      break;
    case 2:
    case 3:
      task = nursery_group_spawn_in_thread (re->group, why, re_thread_child, re, re_destroy, &error);
      break;
    case 4:
      /* Its own task isn't in hand: it is reported like any child once
       * started; counted as spawned when the group reports it. */
      if (nursery_group_get_state (re->group) == NURSERY_GROUP_CLOSED)
        {
          re->refused++;
          return;
        }
      re->spawned++;
      nursery_group_start_async (re->group, "start", re_start_child, re, re_destroy, NULL, re_started, re);
      return;
    default:
      task = nursery_group_spawn (re->group, why, re_child, re, re_destroy, &error);
      if (task != NULL)
        nursery_task_add_cleanup (task, 1000, re_task_cleanup, re, re_destroy);
      break;
    }
  if (task == NULL)
    {
      g_assert_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
      re->refused++;
      return;
    }
  re->spawned++;
  g_ptr_array_add (re->tasks, task);
}

static void
re_cancel_job (gpointer task,
               gpointer group)
{
  rel_spin (g_random_int_range (0, 20000));
  nursery_task_cancel (task);
  nursery_group_cancel (group);
  g_object_unref (task);
  g_object_unref (group);
}

static void
re_task_finished (NurseryGroup *group,
                  NurseryTask  *task,
                  gpointer      data)
{
  Re *re = data;
  guint pick = g_rand_int_range (re->rand, 0, 8);

  re->finished_seen++;
  /* Cleanups spawned for a task are counted with the spawns: they are
   * children too (R22). */
  if (g_str_has_suffix (nursery_task_get_name (task), " cleanup"))
    re->spawned++;
  g_ptr_array_unref (nursery_group_get_errors (group));
  if (pick < 3)
    re_spawn (re, "from task-finished");
  else if (pick == 3 && re->tasks->len > 0)
    {
      NurseryTask *other = re->tasks->pdata[g_rand_int_range (re->rand, 0, re->tasks->len)];

      /* A deadline moved to now from inside the batch (R16). */
      nursery_task_set_timeout (other, 0);
    }
  else if (pick == 4 && re->tasks->len > 0)
    rel_worker_push (re->worker, re_cancel_job,
                    g_object_ref (re->tasks->pdata[g_rand_int_range (re->rand, 0, re->tasks->len)]),
                    g_object_ref (group));
  else if (pick == 5)
    nursery_group_cancel (group);
}

static void
re_next (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  Re *re = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(NurseryTask) task = nursery_group_next_finish (NURSERY_GROUP (source), result, &error);

  g_assert_no_error (error);
  if (task == NULL)
    {
      g_autoptr(GError) refusal = NULL;
      guint destroyed = re->destroyed;

      /* Closed, perhaps dropped by the wait callback already (the
       * GTask's source keeps it here): a spawn is refused, and its
       * data freed at once (R4). */
      g_assert_null (nursery_group_spawn (NURSERY_GROUP (source), "too late", re_child, re,
                                          re_destroy, &refusal));
      g_assert_error (refusal, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
      g_assert_cmpuint (re->destroyed, ==, destroyed + 1);
      re->refused++;
      re->next_done = TRUE;
      return;
    }
  re->next_seen++;
  re_spawn (re, "from next");
  nursery_group_next_async (NURSERY_GROUP (source), NULL, re_next, re);
}

static void
re_group_cleanup (NurseryGroup *group,
                  gpointer      data)
{
  Re *re = data;
  guint before = re->spawned;

  /* Always one more, whatever the budget left: it runs once a round. */
  re->budget++;
  re_spawn (re, "from the exit stack");
  re->hits_cleanup += re->spawned - before;
}

static void
re_waited (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  Re *re = data;

  g_autoptr(GPtrArray) errors = nursery_group_get_errors (re->group);

  nursery_group_wait_finish (NURSERY_GROUP (source), result, NULL);
  g_assert_true (nursery_group_is_closed (re->group));
  re->counters[0] = nursery_group_get_n_finished (re->group);
  re->counters[1] = nursery_group_get_n_failed (re->group);
  re->counters[2] = nursery_group_get_n_succeeded (re->group);
  re->counters[3] = nursery_group_get_n_cancelled (re->group);
  re->counters[4] = errors->len;
  re->counters[5] = nursery_group_get_n_spawned (re->group);
  re->wait_done = TRUE;
  /* The last reference, from inside the group's own batch. */
  g_clear_object (&re->group);
}

static void
test_reentrant_callbacks (void)
{
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("reentrant-callbacks");
  g_autoptr(GRand) rand = g_rand_new ();
  RelWorker *worker = rel_worker_new ("canceller");
  guint rounds = rel_scaled ("NURSERY_STRESS_ITERATIONS", 200);
  guint in_timer = 0, off_owner = 0, from_cleanup = 0, refused = 0;
  RelFinalized f = { 0, };

  for (guint i = 0; i < rounds; i++)
    {
      Re re = { 0, };
      guint n_failed = 0;

      re.owner = g_thread_self ();
      re.rand = rand;
      re.worker = worker;
      re.budget = RE_BUDGET;
      re.tasks = g_ptr_array_new_with_free_func (g_object_unref);
      re.group = nursery_group_new ();
      rel_finalized_track (&f, re.group);
      nursery_group_set_policy (re.group, i % 3 == 0 ? NURSERY_POLICY_FAIL_FAST : NURSERY_POLICY_SUPERVISE);
      g_signal_connect (re.group, "task-finished", G_CALLBACK (re_task_finished), &re);
      nursery_group_add_cleanup (re.group, re_group_cleanup, &re, NULL);
      if (i % 2 == 0)
        nursery_group_set_timeout (re.group, g_rand_int_range (rand, 0, 2000));
      for (guint k = 0; k < RE_SEEDS; k++)
        re_spawn (&re, "seed");
      nursery_group_next_async (re.group, NULL, re_next, &re);
      nursery_group_wait_async (re.group, NULL, re_waited, &re);

      while (!re.wait_done || !re.next_done)
        g_main_context_iteration (NULL, TRUE);
      rel_worker_drain (worker);
      /* The wait callback dropped the group: its tasks stay readable. */
      rel_finalized_settle (&f);

      for (guint k = 0; k < re.tasks->len; k++)
        {
          NurseryTaskState state = nursery_task_get_state (re.tasks->pdata[k]);

          g_assert_true (nursery_task_is_finished (re.tasks->pdata[k]));
          n_failed += state == NURSERY_TASK_FAILED;
        }
      /* Each child once by task-finished and, if it was the group's,
       * once by next (R3, R18, R25); the counters add up (R21); every
       * failure kept once (R8); every destroy notify ran on the owner:
       * the children's, and the task cleanups' (spawned or dropped). */
      g_assert_cmpuint (re.finished_seen, ==, re.spawned);
      g_assert_cmpuint (re.next_seen, ==, re.spawned - re.not_started);
      g_assert_cmpuint (re.counters[0], ==, re.spawned);
      g_assert_cmpuint (re.counters[1] + re.counters[2] + re.counters[3], ==,
                        re.spawned - re.not_started);
      g_assert_cmpuint (re.counters[4], ==, re.counters[1]);
      g_assert_cmpuint (re.counters[5], ==, re.spawned);
      g_assert_cmpuint (n_failed, <=, re.counters[1]);
      g_assert_cmpuint (re.destroyed, >=, re.spawned);
      in_timer += re.hits_in_timer;
      off_owner += re.hits_off_owner;
      from_cleanup += re.hits_cleanup;
      refused += re.refused;
      g_ptr_array_unref (re.tasks);
      rel_watchdog_kick (watchdog, "round %u", i);
    }
  rel_worker_free (worker);

  g_test_message ("%u rounds: %u cancelled handlers run by a deadline (each spawning and setting "
                  "a deadline inside the timer's dispatch), %u run on the helper, %u spawns from "
                  "a group cleanup, %u refused as closed",
                  rounds, in_timer, off_owner, from_cleanup, refused);
  g_assert_cmpuint (in_timer, >, 0);
  g_assert_cmpuint (from_cleanup, >, 0);
}

/* Part 4, continued. R16, R30: a blocking wait from inside a deadline's
 * cancelled handler. nursery_group_wait() iterates the owner context and
 * promises that its other sources keep running. Here the deadline of
 * group H runs a child's cancelled handler that makes group G, starts
 * its child, cancels G (the shutdown a handler asks for) and waits for
 * it. Nursery's cancels made on a thread that is already running one are
 * queued until the outer one returns (no recursion, R30): G's child was
 * never cancelled while the handler blocked, and even the give-up below
 * could not end it (its cancel was marked, not run): a hang. They must
 * run while the handler blocks. A plain thread cancels G's waiter after
 * 5 s, so that a hang the cancel does reach fails the test with
 * CANCELLED.
 *
 * The inner-deadline variant: G's child ends by its own deadline, which
 * must fire inside the outer deadline's dispatch, whose source GLib does
 * not dispatch again until it returns (the wait fires it itself). */

typedef struct
{
  GMutex        lock;
  GCond         cond;
  gboolean      done;
  GCancellable *give_up;
  GError       *error;     /* G's wait */
  gboolean      waited;
  gboolean      by_cancel;  /* the inner child ends by an explicit cancel */
  GThread      *owner;
} NestedWait;

static void
give_up_job (gpointer data,
             gpointer unused)
{
  NestedWait *nw = data;
  gint64 until = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  g_mutex_lock (&nw->lock);
  while (!nw->done)
    if (!g_cond_wait_until (&nw->cond, &nw->lock, until))
      break;
  g_mutex_unlock (&nw->lock);
  g_cancellable_cancel (nw->give_up);
}

static void
wait_in_deadline_handler (GCancellable *cancellable,
                          gpointer      data)
{
  NestedWait *nw = data;
  g_autoptr(NurseryGroup) inner = NULL;
  g_autoptr(NurseryTask) task = NULL;

  if (g_thread_self () != nw->owner || nw->waited)
    return;
  nw->waited = TRUE;
  inner = nursery_group_new ();
  task = nursery_group_spawn (inner, "inner", rel_child_until_cancelled, NULL, NULL, NULL);
  if (nw->by_cancel)
    {
      /* Running, waiting on its cancellable: then the shutdown that a
       * handler asks for, and waits for. */
      while (nursery_group_get_n_running (inner) == 0)
        g_main_context_iteration (NULL, TRUE);
      nursery_group_cancel (inner);
    }
  else
    nursery_task_set_timeout (task, 1000);
  nursery_group_wait (inner, nw->give_up, &nw->error);
}

static void
test_wait_inside_deadline_callback (gconstpointer data)
{
  g_autoptr(RelWatchdog) watchdog = NULL;
  RelHelper *helper;
  g_autoptr(NurseryGroup) outer = nursery_group_new ();
  g_autoptr(NurseryTask) task = NULL;
  NestedWait nw = { 0, };

  watchdog = rel_watchdog_new ("wait-inside-deadline-callback");
  helper = rel_helper_new ("give-up");
  g_mutex_init (&nw.lock);
  g_cond_init (&nw.cond);
  nw.owner = g_thread_self ();
  nw.by_cancel = GPOINTER_TO_UINT (data);
  nw.give_up = g_cancellable_new ();
  rel_helper_run (helper, give_up_job, &nw, NULL);

  task = nursery_group_spawn (outer, "waits", rel_child_until_cancelled, NULL, NULL, NULL);
  g_cancellable_connect (nursery_task_get_cancellable (task), G_CALLBACK (wait_in_deadline_handler),
                         &nw, NULL);
  nursery_group_set_timeout (outer, 0);
  g_assert_false (nursery_group_wait (outer, NULL, NULL));

  g_mutex_lock (&nw.lock);
  nw.done = TRUE;
  g_cond_signal (&nw.cond);
  g_mutex_unlock (&nw.lock);
  rel_helper_finish (helper);
  rel_helper_free (helper);

  g_assert_true (nw.waited);
  /* R17: the inner child failed by its own deadline, which fired inside
   * the outer deadline's dispatch; R7: or the inner group's own cancel,
   * made inside the handler, is quiet. Not CANCELLED by the give-up. */
  if (nw.by_cancel)
    g_assert_no_error (nw.error);
  else
    g_assert_error (nw.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&nw.error);
  g_object_unref (nw.give_up);
  g_mutex_clear (&nw.lock);
  g_cond_clear (&nw.cond);
}

/* Part 5. R4, R24, R30: a refused spawn frees what it was handed, and
 * that may be the last reference to the group itself: user data that
 * holds the group (a binding's closure, a context struct), or a runner
 * that drops it when it is given its key back. The refusal must not read
 * the group after that (it named the group in the CLOSED error after
 * calling the destroy notify). One spawn per entry point, each into a
 * closed group whose only reference is in the data handed over. */

typedef enum
{
  REFUSED_SPAWN,
  REFUSED_SPAWN_IN_THREAD,
  REFUSED_START_SOON,
  REFUSED_SPAWN_KEYED,
  REFUSED_START_SOON_KEYED,
  REFUSED_START_ASYNC,
  N_REFUSED
} Refused;

static const char * const refused_names[] = {
  "spawn", "spawn-in-thread", "start-soon", "spawn-keyed", "start-soon-keyed", "start-async",
};

static void
never_runs (NurseryTask *task,
            gpointer     data)
{
  g_assert_not_reached ();
}

/* The runner is given the key back (task NULL): it drops the group. */
static void
runner_drops_group (NurseryTask *task,
                    gsize        key,
                    gpointer     data)
{
  NurseryGroup **slot = data;

  g_assert_null (task);
  g_clear_object (slot);
}

static void
refused_start_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      data)
{
  GError **error = data;

  g_assert_null (nursery_group_start_finish (NURSERY_GROUP (source), result, NULL, error));
}

static void
test_refused_spawn_drops_group (gconstpointer data)
{
  Refused refused = GPOINTER_TO_UINT (data);
  g_autoptr(GError) error = NULL;
  NurseryGroup *group = nursery_group_new ();
  NurseryGroup *runner_slot = NULL;
  g_autoptr(NurseryRunner) runner = NULL;
  gboolean gone = FALSE;
  gboolean spawned = TRUE;

  g_assert_true (nursery_group_wait (group, NULL, NULL));
  g_assert_true (nursery_group_is_closed (group));
  g_object_weak_ref (G_OBJECT (group), rel_set_flag, &gone);

  /* From here on, the only reference is in what the spawn is handed. */
  switch (refused)
    {
    case REFUSED_SPAWN:
      spawned = nursery_group_spawn (group, "late", never_runs, group, g_object_unref, &error) != NULL;
      break;
    case REFUSED_SPAWN_IN_THREAD:
      spawned = nursery_group_spawn_in_thread (group, "late", never_runs, group, g_object_unref,
                                               &error) != NULL;
      break;
    case REFUSED_START_SOON:
      spawned = nursery_group_start_soon (group, "late", never_runs, group, g_object_unref, &error);
      break;
    case REFUSED_SPAWN_KEYED:
    case REFUSED_START_SOON_KEYED:
      runner_slot = group;
      runner = nursery_runner_new (runner_drops_group, &runner_slot, NULL);
      if (refused == REFUSED_SPAWN_KEYED)
        spawned = nursery_group_spawn_keyed (group, "late", runner, 7, &error) != NULL;
      else
        spawned = nursery_group_start_soon_keyed (group, "late", runner, 7, &error);
      g_assert_null (runner_slot);
      break;
    case REFUSED_START_ASYNC:
      /* The starter holds the group until its callback has run. */
      nursery_group_start_async (group, "late", never_runs, group, g_object_unref, NULL,
                                 refused_start_cb, &error);
      while (!gone)
        g_main_context_iteration (NULL, TRUE);
      spawned = FALSE;
      break;
    default:
      g_assert_not_reached ();
    }

  g_assert_false (spawned);
  g_assert_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED);
  /* Finalized right there, in the destroy notify (or the runner). */
  g_assert_true (gone);
}

/* Part 5, continued. R24: the same for a task.
 * nursery_task_add_cleanup() on a task that has finished is refused with
 * a critical and frees the cleanup's data; that data may hold the only
 * reference to the task. The refusal must not read the task after that
 * (its critical named the task after freeing the data). */
static void
test_refused_task_cleanup_drops_task (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  NurseryTask *task = nursery_group_spawn (group, "done", rel_child_until_cancelled, NULL, NULL, NULL);
  gboolean gone = FALSE;

  nursery_group_cancel (group);
  g_assert_true (nursery_group_wait (group, NULL, NULL));
  g_assert_true (nursery_task_is_finished (task));
  g_object_weak_ref (G_OBJECT (task), rel_set_flag, &gone);

  /* From here on, the only reference is in the cleanup's data. */
  g_test_expect_message ("Nursery", G_LOG_LEVEL_CRITICAL, "*nursery_task_add_cleanup*done*finished*");
  nursery_task_add_cleanup (task, -1, never_runs, task, g_object_unref);
  g_test_assert_expected_messages ();
  g_assert_true (gone);
}

/* Part 6. R20, R30: the unref tail ended by another thread's thaw. A group
 * dropped off its owner keeps itself alive until the dropping thread has
 * left g_object_unref(), which it learns from the notify queue that
 * g_object_unref() froze around dispose(): the thaw dispatches a notify
 * that dispose() queued (nursery-group-orphan.c). But the queue's freeze
 * is per object, not per thread: when the owner also has it frozen at that
 * moment (its batch flushing the group's notifications, found by a stress
 * at about one round in 7 000 when the drop's cancel ran a handler), the
 * dropper's thaw dispatches nothing, the owner's thaw dispatches the
 * notify on the owner, and the group waited forever for a tail that had
 * already ended: never finalized, a leak (R20).
 *
 * Here the straddle is made certain: the child's cancelled handler, run
 * by the drop on the dropping thread, resurrects a reference for the
 * owner, which freezes the group's notifications before the drop goes on
 * and thaws them once the dropping thread has left g_object_unref(). The
 * group must still be finalized, on its owner. */

typedef struct
{
  GMutex        lock;
  GCond         cond;
  NurseryGroup *group;     /* the last reference, dropped by the helper */
  NurseryGroup *lent;      /* the handler's reference for the owner */
  gboolean      frozen;
} Straddle;

static void
straddle_cancelled (GCancellable *cancellable,
                    gpointer      data)
{
  Straddle *st = data;

  /* On the dropping thread, inside its dispose(). */
  g_mutex_lock (&st->lock);
  st->lent = g_object_ref (st->group);
  g_cond_broadcast (&st->cond);
  while (!st->frozen)
    g_cond_wait (&st->cond, &st->lock);
  g_mutex_unlock (&st->lock);
}

static void
straddle_drop_job (gpointer data,
                   gpointer unused)
{
  Straddle *st = data;

  g_object_unref (st->group);
}

static void
test_unref_tail_thawed_by_owner (void)
{
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("unref-tail-thawed-by-owner");
  RelHelper *helper = rel_helper_new ("dropper");
  guint rounds = rel_scaled ("NURSERY_STRESS_ITERATIONS", 20);
  RelFinalized f = { 0, };

  for (guint i = 0; i < rounds; i++)
    {
      Straddle st = { 0, };
      NurseryTask *task;
      gint64 give_up;

      g_mutex_init (&st.lock);
      g_cond_init (&st.cond);
      st.group = nursery_group_new ();
      rel_finalized_track (&f, st.group);
      task = nursery_group_spawn (st.group, "waits", rel_child_until_cancelled, NULL, NULL, NULL);
      g_cancellable_connect (nursery_task_get_cancellable (task), G_CALLBACK (straddle_cancelled),
                             &st, NULL);
      g_object_unref (task);
      /* A batch has run: the helper is not the group's owner. */
      while (nursery_group_get_n_running (st.group) == 0)
        g_main_context_iteration (NULL, TRUE);

      rel_helper_run (helper, straddle_drop_job, &st, NULL);
      g_mutex_lock (&st.lock);
      while (st.lent == NULL)
        g_cond_wait (&st.cond, &st.lock);
      g_object_freeze_notify (G_OBJECT (st.lent));
      st.frozen = TRUE;
      g_cond_broadcast (&st.cond);
      g_mutex_unlock (&st.lock);
      /* The dropping thread leaves g_object_unref(), its thaw finding the
       * queue still frozen here; this thaw dispatches the notify. */
      rel_helper_finish (helper);
      g_object_thaw_notify (G_OBJECT (st.lent));
      g_clear_object (&st.lent);

      /* Bounded, not a synchronisation: an orphan is let go within a few
       * milliseconds of its last batch; one that waits for the tail
       * forever fails here rather than at the watchdog. */
      give_up = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
      while (g_atomic_int_get (&f.alive) > 0 && g_get_monotonic_time () < give_up)
        g_main_context_iteration (NULL, FALSE);
      g_assert_cmpint (g_atomic_int_get (&f.alive), ==, 0);
      g_assert_cmpint (g_atomic_int_get (&f.off_owner), ==, 0);
      g_mutex_clear (&st.lock);
      g_cond_clear (&st.cond);
      rel_watchdog_kick (watchdog, "round %u", i);
    }
  rel_helper_free (helper);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (swallow_debug, NULL, NULL);
  adversarial_error = g_quark_from_static_string ("nursery-adversarial-error");

  for (At at = 0; at < N_AT; at++)
    {
      g_autofree char *path = g_strdup_printf ("/reliability/adversarial/R30/drop-in-callback/%s",
                                               at_names[at]);
      g_test_add_data_func (path, GUINT_TO_POINTER (at), test_drop_in_callback);
    }

  g_test_add_data_func ("/reliability/adversarial/R16/deadlines-at-scale/wait",
                        GUINT_TO_POINTER (FALSE), test_deadlines_at_scale);
  g_test_add_data_func ("/reliability/adversarial/R30/deadlines-at-scale/dropped-armed",
                        GUINT_TO_POINTER (TRUE), test_deadlines_at_scale);

  g_test_add_data_func ("/reliability/adversarial/R8/failures-while-cancelled/fail-fast",
                        GUINT_TO_POINTER (NURSERY_POLICY_FAIL_FAST), test_failures_while_cancelled);
  g_test_add_data_func ("/reliability/adversarial/R8/failures-while-cancelled/supervise",
                        GUINT_TO_POINTER (NURSERY_POLICY_SUPERVISE), test_failures_while_cancelled);
  g_test_add_data_func ("/reliability/adversarial/R11/failures-while-cancelled/race",
                        GUINT_TO_POINTER (NURSERY_POLICY_RACE), test_failures_while_cancelled);

  g_test_add_func ("/reliability/adversarial/R25/next-cancelled-from-thread", test_next_cancelled_from_thread);
  g_test_add_func ("/reliability/adversarial/R30/reentrant-callbacks", test_reentrant_callbacks);
  g_test_add_data_func ("/reliability/adversarial/R16/wait-inside-deadline-callback/inner-deadline",
                        GUINT_TO_POINTER (FALSE), test_wait_inside_deadline_callback);
  g_test_add_data_func ("/reliability/adversarial/R30/wait-inside-deadline-callback/inner-cancel",
                        GUINT_TO_POINTER (TRUE), test_wait_inside_deadline_callback);

  for (Refused refused = 0; refused < N_REFUSED; refused++)
    {
      g_autofree char *path = g_strdup_printf ("/reliability/adversarial/R24/refused-spawn-drops-group/%s",
                                               refused_names[refused]);
      g_test_add_data_func (path, GUINT_TO_POINTER (refused), test_refused_spawn_drops_group);
    }

  g_test_add_func ("/reliability/adversarial/R24/refused-task-cleanup-drops-task",
                   test_refused_task_cleanup_drops_task);

  g_test_add_func ("/reliability/adversarial/R30/unref-tail-thawed-by-owner",
                   test_unref_tail_thawed_by_owner);

  return g_test_run ();
}
