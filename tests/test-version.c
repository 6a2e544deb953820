/* test-version.c: the version macros of smtpkit-version.h and
 * smtpkit-version-macros.h agree with the library at run time and with
 * the project's version in meson.build (PROJECT_*, given by
 * tests/meson.build)
 *
 * Compiled as an application is, against <smtpkit.h> alone, with the
 * narrowest availability window: SMTPKIT_VERSION_MIN_REQUIRED and
 * SMTPKIT_VERSION_MAX_ALLOWED both the current version.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define SMTPKIT_VERSION_MIN_REQUIRED SMTPKIT_VERSION_CUR_STABLE
#define SMTPKIT_VERSION_MAX_ALLOWED SMTPKIT_VERSION_CUR_STABLE

#include <smtpkit.h>

#if !defined(PROJECT_VERSION) || !defined(PROJECT_MAJOR) || !defined(PROJECT_MINOR) ||         \
  !defined(PROJECT_MICRO)
#error "tests/meson.build passes the project's version as PROJECT_VERSION and PROJECT_MAJOR/MINOR/MICRO"
#endif

/* The preprocessor can use them. */
#if !SMTPKIT_CHECK_VERSION(0, 0, 0)
#error "SMTPKIT_CHECK_VERSION (0, 0, 0) is false"
#endif
#if !SMTPKIT_CHECK_VERSION(PROJECT_MAJOR, PROJECT_MINOR, PROJECT_MICRO)
#error "SMTPKIT_CHECK_VERSION is false for the project's own version"
#endif
#if SMTPKIT_CHECK_VERSION(PROJECT_MAJOR, PROJECT_MINOR, PROJECT_MICRO + 1)
#error "SMTPKIT_CHECK_VERSION is true for the next micro version"
#endif

/* SMTPKIT_AVAILABLE_IN_<major>_<minor> of the project's version, spelt
 * out: the name itself when smtpkit-version-macros.h lacks it. */
#define PASTE_AVAILABLE_IN(major, minor) SMTPKIT_AVAILABLE_IN_##major##_##minor
#define AVAILABLE_IN(major, minor) PASTE_AVAILABLE_IN (major, minor)
#define PASTE_VERSION(major, minor) SMTPKIT_VERSION_##major##_##minor
#define VERSION_X_Y(major, minor) PASTE_VERSION (major, minor)

static void
test_compile_time (void)
{
  g_assert_cmpint (SMTPKIT_MAJOR_VERSION, ==, PROJECT_MAJOR);
  g_assert_cmpint (SMTPKIT_MINOR_VERSION, ==, PROJECT_MINOR);
  g_assert_cmpint (SMTPKIT_MICRO_VERSION, ==, PROJECT_MICRO);
  g_assert_cmpstr (SMTPKIT_VERSION_STRING, ==, PROJECT_VERSION);
}

static void
test_run_time (void)
{
  g_autofree char *version = g_strdup_printf ("%u.%u.%u", smtpkit_get_major_version (),
                                              smtpkit_get_minor_version (),
                                              smtpkit_get_micro_version ());

  g_assert_cmpuint (smtpkit_get_major_version (), ==, SMTPKIT_MAJOR_VERSION);
  g_assert_cmpuint (smtpkit_get_minor_version (), ==, SMTPKIT_MINOR_VERSION);
  g_assert_cmpuint (smtpkit_get_micro_version (), ==, SMTPKIT_MICRO_VERSION);
  g_assert_cmpstr (version, ==, PROJECT_VERSION);
}

static void
test_check_version_macro (void)
{
  /* Equal. */
  g_assert_true (SMTPKIT_CHECK_VERSION (PROJECT_MAJOR, PROJECT_MINOR, PROJECT_MICRO));
  /* Lower. */
  g_assert_true (SMTPKIT_CHECK_VERSION (0, 0, 0));
  g_assert_true (SMTPKIT_CHECK_VERSION (PROJECT_MAJOR, PROJECT_MINOR, 0));
  g_assert_true (SMTPKIT_CHECK_VERSION (PROJECT_MAJOR, 0, 0));
  if (PROJECT_MICRO > 0)
    g_assert_true (SMTPKIT_CHECK_VERSION (PROJECT_MAJOR, PROJECT_MINOR, PROJECT_MICRO - 1));
  if (PROJECT_MINOR > 0)
    g_assert_true (SMTPKIT_CHECK_VERSION (PROJECT_MAJOR, PROJECT_MINOR - 1, 99));
  if (PROJECT_MAJOR > 0)
    g_assert_true (SMTPKIT_CHECK_VERSION (PROJECT_MAJOR - 1, 99, 99));
  /* Higher. */
  g_assert_false (SMTPKIT_CHECK_VERSION (PROJECT_MAJOR, PROJECT_MINOR, PROJECT_MICRO + 1));
  g_assert_false (SMTPKIT_CHECK_VERSION (PROJECT_MAJOR, PROJECT_MINOR + 1, 0));
  g_assert_false (SMTPKIT_CHECK_VERSION (PROJECT_MAJOR + 1, 0, 0));
}

static void
test_check_version_function (void)
{
  /* Equal or lower within the major version: compatible. */
  g_assert_null (smtpkit_check_version (PROJECT_MAJOR, PROJECT_MINOR, PROJECT_MICRO));
  g_assert_null (smtpkit_check_version (PROJECT_MAJOR, PROJECT_MINOR, 0));
  g_assert_null (smtpkit_check_version (PROJECT_MAJOR, 0, 0));
  if (PROJECT_MINOR > 0)
    g_assert_null (smtpkit_check_version (PROJECT_MAJOR, PROJECT_MINOR - 1, 99));
  /* Higher: too old. */
  g_assert_cmpstr (smtpkit_check_version (PROJECT_MAJOR, PROJECT_MINOR, PROJECT_MICRO + 1), ==,
                   "libsmtpkit version too old (micro mismatch)");
  g_assert_cmpstr (smtpkit_check_version (PROJECT_MAJOR, PROJECT_MINOR + 1, 0), ==,
                   "libsmtpkit version too old (minor mismatch)");
  g_assert_cmpstr (smtpkit_check_version (PROJECT_MAJOR + 1, 0, 0), ==,
                   "libsmtpkit version too old (major mismatch)");
  /* Another major version is incompatible either way. */
  if (PROJECT_MAJOR > 0)
    g_assert_cmpstr (smtpkit_check_version (PROJECT_MAJOR - 1, 0, 0), ==,
                     "libsmtpkit version too new (major mismatch)");
}

static void
test_availability_macros (void)
{
  /* The current series has its own macros, and they are the defaults of
   * the availability window. */
  g_assert_cmpstr (G_STRINGIFY (AVAILABLE_IN (PROJECT_MAJOR, PROJECT_MINOR)), ==,
                   G_STRINGIFY (SMTPKIT_AVAILABLE_IN_ALL));
  g_assert_cmpint (VERSION_X_Y (PROJECT_MAJOR, PROJECT_MINOR), ==,
                   G_ENCODE_VERSION (PROJECT_MAJOR, PROJECT_MINOR));
  g_assert_cmpint (SMTPKIT_VERSION_CUR_STABLE, ==,
                   G_ENCODE_VERSION (SMTPKIT_MAJOR_VERSION, SMTPKIT_MINOR_VERSION));
  g_assert_cmpint (SMTPKIT_VERSION_MIN_REQUIRED, ==, SMTPKIT_VERSION_CUR_STABLE);
  g_assert_cmpint (SMTPKIT_VERSION_MAX_ALLOWED, ==, SMTPKIT_VERSION_CUR_STABLE);
  g_assert_cmpint (SMTPKIT_VERSION_0_1, ==, G_ENCODE_VERSION (0, 1));
  /* Within the window, symbols of 0.1 are plain declarations. */
  g_assert_cmpstr (G_STRINGIFY (SMTPKIT_AVAILABLE_IN_0_1), ==, "extern");
  g_assert_cmpstr (G_STRINGIFY (SMTPKIT_DEPRECATED_IN_0_1), !=, "extern");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/version/compile-time", test_compile_time);
  g_test_add_func ("/version/run-time", test_run_time);
  g_test_add_func ("/version/check-version-macro", test_check_version_macro);
  g_test_add_func ("/version/check-version-function", test_check_version_function);
  g_test_add_func ("/version/availability-macros", test_availability_macros);

  return g_test_run ();
}
