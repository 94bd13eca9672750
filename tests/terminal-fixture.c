/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "runner-reaper.h"
#include "terminal-fixture.h"

G_DEFINE_FINAL_TYPE (TestClient, test_client, RUNNER_TYPE_CLIENT)

static JsonObject *
parse_data (RunnerMessage *message,
            JsonParser    *parser)
{
  gsize len;
  const char *text = g_bytes_get_data (runner_message_get_data_text (message), &len);
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, len, &error);
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

static void
test_client_send_message (RunnerClient  *client,
                          RunnerMessage *message)
{
  TestClient *self = TEST_CLIENT (client);
  const char *event = runner_message_get_event (message);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *data = parse_data (message, parser);

  if (self->stalled)
    {
      self->queued += g_bytes_get_size (runner_message_get_data_text (message));
      self->max_queued_seen = MAX (self->max_queued_seen, self->queued);
    }

  if (g_str_equal (event, "terminal:data"))
    {
      const char *text = json_object_get_string_member (data, "data");
      guint64 seq = json_object_get_int_member (data, "seq");

      if (strstr (text, "\xef\xbf\xbd") != NULL)
        self->bad_utf8 = TRUE;
      if (seq <= self->last_seq && self->n_data > 0)
        self->seq_went_back = TRUE;
      g_string_append (self->output, text);
      self->received += strlen (text);
      self->last_seq = seq;
      self->n_data++;
    }
  else if (g_str_equal (event, "terminal:skipped"))
    {
      self->missed += json_object_get_int_member (data, "missed");
      self->n_skipped++;
    }
  else if (g_str_equal (event, "terminal:exit"))
    {
      self->exited = TRUE;
      self->exit_code = json_object_get_int_member_with_default (data, "code", -1);
      self->exit_signal = json_object_get_int_member_with_default (data, "signal", 0);
    }
}

static gsize
test_client_get_queued_bytes (RunnerClient *client)
{
  return TEST_CLIENT (client)->queued;
}

static void
test_client_close (RunnerClient *client,
                   const char   *reason)
{
  runner_client_notify_closed (client);
}

static void
test_client_finalize (GObject *object)
{
  TestClient *self = TEST_CLIENT (object);

  g_string_free (self->output, TRUE);
  G_OBJECT_CLASS (test_client_parent_class)->finalize (object);
}

static void
test_client_class_init (TestClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_client_finalize;
  RUNNER_CLIENT_CLASS (klass)->send_message = test_client_send_message;
  RUNNER_CLIENT_CLASS (klass)->get_queued_bytes = test_client_get_queued_bytes;
  RUNNER_CLIENT_CLASS (klass)->close = test_client_close;
}

static void
test_client_init (TestClient *self)
{
  self->output = g_string_new (NULL);
}

TestClient *
test_client_new (gsize max_queued)
{
  TestClient *self = g_object_new (TEST_TYPE_CLIENT, NULL);

  runner_client_set_max_queued (RUNNER_CLIENT (self), max_queued);
  return self;
}

/* The peer read everything. */
void
test_client_drain (TestClient *self)
{
  self->queued = 0;
  runner_client_notify_drained (RUNNER_CLIENT (self));
}



void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("runner-terminal-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->workspace = g_build_filename (fixture->dir, "workspace", NULL);
  g_assert_cmpint (g_mkdir (fixture->workspace, 0700), ==, 0);

  memset (&fixture->options, 0, sizeof fixture->options);
  fixture->options.shell = "bash";
  fixture->options.cwd = fixture->workspace;
  fixture->options.scrollback = 1024 * 1024;
  fixture->options.cols = 120;
  fixture->options.rows = 40;
  fixture->client = test_client_new (8 * 1024 * 1024);
}

void
fixture_start (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  fixture->terminal = runner_terminal_new ("t1", &fixture->options, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fixture->terminal);
  g_assert_true (runner_terminal_attach (fixture->terminal, RUNNER_CLIENT (fixture->client), -1,
                                         NULL, NULL, NULL));
}

void
fixture_type (Fixture    *fixture,
              const char *keys)
{
  g_autoptr(GError) error = NULL;

  runner_terminal_write (fixture->terminal, keys, strlen (keys), &error);
  g_assert_no_error (error);
}

gboolean
output_has (TestClient *client,
            const char *needle)
{
  return strstr (client->output->str, needle) != NULL;
}

void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  if (fixture->terminal != NULL)
    {
      GPid pid = runner_terminal_get_pid (fixture->terminal);

      runner_terminal_close (fixture->terminal);
      g_clear_object (&fixture->terminal);
      /* the whole session ends */
      WAIT_UNTIL (kill (pid, 0) != 0 && runner_reaper_signal_session (pid, 0) == 0);
    }
  g_clear_object (&fixture->client);
  g_assert_cmpint (g_rmdir (fixture->workspace), ==, 0);
  g_assert_cmpint (g_rmdir (fixture->dir), ==, 0);
  g_free (fixture->workspace);
  g_free (fixture->dir);
}

gboolean
has_zombie_children (GPid parent)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc", 0, NULL);
  g_autofree char *ppid_field = g_strdup_printf (" Z %d ", parent);
  const char *name;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc", name, "stat", NULL);
      g_autofree char *stat = NULL;
      const char *paren;

      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (path, &stat, NULL, NULL))
        continue;
      paren = strrchr (stat, ')');
      if (paren != NULL && g_str_has_prefix (paren + 1, ppid_field))
        return TRUE;
    }
  return FALSE;
}

GPid
parent_of (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *stat = NULL;
  const char *paren;

  if (!g_file_get_contents (path, &stat, NULL, NULL) || (paren = strrchr (stat, ')')) == NULL)
    return 0;
  return (GPid) g_ascii_strtoll (paren + 4, NULL, 10);
}

guint
count_occurrences (const char *haystack,
                   const char *needle)
{
  gsize len = strlen (haystack);
  gsize needle_len = strlen (needle);
  guint n = 0;

  /* by hand: strstr() in a loop is quadratic under AddressSanitizer */
  for (gsize i = 0; needle_len > 0 && i + needle_len <= len; i++)
    if (haystack[i] == needle[0] && memcmp (haystack + i, needle, needle_len) == 0)
      n++;
  return n;
}

static gboolean
tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/**
 * terminal_test_init:
 *
 * For a test's main(): a quiet shell (an empty temporary HOME, no rc files
 * of whoever runs the tests), this process as the subreaper, as Runner is,
 * and a wake-up of the main loop now and then so that waits can time out.
 *
 * Returns: (transfer full): the temporary HOME, to remove at the end
 */
char *
terminal_test_init (void)
{
  char *home = g_dir_make_tmp ("runner-terminal-home-XXXXXX", NULL);

  g_assert_nonnull (home);
  g_setenv ("HOME", home, TRUE);
  g_setenv ("SHELL", "/bin/sh", TRUE);
  g_assert_true (runner_reaper_init ());
  g_timeout_add (100, tick, NULL);
  return home;
}
