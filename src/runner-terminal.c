/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-terminal"

#include "config.h"

#include "runner-terminal-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "runner-error.h"
#include "runner-json.h"
#include "runner-reaper.h"

#define MAX_PENDING_INPUT  (1024 * 1024)
#define HOLD_INPUT_MS      1000           /* for a new shell's first output */
#define KILL_GRACE_MS      2000
#define CLOSE_POLL_MS      100            /* while closing: what is left? */
#define CLOSE_GIVE_UP_MS   (KILL_GRACE_MS + 3000)

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

/* ---------------------------------------------------------------------- */
/* Closing */

void
runner_terminal_finish_close (RunnerTerminal *self)
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
  runner_terminal_sweep_subscribers (self);

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
    runner_terminal_kill_everything (self);

  if (runner_terminal_everything_ended (self) || (self->exited && elapsed_ms >= CLOSE_GIVE_UP_MS))
    {
      self->close_source = 0;
      runner_terminal_finish_close (self);
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

  runner_terminal_stop_reading (self);
  g_clear_handle_id (&self->write_source, g_source_remove);
  g_clear_handle_id (&self->hold_source, g_source_remove);
  g_byte_array_set_size (self->input, 0);

  /* An exited shell's session had its hangup then; its id is not ours to
   * signal any more. */
  if (self->pid > 0 && !self->exited)
    {
      runner_reaper_track (self->tracked, self->pid);
      runner_terminal_hang_up_session (self);
    }

  /* the hangup, for whatever holds the slave side */
  self->master_fd = -1;
  g_clear_object (&self->pty);

  if (self->pid <= 0 || self->exited)
    runner_terminal_finish_close (self);
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
      runner_terminal_kill_everything (self);
      runner_terminal_finish_close (self);
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
    runner_terminal_kill_everything (self);

  g_cancellable_cancel (self->cancellable);
  runner_terminal_stop_reading (self);
  g_clear_handle_id (&self->write_source, g_source_remove);
  g_clear_handle_id (&self->hold_source, g_source_remove);
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

/* The shell has exited: its state changed, and ::exited. */
void
runner_terminal_emit_exited (RunnerTerminal *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_signal_emit (self, signals[EXITED], 0, self->exit_code, self->exit_signal);
}

static gboolean
on_flush (gpointer user_data)
{
  runner_terminal_flush (user_data);
  return G_SOURCE_CONTINUE;
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
  self->subscribers = g_ptr_array_new_with_free_func (runner_terminal_subscriber_free);
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

  if (!runner_terminal_spawn (self, options, error))
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

  while (self->input->len == 0 && self->hold_source == 0 && len > 0)
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
      if (self->write_source == 0 && self->hold_source == 0)
        self->write_source = g_unix_fd_add (self->master_fd, G_IO_OUT, on_master_writable, self);
    }

  return TRUE;
}

static gboolean
on_hold_timeout (gpointer user_data)
{
  RunnerTerminal *self = user_data;

  self->hold_source = 0;
  runner_terminal_release_input (self);
  return G_SOURCE_REMOVE;
}

/* A shell starting up has not set its signal handlers yet: a ^C written
 * then kills it (and with the default terminal started by the first write,
 * a client's "^C, then a command" would kill every new shell). So what is
 * written to a new terminal waits until the shell first writes something
 * (its prompt), or HOLD_INPUT_MS at most, then goes in order. */
void
runner_terminal_hold_input (RunnerTerminal *self)
{
  g_clear_handle_id (&self->hold_source, g_source_remove);
  self->hold_source = g_timeout_add (HOLD_INPUT_MS, on_hold_timeout, self);
}

void
runner_terminal_release_input (RunnerTerminal *self)
{
  g_clear_handle_id (&self->hold_source, g_source_remove);
  if (self->input->len > 0 && self->write_source == 0 && self->master_fd >= 0)
    self->write_source = g_unix_fd_add (self->master_fd, G_IO_OUT, on_master_writable, self);
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

