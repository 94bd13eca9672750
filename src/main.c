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
#include "runner-daemon.h"
#if ENABLE_DBUS
#include "runner-status.h"
#endif
#include "runner-secrets.h"

typedef struct
{
  RunnerConfig *config;
  RunnerDaemon *daemon;
  GMainLoop    *loop;
} Runner;

static gboolean
on_quit_signal (gpointer user_data)
{
  Runner *runner = user_data;

  g_message ("Shutting down");
  runner_daemon_shutdown (runner->daemon);
  g_main_loop_quit (runner->loop);
  return G_SOURCE_CONTINUE;
}

static char *
display_url (Runner *runner)
{
  const char *host = runner->config->bind;
  guint port = runner_daemon_get_port (runner->daemon);

  if (g_str_equal (host, "0.0.0.0") || g_str_equal (host, "::"))
    host = "127.0.0.1";

  /* A token that was given is not printed: logs are read by others. */
  if (runner->config->no_auth || !runner->config->token_generated)
    return g_strdup_printf ("http://%s%s%s:%u/", strchr (host, ':') ? "[" : "", host,
                            strchr (host, ':') ? "]" : "", port);
  return g_strdup_printf ("http://%s%s%s:%u/?token=%s", strchr (host, ':') ? "[" : "", host,
                          strchr (host, ':') ? "]" : "", port, runner->config->token);
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

  raise_fd_limit ();
  runner.daemon = runner_daemon_new (config, &error);
  if (runner.daemon == NULL)
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return EXIT_FAILURE;
    }

  runner.loop = g_main_loop_new (NULL, FALSE);
  g_signal_connect_swapped (runner.daemon, "quit-requested", G_CALLBACK (on_quit_signal), &runner);
  if (!runner_daemon_start (runner.daemon, &error))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      g_clear_object (&runner.daemon);
      g_main_loop_unref (runner.loop);
      return EXIT_FAILURE;
    }
  g_unix_signal_add (SIGINT, on_quit_signal, &runner);
  g_unix_signal_add (SIGTERM, on_quit_signal, &runner);

  url = display_url (&runner);
  /* Tests and scripts read this line to learn the port. */
  g_print ("Runner listening on %s\n", url);
  g_print ("Workspace: %s\n", runner_workspace_get_root (runner_daemon_get_workspace (runner.daemon)));

  g_main_loop_run (runner.loop);

  runner_daemon_stop (runner.daemon);
  g_clear_object (&runner.daemon);
  /* Let closing connections finish before the process ends. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_main_loop_unref (runner.loop);
  return EXIT_SUCCESS;
}

int
main (int   argc,
      char *argv[],
      char *envp[])
{
  g_autoptr(RunnerConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  const char *command = "serve";

  runner_secrets_protect_process ();
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

  /* Read by now; no thread runs yet */
  runner_secrets_take_environ (envp);

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
