/* rel-utils.c: knobs, watchdog and bookkeeping shared by the reliability tests
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rel-utils.h"

guint
rel_env_uint (const char *name,
              guint       fallback)
{
  const char *text = g_getenv (name);
  guint64 value;

  if (text == NULL || *text == '\0')
    return fallback;
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT, &value, NULL))
    g_error ("%s=%s is not a number", name, text);
  return (guint) value;
}

guint
rel_scaled (const char *name,
            guint       fallback)
{
  guint scale = rel_env_uint ("NURSERY_RELIABILITY_SCALE", 100);
  guint64 scaled = (guint64) fallback * scale / 100;

  return rel_env_uint (name, (guint) MAX (scaled, 1));
}

/* The watchdog */

struct _RelWatchdog
{
  GMutex   lock;
  GCond    cond;
  GThread *thread;
  char    *test;
  char    *phase;
  gint64   last_kick;
  gint64   limit;
  gboolean stop;
};

static gpointer
watchdog_thread (gpointer data)
{
  RelWatchdog *self = data;

  g_mutex_lock (&self->lock);
  while (!self->stop)
    {
      gint64 expires = self->last_kick + self->limit;

      if (g_get_monotonic_time () >= expires)
        {
          /* stdout is the TAP stream: "Bail out!" makes meson report it. */
          printf ("Bail out! watchdog: %s made no progress for %" G_GINT64_FORMAT
                  " s; last progress: %s\n", self->test, self->limit / G_USEC_PER_SEC,
                  self->phase != NULL ? self->phase : "(none)");
          fflush (stdout);
          fprintf (stderr, "watchdog: %s stuck (deadlock?) after: %s\n", self->test,
                   self->phase != NULL ? self->phase : "(none)");
          abort ();
        }
      g_cond_wait_until (&self->cond, &self->lock, expires);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

RelWatchdog *
rel_watchdog_new (const char *test)
{
  RelWatchdog *self = g_new0 (RelWatchdog, 1);

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->test = g_strdup (test);
  self->limit = (gint64) rel_env_uint ("NURSERY_WATCHDOG_SECONDS", 30) * G_USEC_PER_SEC;
  self->last_kick = g_get_monotonic_time ();
  self->thread = g_thread_new ("watchdog", watchdog_thread, self);
  return self;
}

void
rel_watchdog_kick (RelWatchdog *self,
                   const char  *format,
                   ...)
{
  char *phase = NULL;
  va_list args;

  if (format != NULL)
    {
      va_start (args, format);
      phase = g_strdup_vprintf (format, args);
      va_end (args);
    }

  g_mutex_lock (&self->lock);
  self->last_kick = g_get_monotonic_time ();
  if (phase != NULL)
    {
      g_free (self->phase);
      self->phase = phase;
    }
  g_mutex_unlock (&self->lock);
}

void
rel_watchdog_free (RelWatchdog *self)
{
  g_mutex_lock (&self->lock);
  self->stop = TRUE;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
  g_thread_join (self->thread);

  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self->phase);
  g_free (self->test);
  g_free (self);
}

void
rel_run_until (GMainContext *context,
               const int    *flag)
{
  while (!g_atomic_int_get (flag))
    g_main_context_iteration (context, TRUE);
}

void
rel_spin (guint spins)
{
  static int sink;

  for (guint i = 0; i < spins; i++)
    g_atomic_int_add (&sink, 1);
}

static void
live_count_weak_notify (gpointer  data,
                        GObject  *where_the_object_was)
{
  RelLiveCount *count = data;

  g_atomic_int_add (&count->alive, -1);
}

void
rel_track (RelLiveCount *count,
           gpointer      object)
{
  g_atomic_int_inc (&count->alive);
  g_object_weak_ref (object, live_count_weak_notify, count);
}

/* Children */

static void
return_cancelled_cb (GCancellable *cancellable,
                     NurseryTask  *task)
{
  nursery_task_return_error_if_cancelled (task);
}

void
rel_child_until_cancelled (NurseryTask *task,
                           gpointer     unused)
{
  g_cancellable_connect (nursery_task_get_cancellable (task),
                         G_CALLBACK (return_cancelled_cb), task, NULL);
}

/* Queued jobs on one thread */

typedef struct
{
  GFunc    job;
  gpointer data;
  gpointer data2;
} RelWorkerJob;

struct _RelWorker
{
  GMutex    lock;
  GCond     cond;
  GThread  *thread;
  GQueue    jobs;       /* RelWorkerJob, not started yet */
  guint     unfinished; /* pushed, not returned yet */
  gboolean  quit;
};

static gpointer
worker_thread (gpointer data)
{
  RelWorker *self = data;

  g_mutex_lock (&self->lock);
  for (;;)
    {
      RelWorkerJob *job;

      while (!self->quit && self->jobs.length == 0)
        g_cond_wait (&self->cond, &self->lock);
      if (self->jobs.length == 0)
        break;
      job = g_queue_pop_head (&self->jobs);
      g_mutex_unlock (&self->lock);

      job->job (job->data, job->data2);
      g_free (job);

      g_mutex_lock (&self->lock);
      self->unfinished--;
      g_cond_broadcast (&self->cond);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

RelWorker *
rel_worker_new (const char *name)
{
  RelWorker *self = g_new0 (RelWorker, 1);

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->jobs);
  self->thread = g_thread_new (name, worker_thread, self);
  return self;
}

void
rel_worker_push (RelWorker *self,
                 GFunc      job,
                 gpointer   data,
                 gpointer   data2)
{
  RelWorkerJob *queued = g_new (RelWorkerJob, 1);

  queued->job = job;
  queued->data = data;
  queued->data2 = data2;
  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->jobs, queued);
  self->unfinished++;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
rel_worker_drain (RelWorker *self)
{
  g_mutex_lock (&self->lock);
  while (self->unfinished > 0)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
}

void
rel_worker_free (RelWorker *self)
{
  rel_worker_drain (self);
  g_mutex_lock (&self->lock);
  self->quit = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_thread_join (self->thread);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

/* Round-based helper threads: a worker given one job per round. */

RelHelper *
rel_helper_new (const char *name)
{
  return rel_worker_new (name);
}

void
rel_helper_run (RelHelper *self,
                GFunc      job,
                gpointer   data,
                gpointer   data2)
{
  /* The job of the last round has returned. */
  g_mutex_lock (&self->lock);
  g_assert_cmpuint (self->unfinished, ==, 0);
  g_mutex_unlock (&self->lock);
  rel_worker_push (self, job, data, data2);
}

void
rel_helper_finish (RelHelper *self)
{
  rel_worker_drain (self);
}

void
rel_helper_free (RelHelper *self)
{
  rel_worker_free (self);
}

typedef struct
{
  NurseryTask *task;
  gint64       value;
} IdleReturn;

static gboolean
idle_return_cb (gpointer data)
{
  IdleReturn *ret = data;

  nursery_task_return_int (ret->task, ret->value);
  return G_SOURCE_REMOVE;
}

void
rel_return_int_from_idle (NurseryTask *task,
                          gint64       value,
                          int          priority)
{
  IdleReturn *ret = g_new (IdleReturn, 1);

  ret->task = task;
  ret->value = value;
  g_idle_add_full (priority, idle_return_cb, ret, g_free);
}

void
rel_store_result (GObject      *source,
                  GAsyncResult *result,
                  gpointer      data)
{
  *(GAsyncResult **) data = g_object_ref (result);
}

void
rel_count_destroy (gpointer counter)
{
  (*(guint *) counter)++;
}

void
rel_count_notify (GObject    *object,
                  GParamSpec *pspec,
                  gpointer    counter)
{
  (*(guint *) counter)++;
}

void
rel_set_flag (gpointer  flag,
              GObject  *where_the_object_was)
{
  *(gboolean *) flag = TRUE;
}

void
rel_return_if_cancelled_cb (GCancellable *cancellable,
                            gpointer      task)
{
  nursery_task_return_error_if_cancelled (task);
}

void
rel_drain (GMainContext *context)
{
  while (g_main_context_iteration (context, FALSE))
    ;
}

/* The owner criticals, counted */

static int n_owner_refusals;
static guint owner_refusal_handler;

static gboolean
is_owner_refusal (const char *message)
{
  return strstr (message, "_nursery_group_called_on_owner") != NULL;
}

static void
count_owner_refusal (const char     *domain,
                     GLogLevelFlags  level,
                     const char     *message,
                     gpointer        data)
{
  if (!is_owner_refusal (message))
    g_error ("Unexpected critical: %s", message);
  g_atomic_int_inc (&n_owner_refusals);
}

static gboolean
owner_refusal_is_not_fatal (const char     *domain,
                            GLogLevelFlags  level,
                            const char     *message,
                            gpointer        data)
{
  return !is_owner_refusal (message);
}

void
rel_owner_refusals_begin (void)
{
  /* With the fatal flag: g_test_init() made criticals fatal. */
  owner_refusal_handler = g_log_set_handler ("Nursery", G_LOG_LEVEL_CRITICAL | G_LOG_FLAG_FATAL,
                                             count_owner_refusal, NULL);
  g_test_log_set_fatal_handler (owner_refusal_is_not_fatal, NULL);
}

void
rel_owner_refusals_end (void)
{
  g_log_remove_handler ("Nursery", owner_refusal_handler);
  g_test_log_set_fatal_handler (NULL, NULL);
}

int
rel_owner_refusals (void)
{
  return g_atomic_int_get (&n_owner_refusals);
}

/* Where each group went */

void
rel_finalized_cb (gpointer  data,
                  GObject  *where_the_object_was)
{
  RelFinalized *f = data;

  if (g_thread_self () != f->owner)
    g_atomic_int_inc (&f->off_owner);
  g_atomic_int_add (&f->alive, -1);
}

void
rel_finalized_track (RelFinalized *f,
                     NurseryGroup *group)
{
  f->owner = g_thread_self ();
  g_atomic_int_inc (&f->alive);
  g_object_weak_ref (G_OBJECT (group), rel_finalized_cb, f);
}

void
rel_finalized_settle (RelFinalized *f)
{
  while (g_atomic_int_get (&f->alive) > 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (g_atomic_int_get (&f->off_owner), ==, 0);
}
