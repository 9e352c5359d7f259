/* test-model.c: randomized scenarios checked against a model of the
 * rules R1–R22 (docs/rules.md)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* How it works
 *
 * A seeded generator builds a scenario step by step: a root group (random
 * policy and concurrency limit, a task-finished handler or none) with
 * random children — in-context and thread children, nested groups (two
 * levels), start handshakes, shields, and "soon" children
 * (nursery_group_start_soon() and its keyed form: no handle, never
 * shielded) — then random actions: spawn, start, release a waiting child
 * with its planned result (a value, a failure, "check for cancellation",
 * a CANCELLED error of its own), cancel a task / a group / a starter's or
 * a waiter's cancellable, shield and unshield, deadlines (past, far,
 * cleared) on groups and tasks, limits, policies, cleanups, extra
 * waiters, next_async(), list_tasks(), connecting task-finished late,
 * dropping the last reference to the root. Finally every waiting child is
 * released until the root closes (or, dropped, is finalized).
 *
 * A soon child is a record, not a task, until its turn (or list_tasks());
 * an immediate one that succeeds unseen and uncancelled gives its outcome back to the
 * record and its task is reused; the task is made again for its report
 * only if something needs one (nursery-group-soon.c). Those are the
 * library's business, but they decide what is observable, so the model
 * keeps the same books: which soon child is a record, and how many spare
 * tasks each group keeps (a soon child spawned while the group has one is
 * a task at once, which a group cancel reaches then, not at its turn).
 * What the test sees of a soon child is what user code could: whether and
 * in which order its function ran (R1, R5), its destroy notify, the
 * group's counters, failures and outcome, and its task only where the
 * library hands one out: to the child's own function (a waiting soon child
 * keeps a reference; an immediate one does not, so the record path is
 * taken), to task-finished, next_async(), list_tasks() and get_winner().
 * A soon child may also act from its function or its destroy notify:
 * connect task-finished to its group, list its group's tasks, cancel its
 * group, keep its task (which it then must not give back); a keyed one
 * has a runner of its own, whose destroy notify is the child's.
 * Start handshakes only go to groups with a task-finished handler:
 * a start caller's GTask holds the task of a child that never started for
 * as long as GLib takes to complete it (at once or from an idle), so
 * without a handler whether its task is kept as a spare is not
 * deterministic.
 *
 * Each action is applied twice: to a small model of the rules (this
 * file, below) and to the real library; then the real owner context is
 * run until it is quiescent — no source ready, every running thread child
 * parked at its gate — and the two are compared: every task's state,
 * whether its function ran (R5), whether it is cancelled, its value or
 * error; every group's state, cancellation, counters, winner; every
 * task-finished signal (with the task's outcome as it is emitted, in
 * completion order), destroy notify, start and wait callback (exactly
 * once, R3, R6, R10, R18); the order in which the in-context functions
 * ran (R1) and the destroy notifies were called (completion order);
 * cleanups (R22). At the end: the failures of every group in order, with
 * the names of their tasks (R8, R29), the outcome of every wait (R7), and
 * every group and task finalized once the handles are dropped (R20).
 *
 * Thread children park at a gate as soon as they start and only leave it
 * when released by an action or (if they watch it) by their cancellable,
 * so every step is deterministic and the model can be exact. The
 * collisions of threads are the business of test-stress.c.
 *
 * The model follows the group's documented batch semantics: each dispatch
 * of a group finishes the children cancelled before they started, starts
 * the startable children in spawn order, then reports the children that
 * returned, in completion order (nursery-group.c, "How a NurseryGroup
 * works").
 *
 * NURSERY_MODEL_SCENARIOS sets the count (default 2 000 × scale),
 * NURSERY_MODEL_SEED the first seed (default: random, printed). A failing
 * scenario prints its seed and its actions; NURSERY_MODEL_SEED=<seed>
 * NURSERY_MODEL_SCENARIOS=1 replays exactly that one. */

#include <stdio.h>
#include <string.h>

#include "rel-utils.h"

#define MODEL_ERROR (model_error_quark ())
static G_DEFINE_QUARK (nursery-model-error-quark, model_error)

#define FAR_DEADLINE  (G_MAXINT64 / 2)
#define PAST_DEADLINE ((gint64) 1)
#define MAX_DEPTH     2
#define MAX_THREADS   6   /* parked thread children at once: the GTask pool has 10 */
#define MAX_TASKS     48
/* A group keeps this many reported tasks for its next spawns
 * (spare_tasks in nursery-group-impl-private.h). */
#define MAX_SPARES    8

/* Specs */

typedef enum
{
  B_IMMEDIATE,    /* returns its planned result as soon as it runs (in-context) */
  B_PARK,         /* waits for release; cancelled, returns CANCELLED */
  B_STUBBORN,     /* waits for release; ignores cancellation */
  B_CANCEL_FAIL,  /* waits for release; cancelled, fails (in-context) */
  B_NESTED,       /* runs a nested group, returns its result (in-context) */
} Behaviour;

static const char * const behaviour_names[] = { "immediate", "park", "stubborn", "cancel-fail", "nested" };

typedef enum
{
  P_VALUE,
  P_ERROR,
  P_CHECK,     /* CANCELLED if cancelled, else a value */
  P_GIVE_UP,   /* G_IO_ERROR_CANCELLED whether cancelled or not (R8) */
} Planned;

static const char * const planned_names[] = { "value", "error", "check", "give-up" };

typedef enum
{
  HS_NONE,
  HS_AT_START,  /* started() as soon as it runs */
  HS_LATER,     /* started() by a STARTED action */
  HS_NEVER,
} Handshake;

/* What a soon child does first in its function, or in its destroy
 * notify: user code the record path must cope with. */
typedef enum
{
  H_NONE,
  H_CONNECT,          /* connects task-finished to its group */
  H_LIST,             /* lists its group's tasks (R27) */
  H_CANCEL,           /* cancels its group (immediate children only) */
  H_CONNECT_DESTROY,  /* its destroy notify connects task-finished */
  H_KEEP,             /* keeps a reference to its task (immediate children only) */
} Hook;

static const char * const hook_names[] = { "", ", connects", ", lists", ", cancels its group",
                                           ", connects when destroyed", ", keeps its task" };

typedef struct _GroupSpec GroupSpec;

typedef struct
{
  gboolean   in_thread;
  Behaviour  behaviour;
  Planned    planned;
  Handshake  handshake;
  gboolean   shielded;
  gboolean   soon;        /* nursery_group_start_soon(): no handle */
  gboolean   keyed;       /* ...its keyed form, a runner of its own */
  gboolean   no_destroy;  /* ...without a destroy notify */
  Hook       hook;
  GroupSpec *nested;
} ChildSpec;

struct _GroupSpec
{
  NurseryPolicy policy;
  guint         limit;
  gboolean      shielded;
  gboolean      handler;    /* task-finished connected when it is made */
  GPtrArray    *children;   /* (element-type ChildSpec) */
};

/* The model's entities, with the real side's bookkeeping next to them */

typedef enum
{
  MT_PENDING,
  MT_RUNNING,
  MT_RETURNED,    /* returned, not reported yet (never seen after a settle) */
  MT_SUCCEEDED,
  MT_FAILED,
  MT_CANCELLED,
} MTState;

static const NurseryTaskState mt_real_state[] = {
  NURSERY_TASK_PENDING, NURSERY_TASK_RUNNING, NURSERY_TASK_RUNNING,
  NURSERY_TASK_SUCCEEDED, NURSERY_TASK_FAILED, NURSERY_TASK_CANCELLED,
};

static const char *
mt_state_name (MTState state)
{
  static const char * const names[] = { "pending", "running", "returned", "succeeded", "failed", "cancelled" };

  return names[state];
}

typedef enum
{
  C_NONE, C_EXPLICIT, C_FAILURE, C_RACE_WON, C_WAITER, C_DROPPED, C_DEADLINE, C_PARENT,
} Cause;

typedef enum { ST_NONE, ST_PENDING, ST_OK, ST_ERROR } StarterState;

typedef struct
{
  GQuark  domain;
  int     code;
  char   *message;   /* NULL: made by the library, not compared */
} MError;

typedef struct _Scenario Scenario;
typedef struct _MGroup MGroup;

typedef struct
{
  GMutex   lock;
  GCond    cond;
  gboolean released;
  gboolean woken;    /* its cancellable was cancelled */
  gboolean go;       /* ...and the driver lets it return */
  gboolean parked;
} Gate;

typedef struct
{
  Scenario    *sc;
  guint        id;
  char         name[16];
  MGroup      *group;
  ChildSpec   *spec;
  gboolean     refused;      /* spawned into a closed group (R4) */

  /* model */
  MTState      state;
  gboolean     ran;
  gboolean     cancelled;
  gboolean     shielded;
  gboolean     timed_out;
  gboolean     cancelled_at_return;  /* R7, R8, R17: fixed by the return */
  gboolean     timed_out_at_return;
  gboolean     started;
  gboolean     woken;        /* thread child woken by its cancellable */
  gboolean     in_pending;
  gboolean     in_doomed;
  gint64       deadline;
  gboolean     deadline_due; /* fires on the next iteration */
  guint        deadline_seq; /* its GSource's place in the context, 0 if none */
  MError      *error;
  gboolean     has_value;
  gint64       value;
  MGroup      *nested;
  gboolean     is_start;
  StarterState starter;
  MError      *starter_error;
  /* A soon child: the library holds a record, not a task, while it waits
   * for its turn, and again once it gave its success back until the
   * batch reports it. */
  gboolean     record;
  gboolean     given_back;
  gboolean     signalled;    /* task-finished is emitted for it */
  gboolean     held;         /* the driver holds its task (soon children) */

  /* real */
  NurseryTask  *task;
  GCancellable *starter_cancellable;
  int           real_ran;          /* atomic (thread children) */
  guint         real_destroyed;
  guint         real_finished_signals;
  guint         real_start_callbacks;
  GError       *real_start_error;
  gboolean      real_returned;     /* in-context: guards the cancel handler */
  guint         real_keyed_dropped; /* its runner was called without a task */
  Gate          gate;
} MTask;

typedef struct
{
  MGroup       *group;
  guint         id;
  gboolean      done;
  MError       *result;
  GCancellable *cancellable;
  guint         real_calls;
  gboolean      real_ok;
  GError       *real_error;
} MWaiter;

/* A nursery_group_next_async() call. */
typedef struct
{
  MGroup       *group;
  guint         id;
  gboolean      cancelled;
  gboolean      done;
  MTask        *result;        /* NULL: the group is closed and drained */
  gboolean      result_cancelled;
  GCancellable *cancellable;
  guint         real_calls;
  NurseryTask  *real_task;
  GError       *real_error;
} MNext;

struct _MGroup
{
  Scenario      *sc;
  guint          id;
  guint          depth;
  MTask         *parent;        /* NULL for the root */
  GroupSpec     *spec;

  /* model */
  NurseryPolicy  policy;
  guint          limit;
  gboolean       shielded;
  gboolean       parent_cancelled;
  Cause          cause;
  NurseryGroupState state;
  GPtrArray     *tasks;         /* every task, spawn order */
  GPtrArray     *initial;       /* children spawned by the nested group's parent */
  GQueue         pending;
  GQueue         doomed;
  GQueue         returned;
  GPtrArray     *started_queue;
  guint          n_running, n_pending, n_finished, n_failed;
  guint          n_succeeded, n_cancelled, n_spawned;
  GPtrArray     *errors;        /* (element-type MError) */
  GPtrArray     *error_names;   /* the failed tasks' names (R29) */
  gboolean       handler;       /* task-finished is connected */
  gboolean       listing;       /* list_tasks() was called: soon children are tasks */
  guint          spares;        /* reported tasks kept for the next spawns */
  GArray        *signals;       /* task ids, in task-finished order */
  MTask         *winner;
  gboolean       scheduled;
  gint64         deadline;
  gboolean       deadline_due;
  guint          source_seq;    /* the group's GSource's place in the context */
  guint          deadline_seq;
  GArray        *cleanups;      /* ids, most recent last */
  GArray        *model_ran;     /* cleanup ids in the order the model ran them */
  GArray        *real_ran;
  GPtrArray     *waiters;       /* (element-type MWaiter) */
  gboolean       tracking;      /* next_async() was called: completions queue up */
  GQueue         completed;     /* MTask finished since, not handed out yet */
  GPtrArray     *nexts;         /* (element-type MNext), in call order */
  GListModel    *list;          /* nursery_group_list_tasks(), once asked */
  gboolean       dropped;       /* the driver dropped its reference */
  gboolean       disposed;      /* ...and so did every pending start_async() */
  guint          start_refs;    /* pending start_async() GTasks hold the group */
  gboolean       dispose_due;
  gboolean       finalized;
  gboolean       watchers_released;
  gboolean       errors_observed;

  /* real */
  NurseryGroup  *group;
  NurseryGroup  *alive;         /* borrowed, while the group lives (a dropped root too) */
  gboolean       real_handler;
  GArray        *real_signals;
};

struct _Scenario
{
  guint32       seed;
  GRand        *rand;
  GMainContext *context;
  GThread      *owner;
  RelWatchdog  *watchdog;
  GString      *log;
  guint         step;

  GPtrArray    *tasks;          /* (element-type MTask) by id */
  GPtrArray    *groups;         /* (element-type MGroup) by id */
  GPtrArray    *specs;          /* owned ChildSpec/GroupSpec storage */
  GPtrArray    *group_specs;
  MGroup       *root;
  gboolean      drop_mode;
  guint         n_threads;
  guint         next_cleanup;
  guint         next_source;    /* GSources attached so far, in order */
  guint         next_waiter;
  guint         next_next;

  gboolean      expect_unread_warning;
  gboolean      warning_armed;
  RelLiveCount  live;

  /* R1: in-context functions, in the order they ran; destroy notifies,
   * in the order they were called (completion order). Task ids. */
  GArray       *runs, *real_runs;
  GArray       *destroys, *real_destroys;
};

/* What the scenarios covered, printed at the end. */
static struct
{
  guint steps, tasks, thread_tasks, start_tasks, groups, refused;
  guint soon_tasks, keyed_tasks, given_back, records_doomed, soon_as_tasks, remade;
  guint records_at_cancel, records_at_limit, records_at_drop;
  guint states[MT_CANCELLED + 1];
  guint not_run, timed_out, winners, dropped, unread_warnings;
  guint outcomes_ok, outcomes_failed, outcomes_timed_out, outcomes_cancelled;
  guint starter_ok, starter_error;
} totals;

/* NURSERY_MODEL_VERBOSE=1 prints every action as it happens. */
static gboolean verbose;

/* Failing with the recipe to replay */

static void G_GNUC_PRINTF (2, 3) G_GNUC_NORETURN
model_fail (Scenario   *sc,
            const char *format,
            ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "\nModel mismatch in scenario NURSERY_MODEL_SEED=%u at step %u: %s\n"
           "Replay: NURSERY_MODEL_SEED=%u NURSERY_MODEL_SCENARIOS=1 %s\nActions:\n%s\n",
           sc->seed, sc->step, message, sc->seed, g_get_prgname (), sc->log->str);
  g_error ("model mismatch (NURSERY_MODEL_SEED=%u, step %u): %s", sc->seed, sc->step, message);
}

#define CHECK(sc, cond, ...) G_STMT_START { if (!(cond)) model_fail ((sc), __VA_ARGS__); } G_STMT_END

static void G_GNUC_PRINTF (2, 3)
log_action (Scenario   *sc,
            const char *format,
            ...)
{
  va_list args;

  g_string_append_printf (sc->log, "  %3u: ", sc->step);
  va_start (args, format);
  g_string_append_vprintf (sc->log, format, args);
  va_end (args);
  g_string_append_c (sc->log, '\n');
  if (verbose)
    {
      const char *line = sc->log->str + sc->log->len - 1;

      while (line > sc->log->str && line[-1] != '\n')
        line--;
      fprintf (stderr, "[%u] %s", sc->seed, line);
    }
}

/* Errors of the model */

static MError *
merror_new (GQuark      domain,
            int         code,
            const char *message)
{
  MError *e = g_new0 (MError, 1);

  e->domain = domain;
  e->code = code;
  e->message = g_strdup (message);
  return e;
}

static MError *
merror_copy (const MError *e)
{
  return e != NULL ? merror_new (e->domain, e->code, e->message) : NULL;
}

static void
merror_free (MError *e)
{
  if (e == NULL)
    return;
  g_free (e->message);
  g_free (e);
}

static gboolean
merror_is_cancelled (const MError *e)
{
  return e != NULL && e->domain == G_IO_ERROR && e->code == G_IO_ERROR_CANCELLED;
}

static char *
merror_describe (const MError *e)
{
  if (e == NULL)
    return g_strdup ("success");
  return g_strdup_printf ("%s:%d “%s”", g_quark_to_string (e->domain), e->code,
                          e->message ? e->message : "*");
}

static void
check_error (Scenario     *sc,
             const char   *what,
             const MError *want,
             const GError *got)
{
  g_autofree char *w = merror_describe (want);

  if (want == NULL)
    CHECK (sc, got == NULL, "%s: expected success, got %s", what, got->message);
  else
    {
      CHECK (sc, got != NULL, "%s: expected %s, got success", what, w);
      CHECK (sc, got->domain == want->domain && got->code == want->code,
             "%s: expected %s, got %s:%d “%s”", what, w,
             g_quark_to_string (got->domain), got->code, got->message);
      if (want->message != NULL)
        CHECK (sc, g_strcmp0 (got->message, want->message) == 0,
               "%s: expected message “%s”, got “%s”", what, want->message, got->message);
    }
}

/* Whether a soon child's function keeps a reference to its task: a
 * waiting one must (it returns later, from a callback); an immediate one
 * only when told to, so that most give theirs back (R28). */
static gboolean
keeps_task (const ChildSpec *spec)
{
  return spec->soon && (spec->behaviour != B_IMMEDIATE || spec->hook == H_KEEP);
}

/* Spec generation */

static GroupSpec *gen_group_spec (Scenario *sc, guint depth);

static ChildSpec *
gen_child_spec (Scenario *sc,
                guint     depth,
                gboolean  allow_start)
{
  ChildSpec *spec = g_new0 (ChildSpec, 1);
  GRand *r = sc->rand;

  g_ptr_array_add (sc->specs, spec);
  spec->planned = (Planned) (g_rand_int_range (r, 0, 20) < 9 ? P_VALUE :
                             g_rand_int_range (r, 1, 4));
  /* A start child's handle comes only when it runs: not shielded at spawn. */
  spec->shielded = !allow_start && g_rand_int_range (r, 0, 10) == 0;

  /* start_async() children run on the owner context. */
  if (!allow_start && sc->n_threads < MAX_THREADS && g_rand_int_range (r, 0, 3) == 0)
    {
      sc->n_threads++;
      spec->in_thread = TRUE;
      spec->behaviour = g_rand_int_range (r, 0, 4) == 0 ? B_STUBBORN : B_PARK;
      return spec;
    }

  switch (g_rand_int_range (r, 0, 10))
    {
    case 0: case 1: case 2:
      spec->behaviour = B_IMMEDIATE;
      break;
    case 3: case 4: case 5:
      spec->behaviour = B_PARK;
      break;
    case 6:
      spec->behaviour = B_STUBBORN;
      break;
    case 7:
      spec->behaviour = B_CANCEL_FAIL;
      break;
    default:
      spec->behaviour = depth < MAX_DEPTH ? B_NESTED : B_PARK;
    }
  /* A soon child has no handle to shield it with before it runs. More
   * of them are immediate: those take the record path's corners. */
  if (!allow_start && g_rand_boolean (r))
    {
      spec->soon = TRUE;
      spec->shielded = FALSE;
      if (spec->behaviour != B_NESTED && g_rand_int_range (r, 0, 3) == 0)
        spec->behaviour = B_IMMEDIATE;
      spec->keyed = g_rand_int_range (r, 0, 4) == 0;
      spec->no_destroy = !spec->keyed && g_rand_int_range (r, 0, 8) == 0;
      switch (g_rand_int_range (r, 0, 16))
        {
        case 0: case 1:
          spec->hook = H_CONNECT;
          break;
        case 2:
          spec->hook = H_LIST;
          break;
        case 3:
          /* A waiting child would connect to a cancellable already
           * cancelled and return after the siblings the cancel woke:
           * an order the model does not keep. */
          spec->hook = spec->behaviour == B_IMMEDIATE ? H_CANCEL : H_NONE;
          break;
        case 4: case 5:
          spec->hook = spec->no_destroy ? H_NONE : H_CONNECT_DESTROY;
          break;
        case 6:
          /* A waiting child keeps its task anyway. */
          spec->hook = spec->behaviour == B_IMMEDIATE ? H_KEEP : H_NONE;
          break;
        default:
          break;
        }
    }
  if (spec->behaviour == B_NESTED)
    spec->nested = gen_group_spec (sc, depth + 1);
  if (allow_start)
    spec->handshake = (Handshake) g_rand_int_range (r, HS_AT_START, HS_NEVER + 1);
  return spec;
}

static GroupSpec *
gen_group_spec (Scenario *sc,
                guint     depth)
{
  GroupSpec *spec = g_new0 (GroupSpec, 1);
  guint n;

  g_ptr_array_add (sc->group_specs, spec);
  spec->policy = g_rand_int_range (sc->rand, 0, 4) == 0 ? NURSERY_POLICY_RACE :
                 g_rand_int_range (sc->rand, 0, 3) == 0 ? NURSERY_POLICY_SUPERVISE :
                 NURSERY_POLICY_FAIL_FAST;
  spec->limit = g_rand_int_range (sc->rand, 0, 3) == 0 ? g_rand_int_range (sc->rand, 1, 4) : 0;
  spec->shielded = depth > 0 && g_rand_int_range (sc->rand, 0, 4) == 0;
  spec->handler = g_rand_int_range (sc->rand, 0, 3) != 0;
  spec->children = g_ptr_array_new ();
  n = depth == 0 ? g_rand_int_range (sc->rand, 1, 7) : g_rand_int_range (sc->rand, 1, 4);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (spec->children, gen_child_spec (sc, depth, FALSE));
  return spec;
}

static void
group_spec_free (gpointer data)
{
  GroupSpec *spec = data;

  g_ptr_array_unref (spec->children);
  g_free (spec);
}

/* ------------------------------------------------------------------ */
/* The model                                                          */
/* ------------------------------------------------------------------ */

static void m_cancel_group (MGroup *g, Cause cause);
static void m_run (MTask *t);
static gboolean m_has_free_slot (MGroup *g);

static void
m_schedule (MGroup *g)
{
  g->scheduled = TRUE;
}

static gint64
task_value (MTask *t)
{
  return (gint64) t->id * 10 + 1;
}

static MGroup *
m_group_new (Scenario  *sc,
             MTask     *parent,
             GroupSpec *spec)
{
  MGroup *g = g_new0 (MGroup, 1);

  g->sc = sc;
  g->id = sc->groups->len;
  g->parent = parent;
  g->spec = spec;
  g->policy = spec->policy;
  g->limit = spec->limit;
  g->state = NURSERY_GROUP_OPEN;
  g->tasks = g_ptr_array_new ();
  g->initial = g_ptr_array_new ();
  g->started_queue = g_ptr_array_new ();
  g->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) merror_free);
  g->error_names = g_ptr_array_new ();
  g->handler = spec->handler;
  g->signals = g_array_new (FALSE, FALSE, sizeof (guint));
  g->real_signals = g_array_new (FALSE, FALSE, sizeof (guint));
  g->deadline = -1;
  g->cleanups = g_array_new (FALSE, FALSE, sizeof (guint));
  g->model_ran = g_array_new (FALSE, FALSE, sizeof (guint));
  g->real_ran = g_array_new (FALSE, FALSE, sizeof (guint));
  g->depth = parent != NULL ? parent->group->depth + 1 : 0;
  g->source_seq = ++sc->next_source;
  g->waiters = g_ptr_array_new ();
  g->nexts = g_ptr_array_new ();
  g_ptr_array_add (sc->groups, g);
  return g;
}

static MTask *
m_task_new (Scenario  *sc,
            MGroup    *g,
            ChildSpec *spec)
{
  MTask *t = g_new0 (MTask, 1);

  t->sc = sc;
  t->id = sc->tasks->len;
  g_snprintf (t->name, sizeof t->name, "m%u", t->id);
  t->group = g;
  t->spec = spec;
  t->deadline = -1;
  g_mutex_init (&t->gate.lock);
  g_cond_init (&t->gate.cond);
  g_ptr_array_add (sc->tasks, t);
  return t;
}

/* Spare tasks (R28): every task the group makes takes one if it has
 * one; a reported task nothing but the group holds is kept as one. */
static void
m_take_spare (MGroup *g)
{
  if (g->spares > 0)
    g->spares--;
}

static void
m_keep_spare (MGroup *g)
{
  if (g->spares < MAX_SPARES)
    g->spares++;
}

/* Whether anything but its group holds @t's task when it is released:
 * the driver holds every handle (a start child's too, which only goes to
 * a group with a task-finished handler), a soon child's once it came by
 * it; the group holds its winner. */
static gboolean
m_seen (MTask *t)
{
  return !t->spec->soon || t->held || t->group->winner == t;
}

/* R4 */
static MTask *
m_spawn (MGroup    *g,
         ChildSpec *spec,
         gboolean   is_start)
{
  MTask *t = m_task_new (g->sc, g, spec);

  t->is_start = is_start;
  if (g->state == NURSERY_GROUP_CLOSED)
    {
      t->refused = TRUE;
      if (is_start)
        {
          t->starter = ST_ERROR;
          t->starter_error = merror_new (NURSERY_ERROR, NURSERY_ERROR_CLOSED, NULL);
        }
      /* Its destroy notify ran at once. */
      if (spec->hook == H_CONNECT_DESTROY)
        g->handler = TRUE;
      return t;
    }
  /* A soon child is a task at once while the list exists or the group
   * has a spare task (nursery-group-soon.c). */
  if (spec->soon && !g->listing && g->spares == 0)
    t->record = TRUE;
  else
    {
      totals.soon_as_tasks += spec->soon;
      m_take_spare (g);
    }
  g->n_spawned++;
  t->state = MT_PENDING;
  t->starter = is_start ? ST_PENDING : ST_NONE;
  g->start_refs += is_start;
  g_ptr_array_add (g->tasks, t);
  g_queue_push_tail (&g->pending, t);
  t->in_pending = TRUE;
  g->n_pending++;
  t->shielded = spec->shielded;
  m_schedule (g);
  return t;
}

static gboolean
m_is_unfinished (MTask *t)
{
  return !t->refused && t->state <= MT_RETURNED;
}

static void
m_return (MTask  *t,
          MError *error,
          gint64  value)
{
  g_assert (t->state == MT_RUNNING);
  t->state = MT_RETURNED;
  t->cancelled_at_return = t->cancelled;
  t->timed_out_at_return = t->timed_out;
  t->error = error;
  t->has_value = error == NULL;
  t->value = value;
  g_queue_push_tail (&t->group->returned, t);
  m_schedule (t->group);
}

static void
m_planned_return (MTask *t)
{
  switch (t->spec->planned)
    {
    case P_VALUE:
      m_return (t, NULL, task_value (t));
      break;
    case P_ERROR:
      m_return (t, merror_new (MODEL_ERROR, t->id, t->name), 0);
      break;
    case P_CHECK:
      if (t->cancelled)
        m_return (t, merror_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL), 0);
      else
        m_return (t, NULL, task_value (t));
      break;
    case P_GIVE_UP:
      m_return (t, merror_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "gave up"), 0);
      break;
    }
}

static char *
cancel_fail_message (MTask *t)
{
  return g_strdup_printf ("%s failed while cancelled", t->name);
}

/* A running child's reaction to its cancellable (its handler). */
static void
m_react (MTask *t)
{
  g_autofree char *message = NULL;

  if (t->spec->behaviour == B_NESTED && t->nested != NULL && !t->nested->watchers_released)
    {
      /* R14: the nested group's handler on its parent's cancellable. */
      t->nested->parent_cancelled = TRUE;
      if (!t->nested->shielded)
        m_cancel_group (t->nested, C_PARENT);
      return;
    }
  if (t->state != MT_RUNNING)
    return;
  switch (t->spec->behaviour)
    {
    case B_PARK:
      /* A thread child wakes up and returns once the context is quiet
       * (see m_settle); an in-context one returns from the handler. */
      if (t->spec->in_thread)
        t->woken = TRUE;
      else
        m_return (t, merror_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL), 0);
      break;
    case B_CANCEL_FAIL:
      message = cancel_fail_message (t);
      m_return (t, merror_new (MODEL_ERROR, 1000 + t->id, message), 0);
      break;
    default:
      break;
    }
}

/* Marks a task cancelled; R5: a pending one is doomed at once. */
static gboolean
m_mark (MTask *t)
{
  if (t->cancelled)
    return FALSE;
  t->cancelled = TRUE;
  if (t->in_pending)
    {
      g_queue_remove (&t->group->pending, t);
      t->in_pending = FALSE;
      g_queue_push_tail (&t->group->doomed, t);
      t->in_doomed = TRUE;
      m_schedule (t->group);
    }
  return TRUE;
}

/* R12, R15: every unfinished, unshielded child, once. A record that
 * waits is left alone: it is cancelled when its turn comes (R5). One that
 * gave its success back is marked like a task (nursery-group-soon.c). */
static void
m_cancel_group (MGroup *g,
                Cause   cause)
{
  g_autoptr(GPtrArray) marked = g_ptr_array_new ();

  if (g->cause != C_NONE || g->state == NURSERY_GROUP_CLOSED || g->finalized)
    return;
  g->cause = cause;
  for (guint i = 0; i < g->tasks->len; i++)
    {
      MTask *t = g->tasks->pdata[i];

      if (t->record && t->in_pending)
        {
          totals.records_at_cancel++;
          totals.records_at_limit += !m_has_free_slot (g);
          totals.records_at_drop += cause == C_DROPPED;
        }
      if (m_is_unfinished (t) && (!t->record || t->given_back) && !t->shielded && m_mark (t))
        g_ptr_array_add (marked, t);
    }
  m_schedule (g);
  for (guint i = 0; i < marked->len; i++)
    m_react (marked->pdata[i]);
}

/* R13 */
static void
m_cancel_task (MTask *t)
{
  if (!m_is_unfinished (t))
    return;
  if (m_mark (t))
    m_react (t);
}

static void
m_started (MTask *t)
{
  g_assert (!t->started && t->starter == ST_PENDING);
  t->started = TRUE;
  g_ptr_array_add (t->group->started_queue, t);
  m_schedule (t->group);
}

static void m_dispose (MGroup *g);

/* The start GTask goes with its callback, and with it its hold on the group. */
static void
m_starter_done (MTask        *t,
                StarterState  state)
{
  MGroup *g = t->group;

  g_assert (t->starter == ST_PENDING);
  t->starter = state;
  g_assert (g->start_refs > 0);
  if (--g->start_refs == 0 && g->dropped && !g->disposed)
    g->dispose_due = TRUE;
}

static void
m_finish_unstarted (MTask *t)
{
  t->error = merror_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  t->state = MT_RETURNED;
  t->cancelled_at_return = t->cancelled;
  t->timed_out_at_return = t->timed_out;
}

static MError *
m_outcome (MGroup *g)
{
  if (g->winner != NULL)
    return NULL;
  if (g->errors->len > 0)
    return merror_copy (g->errors->pdata[0]);
  if (g->cause == C_DEADLINE)
    return merror_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, NULL);
  /* R7: the owner's own cancel is quiet. */
  if (g->cause != C_NONE && g->cause != C_EXPLICIT)
    return merror_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  return NULL;
}

static void
m_run_cleanups (MGroup *g)
{
  for (guint i = g->cleanups->len; i > 0; i--)
    g_array_append_val (g->model_ran, g_array_index (g->cleanups, guint, i - 1));
  g_array_set_size (g->cleanups, 0);
}

static void
m_finalize (MGroup *g)
{
  g->finalized = TRUE;
  if (g->errors->len > 0 && !g->errors_observed)
    g->sc->expect_unread_warning = TRUE;
}

/* R17: settles a returned task's outcome; R18: the start caller first. */
static void
m_report (MGroup *g,
          MTask  *t)
{
  Cause consequence = C_NONE;
  MTState outcome;
  gboolean ordinary, with_task = TRUE;

  /* A success given back to its record is made a task again only if its
   * report needs one: for task-finished, next_async() or a race
   * (reporting_needs_task(), asked per child). */
  if (t->given_back)
    {
      t->record = FALSE;
      with_task = g->policy == NURSERY_POLICY_RACE || g->tracking || g->handler;
      if (with_task)
        {
          m_take_spare (g);
          totals.remade++;
        }
    }

  if (t->error == NULL)
    outcome = MT_SUCCEEDED;
  else if (!t->cancelled_at_return || !merror_is_cancelled (t->error))
    outcome = MT_FAILED;
  else if (!t->timed_out_at_return)
    outcome = MT_CANCELLED;
  else
    {
      merror_free (t->error);
      t->error = merror_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, NULL);
      outcome = MT_FAILED;
    }
  t->state = outcome;
  t->deadline_due = FALSE;

  ordinary = t->started || t->starter != ST_PENDING;
  if (ordinary)
    {
      if (t->starter == ST_PENDING)
        m_starter_done (t, ST_OK);
      /* Ordinary children are handed to next_async() in completion order. */
      if (g->tracking)
        g_queue_push_tail (&g->completed, t);
      g->n_finished++;
      g->n_succeeded += outcome == MT_SUCCEEDED;
      g->n_cancelled += outcome == MT_CANCELLED;
      if (outcome == MT_FAILED)
        {
          g->n_failed++;
          g_ptr_array_add (g->errors, merror_copy (t->error));
          g_ptr_array_add (g->error_names, t->name);
          if (g->policy == NURSERY_POLICY_FAIL_FAST)
            consequence = C_FAILURE;
        }
      else if (outcome == MT_SUCCEEDED && g->policy == NURSERY_POLICY_RACE && g->winner == NULL)
        {
          g->winner = t;
          consequence = C_RACE_WON;
        }
    }
  else
    {
      g->n_finished++;
      m_starter_done (t, ST_ERROR);
      t->starter_error = outcome == MT_SUCCEEDED ?
        merror_new (NURSERY_ERROR, NURSERY_ERROR_NOT_STARTED, NULL) : merror_copy (t->error);
    }

  /* R21: task-finished (whose handler keeps the task), then the destroy
   * notify, which may connect a handler for the next ones. */
  if (with_task && g->handler)
    {
      t->signalled = TRUE;
      t->held = TRUE;
      g_array_append_val (g->signals, t->id);
    }
  if (!t->spec->no_destroy)
    g_array_append_val (g->sc->destroys, t->id);
  if (t->spec->hook == H_CONNECT_DESTROY)
    g->handler = TRUE;
  if (consequence != C_NONE)
    m_cancel_group (g, consequence);
  /* The group lets the task go, or keeps it as a spare; next_async()
   * keeps an ordinary child's. */
  if (with_task && !(ordinary && g->tracking) && !m_seen (t))
    m_keep_spare (g);
}

static void
m_maybe_close (MGroup *g)
{
  MError *outcome;

  if (g->state != NURSERY_GROUP_JOINING)
    return;
  for (guint i = 0; i < g->tasks->len; i++)
    if (m_is_unfinished (g->tasks->pdata[i]))
      return;

  m_run_cleanups (g);
  g->state = NURSERY_GROUP_CLOSED;
  g->watchers_released = TRUE;
  g->deadline_due = FALSE;
  outcome = m_outcome (g);
  for (guint i = 0; i < g->waiters->len; i++)
    {
      MWaiter *w = g->waiters->pdata[i];

      if (!w->done)
        {
          w->done = TRUE;
          w->result = merror_copy (outcome);
          g->errors_observed = TRUE;
        }
    }

  /* The nested group's parent returns its result from the wait callback. */
  if (g->parent != NULL)
    m_return (g->parent, merror_copy (outcome), g->n_finished);
  merror_free (outcome);

  if (g->disposed)
    m_finalize (g);
}

/* next_async() callers, oldest first: a cancelled one hears CANCELLED,
 * then each gets the next finished task, or NULL once the group is closed
 * and every finished task was handed out. */
static void
m_serve_next (MGroup *g)
{
  for (guint i = 0; i < g->nexts->len; i++)
    {
      MNext *n = g->nexts->pdata[i];

      if (n->done)
        continue;
      if (n->cancelled)
        n->result_cancelled = TRUE;
      else if (g->completed.length > 0)
        n->result = g_queue_pop_head (&g->completed);
      else if (g->state != NURSERY_GROUP_CLOSED)
        break;
      n->done = TRUE;
    }
}

static void
m_next (MGroup *g,
        MNext  *n)
{
  g_ptr_array_add (g->nexts, n);
  g->tracking = TRUE;
  if (g->state == NURSERY_GROUP_OPEN)
    g->state = NURSERY_GROUP_JOINING;
  m_schedule (g);
}

static gboolean
m_has_free_slot (MGroup *g)
{
  return g->limit == 0 || g->n_running < g->limit;
}

/* One dispatch of the group's source. */
static void
m_batch (MGroup *g)
{
  GQueue starting = G_QUEUE_INIT, doomed_now = G_QUEUE_INIT, doomed;
  g_autoptr(GPtrArray) started = g_steal_pointer (&g->started_queue);
  GQueue returned;
  MTask *t;

  /* deliver started() */
  g->started_queue = g_ptr_array_new ();
  for (guint i = 0; i < started->len; i++)
    {
      t = started->pdata[i];
      if (t->starter == ST_PENDING)
        m_starter_done (t, ST_OK);
    }

  /* finish the doomed: those doomed when the batch began (the ones a
   * report in this batch dooms wait for the next one) */
  doomed = g->doomed;
  g_queue_init (&g->doomed);
  while ((t = g_queue_pop_head (&doomed)) != NULL)
    {
      t->in_doomed = FALSE;
      g->n_pending--;
      m_finish_unstarted (t);
      m_report (g, t);
    }

  /* start the startable, in spawn order (R1, R5, R19); in a cancelled
   * group the records behind a shielded task that waits for a slot are
   * doomed all the same */
  for (GList *l = g->pending.head, *next; l != NULL; l = next)
    {
      gboolean cancelled;

      next = l->next;
      t = l->data;
      cancelled = g->cause != C_NONE && (t->record || !t->shielded);
      if (!cancelled && !m_has_free_slot (g))
        {
          if (g->cause != C_NONE)
            continue;
          break;
        }
      g_queue_delete_link (&g->pending, l);
      t->in_pending = FALSE;
      g->n_pending--;
      if (cancelled)
        {
          m_mark (t);
          g_queue_push_tail (&doomed_now, t);
        }
      else
        {
          g->n_running++;
          g_queue_push_tail (&starting, t);
        }
    }
  /* A record's task is made as the batch pops it (a spare one if the
   * group has one), and cancelled then if the group is (R5). */
  while ((t = g_queue_pop_head (&doomed_now)) != NULL)
    {
      if (t->record)
        {
          m_take_spare (g);
          t->record = FALSE;
          totals.records_doomed++;
        }
      m_finish_unstarted (t);
      m_report (g, t);
    }
  while ((t = g_queue_pop_head (&starting)) != NULL)
    {
      gboolean was_record = t->record;

      if (was_record)
        {
          m_take_spare (g);
          t->record = FALSE;
          if (g->cause != C_NONE)
            m_mark (t);
        }
      if (t->cancelled)
        {
          g->n_running--;
          m_finish_unstarted (t);
          m_report (g, t);
          continue;
        }
      m_run (t);
      /* R28: a success within its function, its task seen by nothing
       * but the group (not kept by the child, not in a list its own
       * function made), goes back to the record, and the task is kept
       * for the next child. */
      if (was_record && t->spec->behaviour == B_IMMEDIATE && t->state == MT_RETURNED &&
          t->error == NULL && !t->cancelled && !t->held && !g->listing)
        {
          t->record = TRUE;
          t->given_back = TRUE;
          totals.given_back++;
          m_keep_spare (g);
        }
    }

  /* report the returned, in completion order */
  returned = g->returned;
  g_queue_init (&g->returned);
  while ((t = g_queue_pop_head (&returned)) != NULL)
    {
      g->n_running--;
      m_report (g, t);
    }

  m_maybe_close (g);
  m_serve_next (g);
  if (g->pending.length > 0 && m_has_free_slot (g))
    m_schedule (g);

  /* The dispatch's own reference goes last. */
  if (g->dispose_due)
    {
      g->dispose_due = FALSE;
      m_dispose (g);
    }
}

/* R20: the last reference went. */
static void
m_dispose (MGroup *g)
{
  gboolean unfinished = FALSE;

  g->disposed = TRUE;
  for (guint i = 0; i < g->tasks->len; i++)
    unfinished |= m_is_unfinished (g->tasks->pdata[i]);
  if (unfinished)
    {
      /* Cancelled, kept alive until its children finish. */
      if (g->state == NURSERY_GROUP_OPEN)
        g->state = NURSERY_GROUP_JOINING;
      m_cancel_group (g, C_DROPPED);
      m_schedule (g);
    }
  else
    {
      g->watchers_released = TRUE;
      m_run_cleanups (g);
      m_finalize (g);
    }
}

static void
m_wait (MGroup  *g,
        MWaiter *w)
{
  g_ptr_array_add (g->waiters, w);
  if (g->state == NURSERY_GROUP_CLOSED)
    {
      w->done = TRUE;
      w->result = m_outcome (g);
      g->errors_observed = TRUE;
      return;
    }
  if (g->state == NURSERY_GROUP_OPEN)
    g->state = NURSERY_GROUP_JOINING;
  m_schedule (g);
}

static void m_nested_start (MTask *t);

static void
m_list (MGroup *g)
{
  if (g->listing)
    return;
  g->listing = TRUE;
  /* R27: every record that has not run becomes a task, in spawn order
   * (one the batch holds too); one that gave its success back is about
   * to be reported and stays out. A new task of a cancelled group is
   * cancelled: a waiting one is doomed at once (R5). */
  for (guint i = 0; i < g->tasks->len; i++)
    {
      MTask *t = g->tasks->pdata[i];

      if (!t->record || t->given_back)
        continue;
      m_take_spare (g);
      t->record = FALSE;
      if (g->cause != C_NONE)
        m_mark (t);
    }
}

/* R1, R2: the child's function runs. */
static void
m_run (MTask *t)
{
  t->state = MT_RUNNING;
  t->ran = TRUE;
  if (t->spec->in_thread)
    return;   /* parks at its gate */
  g_array_append_val (t->sc->runs, t->id);
  switch (t->spec->hook)
    {
    case H_CONNECT:
      t->group->handler = TRUE;
      break;
    case H_LIST:
      m_list (t->group);
      break;
    case H_CANCEL:
      m_cancel_group (t->group, C_EXPLICIT);
      break;
    default:
      break;
    }
  if (keeps_task (t->spec))
    t->held = TRUE;
  if (t->spec->handshake == HS_AT_START)
    m_started (t);
  if (t->spec->behaviour == B_IMMEDIATE)
    m_planned_return (t);
  else if (t->spec->behaviour == B_NESTED)
    m_nested_start (t);
}

static void
m_nested_start (MTask *t)
{
  MGroup *h = m_group_new (t->sc, t, t->spec->nested);
  MWaiter *w = g_new0 (MWaiter, 1);

  t->nested = h;
  h->shielded = h->spec->shielded;
  for (guint i = 0; i < h->spec->children->len; i++)
    g_ptr_array_add (h->initial, m_spawn (h, h->spec->children->pdata[i], FALSE));
  /* The parent's waiter: not checked as a waiter, it is the parent's return. */
  w->group = h;
  w->id = G_MAXUINT;
  m_wait (h, w);
}

/* Runs the model the way GLib runs the owner context: each iteration
 * dispatches the sources that were ready when it began, in the order they
 * were attached (all at the default priority); what they make ready runs
 * on the next iteration. Once nothing is ready, the woken thread children
 * return one at a time (the driver does the same on the real side). */
typedef struct
{
  guint   seq;
  MGroup *group;      /* a batch, or with deadline: the group's deadline */
  MTask  *task;       /* a task's deadline */
  gboolean deadline;
} Ready;

static gint
ready_compare (gconstpointer a,
               gconstpointer b)
{
  const Ready *ra = a, *rb = b;

  return ra->seq < rb->seq ? -1 : ra->seq > rb->seq;
}

static void
m_settle (Scenario *sc)
{
  g_autoptr(GArray) ready = g_array_new (FALSE, FALSE, sizeof (Ready));

  for (;;)
    {
      MTask *woken = NULL;

      g_array_set_size (ready, 0);
      for (guint i = 0; i < sc->groups->len; i++)
        {
          MGroup *g = sc->groups->pdata[i];

          if (g->finalized)
            continue;
          if (g->scheduled)
            g_array_append_vals (ready, &(Ready) { g->source_seq, g, NULL, FALSE }, 1);
          if (g->deadline_due)
            g_array_append_vals (ready, &(Ready) { g->deadline_seq, g, NULL, TRUE }, 1);
        }
      for (guint i = 0; i < sc->tasks->len; i++)
        {
          MTask *t = sc->tasks->pdata[i];

          if (t->deadline_due)
            g_array_append_vals (ready, &(Ready) { t->deadline_seq, NULL, t, TRUE }, 1);
        }

      if (ready->len == 0)
        {
          for (guint i = 0; i < sc->tasks->len && woken == NULL; i++)
            if (((MTask *) sc->tasks->pdata[i])->woken)
              woken = sc->tasks->pdata[i];
          if (woken == NULL)
            break;
          woken->woken = FALSE;
          m_return (woken, merror_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL), 0);
          continue;
        }

      g_array_sort (ready, ready_compare);
      for (guint i = 0; i < ready->len; i++)
        {
          Ready *r = &g_array_index (ready, Ready, i);

          if (r->task != NULL)
            {
              /* Destroyed when the task was reported. */
              if (!r->task->deadline_due)
                continue;
              r->task->deadline_due = FALSE;
              /* R17: a deadline passing after the return changes nothing. */
              if (r->task->state == MT_RETURNED)
                continue;
              r->task->timed_out = TRUE;
              m_cancel_task (r->task);
            }
          else if (r->deadline)
            {
              /* Destroyed when the group closed. */
              if (!r->group->deadline_due)
                continue;
              r->group->deadline_due = FALSE;
              m_cancel_group (r->group, C_DEADLINE);
            }
          else if (!r->group->finalized)
            {
              r->group->scheduled = FALSE;
              m_batch (r->group);
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* The real side                                                      */
/* ------------------------------------------------------------------ */

static void
assert_owner (Scenario *sc)
{
  g_assert_true (g_thread_self () == sc->owner);
}

static void real_connect_group (MGroup *g, NurseryGroup *group);

static void
task_destroy (gpointer data)
{
  MTask *t = data;

  assert_owner (t->sc);
  t->real_destroyed++;
  if (!t->refused)
    g_array_append_val (t->sc->real_destroys, t->id);
  if (t->spec->hook == H_CONNECT_DESTROY)
    real_connect_group (t->group, t->group->alive);
}

/* The driver comes by a soon child's task: it keeps it (and the model
 * knows, as it decides whether the group keeps the task as a spare). */
static void
acquire_task (MTask       *t,
              NurseryTask *task)
{
  g_assert_true (t->spec->soon && t->task == NULL);
  t->task = g_object_ref (task);
  t->held = TRUE;
  rel_track (&t->sc->live, task);
}

static void
real_planned_return (MTask       *t,
                     NurseryTask *task)
{
  t->real_returned = TRUE;
  switch (t->spec->planned)
    {
    case P_VALUE:
      nursery_task_return_int (task, task_value (t));
      break;
    case P_ERROR:
      nursery_task_return_new_error (task, MODEL_ERROR, t->id, "%s", t->name);
      break;
    case P_CHECK:
      if (!nursery_task_return_error_if_cancelled (task))
        nursery_task_return_int (task, task_value (t));
      break;
    case P_GIVE_UP:
      nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "gave up");
      break;
    }
}

static void
gate_woken_cb (GCancellable *cancellable,
               gpointer      data)
{
  MTask *t = data;

  /* It stays parked until the driver says go: thread children return one
   * at a time, at quiet points, so every run is the same. */
  g_mutex_lock (&t->gate.lock);
  t->gate.woken = TRUE;
  g_cond_broadcast (&t->gate.cond);
  g_mutex_unlock (&t->gate.lock);
}

static void
thread_body (NurseryTask *task,
             gpointer     data)
{
  MTask *t = data;
  GCancellable *cancellable = NULL;
  gulong handler = 0;
  gboolean released;

  g_assert_true (g_thread_self () != t->sc->owner);
  g_atomic_int_set (&t->real_ran, 1);
  if (t->spec->behaviour == B_PARK)
    {
      cancellable = nursery_task_get_cancellable (task);
      handler = g_cancellable_connect (cancellable, G_CALLBACK (gate_woken_cb), t, NULL);
    }

  g_mutex_lock (&t->gate.lock);
  while (!t->gate.released && !(t->gate.woken && t->gate.go))
    {
      t->gate.parked = TRUE;
      g_main_context_wakeup (t->sc->context);
      g_cond_wait (&t->gate.cond, &t->gate.lock);
    }
  released = t->gate.released;
  t->gate.parked = FALSE;
  g_mutex_unlock (&t->gate.lock);

  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
  if (released)
    real_planned_return (t, task);
  else
    g_assert_true (nursery_task_return_error_if_cancelled (task));
}

static void
ctx_cancelled_cb (GCancellable *cancellable,
                  gpointer      data)
{
  MTask *t = data;

  assert_owner (t->sc);
  if (t->real_returned)
    return;
  t->real_returned = TRUE;
  if (t->spec->behaviour == B_PARK)
    g_assert_true (nursery_task_return_error_if_cancelled (t->task));
  else
    nursery_task_return_new_error (t->task, MODEL_ERROR, 1000 + t->id, "%s failed while cancelled", t->name);
}

static void real_spawn (MTask *t);

static void
nested_wait_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  MTask *t = data;
  GError *error = NULL;

  assert_owner (t->sc);
  t->real_returned = TRUE;
  if (nursery_group_wait_finish (NURSERY_GROUP (source), result, &error))
    nursery_task_return_int (t->task, nursery_group_get_n_finished (NURSERY_GROUP (source)));
  else
    nursery_task_return_error (t->task, error);
}

static void
ctx_body (NurseryTask *task,
          gpointer     data)
{
  MTask *t = data;
  MGroup *h;

  assert_owner (t->sc);
  g_atomic_int_set (&t->real_ran, 1);
  g_array_append_val (t->sc->real_runs, t->id);
  /* A start child: its handle, at last. */
  if (t->task == NULL && t->is_start)
    t->task = g_object_ref (task);
  else if (t->task == NULL && keeps_task (t->spec))
    acquire_task (t, task);
  g_assert_true (t->task == NULL || t->task == task);

  switch (t->spec->hook)
    {
    case H_CONNECT:
      real_connect_group (t->group, nursery_task_get_group (task));
      break;
    case H_LIST:
      if (t->group->list == NULL)
        t->group->list = nursery_group_list_tasks (nursery_task_get_group (task));
      break;
    case H_CANCEL:
      nursery_group_cancel (nursery_task_get_group (task));
      break;
    default:
      break;
    }

  if (t->spec->handshake == HS_AT_START)
    {
      GValue value = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_UINT);
      g_value_set_uint (&value, t->id);
      nursery_task_started (task, &value);
      g_value_unset (&value);
    }

  switch (t->spec->behaviour)
    {
    case B_IMMEDIATE:
      real_planned_return (t, task);
      break;
    case B_PARK:
    case B_CANCEL_FAIL:
      g_cancellable_connect (nursery_task_get_cancellable (task), G_CALLBACK (ctx_cancelled_cb), t, NULL);
      break;
    case B_STUBBORN:
      break;
    case B_NESTED:
      /* The model ran ahead: it knows the nested group and its children. */
      h = t->nested;
      g_assert_nonnull (h);
      h->group = nursery_group_new_for_task (task);
      rel_track (&t->sc->live, h->group);
      nursery_group_set_policy (h->group, h->spec->policy);
      nursery_group_set_max_concurrent (h->group, h->spec->limit);
      if (h->spec->shielded)
        nursery_group_set_shielded (h->group, TRUE);
      h->alive = h->group;
      if (h->spec->handler)
        real_connect_group (h, h->group);
      for (guint i = 0; i < h->initial->len; i++)
        real_spawn (h->initial->pdata[i]);
      nursery_group_wait_async (h->group, NULL, nested_wait_cb, t);
      break;
    }
}

static MTask *
task_by_name (Scenario    *sc,
              NurseryTask *task)
{
  const char *name = nursery_task_get_name (task);
  guint64 id;

  g_assert_true (name != NULL && name[0] == 'm');
  g_assert_true (g_ascii_string_to_unsigned (name + 1, 10, 0, sc->tasks->len - 1, &id, NULL));
  return sc->tasks->pdata[id];
}

/* The task as it is emitted has its outcome (R3, R21): for a soon child
 * given back, the one its record kept. The model ran ahead: it knows. */
static void
task_finished_cb (NurseryGroup *group,
                  NurseryTask  *task,
                  gpointer      data)
{
  MGroup *g = data;
  MTask *t = task_by_name (g->sc, task);
  Scenario *sc = g->sc;
  NurseryTaskState state = nursery_task_get_state (task);

  assert_owner (sc);
  g_assert_true (t->group == g);
  if (t->task == NULL && t->spec->soon)
    acquire_task (t, task);
  else if (t->task == NULL)
    t->task = g_object_ref (task);
  CHECK (sc, t->task == task, "%s: task-finished gave another task", t->name);
  t->real_finished_signals++;
  g_array_append_val (g->real_signals, t->id);

  CHECK (sc, t->state >= MT_SUCCEEDED && state == mt_real_state[t->state],
         "%s: task-finished with state %d, model %s", t->name, state, mt_state_name (t->state));
  if (t->state == MT_SUCCEEDED)
    CHECK (sc, nursery_task_get_value (task) != NULL && nursery_task_get_int (task) == t->value,
           "%s: task-finished without its value", t->name);
  else
    {
      char what[64];

      g_snprintf (what, sizeof what, "%s's error at task-finished", t->name);
      check_error (sc, what, t->error, nursery_task_get_error (task));
    }
}

/* Once per group: the model says when, the real side follows. */
static void
real_connect_group (MGroup       *g,
                    NurseryGroup *group)
{
  if (g->real_handler)
    return;
  g->real_handler = TRUE;
  g_signal_connect (group, "task-finished", G_CALLBACK (task_finished_cb), g);
}

/* A keyed soon child's runner, one per child: its destroy notify is the
 * child's, as the last reference to it goes with the child's key. */
static void
keyed_run (NurseryTask *task,
           gsize        key,
           gpointer     data)
{
  MTask *t = data;

  assert_owner (t->sc);
  g_assert_cmpuint (key, ==, t->id);
  if (task != NULL)
    ctx_body (task, t);
  else
    t->real_keyed_dropped++;
}

static void
real_start_soon (MTask *t)
{
  NurseryGroup *group = t->group->group;
  GError *error = NULL;
  gboolean added;

  if (t->spec->keyed)
    {
      NurseryRunner *runner = nursery_runner_new (keyed_run, t, task_destroy);

      added = nursery_group_start_soon_keyed (group, t->name, runner, t->id, &error);
      g_object_unref (runner);
    }
  else
    added = nursery_group_start_soon (group, t->name, ctx_body, t,
                                      t->spec->no_destroy ? NULL : task_destroy, &error);

  if (t->refused)
    {
      /* R4: refused with CLOSED, and the user data freed at once. */
      CHECK (t->sc, !added, "%s: start_soon into a closed group succeeded", t->name);
      CHECK (t->sc, g_error_matches (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED),
             "%s: start_soon into a closed group: %s", t->name, error ? error->message : "no error");
      CHECK (t->sc, t->real_destroyed == (t->spec->no_destroy ? 0u : 1u),
             "%s: refused start_soon did not free its data", t->name);
      CHECK (t->sc, t->real_keyed_dropped == (t->spec->keyed ? 1u : 0u),
             "%s: refused, its runner heard %u times", t->name, t->real_keyed_dropped);
      g_clear_error (&error);
      return;
    }
  g_assert_no_error (error);
  g_assert_true (added);
}

static void
real_spawn (MTask *t)
{
  NurseryGroup *group = t->group->group;
  GError *error = NULL;
  NurseryTask *task;

  if (t->spec->soon)
    {
      real_start_soon (t);
      return;
    }
  if (t->spec->in_thread)
    task = nursery_group_spawn_in_thread (group, t->name, thread_body, t, task_destroy, &error);
  else
    task = nursery_group_spawn (group, t->name, ctx_body, t, task_destroy, &error);

  if (t->refused)
    {
      /* R4: refused with CLOSED, and the user data freed at once. */
      CHECK (t->sc, task == NULL, "%s: spawn into a closed group returned a task", t->name);
      CHECK (t->sc, g_error_matches (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED),
             "%s: spawn into a closed group: %s", t->name, error ? error->message : "no error");
      CHECK (t->sc, t->real_destroyed == 1, "%s: refused spawn did not free its data", t->name);
      g_clear_error (&error);
      return;
    }
  g_assert_no_error (error);
  g_assert_nonnull (task);
  t->task = task;
  rel_track (&t->sc->live, task);
  if (t->spec->shielded)
    nursery_task_set_shielded (task, TRUE);
}

static void
start_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  MTask *t = data;
  GValue value = G_VALUE_INIT;
  NurseryTask *task;

  assert_owner (t->sc);
  t->real_start_callbacks++;
  task = nursery_group_start_finish (NURSERY_GROUP (source), result, &value, &t->real_start_error);
  if (task != NULL)
    {
      CHECK (t->sc, t->task == NULL || t->task == task, "%s: start gave another task", t->name);
      if (t->task == NULL)
        t->task = g_object_ref (task);
      CHECK (t->sc, G_VALUE_HOLDS_UINT (&value) && g_value_get_uint (&value) == t->id,
             "%s: started value lost", t->name);
      g_value_unset (&value);
      g_object_unref (task);
    }
}

static void
real_start (MTask *t)
{
  guint destroyed = t->real_destroyed;

  t->starter_cancellable = g_cancellable_new ();
  nursery_group_start_async (t->group->group, t->name, ctx_body, t, task_destroy,
                             t->starter_cancellable, start_cb, t);
  if (t->refused)
    CHECK (t->sc, t->real_destroyed == destroyed + 1, "%s: refused start did not free its data", t->name);
}

static void
waiter_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  MWaiter *w = data;

  assert_owner (w->group->sc);
  w->real_calls++;
  g_clear_error (&w->real_error);
  w->real_ok = nursery_group_wait_finish (NURSERY_GROUP (source), result, &w->real_error);
}

static void
next_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  MNext *n = data;

  assert_owner (n->group->sc);
  n->real_calls++;
  g_clear_object (&n->real_task);
  g_clear_error (&n->real_error);
  n->real_task = nursery_group_next_finish (NURSERY_GROUP (source), result, &n->real_error);
}

typedef struct
{
  Scenario *sc;
  MGroup   *group;
  guint     id;
} CleanupData;

static void
cleanup_cb (NurseryGroup *group,
            gpointer      data)
{
  CleanupData *cd = data;

  assert_owner (cd->sc);
  /* R22: once every child has finished, before the waiters complete. */
  CHECK (cd->sc, nursery_group_get_n_running (group) == 0 && nursery_group_get_n_pending (group) == 0,
         "cleanup %u ran with children left", cd->id);
  for (guint i = 0; i < cd->group->waiters->len; i++)
    CHECK (cd->sc, ((MWaiter *) cd->group->waiters->pdata[i])->real_calls == 0,
           "cleanup %u ran after a waiter completed", cd->id);
  g_array_append_val (cd->group->real_ran, cd->id);
}

/* Runs the owner context until it is quiescent: no source ready and every
 * running thread child parked at its gate. */
static gboolean
real_quiescent (Scenario *sc)
{
  for (guint i = 0; i < sc->tasks->len; i++)
    {
      MTask *t = sc->tasks->pdata[i];
      gboolean parked;

      if (!t->spec->in_thread || t->task == NULL ||
          nursery_task_get_state (t->task) != NURSERY_TASK_RUNNING)
        continue;
      g_mutex_lock (&t->gate.lock);
      parked = t->gate.parked;
      g_mutex_unlock (&t->gate.lock);
      if (!parked)
        return FALSE;
    }
  return TRUE;
}

/* The woken thread child with the lowest id, if any, may return. */
static gboolean
real_let_one_go (Scenario *sc)
{
  for (guint i = 0; i < sc->tasks->len; i++)
    {
      MTask *t = sc->tasks->pdata[i];
      gboolean go = FALSE;

      if (!t->spec->in_thread || t->refused)
        continue;
      g_mutex_lock (&t->gate.lock);
      if (t->gate.woken && !t->gate.go && t->gate.parked)
        {
          t->gate.go = TRUE;
          t->gate.parked = FALSE;
          g_cond_broadcast (&t->gate.cond);
          go = TRUE;
        }
      g_mutex_unlock (&t->gate.lock);
      if (go)
        return TRUE;
    }
  return FALSE;
}

static void
real_settle (Scenario *sc)
{
  for (;;)
    {
      if (g_main_context_iteration (sc->context, FALSE))
        continue;
      if (!real_quiescent (sc))
        g_main_context_iteration (sc->context, TRUE);
      else if (!real_let_one_go (sc))
        break;
    }
}

/* ------------------------------------------------------------------ */
/* Comparing                                                          */
/* ------------------------------------------------------------------ */

static void
compare_task (MTask *t)
{
  Scenario *sc = t->sc;
  gboolean finished = !t->refused && t->state >= MT_SUCCEEDED;
  guint has_destroy = t->spec->no_destroy ? 0 : 1;
  NurseryTaskState state;

  if (t->refused)
    {
      CHECK (sc, t->real_destroyed == has_destroy, "%s: refused, destroyed %u times", t->name,
             t->real_destroyed);
      if (t->is_start)
        {
          CHECK (sc, t->real_start_callbacks == 1, "%s: refused start called back %u times",
                 t->name, t->real_start_callbacks);
          check_error (sc, "refused start", t->starter_error, t->real_start_error);
        }
      return;
    }

  CHECK (sc, t->state != MT_RETURNED, "%s: the model did not settle", t->name);
  CHECK (sc, t->real_destroyed == (finished ? has_destroy : 0u),
         "%s: destroy notify ran %u times (model: %s)", t->name, t->real_destroyed, mt_state_name (t->state));
  CHECK (sc, t->real_finished_signals == (t->signalled ? 1u : 0u),
         "%s: task-finished emitted %u times (model: %s, %s)", t->name, t->real_finished_signals,
         mt_state_name (t->state), t->signalled ? "emitted" : "not emitted");
  CHECK (sc, !!g_atomic_int_get (&t->real_ran) == t->ran,
         "%s: function %s, the model says it %s (R5)", t->name,
         g_atomic_int_get (&t->real_ran) ? "ran" : "did not run", t->ran ? "must run" : "must not");
  /* A key that never runs reaches its runner once, without a task. */
  CHECK (sc, t->real_keyed_dropped == (t->spec->keyed && finished && !t->ran ? 1u : 0u),
         "%s: its runner heard %u times without a task", t->name, t->real_keyed_dropped);

  if (t->task == NULL)
    {
      CHECK (sc, t->spec->soon || (t->is_start && t->state == MT_PENDING),
             "%s: no handle, but the model says %s", t->name, mt_state_name (t->state));
      return;
    }

  state = nursery_task_get_state (t->task);
  CHECK (sc, state == mt_real_state[t->state], "%s (%s%s, %s): state %d, model %s", t->name,
         t->spec->in_thread ? "thread " : "", behaviour_names[t->spec->behaviour],
         planned_names[t->spec->planned], state, mt_state_name (t->state));
  /* R12, R13: "TRUE once the task was cancelled", whichever task object
   * the library hands out for the child. */
  CHECK (sc, nursery_task_is_cancelled (t->task) == t->cancelled,
         "%s: cancelled %d, model %d%s", t->name, nursery_task_is_cancelled (t->task), t->cancelled,
         t->given_back ? " (a soon child: its success went back to its record, its task was made again)" : "");
  CHECK (sc, nursery_task_get_shielded (t->task) == t->shielded, "%s: shielded differs", t->name);

  if (finished)
    {
      char what[64];

      g_snprintf (what, sizeof what, "%s's error", t->name);
      check_error (sc, what, t->state == MT_SUCCEEDED ? NULL : t->error, nursery_task_get_error (t->task));
      if (t->state == MT_SUCCEEDED)
        {
          const GValue *value = nursery_task_get_value (t->task);

          CHECK (sc, value != NULL, "%s: succeeded without its value", t->name);
          CHECK (sc, nursery_task_get_int (t->task) == t->value, "%s: value %" G_GINT64_FORMAT ", model %"
                 G_GINT64_FORMAT, t->name, nursery_task_get_int (t->task), t->value);
        }
    }

  if (t->is_start)
    {
      guint expected = t->starter == ST_OK || t->starter == ST_ERROR ? 1 : 0;
      char what[64];

      CHECK (sc, t->real_start_callbacks == expected, "%s: start callback ran %u times, model %u",
             t->name, t->real_start_callbacks, expected);
      g_snprintf (what, sizeof what, "%s's start", t->name);
      if (expected)
        check_error (sc, what, t->starter == ST_OK ? NULL : t->starter_error, t->real_start_error);
    }
}

static void
compare_group (MGroup *g)
{
  Scenario *sc = g->sc;
  NurseryGroup *group = g->group;

  for (guint i = 0; i < g->waiters->len; i++)
    {
      MWaiter *w = g->waiters->pdata[i];
      char what[64];

      if (w->id == G_MAXUINT)
        continue;
      CHECK (sc, w->real_calls == (w->done ? 1u : 0u), "waiter %u of g%u called %u times, model %s",
             w->id, g->id, w->real_calls, w->done ? "done" : "waiting");
      g_snprintf (what, sizeof what, "waiter %u of g%u", w->id, g->id);
      if (w->done)
        {
          check_error (sc, what, w->result, w->real_error);
          CHECK (sc, w->real_ok == (w->result == NULL), "%s: return value", what);
        }
    }

  for (guint i = 0; i < g->nexts->len; i++)
    {
      MNext *n = g->nexts->pdata[i];

      CHECK (sc, n->real_calls == (n->done ? 1u : 0u), "next %u of g%u called back %u times, model %s",
             n->id, g->id, n->real_calls, n->done ? "done" : "waiting");
      if (!n->done)
        continue;
      if (n->result_cancelled)
        CHECK (sc, g_error_matches (n->real_error, G_IO_ERROR, G_IO_ERROR_CANCELLED),
               "next %u of g%u: expected CANCELLED", n->id, g->id);
      else
        {
          CHECK (sc, n->real_error == NULL, "next %u of g%u failed: %s", n->id, g->id,
                 n->real_error ? n->real_error->message : "");
          CHECK (sc, (n->real_task == NULL) == (n->result == NULL) &&
                 (n->result == NULL || g_strcmp0 (nursery_task_get_name (n->real_task), n->result->name) == 0),
                 "next %u of g%u gave %s, model %s (completion order)", n->id, g->id,
                 n->real_task ? nursery_task_get_name (n->real_task) : "none",
                 n->result ? n->result->name : "none");
          /* R25: the task itself, made for a soon child if need be. */
          if (n->result != NULL && n->result->task == NULL && n->result->spec->soon)
            acquire_task (n->result, n->real_task);
          CHECK (sc, n->result == NULL || n->result->task == n->real_task,
                 "next %u of g%u: %s's task is another one", n->id, g->id, n->result->name);
        }
    }

  /* R21: task-finished in completion order, once per child. */
  CHECK (sc, g->real_signals->len == g->signals->len, "g%u: %u task-finished, model %u",
         g->id, g->real_signals->len, g->signals->len);
  for (guint i = 0; i < g->signals->len; i++)
    CHECK (sc, g_array_index (g->real_signals, guint, i) == g_array_index (g->signals, guint, i),
           "g%u: task-finished #%u for m%u, model m%u", g->id, i, g_array_index (g->real_signals, guint, i),
           g_array_index (g->signals, guint, i));

  if (group == NULL)
    return;   /* not created (its parent never ran), or dropped */

  if (g->list != NULL)
    {
      guint n_items = g_list_model_get_n_items (g->list), k = 0;

      for (guint i = 0; i < g->tasks->len; i++)
        {
          MTask *t = g->tasks->pdata[i];
          g_autoptr(NurseryTask) item = NULL;

          if (!m_is_unfinished (t))
            continue;
          CHECK (sc, k < n_items, "g%u: list_tasks lacks %s", g->id, t->name);
          item = g_list_model_get_item (g->list, k++);
          CHECK (sc, g_strcmp0 (nursery_task_get_name (item), t->name) == 0,
                 "g%u: list_tasks item %u is %s, model %s", g->id, k - 1, nursery_task_get_name (item), t->name);
          /* A soon child's task, from the list: the driver may act on it. */
          if (t->task == NULL && t->spec->soon)
            acquire_task (t, item);
          CHECK (sc, t->task == NULL || t->task == item, "g%u: list_tasks has another task for %s", g->id,
                 t->name);
        }
      CHECK (sc, k == n_items, "g%u: list_tasks has %u items, model %u", g->id, n_items, k);
    }

  CHECK (sc, (int) nursery_group_get_state (group) == (int) g->state, "g%u: state %d, model %d",
         g->id, nursery_group_get_state (group), g->state);
  CHECK (sc, nursery_group_is_cancelled (group) == (g->cause != C_NONE),
         "g%u: cancelled %d, model cause %d", g->id, nursery_group_is_cancelled (group), g->cause);
  CHECK (sc, nursery_group_get_n_running (group) == g->n_running, "g%u: n-running %u, model %u",
         g->id, nursery_group_get_n_running (group), g->n_running);
  CHECK (sc, nursery_group_get_n_pending (group) == g->n_pending, "g%u: n-pending %u, model %u",
         g->id, nursery_group_get_n_pending (group), g->n_pending);
  CHECK (sc, nursery_group_get_n_finished (group) == g->n_finished, "g%u: n-finished %u, model %u",
         g->id, nursery_group_get_n_finished (group), g->n_finished);
  CHECK (sc, nursery_group_get_n_failed (group) == g->n_failed, "g%u: n-failed %u, model %u",
         g->id, nursery_group_get_n_failed (group), g->n_failed);
  CHECK (sc, nursery_group_get_n_succeeded (group) == g->n_succeeded, "g%u: n-succeeded %u, model %u",
         g->id, nursery_group_get_n_succeeded (group), g->n_succeeded);
  CHECK (sc, nursery_group_get_n_cancelled (group) == g->n_cancelled, "g%u: n-cancelled %u, model %u",
         g->id, nursery_group_get_n_cancelled (group), g->n_cancelled);
  CHECK (sc, nursery_group_get_n_spawned (group) == g->n_spawned, "g%u: n-spawned %u, model %u",
         g->id, nursery_group_get_n_spawned (group), g->n_spawned);
  {
    NurseryTask *winner = nursery_group_get_winner (group);

    CHECK (sc, (winner == NULL) == (g->winner == NULL) &&
           (winner == NULL || g_strcmp0 (nursery_task_get_name (winner), g->winner->name) == 0),
           "g%u: winner %s, model %s", g->id, winner ? nursery_task_get_name (winner) : "none",
           g->winner ? g->winner->name : "none");
    /* R11: a soon winner's task, made for its report. */
    if (winner != NULL && g->winner->task == NULL && g->winner->spec->soon)
      acquire_task (g->winner, winner);
    CHECK (sc, winner == NULL || winner == g->winner->task, "g%u: the winner is another task", g->id);
  }
  CHECK (sc, nursery_group_get_max_concurrent (group) == g->limit, "g%u: limit differs", g->id);
  CHECK (sc, nursery_group_get_policy (group) == g->policy, "g%u: policy differs", g->id);
}

static void
compare_order (Scenario   *sc,
               const char *what,
               GArray     *model,
               GArray     *real)
{
  for (guint i = 0; i < MIN (model->len, real->len); i++)
    CHECK (sc, g_array_index (real, guint, i) == g_array_index (model, guint, i),
           "%s #%u: m%u, model m%u", what, i, g_array_index (real, guint, i), g_array_index (model, guint, i));
  CHECK (sc, model->len == real->len, "%u %s, model %u", real->len, what, model->len);
}

static void
compare_all (Scenario *sc)
{
  /* R1: spawn order, whatever the spawn function; completion order. */
  compare_order (sc, "in-context functions run", sc->runs, sc->real_runs);
  compare_order (sc, "destroy notifies", sc->destroys, sc->real_destroys);
  for (guint i = 0; i < sc->tasks->len; i++)
    compare_task (sc->tasks->pdata[i]);
  for (guint i = 0; i < sc->groups->len; i++)
    compare_group (sc->groups->pdata[i]);

  for (guint i = 0; i < sc->groups->len; i++)
    {
      MGroup *g = sc->groups->pdata[i];

      CHECK (sc, g->real_ran->len == g->model_ran->len, "g%u: %u cleanups ran, model %u",
             g->id, g->real_ran->len, g->model_ran->len);
      for (guint j = 0; j < g->real_ran->len; j++)
        CHECK (sc, g_array_index (g->real_ran, guint, j) == g_array_index (g->model_ran, guint, j),
               "g%u cleanup #%u: ran %u, model %u (R22: most recent first)", g->id, j,
               g_array_index (g->real_ran, guint, j), g_array_index (g->model_ran, guint, j));
    }
}

/* R8: every failure, in order. Reading them observes them. */
static void
compare_errors (MGroup *g)
{
  g_autoptr(GPtrArray) errors = NULL;
  g_auto(GStrv) names = NULL;

  if (g->group == NULL)
    return;
  errors = nursery_group_get_errors (g->group);
  names = nursery_group_get_failed_task_names (g->group);
  g->errors_observed = TRUE;
  CHECK (g->sc, errors->len == g->errors->len, "g%u: %u errors, model %u", g->id, errors->len, g->errors->len);
  CHECK (g->sc, g_strv_length (names) == g->errors->len, "g%u: %u failed task names, model %u", g->id,
         g_strv_length (names), g->errors->len);
  for (guint i = 0; i < errors->len; i++)
    {
      char what[64];

      g_snprintf (what, sizeof what, "g%u error #%u", g->id, i);
      check_error (g->sc, what, g->errors->pdata[i], errors->pdata[i]);
      /* R29: a soon child's failure names it, task or record. */
      CHECK (g->sc, g_strcmp0 (names[i], g->error_names->pdata[i]) == 0, "g%u failure #%u: task %s, model %s",
             g->id, i, names[i], (char *) g->error_names->pdata[i]);
    }
}

/* ------------------------------------------------------------------ */
/* Actions                                                            */
/* ------------------------------------------------------------------ */

typedef enum
{
  A_SPAWN, A_START, A_RELEASE, A_CANCEL_TASK, A_CANCEL_GROUP, A_LIMIT, A_SHIELD, A_POLICY,
  A_GROUP_DEADLINE, A_TASK_DEADLINE, A_STARTED, A_CANCEL_STARTER, A_CLEANUP, A_WAIT,
  A_CANCEL_WAITER, A_SHIELD_GROUP, A_NEXT, A_CANCEL_NEXT, A_LIST, A_CONNECT, A_DROP, N_ACTIONS
} ActionKind;

static const guint action_weights[N_ACTIONS] = {
  [A_SPAWN] = 14, [A_START] = 5, [A_RELEASE] = 30, [A_CANCEL_TASK] = 7, [A_CANCEL_GROUP] = 4,
  [A_LIMIT] = 4, [A_SHIELD] = 5, [A_POLICY] = 2, [A_GROUP_DEADLINE] = 3, [A_TASK_DEADLINE] = 4,
  [A_STARTED] = 5, [A_CANCEL_STARTER] = 3, [A_CLEANUP] = 3, [A_WAIT] = 2, [A_CANCEL_WAITER] = 2,
  [A_SHIELD_GROUP] = 3, [A_NEXT] = 4, [A_CANCEL_NEXT] = 2, [A_LIST] = 2, [A_CONNECT] = 2, [A_DROP] = 0,
};

/* Groups the driver may act on: created, and still held. */
static MGroup *
pick_group (Scenario *sc)
{
  g_autoptr(GPtrArray) live = g_ptr_array_new ();

  for (guint i = 0; i < sc->groups->len; i++)
    {
      MGroup *g = sc->groups->pdata[i];

      if (g->group != NULL || (g == sc->root && !g->dropped))
        g_ptr_array_add (live, g);
    }
  if (live->len == 0)
    return NULL;
  /* Mostly groups that still take children: closed ones only refuse. */
  for (guint tries = 0; tries < 3; tries++)
    {
      MGroup *g = live->pdata[g_rand_int_range (sc->rand, 0, live->len)];

      if (g->state != NURSERY_GROUP_CLOSED || tries == 2)
        return g;
    }
  g_assert_not_reached ();
}

typedef gboolean (*TaskFilter) (MTask *t);

static MTask *
pick_task (Scenario   *sc,
           TaskFilter  filter)
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new ();

  for (guint i = 0; i < sc->tasks->len; i++)
    {
      MTask *t = sc->tasks->pdata[i];

      if (!t->refused && t->task != NULL && filter (t))
        g_ptr_array_add (candidates, t);
    }
  if (candidates->len == 0)
    return NULL;
  return candidates->pdata[g_rand_int_range (sc->rand, 0, candidates->len)];
}

static gboolean
is_parked (MTask *t)
{
  return t->state == MT_RUNNING && t->spec->behaviour != B_IMMEDIATE && t->spec->behaviour != B_NESTED;
}

static gboolean
any_task (MTask *t)
{
  return TRUE;
}

static gboolean
is_unfinished (MTask *t)
{
  return m_is_unfinished (t);
}

static gboolean
wants_started (MTask *t)
{
  return t->is_start && t->spec->handshake == HS_LATER && t->state == MT_RUNNING &&
         !t->started && t->starter == ST_PENDING && t->spec->behaviour != B_IMMEDIATE;
}

static gboolean
has_starter (MTask *t)
{
  return t->is_start && t->starter_cancellable != NULL &&
         !g_cancellable_is_cancelled (t->starter_cancellable);
}

static void
release (Scenario *sc,
         MTask    *t)
{
  log_action (sc, "release %s (%s%s, %s%s)", t->name, t->spec->in_thread ? "thread " : "",
              behaviour_names[t->spec->behaviour], planned_names[t->spec->planned],
              t->cancelled ? ", cancelled" : "");
  m_planned_return (t);
  m_settle (sc);
  if (t->spec->in_thread)
    {
      g_mutex_lock (&t->gate.lock);
      t->gate.released = TRUE;
      t->gate.parked = FALSE;
      g_cond_broadcast (&t->gate.cond);
      g_mutex_unlock (&t->gate.lock);
    }
  else
    real_planned_return (t, t->task);
}

static gint64
deadline_value (Scenario    *sc,
                const char **name)
{
  switch (g_rand_int_range (sc->rand, 0, 3))
    {
    case 0:
      *name = "past";
      return PAST_DEADLINE;
    case 1:
      *name = "far";
      return FAR_DEADLINE;
    default:
      *name = "none";
      return -1;
    }
}

static void
add_waiter (Scenario *sc,
            MGroup   *g,
            gboolean  with_cancellable)
{
  MWaiter *w = g_new0 (MWaiter, 1);

  w->group = g;
  w->id = sc->next_waiter++;
  if (with_cancellable)
    w->cancellable = g_cancellable_new ();
  log_action (sc, "wait g%u (waiter %u%s)", g->id, w->id, with_cancellable ? ", with cancellable" : "");
  m_wait (g, w);
  m_settle (sc);
  nursery_group_wait_async (g->group, w->cancellable, waiter_cb, w);
}

/* R20: a dropped group finalized with failures nobody read warns. */
static void
arm_unread_warning (Scenario *sc)
{
  if (sc->expect_unread_warning && !sc->warning_armed)
    {
      totals.unread_warnings++;
      g_test_expect_message ("Nursery", G_LOG_LEVEL_WARNING, "*failure(s) nobody read*");
      sc->warning_armed = TRUE;
    }
}

/* How a child is spawned, for the log. */
static const char *
spawn_kind (const ChildSpec *spec)
{
  if (spec->in_thread)
    return "thread ";
  if (!spec->soon)
    return "";
  if (spec->keyed)
    return "soon keyed ";
  return spec->no_destroy ? "soon without destroy notify, " : "soon ";
}

static void log_nested_spec (Scenario *sc, ChildSpec *spec, guint level);

static void
log_spawn (Scenario *sc,
           MTask    *t)
{
  log_action (sc, "%s %s into g%u (%s%s, %s, handshake %d%s%s)%s%s", t->is_start ? "start" : "spawn",
              t->name, t->group->id, spawn_kind (t->spec), behaviour_names[t->spec->behaviour],
              planned_names[t->spec->planned], t->spec->handshake, t->spec->shielded ? ", shielded" : "",
              hook_names[t->spec->hook], t->record ? " — a record" : "",
              t->refused ? " — refused, closed" : "");
  log_nested_spec (sc, t->spec, 1);
}

static void
drop_root (Scenario *sc)
{
  MGroup *g = sc->root;
  MTask *t = NULL;

  /* Half the time a child is spawned right before, so that the drop
   * finds it waiting, a soon child's record among them (R5, R20). */
  if (g_rand_boolean (sc->rand) && sc->tasks->len < MAX_TASKS)
    {
      t = m_spawn (g, gen_child_spec (sc, 0, FALSE), FALSE);
      log_spawn (sc, t);
    }
  log_action (sc, "drop the driver's reference to g0%s",
              g->start_refs > 0 ? " (pending start_async() calls still hold it)" : "");
  g->dropped = TRUE;
  if (g->start_refs == 0)
    m_dispose (g);
  m_settle (sc);

  if (t != NULL)
    real_spawn (t);
  arm_unread_warning (sc);
  g_clear_object (&g->group);
}

static void
log_nested_spec (Scenario  *sc,
                 ChildSpec *spec,
                 guint      level)
{
  GroupSpec *nested = spec->nested;

  if (spec->behaviour != B_NESTED || nested == NULL)
    return;
  log_action (sc, "%*snested group: policy %d, limit %u%s%s", level * 4, "", nested->policy, nested->limit,
              nested->shielded ? ", shielded" : "", nested->handler ? "" : ", no task-finished handler");
  for (guint i = 0; i < nested->children->len; i++)
    {
      ChildSpec *c = nested->children->pdata[i];

      log_action (sc, "%*schild #%u: %s%s, %s%s%s", level * 4 + 2, "", i, spawn_kind (c),
                  behaviour_names[c->behaviour], planned_names[c->planned], c->shielded ? ", shielded" : "",
                  hook_names[c->hook]);
      log_nested_spec (sc, c, level + 1);
    }
}

/* Applies one random action to the model, then to the real library. */
static void
random_action (Scenario *sc)
{
  guint total = 0, pick;
  ActionKind kind;
  MGroup *g;
  MTask *t;
  const char *dname;
  gint64 deadline;

  for (guint i = 0; i < N_ACTIONS; i++)
    total += action_weights[i];
  pick = g_rand_int_range (sc->rand, 0, total);
  for (kind = 0; pick >= action_weights[kind]; kind++)
    pick -= action_weights[kind];

  switch (kind)
    {
    case A_SPAWN:
    case A_START:
      g = pick_group (sc);
      if (g == NULL || g->group == NULL || sc->tasks->len >= MAX_TASKS)
        return;
      /* Start handshakes go where task-finished keeps every task (see
       * the top of the file). */
      if (kind == A_START && !g->handler)
        kind = A_SPAWN;
      t = m_spawn (g, gen_child_spec (sc, g->depth, kind == A_START), kind == A_START);
      log_spawn (sc, t);
      m_settle (sc);
      if (kind == A_START)
        real_start (t);
      else
        real_spawn (t);
      return;

    case A_RELEASE:
      if ((t = pick_task (sc, is_parked)) != NULL)
        release (sc, t);
      return;

    case A_CANCEL_TASK:
      if ((t = pick_task (sc, any_task)) == NULL)
        return;
      log_action (sc, "cancel task %s", t->name);
      m_cancel_task (t);
      m_settle (sc);
      nursery_task_cancel (t->task);
      return;

    case A_CANCEL_GROUP:
      if ((g = pick_group (sc)) == NULL || g->group == NULL)
        return;
      log_action (sc, "cancel group g%u", g->id);
      m_cancel_group (g, C_EXPLICIT);
      m_settle (sc);
      nursery_group_cancel (g->group);
      return;

    case A_LIMIT:
      if ((g = pick_group (sc)) == NULL || g->group == NULL)
        return;
      g->limit = g_rand_int_range (sc->rand, 0, 4);
      log_action (sc, "limit g%u to %u", g->id, g->limit);
      m_schedule (g);
      m_settle (sc);
      nursery_group_set_max_concurrent (g->group, g->limit);
      return;

    case A_POLICY:
      if ((g = pick_group (sc)) == NULL || g->group == NULL)
        return;
      g->policy = g_rand_int_range (sc->rand, 0, 3);
      log_action (sc, "policy of g%u: %d", g->id, g->policy);
      nursery_group_set_policy (g->group, g->policy);
      return;

    case A_SHIELD:
      if ((t = pick_task (sc, any_task)) == NULL)
        return;
      {
        gboolean shielded = g_rand_boolean (sc->rand);

        log_action (sc, "%s %s", shielded ? "shield" : "unshield", t->name);
        /* R15: unshielding in a cancelled group cancels it then. */
        if (m_is_unfinished (t) && t->shielded != shielded)
          {
            t->shielded = shielded;
            if (!shielded && t->group->cause != C_NONE && m_mark (t))
              m_react (t);
          }
        m_settle (sc);
        nursery_task_set_shielded (t->task, shielded);
      }
      return;

    case A_SHIELD_GROUP:
      if ((g = pick_group (sc)) == NULL || g->group == NULL || g->parent == NULL)
        return;
      {
        gboolean shielded = g_rand_boolean (sc->rand);

        log_action (sc, "%s g%u", shielded ? "shield" : "unshield", g->id);
        if (g->shielded != shielded)
          {
            g->shielded = shielded;
            m_schedule (g);
            if (!shielded && g->parent_cancelled)
              m_cancel_group (g, C_PARENT);
          }
        m_settle (sc);
        nursery_group_set_shielded (g->group, shielded);
      }
      return;

    case A_GROUP_DEADLINE:
      if ((g = pick_group (sc)) == NULL || g->group == NULL)
        return;
      deadline = deadline_value (sc, &dname);
      log_action (sc, "deadline of g%u: %s", g->id, dname);
      if (g->deadline != deadline && g->state != NURSERY_GROUP_CLOSED)
        {
          if (g->deadline_seq == 0 && deadline != -1)
            g->deadline_seq = ++sc->next_source;
          g->deadline = deadline;
          g->deadline_due = deadline == PAST_DEADLINE;
          m_schedule (g);
        }
      m_settle (sc);
      nursery_group_set_deadline (g->group, deadline);
      return;

    case A_TASK_DEADLINE:
      if ((t = pick_task (sc, is_unfinished)) == NULL)
        return;
      deadline = deadline_value (sc, &dname);
      log_action (sc, "deadline of %s: %s", t->name, dname);
      if (!t->timed_out && t->deadline != deadline)
        {
          if (t->deadline_seq == 0 && deadline != -1)
            t->deadline_seq = ++sc->next_source;
          t->deadline = deadline;
          t->deadline_due = deadline == PAST_DEADLINE;
        }
      m_settle (sc);
      nursery_task_set_deadline (t->task, deadline);
      return;

    case A_STARTED:
      if ((t = pick_task (sc, wants_started)) == NULL)
        return;
      log_action (sc, "%s calls started()", t->name);
      m_started (t);
      m_settle (sc);
      {
        GValue value = G_VALUE_INIT;

        g_value_init (&value, G_TYPE_UINT);
        g_value_set_uint (&value, t->id);
        nursery_task_started (t->task, &value);
        g_value_unset (&value);
      }
      return;

    case A_CANCEL_STARTER:
      for (guint i = 0; i < 4; i++)
        {
          guint n = sc->tasks->len;

          t = sc->tasks->pdata[g_rand_int_range (sc->rand, 0, n)];
          if (has_starter (t))
            break;
          t = NULL;
        }
      if (t == NULL)
        return;
      log_action (sc, "cancel the start caller of %s", t->name);
      /* R18: before started() it cancels the child. */
      if (t->starter == ST_PENDING)
        m_cancel_task (t);
      m_settle (sc);
      g_cancellable_cancel (t->starter_cancellable);
      return;

    case A_CLEANUP:
      if ((g = pick_group (sc)) == NULL || g->group == NULL || g->state == NURSERY_GROUP_CLOSED)
        return;
      {
        CleanupData *cd = g_new0 (CleanupData, 1);

        cd->sc = sc;
        cd->group = g;
        cd->id = sc->next_cleanup++;
        g_array_append_val (g->cleanups, cd->id);
        log_action (sc, "cleanup %u on g%u", cd->id, g->id);
        nursery_group_add_cleanup (g->group, cleanup_cb, cd, g_free);
      }
      return;

    case A_WAIT:
      if (sc->drop_mode)
        return;
      add_waiter (sc, sc->root, g_rand_boolean (sc->rand));
      return;

    case A_CANCEL_WAITER:
      for (guint i = 0; i < sc->root->waiters->len; i++)
        {
          MWaiter *w = sc->root->waiters->pdata[i];

          if (w->cancellable != NULL && !g_cancellable_is_cancelled (w->cancellable))
            {
              log_action (sc, "cancel waiter %u's cancellable", w->id);
              /* R10: it cancels the group; the waiter still waits. */
              if (!w->done)
                m_cancel_group (sc->root, C_WAITER);
              m_settle (sc);
              g_cancellable_cancel (w->cancellable);
              return;
            }
        }
      return;

    case A_NEXT:
      /* A pending next_async() holds its group: not on a root to drop. */
      if ((g = pick_group (sc)) == NULL || g->group == NULL || (g == sc->root && sc->drop_mode))
        return;
      {
        MNext *n = g_new0 (MNext, 1);

        n->group = g;
        n->id = sc->next_next++;
        if (g_rand_boolean (sc->rand))
          n->cancellable = g_cancellable_new ();
        log_action (sc, "next_async on g%u (next %u%s)", g->id, n->id, n->cancellable ? ", with cancellable" : "");
        m_next (g, n);
        m_settle (sc);
        nursery_group_next_async (g->group, n->cancellable, next_cb, n);
      }
      return;

    case A_CANCEL_NEXT:
      for (guint i = 0; i < sc->groups->len; i++)
        {
          MGroup *ng = sc->groups->pdata[i];

          for (guint j = 0; j < ng->nexts->len; j++)
            {
              MNext *n = ng->nexts->pdata[j];

              if (n->cancellable != NULL && !g_cancellable_is_cancelled (n->cancellable))
                {
                  log_action (sc, "cancel next %u's cancellable", n->id);
                  if (!n->done)
                    {
                      n->cancelled = TRUE;
                      m_schedule (ng);
                    }
                  m_settle (sc);
                  g_cancellable_cancel (n->cancellable);
                  return;
                }
            }
        }
      return;

    case A_LIST:
      if ((g = pick_group (sc)) == NULL || g->group == NULL || g->list != NULL)
        return;
      log_action (sc, "list_tasks of g%u", g->id);
      m_list (g);
      m_settle (sc);
      g->list = nursery_group_list_tasks (g->group);
      return;

    case A_CONNECT:
      if ((g = pick_group (sc)) == NULL || g->group == NULL || g->handler)
        return;
      log_action (sc, "connect task-finished to g%u", g->id);
      g->handler = TRUE;
      real_connect_group (g, g->group);
      return;

    case A_DROP:
    case N_ACTIONS:
      g_assert_not_reached ();
    }
}

/* ------------------------------------------------------------------ */
/* A scenario                                                         */
/* ------------------------------------------------------------------ */

static void
finish_step (Scenario *sc)
{
  arm_unread_warning (sc);
  real_settle (sc);
  if (sc->warning_armed)
    {
      g_test_assert_expected_messages ();
      sc->expect_unread_warning = FALSE;
      sc->warning_armed = FALSE;
    }
  compare_all (sc);
  sc->step++;
  rel_watchdog_kick (sc->watchdog, "NURSERY_MODEL_SEED=%u step %u", sc->seed, sc->step);
}

static gboolean
scenario_done (Scenario *sc)
{
  MGroup *root = sc->root;

  if (sc->drop_mode)
    return root->finalized;
  return root->state == NURSERY_GROUP_CLOSED;
}

static void
run_scenario (guint32      seed,
              RelWatchdog *watchdog)
{
  Scenario s = { 0 }, *sc = &s;
  GroupSpec *root_spec;
  guint n_steps, wait_step;

  sc->seed = seed;
  sc->rand = g_rand_new_with_seed (seed);
  sc->context = g_main_context_ref_thread_default ();
  sc->owner = g_thread_self ();
  sc->watchdog = watchdog;
  sc->log = g_string_new (NULL);
  sc->tasks = g_ptr_array_new ();
  sc->groups = g_ptr_array_new ();
  sc->specs = g_ptr_array_new_with_free_func (g_free);
  sc->group_specs = g_ptr_array_new_with_free_func (group_spec_free);
  sc->drop_mode = g_rand_int_range (sc->rand, 0, 8) == 0;
  sc->runs = g_array_new (FALSE, FALSE, sizeof (guint));
  sc->real_runs = g_array_new (FALSE, FALSE, sizeof (guint));
  sc->destroys = g_array_new (FALSE, FALSE, sizeof (guint));
  sc->real_destroys = g_array_new (FALSE, FALSE, sizeof (guint));

  /* The root and its first children */
  root_spec = gen_group_spec (sc, 0);
  sc->root = m_group_new (sc, NULL, root_spec);
  sc->root->group = nursery_group_new ();
  rel_track (&sc->live, sc->root->group);
  nursery_group_set_policy (sc->root->group, root_spec->policy);
  nursery_group_set_max_concurrent (sc->root->group, root_spec->limit);
  sc->root->alive = sc->root->group;
  if (root_spec->handler)
    real_connect_group (sc->root, sc->root->group);
  log_action (sc, "g0: policy %d, limit %u%s%s", root_spec->policy, root_spec->limit,
              root_spec->handler ? "" : ", no task-finished handler", sc->drop_mode ? ", will be dropped" : "");
  for (guint i = 0; i < root_spec->children->len; i++)
    {
      MTask *t = m_spawn (sc->root, root_spec->children->pdata[i], FALSE);
      ChildSpec *c = t->spec;

      log_action (sc, "spawn %s (%s%s, %s%s%s)", t->name, spawn_kind (c), behaviour_names[c->behaviour],
                  planned_names[c->planned], c->shielded ? ", shielded" : "", hook_names[c->hook]);
      log_nested_spec (sc, c, 1);
      real_spawn (t);
    }
  m_settle (sc);
  finish_step (sc);

  /* Random actions; the root is waited for (or dropped) somewhere. */
  n_steps = g_rand_int_range (sc->rand, 3, 40);
  wait_step = g_rand_int_range (sc->rand, 0, n_steps + 1);
  for (guint i = 0; i < n_steps; i++)
    {
      if (i == wait_step)
        {
          if (sc->drop_mode)
            drop_root (sc);
          else
            add_waiter (sc, sc->root, g_rand_int_range (sc->rand, 0, 3) == 0);
        }
      else
        random_action (sc);
      finish_step (sc);
    }
  if (wait_step == n_steps)
    {
      if (sc->drop_mode)
        drop_root (sc);
      else
        add_waiter (sc, sc->root, FALSE);
      finish_step (sc);
    }

  /* Release whatever waits, and start what waits for started(), until
   * the root is done. */
  for (guint guard = 0; !scenario_done (sc); guard++)
    {
      MTask *t = pick_task (sc, wants_started);

      CHECK (sc, guard < 400, "the root never finished (stuck?)");
      if (t != NULL && g_rand_boolean (sc->rand))
        {
          GValue value = G_VALUE_INIT;

          log_action (sc, "%s calls started()", t->name);
          m_started (t);
          m_settle (sc);
          g_value_init (&value, G_TYPE_UINT);
          g_value_set_uint (&value, t->id);
          nursery_task_started (t->task, &value);
          g_value_unset (&value);
        }
      else if ((t = pick_task (sc, is_parked)) != NULL)
        release (sc, t);
      else
        model_fail (sc, "nothing left to release, yet the root is not done");
      finish_step (sc);
    }

  /* Everything has finished: a last look, then the failures (R8). */
  for (guint i = 0; i < sc->tasks->len; i++)
    {
      MTask *t = sc->tasks->pdata[i];

      CHECK (sc, !m_is_unfinished (t), "%s never finished", t->name);
    }
  for (guint i = 0; i < sc->groups->len; i++)
    {
      MGroup *g = sc->groups->pdata[i];

      CHECK (sc, g->state == NURSERY_GROUP_CLOSED || g->finalized || g == sc->root,
             "g%u never closed", g->id);
      compare_errors (g);
    }

  totals.steps += sc->step;
  totals.dropped += sc->drop_mode;
  for (guint i = 0; i < sc->tasks->len; i++)
    {
      MTask *t = sc->tasks->pdata[i];

      totals.tasks++;
      totals.thread_tasks += t->spec->in_thread;
      totals.start_tasks += t->is_start;
      totals.soon_tasks += t->spec->soon;
      totals.keyed_tasks += t->spec->keyed;
      if (t->refused)
        {
          totals.refused++;
          continue;
        }
      totals.states[t->state]++;
      totals.not_run += !t->ran;
      totals.timed_out += t->timed_out;
      totals.starter_ok += t->starter == ST_OK;
      totals.starter_error += t->starter == ST_ERROR;
    }
  for (guint i = 0; i < sc->groups->len; i++)
    {
      MGroup *g = sc->groups->pdata[i];
      MError *outcome = m_outcome (g);

      totals.groups++;
      totals.winners += g->winner != NULL;
      if (outcome == NULL)
        totals.outcomes_ok++;
      else if (outcome->domain == G_IO_ERROR && outcome->code == G_IO_ERROR_CANCELLED)
        totals.outcomes_cancelled++;
      else if (outcome->domain == G_IO_ERROR && outcome->code == G_IO_ERROR_TIMED_OUT)
        totals.outcomes_timed_out++;
      else
        totals.outcomes_failed++;
      merror_free (outcome);
    }

  /* Drop every handle: everything is finalized (R20), nothing leaks. */
  for (guint i = 0; i < sc->tasks->len; i++)
    {
      MTask *t = sc->tasks->pdata[i];

      g_clear_object (&t->task);
      g_clear_object (&t->starter_cancellable);
      g_clear_error (&t->real_start_error);
      merror_free (t->error);
      merror_free (t->starter_error);
      g_mutex_clear (&t->gate.lock);
      g_cond_clear (&t->gate.cond);
      g_free (t);
    }
  for (guint i = 0; i < sc->groups->len; i++)
    {
      MGroup *g = sc->groups->pdata[i];

      g_clear_object (&g->group);
      for (guint j = 0; j < g->waiters->len; j++)
        {
          MWaiter *w = g->waiters->pdata[j];

          g_clear_object (&w->cancellable);
          g_clear_error (&w->real_error);
          merror_free (w->result);
          g_free (w);
        }
      g_ptr_array_unref (g->waiters);
      for (guint j = 0; j < g->nexts->len; j++)
        {
          MNext *n = g->nexts->pdata[j];

          g_clear_object (&n->cancellable);
          g_clear_object (&n->real_task);
          g_clear_error (&n->real_error);
          g_free (n);
        }
      g_ptr_array_unref (g->nexts);
      g_queue_clear (&g->completed);
      g_clear_object (&g->list);
      g_ptr_array_unref (g->tasks);
      g_ptr_array_unref (g->initial);
      g_ptr_array_unref (g->started_queue);
      g_ptr_array_unref (g->errors);
      g_ptr_array_unref (g->error_names);
      g_array_unref (g->signals);
      g_array_unref (g->real_signals);
      g_array_unref (g->cleanups);
      g_array_unref (g->model_ran);
      g_array_unref (g->real_ran);
      g_queue_clear (&g->pending);
      g_queue_clear (&g->doomed);
      g_queue_clear (&g->returned);
      g_free (g);
    }
  while (g_main_context_iteration (sc->context, FALSE))
    ;
  CHECK (sc, g_atomic_int_get (&sc->live.alive) == 0, "%d groups/tasks still alive after the scenario",
         sc->live.alive);

  g_ptr_array_unref (sc->tasks);
  g_ptr_array_unref (sc->groups);
  g_array_unref (sc->runs);
  g_array_unref (sc->real_runs);
  g_array_unref (sc->destroys);
  g_array_unref (sc->real_destroys);
  g_ptr_array_unref (sc->specs);
  g_ptr_array_unref (sc->group_specs);
  g_string_free (sc->log, TRUE);
  g_main_context_unref (sc->context);
  g_rand_free (sc->rand);
}

static void
test_scenarios (void)
{
  guint n = rel_scaled ("NURSERY_MODEL_SCENARIOS", 2000);
  guint32 first = rel_env_uint ("NURSERY_MODEL_SEED", g_test_rand_int ());
  g_autoptr(RelWatchdog) watchdog = rel_watchdog_new ("model");
  gint64 start = g_get_monotonic_time ();

  g_test_message ("%u scenarios from NURSERY_MODEL_SEED=%u", n, first);
  for (guint i = 0; i < n; i++)
    {
      rel_watchdog_kick (watchdog, "NURSERY_MODEL_SEED=%u", first + i);
      run_scenario (first + i, watchdog);
    }
  g_test_message ("%u scenarios in %.1f s: %u steps, %u groups, %u tasks (%u in threads, %u start "
                  "handshakes, %u refused by a closed group)", n, (g_get_monotonic_time () - start) / 1e6,
                  totals.steps, totals.groups, totals.tasks, totals.thread_tasks, totals.start_tasks,
                  totals.refused);
  g_test_message ("soon children: %u (%u keyed); %u gave their success back, %u of them reported with a "
                  "task made again; %u tasks at once (a spare, a list); %u records finished unstarted (R5); "
                  "%u records waiting when their group was cancelled (%u behind max-concurrent, %u as the root "
                  "was dropped)", totals.soon_tasks, totals.keyed_tasks, totals.given_back, totals.remade,
                  totals.soon_as_tasks, totals.records_doomed, totals.records_at_cancel, totals.records_at_limit,
                  totals.records_at_drop);
  g_test_message ("tasks: %u succeeded, %u failed, %u cancelled; %u never ran (R5), %u timed out (R17); "
                  "starts: %u started, %u failed to", totals.states[MT_SUCCEEDED], totals.states[MT_FAILED],
                  totals.states[MT_CANCELLED], totals.not_run, totals.timed_out, totals.starter_ok,
                  totals.starter_error);
  g_test_message ("groups: %u succeeded (%u races won), %u failed, %u timed out, %u cancelled; "
                  "%u roots dropped, %u unread-failure warnings", totals.outcomes_ok, totals.winners,
                  totals.outcomes_failed, totals.outcomes_timed_out, totals.outcomes_cancelled,
                  totals.dropped, totals.unread_warnings);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  verbose = rel_env_uint ("NURSERY_MODEL_VERBOSE", 0) != 0;

  g_test_add_func ("/reliability/model/R7/scenarios", test_scenarios);

  return g_test_run ();
}
