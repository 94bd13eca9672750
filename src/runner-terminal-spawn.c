/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-terminal"

#include "config.h"

#include "runner-terminal-private.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "runner-error.h"
#include "runner-reaper.h"
#include "runner-sandbox.h"

/* ---------------------------------------------------------------------- */
/* The child */

/* What describes Runner's own terminal or service manager, not the shell's. */
static const char * const foreign_names[] = {
  "COLUMNS", "LINES", "TERMCAP", "INVOCATION_ID", "JOURNAL_STREAM", "NOTIFY_SOCKET",
  "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_PID", "WATCHDOG_USEC",
};

/* Runner's environment without its secrets (runner_config_child_environ():
 * AWS_*, S3_*, RUNNER_*), without the above, with the terminal's own. */
static char **
child_environ (const char *shell,
               const char *cwd)
{
  char **env = runner_config_child_environ ();

  for (guint i = 0; i < G_N_ELEMENTS (foreign_names); i++)
    env = g_environ_unsetenv (env, foreign_names[i]);
  env = g_environ_setenv (env, "TERM", "xterm-256color", TRUE);
  env = g_environ_setenv (env, "COLORTERM", "truecolor", TRUE);
  env = g_environ_setenv (env, "SHELL", shell, TRUE);
  env = g_environ_setenv (env, "PWD", cwd, TRUE);
  return env;
}

/* $SHELL, bash, sh, unless one was configured (which then must exist). */
static char *
find_shell (const char  *configured,
            GError     **error)
{
  const char *candidates[] = { g_getenv ("SHELL"), "bash", "sh" };

  if (configured != NULL && *configured != '\0')
    {
      char *path = g_find_program_in_path (configured);

      if (path == NULL)
        g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE,
                     _("The shell “%s” was not found"), configured);
      return path;
    }

  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      char *path;

      if (candidates[i] == NULL || *candidates[i] == '\0')
        continue;
      path = g_find_program_in_path (candidates[i]);
      if (path != NULL)
        return path;
    }

  g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE, _("No shell was found"));
  return NULL;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void
child_setup (gpointer user_data)
{
  sigset_t mask;

  /* A session of its own, with the pty (already on stdin) as controlling
   * terminal: job control works, and the session can be ended as a whole. */
  setsid ();
  ioctl (STDIN_FILENO, TIOCSCTTY, 0);

  /* What the shell's children orphan (double forks, `(cmd &)`) is
   * re-parented to the shell, not to Runner: while the shell runs, all that
   * was started in it descends from it. Kept across exec. */
  prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

  /* Ignored signals survive exec: undo what Runner ignores (SIGPIPE). */
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
  sigemptyset (&mask);
  sigprocmask (SIG_SETMASK, &mask, NULL);

  /* last: the steps above may need Runner's privileges */
  runner_user_child_setup (user_data);
}

static int
open_slave (int      master,
            GError **error)
{
  int fd = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);

  if (fd < 0)
    {
      char name[64];

      if (ptsname_r (master, name, sizeof name) == 0)
        fd = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    }

  if (fd < 0)
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                 _("Cannot open the terminal: %s"), g_strerror (errno));
  return fd;
}

/* SIGHUP, and SIGCONT for stopped jobs, to every process of the shell's
 * session, whatever its process group, and to what else is tracked. */
void
runner_terminal_hang_up_session (RunnerTerminal *self)
{
  kill (-self->pid, SIGHUP);
  runner_reaper_signal_session (self->pid, SIGHUP);
  runner_reaper_signal_tracked (self->tracked, SIGHUP);
  kill (-self->pid, SIGCONT);
  runner_reaper_signal_session (self->pid, SIGCONT);
  runner_reaper_signal_tracked (self->tracked, SIGCONT);
}

/* SIGKILL to the session and to all that is tracked. */
void
runner_terminal_kill_everything (RunnerTerminal *self)
{
  if (!self->exited)
    runner_reaper_track (self->tracked, self->pid);
  g_debug ("Terminal %s: killing what is left of session %d", self->id, self->pid);
  if (!self->exited)
    kill (-self->pid, SIGKILL);
  runner_reaper_signal_session (self->pid, SIGKILL);
  runner_reaper_signal_tracked (self->tracked, SIGKILL);
  self->killed = TRUE;
}

/* Whether what the terminal started is all gone: the shell was reaped and
 * nothing tracked runs. Reaps tracked orphans on the way. */
gboolean
runner_terminal_everything_ended (RunnerTerminal *self)
{
  guint alive = runner_reaper_track (self->tracked, self->exited ? 0 : self->pid);

  return self->exited && alive == 0 && runner_reaper_signal_session (self->pid, 0) == 0;
}

static void
on_child_exited (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GSubprocess *subprocess = G_SUBPROCESS (object);
  RunnerTerminal *self;
  g_autoptr(GError) error = NULL;

  if (!g_subprocess_wait_finish (subprocess, result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = RUNNER_TERMINAL (user_data);
  self->exited = TRUE;
  if (g_subprocess_get_if_signaled (subprocess))
    self->exit_signal = g_subprocess_get_term_sig (subprocess);
  else
    self->exit_code = g_subprocess_get_exit_status (subprocess);

  /* What the shell wrote before it died is in the pty already. */
  runner_terminal_read_available (self, runner_ring_get_capacity (self->ring), TRUE);
  if (self->eof)
    runner_terminal_stop_reading (self);
  self->exit_seq = runner_ring_get_head (self->ring);

  g_debug ("Terminal %s: pid %d exited (code %d, signal %d)",
           self->id, self->pid, self->exit_code, self->exit_signal);

  /* What it left running gets the hangup a terminal gives. Now, and only
   * now: once the session is empty its id may be reused. */
  if (!self->closing)
    runner_terminal_hang_up_session (self);

  runner_terminal_emit_exited (self);
  runner_terminal_flush (self);

  /* once all it started is gone; else the close poll waits for that */
  if (self->closing && runner_terminal_everything_ended (self))
    runner_terminal_finish_close (self);
}

gboolean
runner_terminal_spawn (RunnerTerminal               *self,
                       const RunnerTerminalOptions  *options,
                       GError                      **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *shell = NULL;
  g_auto(GStrv) env = NULL;
  g_auto(GStrv) wrapped = NULL;
  const char *argv[2] = { NULL, NULL };
  const char * const *command = argv;
  int slave;

  shell = find_shell (options->shell, error);
  if (shell == NULL)
    return FALSE;
  argv[0] = shell;

  if (options->sandbox == RUNNER_SANDBOX_BWRAP)
    {
      /* No new session inside: the shell keeps the pty as its controlling
       * terminal. The pty is its own, so TIOCSTI can only feed itself. */
      RunnerSandboxOptions sandbox = { options->cwd, options->sandbox_network, FALSE };

      wrapped = runner_sandbox_wrap_argv (&sandbox, argv, error);
      if (wrapped == NULL)
        return FALSE;
      command = (const char * const *) wrapped;
    }

  self->pty = runner_vte_pty_new_sync (VTE_PTY_DEFAULT, NULL, error);
  if (self->pty == NULL)
    return FALSE;
  self->master_fd = runner_vte_pty_get_fd (self->pty);
  if (!g_unix_set_fd_nonblocking (self->master_fd, TRUE, error))
    return FALSE;
  /* VTE turns packet mode on (a status byte before each read); plain bytes */
  {
    int packet = 0;

    if (ioctl (self->master_fd, TIOCPKT, &packet) != 0)
      g_debug ("Terminal %s: TIOCPKT: %s", self->id, g_strerror (errno));
  }
  if (!runner_vte_pty_set_size (self->pty, options->rows, options->cols, error))
    return FALSE;
  self->cols = options->cols;
  self->rows = options->rows;

  slave = open_slave (self->master_fd, error);
  if (slave < 0)
    return FALSE;

  env = runner_user_environ (options->user, child_environ (shell, options->cwd));
  /* the user's own terminal, as login makes it */
  if (options->user != NULL && options->user->change && fchown (slave, options->user->uid, -1) != 0)
    g_debug ("Terminal %s: fchown: %s", self->id, g_strerror (errno));
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_environ (launcher, env);
  g_subprocess_launcher_set_cwd (launcher, options->cwd);
  g_subprocess_launcher_take_stdin_fd (launcher, dup (slave));
  g_subprocess_launcher_take_stdout_fd (launcher, dup (slave));
  g_subprocess_launcher_take_stderr_fd (launcher, slave);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, (gpointer) options->user, NULL);

  self->subprocess = g_subprocess_launcher_spawnv (launcher, command, error);
  if (self->subprocess == NULL)
    return FALSE;

  self->pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (self->subprocess), NULL, 10);
  g_subprocess_wait_async (self->subprocess, self->cancellable, on_child_exited, self);
  g_debug ("Terminal %s: %s as pid %d, %ux%u", self->id, command[0], self->pid,
           self->cols, self->rows);

  runner_terminal_hold_input (self);
  runner_terminal_update_reading (self);
  return TRUE;
}
