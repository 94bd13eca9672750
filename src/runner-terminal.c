/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-terminal"

#include "config.h"

#include "runner-terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "runner-error.h"
#include "runner-json.h"
#include "runner-reaper.h"
#include "runner-ring.h"
#include "runner-sandbox.h"
#include "runner-utf8.h"
#include "runner-vte.h"

/*
 * Output path: the pty master is read on the main loop into a ring (the
 * scrollback); each attached client has a cursor into it and is sent
 * `terminal:data` from its cursor to the head while it is writable. Reads are
 * coalesced only while output streams: when a read leaves the pty drained
 * (nothing more readable) what came goes out at once (key echo, a prompt);
 * while more is waiting, reads are gathered into one message for up to
 * COALESCE_US, and never more than CHUNK_SIZE bytes wait. A client that is full waits for "drained"
 * and resumes from its cursor; if the ring overtook it meanwhile, it skips to
 * the oldest safe cut and learns how much it missed. Reading stops only while
 * every attached client is full, which stalls the shell (the kernel's pty
 * buffer fills) instead of growing memory.
 */

#define READ_SIZE          65536
#define READ_BUDGET        (256 * 1024)   /* per main-loop dispatch */
#define CHUNK_SIZE         65536          /* raw bytes per terminal:data, at most */
#define COALESCE_US        2000
#define MAX_PENDING_INPUT  (1024 * 1024)
#define KILL_GRACE_MS      2000
#define CLOSE_POLL_MS      100            /* while closing: what is left? */
#define CLOSE_GIVE_UP_MS   (KILL_GRACE_MS + 3000)

typedef struct
{
  RunnerClient *client;     /* owned */
  guint64       cursor;
  gulong        drained_id;
  gulong        closed_id;
  gboolean      blocked;
  gboolean      exit_sent;
  gboolean      dead;
} Subscriber;

struct _RunnerTerminal
{
  GObject        parent_instance;

  char          *id;
  char          *id_json;        /* the id as a JSON string */
  VtePty        *pty;            /* owned; holds the master */
  int            master_fd;      /* borrowed from pty, -1 once closed */
  GSubprocess   *subprocess;     /* owned */
  GPid           pid;
  guint          cols;
  guint          rows;
  GCancellable  *cancellable;    /* owned; cancelled in dispose */

  RunnerRing    *ring;           /* owned */
  guint64        start_seq;
  gsize          flush_size;     /* flush at once with this much pending */
  guint          read_source;
  gboolean       paused;         /* every attached client is full */
  gboolean       eof;

  GSource       *flush_source;   /* owned; ready time -1 when idle */
  guint64        flushed_head;

  GByteArray    *input;          /* owned; keystrokes the pty did not take yet */
  guint          write_source;

  GPtrArray     *subscribers;    /* owned, of Subscriber */
  guint          pumping;

  RunnerMessage *cached;         /* owned; the last terminal:data built */
  guint64        cached_from;
  guint64        cached_end;

  gboolean       exited;
  int            exit_code;
  int            exit_signal;
  guint64        exit_seq;

  gboolean       closing;
  gboolean       finished;
  gboolean       killed;         /* SIGKILL was sent */
  gint64         close_time;
  guint          close_source;
  GHashTable    *tracked;        /* owned; what was started in it (runner_reaper_track()) */
};

G_DEFINE_FINAL_TYPE (RunnerTerminal, runner_terminal, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_PID,
  PROP_COLS,
  PROP_ROWS,
  PROP_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  EXITED,
  CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* One read buffer for all terminals: they are all read on the main thread. */
static guint8 read_buffer[READ_SIZE];

static void flush          (RunnerTerminal *self);
static void arm_flush      (RunnerTerminal *self,
                            gint64          ready_time);
static void update_reading (RunnerTerminal *self);
static void finish_close   (RunnerTerminal *self);

/* ---------------------------------------------------------------------- */
/* Subscribers */

static void
subscriber_free (gpointer data)
{
  Subscriber *s = data;

  g_clear_signal_handler (&s->drained_id, s->client);
  g_clear_signal_handler (&s->closed_id, s->client);
  g_clear_object (&s->client);
  g_free (s);
}

static Subscriber *
find_subscriber (RunnerTerminal *self,
                 RunnerClient   *client)
{
  for (guint i = 0; i < self->subscribers->len; i++)
    {
      Subscriber *s = g_ptr_array_index (self->subscribers, i);

      if (s->client == client && !s->dead)
        return s;
    }
  return NULL;
}

/* Removal is deferred while a pump walks the array. */
static void
sweep_subscribers (RunnerTerminal *self)
{
  if (self->pumping > 0)
    return;

  for (guint i = self->subscribers->len; i > 0; i--)
    {
      Subscriber *s = g_ptr_array_index (self->subscribers, i - 1);

      if (s->dead)
        g_ptr_array_remove_index (self->subscribers, i - 1);
    }
}

static void
drop_subscriber (RunnerTerminal *self,
                 Subscriber     *s)
{
  s->dead = TRUE;
  g_clear_signal_handler (&s->drained_id, s->client);
  g_clear_signal_handler (&s->closed_id, s->client);
  sweep_subscribers (self);
  update_reading (self);
}

static gboolean
send_to (RunnerTerminal *self,
         Subscriber     *s,
         RunnerMessage  *message)
{
  if (!runner_client_send (s->client, message))
    {
      /* refused and closed as too slow, or gone already */
      s->dead = TRUE;
      return FALSE;
    }
  return TRUE;
}

static RunnerMessage *
small_message (RunnerTerminal *self,
               const char     *event,
               const char     *format,
               ...) G_GNUC_PRINTF (3, 4);

/* `{"id":ID,<format>}` */
static RunnerMessage *
small_message (RunnerTerminal *self,
               const char     *event,
               const char     *format,
               ...)
{
  g_autofree char *rest = NULL;
  char *text;
  va_list args;

  va_start (args, format);
  rest = g_strdup_vprintf (format, args);
  va_end (args);

  text = g_strdup_printf ("{\"id\":%s,%s}", self->id_json, rest);
  return runner_message_new_take_text (event, text, strlen (text));
}

/* Where terminal output is escaped before it is copied, at its final size,
 * into a frame (main thread only, like read_buffer). */
static char escape_buffer[CHUNK_SIZE * RUNNER_JSON_ESCAPE_EXPANSION];

/* `{"data":"...","id":ID,"seq":END}` for the bytes [from, end), built by
 * hand: escaping is the only per-byte work. It is written straight into the
 * message's buffer, which the transport most clients take frames in place.
 * Clients that share a cursor (the usual case) share one message. */
static RunnerMessage *
data_message (RunnerTerminal *self,
              guint64         from,
              guint64         end)
{
  gsize len = end - from;
  gsize run = len;
  const guint8 *bytes;
  g_autofree guint8 *linear = NULL;
  char tail[64];
  gsize escaped, tail_len;
  GString *buffer;

  if (self->cached != NULL && self->cached_from == from && self->cached_end == end)
    return runner_message_ref (self->cached);

  g_assert (len <= CHUNK_SIZE);
  bytes = runner_ring_peek (self->ring, from, &run);
  if (run < len)
    {
      /* the range wraps around the end of the ring: once per lap */
      linear = g_malloc (len);
      runner_ring_read (self->ring, from, linear, len);
      bytes = linear;
    }

  escaped = runner_json_escape (bytes, len, escape_buffer);
  tail_len = g_snprintf (tail, sizeof tail, ",\"seq\":%" G_GUINT64_FORMAT "}", end);
  buffer = runner_message_buffer_new ("terminal:data",
                                      escaped + strlen (self->id_json) + tail_len + 16);
  g_string_append (buffer, "{\"data\":\"");
  g_string_append_len (buffer, escape_buffer, escaped);
  g_string_append (buffer, "\",\"id\":");
  g_string_append (buffer, self->id_json);
  g_string_append_len (buffer, tail, tail_len);

  g_clear_pointer (&self->cached, runner_message_unref);
  self->cached = runner_message_new_from_buffer ("terminal:data", buffer);
  self->cached_from = from;
  self->cached_end = end;
  return runner_message_ref (self->cached);
}

static void
send_exit (RunnerTerminal *self,
           Subscriber     *s)
{
  g_autoptr(RunnerMessage) message = NULL;

  if (self->exit_signal != 0)
    message = small_message (self, "terminal:exit", "\"signal\":%d", self->exit_signal);
  else
    message = small_message (self, "terminal:exit", "\"code\":%d", self->exit_code);

  if (send_to (self, s, message))
    s->exit_sent = TRUE;
}

/* Sends @s what it has not seen, while it is writable. */
static void
pump (RunnerTerminal *self,
      Subscriber     *s)
{
  gboolean final = self->eof || self->exited;

  self->pumping++;

  while (!s->dead)
    {
      guint64 head = runner_ring_get_head (self->ring);
      guint64 tail = runner_ring_get_tail (self->ring);
      guint64 end;
      g_autoptr(RunnerMessage) message = NULL;

      if (!runner_client_is_writable (s->client))
        {
          gboolean behind = s->cursor < head || (self->exited && !s->exit_sent);

          s->blocked = behind;
          break;
        }
      s->blocked = FALSE;

      if (s->cursor < tail)
        {
          guint64 cut = runner_ring_find_safe_cut (self->ring, tail);

          message = small_message (self, "terminal:skipped", "\"missed\":%" G_GUINT64_FORMAT,
                                   cut - s->cursor);
          g_debug ("Terminal %s: a client missed %" G_GUINT64_FORMAT " bytes",
                   self->id, cut - s->cursor);
          s->cursor = cut;
          send_to (self, s, message);
          continue;
        }

      end = MIN (head, s->cursor + CHUNK_SIZE);
      if (!final || end < head)
        end = runner_ring_clip_utf8 (self->ring, s->cursor, end);

      if (end <= s->cursor)
        {
          if (self->exited && !s->exit_sent && s->cursor >= self->exit_seq)
            send_exit (self, s);
          break;
        }

      message = data_message (self, s->cursor, end);
      s->cursor = end;
      send_to (self, s, message);
    }

  self->pumping--;
}

static void
pump_all (RunnerTerminal *self)
{
  self->pumping++;
  for (guint i = 0; i < self->subscribers->len; i++)
    {
      Subscriber *s = g_ptr_array_index (self->subscribers, i);

      if (!s->dead && !s->blocked)
        pump (self, s);
    }
  self->pumping--;
  sweep_subscribers (self);
}

static void
on_client_drained (RunnerClient *client,
                   gpointer      user_data)
{
  RunnerTerminal *self = user_data;
  Subscriber *s = find_subscriber (self, client);

  if (s == NULL)
    return;

  /* Not from here: transports emit this from inside their write path, where
   * sending again would re-enter it. The next dispatch sends. */
  s->blocked = FALSE;
  arm_flush (self, 0);
  update_reading (self);
}

static void
on_client_closed (RunnerClient *client,
                  gpointer      user_data)
{
  RunnerTerminal *self = user_data;
  Subscriber *s = find_subscriber (self, client);

  if (s != NULL)
    drop_subscriber (self, s);
}

static Subscriber *
ensure_subscriber (RunnerTerminal *self,
                   RunnerClient   *client,
                   guint64         cursor)
{
  Subscriber *s = find_subscriber (self, client);

  if (s != NULL)
    return s;

  s = g_new0 (Subscriber, 1);
  s->client = g_object_ref (client);
  s->cursor = cursor;
  s->drained_id = g_signal_connect (client, "drained", G_CALLBACK (on_client_drained), self);
  s->closed_id = g_signal_connect (client, "closed", G_CALLBACK (on_client_closed), self);
  g_ptr_array_add (self->subscribers, s);
  return s;
}

/* ---------------------------------------------------------------------- */
/* Reading the pty */

static void
arm_flush (RunnerTerminal *self,
           gint64          ready_time)
{
  if (self->flush_source != NULL)
    g_source_set_ready_time (self->flush_source, ready_time);
}

static void
flush (RunnerTerminal *self)
{
  arm_flush (self, -1);
  self->flushed_head = runner_ring_get_head (self->ring);
  pump_all (self);
  update_reading (self);
}

static gboolean
on_flush (gpointer user_data)
{
  flush (user_data);
  return G_SOURCE_CONTINUE;
}

/* New bytes in the ring: out at once when the pty is drained or a chunk is
 * full; while output streams, within COALESCE_US. */
static void
output_arrived (RunnerTerminal *self,
                gboolean        streaming)
{
  guint64 pending = runner_ring_get_head (self->ring) - self->flushed_head;

  if (pending >= self->flush_size || !streaming)
    flush (self);
  else if (g_source_get_ready_time (self->flush_source) == -1)
    arm_flush (self, g_get_monotonic_time () + COALESCE_US);
}

/* Whether more output waits in the pty. */
static gboolean
more_readable (RunnerTerminal *self)
{
  int available = 0;

  return ioctl (self->master_fd, FIONREAD, &available) == 0 && available > 0;
}

/* Reads what the pty has, up to @budget bytes, sending as it goes so that
 * no reader that keeps up is overtaken; stops when every reader is full
 * unless @drain. Sets eof on EIO or 0. */
static void
read_available (RunnerTerminal *self,
                gsize           budget,
                gboolean        drain)
{
  gsize total = 0;
  gsize size = MIN (sizeof read_buffer, self->flush_size);

  while (total < budget && !self->eof && self->master_fd >= 0 && (drain || !self->paused))
    {
      ssize_t n = read (self->master_fd, read_buffer, size);

      if (n > 0)
        {
          runner_ring_append (self->ring, read_buffer, n);
          total += n;
          output_arrived (self, (gsize) n == size || more_readable (self));
        }
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && errno == EAGAIN)
        break;
      else
        {
          /* EIO: no process has the slave side open any more */
          if (n < 0 && errno != EIO)
            g_debug ("Terminal %s: read: %s", self->id, g_strerror (errno));
          self->eof = TRUE;
        }
    }
}

static void
stop_reading (RunnerTerminal *self)
{
  g_clear_handle_id (&self->read_source, g_source_remove);
}

static gboolean
on_master_readable (int          fd,
                    GIOCondition condition,
                    gpointer     user_data)
{
  RunnerTerminal *self = user_data;

  read_available (self, READ_BUDGET, FALSE);
  if (!self->eof)
    return G_SOURCE_CONTINUE;

  g_debug ("Terminal %s: end of output", self->id);
  stop_reading (self);
  flush (self);
  return G_SOURCE_REMOVE;
}

/* Reads unless every attached client is full. */
static void
update_reading (RunnerTerminal *self)
{
  gboolean want = !self->eof && !self->closing && self->master_fd >= 0;
  gboolean all_blocked = self->subscribers->len > 0;

  for (guint i = 0; i < self->subscribers->len && all_blocked; i++)
    {
      Subscriber *s = g_ptr_array_index (self->subscribers, i);

      if (!s->dead && !s->blocked)
        all_blocked = FALSE;
    }
  self->paused = all_blocked;
  want = want && !all_blocked;

  if (want && self->read_source == 0)
    self->read_source = g_unix_fd_add (self->master_fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                       on_master_readable, self);
  else if (!want && self->read_source != 0)
    stop_reading (self);
}

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
static void
hang_up_session (RunnerTerminal *self)
{
  kill (-self->pid, SIGHUP);
  runner_reaper_signal_session (self->pid, SIGHUP);
  runner_reaper_signal_tracked (self->tracked, SIGHUP);
  kill (-self->pid, SIGCONT);
  runner_reaper_signal_session (self->pid, SIGCONT);
  runner_reaper_signal_tracked (self->tracked, SIGCONT);
}

/* SIGKILL to the session and to all that is tracked. */
static void
kill_everything (RunnerTerminal *self)
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
static gboolean
everything_ended (RunnerTerminal *self)
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
  read_available (self, runner_ring_get_capacity (self->ring), TRUE);
  if (self->eof)
    stop_reading (self);
  self->exit_seq = runner_ring_get_head (self->ring);

  g_debug ("Terminal %s: pid %d exited (code %d, signal %d)",
           self->id, self->pid, self->exit_code, self->exit_signal);

  /* What it left running gets the hangup a terminal gives. Now, and only
   * now: once the session is empty its id may be reused. */
  if (!self->closing)
    hang_up_session (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_signal_emit (self, signals[EXITED], 0, self->exit_code, self->exit_signal);
  flush (self);

  /* once all it started is gone; else the close poll waits for that */
  if (self->closing && everything_ended (self))
    finish_close (self);
}

static gboolean
spawn (RunnerTerminal               *self,
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

  update_reading (self);
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Closing */

static void
finish_close (RunnerTerminal *self)
{
  if (self->finished)
    return;
  self->finished = TRUE;
  g_clear_handle_id (&self->close_source, g_source_remove);

  for (guint i = 0; i < self->subscribers->len; i++)
    {
      Subscriber *s = g_ptr_array_index (self->subscribers, i);

      s->dead = TRUE;
    }
  sweep_subscribers (self);

  g_signal_emit (self, signals[CLOSED], 0);
  /* the reference runner_terminal_close() took */
  g_object_unref (self);
}

/* While closing: done once all is gone; SIGKILL after the grace; given up
 * on (a process stuck in the kernel) a while after that. */
static gboolean
on_close_poll (gpointer user_data)
{
  RunnerTerminal *self = user_data;
  gint64 elapsed_ms = (g_get_monotonic_time () - self->close_time) / 1000;

  if (!self->killed && elapsed_ms >= KILL_GRACE_MS)
    kill_everything (self);

  if (everything_ended (self) || (self->exited && elapsed_ms >= CLOSE_GIVE_UP_MS))
    {
      self->close_source = 0;
      finish_close (self);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/**
 * runner_terminal_close:
 *
 * Ends the terminal and all that was started in it: hangs up the pty and
 * sends SIGHUP (and SIGCONT, for stopped jobs) to every process of the
 * shell's session and to every other descendant of the shell (those that
 * left the session with setsid, or were orphaned; see runner_reaper_track()),
 * then SIGKILL to whatever is left after a grace of two seconds. Attached
 * clients get `terminal:exit` as soon as the shell is gone. The terminal
 * keeps itself alive until all is, so its owner may drop it right away.
 *
 * When the shell had exited by itself, its session got the SIGHUP then, and
 * what ignored it (nohup) is left alone: the session id is no longer a safe
 * handle once its processes may be gone and the id reused.
 */
void
runner_terminal_close (RunnerTerminal *self)
{
  g_return_if_fail (RUNNER_IS_TERMINAL (self));

  if (self->closing)
    return;

  self->closing = TRUE;
  g_object_ref (self);

  stop_reading (self);
  g_clear_handle_id (&self->write_source, g_source_remove);
  g_byte_array_set_size (self->input, 0);

  /* An exited shell's session had its hangup then; its id is not ours to
   * signal any more. */
  if (self->pid > 0 && !self->exited)
    {
      runner_reaper_track (self->tracked, self->pid);
      hang_up_session (self);
    }

  /* the hangup, for whatever holds the slave side */
  self->master_fd = -1;
  g_clear_object (&self->pty);

  if (self->pid <= 0 || self->exited)
    finish_close (self);
  else
    {
      self->close_time = g_get_monotonic_time ();
      self->close_source = g_timeout_add (CLOSE_POLL_MS, on_close_poll, self);
      g_source_set_name_by_id (self->close_source, "[runner] terminal close");
    }
}

/**
 * runner_terminal_kill:
 *
 * Like runner_terminal_close(), without the grace: SIGKILL at once to the
 * whole session. For shutting down.
 */
void
runner_terminal_kill (RunnerTerminal *self)
{
  g_return_if_fail (RUNNER_IS_TERMINAL (self));

  g_object_ref (self);
  runner_terminal_close (self);
  if (!self->finished)
    {
      /* still running: close() left it a grace that there is no time for */
      kill_everything (self);
      finish_close (self);
    }
  g_object_unref (self);
}

/* Whether runner_terminal_close() is done: the shell and its session are gone
 * (or were sent SIGKILL). */
gboolean
runner_terminal_is_closed (RunnerTerminal *self)
{
  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), FALSE);
  return self->finished;
}

/* ---------------------------------------------------------------------- */
/* GObject */

static void
runner_terminal_dispose (GObject *object)
{
  RunnerTerminal *self = RUNNER_TERMINAL (object);

  /* Dropped without runner_terminal_close(): no time for a grace. */
  if (self->pid > 0 && !self->exited)
    kill_everything (self);

  g_cancellable_cancel (self->cancellable);
  stop_reading (self);
  g_clear_handle_id (&self->write_source, g_source_remove);
  g_clear_handle_id (&self->close_source, g_source_remove);
  if (self->flush_source != NULL)
    {
      g_source_destroy (self->flush_source);
      g_clear_pointer (&self->flush_source, g_source_unref);
    }
  g_ptr_array_set_size (self->subscribers, 0);
  g_clear_pointer (&self->cached, runner_message_unref);
  self->master_fd = -1;
  g_clear_object (&self->pty);
  g_clear_object (&self->subprocess);

  G_OBJECT_CLASS (runner_terminal_parent_class)->dispose (object);
}

static void
runner_terminal_finalize (GObject *object)
{
  RunnerTerminal *self = RUNNER_TERMINAL (object);

  g_clear_pointer (&self->ring, runner_ring_free);
  g_clear_pointer (&self->input, g_byte_array_unref);
  g_clear_pointer (&self->subscribers, g_ptr_array_unref);
  g_clear_pointer (&self->tracked, g_hash_table_unref);
  g_clear_object (&self->cancellable);
  g_free (self->id);
  g_free (self->id_json);

  G_OBJECT_CLASS (runner_terminal_parent_class)->finalize (object);
}

static void
runner_terminal_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  RunnerTerminal *self = RUNNER_TERMINAL (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_PID:
      g_value_set_int (value, self->pid);
      break;
    case PROP_COLS:
      g_value_set_uint (value, self->cols);
      break;
    case PROP_ROWS:
      g_value_set_uint (value, self->rows);
      break;
    case PROP_STATE:
      g_value_set_enum (value, runner_terminal_get_state (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
runner_terminal_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  RunnerTerminal *self = RUNNER_TERMINAL (object);

  switch (prop_id)
    {
    case PROP_ID:
      self->id = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
runner_terminal_class_init (RunnerTerminalClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = runner_terminal_dispose;
  object_class->finalize = runner_terminal_finalize;
  object_class->get_property = runner_terminal_get_property;
  object_class->set_property = runner_terminal_set_property;

  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PID] =
    g_param_spec_int ("pid", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_COLS] =
    g_param_spec_uint ("cols", NULL, NULL, 0, RUNNER_TERMINAL_MAX_SIZE, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ROWS] =
    g_param_spec_uint ("rows", NULL, NULL, 0, RUNNER_TERMINAL_MAX_SIZE, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, RUNNER_TYPE_TERMINAL_STATE,
                       RUNNER_TERMINAL_STATE_RUNNING,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * RunnerTerminal::exited:
   * @code: the exit code, when it exited
   * @signum: the signal that ended it, or 0
   */
  signals[EXITED] =
    g_signal_new ("exited", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);

  /**
   * RunnerTerminal::closed:
   *
   * runner_terminal_close() is done: the session is gone or was killed.
   */
  signals[CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static gboolean
flush_source_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  return callback (user_data);
}

static void
runner_terminal_init (RunnerTerminal *self)
{
  static GSourceFuncs flush_funcs = { NULL, NULL, flush_source_dispatch, NULL, NULL, NULL };

  self->master_fd = -1;
  self->cancellable = g_cancellable_new ();
  self->input = g_byte_array_new ();
  self->subscribers = g_ptr_array_new_with_free_func (subscriber_free);
  self->tracked = runner_reaper_tracked_new ();

  /* A source with only a ready time: armed to coalesce output. */
  self->flush_source = g_source_new (&flush_funcs, sizeof (GSource));
  g_source_set_callback (self->flush_source, on_flush, self, NULL);
  g_source_set_name (self->flush_source, "[runner] terminal flush");
  g_source_attach (self->flush_source, NULL);
}

/* ---------------------------------------------------------------------- */
/* Public API */

/**
 * runner_terminal_options_init:
 * @options: (out caller-allocates): what to fill
 * @config: the configuration
 * @cwd: the working directory, the workspace root
 *
 * Fills @options from @config, with a size of 120×40 (what the old service
 * used) and a stream starting at 0. @options borrows from @config and @cwd.
 */
void
runner_terminal_options_init (RunnerTerminalOptions *options,
                              const RunnerConfig    *config,
                              const char            *cwd)
{
  g_return_if_fail (options != NULL);
  g_return_if_fail (config != NULL);
  g_return_if_fail (cwd != NULL);

  memset (options, 0, sizeof *options);
  options->shell = config->shell;
  options->cwd = cwd;
  options->scrollback = config->scrollback > 0 ? config->scrollback : 1024 * 1024;
  options->sandbox = config->sandbox;
  options->sandbox_network = config->sandbox_network;
  options->user = config->user;
  options->cols = 120;
  options->rows = 40;
}

/**
 * runner_terminal_new:
 * @id: the terminal's id on the wire
 * @options: what to run, where, how big
 *
 * Starts a shell on a new pseudo-terminal.
 *
 * Returns: (transfer full): the terminal, or %NULL: %RUNNER_ERROR_INVALID for
 *   a bad size, %RUNNER_ERROR_UNAVAILABLE when the shell or bubblewrap is
 *   missing, a %G_IO_ERROR or #GSpawnError when it cannot start
 */
RunnerTerminal *
runner_terminal_new (const char                   *id,
                     const RunnerTerminalOptions  *options,
                     GError                      **error)
{
  g_autoptr(RunnerTerminal) self = NULL;
  g_autoptr(JsonNode) id_node = NULL;

  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (options->cwd != NULL, NULL);

  if (options->cols < RUNNER_TERMINAL_MIN_SIZE || options->cols > RUNNER_TERMINAL_MAX_SIZE ||
      options->rows < RUNNER_TERMINAL_MIN_SIZE || options->rows > RUNNER_TERMINAL_MAX_SIZE)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("A terminal is %d to %d columns and rows wide"),
                   RUNNER_TERMINAL_MIN_SIZE, RUNNER_TERMINAL_MAX_SIZE);
      return NULL;
    }

  self = g_object_new (RUNNER_TYPE_TERMINAL, "id", id, NULL);
  id_node = json_node_init_string (json_node_alloc (), id);
  self->id_json = runner_json_to_string (id_node, NULL);
  self->start_seq = options->start_seq;
  self->ring = runner_ring_new (options->scrollback > 0 ? MAX (options->scrollback, 4096)
                                                        : 1024 * 1024,
                                options->start_seq);
  self->flushed_head = options->start_seq;
  self->flush_size = MIN (CHUNK_SIZE, runner_ring_get_capacity (self->ring) / 2);

  if (!spawn (self, options, error))
    return NULL;

  return g_steal_pointer (&self);
}

const char *
runner_terminal_get_id (RunnerTerminal *self)
{
  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), NULL);
  return self->id;
}

GPid
runner_terminal_get_pid (RunnerTerminal *self)
{
  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), 0);
  return self->pid;
}

guint
runner_terminal_get_cols (RunnerTerminal *self)
{
  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), 0);
  return self->cols;
}

guint
runner_terminal_get_rows (RunnerTerminal *self)
{
  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), 0);
  return self->rows;
}

RunnerTerminalState
runner_terminal_get_state (RunnerTerminal *self)
{
  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), RUNNER_TERMINAL_STATE_EXITED);
  return self->subprocess != NULL && !self->exited ? RUNNER_TERMINAL_STATE_RUNNING
                                                   : RUNNER_TERMINAL_STATE_EXITED;
}

/* Whether the shell is still running. */
gboolean
runner_terminal_is_alive (RunnerTerminal *self)
{
  return runner_terminal_get_state (self) == RUNNER_TERMINAL_STATE_RUNNING;
}

/* The offset just past the newest output byte. */
guint64
runner_terminal_get_seq (RunnerTerminal *self)
{
  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), 0);
  return runner_ring_get_head (self->ring);
}

/**
 * runner_terminal_get_exit_status:
 * @code: (out) (optional): the exit code
 * @signum: (out) (optional): the signal that ended the shell, or 0
 *
 * Returns: %TRUE once the shell has exited
 */
gboolean
runner_terminal_get_exit_status (RunnerTerminal *self,
                                 int            *code,
                                 int            *signum)
{
  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), FALSE);

  if (code != NULL)
    *code = self->exit_code;
  if (signum != NULL)
    *signum = self->exit_signal;
  return self->exited;
}

/**
 * runner_terminal_describe:
 *
 * Returns: (transfer full): `{id, cols, rows, pid, alive, seq}`, plus `code`
 *   or `signal` once the shell has exited
 */
JsonNode *
runner_terminal_describe (RunnerTerminal *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, self->id);
  json_builder_set_member_name (builder, "cols");
  json_builder_add_int_value (builder, self->cols);
  json_builder_set_member_name (builder, "rows");
  json_builder_add_int_value (builder, self->rows);
  json_builder_set_member_name (builder, "pid");
  json_builder_add_int_value (builder, self->pid);
  json_builder_set_member_name (builder, "alive");
  json_builder_add_boolean_value (builder, runner_terminal_is_alive (self));
  json_builder_set_member_name (builder, "seq");
  json_builder_add_int_value (builder, runner_ring_get_head (self->ring));
  if (self->exited)
    {
      json_builder_set_member_name (builder, self->exit_signal != 0 ? "signal" : "code");
      json_builder_add_int_value (builder, self->exit_signal != 0 ? self->exit_signal
                                                                  : self->exit_code);
    }
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static gboolean
on_master_writable (int          fd,
                    GIOCondition condition,
                    gpointer     user_data)
{
  RunnerTerminal *self = user_data;

  while (self->input->len > 0)
    {
      ssize_t n = write (self->master_fd, self->input->data, self->input->len);

      if (n > 0)
        g_byte_array_remove_range (self->input, 0, n);
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && errno == EAGAIN)
        return G_SOURCE_CONTINUE;
      else
        {
          g_debug ("Terminal %s: dropping input: %s", self->id, g_strerror (errno));
          g_byte_array_set_size (self->input, 0);
        }
    }

  self->write_source = 0;
  return G_SOURCE_REMOVE;
}

/**
 * runner_terminal_write:
 * @data: keystrokes (any bytes)
 * @len: their length
 *
 * Feeds the shell. What the pty cannot take at once is queued, up to 1 MiB.
 *
 * Returns: %FALSE with %G_IO_ERROR_CLOSED once the shell is gone, or
 *   %RUNNER_ERROR_BUSY while too much input waits
 */
gboolean
runner_terminal_write (RunnerTerminal  *self,
                       const char      *data,
                       gsize            len,
                       GError         **error)
{
  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (self->master_fd < 0 || self->exited || self->closing)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, _("Terminal %s has exited"), self->id);
      return FALSE;
    }

  if (self->input->len + len > MAX_PENDING_INPUT)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_BUSY,
                   _("Terminal %s is not reading its input"), self->id);
      return FALSE;
    }

  while (self->input->len == 0 && len > 0)
    {
      ssize_t n = write (self->master_fd, data, len);

      if (n > 0)
        {
          data += n;
          len -= n;
        }
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && errno == EAGAIN)
        break;
      else
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                       _("Cannot write to terminal %s: %s"), self->id, g_strerror (errno));
          return FALSE;
        }
    }

  if (len > 0)
    {
      g_byte_array_append (self->input, (const guint8 *) data, len);
      if (self->write_source == 0)
        self->write_source = g_unix_fd_add (self->master_fd, G_IO_OUT, on_master_writable, self);
    }

  return TRUE;
}

/**
 * runner_terminal_resize:
 * @cols: columns, 1 to %RUNNER_TERMINAL_MAX_SIZE
 * @rows: rows, likewise
 *
 * Sets the size; the shell's foreground job gets SIGWINCH.
 */
gboolean
runner_terminal_resize (RunnerTerminal  *self,
                        guint            cols,
                        guint            rows,
                        GError         **error)
{
  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), FALSE);

  if (cols < RUNNER_TERMINAL_MIN_SIZE || cols > RUNNER_TERMINAL_MAX_SIZE ||
      rows < RUNNER_TERMINAL_MIN_SIZE || rows > RUNNER_TERMINAL_MAX_SIZE)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("A terminal is %d to %d columns and rows wide"),
                   RUNNER_TERMINAL_MIN_SIZE, RUNNER_TERMINAL_MAX_SIZE);
      return FALSE;
    }

  if (self->pty == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, _("Terminal %s has exited"), self->id);
      return FALSE;
    }

  if (!runner_vte_pty_set_size (self->pty, rows, cols, error))
    return FALSE;

  if (self->cols != cols)
    {
      self->cols = cols;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COLS]);
    }
  if (self->rows != rows)
    {
      self->rows = rows;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROWS]);
    }
  return TRUE;
}

/**
 * runner_terminal_attach:
 * @client: who wants the output
 * @since: the `seq` of the last `terminal:data` the client saw, or -1 for
 *   the whole scrollback
 * @from: (out) (optional): where the replay starts
 * @missed: (out) (optional): bytes after @since (or after the start of the
 *   stream) that the client will not get because the scrollback lost them
 *
 * Makes @client receive this terminal's output from @since on: what it missed
 * first, then live. Without @since, or with one from before this stream
 * began (a previous shell of the default terminal), the whole scrollback is
 * replayed from its oldest safe cut. Attaching again moves the client's
 * cursor.
 *
 * Returns: %FALSE with %RUNNER_ERROR_INVALID, and nothing changed, for a
 *   @since past the newest output: this stream never reached it (it is
 *   another Runner's, or made up)
 */
gboolean
runner_terminal_attach (RunnerTerminal  *self,
                        RunnerClient    *client,
                        gint64           since,
                        guint64         *from,
                        guint64         *missed,
                        GError         **error)
{
  guint64 tail, head, cursor, lost;
  Subscriber *s;

  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), FALSE);
  g_return_val_if_fail (RUNNER_IS_CLIENT (client), FALSE);

  tail = runner_ring_get_tail (self->ring);
  head = runner_ring_get_head (self->ring);

  if (since >= 0 && (guint64) since > head)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("“since” %" G_GINT64_FORMAT " is past the output of terminal %s "
                     "(%" G_GUINT64_FORMAT "); attach without it for the whole scrollback"),
                   since, self->id, head);
      return FALSE;
    }

  if (since >= 0 && (guint64) since >= tail)
    {
      cursor = since;
      lost = 0;
    }
  else if (since >= 0 && (guint64) since < tail && (guint64) since >= self->start_seq)
    {
      cursor = runner_ring_find_safe_cut (self->ring, tail);
      lost = cursor - since;
    }
  else
    {
      cursor = runner_ring_find_safe_cut (self->ring, tail);
      lost = cursor - self->start_seq;
    }

  s = ensure_subscriber (self, client, cursor);
  s->cursor = cursor;
  s->exit_sent = FALSE;

  if (from != NULL)
    *from = cursor;
  if (missed != NULL)
    *missed = lost;

  /* after the caller's reply */
  arm_flush (self, 0);
  update_reading (self);
  return TRUE;
}

/**
 * runner_terminal_follow:
 * @client: who wants the output
 *
 * Makes @client receive output from now on, unless it already does.
 */
void
runner_terminal_follow (RunnerTerminal *self,
                        RunnerClient   *client)
{
  guint64 head, from;

  g_return_if_fail (RUNNER_IS_TERMINAL (self));
  g_return_if_fail (RUNNER_IS_CLIENT (client));

  /* now, but not in the middle of a character */
  head = runner_ring_get_head (self->ring);
  from = MAX (runner_ring_get_tail (self->ring), head - MIN (head, 3));
  ensure_subscriber (self, client, runner_ring_clip_utf8 (self->ring, from, head));
  update_reading (self);
}

/**
 * runner_terminal_detach:
 * @client: a client
 *
 * Returns: whether @client was attached
 */
gboolean
runner_terminal_detach (RunnerTerminal *self,
                        RunnerClient   *client)
{
  Subscriber *s;

  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), FALSE);

  s = find_subscriber (self, client);
  if (s == NULL)
    return FALSE;

  drop_subscriber (self, s);
  return TRUE;
}

gboolean
runner_terminal_has_client (RunnerTerminal *self,
                            RunnerClient   *client)
{
  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), FALSE);
  return find_subscriber (self, client) != NULL;
}

guint
runner_terminal_get_n_clients (RunnerTerminal *self)
{
  guint n = 0;

  g_return_val_if_fail (RUNNER_IS_TERMINAL (self), 0);

  for (guint i = 0; i < self->subscribers->len; i++)
    {
      Subscriber *s = g_ptr_array_index (self->subscribers, i);

      if (!s->dead)
        n++;
    }
  return n;
}
