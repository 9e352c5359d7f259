/* nursery-group.c: a structured-concurrency task group
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* How a NurseryGroup works
 *
 * A group is bound to its owner context (the thread-default GMainContext
 * when it was created) and does all of its bookkeeping there, in one
 * GSource of its own: each dispatch of that source is a *batch* that
 *   1. finishes the children cancelled before they started (DESIGN R5),
 *   2. starts the pending children in spawn order, as many as
 *      max-concurrent allows (R1, R19),
 *   3. reports the children that returned since the last batch, in
 *      completion order: counters, errors, policy, `task-finished`,
 *   4. closes the group if it is joining and no child is left (R6), and
 *      completes its waiters with the outcome (R7),
 *   5. emits the property notifications the batch caused, once each.
 * So nothing is ever reported from inside the call that caused it, one
 * dispatch starts any number of children, and per child the group costs
 * one GObject and a few pointer moves (no GSource, no signal connection).
 *
 * States: open → joining (somebody waits) → closed (joining and no child
 * left). Cancellation is orthogonal and happens once, for the first
 * cause: an explicit cancel, a failure under fail-fast, a race won, a
 * waiter's cancellable, or the last reference dropped. Cancelling walks
 * the unfinished children once (R12); each child's cancellable exists
 * only if somebody asked for it.
 *
 * Threads: tasks return and anything may cancel from any thread (R23).
 * The queues and the cancellation state are guarded by the anchor's lock;
 * everything else belongs to the owner context. Cancellables are
 * cancelled after the lock is dropped, because their handlers may call
 * straight back into Nursery.
 *
 * Lifetime: tasks do not hold their group. When the last reference to a
 * group with unfinished children is dropped, dispose cancels them and
 * keeps the group alive until the last one has finished (R20).
 */

#include "config.h"

#include "nursery-enums.h"
#include "nursery-error.h"
#include "nursery-group-private.h"
#include "nursery-task-private.h"
#include "nursery-waiters-private.h"

typedef enum
{
  CANCEL_NONE,
  CANCEL_EXPLICIT,
  CANCEL_FAILURE,
  CANCEL_RACE_WON,
  CANCEL_WAITER,
  CANCEL_DROPPED,
} CancelCause;

typedef struct
{
  GSource       source;
  NurseryGroup *group;
} GroupSource;

struct _NurseryGroup
{
  GObject         parent_instance;

  NurseryAnchor  *anchor;
  GMainContext   *context;
  GSource        *source;
  char           *name;

  /* Guarded by anchor->lock. Tasks are linked in, never allocated for. */
  GQueue          unfinished;   /* every unfinished task, in spawn order */
  GQueue          pending;      /* spawned, waiting for their turn */
  GQueue          doomed;       /* cancelled before they started (R5) */
  GQueue          returned;     /* returned, not reported yet */
  CancelCause     cancel_cause;
  gboolean        scheduled;

  /* Owner context only. */
  NurseryPolicy   policy;
  guint           max_concurrent;
  guint           n_running;
  guint           n_pending;
  guint           n_finished;
  guint           n_failed;
  GPtrArray      *errors;       /* (element-type GError): copies, in order */
  NurseryTask    *winner;
  GSList         *waiters;
  guint           errors_observed : 1;
  guint           orphaned : 1;

  int             state;        /* NurseryGroupState, atomic */
  guint           dirty;        /* atomic: property bits to notify */
};

enum {
  PROP_0,
  PROP_NAME,
  PROP_CONTEXT,
  PROP_STATE,
  PROP_POLICY,
  PROP_MAX_CONCURRENT,
  PROP_CANCELLED,
  PROP_CLOSED,
  PROP_N_RUNNING,
  PROP_N_PENDING,
  PROP_N_FINISHED,
  PROP_N_FAILED,
  N_PROPS
};

enum {
  TASK_FINISHED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (NurseryGroup, nursery_group, G_TYPE_OBJECT)

/* The anchor */

static NurseryAnchor *
nursery_anchor_new (NurseryGroup *group)
{
  NurseryAnchor *anchor = g_new0 (NurseryAnchor, 1);

  g_atomic_ref_count_init (&anchor->ref_count);
  g_mutex_init (&anchor->lock);
  anchor->group = group;
  return anchor;
}

NurseryAnchor *
_nursery_anchor_ref (NurseryAnchor *anchor)
{
  g_atomic_ref_count_inc (&anchor->ref_count);
  return anchor;
}

void
_nursery_anchor_unref (NurseryAnchor *anchor)
{
  if (!g_atomic_ref_count_dec (&anchor->ref_count))
    return;
  g_mutex_clear (&anchor->lock);
  g_free (anchor);
}

/* Scheduling and notification */

static void
schedule_locked (NurseryGroup *self)
{
  if (self->scheduled)
    return;
  self->scheduled = TRUE;
  g_source_set_ready_time (self->source, 0);
}

static void
schedule (NurseryGroup *self)
{
  g_mutex_lock (&self->anchor->lock);
  schedule_locked (self);
  g_mutex_unlock (&self->anchor->lock);
}

/* Marks properties to notify at the end of the next batch: notifications
 * are never emitted from inside the call that caused them, and a batch
 * that moves a counter many times notifies it once. */
static void
mark_dirty (NurseryGroup *self,
            guint         prop_bits)
{
  g_atomic_int_or (&self->dirty, prop_bits);
}

#define BIT(prop) (1u << (prop))

static void
flush_notifications (NurseryGroup *self)
{
  guint dirty = g_atomic_int_and (&self->dirty, 0);

  if (dirty == 0)
    return;

  g_object_freeze_notify (G_OBJECT (self));
  for (guint prop = 1; prop < N_PROPS; prop++)
    if (dirty & BIT (prop))
      g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
  g_object_thaw_notify (G_OBJECT (self));
}

static void
set_state (NurseryGroup      *self,
           NurseryGroupState  state)
{
  g_atomic_int_set (&self->state, state);
  mark_dirty (self, BIT (PROP_STATE) | (state == NURSERY_GROUP_CLOSED ? BIT (PROP_CLOSED) : 0));
}

/* Cancellation */

static void
cancel_and_unref (gpointer data)
{
  g_cancellable_cancel (data);
  g_object_unref (data);
}

/* R5: a task cancelled before it started leaves the pending queue at
 * once, so it finishes on the next batch even when the concurrency limit
 * would have kept it waiting. */
void
_nursery_group_task_cancelled_locked (NurseryGroup *self,
                                      NurseryTask  *task)
{
  if (self == NULL || task->queue != &self->pending)
    return;
  g_queue_unlink (&self->pending, &task->queue_link);
  g_queue_push_tail_link (&self->doomed, &task->queue_link);
  task->queue = &self->doomed;
  schedule_locked (self);
}

static void
cancel_task_locked (NurseryGroup  *self,
                    NurseryTask   *task,
                    GPtrArray    **cancellables)
{
  GCancellable *cancellable = _nursery_task_mark_cancelled_locked (task);

  if (cancellable != NULL)
    {
      if (*cancellables == NULL)
        *cancellables = g_ptr_array_new_with_free_func (cancel_and_unref);
      g_ptr_array_add (*cancellables, cancellable);
    }
  _nursery_group_task_cancelled_locked (self, task);
}

static void
cancel_with_cause (NurseryGroup *self,
                   CancelCause   cause)
{
  GPtrArray *cancellables = NULL;

  g_mutex_lock (&self->anchor->lock);
  if (self->cancel_cause != CANCEL_NONE ||
      g_atomic_int_get (&self->state) == NURSERY_GROUP_CLOSED)
    {
      g_mutex_unlock (&self->anchor->lock);
      return;
    }

  self->cancel_cause = cause;
  for (GList *l = self->unfinished.head; l != NULL; l = l->next)
    cancel_task_locked (self, l->data, &cancellables);
  mark_dirty (self, BIT (PROP_CANCELLED));
  schedule_locked (self);
  g_mutex_unlock (&self->anchor->lock);

  g_debug ("group “%s”: cancelled (cause %d)", self->name ? self->name : "", cause);

  /* Outside the lock: the cancellables' handlers run right here. */
  g_clear_pointer (&cancellables, g_ptr_array_unref);
}

static void
cancel_for_waiter (gpointer target)
{
  cancel_with_cause (target, CANCEL_WAITER);
}

/* Reporting completions */

static GError *
outcome_error (NurseryGroup *self)
{
  const char *name = self->name != NULL ? self->name : "(unnamed)";
  CancelCause cause;

  if (self->winner != NULL)
    return NULL;
  if (self->errors->len > 0)
    return g_error_copy (g_ptr_array_index (self->errors, 0));

  g_mutex_lock (&self->anchor->lock);
  cause = self->cancel_cause;
  g_mutex_unlock (&self->anchor->lock);

  if (cause == CANCEL_NONE)
    return NULL;
  return g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                      "Group “%s” was cancelled", name);
}

/* Counts the outcome; returns the cancel it calls for, applied only after
 * the child has been reported, so observers see the cause first. */
static CancelCause
record_outcome (NurseryGroup     *self,
                NurseryTask      *task,
                NurseryTaskState  outcome)
{
  self->n_finished++;
  mark_dirty (self, BIT (PROP_N_FINISHED));

  if (outcome == NURSERY_TASK_FAILED)
    {
      self->n_failed++;
      mark_dirty (self, BIT (PROP_N_FAILED));
      g_ptr_array_add (self->errors, g_error_copy (task->error));
      return self->policy == NURSERY_POLICY_FAIL_FAST ? CANCEL_FAILURE : CANCEL_NONE;
    }
  if (outcome == NURSERY_TASK_SUCCEEDED &&
      self->policy == NURSERY_POLICY_RACE && self->winner == NULL)
    {
      self->winner = g_object_ref (task);
      return CANCEL_RACE_WON;
    }
  return CANCEL_NONE;
}

static void
report_finished (NurseryGroup *self,
                 NurseryTask  *task)
{
  NurseryTaskState outcome = _nursery_task_outcome (task);
  CancelCause consequence;

  g_mutex_lock (&self->anchor->lock);
  g_queue_unlink (&self->unfinished, &task->all_link);
  task->queue = NULL;
  g_atomic_int_set (&task->state, outcome);
  g_mutex_unlock (&self->anchor->lock);

  consequence = record_outcome (self, task, outcome);
  _nursery_task_release_func (task);
  g_signal_emit (self, signals[TASK_FINISHED], 0, task);
  _nursery_task_complete_waiters (task);
  if (consequence != CANCEL_NONE)
    cancel_with_cause (self, consequence);
  g_object_unref (task);
}

/* The batch */

static void
finish_doomed (NurseryGroup *self)
{
  GQueue doomed;
  GList *link;

  g_mutex_lock (&self->anchor->lock);
  doomed = self->doomed;
  g_queue_init (&self->doomed);
  g_mutex_unlock (&self->anchor->lock);

  while ((link = g_queue_pop_head_link (&doomed)) != NULL)
    {
      self->n_pending--;
      _nursery_task_finish_unstarted (link->data);
      report_finished (self, link->data);
      mark_dirty (self, BIT (PROP_N_PENDING));
    }
}

static gboolean
has_free_slot (NurseryGroup *self)
{
  return self->max_concurrent == 0 || self->n_running < self->max_concurrent;
}

static void
start_pending (NurseryGroup *self)
{
  GQueue starting = G_QUEUE_INIT;
  GList *link;

  /* Taken out in one go: children spawned by the ones started here wait
   * for the next batch (R1: never run inline, always in spawn order). */
  g_mutex_lock (&self->anchor->lock);
  while (self->pending.length > 0 && has_free_slot (self))
    {
      link = g_queue_pop_head_link (&self->pending);
      ((NurseryTask *) link->data)->queue = NULL;
      g_queue_push_tail_link (&starting, link);
      self->n_running++;
      self->n_pending--;
    }
  g_mutex_unlock (&self->anchor->lock);

  if (starting.length == 0)
    return;
  mark_dirty (self, BIT (PROP_N_RUNNING) | BIT (PROP_N_PENDING));

  while ((link = g_queue_pop_head_link (&starting)) != NULL)
    {
      NurseryTask *task = link->data;

      /* R5 again: cancelled from another thread since it was taken out. */
      if (nursery_task_is_cancelled (task))
        {
          self->n_running--;
          _nursery_task_finish_unstarted (task);
          report_finished (self, task);
        }
      else
        _nursery_task_run (task);
    }
}

static void
report_returned (NurseryGroup *self)
{
  GQueue returned;
  GList *link;

  g_mutex_lock (&self->anchor->lock);
  returned = self->returned;
  g_queue_init (&self->returned);
  g_mutex_unlock (&self->anchor->lock);

  if (returned.length == 0)
    return;
  mark_dirty (self, BIT (PROP_N_RUNNING));

  while ((link = g_queue_pop_head_link (&returned)) != NULL)
    {
      self->n_running--;
      report_finished (self, link->data);
    }
}

static void
maybe_close (NurseryGroup *self)
{
  GError *error;

  if (g_atomic_int_get (&self->state) != NURSERY_GROUP_JOINING ||
      self->unfinished.length > 0)
    return;

  set_state (self, NURSERY_GROUP_CLOSED);
  g_debug ("group “%s”: closed after %u children", self->name ? self->name : "", self->n_finished);
  flush_notifications (self);

  error = outcome_error (self);
  _nursery_waiters_complete (&self->waiters, error);
  g_clear_error (&error);
}

static void
run_batch (NurseryGroup *self)
{
  g_mutex_lock (&self->anchor->lock);
  self->scheduled = FALSE;
  g_source_set_ready_time (self->source, -1);
  g_mutex_unlock (&self->anchor->lock);

  finish_doomed (self);
  start_pending (self);
  report_returned (self);
  maybe_close (self);
  flush_notifications (self);

  /* R20: the keep-alive taken in dispose goes once the group closed. */
  if (self->orphaned && g_atomic_int_get (&self->state) == NURSERY_GROUP_CLOSED)
    {
      self->orphaned = FALSE;
      g_object_unref (self);
    }
}

static gboolean
group_source_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  NurseryGroup *self = g_object_ref (((GroupSource *) source)->group);

  run_batch (self);
  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs group_source_funcs = {
  .dispatch = group_source_dispatch,
};

/* Called with the anchor's lock held, from any thread. */
void
_nursery_group_task_returned_locked (NurseryGroup *self,
                                     NurseryTask  *task)
{
  g_queue_push_tail_link (&self->returned, &task->queue_link);
  task->queue = &self->returned;
  schedule_locked (self);
}

/* GObject */

static void
nursery_group_dispose (GObject *object)
{
  NurseryGroup *self = NURSERY_GROUP (object);

  /* R20: children still run. Cancel them and stay alive (this reference
   * is dropped by the batch that closes the group); weak pointers are
   * only notified when the group really goes. */
  if (self->unfinished.length > 0 && !self->orphaned)
    {
      self->orphaned = TRUE;
      g_object_ref (self);
      if (g_atomic_int_get (&self->state) == NURSERY_GROUP_OPEN)
        set_state (self, NURSERY_GROUP_JOINING);
      cancel_with_cause (self, CANCEL_DROPPED);
      schedule (self);
      return;
    }

  G_OBJECT_CLASS (nursery_group_parent_class)->dispose (object);
}

static void
warn_unobserved_failures (NurseryGroup *self)
{
  const GError *first;

  if (self->errors->len == 0 || self->errors_observed)
    return;
  first = g_ptr_array_index (self->errors, 0);
  g_warning ("Group “%s” was finalized with %u failure(s) nobody read; the first: %s",
             self->name != NULL ? self->name : "(unnamed)", self->errors->len,
             first->message);
}

static void
nursery_group_finalize (GObject *object)
{
  NurseryGroup *self = NURSERY_GROUP (object);

  g_assert (self->unfinished.length == 0);
  g_assert (self->waiters == NULL);

  warn_unobserved_failures (self);

  g_mutex_lock (&self->anchor->lock);
  self->anchor->group = NULL;
  g_mutex_unlock (&self->anchor->lock);

  g_source_destroy (self->source);
  g_clear_pointer (&self->source, g_source_unref);
  g_clear_pointer (&self->errors, g_ptr_array_unref);
  g_clear_object (&self->winner);
  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->anchor, _nursery_anchor_unref);

  G_OBJECT_CLASS (nursery_group_parent_class)->finalize (object);
}

static void
nursery_group_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  NurseryGroup *self = NURSERY_GROUP (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_CONTEXT:
      g_value_set_boxed (value, self->context);
      break;
    case PROP_STATE:
      g_value_set_enum (value, nursery_group_get_state (self));
      break;
    case PROP_POLICY:
      g_value_set_enum (value, self->policy);
      break;
    case PROP_MAX_CONCURRENT:
      g_value_set_uint (value, self->max_concurrent);
      break;
    case PROP_CANCELLED:
      g_value_set_boolean (value, nursery_group_is_cancelled (self));
      break;
    case PROP_CLOSED:
      g_value_set_boolean (value, nursery_group_is_closed (self));
      break;
    case PROP_N_RUNNING:
      g_value_set_uint (value, self->n_running);
      break;
    case PROP_N_PENDING:
      g_value_set_uint (value, self->n_pending);
      break;
    case PROP_N_FINISHED:
      g_value_set_uint (value, self->n_finished);
      break;
    case PROP_N_FAILED:
      g_value_set_uint (value, self->n_failed);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nursery_group_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  NurseryGroup *self = NURSERY_GROUP (object);

  switch (prop_id)
    {
    case PROP_NAME:
      nursery_group_set_name (self, g_value_get_string (value));
      break;
    case PROP_POLICY:
      nursery_group_set_policy (self, g_value_get_enum (value));
      break;
    case PROP_MAX_CONCURRENT:
      nursery_group_set_max_concurrent (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GParamSpec *
counter_pspec (const char *name)
{
  return g_param_spec_uint (name, NULL, NULL, 0, G_MAXUINT, 0,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
}

static GParamSpec *
flag_pspec (const char *name)
{
  return g_param_spec_boolean (name, NULL, NULL, FALSE,
                               G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
}

static void
nursery_group_class_init (NurseryGroupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = nursery_group_dispose;
  object_class->finalize = nursery_group_finalize;
  object_class->get_property = nursery_group_get_property;
  object_class->set_property = nursery_group_set_property;

  /**
   * NurseryGroup:name:
   *
   * A name for logs, errors and tree dumps.
   *
   * Since: 1.0
   */
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, rw);

  /**
   * NurseryGroup:context:
   *
   * The owner context: the thread-default main context when the group was
   * created. Every callback, signal and notification of the group and its
   * tasks is dispatched there.
   *
   * Since: 1.0
   */
  properties[PROP_CONTEXT] =
    g_param_spec_boxed ("context", NULL, NULL, G_TYPE_MAIN_CONTEXT,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * NurseryGroup:state:
   *
   * Open, joining or closed.
   *
   * Since: 1.0
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, NURSERY_TYPE_GROUP_STATE, NURSERY_GROUP_OPEN,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * NurseryGroup:policy:
   *
   * What the group does when a child fails or succeeds.
   *
   * Since: 1.0
   */
  properties[PROP_POLICY] =
    g_param_spec_enum ("policy", NULL, NULL, NURSERY_TYPE_POLICY, NURSERY_POLICY_FAIL_FAST, rw);

  /**
   * NurseryGroup:max-concurrent:
   *
   * How many children may run at once; 0 means no limit. The others wait
   * in spawn order and are counted in [property@Nursery.Group:n-pending].
   *
   * Since: 1.0
   */
  properties[PROP_MAX_CONCURRENT] =
    g_param_spec_uint ("max-concurrent", NULL, NULL, 0, G_MAXUINT, 0, rw);

  /**
   * NurseryGroup:cancelled:
   *
   * Whether the group has been cancelled, for any reason.
   *
   * Since: 1.0
   */
  properties[PROP_CANCELLED] = flag_pspec ("cancelled");

  /**
   * NurseryGroup:closed:
   *
   * Whether the group is closed: it was joined and every child finished.
   *
   * Since: 1.0
   */
  properties[PROP_CLOSED] = flag_pspec ("closed");

  /**
   * NurseryGroup:n-running:
   *
   * How many children have started and not finished.
   *
   * Since: 1.0
   */
  properties[PROP_N_RUNNING] = counter_pspec ("n-running");

  /**
   * NurseryGroup:n-pending:
   *
   * How many children are spawned but not started.
   *
   * Since: 1.0
   */
  properties[PROP_N_PENDING] = counter_pspec ("n-pending");

  /**
   * NurseryGroup:n-finished:
   *
   * How many children have finished, however they ended.
   *
   * Since: 1.0
   */
  properties[PROP_N_FINISHED] = counter_pspec ("n-finished");

  /**
   * NurseryGroup:n-failed:
   *
   * How many children have failed.
   *
   * Since: 1.0
   */
  properties[PROP_N_FAILED] = counter_pspec ("n-failed");

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * NurseryGroup::task-finished:
   * @self: the group
   * @task: the child that finished
   *
   * Emitted on the owner context once per child, in completion order,
   * after the group has counted it.
   *
   * Since: 1.0
   */
  signals[TASK_FINISHED] =
    g_signal_new ("task-finished",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, NURSERY_TYPE_TASK);
}

static void
nursery_group_init (NurseryGroup *self)
{
  self->anchor = nursery_anchor_new (self);
  self->context = g_main_context_ref_thread_default ();
  self->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);

  self->source = g_source_new (&group_source_funcs, sizeof (GroupSource));
  ((GroupSource *) self->source)->group = self;
  g_source_set_static_name (self->source, "NurseryGroup");
  g_source_attach (self->source, self->context);
}

/* Public API */

/**
 * nursery_group_new:
 *
 * Creates a task group bound to the thread-default main context, its
 * *owner context*.
 *
 * Returns: (transfer full): a new, open group
 *
 * Since: 1.0
 */
NurseryGroup *
nursery_group_new (void)
{
  return g_object_new (NURSERY_TYPE_GROUP, NULL);
}

static NurseryTask *
spawn (NurseryGroup    *self,
       const char      *name,
       NurseryTaskFunc  func,
       gpointer         user_data,
       GDestroyNotify   destroy,
       gboolean         in_thread,
       GError         **error)
{
  NurseryTask *task;

  if (g_atomic_int_get (&self->state) == NURSERY_GROUP_CLOSED)
    {
      /* R4: refused, and nothing leaks. */
      if (destroy != NULL)
        destroy (user_data);
      g_set_error (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED,
                   "Group “%s” is closed; it takes no more children",
                   self->name != NULL ? self->name : "(unnamed)");
      return NULL;
    }

  /* The group's reference, dropped when the child is reported finished. */
  task = _nursery_task_new (self->anchor, name, func, user_data, destroy, in_thread);

  g_mutex_lock (&self->anchor->lock);
  g_queue_push_tail_link (&self->unfinished, &task->all_link);
  if (self->cancel_cause != CANCEL_NONE)
    {
      /* R5: spawned into a cancelled group, it never runs. */
      g_atomic_int_set (&task->cancelled, TRUE);
      g_queue_push_tail_link (&self->doomed, &task->queue_link);
      task->queue = &self->doomed;
    }
  else
    {
      g_queue_push_tail_link (&self->pending, &task->queue_link);
      task->queue = &self->pending;
    }
  schedule_locked (self);
  g_mutex_unlock (&self->anchor->lock);

  self->n_pending++;
  mark_dirty (self, BIT (PROP_N_PENDING));

  return g_object_ref (task);
}

static gboolean
spawn_args_valid (NurseryGroup     *self,
                  NurseryTaskFunc   func,
                  GError          **error)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  return TRUE;
}

/**
 * nursery_group_spawn:
 * @self: a group that is not closed
 * @name: (nullable): a name for logs and errors
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   child's body, run on the owner context
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data on the owner context once the
 *   child has finished (or at once if the group refuses the child)
 * @error: return location for a [error@Nursery.Error]
 *
 * Adds an in-context child. Its function runs on a later iteration of the
 * owner context, never inside this call, and children start in spawn
 * order (DESIGN R1). The child finishes when it calls one of the
 * `nursery_task_return_*()` functions, possibly much later (R2).
 *
 * Spawning is allowed while the group is open or joining, cancelled or
 * not; a child spawned into a cancelled group finishes as cancelled
 * without running (R5). A closed group refuses with
 * %NURSERY_ERROR_CLOSED and calls @destroy (R4).
 *
 * Call it on the owner context's thread.
 *
 * Returns: (transfer full) (nullable): the child's handle; dropping it
 *   neither stops nor leaks the child
 *
 * Since: 1.0
 */
NurseryTask *
nursery_group_spawn (NurseryGroup     *self,
                     const char       *name,
                     NurseryTaskFunc   func,
                     gpointer          user_data,
                     GDestroyNotify    destroy,
                     GError          **error)
{
  if (!spawn_args_valid (self, func, error))
    {
      /* R24: refused, but the user data is not lost. */
      if (destroy != NULL)
        destroy (user_data);
      return NULL;
    }

  return spawn (self, name, func, user_data, destroy, FALSE, error);
}

/**
 * nursery_group_spawn_in_thread:
 * @self: a group that is not closed
 * @name: (nullable): a name for logs and errors
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   child's body, run on a worker thread of the GTask thread pool
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data on the owner context once the
 *   child has finished (or at once if the group refuses the child)
 * @error: return location for a [error@Nursery.Error]
 *
 * Adds a thread child. It starts like an in-context child (R1) but its
 * function runs on a worker thread; it may return a result from there,
 * and if it returns without one it succeeds with no value (R2). It
 * finishes only once its function has returned. It should poll
 * [method@Nursery.Task.is_cancelled] or pass its cancellable to blocking
 * calls: nothing can stop a thread from outside.
 *
 * Thread children that wait for each other can starve the shared GTask
 * pool, which grows slowly beyond about ten threads.
 *
 * Returns: (transfer full) (nullable): the child's handle
 *
 * Since: 1.0
 */
NurseryTask *
nursery_group_spawn_in_thread (NurseryGroup     *self,
                               const char       *name,
                               NurseryTaskFunc   func,
                               gpointer          user_data,
                               GDestroyNotify    destroy,
                               GError          **error)
{
  if (!spawn_args_valid (self, func, error))
    {
      /* R24: refused, but the user data is not lost. */
      if (destroy != NULL)
        destroy (user_data);
      return NULL;
    }

  return spawn (self, name, func, user_data, destroy, TRUE, error);
}

/**
 * nursery_group_wait_async:
 * @self: a group
 * @cancellable: (nullable): cancelling it cancels the group; the wait
 *   still completes only once every child has finished (DESIGN R10)
 * @callback: (scope async): called on the owner context with the outcome
 * @user_data: (closure): data for @callback
 *
 * Joins the group: it completes once no child is left, then closes the
 * group (R6). It never completes inside this call, even for an empty
 * group. Any number of waiters may wait; all get the same outcome.
 *
 * Call it on the owner context's thread.
 *
 * Since: 1.0
 */
void
nursery_group_wait_async (NurseryGroup        *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) waiter = NULL;
  GError *error;

  g_return_if_fail (NURSERY_IS_GROUP (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  /* No cancellable on the GTask: a cancelled waiter must not complete
   * before the children (R10), it cancels the group instead. */
  waiter = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (waiter, nursery_group_wait_async);
  g_task_set_name (waiter, "nursery_group_wait_async");

  switch (nursery_group_get_state (self))
    {
    case NURSERY_GROUP_CLOSED:
      error = outcome_error (self);
      if (error != NULL)
        g_task_return_error (waiter, error);
      else
        g_task_return_boolean (waiter, TRUE);
      return;

    case NURSERY_GROUP_OPEN:
      set_state (self, NURSERY_GROUP_JOINING);
      G_GNUC_FALLTHROUGH;

    case NURSERY_GROUP_JOINING:
    default:
      _nursery_waiters_add (&self->waiters, waiter, cancellable, cancel_for_waiter, self);
      schedule (self);
    }
}

/**
 * nursery_group_wait_finish:
 * @self: a group
 * @result: the result given to the callback
 * @error: return location for the group's error
 *
 * Finishes [method@Nursery.Group.wait_async]. The outcome (DESIGN R7) is:
 * the first child failure, unchanged, if any child failed (errors win
 * over cancellation); otherwise `G_IO_ERROR_CANCELLED` if the group was
 * cancelled; otherwise success. Under the race policy a winner makes it a
 * success. Every failure is in [method@Nursery.Group.get_errors].
 *
 * Returns: %TRUE if the group succeeded
 *
 * Since: 1.0
 */
gboolean
nursery_group_wait_finish (NurseryGroup  *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == nursery_group_wait_async, FALSE);

  self->errors_observed = TRUE;
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/**
 * nursery_group_wait:
 * @self: a group
 * @cancellable: (nullable): cancelling it cancels the group (the wait
 *   still returns only once every child has finished)
 * @error: return location for the group's error
 *
 * Joins the group, iterating the owner context until it closes: the
 * blocking form of [method@Nursery.Group.wait_async], for the owner
 * context's thread. Other sources of the context keep running meanwhile.
 *
 * Returns: %TRUE if the group succeeded; see
 *   [method@Nursery.Group.wait_finish] for the outcome
 *
 * Since: 1.0
 */
gboolean
nursery_group_wait (NurseryGroup  *self,
                    GCancellable  *cancellable,
                    GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  g_return_val_if_fail (NURSERY_IS_GROUP (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_main_context_acquire (self->context))
    {
      g_critical ("%s: the owner context of group “%s” is owned by another thread",
                  G_STRFUNC, self->name != NULL ? self->name : "(unnamed)");
      return FALSE;
    }

  nursery_group_wait_async (self, cancellable, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (self->context, TRUE);
  g_main_context_release (self->context);

  return nursery_group_wait_finish (self, result, error);
}

/**
 * nursery_group_cancel:
 * @self: a group
 *
 * Cancels the group: every child's cancellable is cancelled and children
 * that have not started finish as cancelled without running (DESIGN R5,
 * R12). The group still waits for its running children. Idempotent, and
 * safe to call from any thread; does nothing once the group is closed.
 *
 * Since: 1.0
 */
void
nursery_group_cancel (NurseryGroup *self)
{
  g_return_if_fail (NURSERY_IS_GROUP (self));

  cancel_with_cause (self, CANCEL_EXPLICIT);
}

/**
 * nursery_group_is_cancelled:
 * @self: a group
 *
 * Whether the group has been cancelled, for any reason. Thread-safe.
 *
 * Returns: %TRUE once the group was cancelled
 *
 * Since: 1.0
 */
gboolean
nursery_group_is_cancelled (NurseryGroup *self)
{
  gboolean cancelled;

  g_return_val_if_fail (NURSERY_IS_GROUP (self), FALSE);

  g_mutex_lock (&self->anchor->lock);
  cancelled = self->cancel_cause != CANCEL_NONE;
  g_mutex_unlock (&self->anchor->lock);
  return cancelled;
}

/**
 * nursery_group_is_closed:
 * @self: a group
 *
 * Whether the group is closed.
 *
 * Returns: %TRUE once the group was joined and every child finished
 *
 * Since: 1.0
 */
gboolean
nursery_group_is_closed (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), FALSE);

  return nursery_group_get_state (self) == NURSERY_GROUP_CLOSED;
}

/**
 * nursery_group_get_state:
 * @self: a group
 *
 * Where the group is in its life.
 *
 * Returns: open, joining or closed
 *
 * Since: 1.0
 */
NurseryGroupState
nursery_group_get_state (NurseryGroup *self)
{
  g_return_val_if_fail (NURSERY_IS_GROUP (self), NURSERY_GROUP_OPEN);

  return g_atomic_int_get (&self->state);
}

/**
 * nursery_group_get_errors:
 * @self: a group
 *
 * Every child failure so far, in the order they happened (DESIGN R8).
 * Cancelled children are not failures.
 *
 * Returns: (transfer full) (element-type GLib.Error): copies of the errors
 *
 * Since: 1.0
 */
GPtrArray *
nursery_group_get_errors (NurseryGroup *self)
{
  GPtrArray *copy;

  g_return_val_if_fail (NURSERY_IS_GROUP (self), NULL);

  self->errors_observed = TRUE;
  copy = g_ptr_array_new_full (self->errors->len, (GDestroyNotify) g_error_free);
  for (guint i = 0; i < self->errors->len; i++)
    g_ptr_array_add (copy, g_error_copy (g_ptr_array_index (self->errors, i)));
  return copy;
}

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
  g_return_if_fail (NURSERY_IS_GROUP (self));

  if (g_strcmp0 (self->name, name) == 0)
    return;
  g_free (self->name);
  self->name = g_strdup (name);
  mark_dirty (self, BIT (PROP_NAME));
  schedule (self);
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
 * Sets what the group does when a child fails or succeeds (DESIGN R11).
 * It applies to the children that finish from now on.
 *
 * Since: 1.0
 */
void
nursery_group_set_policy (NurseryGroup  *self,
                          NurseryPolicy  policy)
{
  g_return_if_fail (NURSERY_IS_GROUP (self));
  g_return_if_fail (policy <= NURSERY_POLICY_RACE);

  if (self->policy == policy)
    return;
  self->policy = policy;
  mark_dirty (self, BIT (PROP_POLICY));
  schedule (self);
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
 * Limits how many children run at once (DESIGN R19). Raising the limit
 * starts waiting children on the next iteration; lowering it lets the
 * running ones finish.
 *
 * Since: 1.0
 */
void
nursery_group_set_max_concurrent (NurseryGroup *self,
                                  guint         max_concurrent)
{
  g_return_if_fail (NURSERY_IS_GROUP (self));

  if (self->max_concurrent == max_concurrent)
    return;
  self->max_concurrent = max_concurrent;
  mark_dirty (self, BIT (PROP_MAX_CONCURRENT));
  schedule (self);
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
