/* nursery-pool.c: Nursery's own worker pool for thread children
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nursery-debug-private.h"
#include "nursery-links-private.h"
#include "nursery-pool.h"
#include "nursery-pool-private.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* How it grows (R28): a blocked worker must never keep a runnable job
 * waiting, or N thread children that wait for each other never finish.
 *  - A job pushed while no worker is idle starts a new worker as long as
 *    fewer than one per processor are running (not idle, not blocked).
 *  - A worker that declares itself blocked (blocking_begin, from the
 *    blocking channel calls and group waits) starts one in its place at
 *    once if jobs wait.
 *  - Anything else that blocks (a user's GCond, a read()) is caught by a
 *    monitor: when jobs have waited `grow_delay` and no worker finished
 *    one meanwhile, it asks the kernel how each worker inside a job's own
 *    function spent that time (find_asleep()). If every one of them
 *    slept, every waiting job gets a worker of its own: growing by the
 *    whole backlog (not one thread per delay, as GTask's pool does) is
 *    what lets N children in a barrier finish in a few delays. If only
 *    some slept, each of those is replaced, once. A worker that ran or
 *    waited for a processor did not block: it computes, or the machine
 *    is busy, and more threads would only compete for the processors.
 *    (The test used to be the process's CPU time alone: on a busy
 *    machine the workers starved, the process looked idle, and 20k
 *    short children started 510 threads.) Where the kernel cannot tell
 *    (no /proc), the process's CPU time is still the test.
 * All of it within `max_threads`; a worker idle for `idle_timeout`
 * exits, and so does one the cap has just lowered. */

#define DEFAULT_GROW_DELAY_US   1000
#define DEFAULT_IDLE_TIMEOUT_US (10 * G_USEC_PER_SEC)
#define MIN_DEFAULT_MAX_THREADS 512
#define MAX_THREADS_PER_CPU     64

typedef struct
{
  NurseryPoolFunc func;
  gpointer        data;
} Job;

typedef struct
{
  GMutex   lock;
  GCond    work_cond;     /* idle workers wait here for a job */
  GCond    monitor_cond;  /* the monitor waits here for a backlog */

  /* The queue: a ring of `capacity` slots, so a push allocates nothing
   * once it has grown. */
  Job     *ring;
  guint    capacity;
  guint    head;
  guint    n_queued;

  guint    n_threads;     /* alive or starting workers */
  guint    n_starting;    /* reserved, not yet taking jobs */
  guint    n_idle;        /* in g_cond_wait for a job */
  guint    n_blocked;     /* between blocking_begin and blocking_end */
  GQueue   busy;          /* Worker: running a job, not marked blocked */
  guint    max_threads;   /* 0 until first read: then the default */
  guint64  n_finished;    /* jobs finished so far: the monitor's progress */
  gboolean monitor_running;
  gboolean monitor_waiting; /* for a backlog, not a delay */

  gint64   grow_delay;
  gint64   idle_timeout;
} Pool;

static Pool pool = {
  .grow_delay = DEFAULT_GROW_DELAY_US,
  .idle_timeout = DEFAULT_IDLE_TIMEOUT_US,
};

/* What a worker is doing, as the pool counts it. (lock) */
typedef enum
{
  WORKER_IDLE,      /* no job */
  WORKER_BUSY,      /* running a job: in pool.busy */
  WORKER_BLOCKED,   /* inside blocking_begin/end: counted in n_blocked */
  WORKER_SLEEPING,  /* found asleep by the monitor and replaced: in n_blocked */
} WorkerState;

/* Per worker thread; unset elsewhere. */
typedef struct
{
  guint       blocking_depth;  /* how deep in blocking_begin (this thread only) */
  WorkerState state;           /* (lock) */
  GList       busy_link;       /* in pool.busy while WORKER_BUSY (lock) */
  guint64     job;             /* (lock) jobs taken so far: tells one from the next */
  int         in_user_code;    /* atomic: inside the job's own function */
  int         tid;             /* the kernel's id, for find_asleep(); 0 if unknown */
} Worker;

static GPrivate current_worker;

/* g_get_num_processors() is a system call: asked once. */
static guint
n_processors (void)
{
  static gsize n;

  if (g_once_init_enter (&n))
    g_once_init_leave (&n, MAX (1, g_get_num_processors ()));
  return (guint) n;
}

static guint
default_max_threads (void)
{
  return MAX (MIN_DEFAULT_MAX_THREADS, MAX_THREADS_PER_CPU * n_processors ());
}

/* Called with the lock held, like everything *_locked below. */
static guint
max_threads_locked (void)
{
  if (pool.max_threads == 0)
    pool.max_threads = default_max_threads ();
  return pool.max_threads;
}

static void
ring_push_locked (NurseryPoolFunc func,
                  gpointer        data)
{
  if (pool.n_queued == pool.capacity)
    {
      guint old = pool.capacity;
      guint tail_part;

      pool.capacity = MAX (64, old * 2);
      pool.ring = g_renew (Job, pool.ring, pool.capacity);
      /* Unwrap: the slots before head now follow the old end, so the
       * jobs run from head on, in order. */
      tail_part = pool.head;
      if (old > 0 && tail_part > 0)
        memcpy (pool.ring + old, pool.ring, tail_part * sizeof (Job));
    }
  pool.ring[(pool.head + pool.n_queued) % pool.capacity] = (Job) { func, data };
  pool.n_queued++;
}

static Job
ring_pop_locked (void)
{
  Job job = pool.ring[pool.head];

  pool.head = (pool.head + 1) % pool.capacity;
  pool.n_queued--;
  if (pool.n_queued == 0)
    pool.head = 0;
  return job;
}

static gpointer worker_main (gpointer data);

/* Reserves @n workers under the lock; the caller starts them with the
 * lock released (a thread takes tens of µs to create). */
static guint
reserve_workers_locked (guint n)
{
  guint room = max_threads_locked () - MIN (pool.n_threads, max_threads_locked ());

  n = MIN (n, room);
  pool.n_threads += n;
  pool.n_starting += n;
  return n;
}

static void
start_workers (guint n)
{
  if (n > 0)
    NURSERY_NOTE (POOL, "worker pool: starting %u worker(s)", n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;
      GThread *thread = g_thread_try_new ("nursery-worker", worker_main, NULL, &error);

      if (thread == NULL)
        {
          /* The jobs still run, on the workers there are. */
          g_warning ("Nursery could not start a worker thread: %s", error->message);
          g_mutex_lock (&pool.lock);
          pool.n_threads--;
          pool.n_starting--;
          g_mutex_unlock (&pool.lock);
          continue;
        }
      g_thread_unref (thread);
    }
}

/* Jobs no idle worker will take. */
static guint
backlog_locked (void)
{
  return pool.n_queued > pool.n_idle ? pool.n_queued - pool.n_idle : 0;
}

static void
worker_start_job_locked (Worker *worker)
{
  worker->job++;
  worker->state = WORKER_BUSY;
  _nursery_link_push_tail (&pool.busy, &worker->busy_link);
  g_atomic_int_set (&worker->in_user_code, TRUE);
}

static void
worker_end_job_locked (Worker *worker)
{
  if (worker->state == WORKER_BUSY)
    _nursery_link_unlink (&pool.busy, &worker->busy_link);
  else
    pool.n_blocked--;    /* sleeping, or a blocking_begin left open */
  worker->state = WORKER_IDLE;
}

/* The calling thread's id in /proc/self/task, or 0. */
static int
current_tid (void)
{
#if defined(__linux__) && defined(SYS_gettid)
  return (int) syscall (SYS_gettid);
#else
  return 0;
#endif
}

static gpointer
worker_main (gpointer data)
{
  Worker worker = { .state = WORKER_IDLE, .busy_link = { &worker, NULL, NULL }, .tid = current_tid () };

  g_private_set (&current_worker, &worker);
  g_mutex_lock (&pool.lock);
  pool.n_starting--;
  for (;;)
    {
      Job job;

      while (pool.n_queued == 0 || pool.n_threads > max_threads_locked ())
        {
          gint64 end = g_get_monotonic_time () + pool.idle_timeout;
          gboolean woken;

          if (pool.n_threads > max_threads_locked ())
            goto exit;
          pool.n_idle++;
          woken = g_cond_wait_until (&pool.work_cond, &pool.lock, end);
          pool.n_idle--;
          if (!woken && pool.n_queued == 0)
            goto exit;
        }
      job = ring_pop_locked ();
      worker_start_job_locked (&worker);
      g_mutex_unlock (&pool.lock);
      job.func (job.data);
      g_atomic_int_set (&worker.in_user_code, FALSE);
      g_mutex_lock (&pool.lock);
      worker_end_job_locked (&worker);
      pool.n_finished++;
    }

exit:
  pool.n_threads--;
  g_mutex_unlock (&pool.lock);
  g_private_set (&current_worker, NULL);
  return NULL;
}

/* What the monitor asks the kernel about: up to this many busy workers,
 * enough to tell a pool that waits from one that cannot run. */
#define MAX_SAMPLED_WORKERS 64

typedef struct
{
  guint    n;
  int      tids[MAX_SAMPLED_WORKERS];
  guint64  jobs[MAX_SAMPLED_WORKERS];
  gint64   active_ns[MAX_SAMPLED_WORKERS];
  gboolean asleep[MAX_SAMPLED_WORKERS];
} WorkerSample;

/* Nanoseconds thread @tid has run or waited for a processor so far
 * (/proc/self/task/TID/schedstat: time on a processor, time waiting in
 * a run queue), or -1. */
static gint64
thread_active_ns (int tid)
{
  char path[64];
  unsigned long long run = 0, wait = 0;
  FILE *file;
  int fields;

  if (tid == 0)
    return -1;
  g_snprintf (path, sizeof path, "/proc/self/task/%d/schedstat", tid);
  file = fopen (path, "re");
  if (file == NULL)
    return -1;
  fields = fscanf (file, "%llu %llu", &run, &wait);
  fclose (file);
  return fields == 2 ? (gint64) (run + wait) : -1;
}

/* The busy workers inside their job's own function: those whose sleep
 * says something. One in Nursery's bookkeeping after it (returning the
 * child to its group) waits at most for a lock whose holder will run. */
static void
sample_busy_locked (WorkerSample *sample)
{
  sample->n = 0;
  for (GList *l = pool.busy.head; l != NULL && sample->n < MAX_SAMPLED_WORKERS; l = l->next)
    {
      Worker *worker = l->data;

      if (!g_atomic_int_get (&worker->in_user_code))
        continue;
      sample->tids[sample->n] = worker->tid;
      sample->jobs[sample->n] = worker->job;
      sample->n++;
    }
}

/* Whether thread @tid is running or runnable now ('R' in
 * /proc/self/task/TID/stat). The run-queue time of schedstat is only
 * added when a thread gets a processor again, so a worker starved for
 * the whole delay shows no time at all: its state tells it apart from
 * one that sleeps. */
static gboolean
thread_runnable (int tid)
{
  char path[64], line[256];
  const char *end;
  FILE *file;
  gboolean runnable = FALSE;

  g_snprintf (path, sizeof path, "/proc/self/task/%d/stat", tid);
  file = fopen (path, "re");
  if (file == NULL)
    return FALSE;
  /* "TID (COMM) STATE ...": COMM may hold spaces and parentheses. */
  if (fgets (line, sizeof line, file) != NULL && (end = strrchr (line, ')')) != NULL)
    runnable = end[1] == ' ' && end[2] == 'R';
  fclose (file);
  return runnable;
}

/* Whether the kernel tells how threads spend their time (Linux's
 * /proc, with schedstat). Asked once. */
static gboolean
kernel_tells (void)
{
  static gsize tells;

  if (g_once_init_enter (&tells))
    g_once_init_leave (&tells, thread_active_ns (current_tid ()) >= 0 ? 2 : 1);
  return tells == 2;
}

/* Fills @sample's times, without the lock (-1 for a worker gone). */
static void
sample_times (WorkerSample *sample)
{
  for (guint i = 0; i < sample->n; i++)
    sample->active_ns[i] = thread_active_ns (sample->tids[i]);
}

/* Without the lock: which of @sample's workers slept through most of
 * @elapsed_us, neither running nor waiting for a processor, so waiting
 * for something else, and are not runnable now. One that exited
 * meanwhile did not block. */
static void
find_asleep (WorkerSample *sample,
             gint64        elapsed_us)
{
  for (guint i = 0; i < sample->n; i++)
    {
      gint64 before = sample->active_ns[i];
      gint64 now = before >= 0 ? thread_active_ns (sample->tids[i]) : -1;

      sample->asleep[i] = now >= 0 && (now - before) * 2 < elapsed_us * 1000 &&
                          !thread_runnable (sample->tids[i]);
    }
}

/* The workers found asleep that still run the job they were sampled in
 * count as blocked from now on, as if they had said so
 * (_nursery_pool_blocking_begin()): each is replaced once. Returns how
 * many. */
static guint
count_asleep_as_blocked_locked (const WorkerSample *sample)
{
  guint n = 0;
  GList *next;

  for (GList *l = pool.busy.head; l != NULL; l = next)
    {
      Worker *worker = l->data;

      next = l->next;
      for (guint i = 0; i < sample->n; i++)
        if (sample->asleep[i] && sample->tids[i] == worker->tid && sample->jobs[i] == worker->job)
          {
            _nursery_link_unlink (&pool.busy, &worker->busy_link);
            worker->state = WORKER_SLEEPING;
            pool.n_blocked++;
            n++;
            break;
          }
    }
  return n;
}

/* CPU time of the whole process, µs. */
static gint64
process_cpu_us (void)
{
  struct timespec ts;

  if (clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
    return 0;
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* Did the process use over half of the processors during @elapsed? */
static gboolean
processors_busy (gint64 cpu,
                 gint64 elapsed)
{
  return elapsed > 0 && 2 * cpu > (gint64) n_processors () * elapsed;
}

/* One delay of the monitor, with jobs waiting (see the comment at the
 * top): the workers it adds. */
static guint
watch_one_delay_locked (void)
{
  guint64 finished = pool.n_finished;
  WorkerSample sample;
  gint64 cpu, start, elapsed;
  gboolean tells;
  guint asleep;

  sample_busy_locked (&sample);
  g_mutex_unlock (&pool.lock);
  tells = kernel_tells ();
  sample_times (&sample);
  cpu = process_cpu_us ();
  start = g_get_monotonic_time ();
  g_mutex_lock (&pool.lock);

  g_cond_wait_until (&pool.monitor_cond, &pool.lock, start + pool.grow_delay);
  elapsed = g_get_monotonic_time () - start;
  /* Progress, workers still starting (they will take jobs: a machine
   * slow to run them is no reason for more), or woken early by a new
   * cap or timing: nothing to judge. */
  if (pool.n_finished != finished || pool.n_starting > 0 || elapsed * 2 < pool.grow_delay)
    return 0;

  /* No /proc: the process's CPU time is the only clue. */
  if (!tells)
    return processors_busy (process_cpu_us () - cpu, elapsed) ? 0 :
           reserve_workers_locked (backlog_locked ());

  g_mutex_unlock (&pool.lock);
  find_asleep (&sample, elapsed);
  g_mutex_lock (&pool.lock);
  asleep = count_asleep_as_blocked_locked (&sample);
  /* All of them asleep: a barrier, say, whose other members wait in the
   * queue. Every waiting job gets a worker at once. */
  if (asleep > 0 && asleep == sample.n)
    return reserve_workers_locked (backlog_locked ());
  return reserve_workers_locked (MIN (asleep, backlog_locked ()));
}

/* The monitor: see the comment at the top. It sleeps without a timeout
 * while nothing waits and exits after idle_timeout of that. */
static gpointer
monitor_main (gpointer data)
{
  g_mutex_lock (&pool.lock);
  for (;;)
    {
      guint grow;

      if (backlog_locked () == 0)
        {
          gint64 end = g_get_monotonic_time () + pool.idle_timeout;

          pool.monitor_waiting = TRUE;
          if (!g_cond_wait_until (&pool.monitor_cond, &pool.lock, end) &&
              backlog_locked () == 0)
            break;
          pool.monitor_waiting = FALSE;
          continue;
        }

      grow = watch_one_delay_locked ();
      if (grow > 0)
        {
          g_mutex_unlock (&pool.lock);
          start_workers (grow);
          g_mutex_lock (&pool.lock);
        }
    }
  pool.monitor_waiting = FALSE;
  pool.monitor_running = FALSE;
  g_mutex_unlock (&pool.lock);
  return NULL;
}

/* Wakes the monitor if jobs now wait with no idle worker for them, and
 * starts it the first time. Returns %TRUE if a thread must be created. */
static gboolean
poke_monitor_locked (void)
{
  if (backlog_locked () == 0)
    return FALSE;
  if (pool.monitor_running)
    {
      if (pool.monitor_waiting)
        g_cond_signal (&pool.monitor_cond);
      pool.monitor_waiting = FALSE;
      return FALSE;
    }
  pool.monitor_running = TRUE;
  return TRUE;
}

static void
start_monitor (void)
{
  g_autoptr(GError) error = NULL;
  GThread *thread = g_thread_try_new ("nursery-monitor", monitor_main, NULL, &error);

  if (thread == NULL)
    {
      g_warning ("Nursery could not start its pool monitor: %s", error->message);
      g_mutex_lock (&pool.lock);
      pool.monitor_running = FALSE;
      g_mutex_unlock (&pool.lock);
      return;
    }
  g_thread_unref (thread);
}

void
_nursery_pool_push (NurseryPoolFunc func,
                    gpointer        data)
{
  guint start = 0;
  gboolean monitor;
  guint running;

  g_mutex_lock (&pool.lock);
  ring_push_locked (func, data);
  running = pool.n_threads - pool.n_idle - pool.n_blocked;
  if (pool.n_idle > 0)
    g_cond_signal (&pool.work_cond);
  else if (running < n_processors ())
    start = reserve_workers_locked (1);
  monitor = poke_monitor_locked ();
  g_mutex_unlock (&pool.lock);

  start_workers (start);
  if (monitor)
    start_monitor ();
}

void
_nursery_pool_blocking_begin (void)
{
  Worker *worker = g_private_get (&current_worker);
  guint start = 0;

  if (worker == NULL || worker->blocking_depth++ > 0)
    return;
  g_mutex_lock (&pool.lock);
  /* One the monitor found asleep was counted and replaced already. */
  if (worker->state == WORKER_BUSY)
    {
      _nursery_link_unlink (&pool.busy, &worker->busy_link);
      pool.n_blocked++;
      start = reserve_workers_locked (MIN (backlog_locked (), 1));
    }
  worker->state = WORKER_BLOCKED;
  g_mutex_unlock (&pool.lock);
  start_workers (start);
}

void
_nursery_pool_blocking_end (void)
{
  Worker *worker = g_private_get (&current_worker);

  if (worker == NULL || worker->blocking_depth == 0 || --worker->blocking_depth > 0)
    return;
  g_mutex_lock (&pool.lock);
  pool.n_blocked--;
  worker->state = WORKER_BUSY;
  _nursery_link_push_tail (&pool.busy, &worker->busy_link);
  g_mutex_unlock (&pool.lock);
}

void
_nursery_pool_user_code_done (void)
{
  Worker *worker = g_private_get (&current_worker);

  if (worker != NULL)
    g_atomic_int_set (&worker->in_user_code, FALSE);
}

void
_nursery_pool_get_stats (NurseryPoolStats *stats)
{
  g_mutex_lock (&pool.lock);
  stats->n_threads = pool.n_threads;
  stats->n_idle = pool.n_idle;
  stats->n_blocked = pool.n_blocked;
  stats->n_queued = pool.n_queued;
  g_mutex_unlock (&pool.lock);
}

void
_nursery_pool_set_timings (gint64 grow_delay,
                           gint64 idle_timeout)
{
  g_mutex_lock (&pool.lock);
  pool.grow_delay = grow_delay;
  pool.idle_timeout = idle_timeout;
  g_cond_broadcast (&pool.work_cond);
  g_cond_signal (&pool.monitor_cond);
  g_mutex_unlock (&pool.lock);
}

/**
 * nursery_set_max_threads:
 * @max_threads: the most worker threads, at least 1
 *
 * Caps the worker pool that runs every thread child of the process
 * ([method@Nursery.Group.spawn_in_thread]). The pool starts one worker
 * per processor for a backlog and adds workers when they block ([R28](rules.html#R28)),
 * never more than this cap: the default is 64 per processor, at least 512.
 *
 * With the cap reached, more thread children wait for a worker. Children
 * that wait for each other then need more workers than the cap allows and
 * wait until cancelled: keep such a set smaller than the cap, or raise
 * it. Lowering the cap lets surplus workers exit as they become idle.
 *
 * Any thread.
 *
 * Since: 1.0
 */
void
nursery_set_max_threads (guint max_threads)
{
  g_return_if_fail (max_threads >= 1);

  g_mutex_lock (&pool.lock);
  pool.max_threads = max_threads;
  /* Surplus idle workers exit; the monitor serves a backlog that a
   * raised cap now allows. */
  g_cond_broadcast (&pool.work_cond);
  g_cond_signal (&pool.monitor_cond);
  g_mutex_unlock (&pool.lock);
}

/**
 * nursery_get_max_threads:
 *
 * The cap of the worker pool; see nursery_set_max_threads().
 *
 * Returns: the most worker threads the pool starts
 *
 * Since: 1.0
 */
guint
nursery_get_max_threads (void)
{
  guint max;

  g_mutex_lock (&pool.lock);
  max = max_threads_locked ();
  g_mutex_unlock (&pool.lock);
  return max;
}
