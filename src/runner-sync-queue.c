/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-sync"

#include "config.h"

#include "runner-sync-private.h"

#include <glib/gi18n.h>

#include "runner-beneath.h"
#include "runner-error.h"

/* The queue: one entry per dirty path, fed by the workspace's ::changed
 * signal; jobs for entries start oldest first, never two on overlapping
 * paths, and failures come back with back-off. Flush waits for it to empty. */

#define RETRY_BASE_MS         500
#define RETRY_CAP_MS          30000
#define JOURNAL_COMPACT_LINES 4096

void
runner_sync_entry_free (RunnerSyncEntry *entry)
{
  g_free (entry->path);
  g_free (entry->from);
  g_free (entry);
}

/* ---------------------------------------------------------------- jobs */

static void entry_job_done (RunnerSync      *self,
                            RunnerSyncEntry *entry,
                            const GError    *error);

typedef struct
{
  RunnerSync      *self;    /* owned */
  RunnerSyncEntry *entry;   /* stays alive while running */
  GPtrArray       *actions; /* filled by the plan, on its thread */
} Job;

static void
job_free (Job *job)
{
  g_object_unref (job->self);
  g_ptr_array_unref (job->actions);
  g_free (job);
}

static void
job_actions_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;

  runner_sync_run_batch_finish (job->self, result, &error);
  entry_job_done (job->self, job->entry, error);
  job_free (job);
}

static void
job_plan_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;

  if (!runner_s3_run_finish (RUNNER_S3 (source), result, &error))
    {
      entry_job_done (job->self, job->entry, error);
      job_free (job);
      return;
    }
  runner_sync_run_batch_async (job->self, job->actions, job->self->cancellable, job_actions_done, job);
}

static void
start_job (RunnerSync      *self,
           RunnerSyncEntry *entry)
{
  Job *job = g_new0 (Job, 1);
  RunnerSyncPlan *plan = runner_sync_plan_new (self, entry->path, entry->from);

  job->self = g_object_ref (self);
  job->entry = entry;
  job->actions = g_ptr_array_ref (plan->actions);
  entry->running_seq = entry->seq;
  self->in_flight++;
  g_hash_table_insert (self->running, entry->path, entry);
  g_debug ("Syncing “%s”%s%s", entry->path, entry->from != NULL ? " from " : "",
           entry->from != NULL ? entry->from : "");
  runner_s3_run_async (self->s3, runner_sync_plan_path, plan, (GDestroyNotify) runner_sync_plan_free,
                       self->cancellable, job_plan_done, job);
}

/* ---------------------------------------------------------------- queue */

/* Keeps self->sources (rename source -> how many entries copy from it). */
void
runner_sync_entry_set_from (RunnerSync      *self,
                            RunnerSyncEntry *entry,
                            const char      *from)
{
  if (entry->from != NULL)
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->sources, entry->from));

      if (n <= 1)
        g_hash_table_remove (self->sources, entry->from);
      else
        g_hash_table_insert (self->sources, g_strdup (entry->from), GUINT_TO_POINTER (n - 1));
    }
  g_free (entry->from);
  entry->from = g_strdup (from);
  if (from != NULL)
    g_hash_table_insert (self->sources, g_strdup (from),
                         GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (self->sources, from)) + 1));
}

void
runner_sync_entry_remove (RunnerSync      *self,
                          RunnerSyncEntry *entry)
{
  runner_sync_entry_set_from (self, entry, NULL);
  self->pending_bytes -= MIN (self->pending_bytes, (guint64) entry->bytes);
  if (entry->queued)
    g_queue_remove (&self->ready, entry);
  g_hash_table_remove (self->entries, entry->path);
}

static void
entry_enqueue (RunnerSync      *self,
               RunnerSyncEntry *entry)
{
  if (entry->queued || entry->running_seq != 0)
    return;
  entry->queued = TRUE;
  g_queue_push_tail (&self->ready, entry);
}

/* Whether @entry must wait: a running job touches an overlapping path, or
 * (when @prefer_order) a pending rename still wants to copy from it. */
static gboolean
entry_is_blocked (RunnerSync      *self,
                  RunnerSyncEntry *entry,
                  gboolean         prefer_order)
{
  GHashTableIter iter;
  RunnerSyncEntry *other;

  g_hash_table_iter_init (&iter, self->running);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &other))
    if (runner_sync_paths_overlap (entry->path, other->path) ||
        runner_sync_paths_overlap (entry->path, other->from) ||
        runner_sync_paths_overlap (entry->from, other->path))
      return TRUE;

  if (prefer_order && g_hash_table_size (self->sources) > 0)
    {
      const char *source;

      g_hash_table_iter_init (&iter, self->sources);
      while (g_hash_table_iter_next (&iter, (gpointer *) &source, NULL))
        if (runner_sync_paths_overlap (source, entry->path) &&
            (entry->from == NULL || !g_str_equal (entry->from, source) ||
             GPOINTER_TO_UINT (g_hash_table_lookup (self->sources, source)) > 1))
          return TRUE;
    }
  return FALSE;
}

static gboolean
retry_cb (gpointer user_data)
{
  RunnerSync *self = user_data;

  self->retry_source = 0;
  runner_sync_pump (self);
  return G_SOURCE_REMOVE;
}

/* Starts what may start: up to the client's parallelism, oldest first. */
void
runner_sync_pump (RunnerSync *self)
{
  guint parallel = runner_s3_get_parallel (self->s3);
  gint64 now = g_get_monotonic_time ();
  gint64 next = G_MAXINT64;

  if (!self->started || g_cancellable_is_cancelled (self->cancellable))
    return;

  /* first pass: renames before the removal of their source */
  for (guint pass = 0; pass < 2; pass++)
    {
      GList *l = self->ready.head;

      while (l != NULL && self->in_flight < parallel)
        {
          GList *next_link = l->next;
          RunnerSyncEntry *entry = l->data;

          if (entry->not_before > now)
            next = MIN (next, entry->not_before);
          else if (!entry_is_blocked (self, entry, pass == 0))
            {
              g_queue_delete_link (&self->ready, l);
              entry->queued = FALSE;
              start_job (self, entry);
            }
          l = next_link;
        }
    }

  g_clear_handle_id (&self->retry_source, g_source_remove);
  if (next != G_MAXINT64)
    self->retry_source = g_timeout_add ((guint) ((next - now) / 1000 + 1), retry_cb, self);
}

static gboolean
is_idle (RunnerSync *self)
{
  return g_hash_table_size (self->entries) == 0 && self->in_flight == 0;
}

static void
check_flush_waiters (RunnerSync *self)
{
  if (!is_idle (self) || self->flush_waiters->len == 0)
    return;
  while (self->flush_waiters->len > 0)
    {
      GTask *task = g_ptr_array_steal_index (self->flush_waiters, 0);
      guint *timeout_id = g_task_get_task_data (task);

      g_clear_handle_id (timeout_id, g_source_remove);
      runner_sync_journal_barrier (self, task);
    }
}

static void
entry_job_done (RunnerSync      *self,
                RunnerSyncEntry *entry,
                const GError    *error)
{
  self->in_flight--;
  g_hash_table_remove (self->running, entry->path);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* stopped: the journal keeps it for the next start */
      entry->running_seq = 0;
      runner_sync_update_state (self);
      return;
    }

  if (error != NULL)
    {
      guint delay;

      entry->failures++;
      delay = MIN (RETRY_CAP_MS, RETRY_BASE_MS << MIN (entry->failures - 1, 10));
      delay = delay / 2 + g_random_int_range (0, delay / 2 + 1);
      entry->not_before = g_get_monotonic_time () + (gint64) delay * 1000;
      g_message ("Sync of “%s” failed (attempt %u), again in %u ms: %s",
                 entry->path, entry->failures, delay, error->message);
      runner_sync_set_error (self, error);
      entry->running_seq = 0;
      entry_enqueue (self, entry);
    }
  else
    {
      GHashTableIter iter;
      RunnerSyncEntry *other;
      gboolean failing = FALSE;

      runner_sync_journal_append (self,
                                  runner_sync_journal_line (entry->path, NULL, entry->running_seq, TRUE));
      runner_sync_note_success (self);
      if (entry->seq > entry->running_seq)
        {
          /* changed again while it was sent */
          entry->running_seq = 0;
          entry->failures = 0;
          runner_sync_entry_set_from (self, entry, NULL);
          entry_enqueue (self, entry);
        }
      else
        runner_sync_entry_remove (self, entry);

      g_hash_table_iter_init (&iter, self->entries);
      while (!failing && g_hash_table_iter_next (&iter, NULL, (gpointer *) &other))
        failing = other->failures > 0;
      if (!failing)
        runner_sync_set_error (self, NULL);
    }

  if (is_idle (self))
    {
      self->journal_lines = 0;
      runner_sync_journal_push (self, RUNNER_SYNC_JOURNAL_TRUNCATE, NULL, NULL);
    }
  else if (self->journal_lines > MAX (JOURNAL_COMPACT_LINES, 2 * g_hash_table_size (self->entries)))
    {
      self->journal_lines = g_hash_table_size (self->entries);
      runner_sync_journal_push (self, RUNNER_SYNC_JOURNAL_REWRITE,
                                runner_sync_journal_snapshot (self), NULL);
    }

  runner_sync_update_state (self);
  runner_sync_pump (self);
  check_flush_waiters (self);
}

typedef struct
{
  RunnerSync *self;   /* owned */
  char       *path;
  guint64     seq;
} SizeQuery;

static void
size_query_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  SizeQuery *query = user_data;
  g_autoptr(GFileInfo) info = g_file_query_info_finish (G_FILE (source), result, NULL);
  RunnerSync *self = query->self;
  RunnerSyncEntry *entry = g_hash_table_lookup (self->entries, query->path);

  if (entry != NULL && entry->seq == query->seq)
    {
      gint64 size = info != NULL && g_file_info_get_file_type (info) == G_FILE_TYPE_REGULAR
                    ? g_file_info_get_size (info) : 0;

      self->pending_bytes -= MIN (self->pending_bytes, (guint64) entry->bytes);
      entry->bytes = size;
      self->pending_bytes += size;
      runner_sync_update_state (self);
    }
  g_object_unref (query->self);
  g_free (query->path);
  g_free (query);
}

static void
add_change (RunnerSync *self,
            const char *path,
            const char *from)
{
  RunnerSyncEntry *entry;

  if (path[0] != '\0' && runner_sync_is_excluded (self, path))
    return;

  entry = g_hash_table_lookup (self->entries, path);
  if (entry == NULL)
    {
      entry = g_new0 (RunnerSyncEntry, 1);
      entry->path = g_strdup (path);
      g_hash_table_insert (self->entries, entry->path, entry);
    }
  entry->seq = ++self->next_seq;
  if (from != NULL)
    runner_sync_entry_set_from (self, entry, from);
  entry->failures = 0;
  entry->not_before = 0;
  runner_sync_journal_append (self, runner_sync_journal_line (path, from, entry->seq, FALSE));
  entry_enqueue (self, entry);

  {
    SizeQuery *query = g_new0 (SizeQuery, 1);
    g_autoptr(GFile) file = g_file_new_build_filename (self->root, path, NULL);

    query->self = g_object_ref (self);
    query->path = g_strdup (path);
    query->seq = entry->seq;
    g_file_query_info_async (file, G_FILE_ATTRIBUTE_STANDARD_SIZE "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                             G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, G_PRIORITY_LOW,
                             self->cancellable, size_query_done, query);
  }
}

/**
 * runner_sync_queue:
 * @self: a #RunnerSync
 * @kind: what happened
 * @path: the path (relative to the workspace, `/workspace/...`, or absolute
 *   under the root)
 * @other_path: (nullable): the new path of a rename
 *
 * Records a change in the journal and queues its upload. What the
 * workspace's ::changed signal reports comes here.
 */
void
runner_sync_queue (RunnerSync            *self,
                   RunnerWorkspaceChange  kind,
                   const char            *path,
                   const char            *other_path)
{
  g_autofree char *rel = NULL;

  g_return_if_fail (RUNNER_IS_SYNC (self));
  g_return_if_fail (path != NULL);
  g_return_if_fail (self->started);

  rel = runner_beneath_normalize (path, -1, self->root, NULL);
  if (rel == NULL)
    {
      g_debug ("Not syncing a path outside the workspace: %s", path);
      return;
    }

  if (kind == RUNNER_WORKSPACE_CHANGE_RENAMED)
    {
      g_autofree char *to = other_path != NULL
                            ? runner_beneath_normalize (other_path, -1, self->root, NULL)
                            : NULL;

      if (to != NULL)
        add_change (self, to, rel[0] != '\0' && !runner_sync_is_excluded (self, rel) ? rel : NULL);
    }
  add_change (self, rel, NULL);
  runner_sync_update_state (self);
  runner_sync_pump (self);
}

static void
workspace_changed_cb (RunnerWorkspace       *workspace,
                      const char            *path,
                      RunnerWorkspaceChange  kind,
                      const char            *other_path,
                      RunnerSync            *self)
{
  runner_sync_queue (self, kind, path, other_path);
}

/**
 * runner_sync_watch:
 * @self: a started #RunnerSync
 * @workspace: the workspace whose ::changed signal feeds the queue
 */
void
runner_sync_watch (RunnerSync      *self,
                   RunnerWorkspace *workspace)
{
  g_return_if_fail (RUNNER_IS_SYNC (self));
  g_return_if_fail (RUNNER_IS_WORKSPACE (workspace));

  if (self->workspace != NULL)
    g_clear_signal_handler (&self->changed_id, self->workspace);
  g_set_object (&self->workspace, workspace);
  self->changed_id = g_signal_connect (workspace, "changed", G_CALLBACK (workspace_changed_cb), self);
}

/* ---------------------------------------------------------------- flush */

static gboolean
flush_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  RunnerSync *self = g_task_get_source_object (task);
  guint *timeout_id = g_task_get_task_data (task);

  *timeout_id = 0;
  g_ptr_array_remove (self->flush_waiters, task);
  g_task_return_new_error (task, RUNNER_ERROR, RUNNER_ERROR_BUSY,
                           g_dngettext (GETTEXT_PACKAGE,
                                        "%u change not uploaded yet; it stays in the journal",
                                        "%u changes not uploaded yet; they stay in the journal",
                                        g_hash_table_size (self->entries)),
                           g_hash_table_size (self->entries));
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

/**
 * runner_sync_flush_async:
 * @self: a #RunnerSync
 * @timeout_ms: how long to wait at most
 *
 * Sends what is pending now (skipping back-off waits) and completes when the
 * queue is empty and the journal is on disk, or fails with
 * RUNNER_ERROR_BUSY after @timeout_ms; what is left stays in the journal for
 * the next start. For shutdown (SIGTERM).
 */
void
runner_sync_flush_async (RunnerSync          *self,
                         guint                timeout_ms,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  GTask *task;
  guint *timeout_id;

  g_return_if_fail (RUNNER_IS_SYNC (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, runner_sync_flush_async);
  timeout_id = g_new0 (guint, 1);
  g_task_set_task_data (task, timeout_id, g_free);

  if (!self->started || is_idle (self))
    {
      if (self->started)
        runner_sync_journal_barrier (self, task);
      else
        {
          g_task_return_boolean (task, TRUE);
          g_object_unref (task);
        }
      return;
    }

  for (GList *l = self->ready.head; l != NULL; l = l->next)
    ((RunnerSyncEntry *) l->data)->not_before = 0;
  *timeout_id = g_timeout_add (timeout_ms, flush_timeout_cb, task);
  g_ptr_array_add (self->flush_waiters, task);
  runner_sync_pump (self);
}

gboolean
runner_sync_flush_finish (RunnerSync    *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
