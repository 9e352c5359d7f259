/* progress-window.c: a GTK 4 window that shows a group at work
 *
 * What it shows:
 *  - a GTK application's main context is a group's owner context: every
 *    notify of the group arrives there, on the GTK thread, even when the
 *    children run on worker threads, so the group's properties can be
 *    bound straight to widgets (g_object_bind_property_full): the
 *    progress bar follows n-succeeded + n-failed out of n-spawned (not
 *    n-finished, which counts the cancelled steps too: the bar would jump
 *    to 100 % on Cancel), the labels n-running, n-pending, n-failed and
 *    n-cancelled, and the Cancel button is insensitive once the group is
 *    closed;
 *  - each step publishes its own progress from its worker thread
 *    (nursery_task_set_progress()); the window hears of it on the GTK
 *    thread, at most once per batch, and shows the latest step's;
 *  - the Cancel button is just nursery_group_cancel(): running steps see
 *    their cancellables and stop, queued steps never start, and the
 *    window says "Cancelled" only when the last running one has stopped;
 *  - the group is joined with wait_async from the main loop: the UI never
 *    blocks;
 *  - the supervise policy: a failing step is counted, the others go on.
 *
 * The work: --steps steps, --jobs at a time, each a thread child that
 * works for --step-ms milliseconds (every seventh fails on purpose).
 *
 * Usage: progress-window [--steps N] [--jobs N] [--step-ms MS] [--screenshot FILE]
 * With --screenshot, once half the steps have finished the window renders
 * itself to FILE (PNG), then presses its own Cancel button and exits when
 * the group has closed. It prints one line per event on stdout.
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <locale.h>
#include <stdlib.h>

#include <gtk/gtk.h>
#include <nursery.h>

typedef struct
{
  NurseryGroup *group;
  GtkWindow    *window;
  GtkWidget    *cancel;
  GtkLabel     *status;
  GtkLabel     *step_progress;
  guint         n_steps;
  guint         step_ms;
  char         *screenshot;     /* NULL unless --screenshot */
  gboolean      screenshot_taken;
  gboolean      done;
  int           exit_status;
} App;

/* The work: a thread child per step */

/* Waits @ms, waking up early if @cancellable is cancelled. */
static void
pause_unless_cancelled (GCancellable *cancellable,
                        guint         ms)
{
  GPollFD pollfd;

  if (!g_cancellable_make_pollfd (cancellable, &pollfd))
    {
      g_usleep (ms * G_TIME_SPAN_MILLISECOND);
      return;
    }
  g_poll (&pollfd, 1, ms);
  g_cancellable_release_fd (cancellable);
}

static void
run_step (NurseryTask *task,
          gpointer     data)
{
  App *app = data;
  guint number = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (task), "step"));

  /* A worker thread: the UI stays live meanwhile. It works in ten
   * slices and says how far it is after each. */
  for (guint slice = 1; slice <= 10 && !nursery_task_is_cancelled (task); slice++)
    {
      pause_unless_cancelled (nursery_task_get_cancellable (task), app->step_ms / 10);
      nursery_task_set_progress (task, slice / 10.0);
    }
  if (nursery_task_return_error_if_cancelled (task))
    return;
  if (number % 7 == 0)
    nursery_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                                   "step %u failed on purpose", number);
}

/* On the GTK thread, whichever thread set the progress. */
static void
on_step_progress (NurseryTask *task,
                  GParamSpec  *pspec,
                  gpointer     data)
{
  App *app = data;
  g_autofree char *text = NULL;

  if (app->window == NULL)
    return;
  text = g_strdup_printf ("%s: %.0f %%", nursery_task_get_name (task),
                          100 * nursery_task_get_progress (task));
  gtk_label_set_text (app->step_progress, text);
}

static void
spawn_steps (App *app)
{
  for (guint i = 1; i <= app->n_steps; i++)
    {
      g_autofree char *name = g_strdup_printf ("step %u", i);
      g_autoptr(NurseryTask) task = nursery_group_spawn_in_thread (app->group, name, run_step,
                                                                   app, NULL, NULL);

      /* Set before the step can start: it starts on a later iteration (R1). */
      g_object_set_data (G_OBJECT (task), "step", GUINT_TO_POINTER (i));
      g_signal_connect (task, "notify::progress", G_CALLBACK (on_step_progress), app);
    }
}

/* Bindings: group properties → widgets */

/* Done means succeeded or failed: a cancelled step is not done. */
static guint
n_done (App *app)
{
  return nursery_group_get_n_succeeded (app->group) + nursery_group_get_n_failed (app->group);
}

/* Bound to each of n-succeeded, n-failed and n-spawned: whichever moved,
 * the bar shows done out of spawned. */
static gboolean
counts_to_fraction (GBinding     *binding,
                    const GValue *from,
                    GValue       *to,
                    gpointer      data)
{
  App *app = data;

  g_value_set_double (to, (double) n_done (app) / MAX (nursery_group_get_n_spawned (app->group), 1));
  return TRUE;
}

static gboolean
counts_to_text (GBinding     *binding,
                const GValue *from,
                GValue       *to,
                gpointer      data)
{
  App *app = data;

  g_value_take_string (to, g_strdup_printf ("%u of %u steps done", n_done (app),
                                            nursery_group_get_n_spawned (app->group)));
  return TRUE;
}

/* "%u running" and the like: the format is the binding's user data. */
static gboolean
count_to_label (GBinding     *binding,
                const GValue *from,
                GValue       *to,
                gpointer      format)
{
  g_value_take_string (to, g_strdup_printf (format, g_value_get_uint (from)));
  return TRUE;
}

static GtkWidget *
counter_label (App        *app,
               const char *property,
               const char *format)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_widget_set_hexpand (label, TRUE);
  g_object_bind_property_full (app->group, property, label, "label", G_BINDING_SYNC_CREATE,
                               count_to_label, NULL, (gpointer) format, NULL);
  return label;
}

static GtkWidget *
progress_bar (App *app)
{
  GtkWidget *bar = gtk_progress_bar_new ();

  const char *counts[] = { "n-succeeded", "n-failed", "n-spawned" };

  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (bar), TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (counts); i++)
    {
      g_object_bind_property_full (app->group, counts[i], bar, "fraction", G_BINDING_SYNC_CREATE,
                                   counts_to_fraction, NULL, app, NULL);
      g_object_bind_property_full (app->group, counts[i], bar, "text", G_BINDING_SYNC_CREATE,
                                   counts_to_text, NULL, app, NULL);
    }
  return bar;
}

static GtkWidget *
counters_row (App *app)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);

  gtk_box_append (GTK_BOX (row), counter_label (app, "n-running", "%u running"));
  gtk_box_append (GTK_BOX (row), counter_label (app, "n-pending", "%u waiting"));
  gtk_box_append (GTK_BOX (row), counter_label (app, "n-failed", "%u failed"));
  gtk_box_append (GTK_BOX (row), counter_label (app, "n-cancelled", "%u cancelled"));
  return row;
}

/* The Cancel button and the group's end */

static void
on_cancel_clicked (GtkButton *button,
                   gpointer   data)
{
  App *app = data;

  nursery_group_cancel (app->group);
}

static void
on_cancelled (NurseryGroup *group,
              GParamSpec   *pspec,
              gpointer      data)
{
  App *app = data;

  /* Cancelled is not closed yet: the running steps are still stopping. */
  if (app->window != NULL)
    gtk_label_set_text (app->status, "Cancelling: waiting for the running steps to stop…");
  g_print ("cancelling\n");
}

static void
on_group_closed (GObject      *source,
                 GAsyncResult *result,
                 gpointer      data)
{
  App *app = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  gboolean cancelled;

  nursery_group_wait_finish (app->group, result, &error);
  cancelled = nursery_group_is_cancelled (app->group);
  text = g_strdup_printf ("%s: %u succeeded, %u failed, %u cancelled",
                          cancelled ? "Cancelled" : "Done",
                          nursery_group_get_n_succeeded (app->group),
                          nursery_group_get_n_failed (app->group),
                          nursery_group_get_n_cancelled (app->group));
  g_print ("%s\n", text);
  /* The window may be gone already: closing it cancelled the group. */
  if (app->window == NULL)
    return;
  gtk_label_set_text (app->status, text);

  /* In screenshot mode the run is a test: it must have been cancelled
   * by the button, after the screenshot. */
  if (app->screenshot != NULL)
    {
      app->exit_status = app->screenshot_taken && cancelled ? EXIT_SUCCESS : EXIT_FAILURE;
      app->done = TRUE;
    }
}

/* --screenshot */

static gboolean
save_screenshot (App      *app,
                 GError  **error)
{
  GtkWidget *widget = GTK_WIDGET (app->window);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  /* The window draws itself into a render node, which the window's own
   * renderer turns into pixels: no X server screenshot involved. */
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the window drew nothing");
      return FALSE;
    }
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (app->window)),
                                         node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, app->screenshot))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write %s", app->screenshot);
      return FALSE;
    }
  g_print ("screenshot: %s %dx%d\n", app->screenshot, width, height);
  return TRUE;
}

/* Runs after the frame that shows the new counts has been painted. */
static void
on_after_paint (GdkFrameClock *clock,
                gpointer       data)
{
  App *app = data;
  g_autoptr(GError) error = NULL;

  g_signal_handlers_disconnect_by_func (clock, on_after_paint, app);
  app->screenshot_taken = save_screenshot (app, &error);
  if (!app->screenshot_taken)
    g_printerr ("progress-window: screenshot: %s\n", error->message);
  /* Press Cancel as a user would: through the button's own signal. */
  g_signal_emit_by_name (app->cancel, "clicked");
}

static void
maybe_take_screenshot (NurseryGroup *group,
                       GParamSpec   *pspec,
                       gpointer      data)
{
  App *app = data;
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (app->window));

  if (app->screenshot_taken || app->window == NULL || clock == NULL ||
      nursery_group_get_n_finished (group) < app->n_steps / 2)
    return;
  g_signal_handlers_disconnect_by_func (group, maybe_take_screenshot, app);
  /* The bindings have updated the widgets; wait until they are drawn. */
  g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), app);
  gtk_widget_queue_draw (GTK_WIDGET (app->window));
}

/* The window */

static GtkWidget *
build_content (App  *app,
               guint jobs)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  g_autofree char *intro = g_strdup_printf ("%u steps, %u at a time; every seventh fails on purpose.",
                                            app->n_steps, jobs);
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);

  gtk_box_append (GTK_BOX (box), gtk_label_new (intro));
  gtk_box_append (GTK_BOX (box), progress_bar (app));
  gtk_box_append (GTK_BOX (box), counters_row (app));
  app->step_progress = GTK_LABEL (gtk_label_new ("No step has started yet"));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (app->step_progress));
  app->status = GTK_LABEL (gtk_label_new ("Working…"));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (app->status));

  app->cancel = gtk_button_new_with_mnemonic ("_Cancel");
  g_signal_connect (app->cancel, "clicked", G_CALLBACK (on_cancel_clicked), app);
  /* Nothing left to cancel once the group is closed. */
  g_object_bind_property (app->group, "closed", app->cancel, "sensitive",
                          G_BINDING_SYNC_CREATE | G_BINDING_INVERT_BOOLEAN);
  gtk_widget_set_halign (buttons, GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (buttons), app->cancel);
  gtk_box_append (GTK_BOX (box), buttons);
  return box;
}

static void
on_window_destroy (GtkWidget *window,
                   gpointer   data)
{
  App *app = data;

  /* Closing the window cancels the work; main() still joins the group. */
  app->window = NULL;
  nursery_group_cancel (app->group);
  app->done = TRUE;
}

static void
build_window (App  *app,
              guint jobs)
{
  app->window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_title (app->window, "Nursery: progress");
  gtk_window_set_default_size (app->window, 460, -1);
  gtk_window_set_child (app->window, build_content (app, jobs));
  g_signal_connect (app->window, "destroy", G_CALLBACK (on_window_destroy), app);
  gtk_window_present (app->window);
}

static gboolean
parse_args (int      *argc,
            char   ***argv,
            int      *steps,
            int      *jobs,
            int      *step_ms,
            char    **screenshot)
{
  GOptionEntry options[] = {
    { "steps", 0, 0, G_OPTION_ARG_INT, steps, "Number of steps (default 20)", "N" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, jobs, "Steps at a time (default 3)", "N" },
    { "step-ms", 0, 0, G_OPTION_ARG_INT, step_ms, "Duration of a step (default 400)", "MS" },
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, screenshot, "Half-way through, save the window as a PNG, cancel, exit", "FILE" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("— a window bound to a group's progress");
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, argc, argv, &error) || *argc != 1 ||
      *steps < 1 || *jobs < 1 || *step_ms < 0)
    {
      g_printerr ("Usage: progress-window [--steps N] [--jobs N] [--step-ms MS] [--screenshot FILE]\n");
      return FALSE;
    }
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(NurseryGroup) group = NULL;
  App app = { 0 };
  int steps = 20, jobs = 3, step_ms = 400;

  setlocale (LC_ALL, "");
  if (!parse_args (&argc, &argv, &steps, &jobs, &step_ms, &app.screenshot))
    return 2;
  gtk_init ();

  /* Created on GTK's thread: its owner context is GTK's main context. */
  group = g_object_new (NURSERY_TYPE_GROUP,
                        "name", "progress-window",
                        "policy", NURSERY_POLICY_SUPERVISE,
                        "max-concurrent", (guint) jobs,
                        NULL);
  app.group = group;
  app.n_steps = steps;
  app.step_ms = step_ms;
  g_signal_connect (group, "notify::cancelled", G_CALLBACK (on_cancelled), &app);
  if (app.screenshot != NULL)
    g_signal_connect (group, "notify::n-finished", G_CALLBACK (maybe_take_screenshot), &app);

  build_window (&app, jobs);
  spawn_steps (&app);
  nursery_group_wait_async (group, NULL, on_group_closed, &app);

  while (!app.done)
    g_main_context_iteration (NULL, TRUE);

  /* Closing the window may have left steps running: structure says we
   * wait for them (they are cancelled, so it is quick). */
  nursery_group_wait (group, NULL, NULL);
  if (app.window != NULL)
    gtk_window_destroy (app.window);
  g_free (app.screenshot);
  return app.exit_status;
}
