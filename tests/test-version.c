/* test-version.c: the version header, the availability macros and the
 * run-time version functions agree
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built three times by tests/meson.build: with the default
 * NURSERY_VERSION_MIN_REQUIRED / MAX_ALLOWED, with both pinned to 1.0,
 * and with NURSERY_DISABLE_DEPRECATION_WARNINGS. EXPECTED_VERSION is
 * project(version:), EXPECT_DEPRECATION_ATTRIBUTES says whether API
 * deprecated in 1.0 must carry the compiler's deprecation attribute.
 */

#include <string.h>

#include <nursery.h>

#if !NURSERY_CHECK_VERSION (1, 0, 0)
# error "NURSERY_CHECK_VERSION (1, 0, 0) is false in a #if"
#endif
#if NURSERY_CHECK_VERSION (NURSERY_MAJOR_VERSION + 1, 0, 0)
# error "NURSERY_CHECK_VERSION accepts the next major version in a #if"
#endif

static void
test_header_matches_project (void)
{
  g_autofree char *numbers = g_strdup_printf ("%d.%d.%d", NURSERY_MAJOR_VERSION,
                                              NURSERY_MINOR_VERSION, NURSERY_MICRO_VERSION);

  g_assert_cmpstr (NURSERY_VERSION_S, ==, EXPECTED_VERSION);
  g_assert_cmpstr (numbers, ==, EXPECTED_VERSION);
  g_assert_cmphex (NURSERY_VERSION_HEX, ==,
                   (NURSERY_MAJOR_VERSION << 24) | (NURSERY_MINOR_VERSION << 16) | (NURSERY_MICRO_VERSION << 8));
}

static void
test_runtime_matches_header (void)
{
  g_assert_cmpuint (nursery_get_major_version (), ==, NURSERY_MAJOR_VERSION);
  g_assert_cmpuint (nursery_get_minor_version (), ==, NURSERY_MINOR_VERSION);
  g_assert_cmpuint (nursery_get_micro_version (), ==, NURSERY_MICRO_VERSION);
}

/* Both checks, against the same table: (version, expected). Signed
 * fields: the macro compares with the (maybe 0) version components,
 * which an unsigned operand turns into a -Wtype-limits warning. */
static void
test_check_version (void)
{
  const int maj = NURSERY_MAJOR_VERSION, min = NURSERY_MINOR_VERSION, mic = NURSERY_MICRO_VERSION;
  const struct { int major, minor, micro; gboolean expected; } cases[] = {
    { maj, min, mic, TRUE },
    { 1, 0, 0, TRUE },
    { 0, 99, 99, TRUE },
    { maj, min, mic + 1, FALSE },
    { maj, min + 1, 0, FALSE },
    { maj + 1, 0, 0, FALSE },
    { maj, G_MAXINT, 0, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gboolean macro = NURSERY_CHECK_VERSION (cases[i].major, cases[i].minor, cases[i].micro);
      gboolean runtime = nursery_check_version (cases[i].major, cases[i].minor, cases[i].micro);

      g_test_message ("%d.%d.%d: expected %d, macro %d, function %d", cases[i].major,
                      cases[i].minor, cases[i].micro, cases[i].expected, macro, runtime);
      g_assert_cmpint (macro, ==, cases[i].expected);
      g_assert_cmpint (runtime, ==, cases[i].expected);
    }
}

/* The attribute macros expand to what the chosen versions ask for: read
 * their expansions as strings. */
static void
test_availability_macros (void)
{
  const char *available = G_STRINGIFY (NURSERY_AVAILABLE_IN_1_0);
  const char *deprecated = G_STRINGIFY (NURSERY_DEPRECATED_IN_1_0);
  const char *deprecated_for = G_STRINGIFY (NURSERY_DEPRECATED_IN_1_0_FOR (nursery_group_new));
  const char *unavailable = G_STRINGIFY (NURSERY_UNAVAILABLE (1, 2));

  g_test_message ("NURSERY_AVAILABLE_IN_1_0 = %s", available);
  g_test_message ("NURSERY_DEPRECATED_IN_1_0 = %s", deprecated);
  g_assert_nonnull (strstr (available, "visibility"));
  g_assert_null (strstr (available, "deprecated"));
  g_assert_nonnull (strstr (deprecated, "visibility"));
  g_assert_cmpint (strstr (deprecated, "deprecated") != NULL, ==, EXPECT_DEPRECATION_ATTRIBUTES);
  g_assert_cmpint (strstr (deprecated_for, "nursery_group_new") != NULL, ==, EXPECT_DEPRECATION_ATTRIBUTES);
  g_assert_cmpint (strstr (unavailable, "available before") != NULL, ==, EXPECT_DEPRECATION_ATTRIBUTES);
}

static void
test_min_max (void)
{
  g_assert_cmphex (NURSERY_VERSION_1_0, ==, G_ENCODE_VERSION (1, 0));
  g_assert_cmphex (NURSERY_VERSION_MIN_REQUIRED, >=, NURSERY_VERSION_1_0);
  g_assert_cmphex (NURSERY_VERSION_MAX_ALLOWED, >=, NURSERY_VERSION_MIN_REQUIRED);
#ifdef EXPECTED_MIN_MAX
  g_assert_cmphex (NURSERY_VERSION_MIN_REQUIRED, ==, EXPECTED_MIN_MAX);
  g_assert_cmphex (NURSERY_VERSION_MAX_ALLOWED, ==, EXPECTED_MIN_MAX);
#else
  /* The defaults: the stable series of the headers. */
  g_assert_cmphex (NURSERY_VERSION_MIN_REQUIRED, ==,
                   G_ENCODE_VERSION (NURSERY_MAJOR_VERSION, NURSERY_MINOR_VERSION + NURSERY_MINOR_VERSION % 2));
  g_assert_cmphex (NURSERY_VERSION_MAX_ALLOWED, ==, NURSERY_VERSION_MIN_REQUIRED);
#endif
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/nursery/version/R21/header-matches-project", test_header_matches_project);
  g_test_add_func ("/nursery/version/R21/runtime-matches-header", test_runtime_matches_header);
  g_test_add_func ("/nursery/version/R21/check-version", test_check_version);
  g_test_add_func ("/nursery/version/R21/availability-macros", test_availability_macros);
  g_test_add_func ("/nursery/version/R21/min-max", test_min_max);

  return g_test_run ();
}
