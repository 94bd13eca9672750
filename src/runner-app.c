/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-app"

#include "config.h"

#include <signal.h>
#include <unistd.h>
#include <glib/gi18n.h>

#include "runner-app.h"
#include "runner-enum-nick.h"
#include "runner-error.h"
#include "runner-request.h"
#include "runner-sandbox.h"

/*
 * RunnerApp: the user's own program, the one that listens on USER_PORT
 * (3000). Runner starts it (RUNNER_APP_COMMAND, run by /bin/sh in the
 * workspace, in its own session), tells when its port listens, keeps its
 * recent output, restarts it with exponential back-off when it dies on its
 * own, and ends its whole process group when asked to stop.
 */

#define LOG_KEEP          (64 * 1024)
#define BACKOFF_FIRST_MS  500
#define BACKOFF_MAX_MS    30000
#define STABLE_AFTER_US   (30 * G_USEC_PER_SEC)
#define STOP_GRACE_MS     5000
#define PROBE_INTERVAL_MS 150

struct _RunnerApp
{
  GObject         parent_instance;
  RunnerBroadcaster *broadcaster; /* weak: a probe or a read may outlive it */
  RunnerWorkspace *workspace;    /* owned: where the app runs */
  RunnerConfig   *config;        /* unowned */
  GSubprocess    *process;       /* owned, nullable */
  GCancellable   *cancellable;   /* owned: this run's reads, probes and wait */
  GString        *log;           /* owned: the last LOG_KEEP bytes of output */
  RunnerAppState  state;
  gboolean        wanted;        /* whether it should be running */
  gboolean        restarting;    /* start again as soon as it has stopped */
  guint           restarts;
  guint           backoff_ms;
  guint           backoff_id;
  guint           probe_id;
  guint           kill_id;
  gint64          started_at;
  pid_t           pid;           /* of the running app (its group id), 0 for none */
  int             last_status;   /* wait status of the last exit, -1 for none */
};

G_DEFINE_FINAL_TYPE (RunnerApp, runner_app, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean spawn (RunnerApp  *self,
                       GError    **error);

/**
 * runner_app_to_json:
 *
 * Returns: (transfer full): `{state, command, port, pid?, restarts, exit?}`
 */
JsonNode *
runner_app_to_json (RunnerApp *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (RUNNER_IS_APP (self), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, runner_enum_get_nick (RUNNER_TYPE_APP_STATE, self->state));
  json_builder_set_member_name (builder, "command");
  if (self->config->app_command != NULL)
    json_builder_add_string_value (builder, self->config->app_command);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "port");
  json_builder_add_int_value (builder, self->config->user_port);
  json_builder_set_member_name (builder, "restarts");
  json_builder_add_int_value (builder, self->restarts);
  if (self->pid > 0)
    {
      json_builder_set_member_name (builder, "pid");
      json_builder_add_int_value (builder, self->pid);
    }
  if (self->last_status >= 0)
    {
      json_builder_set_member_name (builder, "exit");
      json_builder_begin_object (builder);
      if (WIFEXITED (self->last_status))
        {
          json_builder_set_member_name (builder, "code");
          json_builder_add_int_value (builder, WEXITSTATUS (self->last_status));
        }
      else if (WIFSIGNALED (self->last_status))
        {
          json_builder_set_member_name (builder, "signal");
          json_builder_add_int_value (builder, WTERMSIG (self->last_status));
        }
      json_builder_end_object (builder);
    }
  if (self->state == RUNNER_APP_STATE_BACKOFF)
    {
      json_builder_set_member_name (builder, "retryInMs");
      json_builder_add_int_value (builder, self->backoff_ms);
    }
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static void
set_state (RunnerApp      *self,
           RunnerAppState  state)
{
  g_autoptr(RunnerMessage) message = NULL;

  if (self->state == state)
    return;

  g_debug ("App: %s -> %s", runner_enum_get_nick (RUNNER_TYPE_APP_STATE, self->state),
           runner_enum_get_nick (RUNNER_TYPE_APP_STATE, state));
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);

  message = runner_message_new ("app:state", runner_app_to_json (self));
  if (self->broadcaster != NULL)
    runner_broadcaster_broadcast (self->broadcaster, message);
}

static void
kill_group (RunnerApp *self,
            int        signum)
{
  /* Never 0 or 1: kill(-0) would hit Runner's own group. */
  if (self->pid > 1)
    kill (-self->pid, signum);
}

static void
append_log (RunnerApp  *self,
            const char *stream,
            GBytes     *bytes)
{
  g_autoptr(RunnerMessage) message = NULL;
  g_autofree char *text = NULL;
  GString *data;
  gsize len;

  text = g_utf8_make_valid (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_string_append (self->log, text);
  if (self->log->len > LOG_KEEP)
    {
      /* Keep whole lines (and whole characters) at the start. */
      const char *cut = self->log->str + self->log->len - LOG_KEEP;
      const char *nl = strchr (cut, '\n');

      cut = nl != NULL ? nl + 1 : g_utf8_find_next_char (cut - 1, NULL);
      g_string_erase (self->log, 0, cut - self->log->str);
    }

  data = g_string_new ("{\"stream\":");
  runner_json_append_string (data, stream, -1);
  g_string_append (data, ",\"data\":");
  runner_json_append_string (data, text, -1);
  g_string_append_c (data, '}');
  len = data->len;
  message = runner_message_new_take_text ("app:log", g_string_free (data, FALSE), len);
  if (self->broadcaster != NULL)
    runner_broadcaster_broadcast (self->broadcaster, message);
}

typedef struct
{
  RunnerApp    *self;   /* owned */
  const char   *stream; /* static */
} Reader;

static void read_next (Reader       *reader,
                       GInputStream *input);

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Reader *reader = user_data;
  g_autoptr(GBytes) bytes = NULL;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, NULL);
  if (bytes == NULL || g_bytes_get_size (bytes) == 0)
    {
      g_object_unref (reader->self);
      g_free (reader);
      return;
    }

  append_log (reader->self, reader->stream, bytes);
  read_next (reader, G_INPUT_STREAM (object));
}

static void
read_next (Reader       *reader,
           GInputStream *input)
{
  g_input_stream_read_bytes_async (input, 8192, G_PRIORITY_DEFAULT, reader->self->cancellable,
                                   read_cb, reader);
}

static void
start_reading (RunnerApp    *self,
               GInputStream *input,
               const char   *stream)
{
  Reader *reader = g_new0 (Reader, 1);

  reader->self = g_object_ref (self);
  reader->stream = stream;
  read_next (reader, input);
}

/* Readiness: the app is running once something accepts on its port. */

static gboolean probe (gpointer user_data);

static void
probe_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(RunnerApp) self = user_data;
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;

  conn = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (conn != NULL)
    {
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
      if (self->state == RUNNER_APP_STATE_STARTING)
        set_state (self, RUNNER_APP_STATE_RUNNING);
      return;
    }

  if (self->state == RUNNER_APP_STATE_STARTING)
    self->probe_id = g_timeout_add (PROBE_INTERVAL_MS, probe, self);
}

static gboolean
probe (gpointer user_data)
{
  RunnerApp *self = user_data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();

  self->probe_id = 0;
  g_socket_client_set_timeout (client, 2);
  g_socket_client_connect_to_host_async (client, "127.0.0.1", self->config->user_port,
                                         self->cancellable, probe_cb, g_object_ref (self));
  return G_SOURCE_REMOVE;
}

static gboolean
retry (gpointer user_data)
{
  RunnerApp *self = user_data;
  g_autoptr(GError) error = NULL;

  self->backoff_id = 0;
  if (!self->wanted)
    return G_SOURCE_REMOVE;

  self->restarts++;
  if (!spawn (self, &error))
    {
      g_warning ("Could not restart the app: %s", error->message);
      set_state (self, RUNNER_APP_STATE_STOPPED);
      self->wanted = FALSE;
    }
  return G_SOURCE_REMOVE;
}

static void
clear_run (RunnerApp *self)
{
  g_clear_handle_id (&self->probe_id, g_source_remove);
  g_clear_handle_id (&self->kill_id, g_source_remove);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->process);
}

static void
exited_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(RunnerApp) self = user_data;
  GSubprocess *process = G_SUBPROCESS (object);
  gint64 ran_for;

  if (!g_subprocess_wait_finish (process, result, NULL) || process != self->process)
    return;

  self->last_status = g_subprocess_get_status (process);
  ran_for = g_get_monotonic_time () - self->started_at;

  /* Whatever it left behind in its session goes with it. */
  kill_group (self, SIGKILL);
  self->pid = 0;
  clear_run (self);

  if (self->restarting)
    {
      g_autoptr(GError) error = NULL;

      self->restarting = FALSE;
      self->wanted = TRUE;
      self->backoff_ms = 0;
      if (!spawn (self, &error))
        {
          g_warning ("Could not restart the app: %s", error->message);
          self->wanted = FALSE;
          set_state (self, RUNNER_APP_STATE_STOPPED);
        }
      return;
    }

  if (!self->wanted)
    {
      set_state (self, RUNNER_APP_STATE_STOPPED);
      return;
    }

  /* It died on its own: try again, waiting longer each time it dies fast. */
  if (ran_for > STABLE_AFTER_US)
    self->backoff_ms = BACKOFF_FIRST_MS;
  else
    self->backoff_ms = self->backoff_ms == 0 ? BACKOFF_FIRST_MS
                                             : MIN (self->backoff_ms * 2, BACKOFF_MAX_MS);
  g_message ("The app exited (status %d); restarting in %u ms", self->last_status,
             self->backoff_ms);
  set_state (self, RUNNER_APP_STATE_BACKOFF);
  self->backoff_id = g_timeout_add (self->backoff_ms, retry, self);
}

static void
child_setup (gpointer user_data)
{
  /* Its own session, so that stopping it ends everything it started. */
  setsid ();
  runner_user_child_setup (user_data);
}

static gboolean
spawn (RunnerApp  *self,
       GError    **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_auto(GStrv) env = runner_user_environ (self->config->user, runner_config_child_environ ());
  g_autofree char *port = g_strdup_printf ("%u", self->config->user_port);
  const char *argv[] = { "/bin/sh", "-c", self->config->app_command, NULL };
  const char * const *command = argv;
  g_auto(GStrv) wrapped = NULL;
  const char *root;
  const char *identifier;

  if (self->broadcaster == NULL)
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE, "Shutting down");
      return FALSE;
    }
  root = runner_workspace_get_root (self->workspace);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE |
                                        G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_subprocess_launcher_set_environ (launcher, env);
  g_subprocess_launcher_setenv (launcher, "PORT", port, TRUE);
  g_subprocess_launcher_setenv (launcher, "HOST", "0.0.0.0", TRUE);
  g_subprocess_launcher_set_cwd (launcher, root);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, self->config->user, NULL);

  if (self->config->sandbox == RUNNER_SANDBOX_BWRAP)
    {
      /* No terminal here: a new session inside too, against TIOCSTI. */
      RunnerSandboxOptions sandbox = { root, self->config->sandbox_network, TRUE };

      wrapped = runner_sandbox_wrap_argv (&sandbox, argv, error);
      if (wrapped == NULL)
        return FALSE;
      command = (const char * const *) wrapped;
    }

  self->process = g_subprocess_launcher_spawnv (launcher, command, error);
  if (self->process == NULL)
    return FALSE;

  /* NULL when it has already exited and been reaped. */
  identifier = g_subprocess_get_identifier (self->process);
  self->pid = identifier != NULL ? (pid_t) g_ascii_strtoll (identifier, NULL, 10) : 0;
  self->cancellable = g_cancellable_new ();
  self->started_at = g_get_monotonic_time ();
  start_reading (self, g_subprocess_get_stdout_pipe (self->process), "stdout");
  start_reading (self, g_subprocess_get_stderr_pipe (self->process), "stderr");
  g_subprocess_wait_async (self->process, NULL, exited_cb, g_object_ref (self));

  set_state (self, RUNNER_APP_STATE_STARTING);
  self->probe_id = g_timeout_add (PROBE_INTERVAL_MS / 3, probe, self);
  return TRUE;
}

/**
 * runner_app_start:
 *
 * Starts the app if it is not running (and not stopping).
 *
 * Returns: %FALSE with RUNNER_ERROR_UNAVAILABLE when no app command is set,
 *   RUNNER_ERROR_BUSY while it is stopping, or the spawn error
 */
gboolean
runner_app_start (RunnerApp  *self,
                  GError    **error)
{
  g_return_val_if_fail (RUNNER_IS_APP (self), FALSE);

  if (self->config->app_command == NULL || *self->config->app_command == '\0')
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE,
                           _("No app command is set (RUNNER_APP_COMMAND)"));
      return FALSE;
    }

  if (self->state == RUNNER_APP_STATE_STOPPING)
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_BUSY, _("The app is stopping"));
      return FALSE;
    }

  self->wanted = TRUE;
  if (self->state == RUNNER_APP_STATE_STARTING || self->state == RUNNER_APP_STATE_RUNNING)
    return TRUE;

  g_clear_handle_id (&self->backoff_id, g_source_remove);
  self->backoff_ms = 0;
  return spawn (self, error);
}

static gboolean
kill_now (gpointer user_data)
{
  RunnerApp *self = user_data;

  self->kill_id = 0;
  if (self->process != NULL)
    {
      g_message ("The app did not stop in %d ms; killing it", STOP_GRACE_MS);
      kill_group (self, SIGKILL);
    }
  return G_SOURCE_REMOVE;
}

/**
 * runner_app_stop:
 *
 * Sends SIGTERM to the app's process group, then SIGKILL after a grace.
 */
void
runner_app_stop (RunnerApp *self)
{
  g_return_if_fail (RUNNER_IS_APP (self));

  self->wanted = FALSE;
  self->restarting = FALSE;
  g_clear_handle_id (&self->backoff_id, g_source_remove);

  if (self->process == NULL)
    {
      set_state (self, RUNNER_APP_STATE_STOPPED);
      return;
    }
  if (self->state == RUNNER_APP_STATE_STOPPING)
    return;

  kill_group (self, SIGTERM);
  g_clear_handle_id (&self->probe_id, g_source_remove);
  self->kill_id = g_timeout_add (STOP_GRACE_MS, kill_now, self);
  set_state (self, RUNNER_APP_STATE_STOPPING);
}

/**
 * runner_app_restart:
 *
 * Stops the app if it runs, then starts it.
 */
gboolean
runner_app_restart (RunnerApp  *self,
                    GError    **error)
{
  g_return_val_if_fail (RUNNER_IS_APP (self), FALSE);

  if (self->config->app_command == NULL || *self->config->app_command == '\0')
    return runner_app_start (self, error);

  self->restarts++;
  if (self->process == NULL)
    {
      g_clear_handle_id (&self->backoff_id, g_source_remove);
      self->state = RUNNER_APP_STATE_STOPPED;
      return runner_app_start (self, error);
    }

  runner_app_stop (self);
  self->restarting = TRUE;
  return TRUE;
}

RunnerAppState
runner_app_get_state (RunnerApp *self)
{
  g_return_val_if_fail (RUNNER_IS_APP (self), RUNNER_APP_STATE_STOPPED);
  return self->state;
}

/**
 * runner_app_shutdown:
 *
 * Runner is exiting: SIGTERM to the app's group now, SIGKILL after a short
 * grace. The caller iterates the main loop until runner_app_is_running()
 * is false, so that Runner never leaves the app behind.
 */
void
runner_app_shutdown (RunnerApp *self)
{
  g_return_if_fail (RUNNER_IS_APP (self));

  self->wanted = FALSE;
  self->restarting = FALSE;
  g_clear_handle_id (&self->backoff_id, g_source_remove);
  if (self->process == NULL)
    return;

  kill_group (self, SIGTERM);
  g_clear_handle_id (&self->kill_id, g_source_remove);
  self->kill_id = g_timeout_add (STOP_GRACE_MS / 5, kill_now, self);
  set_state (self, RUNNER_APP_STATE_STOPPING);
}

/**
 * runner_app_is_running:
 *
 * Returns: whether the app's process has not yet been reaped
 */
gboolean
runner_app_is_running (RunnerApp *self)
{
  g_return_val_if_fail (RUNNER_IS_APP (self), FALSE);
  return self->process != NULL;
}

/* Events */

static void
reply_state (RunnerApp     *self,
             RunnerRequest *request)
{
  runner_request_reply (request, runner_app_to_json (self));
}

static void
handle_status (RunnerRequest *request,
               gpointer       user_data)
{
  reply_state (user_data, request);
}

static void
handle_start (RunnerRequest *request,
              gpointer       user_data)
{
  g_autoptr(GError) error = NULL;

  if (!runner_app_start (user_data, &error))
    runner_request_fail (request, error);
  else
    reply_state (user_data, request);
}

static void
handle_stop (RunnerRequest *request,
             gpointer       user_data)
{
  runner_app_stop (user_data);
  reply_state (user_data, request);
}

static void
handle_restart (RunnerRequest *request,
                gpointer       user_data)
{
  g_autoptr(GError) error = NULL;

  if (!runner_app_restart (user_data, &error))
    runner_request_fail (request, error);
  else
    reply_state (user_data, request);
}

static void
handle_logs (RunnerRequest *request,
             gpointer       user_data)
{
  RunnerApp *self = user_data;
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "data", self->log->str);
  runner_request_reply (request, json_node_init_object (json_node_alloc (), object));
  json_object_unref (object);
}

static void
runner_app_dispose (GObject *object)
{
  RunnerApp *self = RUNNER_APP (object);

  self->wanted = FALSE;
  g_clear_handle_id (&self->backoff_id, g_source_remove);
  kill_group (self, SIGKILL);
  clear_run (self);
  g_clear_weak_pointer (&self->broadcaster);
  g_clear_object (&self->workspace);

  G_OBJECT_CLASS (runner_app_parent_class)->dispose (object);
}

static void
runner_app_finalize (GObject *object)
{
  RunnerApp *self = RUNNER_APP (object);

  g_string_free (self->log, TRUE);

  G_OBJECT_CLASS (runner_app_parent_class)->finalize (object);
}

static void
runner_app_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  RunnerApp *self = RUNNER_APP (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
runner_app_class_init (RunnerAppClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = runner_app_dispose;
  object_class->finalize = runner_app_finalize;
  object_class->get_property = runner_app_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, RUNNER_TYPE_APP_STATE, RUNNER_APP_STATE_STOPPED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
runner_app_init (RunnerApp *self)
{
  self->log = g_string_new (NULL);
  self->last_status = -1;
}

static const RunnerEventEntry events[] = {
  { "app:status", handle_status, NULL, RUNNER_EVENT_FLAGS_NONE },
  { "app:start", handle_start, NULL, RUNNER_EVENT_FLAGS_NONE },
  { "app:stop", handle_stop, NULL, RUNNER_EVENT_FLAGS_NONE },
  { "app:restart", handle_restart, NULL, RUNNER_EVENT_FLAGS_NONE },
  { "app:logs", handle_logs, NULL, RUNNER_EVENT_FLAGS_NONE },
};

/**
 * runner_app_new:
 * @config: the app's command and port; must outlive the supervisor
 * @workspace: where the app runs
 * @broadcaster: the clients, told of its state and output
 * @registry: gets the app events
 *
 * Returns: (transfer full): the supervisor; the app is not started
 */
RunnerApp *
runner_app_new (RunnerConfig      *config,
                RunnerWorkspace   *workspace,
                RunnerBroadcaster *broadcaster,
                RunnerRegistry    *registry)
{
  RunnerApp *self;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (workspace), NULL);
  g_return_val_if_fail (RUNNER_IS_BROADCASTER (broadcaster), NULL);
  g_return_val_if_fail (RUNNER_IS_REGISTRY (registry), NULL);

  self = g_object_new (RUNNER_TYPE_APP, NULL);
  g_set_weak_pointer (&self->broadcaster, broadcaster);
  self->workspace = g_object_ref (workspace);
  self->config = config;
  runner_registry_add_events (registry, events, G_N_ELEMENTS (events), self);

  return self;
}
