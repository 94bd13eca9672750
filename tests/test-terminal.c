/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "runner-enum-nick.h"
#include "runner-error.h"
#include "runner-reaper.h"
#include "runner-terminal.h"

#include "terminal-fixture.h"

static void
test_echo (Fixture       *fixture,
           gconstpointer  user_data)
{
  g_autofree char *pwd = NULL;

  fixture_start (fixture);
  g_assert_true (runner_terminal_is_alive (fixture->terminal));
  g_assert_cmpint (runner_terminal_get_pid (fixture->terminal), >, 1);

  /* the quotes keep the typed line (echoed by the tty) from matching */
  fixture_type (fixture, "echo hel''lo; pwd\n");
  WAIT_UNTIL (output_has (fixture->client, "hello\r\n"));
  pwd = g_strdup_printf ("\r\n%s\r\n", fixture->workspace);
  WAIT_UNTIL (output_has (fixture->client, pwd));
  g_assert_false (fixture->client->bad_utf8);
  g_assert_false (fixture->client->seq_went_back);
  g_assert_cmpuint (fixture->client->last_seq, ==, runner_terminal_get_seq (fixture->terminal));
}

static void
test_resize (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  fixture_start (fixture);
  fixture_type (fixture, "echo S$(stty size)E\n");
  WAIT_UNTIL (output_has (fixture->client, "S40 120E"));

  g_assert_true (runner_terminal_resize (fixture->terminal, 77, 33, &error));
  g_assert_no_error (error);
  fixture_type (fixture, "echo S$(stty size)E\n");
  WAIT_UNTIL (output_has (fixture->client, "S33 77E"));

  /* out of bounds: refused, nothing changes */
  g_assert_false (runner_terminal_resize (fixture->terminal, 0, 10, &error));
  g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (runner_terminal_resize (fixture->terminal, 80, 1001, &error));
  g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID);
  g_assert_cmpuint (runner_terminal_get_cols (fixture->terminal), ==, 77);
  g_assert_cmpuint (runner_terminal_get_rows (fixture->terminal), ==, 33);
}

static void
on_exited (RunnerTerminal *terminal,
           int             code,
           int             signum,
           gpointer        user_data)
{
  int *status = user_data;

  status[0] = code;
  status[1] = signum;
  status[2] = TRUE;
}

static void
test_exit_code (Fixture       *fixture,
                gconstpointer  user_data)
{
  int status[3] = { -1, -1, FALSE };
  int code, signum;
  g_autoptr(GError) error = NULL;

  fixture_start (fixture);
  g_signal_connect (fixture->terminal, "exited", G_CALLBACK (on_exited), status);
  fixture_type (fixture, "echo bye; exit 3\n");
  WAIT_UNTIL (fixture->client->exited);
  g_assert_true (status[2]);
  g_assert_cmpint (status[0], ==, 3);
  g_assert_cmpint (status[1], ==, 0);
  g_assert_cmpint (fixture->client->exit_code, ==, 3);
  g_assert_cmpint (fixture->client->exit_signal, ==, 0);
  /* the output came before the exit */
  g_assert_true (output_has (fixture->client, "bye\r\n"));
  g_assert_false (runner_terminal_is_alive (fixture->terminal));
  g_assert_true (runner_terminal_get_exit_status (fixture->terminal, &code, &signum));
  g_assert_cmpint (code, ==, 3);

  /* a dead terminal takes no input */
  g_assert_false (runner_terminal_write (fixture->terminal, "x", 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  (*(guint *) user_data)++;
}

/* The state is a registered enum: a property that announces the exit, and
 * names from its nicks. */
static void
test_state (Fixture       *fixture,
            gconstpointer  user_data)
{
  RunnerTerminalState state = RUNNER_TERMINAL_STATE_EXITED;
  guint n_notified = 0;

  fixture_start (fixture);
  g_object_get (fixture->terminal, "state", &state, NULL);
  g_assert_cmpint (state, ==, RUNNER_TERMINAL_STATE_RUNNING);
  g_assert_cmpstr (runner_enum_get_nick (RUNNER_TYPE_TERMINAL_STATE, state), ==, "running");
  g_signal_connect (fixture->terminal, "notify::state", G_CALLBACK (count_notify), &n_notified);

  fixture_type (fixture, "exit 0\n");
  WAIT_UNTIL (fixture->client->exited);
  g_assert_cmpuint (n_notified, ==, 1);
  g_object_get (fixture->terminal, "state", &state, NULL);
  g_assert_cmpint (state, ==, RUNNER_TERMINAL_STATE_EXITED);
  g_assert_cmpint (runner_terminal_get_state (fixture->terminal), ==, RUNNER_TERMINAL_STATE_EXITED);
  g_assert_cmpstr (runner_enum_get_nick (RUNNER_TYPE_TERMINAL_STATE, state), ==, "exited");
}

static void
test_exit_signal (Fixture       *fixture,
                  gconstpointer  user_data)
{
  int code, signum;

  fixture_start (fixture);
  fixture_type (fixture, "kill -9 $$\n");
  WAIT_UNTIL (fixture->client->exited);
  g_assert_cmpint (fixture->client->exit_signal, ==, SIGKILL);
  g_assert_true (runner_terminal_get_exit_status (fixture->terminal, &code, &signum));
  g_assert_cmpint (signum, ==, SIGKILL);
}

static GPid
echoed_pid (TestClient *client,
            const char *label)
{
  const char *line = strstr (client->output->str, label);

  if (line == NULL || strchr (line, '.') == NULL || !g_ascii_isdigit (line[strlen (label)]))
    return 0;
  return (GPid) g_ascii_strtoll (line + strlen (label), NULL, 10);
}

static void
test_no_zombies (Fixture       *fixture,
                 gconstpointer  user_data)
{
  GPid sleeper, shell;

  fixture_start (fixture);
  shell = runner_terminal_get_pid (fixture->terminal);
  fixture_type (fixture, "sleep 100 & echo SLEEP''ER=$!.\n");
  WAIT_UNTIL ((sleeper = echoed_pid (fixture->client, "SLEEPER=")) != 0);
  g_assert_cmpint (kill (sleeper, 0), ==, 0);

  runner_terminal_close (fixture->terminal);
  g_clear_object (&fixture->terminal);

  /* both gone and reaped (kill() still finds a zombie) */
  WAIT_UNTIL (kill (sleeper, 0) != 0 && kill (shell, 0) != 0);
  g_assert_cmpint (errno, ==, ESRCH);
  WAIT_UNTIL (!has_zombie_children (getpid ()));
  WAIT_UNTIL (fixture->client->exited);
  g_assert_cmpint (fixture->client->exit_signal, ==, SIGHUP);
}

static void
test_orphans_reaped (Fixture       *fixture,
                     gconstpointer  user_data)
{
  GPid orphan;

  fixture_start (fixture);
  /* the subshell exits at once: its child is re-parented to the shell, the
   * subreaper of all that runs in the terminal (what an exited shell leaves
   * goes to Runner: see exit-hangs-up) */
  fixture_type (fixture, "(sleep 100 & echo ORPH''AN=$!.)\n");
  WAIT_UNTIL ((orphan = echoed_pid (fixture->client, "ORPHAN=")) != 0);
  WAIT_UNTIL (parent_of (orphan) == runner_terminal_get_pid (fixture->terminal));

  /* when it dies, the shell reaps it */
  g_assert_cmpint (kill (orphan, SIGTERM), ==, 0);
  WAIT_UNTIL (kill (orphan, 0) != 0);
  g_assert_cmpint (errno, ==, ESRCH);
  g_assert_true (runner_terminal_is_alive (fixture->terminal));
}

static gboolean
is_sleep (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/comm", pid);
  g_autofree char *comm = NULL;

  return g_file_get_contents (path, &comm, NULL, NULL) && g_str_equal (g_strstrip (comm), "sleep");
}

static void
test_exit_hangs_up (Fixture       *fixture,
                    gconstpointer  user_data)
{
  GPid plain, immune;

  fixture_start (fixture);
  fixture_type (fixture, "sleep 100 & echo PLA''IN=$!.; nohup sleep 100 >/dev/null 2>&1 & "
                         "echo IMMU''NE=$!.\n");
  WAIT_UNTIL ((plain = echoed_pid (fixture->client, "PLAIN=")) != 0 &&
              (immune = echoed_pid (fixture->client, "IMMUNE=")) != 0);
  g_assert_cmpint (plain, >, 1);
  g_assert_cmpint (immune, >, 1);
  /* nohup ignores SIGHUP only once it runs: exit after it has become sleep */
  WAIT_UNTIL (is_sleep (immune));
  fixture_type (fixture, "exit\n");
  WAIT_UNTIL (fixture->client->exited);

  /* the plain job ends with the shell and is reaped; nohup keeps its own */
  WAIT_UNTIL (kill (plain, 0) != 0);
  g_assert_cmpint (kill (immune, 0), ==, 0);
  g_assert_cmpint (parent_of (immune), ==, getpid ());

  /* closing the exited terminal signals nothing any more */
  runner_terminal_close (fixture->terminal);
  g_clear_object (&fixture->terminal);
  g_assert_cmpint (kill (immune, 0), ==, 0);
  g_assert_cmpint (kill (immune, SIGKILL), ==, 0);
  WAIT_UNTIL (kill (immune, 0) != 0);
}

static void
test_utf8 (Fixture       *fixture,
           gconstpointer  user_data)
{
  fixture_start (fixture);
  /* 10,000 × (4 + 2 + 3 bytes), typed as ASCII escapes */
  fixture_type (fixture, "printf '\\xf0\\x9f\\x98\\x80\\xc3\\xa9\\xe2\\x82\\xac%.0s' {1..10000}; "
                 "echo; echo do''ne\n");
  WAIT_UNTIL (output_has (fixture->client, "done\r\n"));
  g_assert_cmpuint (count_occurrences (fixture->client->output->str, "\xf0\x9f\x98\x80\xc3\xa9\xe2\x82\xac"),
                    ==, 10000);
  g_assert_false (fixture->client->bad_utf8);
  g_assert_true (g_utf8_validate (fixture->client->output->str, -1, NULL));
}

static void
test_invalid_utf8 (Fixture       *fixture,
                   gconstpointer  user_data)
{
  fixture_start (fixture);
  fixture_type (fixture, "printf 'a\\xffb\\xc3c\\n'\n");
  WAIT_UNTIL (output_has (fixture->client, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\r\n"));
}

static void
test_clean_environment (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_setenv ("AWS_SECRET_ACCESS_KEY", "sekrit-aws", TRUE);
  g_setenv ("RUNNER_TOKEN", "sekrit-token", TRUE);
  g_setenv ("S3_BUCKET", "sekrit-bucket", TRUE);
  g_setenv ("RUNNER_TEST_VISIBLE", "x", TRUE);
  g_setenv ("HARMLESS_SETTING", "visible", TRUE);
  fixture_start (fixture);
  g_unsetenv ("AWS_SECRET_ACCESS_KEY");
  g_unsetenv ("RUNNER_TOKEN");
  g_unsetenv ("S3_BUCKET");
  g_unsetenv ("RUNNER_TEST_VISIBLE");
  g_unsetenv ("HARMLESS_SETTING");

  fixture_type (fixture, "echo \"A[$AWS_SECRET_ACCESS_KEY]T[$RUNNER_TOKEN]E[$TERM]H[$HARMLESS_SETTING]\"; "
                 "env | grep -c sekrit; echo fin''ished\n");
  WAIT_UNTIL (output_has (fixture->client, "finished\r\n"));
  g_assert_true (output_has (fixture->client, "A[]T[]E[xterm-256color]H[visible]\r\n"));
  g_assert_true (output_has (fixture->client, "\r\n0\r\n"));
}

static void
test_replay (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(TestClient) late = test_client_new (8 * 1024 * 1024);
  g_autoptr(TestClient) again = test_client_new (8 * 1024 * 1024);
  g_autoptr(TestClient) witness = test_client_new (8 * 1024 * 1024);
  g_autoptr(GError) error = NULL;
  guint64 seen, from, missed;

  fixture_start (fixture);
  runner_terminal_attach (fixture->terminal, RUNNER_CLIENT (witness), -1, NULL, NULL, NULL);
  fixture_type (fixture, "echo one''one\n");
  WAIT_UNTIL (output_has (fixture->client, "oneone\r\n"));
  seen = fixture->client->last_seq;

  /* the client goes away; output goes on */
  g_assert_true (runner_terminal_detach (fixture->terminal, RUNNER_CLIENT (fixture->client)));
  g_assert_false (runner_terminal_detach (fixture->terminal, RUNNER_CLIENT (fixture->client)));
  g_assert_cmpuint (runner_terminal_get_n_clients (fixture->terminal), ==, 1);
  fixture_type (fixture, "echo two''two\n");
  WAIT_UNTIL (output_has (witness, "twotwo\r\n"));
  g_assert_false (output_has (fixture->client, "twotwo"));

  /* it comes back with what it saw: it gets exactly the rest */
  runner_terminal_attach (fixture->terminal, RUNNER_CLIENT (again), seen, &from, &missed, NULL);
  g_assert_cmpuint (from, ==, seen);
  g_assert_cmpuint (missed, ==, 0);
  fixture_type (fixture, "echo three''three\n");
  WAIT_UNTIL (output_has (again, "threethree\r\n"));
  g_assert_true (output_has (again, "twotwo\r\n"));
  g_assert_false (output_has (again, "oneone"));

  /* a newcomer without since gets the whole scrollback */
  runner_terminal_attach (fixture->terminal, RUNNER_CLIENT (late), -1, &from, &missed, NULL);
  g_assert_cmpuint (from, ==, 0);
  g_assert_cmpuint (missed, ==, 0);
  WAIT_UNTIL (output_has (late, "threethree\r\n"));
  g_assert_true (output_has (late, "oneone\r\n"));
  WAIT_UNTIL (late->last_seq == runner_terminal_get_seq (fixture->terminal) &&
              again->last_seq == late->last_seq);
  g_assert_cmpstr (late->output->str, ==, witness->output->str);

  /* a since this stream never reached: refused, and the client is not
   * attached; the head itself is an empty replay */
  from = missed = 7;
  g_assert_false (runner_terminal_attach (fixture->terminal, RUNNER_CLIENT (fixture->client),
                                          G_MAXINT64, &from, &missed, &error));
  g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (runner_terminal_attach (fixture->terminal, RUNNER_CLIENT (fixture->client),
                                          runner_terminal_get_seq (fixture->terminal) + 1,
                                          &from, &missed, &error));
  g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpuint (from, ==, 7);
  g_assert_cmpuint (missed, ==, 7);
  g_assert_false (runner_terminal_has_client (fixture->terminal, RUNNER_CLIENT (fixture->client)));
  g_assert_cmpuint (runner_terminal_get_n_clients (fixture->terminal), ==, 3);

  g_assert_true (runner_terminal_attach (fixture->terminal, RUNNER_CLIENT (fixture->client),
                                         runner_terminal_get_seq (fixture->terminal), &from,
                                         &missed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (from, ==, runner_terminal_get_seq (fixture->terminal));
  g_assert_cmpuint (missed, ==, 0);
  g_assert_cmpuint (runner_terminal_get_n_clients (fixture->terminal), ==, 4);
}

static void
test_replay_lost (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(TestClient) late = test_client_new (8 * 1024 * 1024);
  guint64 from, missed;

  fixture->options.scrollback = 4096;
  fixture_start (fixture);
  fixture_type (fixture, "for i in {1..1000}; do printf '\\e[1;31m%05d\\e[0m \\xc3\\xa9\\n' $i; done; "
                 "echo fin''ished\n");
  WAIT_UNTIL (output_has (fixture->client, "finished\r\n"));
  g_assert_cmpuint (runner_terminal_get_seq (fixture->terminal), >, 20000);

  runner_terminal_attach (fixture->terminal, RUNNER_CLIENT (late), 5, &from, &missed, NULL);
  g_assert_cmpuint (from, >=, runner_terminal_get_seq (fixture->terminal) - 4096);
  g_assert_cmpuint (missed, ==, from - 5);
  WAIT_UNTIL (output_has (late, "finished\r\n"));
  /* the replay starts cleanly: not inside a character or a sequence */
  g_assert_false (late->bad_utf8);
  g_assert_true (late->output->str[0] == '\033' || g_ascii_isprint (late->output->str[0]) ||
                 late->output->str[0] == '\r' || late->output->str[0] == '\n' ||
                 (guchar) late->output->str[0] >= 0xc2);
  g_assert_cmpuint (late->received + missed + 5, ==, late->last_seq);
}

static void
test_slow_client (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(TestClient) slow = test_client_new (512 * 1024);
  guint64 total = 3000000;

  fixture->options.scrollback = 256 * 1024;
  fixture_start (fixture);
  slow->stalled = TRUE;
  runner_terminal_attach (fixture->terminal, RUNNER_CLIENT (slow), -1, NULL, NULL, NULL);

  fixture_type (fixture, "head -c 3000000 /dev/zero | tr '\\0' x; echo; echo fin''ished\n");
  WAIT_UNTIL (output_has (fixture->client, "finished\r\n"));

  /* the reader got everything; the stalled one was sent only what its queue
   * holds (how many chunks that is depends on timing), and stays connected */
  g_assert_cmpuint (count_occurrences (fixture->client->output->str, "x"), >=, total);
  g_assert_cmpuint (fixture->client->received, ==, fixture->client->last_seq);
  g_assert_cmpuint (fixture->client->n_skipped, ==, 0);
  g_assert_cmpuint (slow->max_queued_seen, <=, 512 * 1024);
  g_assert_cmpuint (slow->received, <=, slow->queued);
  g_assert_cmpuint (slow->n_skipped, ==, 0);
  g_assert_false (runner_client_is_closed (RUNNER_CLIENT (slow)));

  /* it reads again: it learns what it missed, then gets the rest */
  slow->stalled = FALSE;
  test_client_drain (slow);
  WAIT_UNTIL (output_has (slow, "finished\r\n"));
  g_assert_cmpuint (slow->n_skipped, >=, 1);
  g_assert_cmpuint (slow->missed, >, total / 2);
  g_assert_cmpuint (slow->received + slow->missed, ==, slow->last_seq);
  g_assert_cmpuint (slow->last_seq, ==, fixture->client->last_seq);
}

static gboolean
drain_slowly (gpointer user_data)
{
  test_client_drain (user_data);
  return G_SOURCE_CONTINUE;
}

static void
test_backpressure (Fixture       *fixture,
                   gconstpointer  user_data)
{
  guint drainer;

  /* one client, far slower than the shell, behind a small scrollback:
   * without backpressure the ring would overtake it many times */
  fixture->options.scrollback = 64 * 1024;
  g_clear_object (&fixture->client);
  fixture->client = test_client_new (256 * 1024);
  fixture->client->stalled = TRUE;
  fixture_start (fixture);
  drainer = g_timeout_add (20, drain_slowly, fixture->client);

  fixture_type (fixture, "head -c 4000000 /dev/zero | tr '\\0' y; echo; echo fin''ished\n");
  WAIT_UNTIL (output_has (fixture->client, "finished\r\n"));
  g_source_remove (drainer);

  g_assert_cmpuint (fixture->client->n_skipped, ==, 0);
  g_assert_cmpuint (count_occurrences (fixture->client->output->str, "y"), >=, 4000000);
  g_assert_cmpuint (fixture->client->received, ==, fixture->client->last_seq);
  g_assert_cmpuint (fixture->client->max_queued_seen, <=, 256 * 1024);
}

static void
test_input_bounded (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *chunk = g_strnfill (64 * 1024, 'a');
  guint accepted = 0;

  fixture_start (fixture);
  /* a foreground job that reads nothing, on a tty that will not discard */
  fixture_type (fixture, "stty -icanon -echo; echo RE''ADY; sleep 100\n");
  WAIT_UNTIL (output_has (fixture->client, "READY\r\n"));

  while (runner_terminal_write (fixture->terminal, chunk, strlen (chunk), &error))
    {
      accepted++;
      g_assert_cmpuint (accepted, <, 64);
    }
  g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_BUSY);
  /* 1 MiB queued in Runner, besides what the kernel took */
  g_assert_cmpuint (accepted, >=, 16);
}

/* Keys back to back, each as soon as the previous echo came: what a read
 * takes from a drained pty is sent in the same dispatch, never held for a
 * coalescing timer (checked after every main-loop iteration, not timed). */
static void
test_echo_not_held (Fixture       *fixture,
                    gconstpointer  user_data)
{
  const char *keys = "abcdefghijklmnopqrstuvwxyz0123456789";

  fixture_start (fixture);
  fixture_type (fixture, "stty -echo -icanon; echo RE''ADY; cat\n");
  WAIT_UNTIL (output_has (fixture->client, "READY\r\n"));
  WAIT_UNTIL (fixture->client->last_seq == runner_terminal_get_seq (fixture->terminal));

  for (guint i = 0; keys[i] != '\0'; i++)
    {
      char key[2] = { keys[i], '\0' };
      gsize before = fixture->client->output->len;
      gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC;

      fixture_type (fixture, key);
      while (fixture->client->output->len == before ||
             fixture->client->output->str[fixture->client->output->len - 1] != keys[i])
        {
          g_assert_cmpint (g_get_monotonic_time (), <, deadline);
          g_main_context_iteration (NULL, TRUE);
          g_assert_cmpuint (fixture->client->last_seq, ==,
                            runner_terminal_get_seq (fixture->terminal));
        }
    }
}

static void
test_bad_options (void)
{
  RunnerTerminalOptions options = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(RunnerTerminal) terminal = NULL;

  options.cwd = "/";
  options.cols = 0;
  options.rows = 10;
  terminal = runner_terminal_new ("x", &options, &error);
  g_assert_null (terminal);
  g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID);
  g_clear_error (&error);

  options.cols = 80;
  options.shell = "/nonexistent/shell";
  terminal = runner_terminal_new ("x", &options, &error);
  g_assert_null (terminal);
  g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE);
}

static void
test_options_from_config (void)
{
  RunnerConfig config = { 0 };
  RunnerTerminalOptions options;

  config.shell = (char *) "zsh";
  config.scrollback = 4096;
  config.sandbox = RUNNER_SANDBOX_BWRAP;
  config.sandbox_network = FALSE;
  runner_terminal_options_init (&options, &config, "/w");
  g_assert_cmpstr (options.shell, ==, "zsh");
  g_assert_cmpstr (options.cwd, ==, "/w");
  g_assert_cmpuint (options.scrollback, ==, 4096);
  g_assert_cmpint (options.sandbox, ==, RUNNER_SANDBOX_BWRAP);
  g_assert_false (options.sandbox_network);
  g_assert_cmpuint (options.cols, ==, 120);
  g_assert_cmpuint (options.rows, ==, 40);
  g_assert_cmpuint (options.start_seq, ==, 0);
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int   argc,
      char *argv[])
{
  g_autofree char *home = NULL;

  g_test_init (&argc, &argv, NULL);

  home = terminal_test_init ();

  g_test_add_func ("/runner/terminal/bad-options", test_bad_options);
  g_test_add_func ("/runner/terminal/options-from-config", test_options_from_config);
  ADD ("/runner/terminal/echo", test_echo);
  ADD ("/runner/terminal/echo-not-held", test_echo_not_held);
  ADD ("/runner/terminal/resize", test_resize);
  ADD ("/runner/terminal/exit-code", test_exit_code);
  ADD ("/runner/terminal/exit-signal", test_exit_signal);
  ADD ("/runner/terminal/state", test_state);
  ADD ("/runner/terminal/no-zombies", test_no_zombies);
  ADD ("/runner/terminal/orphans-reaped", test_orphans_reaped);
  ADD ("/runner/terminal/exit-hangs-up", test_exit_hangs_up);
  ADD ("/runner/terminal/utf8", test_utf8);
  ADD ("/runner/terminal/invalid-utf8", test_invalid_utf8);
  ADD ("/runner/terminal/clean-environment", test_clean_environment);
  ADD ("/runner/terminal/replay", test_replay);
  ADD ("/runner/terminal/replay-lost", test_replay_lost);
  ADD ("/runner/terminal/slow-client", test_slow_client);
  ADD ("/runner/terminal/backpressure", test_backpressure);
  ADD ("/runner/terminal/input-bounded", test_input_bounded);

  {
    int result = g_test_run ();

    runner_test_rm_rf (home);
    return result;
  }
}
