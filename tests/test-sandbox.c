/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "runner-error.h"
#include "runner-sandbox.h"
#include "terminal-fixture.h"

/* Shells under bubblewrap (--sandbox=bwrap). Needs bwrap and user
 * namespaces; a machine without them fails these tests. */

static void
sandbox_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  fixture_set_up (fixture, user_data);
  fixture->options.sandbox = RUNNER_SANDBOX_BWRAP;
  fixture->options.sandbox_network = GPOINTER_TO_INT (user_data);
}

static void
sandbox_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autofree char *file = g_build_filename (fixture->workspace, "made-inside.txt", NULL);

  g_unlink (file);
  fixture_tear_down (fixture, user_data);
}

/* Runs @command and waits for the marker it prints last. */
static void
run (Fixture    *fixture,
     const char *command)
{
  g_autofree char *line = g_strdup_printf ("%s; echo EN''D-OF-COMMAND\n", command);

  fixture_type (fixture, line);
  WAIT_UNTIL (output_has (fixture->client, "END-OF-COMMAND\r\n"));
}

static void
test_workspace_only (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autofree char *inside = g_build_filename (fixture->workspace, "made-inside.txt", NULL);
  g_autofree char *outside = g_build_filename (fixture->dir, "made-outside.txt", NULL);
  g_autofree char *command = NULL;
  g_autofree char *content = NULL;

  fixture_start (fixture);
  command = g_strdup_printf ("cd %s && echo written > made-inside.txt && echo W''S-OK; "
                             "echo escaped > %s; "
                             "touch /usr/made-outside 2>/dev/null || echo US''R-REFUSED; "
                             "echo P=$(pwd)",
                             fixture->workspace, outside);
  run (fixture, command);

  /* the workspace is the host's, writable */
  g_assert_true (output_has (fixture->client, "WS-OK\r\n"));
  g_assert_true (g_file_get_contents (inside, &content, NULL, NULL));
  g_assert_cmpstr (content, ==, "written\n");
  /* the rest is read-only, or private to the sandbox */
  g_assert_true (output_has (fixture->client, "USR-REFUSED\r\n"));
  g_assert_false (g_file_test (outside, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test ("/usr/made-outside", G_FILE_TEST_EXISTS));
  g_free (command);
  command = g_strdup_printf ("P=%s\r\n", fixture->workspace);
  g_assert_true (output_has (fixture->client, command));
}

static void
test_home_invisible (Fixture       *fixture,
                     gconstpointer  user_data)
{
  const char *home = g_getenv ("HOME");
  g_autofree char *secret = g_build_filename (home, "secret.txt", NULL);
  g_autofree char *beside = g_build_filename (fixture->dir, "secret.txt", NULL);
  g_autofree char *command = NULL;
  g_autofree char *expected = NULL;

  g_assert_true (g_file_set_contents (secret, "TOP-SECRET-HOME", -1, NULL));
  g_assert_true (g_file_set_contents (beside, "TOP-SECRET-BESIDE", -1, NULL));

  fixture_start (fixture);
  command = g_strdup_printf ("cat %s %s /root/.bash_history /etc/shadow 2>&1 | grep -c TOP-SECRET; "
                             "echo H=$HOME; ls -A $HOME | wc -l; test -e %s || echo GO''NE",
                             secret, beside, secret);
  run (fixture, command);

  g_assert_false (output_has (fixture->client, "TOP-SECRET-"));
  g_assert_true (output_has (fixture->client, "\r\n0\r\n"));
  expected = g_strdup_printf ("H=/home/%s\r\n0\r\nGONE\r\n", g_get_user_name ());
  g_assert_true (output_has (fixture->client, expected));

  g_unlink (secret);
  g_unlink (beside);
}

typedef struct
{
  GSocketService *service;
  guint16         port;
  guint           n_connections;
} Listener;

static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source,
             gpointer           user_data)
{
  Listener *listener = user_data;

  listener->n_connections++;
  return FALSE;
}

static void
listener_start (Listener *listener)
{
  g_autoptr(GError) error = NULL;

  listener->service = g_socket_service_new ();
  listener->port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (listener->service),
                                                        NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (listener->service, "incoming", G_CALLBACK (on_incoming), listener);
  g_socket_service_start (listener->service);
}

static void
listener_stop (Listener *listener)
{
  g_socket_service_stop (listener->service);
  g_socket_listener_close (G_SOCKET_LISTENER (listener->service));
  g_clear_object (&listener->service);
}

/* Whether the sandboxed shell reaches a server on the host's loopback. */
static void
test_network (Fixture       *fixture,
              gconstpointer  user_data)
{
  gboolean allowed = GPOINTER_TO_INT (user_data);
  Listener listener = { 0 };
  g_autofree char *command = NULL;

  listener_start (&listener);
  fixture_start (fixture);
  command = g_strdup_printf ("if exec 3<>/dev/tcp/127.0.0.1/%u; then echo CONN''ECTED; "
                             "else echo REF''USED; fi 2>/dev/null",
                             listener.port);
  run (fixture, command);

  if (allowed)
    {
      g_assert_true (output_has (fixture->client, "CONNECTED\r\n"));
      WAIT_UNTIL (listener.n_connections == 1);
    }
  else
    {
      g_assert_true (output_has (fixture->client, "REFUSED\r\n"));
      g_assert_false (output_has (fixture->client, "CONNECTED"));
      /* the shell tried and is done; had it reached us, the listener (on
       * this thread's main loop) would have counted it by now or later */
      run (fixture, "true");
      g_assert_cmpuint (listener.n_connections, ==, 0);
    }

  listener_stop (&listener);
}

static void
test_job_control (Fixture       *fixture,
                  gconstpointer  user_data)
{
  fixture_start (fixture);
  run (fixture, "[[ $- == *m* ]] && echo MONI''TOR; sleep 100 & jobs; kill %1; "
                "echo S$(stty size)E");
  g_assert_true (output_has (fixture->client, "MONITOR\r\n"));
  g_assert_true (output_has (fixture->client, "Running"));
  g_assert_true (output_has (fixture->client, "S40 120E"));
  g_assert_false (output_has (fixture->client, "no job control"));
}

static void
test_missing_bwrap (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RunnerTerminal) terminal = NULL;

  g_setenv ("RUNNER_BWRAP", "/nonexistent/bwrap", TRUE);
  terminal = runner_terminal_new ("t1", &fixture->options, &error);
  g_unsetenv ("RUNNER_BWRAP");
  g_assert_null (terminal);
  g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE);
  g_assert_cmpstr (runner_error_to_code (error), ==, "ENOTSUP");
}

static void
test_argv (void)
{
  const char *argv[] = { "/bin/sh", "-c", "echo hi", NULL };
  RunnerSandboxOptions options = { "/srv/work space", FALSE, TRUE };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) wrapped = runner_sandbox_wrap_argv (&options, argv, &error);
  g_autofree char *joined = NULL;
  guint n;

  g_assert_no_error (error);
  joined = g_strjoinv (" ", wrapped);
  g_assert_nonnull (strstr (joined, " --unshare-all "));
  g_assert_null (strstr (joined, "--share-net"));
  g_assert_nonnull (strstr (joined, " --die-with-parent "));
  g_assert_nonnull (strstr (joined, " --new-session "));
  g_assert_nonnull (strstr (joined, " --ro-bind /usr /usr "));
  g_assert_null (strstr (joined, "shadow"));
  /* the workspace last of the mounts, then the command as given */
  g_assert_nonnull (strstr (joined, " --bind /srv/work space /srv/work space --chdir /srv/work space"));
  n = g_strv_length (wrapped);
  g_assert_cmpstr (wrapped[n - 4], ==, "--");
  g_assert_cmpstr (wrapped[n - 3], ==, "/bin/sh");
  g_assert_cmpstr (wrapped[n - 1], ==, "echo hi");
  g_clear_pointer (&wrapped, g_strfreev);

  options.network = TRUE;
  options.new_session = FALSE;
  wrapped = runner_sandbox_wrap_argv (&options, argv, &error);
  g_free (joined);
  joined = g_strjoinv (" ", wrapped);
  g_assert_nonnull (strstr (joined, " --share-net "));
  g_assert_null (strstr (joined, "--new-session"));
  g_clear_pointer (&wrapped, g_strfreev);

  options.workspace = "relative/path";
  wrapped = runner_sandbox_wrap_argv (&options, argv, &error);
  g_assert_null (wrapped);
  g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID);
}

#define ADD(path, network, func) \
  g_test_add (path, Fixture, GINT_TO_POINTER (network), sandbox_set_up, func, sandbox_tear_down)

int
main (int   argc,
      char *argv[])
{
  g_autofree char *home = NULL;
  int result;

  g_test_init (&argc, &argv, NULL);
  home = terminal_test_init ();

  g_test_add_func ("/runner/sandbox/argv", test_argv);
  ADD ("/runner/sandbox/workspace-only", TRUE, test_workspace_only);
  ADD ("/runner/sandbox/home-invisible", TRUE, test_home_invisible);
  ADD ("/runner/sandbox/network/cut", FALSE, test_network);
  ADD ("/runner/sandbox/network/shared", TRUE, test_network);
  ADD ("/runner/sandbox/job-control", FALSE, test_job_control);
  ADD ("/runner/sandbox/missing-bwrap", FALSE, test_missing_bwrap);

  result = g_test_run ();
  runner_test_rm_rf (home);
  return result;
}
