/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner"

#include "config.h"

#include "runner-daemon.h"
#include "runner-auth.h"
#if ENABLE_DBUS
#include "runner-dbus.h"
#endif
#include "runner-files.h"
#include "runner-server.h"

/* The one place that builds Runner: config → workspace → registry → hub →
 * auth → features → transports → D-Bus. Each part gets what it needs and
 * never reaches back; the daemon starts them in order and stops them in
 * order. */

struct _RunnerDaemon
{
  GObject                parent_instance;
  RunnerConfig          *config;     /* unowned: outlives the daemon */
  RunnerSync            *sync;       /* owned, nullable: without a bucket */
  RunnerWorkspace       *workspace;  /* owned */
  RunnerRegistry        *registry;   /* owned */
  RunnerHub             *hub;        /* owned */
  RunnerAuth            *auth;       /* owned */
  RunnerFiles           *files;      /* owned */
  RunnerApp             *app;        /* owned */
  RunnerTerminalManager *terminals;  /* owned */
  RunnerServer          *server;     /* owned */
  GObject               *dbus;       /* owned, nullable: RunnerDbus once started */
};

G_DEFINE_FINAL_TYPE (RunnerDaemon, runner_daemon, G_TYPE_OBJECT)

enum {
  QUIT_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
runner_daemon_dispose (GObject *object)
{
  RunnerDaemon *self = RUNNER_DAEMON (object);

  /* Transports first: no request reaches a feature that is going away. */
  g_clear_object (&self->dbus);
  g_clear_object (&self->server);
  g_clear_object (&self->sync);
  g_clear_object (&self->terminals);
  g_clear_object (&self->app);
  g_clear_object (&self->files);
  g_clear_object (&self->auth);
  g_clear_object (&self->hub);
  g_clear_object (&self->registry);
  g_clear_object (&self->workspace);

  G_OBJECT_CLASS (runner_daemon_parent_class)->dispose (object);
}

static void
runner_daemon_class_init (RunnerDaemonClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = runner_daemon_dispose;

  /**
   * RunnerDaemon::quit-requested:
   *
   * Someone on D-Bus asked Runner to quit (or the bus that started it left).
   */
  signals[QUIT_REQUESTED] =
    g_signal_new ("quit-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
}

static void
runner_daemon_init (RunnerDaemon *self)
{
}

/**
 * runner_daemon_new:
 * @config: the configuration; must outlive the daemon
 *
 * Builds every part for @config; nothing listens and nothing runs until
 * runner_daemon_start().
 *
 * Returns: (transfer full) (nullable): the daemon, or %NULL with @error when
 *   the workspace or the S3 sync cannot be set up
 */
RunnerDaemon *
runner_daemon_new (RunnerConfig  *config,
                   GError       **error)
{
  g_autoptr(RunnerDaemon) self = NULL;
  RunnerBroadcaster *broadcaster;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (RUNNER_TYPE_DAEMON, NULL);
  self->config = config;

  if (config->s3_bucket != NULL && config->s3_bucket[0] != '\0')
    {
      self->sync = runner_sync_new (config, error);
      if (self->sync == NULL)
        {
          g_prefix_error (error, "S3 sync: ");
          return NULL;
        }
    }

  self->workspace = runner_workspace_new (config->workspace, error);
  if (self->workspace == NULL)
    return NULL;
  runner_workspace_set_excluded (self->workspace, (const char * const *) config->excluded);
  runner_workspace_set_max_file_size (self->workspace, config->max_file_size);
  runner_workspace_set_max_entries (self->workspace, config->max_entries);
  /* A tree pushed as file:refresh and again in the reply's ack stays within
   * half of what a client may have queued. */
  runner_workspace_set_max_tree_bytes (self->workspace, config->max_queued / 4);

  self->registry = runner_registry_new ();
  self->hub = runner_hub_new (config, self->registry);
  self->auth = runner_auth_new (config);
  broadcaster = RUNNER_BROADCASTER (self->hub);

  self->files = runner_files_new (self->workspace, broadcaster, self->registry);
  self->app = runner_app_new (config, self->workspace, broadcaster, self->registry);
  self->terminals = runner_terminal_manager_new (config, self->workspace, broadcaster,
                                                 self->registry);
  if (self->sync != NULL)
    runner_sync_attach (self->sync, broadcaster, self->registry);
  else
    runner_sync_add_unavailable (self->registry);

  self->server = runner_server_new (config, self->registry, self->hub, self->auth);

  return g_steal_pointer (&self);
}

static void
on_async_result (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* With a bucket: restore an empty workspace from S3 before serving it,
 * replay the journal of an earlier run, and keep S3 current from then on. */
static gboolean
start_sync (RunnerDaemon  *self,
            GError       **error)
{
  if (self->sync == NULL)
    return TRUE;

  if (runner_sync_workspace_is_empty (self->config->workspace))
    {
      g_autoptr(GAsyncResult) result = NULL;
      guint n_files = 0;

      g_print ("Restoring the workspace from s3://%s/%s\n", self->config->s3_bucket,
               runner_sync_get_prefix (self->sync));
      runner_sync_down_async (self->sync, NULL, on_async_result, &result);
      while (result == NULL)
        g_main_context_iteration (NULL, TRUE);
      if (!runner_sync_down_finish (self->sync, result, &n_files, error))
        return FALSE;
      g_print ("Restored %u files\n", n_files);
    }

  return runner_sync_start (self->sync, error);
}

static void
on_temp_cleaned (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  int removed = runner_workspace_clean_temp_finish (RUNNER_WORKSPACE (object), result, &error);

  if (removed < 0)
    g_warning ("Could not look for stale temporary files: %s", error->message);
  else if (removed > 0)
    g_message ("Removed %d stale temporary file(s) from the workspace", removed);
}

#if ENABLE_DBUS
static void
on_dbus_quit (RunnerDaemon *self)
{
  g_signal_emit (self, signals[QUIT_REQUESTED], 0);
}
#endif

/**
 * runner_daemon_start:
 *
 * Restores the workspace from S3 when it is empty, starts the sync, watches
 * the workspace, listens, takes the D-Bus name and starts the app. Runs the
 * default main context while it restores.
 *
 * Returns: %FALSE with @error when the sync or listening fails (an app that
 *   does not start is only a warning)
 */
gboolean
runner_daemon_start (RunnerDaemon  *self,
                     GError       **error)
{
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (RUNNER_IS_DAEMON (self), FALSE);

  if (!start_sync (self, error))
    {
      g_prefix_error (error, "S3 sync: ");
      return FALSE;
    }

  if (!runner_workspace_start_watching (self->workspace, &local_error))
    {
      g_warning ("Not watching the workspace for changes: %s", local_error->message);
      g_clear_error (&local_error);
    }
  /* What writes cut short by a crash left behind */
  runner_workspace_clean_temp_async (self->workspace, NULL, on_temp_cleaned, NULL);
  if (self->sync != NULL)
    runner_sync_watch (self->sync, self->workspace);

  if (!runner_server_listen (self->server, error))
    return FALSE;

#if ENABLE_DBUS
  self->dbus = G_OBJECT (runner_dbus_new (self->config, self->workspace, self->hub,
                                          self->terminals, runner_server_get_port (self->server)));
  runner_dbus_set_sync (RUNNER_DBUS (self->dbus), self->sync);
  g_signal_connect_swapped (self->dbus, "quit-requested", G_CALLBACK (on_dbus_quit), self);
  runner_dbus_start (RUNNER_DBUS (self->dbus), self->config->dbus);
#endif

  if (self->config->app_command != NULL && *self->config->app_command != '\0' &&
      !runner_app_start (self->app, &local_error))
    g_warning ("Could not start the app: %s", local_error->message);

  return TRUE;
}

/**
 * runner_daemon_shutdown:
 *
 * Stops listening, closes every client and signals the app and the
 * terminals. Idempotent; returns at once.
 */
void
runner_daemon_shutdown (RunnerDaemon *self)
{
  g_return_if_fail (RUNNER_IS_DAEMON (self));

  runner_server_shutdown (self->server);
  runner_app_shutdown (self->app);
  runner_terminal_manager_shutdown (self->terminals);
}

static gboolean
on_give_up (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* After shutdown: the children were signalled; reap them before exiting
 * (bounded: they get SIGKILL after a grace anyway). */
static void
wait_for_children (RunnerDaemon *self)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (5, on_give_up, &timed_out);

  while (!timed_out && (runner_app_is_running (self->app) ||
                        runner_terminal_manager_get_n_running (self->terminals) > 0))
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
}

/* What is still pending goes up, within a bound; the rest stays in the
 * journal for the next start. */
static void
flush_sync (RunnerDaemon *self)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  if (self->sync == NULL)
    return;
  runner_sync_flush_async (self->sync, RUNNER_SYNC_DEFAULT_FLUSH_TIMEOUT_MS, NULL,
                           on_async_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (!runner_sync_flush_finish (self->sync, result, &error))
    g_warning ("S3 sync not flushed: %s", error->message);
  runner_sync_stop (self->sync);
}

/**
 * runner_daemon_stop:
 *
 * The orderly stop: runner_daemon_shutdown(), then the S3 sync flushed
 * (bounded), the children reaped (bounded), and the D-Bus name released
 * last: while it is held, the bus starts no second Runner. Runs the default
 * main context meanwhile.
 */
void
runner_daemon_stop (RunnerDaemon *self)
{
  g_return_if_fail (RUNNER_IS_DAEMON (self));

  runner_daemon_shutdown (self);
  flush_sync (self);
  wait_for_children (self);
#if ENABLE_DBUS
  if (self->dbus != NULL)
    runner_dbus_stop (RUNNER_DBUS (self->dbus));
#endif
}

guint
runner_daemon_get_port (RunnerDaemon *self)
{
  g_return_val_if_fail (RUNNER_IS_DAEMON (self), 0);
  return runner_server_get_port (self->server);
}

/**
 * runner_daemon_get_workspace:
 *
 * Returns: (transfer none): the workspace
 */
RunnerWorkspace *
runner_daemon_get_workspace (RunnerDaemon *self)
{
  g_return_val_if_fail (RUNNER_IS_DAEMON (self), NULL);
  return self->workspace;
}

/**
 * runner_daemon_get_registry:
 *
 * Returns: (transfer none): every event and route
 */
RunnerRegistry *
runner_daemon_get_registry (RunnerDaemon *self)
{
  g_return_val_if_fail (RUNNER_IS_DAEMON (self), NULL);
  return self->registry;
}

/**
 * runner_daemon_get_hub:
 *
 * Returns: (transfer none): the connected clients
 */
RunnerHub *
runner_daemon_get_hub (RunnerDaemon *self)
{
  g_return_val_if_fail (RUNNER_IS_DAEMON (self), NULL);
  return self->hub;
}

/**
 * runner_daemon_get_app:
 *
 * Returns: (transfer none): the supervisor of the user's app
 */
RunnerApp *
runner_daemon_get_app (RunnerDaemon *self)
{
  g_return_val_if_fail (RUNNER_IS_DAEMON (self), NULL);
  return self->app;
}

/**
 * runner_daemon_get_terminals:
 *
 * Returns: (transfer none): the terminals
 */
RunnerTerminalManager *
runner_daemon_get_terminals (RunnerDaemon *self)
{
  g_return_val_if_fail (RUNNER_IS_DAEMON (self), NULL);
  return self->terminals;
}

/**
 * runner_daemon_get_sync:
 *
 * Returns: (transfer none) (nullable): the S3 sync, without a bucket %NULL
 */
RunnerSync *
runner_daemon_get_sync (RunnerDaemon *self)
{
  g_return_val_if_fail (RUNNER_IS_DAEMON (self), NULL);
  return self->sync;
}
