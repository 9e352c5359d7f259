/* nursery-task.c: one child of a NurseryGroup
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A NurseryTask is the handle of one child. Its group owns the schedule
 * (when the function runs, when completion is reported); the task owns
 * the result.
 *
 * Results may be returned from any thread. The first return sets
 * `returned` under the lock and writes the result; every later return is a
 * critical and is ignored (R3). The result is then handed to the
 * group, which reports completion on its owner context:
 *  - an in-context child is handed over by the return itself;
 *  - a thread child is handed over by its worker once the function has
 *    returned, so "finished" always means "function returned" (R6).
 *
 * Whether the outcome is SUCCEEDED, FAILED or CANCELLED is settled at
 * completion, from the stored result and whether the task was cancelled
 * *when it returned*: a value is never turned into CANCELLED (R9), and
 * G_IO_ERROR_CANCELLED counts as a cancellation only when this task had
 * been cancelled (R8); nothing that happens after the return changes it.
 *
 * Property notifications are queued on the group and emitted in its next
 * batch, never inside the setter (R21).
 *
 * The GCancellable is created on first request: most children never ask
 * for it, and a GObject per child is the largest cost of a spawn.
 */

#include "config.h"

#include "nursery-cancel-private.h"
#include "nursery-deadline-private.h"
#include "nursery-debug-private.h"
#include "nursery-pool-private.h"
#include "nursery-queued-child-private.h"
#include "nursery-refuse-private.h"
#include "nursery-enums.h"
#include "nursery-error.h"
#include "nursery-group-stream-private.h"
#include "nursery-links-private.h"
#include "nursery-runner-private.h"
#include "nursery-task-private.h"
#include "nursery-tsan-private.h"
#include "nursery-waiters-private.h"

enum {
  PROP_0,
  PROP_NAME,
  PROP_STATE,
  PROP_SHIELDED,
  PROP_DEADLINE,
  PROP_PROGRESS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/**
 * NurseryTask:
 *
 * One child of a [class@Nursery.Group]: the handle returned by
 * [method@Nursery.Group.spawn] and passed to the child's function.
 *
 * A task finishes exactly once: it succeeds (with an optional value set
 * by one of the `nursery_task_return_*()` functions), fails (with a
 * [struct@GLib.Error]) or is cancelled. Its result stays readable from the
 * handle afterwards: [method@Nursery.Task.get_value],
 * [method@Nursery.Task.get_error], [method@Nursery.Task.get_state].
 *
 * The child passes [method@Nursery.Task.get_cancellable] to the calls it
 * makes; it is cancelled when the task or its group is. Tasks can be
 * shielded from their group's cancellation and given their own deadline.
 *
 * The group holds its own reference until the child has finished:
 * dropping the handle neither stops nor leaks the child. Keep a reference
 * for as long as you keep the pointer: once a finished task has been
 * reported, a group may reset it and hand the same object to a later
 * child, if nothing else can see it (no other reference, weak reference,
 * object data or `notify` handler) ([R28](rules.html#R28)).
 *
 * Since: 1.0
 */
G_DEFINE_FINAL_TYPE (NurseryTask, nursery_task, G_TYPE_OBJECT)

static const char *
display_name (NurseryTask *self)
{
  return self->name != NULL ? self->name : "(unnamed)";
}

/* A G_IO_ERROR_CANCELLED naming the task. Most children have no name:
 * they get the same text from @unnamed_message as a literal, without
 * formatting it (about half the cost, once per cancelled child). */
static GError *
cancelled_error (NurseryTask *self,
                 const char  *format,
                 const char  *unnamed_message)
{
  if (self->name == NULL)
    return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, unnamed_message);
  return g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, format, self->name);
}

/* Frees what the task holds: its finalization, and its reset when it is
 * reused (see _nursery_task_reset()). */
static void
extra_free (NurseryTaskExtra *extra)
{
  g_assert (extra->waiters == NULL);
  g_assert (extra->starters == NULL);
  g_assert (extra->nested_groups == NULL);
  g_assert (extra->cleanups == NULL);

  if (extra->started_value != NULL)
    {
      g_value_unset (extra->started_value);
      g_free (extra->started_value);
    }
  g_free (extra);
}

/* Whether @self's value is none or a plain one, of return_boolean() or
 * return_int() (the common children): nothing to free. */
static gboolean
holds_plain_value (NurseryTask *self)
{
  GType type = G_VALUE_TYPE (&self->value);

  return type == G_TYPE_INVALID || type == G_TYPE_BOOLEAN || type == G_TYPE_INT64;
}

/* g_value_unset() looks the type's value table up to learn whether
 * there is anything to free; for a plain value there never is, and the
 * value is only zeroed (by the reset of a reused task, or with the
 * task). */
static void
clear_result_value (NurseryTask *self)
{
  if (!holds_plain_value (self))
    g_value_unset (&self->value);
}

/* Everything a child left in @self but the anchor, which finalize drops
 * and _nursery_task_reset() keeps. What this frees,
 * _nursery_task_holds_nothing() checks for. */
static void
nursery_task_clear (NurseryTask *self)
{
  NurseryTaskExtra *extra = _nursery_task_peek_extra (self);

  _nursery_task_release (self);
  _nursery_task_drop_cleanups (self);
  if (extra != NULL && extra->value_destroy != NULL)
    extra->value_destroy (g_value_get_pointer (&self->value));
  g_clear_pointer (&self->extra, extra_free);
  clear_result_value (self);
  g_clear_error (&self->error);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->name, g_free);
}

static void
nursery_task_finalize (GObject *object)
{
  NurseryTask *self = (NurseryTask *) object;

  _nursery_tsan_acquire_sole_owner (object);
  /* Unchecked: GObject calls this only for a task, once per child. */
  nursery_task_clear (self);
  g_clear_pointer (&self->anchor, _nursery_anchor_unref);

  G_OBJECT_CLASS (nursery_task_parent_class)->finalize (object);
}

static void
nursery_task_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  NurseryTask *self = NURSERY_TASK (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_STATE:
      g_value_set_enum (value, nursery_task_get_state (self));
      break;

    case PROP_SHIELDED:
      g_value_set_boolean (value, nursery_task_get_shielded (self));
      break;

    case PROP_DEADLINE:
      g_value_set_int64 (value, nursery_task_get_deadline (self));
      break;

    case PROP_PROGRESS:
      g_value_set_double (value, nursery_task_get_progress (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nursery_task_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  NurseryTask *self = NURSERY_TASK (object);

  switch (prop_id)
    {
    case PROP_SHIELDED:
      nursery_task_set_shielded (self, g_value_get_boolean (value));
      break;

    case PROP_DEADLINE:
      nursery_task_set_deadline (self, g_value_get_int64 (value));
      break;

    case PROP_PROGRESS:
      nursery_task_set_progress (self, g_value_get_double (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
nursery_task_class_init (NurseryTaskClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = nursery_task_finalize;
  object_class->get_property = nursery_task_get_property;
  object_class->set_property = nursery_task_set_property;

  /**
   * NurseryTask:name:
   *
   * The name given at spawn time, for logs and tree dumps.
   *
   * Since: 1.0
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * NurseryTask:state:
   *
   * Where the task is in its life. Changes are notified on the group's
   * owner context.
   *
   * Since: 1.0
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       NURSERY_TYPE_TASK_STATE,
                       NURSERY_TASK_PENDING,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NurseryTask:shielded:
   *
   * Whether cancellation of the group (explicit, by a failure, by the
   * group's deadline, by its parent…) passes this task by. Only its own
   * [method@Nursery.Task.cancel] and its own deadline reach it.
   *
   * Since: 1.0
   */
  properties[PROP_SHIELDED] =
    g_param_spec_boolean ("shielded", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NurseryTask:deadline:
   *
   * When the task times out, in monotonic microseconds
   * (g_get_monotonic_time()), or -1 for never.
   *
   * Since: 1.0
   */
  properties[PROP_DEADLINE] =
    g_param_spec_int64 ("deadline", NULL, NULL, -1, G_MAXINT64, -1,
                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * NurseryTask:progress:
   *
   * How far the task is, from 0 to 1, or -1 if unknown (the default).
   * Settable from any thread with [method@Nursery.Task.set_progress];
   * notified on the group's owner context, at most once per batch.
   *
   * Since: 1.0
   */
  properties[PROP_PROGRESS] =
    g_param_spec_double ("progress", NULL, NULL, -1.0, 1.0, -1.0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
nursery_task_init (NurseryTask *self)
{
  self->all_link.data = self;
  self->queue_link.data = self;
  self->deadline = NURSERY_NO_DEADLINE;
}

NurseryTaskExtra *
_nursery_task_extra (NurseryTask *self)
{
  NurseryTaskExtra *extra = _nursery_task_peek_extra (self);

  if (G_LIKELY (extra != NULL))
    return extra;

  /* Lock-free: the first of two racing threads wins, the other frees
   * its copy. */
  extra = g_new0 (NurseryTaskExtra, 1);
  extra->progress = -1.0;
  if (!g_atomic_pointer_compare_and_exchange (&self->extra, NULL, extra))
    {
      g_free (extra);
      extra = _nursery_task_peek_extra (self);
    }
  return extra;
}

/* @recycled, a task _nursery_task_reset() reset, or NULL for a new one.
 * @name is taken; @spawn_time is when the child was spawned. */
NurseryTask *
_nursery_task_new (NurseryTask     *recycled,
                   NurseryAnchor   *anchor,
                   char            *name,
                   NurseryTaskFunc  func,
                   gpointer         user_data,
                   GDestroyNotify   destroy,
                   gboolean         in_thread,
                   gint64           spawn_time)
{
  /* Fields are set directly rather than through construct properties:
   * this is the hot path of every spawn (and no varargs to walk). */
  NurseryTask *self = recycled;

  if (self == NULL)
    {
      self = (NurseryTask *) g_object_new_with_properties (NURSERY_TYPE_TASK, 0, NULL, NULL);
      self->anchor = _nursery_anchor_ref (anchor);
    }
  /* A recycled task keeps its group's anchor (_nursery_task_reset()). */
  g_assert (self->anchor == anchor);
  self->name = name;
  self->func = func;
  self->user_data = user_data;
  self->destroy = destroy;
  self->in_thread = !!in_thread;
  self->spawn_time = spawn_time;

  return self;
}

/* PyGObject leaves its instance data on every object it ever wrapped,
 * after the wrapper is gone: the Python class its wrappers get (the same
 * for every task) and the closures Python connected (signal handlers,
 * which the notify check sees). It says nothing about this task, so it
 * does not keep a Python child's task from being reused. Any other qdata
 * does. */
static void
find_other_qdata (GQuark   key,
                  gpointer data,
                  gpointer found)
{
  /* Looked up until PyGObject has registered it, then kept: the lookup
   * takes GLib's global quark lock. Atomic: groups on several threads
   * report their children at once. */
  static GQuark instance_data;
  GQuark known = (GQuark) g_atomic_int_get ((gint *) &instance_data);

  if (known == 0)
    {
      known = g_quark_try_string ("PyGObject::instance-data");
      g_atomic_int_set ((gint *) &instance_data, (gint) known);
    }
  if (key != known)
    *(gboolean *) found = TRUE;
}

static gboolean
has_other_qdata (GObject *object)
{
  gboolean found = FALSE;

  if (g_atomic_pointer_get (&object->qdata) == NULL)
    return FALSE;
  g_datalist_foreach (&object->qdata, find_other_qdata, &found);
  return found;
}

/* Whether anything but its group can tell @self exists: a reference of
 * its own, qdata (a weak reference, a toggle reference, a binding's
 * wrapper, a closure watching it, object data; also a frozen notify
 * queue) or a notify handler (the only signal of a task). */
gboolean
_nursery_task_is_seen_outside_group (NurseryTask *self)
{
  GObject *object = (GObject *) self;

  if (g_atomic_int_get (&object->ref_count) != 1)
    return TRUE;
  /* What the last other holder did with it (a tree dump reading it on
   * another thread) happened before its unref, hence before this. */
  _nursery_tsan_acquire_sole_owner (object);
  return has_other_qdata (object) || _nursery_object_has_notify_handler (self);
}

/* Whether @self holds nothing to free: a plain value at most (a task
 * that gave its success back to its record gave away its name and user
 * data too, and had no error, extra parts or deadline to give). Its reset
 * then runs no code but a memset(), so it may be done under a lock. */
gboolean
_nursery_task_holds_nothing (NurseryTask *self)
{
  return self->name == NULL && self->destroy == NULL && self->error == NULL &&
         self->cancellable == NULL && _nursery_task_peek_extra (self) == NULL &&
         holds_plain_value (self) && !_nursery_deadline_is_armed (&self->deadline_timer);
}

/* Owner context, by the group holding the only reference to @self, a
 * reported child that nothing else can tell exists
 * (_nursery_task_is_seen_outside_group()): @self is reset to what
 * g_object_new() returns, its group's anchor aside, for the group's next
 * spawn. A short child's GObject life (g_object_new() to finalize) is
 * about 3 500 instructions on GLib 2.74, most of a spawn and join. */
void
_nursery_task_reset (NurseryTask *self)
{
  /* Kept: its next child is one of the same group. */
  NurseryAnchor *anchor = self->anchor;

  /* The usual case, once per start_soon() child (R28): nothing to clear
   * but the fields the memset() below zeroes. */
  if (!_nursery_task_holds_nothing (self))
    nursery_task_clear (self);
  memset ((char *) self + sizeof (GObject), 0, sizeof (NurseryTask) - sizeof (GObject));
  nursery_task_init (self);
  self->anchor = anchor;
}

/* State and queue moves: the table in nursery-task-private.h, checked */

#if NURSERY_CHECK_TASK_MOVES

/* A task's state and flags as one small number: state × 4 + flags. */
enum {
  FLAG_CANCELLED = 1 << 0,
  FLAG_RETURNED  = 1 << 1,
};
#define AT(state, flags) (1u << (NURSERY_TASK_##state * 4 + (flags)))
#define C FLAG_CANCELLED
#define R FLAG_RETURNED

/* legal_move[from][to]: the states and flags (bits AT()) in which a task
 * in queue @from may move to queue @to; the table of the header, row by
 * row. 0: never. */
static const guint32 legal_move[NURSERY_TASK_N_QUEUES][NURSERY_TASK_N_QUEUES] = {
  /* Spawned. */
  [NURSERY_TASK_IN_NO_QUEUE][NURSERY_TASK_IN_PENDING] = AT (PENDING, 0),
  /* Cancelled before its turn (R5). */
  [NURSERY_TASK_IN_PENDING][NURSERY_TASK_IN_DOOMED] = AT (PENDING, C),
  /* Taken by the batch, to start or (then cancelled) to finish unstarted. */
  [NURSERY_TASK_IN_PENDING][NURSERY_TASK_IN_NO_QUEUE] = AT (PENDING, 0),
  /* Returned, cancelled or not. */
  [NURSERY_TASK_IN_NO_QUEUE][NURSERY_TASK_IN_RETURNED] = AT (RUNNING, R) | AT (RUNNING, C | R),
  /* The batch takes the doomed or the returned tasks. */
  [NURSERY_TASK_IN_DOOMED][NURSERY_TASK_IN_NO_QUEUE] = AT (PENDING, C),
  [NURSERY_TASK_IN_RETURNED][NURSERY_TASK_IN_NO_QUEUE] = AT (RUNNING, R) | AT (RUNNING, C | R),
};

/* legal_state[from]: the states a task may change to from @from (none
 * from a finished state). */
static const guint8 legal_state[NURSERY_TASK_CANCELLED + 1] = {
  [NURSERY_TASK_PENDING] = 1u << NURSERY_TASK_RUNNING | 1u << NURSERY_TASK_FAILED |
                           1u << NURSERY_TASK_CANCELLED,
  [NURSERY_TASK_RUNNING] = 1u << NURSERY_TASK_SUCCEEDED | 1u << NURSERY_TASK_FAILED |
                           1u << NURSERY_TASK_CANCELLED,
};

#undef AT
#undef C
#undef R

/* A broken invariant is a bug in Nursery, never the caller's: abort with
 * what the task was, like a failed g_assert(). */
G_GNUC_NORETURN static void
illegal_move (NurseryTask *self,
              const char  *what,
              int          to)
{
  g_error ("task “%s”: illegal %s to %d (state %d, queue %d, cancelled %d, returned %d)",
           display_name (self), what, to, g_atomic_int_get (&self->state), self->in_queue,
           g_atomic_int_get (&self->cancelled), g_atomic_int_get (&self->returned));
}

#endif /* NURSERY_CHECK_TASK_MOVES */

/* The checks, in debug builds only (NURSERY_CHECK_TASK_MOVES, see
 * nursery/meson.build). */
static inline void
check_move_locked (NurseryTask      *self,
                   NurseryTaskQueue  to)
{
#if NURSERY_CHECK_TASK_MOVES
  guint at = g_atomic_int_get (&self->state) * 4 +
             (g_atomic_int_get (&self->cancelled) ? FLAG_CANCELLED : 0) +
             (g_atomic_int_get (&self->returned) ? FLAG_RETURNED : 0);

  if (G_UNLIKELY (!(legal_move[self->in_queue][to] & (1u << at))))
    illegal_move (self, "queue move", to);
#endif
}

static inline void
check_state (NurseryTask      *self,
             NurseryTaskState  state)
{
#if NURSERY_CHECK_TASK_MOVES
  if (G_UNLIKELY (!(legal_state[g_atomic_int_get (&self->state)] & (1u << state))))
    illegal_move (self, "state change", state);
#endif
}

static inline void
check (NurseryTask *self,
       gboolean     holds,
       const char  *what)
{
#if NURSERY_CHECK_TASK_MOVES
  if (G_UNLIKELY (!holds))
    illegal_move (self, what, -1);
#endif
}

static void
set_state (NurseryTask      *self,
           NurseryTaskState  state)
{
  check_state (self, state);
  g_atomic_int_set (&self->state, state);
}

static inline void
move_locked (NurseryTask      *self,
             GQueue           *to,
             NurseryTaskQueue  in_queue)
{
  check_move_locked (self, in_queue);
  if (self->queue != NULL)
    _nursery_link_unlink (self->queue, &self->queue_link);
  if (to != NULL)
    _nursery_link_push_tail (to, &self->queue_link);
  self->queue = in_queue != NURSERY_TASK_IN_NO_QUEUE ? to : NULL;
  self->in_queue = in_queue;
}

/* Moves the queue link to @to, a queue of kind @in_queue, or for
 * NURSERY_TASK_IN_NO_QUEUE a queue the owner's batch holds (or none: @to
 * NULL). From no queue, the link must be free: a running task's is. */
void
_nursery_task_move_locked (NurseryTask      *self,
                           GQueue           *to,
                           NurseryTaskQueue  in_queue)
{
  move_locked (self, to, in_queue);
}

/* Spawned: it joins the group's unfinished tasks and its pending queue. */
void
_nursery_task_enqueue_locked (NurseryTask *self,
                              GQueue      *unfinished,
                              GQueue      *pending)
{
  _nursery_link_push_tail (unfinished, &self->all_link);
  move_locked (self, pending, NURSERY_TASK_IN_PENDING);
}

/* The batch takes the whole queue @from (the doomed or the returned
 * tasks) into its own @to, in one go. Each task then is in no queue of
 * the group's, not still "in" @from, which by then holds later ones. */
void
_nursery_task_take_all_locked (GQueue *from,
                               GQueue *to)
{
  for (GList *l = from->head; l != NULL; l = l->next)
    {
      NurseryTask *task = l->data;

      /* A queued child in the returned queue has no queue state. */
      if (_nursery_is_queued_child (task))
        continue;
      check (task, task->queue == from, "take from another queue");
      check_move_locked (task, NURSERY_TASK_IN_NO_QUEUE);
      task->queue = NULL;
      task->in_queue = NURSERY_TASK_IN_NO_QUEUE;
    }
  *to = *from;
  g_queue_init (from);
}

/* A child queued by nursery_group_start_soon() becomes @self, a new
 * task: @self takes its place in @unfinished (its @all_link; NULL when
 * it left them already: @self joins at the end) and, while it waits
 * there, in @pending (its @queue_link); otherwise the queued child was
 * taken by the batch, and @self is in no queue. */
void
_nursery_task_adopt_locked (NurseryTask *self,
                            GQueue      *unfinished,
                            GList       *all_link,
                            GQueue      *pending,
                            GList       *queue_link)
{
  if (all_link != NULL)
    _nursery_link_replace (unfinished, all_link, &self->all_link);
  else
    _nursery_link_push_tail (unfinished, &self->all_link);
  if (pending == NULL)
    return;
  check_move_locked (self, NURSERY_TASK_IN_PENDING);
  _nursery_link_replace (pending, queue_link, &self->queue_link);
  self->queue = pending;
  self->in_queue = NURSERY_TASK_IN_PENDING;
}

/* Reported: it leaves the group's unfinished tasks with its outcome. */
void
_nursery_task_finish_locked (NurseryTask      *self,
                             GQueue           *unfinished,
                             NurseryTaskState  outcome)
{
  check (self, self->in_queue == NURSERY_TASK_IN_NO_QUEUE && g_atomic_int_get (&self->returned),
         "finish while queued or before returning");
  _nursery_link_unlink (unfinished, &self->all_link);
  set_state (self, outcome);
}

NurseryTaskQueue
_nursery_task_get_queue_locked (NurseryTask *self)
{
  return self->in_queue;
}

/* The completion stream keeps finished tasks in @queue through their
 * queue link, free once they are reported. No lock: nothing moves a
 * finished task any more. */
void
_nursery_task_queue_finished (NurseryTask *self,
                              GQueue      *queue)
{
  check (self, g_atomic_int_get (&self->state) > NURSERY_TASK_RUNNING &&
         self->in_queue == NURSERY_TASK_IN_NO_QUEUE, "completed queue before finishing");
  g_queue_push_tail_link (queue, &self->queue_link);
}

/* A plain value (@type G_TYPE_INVALID for none, G_TYPE_BOOLEAN or
 * G_TYPE_INT64) into @value, which holds none yet: what g_value_init()
 * and g_value_set_*() do, without their table lookups, on every short
 * child's return. */
static void
set_plain_value (GValue *value,
                 GType   type,
                 gint64  v)
{
  g_assert (G_VALUE_TYPE (value) == G_TYPE_INVALID);
  if (type == G_TYPE_INVALID)
    return;
  memset (value->data, 0, sizeof value->data);
  value->g_type = type;
  if (type == G_TYPE_BOOLEAN)
    value->data[0].v_int = v != 0;
  else
    value->data[0].v_int64 = v;
}

/* A queued child keeps the type of its plain value in a byte. */
G_STATIC_ASSERT (G_TYPE_BOOLEAN <= G_MAXUINT8 && G_TYPE_INT64 <= G_MAXUINT8);

/* Owner context, with the anchor's lock held, for a queued child's task
 * that returned within its function (nursery-group-soon.c). When nothing
 * but its group can see @self, it needed nothing of its extra parts (a
 * cleanup, a nested group, a waiter, a start handshake), has no deadline,
 * was not cancelled (a record has no such flag: the task made again for
 * its report would say it was not, R12) and succeeded with a plain value
 * (none, a boolean, an int64), its outcome goes back to @child: its value
 * and name take the task's, the task forgets the user data (@child has it
 * too) and TRUE is returned; the group then reuses the task. */
gboolean
_nursery_task_give_back_success_locked (NurseryTask        *self,
                                        NurseryQueuedChild *child)
{
  GType type = G_VALUE_TYPE (&self->value);

  if (self->error != NULL || g_atomic_int_get (&self->cancelled) ||
      _nursery_task_peek_extra (self) != NULL ||
      self->deadline != NURSERY_NO_DEADLINE || !holds_plain_value (self) ||
      _nursery_task_is_seen_outside_group (self))
    return FALSE;

  /* A plain value has nothing to unset: its fields are read as
   * set_plain_value() wrote them. */
  child->value_type = (guint8) type;
  child->value = type == G_TYPE_BOOLEAN ? self->value.data[0].v_int :
                 type == G_TYPE_INT64 ? self->value.data[0].v_int64 : 0;
  memset (&self->value, 0, sizeof self->value);
  child->name = g_steal_pointer (&self->name);
  self->func = NULL;
  self->user_data = NULL;
  self->destroy = NULL;
  return TRUE;
}

/* The reverse, when its report needs a task after all: @self, a new
 * task for @child, has run and returned @child's value. */
void
_nursery_task_restore_success (NurseryTask        *self,
                               NurseryQueuedChild *child)
{
  set_state (self, NURSERY_TASK_RUNNING);
  set_plain_value (&self->value, child->value_type, child->value);
  g_atomic_int_set (&self->returned, TRUE);
}

/* Nesting (R14) */

/* Under the task's lock: a thread child may nest groups while its group's
 * owner dumps the tree, and a tree dump may walk the list from any
 * context. */
void
_nursery_task_add_nested_group (NurseryTask  *self,
                                NurseryGroup *group)
{
  NurseryTaskExtra *extra = _nursery_task_extra (self);

  g_mutex_lock (&self->anchor->lock);
  extra->nested_groups = g_slist_prepend (extra->nested_groups, group);
  g_mutex_unlock (&self->anchor->lock);
}

void
_nursery_task_remove_nested_group (NurseryTask  *self,
                                   NurseryGroup *group)
{
  NurseryTaskExtra *extra = _nursery_task_extra (self);

  g_mutex_lock (&self->anchor->lock);
  extra->nested_groups = g_slist_remove (extra->nested_groups, group);
  g_mutex_unlock (&self->anchor->lock);
}

/* Notifications (R21): queued on the group, emitted in its next batch on
 * the owner context, never inside the setter that caused them. */

/* Whether anyone hears @object's notifications: a "notify" handler for
 * any detail, blocked or not. Not g_signal_has_handler_pending() with
 * detail 0: that matches only handlers connected without a detail, and
 * misses notify::name connections and property bindings; a match on the
 * signal id alone finds them all. Both classes are final, so no subclass
 * can override the notify vfunc behind the signal's back. The check
 * costs about as much as one notify without a listener on GLib 2.74
 * (~180 instructions), so it pays only where it saves a freeze and thaw
 * with several notifies: the group's batch, not a task's state. */
gboolean
_nursery_object_has_notify_handler (gpointer object)
{
  /* Atomic: owner contexts of different groups may ask at once; they
   * all store the same id. */
  static guint notify_signal_id;
  guint notify_signal = g_atomic_int_get (&notify_signal_id);

  if (G_UNLIKELY (notify_signal == 0))
    {
      notify_signal = g_signal_lookup ("notify", G_TYPE_OBJECT);
      g_atomic_int_set (&notify_signal_id, notify_signal);
    }
  return g_signal_handler_find (object, G_SIGNAL_MATCH_ID, notify_signal,
                                0, NULL, NULL, NULL) != 0;
}

/* The hot path's state notifies: an unchecked cast, the type is known. */
static void
notify_state (NurseryTask *self)
{
  g_object_notify_by_pspec ((GObject *) self, properties[PROP_STATE]);
}

static void
queue_notify (NurseryTask *self,
              guint        prop)
{
  NurseryAnchor *anchor = self->anchor;

  /* Already queued: the batch will see this bit too. */
  if (g_atomic_int_or (&self->dirty, 1u << prop) != 0)
    return;
  g_mutex_lock (&anchor->lock);
  if (anchor->group != NULL)
    _nursery_group_task_notify_locked (anchor->group, self);
  g_mutex_unlock (&anchor->lock);
}

/* Owner context, in the group's batch. */
void
_nursery_task_flush_notifications (NurseryTask *self)
{
  guint dirty = g_atomic_int_and (&self->dirty, 0);

  for (guint prop = 1; prop < N_PROPS; prop++)
    if (dirty & (1u << prop))
      g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

/* Running */

static void
nursery_task_deliver (NurseryTask *self)
{
  NurseryAnchor *anchor = self->anchor;

  /* The group is alive: it outlives every unfinished child (R20). */
  g_mutex_lock (&anchor->lock);
  _nursery_group_task_returned_locked (anchor->group, self);
  g_mutex_unlock (&anchor->lock);
}

/* The first return wins, and fixes what decides the outcome as of now
 * (R7, R8, R17). Under the lock, so that a cancel or a deadline is either
 * wholly before the return or wholly after it. */
static gboolean
claim_return_locked (NurseryTask *self)
{
  if (g_atomic_int_get (&self->returned))
    return FALSE;
  g_atomic_int_set (&self->returned, TRUE);
  self->cancelled_at_return = !!g_atomic_int_get (&self->cancelled);
  self->timed_out_at_return = self->timed_out;
  return TRUE;
}

static gboolean
claim_return (NurseryTask *self)
{
  gboolean claimed;

  g_mutex_lock (&self->anchor->lock);
  claimed = claim_return_locked (self);
  g_mutex_unlock (&self->anchor->lock);
  return claimed;
}

/* On a worker of Nursery's pool (R28): no GTask and no completion idle
 * per child; the group's batch reports it. */
static void
nursery_task_thread_func (gpointer data)
{
  NurseryTask *self = data;

  self->func (self, self->user_data);
  _nursery_pool_user_code_done ();

  /* R2: a thread child that returns without a result succeeds. */
  claim_return (self);

  /* Last touch of @self on this thread: once delivered, the owner
   * context may finish and free it. */
  nursery_task_deliver (self);
}

/* Owner context only: starts the child (R1, R2). */
void
_nursery_task_run (NurseryTask *self,
                   gboolean     seen)
{
  set_state (self, NURSERY_TASK_RUNNING);
  /* A task made when its turn came has had no chance of a listener. */
  if (seen)
    notify_state (self);

  if (self->in_thread)
    _nursery_pool_push (nursery_task_thread_func, self);
  else
    self->func (self, self->user_data);
}

/* Owner context only: R5, the child is cancelled before its turn came. */
void
_nursery_task_finish_unstarted (NurseryTask *self)
{
  /* It never ran, so nothing returned before: this claim wins. */
  claim_return (self);
  self->error = cancelled_error (self, "Task “%s” was cancelled before it started",
                                 "Task “(unnamed)” was cancelled before it started");
}


/* Owner context only, once the result is final. */
NurseryTaskState
_nursery_task_settle_outcome (NurseryTask *self)
{
  if (self->error == NULL)
    return NURSERY_TASK_SUCCEEDED;
  if (!self->cancelled_at_return ||
      !g_error_matches (self->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return NURSERY_TASK_FAILED;
  if (!self->timed_out_at_return)
    return NURSERY_TASK_CANCELLED;

  /* R17: cancelled by its own deadline, it failed. The child's own
   * error becomes the TIMED_OUT one in place, and an unnamed child's
   * text is a literal: this runs once per timed-out child, on the path
   * that decides how late the next deadline fires. */
  self->error->code = G_IO_ERROR_TIMED_OUT;
  g_free (self->error->message);
  self->error->message = self->name == NULL ? g_strdup ("Task “(unnamed)” timed out")
                                            : g_strdup_printf ("Task “%s” timed out", self->name);
  return NURSERY_TASK_FAILED;
}

/* Owner context only: the user data is released where it was handed
 * over, never on a worker thread (bindings free closures there). */
void
_nursery_task_release (NurseryTask *self)
{
  GDestroyNotify destroy = g_steal_pointer (&self->destroy);
  gpointer user_data = g_steal_pointer (&self->user_data);

  self->func = NULL;
  _nursery_deadline_destroy (&self->deadline_timer);
  if (destroy != NULL)
    destroy (user_data);
}

/* Owner context only, once the group has recorded the outcome. */
void
_nursery_task_complete_waiters (NurseryTask *self)
{
  NurseryTaskExtra *extra = _nursery_task_peek_extra (self);

  notify_state (self);
  if (extra != NULL)
    _nursery_waiters_complete (&extra->waiters, self->error);
}

/* Cancellation */

typedef enum
{
  CANCEL_ALWAYS         = 0,
  CANCEL_UNLESS_STARTED = 1 << 0,  /* R18: started() makes it ordinary */
  CANCEL_BY_DEADLINE    = 1 << 1,  /* R17: unless it has returned already */
} TaskCancelFlags;

static gboolean
spared_locked (NurseryTask     *self,
               TaskCancelFlags  flags)
{
  if (nursery_task_is_finished (self))
    return TRUE;
  if ((flags & CANCEL_UNLESS_STARTED) && self->started)
    return TRUE;
  return (flags & CANCEL_BY_DEADLINE) && g_atomic_int_get (&self->returned);
}

/* Cancels this task alone (R13), from any thread. */
static void
cancel_task (NurseryTask     *self,
             TaskCancelFlags  flags)
{
  NurseryAnchor *anchor = self->anchor;
  GCancellable *cancellable = NULL;

  g_mutex_lock (&anchor->lock);
  if (!spared_locked (self, flags))
    {
      if (flags & CANCEL_BY_DEADLINE)
        self->timed_out = TRUE;
      cancellable = _nursery_task_mark_cancelled_locked (self);
      _nursery_group_task_cancelled_locked (anchor->group, self);
    }
  g_mutex_unlock (&anchor->lock);

  /* Outside the lock: the cancellable's handlers run from here. */
  if (cancellable != NULL)
    _nursery_cancel_take (cancellable);
}

/* Returns a reference to the cancellable to cancel once the lock is
 * dropped (its handlers may call back into Nursery), or NULL. */
GCancellable *
_nursery_task_mark_cancelled_locked (NurseryTask *self)
{
  if (g_atomic_int_get (&self->cancelled))
    return NULL;
  g_atomic_int_set (&self->cancelled, TRUE);
  return self->cancellable != NULL ? g_object_ref (self->cancellable) : NULL;
}

/**
 * nursery_task_cancel:
 * @self: a task
 *
 * Cancels this task only: its cancellable is cancelled and, if it has not
 * started yet, it finishes as cancelled without running ([R5](rules.html#R5)).
 * Cancelling a task is not a failure of its group ([R13](rules.html#R13)).
 *
 * May be called from any thread, any number of times, also after the task
 * finished (then it does nothing).
 *
 * Since: 1.0
 */
void
nursery_task_cancel (NurseryTask *self)
{
  g_return_if_fail (NURSERY_IS_TASK (self));

  cancel_task (self, CANCEL_ALWAYS);
}

/**
 * nursery_task_get_cancellable:
 * @self: a task
 *
 * The cancellable of this task: it is cancelled when the task is
 * cancelled, by [method@Nursery.Task.cancel], by its group or by anything
 * that cancels the group. Pass it to the GIO calls the task makes.
 *
 * Thread-safe. The cancellable is created on first use.
 *
 * Returns: (transfer none): the task's cancellable
 *
 * Since: 1.0
 */
GCancellable *
nursery_task_get_cancellable (NurseryTask *self)
{
  GCancellable *cancellable;

  g_return_val_if_fail (NURSERY_IS_TASK (self), NULL);

  g_mutex_lock (&self->anchor->lock);
  if (self->cancellable == NULL)
    {
      GCancellable *fresh = g_cancellable_new ();

      /* Nobody has seen @fresh yet, so no handler can run under the lock. */
      if (g_atomic_int_get (&self->cancelled))
        g_cancellable_cancel (fresh);
      self->cancellable = fresh;
    }
  cancellable = self->cancellable;
  g_mutex_unlock (&self->anchor->lock);

  return cancellable;
}

/**
 * nursery_task_is_cancelled:
 * @self: a task
 *
 * Whether the task has been cancelled. Cheaper than asking its
 * cancellable, so a thread child can poll it in a loop. Thread-safe.
 *
 * Returns: %TRUE once the task was cancelled
 *
 * Since: 1.0
 */
gboolean
nursery_task_is_cancelled (NurseryTask *self)
{
  g_return_val_if_fail (NURSERY_IS_TASK (self), FALSE);

  return g_atomic_int_get (&self->cancelled);
}

/* Returning */

/* A return before the task has run is a programmer's error... */
static gboolean
check_started (NurseryTask *self,
               const char  *func)
{
  if (g_atomic_int_get (&self->state) != NURSERY_TASK_PENDING)
    return TRUE;
  g_critical ("%s: task “%s” has not started yet", func, display_name (self));
  return FALSE;
}

/* ...and so is one after its first return, which wins (R3). */
static void
warn_returned_twice (NurseryTask *self,
                     const char  *func)
{
  g_critical ("%s: task “%s” has already returned; this result is ignored",
              func, display_name (self));
}

static gboolean
nursery_task_claim_return (NurseryTask *self,
                           const char  *func)
{
  if (!check_started (self, func))
    return FALSE;
  if (!claim_return (self))
    {
      warn_returned_twice (self, func);
      return FALSE;
    }
  return TRUE;
}

/* return_boolean() and return_int(), the hot path of short children:
 * the claim, the value (no user code: no copy function to run) and, in
 * context, the delivery, in one critical section instead of two (R28). */
static void
return_plain (NurseryTask *self,
              GType        type,
              gint64       result,
              const char  *func)
{
  NurseryAnchor *anchor = self->anchor;

  if (!check_started (self, func))
    return;
  g_mutex_lock (&anchor->lock);
  if (!claim_return_locked (self))
    {
      g_mutex_unlock (&anchor->lock);
      warn_returned_twice (self, func);
      return;
    }
  set_plain_value (&self->value, type, result);
  /* A thread child is handed over when its function returns. The group
   * is alive: it outlives every unfinished child (R20). */
  if (!self->in_thread)
    _nursery_group_task_returned_locked (anchor->group, self);
  g_mutex_unlock (&anchor->lock);
}

static void
nursery_task_returned (NurseryTask *self)
{
  /* A thread child is handed over by its worker when the function
   * returns (see nursery_task_thread_func). */
  if (!self->in_thread)
    nursery_task_deliver (self);
}

/**
 * nursery_task_return_value:
 * @self: a running task
 * @value: (nullable): the result, copied; %NULL for none
 *
 * Finishes the task successfully with @value. The value stays readable
 * with [method@Nursery.Task.get_value], even if the task is cancelled
 * afterwards ([R9](rules.html#R9)).
 *
 * Every task returns exactly once; a second return is a critical and is
 * ignored ([R3](rules.html#R3)). May be called from any thread.
 *
 * Since: 1.0
 */
void
nursery_task_return_value (NurseryTask  *self,
                           const GValue *value)
{
  g_return_if_fail (NURSERY_IS_TASK (self));
  g_return_if_fail (value == NULL || G_IS_VALUE (value));

  if (!nursery_task_claim_return (self, G_STRFUNC))
    return;
  if (value != NULL)
    {
      g_value_init (&self->value, G_VALUE_TYPE (value));
      g_value_copy (value, &self->value);
    }
  nursery_task_returned (self);
}

/**
 * nursery_task_return_boolean:
 * @self: a running task
 * @result: the result
 *
 * Finishes the task successfully with a boolean; see
 * [method@Nursery.Task.return_value].
 *
 * Since: 1.0
 */
void
nursery_task_return_boolean (NurseryTask *self,
                             gboolean     result)
{
  g_return_if_fail (NURSERY_IS_TASK (self));

  return_plain (self, G_TYPE_BOOLEAN, result != FALSE, G_STRFUNC);
}

/**
 * nursery_task_return_int:
 * @self: a running task
 * @result: the result
 *
 * Finishes the task successfully with an integer; see
 * [method@Nursery.Task.return_value].
 *
 * Since: 1.0
 */
void
nursery_task_return_int (NurseryTask *self,
                         gint64       result)
{
  g_return_if_fail (NURSERY_IS_TASK (self));

  return_plain (self, G_TYPE_INT64, result, G_STRFUNC);
}

/**
 * nursery_task_return_pointer: (skip)
 * @self: a running task
 * @result: (nullable): the result
 * @result_destroy: (nullable): frees @result when the task is finalized
 *
 * Finishes the task successfully with a pointer, owned by the task from
 * now on; see [method@Nursery.Task.return_value].
 *
 * Since: 1.0
 */
void
nursery_task_return_pointer (NurseryTask    *self,
                             gpointer        result,
                             GDestroyNotify  result_destroy)
{
  /* R24: refused, but what it was handed is not lost. */
  NURSERY_REFUSE_UNLESS (NURSERY_IS_TASK (self), result_destroy, result, );
  if (!nursery_task_claim_return (self, G_STRFUNC))
    {
      _nursery_refuse_drop (result_destroy, result);
      return;
    }
  g_value_init (&self->value, G_TYPE_POINTER);
  g_value_set_pointer (&self->value, result);
  if (result_destroy != NULL)
    _nursery_task_extra (self)->value_destroy = result_destroy;
  nursery_task_returned (self);
}

/**
 * nursery_task_return_error:
 * @self: a running task
 * @error: (transfer full): the failure
 *
 * Finishes the task with @error. It is a failure of the group (kept in
 * [method@Nursery.Group.get_errors], and under the fail-fast policy it
 * cancels the siblings), unless @error is `G_IO_ERROR_CANCELLED` and this
 * task was cancelled: then the task is simply cancelled ([R8](rules.html#R8)).
 *
 * Every task returns exactly once; a second return is a critical and is
 * ignored. May be called from any thread.
 *
 * Since: 1.0
 */
void
nursery_task_return_error (NurseryTask *self,
                           GError      *error)
{
  g_return_if_fail (error != NULL);
  /* R24: refused, but the error is not leaked. */
  NURSERY_REFUSE_UNLESS (NURSERY_IS_TASK (self), g_error_free, error, );
  if (!nursery_task_claim_return (self, G_STRFUNC))
    {
      _nursery_refuse_drop ((GDestroyNotify) g_error_free, error);
      return;
    }
  self->error = error;
  nursery_task_returned (self);
}

/**
 * nursery_task_return_new_error: (skip)
 * @self: a running task
 * @domain: the error domain
 * @code: the error code
 * @format: a printf()-style message
 * @...: the message's arguments
 *
 * Finishes the task with a new error; see [method@Nursery.Task.return_error].
 *
 * Since: 1.0
 */
void
nursery_task_return_new_error (NurseryTask *self,
                               GQuark       domain,
                               int          code,
                               const char  *format,
                               ...)
{
  GError *error;
  va_list args;

  g_return_if_fail (NURSERY_IS_TASK (self));
  g_return_if_fail (format != NULL);

  va_start (args, format);
  error = g_error_new_valist (domain, code, format, args);
  va_end (args);

  nursery_task_return_error (self, error);
}

/**
 * nursery_task_return_error_if_cancelled:
 * @self: a running task
 *
 * If the task was cancelled, finishes it with `G_IO_ERROR_CANCELLED`
 * (which makes it cancelled, not failed) and returns %TRUE.
 *
 * Returns: %TRUE if the task was cancelled and has now returned
 *
 * Since: 1.0
 */
gboolean
nursery_task_return_error_if_cancelled (NurseryTask *self)
{
  g_return_val_if_fail (NURSERY_IS_TASK (self), FALSE);

  if (!nursery_task_is_cancelled (self))
    return FALSE;
  nursery_task_return_error (self, cancelled_error (self, "Task “%s” was cancelled",
                                                    "Task “(unnamed)” was cancelled"));
  return TRUE;
}

/* Reading */

/**
 * nursery_task_get_name:
 * @self: a task
 *
 * The task's name.
 *
 * Returns: (nullable): the name given at spawn time
 *
 * Since: 1.0
 */
const char *
nursery_task_get_name (NurseryTask *self)
{
  g_return_val_if_fail (NURSERY_IS_TASK (self), NULL);

  return self->name;
}

/**
 * nursery_task_get_group:
 * @self: a task
 *
 * The group the task belongs to. Call it on the group's owner context.
 *
 * Returns: (transfer none) (nullable): the group, or %NULL once the group
 *   has been finalized
 *
 * Since: 1.0
 */
NurseryGroup *
nursery_task_get_group (NurseryTask *self)
{
  NurseryGroup *group;

  g_return_val_if_fail (NURSERY_IS_TASK (self), NULL);

  g_mutex_lock (&self->anchor->lock);
  group = self->anchor->group;
  g_mutex_unlock (&self->anchor->lock);

  return group;
}

/**
 * nursery_task_get_state:
 * @self: a task
 *
 * Where the task is in its life.
 *
 * Returns: the task's state
 *
 * Since: 1.0
 */
NurseryTaskState
nursery_task_get_state (NurseryTask *self)
{
  g_return_val_if_fail (NURSERY_IS_TASK (self), NURSERY_TASK_PENDING);

  return g_atomic_int_get (&self->state);
}

/**
 * nursery_task_is_finished:
 * @self: a task
 *
 * Whether the task has finished: succeeded, failed or cancelled, and its
 * group has recorded it.
 *
 * Returns: %TRUE once the task has finished
 *
 * Since: 1.0
 */
gboolean
nursery_task_is_finished (NurseryTask *self)
{
  g_return_val_if_fail (NURSERY_IS_TASK (self), FALSE);

  return g_atomic_int_get (&self->state) > NURSERY_TASK_RUNNING;
}

/**
 * nursery_task_get_value:
 * @self: a finished task
 *
 * The value the task returned.
 *
 * Returns: (nullable): the value, or %NULL if the task has not succeeded
 *   with one
 *
 * Since: 1.0
 */
const GValue *
nursery_task_get_value (NurseryTask *self)
{
  g_return_val_if_fail (NURSERY_IS_TASK (self), NULL);

  if (!nursery_task_is_finished (self) || !G_IS_VALUE (&self->value))
    return NULL;
  return &self->value;
}

/**
 * nursery_task_get_boolean:
 * @self: a finished task
 *
 * The boolean the task returned.
 *
 * Returns: the value, or %FALSE if the task did not return a boolean
 *
 * Since: 1.0
 */
gboolean
nursery_task_get_boolean (NurseryTask *self)
{
  const GValue *value = nursery_task_get_value (self);

  return value != NULL && G_VALUE_HOLDS_BOOLEAN (value) ? g_value_get_boolean (value) : FALSE;
}

/**
 * nursery_task_get_int:
 * @self: a finished task
 *
 * The integer the task returned.
 *
 * Returns: the value, or 0 if the task did not return an integer
 *
 * Since: 1.0
 */
gint64
nursery_task_get_int (NurseryTask *self)
{
  const GValue *value = nursery_task_get_value (self);

  return value != NULL && G_VALUE_HOLDS_INT64 (value) ? g_value_get_int64 (value) : 0;
}

/**
 * nursery_task_get_pointer: (skip)
 * @self: a finished task
 *
 * The pointer the task returned with [method@Nursery.Task.return_pointer].
 *
 * Returns: (transfer none) (nullable): the pointer, still owned by the task
 *
 * Since: 1.0
 */
gpointer
nursery_task_get_pointer (NurseryTask *self)
{
  const GValue *value = nursery_task_get_value (self);

  return value != NULL && G_VALUE_HOLDS_POINTER (value) ? g_value_get_pointer (value) : NULL;
}

/**
 * nursery_task_get_error:
 * @self: a finished task
 *
 * Why the task failed or was cancelled.
 *
 * Returns: (transfer none) (nullable): the error, or %NULL if the task
 *   succeeded or has not finished
 *
 * Since: 1.0
 */
const GError *
nursery_task_get_error (NurseryTask *self)
{
  g_return_val_if_fail (NURSERY_IS_TASK (self), NULL);

  return nursery_task_is_finished (self) ? self->error : NULL;
}

/* Waiting */

static void
nursery_task_cancel_target (gpointer target)
{
  nursery_task_cancel (target);
}

/**
 * nursery_task_wait_async:
 * @self: a task
 * @cancellable: (nullable): cancelling it cancels the task (the wait still
 *   completes when the task has finished)
 * @callback: (scope async): called on the group's owner context when the
 *   task has finished
 * @user_data: (closure): data for @callback
 *
 * Waits for this one task to finish. Call it on the group's owner
 * context; the callback never runs before this function returns.
 *
 * Since: 1.0
 */
void
nursery_task_wait_async (NurseryTask         *self,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) waiter = NULL;

  g_return_if_fail (NURSERY_IS_TASK (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  waiter = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (waiter, nursery_task_wait_async);

  if (!nursery_task_is_finished (self))
    {
      _nursery_waiters_add (&_nursery_task_extra (self)->waiters, waiter, cancellable,
                            nursery_task_cancel_target, self);
      return;
    }
  if (self->error != NULL)
    g_task_return_error (waiter, g_error_copy (self->error));
  else
    g_task_return_boolean (waiter, TRUE);
}

/**
 * nursery_task_wait_finish:
 * @self: a task
 * @result: the result given to the callback
 * @error: return location for the task's error
 *
 * Finishes [method@Nursery.Task.wait_async].
 *
 * Returns: %TRUE if the task succeeded; %FALSE with its error (a copy)
 *   if it failed or was cancelled
 *
 * Since: 1.0
 */
gboolean
nursery_task_wait_finish (NurseryTask   *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (NURSERY_IS_TASK (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == nursery_task_wait_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Shielding */

/* R23, R24: a task's deadline and shield are its group's owner's, as the
 * group's own owner-only calls are (_nursery_group_acquire_owner()): the
 * batch and the context's timer read them, fire and clear the deadline,
 * and cancel through the shield without expecting another writer. A
 * thread child's worker that moved them went through, silently, beside
 * the batch; so did the thread that made the group, once another thread
 * had begun running its batches. The setter's work is done with the owner
 * context held: FALSE if @caller is refused (the owner critical), else
 * TRUE, with *held the group whose context to release (release_owner()).
 * A task without a group (being built, or its group gone, when it has
 * finished) has no owner to ask: *held is NULL. */
static gboolean
acquire_owner (NurseryTask   *self,
               const char    *caller,
               NurseryGroup **held)
{
  NurseryGroup *group = nursery_task_get_group (self);

  *held = NULL;
  if (group == NULL)
    return TRUE;
  if (!_nursery_group_acquire_owner (group, caller))
    return FALSE;
  *held = group;
  return TRUE;
}

static void
release_owner (NurseryGroup *held)
{
  if (held != NULL)
    _nursery_group_release_owner (held);
}

/* set_shielded(), with the owner context held. */
static void
set_shielded (NurseryTask *self,
              gboolean     shielded)
{
  NurseryAnchor *anchor = self->anchor;
  GCancellable *to_cancel = NULL;

  g_mutex_lock (&anchor->lock);
  if (self->shielded == shielded || nursery_task_is_finished (self))
    {
      g_mutex_unlock (&anchor->lock);
      return;
    }
  self->shielded = shielded;
  if (!shielded)
    _nursery_group_task_unshielded_locked (anchor->group, self, &to_cancel);
  g_mutex_unlock (&anchor->lock);

  if (to_cancel != NULL)
    _nursery_cancel_take (to_cancel);
  queue_notify (self, PROP_SHIELDED);
}

/**
 * nursery_task_set_shielded:
 * @self: a task
 * @shielded: whether to shield the task
 *
 * Shields the task from cancellation of its group ([R15](rules.html#R15)): an
 * explicit group cancel, fail-fast, the group's deadline, its parent, its
 * waiters' cancellables and Unix signals all pass it by, while its own
 * [method@Nursery.Task.cancel] and its own deadline still reach it. The
 * group still waits for it.
 *
 * Shielding a task that has not started yet also protects it from a group
 * cancellation that already happened: spawn, then shield, and the child
 * runs even in a cancelled group (cleanup work). Unshielding a task of a
 * cancelled group cancels it at once.
 *
 * Call it on the group's owner context.
 *
 * Since: 1.0
 */
void
nursery_task_set_shielded (NurseryTask *self,
                           gboolean     shielded)
{
  NurseryGroup *held;

  g_return_if_fail (NURSERY_IS_TASK (self));
  if (!acquire_owner (self, G_STRFUNC, &held))
    return;
  set_shielded (self, !!shielded);
  release_owner (held);
}

/**
 * nursery_task_get_shielded:
 * @self: a task
 *
 * Whether the task is shielded from its group's cancellation.
 *
 * Returns: %TRUE if shielded
 *
 * Since: 1.0
 */
gboolean
nursery_task_get_shielded (NurseryTask *self)
{
  gboolean shielded;

  g_return_val_if_fail (NURSERY_IS_TASK (self), FALSE);

  g_mutex_lock (&self->anchor->lock);
  shielded = self->shielded;
  g_mutex_unlock (&self->anchor->lock);
  return shielded;
}

/* Deadlines */

static void
nursery_task_deadline_fired (gpointer target)
{
  NurseryTask *self = target;

  NURSERY_NOTE (DEADLINE, "task “%s”: deadline passed", display_name (self));
  cancel_task (self, CANCEL_BY_DEADLINE);
}

/* set_deadline(), with the owner context of @group held. */
static void
set_deadline (NurseryTask  *self,
              NurseryGroup *group,
              gint64        deadline)
{
  if (nursery_task_is_finished (self) || self->timed_out || self->deadline == deadline)
    return;
  /* Under the lock: a tree dump on another context reads it (R14). */
  g_mutex_lock (&self->anchor->lock);
  self->deadline = deadline;
  g_mutex_unlock (&self->anchor->lock);
  _nursery_deadline_set (&self->deadline_timer, nursery_group_get_context (group),
                         deadline, nursery_task_deadline_fired, self);
  queue_notify (self, PROP_DEADLINE);
}

/**
 * nursery_task_set_deadline:
 * @self: a task
 * @deadline: when the task times out, in monotonic microseconds
 *   (g_get_monotonic_time()), or -1 for never
 *
 * Sets, moves (earlier or later) or clears the task's deadline ([R16](rules.html#R16)).
 * When it passes, the task is cancelled; if it then ends cancelled
 * it fails with `G_IO_ERROR_TIMED_OUT` ([R17](rules.html#R17)), which under fail-fast
 * cancels the group. A deadline in the past fires on the next iteration.
 * A shielded task keeps its own deadline.
 *
 * Call it on the group's owner context. Does nothing once the task has
 * finished or its deadline has already fired.
 *
 * Since: 1.0
 */
void
nursery_task_set_deadline (NurseryTask *self,
                           gint64       deadline)
{
  NurseryGroup *held;

  g_return_if_fail (NURSERY_IS_TASK (self));
  g_return_if_fail (deadline >= -1);
  if (!acquire_owner (self, G_STRFUNC, &held))
    return;
  if (held != NULL)
    set_deadline (self, held, deadline);
  release_owner (held);
}

/**
 * nursery_task_set_timeout:
 * @self: a task
 * @timeout: microseconds from now
 *
 * Sets the task's deadline @timeout microseconds from now; see
 * [method@Nursery.Task.set_deadline].
 *
 * Since: 1.0
 */
void
nursery_task_set_timeout (NurseryTask *self,
                          GTimeSpan    timeout)
{
  g_return_if_fail (timeout >= 0);

  nursery_task_set_deadline (self, _nursery_deadline_after (timeout));
}

/**
 * nursery_task_clear_deadline:
 * @self: a task
 *
 * Removes the task's deadline.
 *
 * Since: 1.0
 */
void
nursery_task_clear_deadline (NurseryTask *self)
{
  nursery_task_set_deadline (self, NURSERY_NO_DEADLINE);
}

/**
 * nursery_task_get_deadline:
 * @self: a task
 *
 * The task's deadline.
 *
 * Returns: the deadline in monotonic microseconds, or -1 for none
 *
 * Since: 1.0
 */
gint64
nursery_task_get_deadline (NurseryTask *self)
{
  g_return_val_if_fail (NURSERY_IS_TASK (self), NURSERY_NO_DEADLINE);

  return self->deadline;
}

/* Start handshake */

static void
nursery_task_cancel_before_started (gpointer target)
{
  cancel_task (target, CANCEL_UNLESS_STARTED);
}

void
_nursery_task_add_starter (NurseryTask  *self,
                           GTask        *starter,
                           GCancellable *cancellable)
{
  /* R18: cancelling the start caller before started() cancels the child. */
  _nursery_waiters_add (&_nursery_task_extra (self)->starters, starter, cancellable,
                        nursery_task_cancel_before_started, self);
}

GSList *
_nursery_task_steal_starters_locked (NurseryTask *self)
{
  NurseryTaskExtra *extra = _nursery_task_peek_extra (self);

  return extra != NULL ? g_steal_pointer (&extra->starters) : NULL;
}

/**
 * nursery_task_started:
 * @self: a task spawned with [method@Nursery.Group.start_async]
 * @value: (nullable): a value for the start caller, copied
 *
 * Tells the [method@Nursery.Group.start_async] caller that the task is
 * ready (the server listens, the file is open…), handing it @value. From
 * now on the task is an ordinary child of its group ([R18](rules.html#R18)).
 *
 * Calling it twice, or for a task that was not spawned with start_async(),
 * is a critical. May be called from any thread.
 *
 * Since: 1.0
 */
void
nursery_task_started (NurseryTask  *self,
                      const GValue *value)
{
  NurseryAnchor *anchor;
  NurseryTaskExtra *extra;
  gboolean refused;

  g_return_if_fail (NURSERY_IS_TASK (self));
  g_return_if_fail (value == NULL || G_IS_VALUE (value));

  anchor = self->anchor;
  extra = _nursery_task_peek_extra (self);
  g_mutex_lock (&anchor->lock);
  refused = self->started || extra == NULL || extra->starters == NULL;
  if (!refused)
    {
      self->started = TRUE;
      if (value != NULL)
        {
          extra->started_value = g_new0 (GValue, 1);
          g_value_init (extra->started_value, G_VALUE_TYPE (value));
          g_value_copy (value, extra->started_value);
        }
      _nursery_group_task_started_locked (anchor->group, self);
    }
  g_mutex_unlock (&anchor->lock);

  if (refused)
    g_critical ("%s: task “%s” was already started, or not spawned with "
                "nursery_group_start_async()", G_STRFUNC, display_name (self));
}

/* Task data and progress (R21) */

/**
 * nursery_task_get_task_data: (skip)
 * @self: a task
 *
 * The user data the task was spawned with, like g_task_get_task_data():
 * every callback of a multi-step child can reach its state through the
 * task alone. It stays valid until the task has finished and
 * [signal@Nursery.Group::task-finished] has been emitted for it; then its
 * destroy notify runs and this returns %NULL. A child spawned with a
 * [class@Nursery.Runner] has no user data: %NULL.
 *
 * Returns: (transfer none) (nullable): the spawn's user data
 *
 * Since: 1.0
 */
gpointer
nursery_task_get_task_data (NurseryTask *self)
{
  g_return_val_if_fail (NURSERY_IS_TASK (self), NULL);

  /* A keyed child's data is the runner's bookkeeping, not the caller's. */
  if (_nursery_runner_is_keyed_func (self->func))
    return NULL;
  return self->user_data;
}

/**
 * nursery_task_set_progress:
 * @self: a task
 * @progress: from 0 to 1, or -1 for unknown
 *
 * Publishes how far the task is, for a progress bar bound to
 * [property@Nursery.Task:progress]. May be called from any thread and as
 * often as the work allows: the notification is emitted on the group's
 * owner context, at most once per batch, with the latest value.
 *
 * Since: 1.0
 */
void
nursery_task_set_progress (NurseryTask *self,
                           double       progress)
{
  NurseryAnchor *anchor;
  NurseryTaskExtra *extra;
  gboolean changed;

  g_return_if_fail (NURSERY_IS_TASK (self));
  g_return_if_fail (progress == -1.0 || (progress >= 0.0 && progress <= 1.0));

  anchor = self->anchor;
  extra = _nursery_task_extra (self);
  g_mutex_lock (&anchor->lock);
  changed = extra->progress != progress;
  extra->progress = progress;
  g_mutex_unlock (&anchor->lock);

  /* Notified in the group's next batch, once however often it was set. */
  if (changed)
    queue_notify (self, PROP_PROGRESS);
}

/**
 * nursery_task_get_progress:
 * @self: a task
 *
 * The task's latest progress. Thread-safe.
 *
 * Returns: from 0 to 1, or -1 if unknown
 *
 * Since: 1.0
 */
double
nursery_task_get_progress (NurseryTask *self)
{
  NurseryTaskExtra *extra;
  double progress;

  g_return_val_if_fail (NURSERY_IS_TASK (self), -1.0);

  extra = _nursery_task_peek_extra (self);
  if (extra == NULL)
    return -1.0;
  g_mutex_lock (&self->anchor->lock);
  progress = extra->progress;
  g_mutex_unlock (&self->anchor->lock);
  return progress;
}

