/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner"

#include "config.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <glib/gi18n.h>
#include <glib-unix.h>

#include "runner-config.h"
#if ENABLE_DBUS
#include "runner-dbus.h"
#include "runner-status.h"
#endif
#include "runner-server.h"
#include "runner-sync.h"
#include "runner-terminal-manager.h"
#include "runner-workspace.h"

typedef struct
{
  RunnerConfig    *config;
  RunnerWorkspace *workspace;
  RunnerServer    *server;
  GObject         *dbus;
  RunnerSync      *sync;
  GMainLoop       *loop;
  int              exit_code;
} Runner;

static gboolean
on_quit_signal (gpointer user_data)
{
  Runner *runner = user_data;

  g_message ("Shutting down");
  runner_server_shutdown (runner->server);
  g_main_loop_quit (runner->loop);
  return G_SOURCE_CONTINUE;
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
wait_for_children (Runner *runner)
{
  RunnerApp *app = runner_server_get_app (runner->server);
  RunnerTerminalManager *terminals = runner_server_get_terminals (runner->server);
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (5, on_give_up, &timed_out);

  while (!timed_out && (runner_app_is_running (app) ||
                        runner_terminal_manager_get_n_running (terminals) > 0))
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
}

static void
on_sync_result (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* With a bucket: restore an empty workspace from S3 before serving it,
 * replay the journal of an earlier run, and keep S3 current from then on. */
static gboolean
start_sync (Runner  *runner,
            GError **error)
{
  RunnerConfig *config = runner->config;

  if (config->s3_bucket == NULL || config->s3_bucket[0] == '\0')
    return TRUE;

  runner->sync = runner_sync_new (config, error);
  if (runner->sync == NULL)
    return FALSE;

  if (runner_sync_workspace_is_empty (config->workspace))
    {
      g_autoptr(GAsyncResult) result = NULL;
      guint n_files = 0;

      g_print ("Restoring the workspace from s3://%s/%s\n", config->s3_bucket,
               runner_sync_get_prefix (runner->sync));
      runner_sync_down_async (runner->sync, NULL, on_sync_result, &result);
      while (result == NULL)
        g_main_context_iteration (NULL, TRUE);
      if (!runner_sync_down_finish (runner->sync, result, &n_files, error))
        return FALSE;
      g_print ("Restored %u files\n", n_files);
    }

  return runner_sync_start (runner->sync, error);
}

/* On SIGTERM: what is still pending goes up, within a bound; the rest stays
 * in the journal for the next start. */
static void
flush_sync (Runner *runner)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  if (runner->sync == NULL)
    return;
  runner_sync_flush_async (runner->sync, RUNNER_SYNC_DEFAULT_FLUSH_TIMEOUT_MS, NULL,
                           on_sync_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (!runner_sync_flush_finish (runner->sync, result, &error))
    g_warning ("S3 sync not flushed: %s", error->message);
  runner_sync_stop (runner->sync);
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

static char *
display_url (Runner *runner)
{
  const char *host = runner->config->bind;

  if (g_str_equal (host, "0.0.0.0") || g_str_equal (host, "::"))
    host = "127.0.0.1";

  if (runner->config->no_auth)
    return g_strdup_printf ("http://%s%s%s:%u/", strchr (host, ':') ? "[" : "", host,
                            strchr (host, ':') ? "]" : "", runner_server_get_port (runner->server));
  return g_strdup_printf ("http://%s%s%s:%u/?token=%s", strchr (host, ':') ? "[" : "", host,
                          strchr (host, ':') ? "]" : "", runner_server_get_port (runner->server),
                          runner->config->token);
}

/* Every connection costs a descriptor: take what the hard limit allows (the
 * soft one is often 1024) before the server sizes its connection cap on it. */
static void
raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max)
    return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
    g_warning ("Could not raise the open files limit: %s", g_strerror (errno));
}

static int
serve (RunnerConfig *config)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  Runner runner = { .config = config };

  if (!start_sync (&runner, &error))
    {
      g_printerr ("%s: S3 sync: %s\n", g_get_prgname (), error->message);
      g_clear_object (&runner.sync);
      return EXIT_FAILURE;
    }

  runner.workspace = runner_workspace_new (config->workspace, &error);
  if (runner.workspace == NULL)
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return EXIT_FAILURE;
    }
  runner_workspace_set_excluded (runner.workspace, (const char * const *) config->excluded);
  runner_workspace_set_max_file_size (runner.workspace, config->max_file_size);
  runner_workspace_set_max_entries (runner.workspace, config->max_entries);
  /* A tree pushed as file:refresh and again in the reply's ack stays within
   * half of what a client may have queued. */
  runner_workspace_set_max_tree_bytes (runner.workspace, config->max_queued / 4);
  if (!runner_workspace_start_watching (runner.workspace, &error))
    {
      g_warning ("Not watching the workspace for changes: %s", error->message);
      g_clear_error (&error);
    }
  /* What writes cut short by a crash left behind */
  runner_workspace_clean_temp_async (runner.workspace, NULL, on_temp_cleaned, NULL);

  raise_fd_limit ();
  runner.server = runner_server_new (config, runner.workspace);
  if (runner.sync != NULL)
    {
      runner_sync_watch (runner.sync, runner.workspace);
      runner_sync_attach (runner.sync, runner.server);
    }
  else
    runner_sync_attach_off (runner.server);
  if (!runner_server_listen (runner.server, &error))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      g_clear_object (&runner.sync);
      g_object_unref (runner.server);
      g_object_unref (runner.workspace);
      return EXIT_FAILURE;
    }

  runner.loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_quit_signal, &runner);
  g_unix_signal_add (SIGTERM, on_quit_signal, &runner);
#if ENABLE_DBUS
  runner.dbus = G_OBJECT (runner_dbus_new (runner.server,
                                           runner_server_get_terminals (runner.server)));
  runner_dbus_set_sync (RUNNER_DBUS (runner.dbus), runner.sync);
  g_signal_connect_swapped (runner.dbus, "quit-requested", G_CALLBACK (on_quit_signal), &runner);
  runner_dbus_start (RUNNER_DBUS (runner.dbus), config->dbus);
#endif

  if (config->app_command != NULL && *config->app_command != '\0' &&
      !runner_app_start (runner_server_get_app (runner.server), &error))
    {
      g_warning ("Could not start the app: %s", error->message);
      g_clear_error (&error);
    }

  url = display_url (&runner);
  /* Tests and scripts read this line to learn the port. */
  g_print ("Runner listening on %s\n", url);
  g_print ("Workspace: %s\n", runner_workspace_get_root (runner.workspace));

  g_main_loop_run (runner.loop);

  runner_server_shutdown (runner.server);
  flush_sync (&runner);
  wait_for_children (&runner);
  /* The name goes last: while it is held, the bus starts no second Runner. */
#if ENABLE_DBUS
  runner_dbus_stop (RUNNER_DBUS (runner.dbus));
#endif
  g_clear_object (&runner.dbus);
  g_clear_object (&runner.sync);
  g_clear_object (&runner.server);
  g_clear_object (&runner.workspace);
  /* Let closing connections finish before the process ends. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_main_loop_unref (runner.loop);
  return runner.exit_code;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(RunnerConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  const char *command = "serve";

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("runner");

  /* stdout is read by scripts: one line at a time, whatever it is. */
  setvbuf (stdout, NULL, _IOLBF, 0);

  if (argc > 1 && argv[1][0] != '-')
    {
      command = argv[1];
      argv[1] = argv[0];
      argv++;
      argc--;
    }

  config = runner_config_new_defaults ();
#if ENABLE_DBUS
  if (g_str_equal (command, "status"))
    return runner_status_main (config, argc, argv);
#endif
  if (!runner_config_load (config, &argc, &argv, &error))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return EXIT_FAILURE;
    }

  if (config->verbose)
    g_log_set_debug_enabled (TRUE);

  if (g_str_equal (command, "serve"))
    return serve (config);
  if (g_str_equal (command, "sync-down"))
    return runner_sync_main_down (config);
  if (g_str_equal (command, "sync-up"))
    return runner_sync_main_up (config);

  g_printerr (_("%s: unknown command “%s” (serve, sync-down, sync-up, status)\n"),
              g_get_prgname (), command);
  return EXIT_FAILURE;
}
