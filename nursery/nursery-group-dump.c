/* nursery-group-dump.c: what a group can tell about itself (R14, R21, R29)
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* nursery_group_dump_tree() describes a whole tree of groups and tasks,
 * which may span contexts and threads, so it reads each group under its
 * anchor's lock and its counters atomically; the failed tasks' names
 * (R29) are read on the owner context. */

#include "config.h"

#include "nursery-clock-private.h"
#include "nursery-deadline-private.h"
#include "nursery-enums.h"
#include "nursery-group-impl-private.h"
#include "nursery-queued-child-private.h"
#include "nursery-task-private.h"

static const char *
nick (GType        enum_type,
      int          value)
{
  /* A reference, not a peek: the class may not exist yet (a group whose
   * children are all queued has made no task). Nicks are static. */
  g_autoptr(GEnumClass) enum_class = g_type_class_ref (enum_type);

  return g_enum_get_value (enum_class, value)->value_nick;
}

/* Now, by two clocks: deadlines are precise, ages are to the tick of the
 * clock births were read with (nursery-clock-private.h). */
typedef struct
{
  gint64 now;
  gint64 birth_now;
} DumpTime;

static void dump_group (NurseryGroup *self, GString *out, const char *prefix,
                        const DumpTime *at);

/* A tree may span contexts and threads: a thread child may nest a group on
 * a context of its own. So what another thread may change is read under
 * that object's lock, and every object is held while it is described. */
static GPtrArray *
nested_groups_ref (NurseryTask *task,
                   gint64      *deadline)
{
  GPtrArray *groups = g_ptr_array_new_with_free_func (g_object_unref);
  NurseryTaskExtra *extra = _nursery_task_peek_extra (task);

  g_mutex_lock (&task->anchor->lock);
  *deadline = task->deadline;
  for (GSList *l = extra != NULL ? extra->nested_groups : NULL; l != NULL; l = l->next)
    g_ptr_array_add (groups, g_object_ref (l->data));
  g_mutex_unlock (&task->anchor->lock);
  return groups;
}

static void
dump_task (NurseryTask    *task,
           GString        *out,
           const char     *prefix,
           gboolean        last,
           const DumpTime *at)
{
  gint64 deadline;
  g_autoptr(GPtrArray) nested = nested_groups_ref (task, &deadline);
  g_autofree char *deadline_text = _nursery_deadline_describe (deadline, at->now);
  g_autofree char *child_prefix = g_strconcat (prefix, last ? "   " : "│  ", NULL);

  g_string_append_printf (out, "%s%s task “%s” [%s%s%s] age %.1f ms, deadline %s\n",
                          prefix, last ? "└─" : "├─",
                          nursery_task_get_name (task) ? nursery_task_get_name (task) : "(unnamed)",
                          nick (NURSERY_TYPE_TASK_STATE, nursery_task_get_state (task)),
                          nursery_task_get_shielded (task) ? ", shielded" : "",
                          nursery_task_is_cancelled (task) ? ", cancelled" : "",
                          (at->birth_now - task->spawn_time) / 1000.0, deadline_text);
  for (guint i = 0; i < nested->len; i++)
    dump_group (nested->pdata[i], out, child_prefix, at);
}

/* A queued child's line, written under its group's lock: the owner may
 * make it a task and free it as soon as the lock is dropped. One that
 * returned is running until reported, as a task is. */
static char *
describe_queued_child (NurseryQueuedChild *child,
                       const char         *prefix,
                       gboolean            cancelled,
                       gboolean            last,
                       const DumpTime     *at)
{
  g_autofree char *deadline_text = _nursery_deadline_describe (NURSERY_NO_DEADLINE, at->now);

  return g_strdup_printf ("%s%s task “%s” [%s%s] age %.1f ms, deadline %s\n",
                          prefix, last ? "└─" : "├─",
                          child->name != NULL ? child->name : "(unnamed)",
                          nick (NURSERY_TYPE_TASK_STATE,
                                child->returned ? NURSERY_TASK_RUNNING : NURSERY_TASK_PENDING),
                          cancelled && !child->returned ? ", cancelled" : "",
                          (at->birth_now - child->spawn_time) / 1000.0, deadline_text);
}

static void
task_unref_if_any (gpointer task)
{
  if (task != NULL)
    g_object_unref (task);
}

static void
dump_group (NurseryGroup   *self,
            GString        *out,
            const char     *prefix,
            const DumpTime *at)
{
  /* Per unfinished child, in spawn order: its task, or a queued child's
   * line (and NULL in the other array). */
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (task_unref_if_any);
  g_autoptr(GPtrArray) queued_lines = g_ptr_array_new_with_free_func (g_free);
  GString *line = g_string_new (NULL);
  guint n;

  /* All in one locked section: the group may belong to another thread,
   * which finalizes it (under this lock) once the dump lets it go. */
  g_mutex_lock (&self->anchor->lock);
  {
    g_autofree char *deadline = _nursery_deadline_describe (self->deadline, at->now);

    g_string_printf (line, "%sgroup “%s” [%s%s%s] age %.1f ms, deadline %s, "
                     "%u running, %u pending, %u finished, %u failed\n",
                     prefix, group_name (self),
                     nick (NURSERY_TYPE_GROUP_STATE, g_atomic_int_get (&self->state)),
                     self->cancel_cause != CANCEL_NONE ? ", cancelled" : "",
                     self->shielded ? ", shielded" : "",
                     (at->birth_now - self->create_time) / 1000.0, deadline,
                     counter_get (&self->n_running), counter_get (&self->n_pending),
                     counter_get (&self->n_finished), counter_get (&self->n_failed));
  }
  n = self->unfinished.length;
  for (GList *l = self->unfinished.head; l != NULL; l = l->next)
    {
      gboolean queued = _nursery_is_queued_child (l->data);

      g_ptr_array_add (tasks, queued ? NULL : g_object_ref (l->data));
      g_ptr_array_add (queued_lines,
                       queued ? describe_queued_child (l->data, prefix,
                                                       self->cancel_cause != CANCEL_NONE,
                                                       tasks->len == n, at)
                              : NULL);
    }
  g_mutex_unlock (&self->anchor->lock);

  g_string_append (out, line->str);
  g_string_free (line, TRUE);
  for (guint i = 0; i < tasks->len; i++)
    {
      if (queued_lines->pdata[i] != NULL)
        g_string_append (out, queued_lines->pdata[i]);
      else
        dump_task (tasks->pdata[i], out, prefix, i + 1 == tasks->len, at);
    }
}

/**
 * nursery_group_dump_tree:
 * @self: a group
 *
 * Describes the group, its unfinished children and the groups nested in
 * them, one line each: names, states, ages, deadlines, shields. For
 * debugging what is stuck. Call it on the owner context.
 *
 * Returns: (transfer full): the tree as text
 *
 * Since: 1.0
 */
char *
nursery_group_dump_tree (NurseryGroup *self)
{
  DumpTime at = { g_get_monotonic_time (), _nursery_birth_clock () };
  GString *out;

  g_return_val_if_fail (NURSERY_IS_GROUP (self), NULL);

  out = g_string_new (NULL);
  dump_group (self, out, "", &at);
  return g_string_free (out, FALSE);
}

/**
 * nursery_group_get_failed_task_names:
 * @self: a group
 *
 * Which children produced the failures the group kept ([R29](rules.html#R29)): the
 * name at index `i` is the name of the task whose error is at index `i`
 * of [method@Nursery.Group.get_errors] (an empty string for an unnamed
 * task), so the first one names the task whose error wait returned,
 * unchanged. Failures handled by a [signal@Nursery.Group::task-failed]
 * handler are in neither.
 *
 * The group keeps names, not tasks. To keep the failed tasks themselves,
 * keep them from a [signal@Nursery.Group::task-failed] handler, which
 * gets each task with its error as it fails.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, in the
 *   order the tasks failed
 *
 * Since: 1.0
 */
char **
nursery_group_get_failed_task_names (NurseryGroup *self)
{
  GStrvBuilder *builder;
  char **names;

  g_return_val_if_fail (NURSERY_IS_GROUP (self), NULL);

  builder = g_strv_builder_new ();
  for (GList *l = self->failures.head; l != NULL; l = l->next)
    g_strv_builder_add (builder, kept_failure (l)->name);
  names = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return names;
}
