/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-sync"

#include "config.h"

#include "runner-sync-private.h"

#include <signal.h>

#include <glib-unix.h>
#include <glib/gi18n.h>

/* The `sync-down` and `sync-up` subcommands, and whether a workspace is
 * empty (`serve` restores it from S3 then). */

/**
 * runner_sync_workspace_is_empty:
 * @root: a directory
 *
 * Whether @root is missing or holds nothing (hidden state directories such
 * as `.runner-state` and `lost+found` do not count): `serve` restores the
 * workspace from S3 then.
 */
gboolean
runner_sync_workspace_is_empty (const char *root)
{
  g_autoptr(GDir) dir = g_dir_open (root, 0, NULL);
  const char *name;

  if (dir == NULL)
    return TRUE;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (!g_str_equal (name, ".runner-state") && !g_str_equal (name, "lost+found"))
      return FALSE;
  return TRUE;
}

/* ---------------------------------------------------------------- commands */

typedef struct
{
  GMainLoop *loop;
  gboolean   ok;
  guint      n_files;
  GError    *error;
} CommandRun;

static void
command_down_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  CommandRun *run = user_data;

  run->ok = runner_sync_down_finish (RUNNER_SYNC (source), result, &run->n_files, &run->error);
  g_main_loop_quit (run->loop);
}

static void
command_up_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  CommandRun *run = user_data;

  run->ok = runner_sync_up_finish (RUNNER_SYNC (source), result, &run->n_files, &run->error);
  g_main_loop_quit (run->loop);
}

static gboolean
command_cancel (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_CONTINUE;
}

static int
run_command (RunnerConfig *config,
             gboolean      down)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RunnerSync) self = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  CommandRun run = { loop, FALSE, 0, NULL };
  const char *name = down ? "sync-down" : "sync-up";
  guint term_id, int_id;
  gint64 start = g_get_monotonic_time ();

  if (config->s3_off)
    {
      g_printerr (_("%s: S3 sync is off (RUNNER_S3=off): nothing to do\n"), name);
      return 0;
    }
  if (config->s3_bucket == NULL || config->s3_bucket[0] == '\0')
    {
      g_printerr (_("%s: no S3 bucket (S3_BUCKET); set RUNNER_S3=off if none is intended\n"),
                  name);
      return 1;
    }
  self = runner_sync_new (config, &error);
  if (self == NULL)
    {
      g_printerr ("%s: %s\n", name, error->message);
      return 1;
    }

  term_id = g_unix_signal_add (SIGTERM, command_cancel, cancellable);
  int_id = g_unix_signal_add (SIGINT, command_cancel, cancellable);
  if (down)
    runner_sync_down_async (self, cancellable, command_down_done, &run);
  else
    runner_sync_up_async (self, cancellable, command_up_done, &run);
  g_main_loop_run (loop);
  g_source_remove (term_id);
  g_source_remove (int_id);

  if (!run.ok)
    {
      g_printerr (_("%s: s3://%s/%s: %s\n"), name, config->s3_bucket, self->prefix, run.error->message);
      g_clear_error (&run.error);
      return 1;
    }
  g_print (down ? _("%s: %u files from s3://%s/%s into %s in %.1f s\n")
                : _("%s: %u changes to s3://%s/%s from %s in %.1f s\n"),
           name, run.n_files, config->s3_bucket, self->prefix, self->root,
           (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
  return 0;
}

/**
 * runner_sync_main_down:
 * @config: the configuration
 *
 * `runner sync-down`: restores the workspace from S3 (for an initContainer).
 *
 * Returns: the exit status: 0 only if every object arrived
 */
int
runner_sync_main_down (RunnerConfig *config)
{
  g_return_val_if_fail (config != NULL, 2);
  return run_command (config, TRUE);
}

/**
 * runner_sync_main_up:
 * @config: the configuration
 *
 * `runner sync-up`: makes S3 match the workspace, deletions included.
 *
 * Returns: the exit status: 0 only if everything landed
 */
int
runner_sync_main_up (RunnerConfig *config)
{
  g_return_val_if_fail (config != NULL, 2);
  return run_command (config, FALSE);
}
