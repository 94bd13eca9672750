/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <string.h>

#include "runner-error.h"

static const RunnerErrorEntry *
find_runner_row (const char *wire_code)
{
  gsize n;
  const RunnerErrorEntry *entries = runner_error_get_entries (&n);

  for (gsize i = 0; i < n; i++)
    if (entries[i].domain == runner_error_quark && g_str_equal (entries[i].wire_code, wire_code))
      return &entries[i];
  return NULL;
}

/* Each Runner error has its own wire code; an error of GIO that shares one
 * means the same Runner error, over HTTP and D-Bus too. Every row has a sane
 * HTTP status and a registered D-Bus name that maps back. */
static void
test_table (void)
{
  g_autoptr(GHashTable) runner_codes = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gsize n;
  const RunnerErrorEntry *entries = runner_error_get_entries (&n);

  for (gsize i = 0; i < n; i++)
    {
      const RunnerErrorEntry *e = &entries[i];
      g_autoptr(GError) error = g_error_new_literal (e->domain (), e->code, "x");
      g_autoptr(GError) remote = NULL;
      g_autofree char *name = NULL;
      char *key = g_strdup_printf ("%s:%d", g_quark_to_string (e->domain ()), e->code);

      g_test_message ("row %zu: %s", i, e->wire_code);
      g_assert_true (e->domain == runner_error_quark || e->domain == g_io_error_quark);
      /* each error once */
      g_assert_true (g_hash_table_add (seen, key));

      g_assert_true (e->wire_code[0] == 'E' && strlen (e->wire_code) >= 3);
      g_assert_true (e->http_status >= 400 && e->http_status < 600);
      g_assert_true (g_str_has_prefix (e->dbus_name, "io.github.runner.Runner1.Error."));
      g_assert_true (g_dbus_is_error_name (e->dbus_name));

      g_assert_cmpstr (runner_error_to_code (error), ==, e->wire_code);
      g_assert_cmpuint (runner_error_to_http_status (error), ==, e->http_status);
      g_assert_cmpstr (runner_error_to_dbus_name (error), ==, e->dbus_name);

      /* what a D-Bus peer gets back is the Runner error of that name */
      remote = g_dbus_error_new_for_dbus_error (e->dbus_name, "x");
      g_assert_true (remote->domain == RUNNER_ERROR);
      name = g_dbus_error_encode_gerror (remote);
      g_assert_cmpstr (name, ==, e->dbus_name);

      if (e->domain == runner_error_quark)
        {
          g_assert_false (g_hash_table_contains (runner_codes, e->wire_code));
          g_hash_table_add (runner_codes, (gpointer) e->wire_code);
        }
      else
        {
          const RunnerErrorEntry *same = find_runner_row (e->wire_code);

          if (same != NULL)
            {
              g_assert_cmpuint (e->http_status, ==, same->http_status);
              g_assert_cmpstr (e->dbus_name, ==, same->dbus_name);
            }
        }
    }

  /* every Runner error is in the table */
  g_assert_cmpuint (g_hash_table_size (runner_codes), ==, RUNNER_ERROR_UNAVAILABLE + 1);
}

/* Errors the table does not name are EIO, 500, Failed. */
static void
test_unknown (void)
{
  g_autoptr(GError) error = g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_NOENT, "x");
  g_autoptr(GError) io = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "x");

  g_assert_cmpstr (runner_error_to_code (error), ==, "EIO");
  g_assert_cmpuint (runner_error_to_http_status (error), ==, 500);
  g_assert_cmpstr (runner_error_to_dbus_name (io), ==, "io.github.runner.Runner1.Error.Failed");
}

/* README's "### Error codes" names exactly the table's wire codes. */
static void
test_readme (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "README.md", NULL);
  g_autofree char *readme = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) documented = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GRegex) regex = g_regex_new ("`(E[A-Z0-9]+)`", 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  const char *section, *end;
  g_autofree char *text = NULL;
  gsize n;
  const RunnerErrorEntry *entries = runner_error_get_entries (&n);

  g_file_get_contents (path, &readme, NULL, &error);
  g_assert_no_error (error);
  section = strstr (readme, "\n### Error codes\n");
  g_assert_nonnull (section);
  section += 1;
  end = strstr (section + 4, "\n#");
  g_assert_nonnull (end);
  text = g_strndup (section, end - section);

  g_regex_match (regex, text, 0, &match);
  for (; g_match_info_matches (match); g_match_info_next (match, NULL))
    g_hash_table_add (documented, g_match_info_fetch (match, 1));

  for (gsize i = 0; i < n; i++)
    {
      if (!g_hash_table_contains (documented, entries[i].wire_code))
        g_error ("README's Error codes lacks %s", entries[i].wire_code);
    }
  {
    GHashTableIter iter;
    const char *code;

    g_hash_table_iter_init (&iter, documented);
    while (g_hash_table_iter_next (&iter, (gpointer *) &code, NULL))
      {
        gboolean found = FALSE;

        for (gsize i = 0; i < n && !found; i++)
          found = g_str_equal (entries[i].wire_code, code);
        if (!found)
          g_error ("README's Error codes names %s, which Runner never sends", code);
      }
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/runner/error/table", test_table);
  g_test_add_func ("/runner/error/unknown", test_unknown);
  g_test_add_func ("/runner/error/readme", test_readme);

  return g_test_run ();
}
