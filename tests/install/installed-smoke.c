/* installed-smoke.c: a client built only from what `meson install` installs
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * test-install.sh compiles this against `pkg-config libnursery-1` pointing
 * into a DESTDIR tree, so it proves the installed headers (including the
 * generated nursery-enums.h), the .pc file and the shared library work
 * together. It uses only the public API, the way a third-party program
 * would: no test utilities, no private headers. Plain checks instead of
 * g_assert, so they also run under -DG_DISABLE_ASSERT.
 */

#include <nursery.h>

#define N_CHILDREN 3

static int n_failed;

static void
check (gboolean    ok,
       const char *what)
{
  if (!ok)
    n_failed++;
  g_print ("%s - %s\n", ok ? "ok" : "not ok", what);
}

static void
return_index (NurseryTask *task,
              gpointer     user_data)
{
  nursery_task_return_int (task, GPOINTER_TO_INT (user_data));
}

int
main (void)
{
  g_autoptr(NurseryGroup) group = nursery_group_new ();
  g_autoptr(GError) error = NULL;
  NurseryTask *tasks[N_CHILDREN];
  NurseryTask *late;
  gboolean ok;

  for (int i = 0; i < N_CHILDREN; i++)
    tasks[i] = nursery_group_spawn (group, "child", return_index, GINT_TO_POINTER (i + 1), NULL, &error);
  check (error == NULL, "children spawned");

  ok = nursery_group_wait (group, NULL, &error);
  check (ok && error == NULL, "the group joined successfully");
  g_clear_error (&error);

  for (int i = 0; i < N_CHILDREN; i++)
    {
      check (tasks[i] != NULL
             && nursery_task_get_state (tasks[i]) == NURSERY_TASK_SUCCEEDED
             && nursery_task_get_int (tasks[i]) == i + 1,
             "a child returned its value");
      g_clear_object (&tasks[i]);
    }

  /* The error domain and the generated enum types are public API too. */
  late = nursery_group_spawn (group, "late", return_index, NULL, NULL, &error);
  check (late == NULL && g_error_matches (error, NURSERY_ERROR, NURSERY_ERROR_CLOSED),
         "a closed group refuses with NURSERY_ERROR_CLOSED");
  check (G_TYPE_IS_ENUM (NURSERY_TYPE_TASK_STATE), "nursery-enums.h registers NurseryTaskState");

  /* The generated nursery-version.h is installed and agrees with the library. */
  check (NURSERY_CHECK_VERSION (1, 0, 0) && nursery_check_version (1, 0, 0)
         && nursery_get_major_version () == NURSERY_MAJOR_VERSION
         && nursery_get_minor_version () == NURSERY_MINOR_VERSION
         && nursery_get_micro_version () == NURSERY_MICRO_VERSION,
         "the installed nursery-version.h matches the installed library");

  return n_failed == 0 ? 0 : 1;
}
