/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <string.h>

#include "runner-curl.h"
#include "runner-error.h"
#include "runner-vte.h"

/*
 * Libraries loaded on demand (runner-library.c): a missing file, one too
 * old and one without a symbol Runner needs each give one clear ENOTSUP
 * error that names the library, the same on every try, and no table. A
 * library is loaded once per process, so each case runs in a child with
 * RUNNER_CURL_LIBRARY or RUNNER_VTE_LIBRARY naming a stand-in built beside
 * this test (fake-libcurl.c, fake-libvte.c).
 */

static char *
fake_path (const char *name)
{
  return g_test_build_filename (G_TEST_BUILT, name, NULL);
}

static void
assert_unavailable (const GError *error,
                    const char   *feature,
                    const char   *what)
{
  g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE);
  g_assert_cmpstr (runner_error_to_code (error), ==, "ENOTSUP");
  g_assert_true (g_str_has_prefix (error->message, feature));
  if (strstr (error->message, what) == NULL)
    g_error ("“%s” does not say “%s”", error->message, what);
}

/* Loads libcurl from @file twice: both fail alike, with @what in the message. */
static void
check_curl_fails (const char *file,
                  const char *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) again = NULL;

  g_setenv ("RUNNER_CURL_LIBRARY", file, TRUE);
  g_test_expect_message ("runner-library", G_LOG_LEVEL_WARNING, "*S3 sync is unavailable*");
  g_assert_null (runner_curl_load (&error));
  g_test_assert_expected_messages ();
  assert_unavailable (error, "S3 sync is unavailable", what);
  g_assert_nonnull (strstr (error->message, file));

  g_assert_null (runner_curl_load (&again));
  g_assert_cmpstr (again->message, ==, error->message);
}

static void
check_vte_fails (const char *file,
                 const char *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) again = NULL;

  g_setenv ("RUNNER_VTE_LIBRARY", file, TRUE);
  g_test_expect_message ("runner-library", G_LOG_LEVEL_WARNING, "*Terminals are unavailable*");
  g_assert_false (runner_vte_load (&error));
  g_test_assert_expected_messages ();
  assert_unavailable (error, "Terminals are unavailable", what);
  g_assert_nonnull (strstr (error->message, file));

  /* the wrapper goes through the same load */
  g_assert_null (runner_vte_pty_new_sync (VTE_PTY_DEFAULT, NULL, &again));
  g_assert_cmpstr (again->message, ==, error->message);
}

static void
test_curl_missing (void)
{
  if (g_test_subprocess ())
    {
      check_curl_fails ("libcurl-missing-for-test.so.4", "libcurl-missing-for-test.so.4");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Every symbol is there, but the version is older than Runner's floor. */
static void
test_curl_too_old (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *file = fake_path ("fake-libcurl-old.so");

      check_curl_fails (file, "is version 7.68.0; Runner needs 7.75.0 or later");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* New enough, but without curl_global_init() and the rest. */
static void
test_curl_missing_symbol (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *file = fake_path ("fake-libcurl-partial.so");

      check_curl_fails (file, "curl_global_init");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* The real one loads, and gives a whole table. */
static void
test_curl_real (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      const RunnerCurl *curl;

      g_unsetenv ("RUNNER_CURL_LIBRARY");
      curl = runner_curl_load (&error);
      g_assert_no_error (error);
      g_assert_nonnull (curl);
      g_assert_nonnull (curl->easy_init);
      g_assert_nonnull (curl->slist_free_all);
      g_assert_true (runner_curl_load (NULL) == curl);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_vte_too_old (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *file = fake_path ("fake-libvte-old.so");

      check_vte_fails (file, "is version 0.60.0; Runner needs 0.70.0 or later");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_vte_missing_symbol (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *file = fake_path ("fake-libvte-partial.so");

      check_vte_fails (file, "vte_pty_new_sync");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/runner/library/curl/missing", test_curl_missing);
  g_test_add_func ("/runner/library/curl/too-old", test_curl_too_old);
  g_test_add_func ("/runner/library/curl/missing-symbol", test_curl_missing_symbol);
  g_test_add_func ("/runner/library/curl/real", test_curl_real);
  g_test_add_func ("/runner/library/vte/too-old", test_vte_too_old);
  g_test_add_func ("/runner/library/vte/missing-symbol", test_vte_missing_symbol);

  return g_test_run ();
}
