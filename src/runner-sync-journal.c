/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-sync"

#include "config.h"

#include "runner-sync-private.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <glib/gi18n.h>

/* The journal: one JSON line per mark and one per completion, written in
 * order by one thread and made durable once per burst; replayed at start,
 * rewritten compact when it grows, truncated when all is done. */

typedef struct
{
  RunnerSyncJournalOpKind  kind;
  char                    *text;
  GTask                   *task;
} JournalOp;

void
runner_sync_journal_run (gpointer data,
                         gpointer user_data)
{
  JournalOp *op = data;
  RunnerSync *self = user_data;
  g_autoptr(GError) error = NULL;

  switch (op->kind)
    {
    case RUNNER_SYNC_JOURNAL_APPEND:
      if (self->journal_fd >= 0)
        {
          gsize len = strlen (op->text), done = 0;

          while (done < len)
            {
              ssize_t n = write (self->journal_fd, op->text + done, len - done);

              if (n < 0 && errno == EINTR)
                continue;
              if (n < 0)
                {
                  g_warning ("Cannot write the sync journal %s: %s", self->journal_path, g_strerror (errno));
                  break;
                }
              done += n;
            }
        }
      break;
    case RUNNER_SYNC_JOURNAL_TRUNCATE:
      if (self->journal_fd >= 0 && ftruncate (self->journal_fd, 0) != 0)
        g_warning ("Cannot truncate the sync journal %s: %s", self->journal_path, g_strerror (errno));
      break;
    case RUNNER_SYNC_JOURNAL_REWRITE:
      if (!g_file_set_contents_full (self->journal_path, op->text, -1,
                                     G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
        g_warning ("Cannot rewrite the sync journal: %s", error->message);
      else
        {
          int fd = open (self->journal_path, O_WRONLY | O_APPEND | O_CLOEXEC);

          if (fd >= 0)
            {
              if (self->journal_fd >= 0)
                close (self->journal_fd);
              self->journal_fd = fd;
            }
        }
      break;
    case RUNNER_SYNC_JOURNAL_BARRIER:
      break;
    default:
      g_assert_not_reached ();
    }

  /* durable once the burst is written: one fdatasync per burst (counted
   * here, not asked of the pool, which may already be stopping) */
  if (g_atomic_int_dec_and_test (&self->journal_queued) && self->journal_fd >= 0)
    fdatasync (self->journal_fd);
  if (op->task != NULL)
    {
      g_task_return_boolean (op->task, TRUE);
      g_object_unref (op->task);
    }
  g_free (op->text);
  g_free (op);
}

void
runner_sync_journal_push (RunnerSync              *self,
                          RunnerSyncJournalOpKind  kind,
                          char                    *text,
                          GTask                   *task)
{
  JournalOp *op = g_new0 (JournalOp, 1);

  op->kind = kind;
  op->text = text;
  op->task = task;
  g_atomic_int_inc (&self->journal_queued);
  g_thread_pool_push (self->journal_pool, op, NULL);
}

char *
runner_sync_journal_line (const char *path,
                          const char *from,
                          guint64     seq,
                          gboolean    done)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, done ? "done" : "path");
  json_builder_add_string_value (builder, path);
  if (from != NULL)
    {
      json_builder_set_member_name (builder, "from");
      json_builder_add_string_value (builder, from);
    }
  json_builder_set_member_name (builder, "seq");
  json_builder_add_int_value (builder, (gint64) seq);
  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  return g_strconcat (text, "\n", NULL);
}

char *
runner_sync_journal_snapshot (RunnerSync *self)
{
  GString *text = g_string_new (NULL);

  for (GList *l = self->ready.head; l != NULL; l = l->next)
    {
      RunnerSyncEntry *entry = l->data;
      g_autofree char *line = runner_sync_journal_line (entry->path, entry->from, entry->seq, FALSE);

      g_string_append (text, line);
    }
  {
    GHashTableIter iter;
    RunnerSyncEntry *entry;

    g_hash_table_iter_init (&iter, self->running);
    while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
      {
        g_autofree char *line = NULL;

        if (entry->queued)
          continue;
        line = runner_sync_journal_line (entry->path, entry->from, entry->seq, FALSE);
        g_string_append (text, line);
      }
  }
  return g_string_free (text, FALSE);
}

void
runner_sync_journal_append (RunnerSync *self,
                            char       *line)
{
  self->journal_lines++;
  runner_sync_journal_push (self, RUNNER_SYNC_JOURNAL_APPEND, line, NULL);
}

/* Reads the journal left by an earlier run; returns marks not yet done. */
gboolean
runner_sync_journal_replay (RunnerSync  *self,
                            GError     **error)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  guint replayed = 0;

  if (!g_file_get_contents (self->journal_path, &text, NULL, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), _("Cannot read the sync journal: "));
      return FALSE;
    }

  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      JsonObject *object;
      const char *path, *done, *from;
      guint64 seq;
      RunnerSyncEntry *entry;

      if (lines[i][0] == '\0')
        continue;
      /* a line cut by a crash is skipped */
      if (!json_parser_load_from_data (parser, lines[i], -1, NULL) ||
          !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        continue;
      object = json_node_get_object (json_parser_get_root (parser));
      path = json_object_get_string_member_with_default (object, "path", NULL);
      done = json_object_get_string_member_with_default (object, "done", NULL);
      from = json_object_get_string_member_with_default (object, "from", NULL);
      seq = (guint64) json_object_get_int_member_with_default (object, "seq", 0);
      self->next_seq = MAX (self->next_seq, seq);

      if (done != NULL)
        {
          entry = g_hash_table_lookup (self->entries, done);
          if (entry != NULL && entry->seq <= seq)
            runner_sync_entry_remove (self, entry);
          continue;
        }
      if (path == NULL)
        continue;
      entry = g_hash_table_lookup (self->entries, path);
      if (entry == NULL)
        {
          entry = g_new0 (RunnerSyncEntry, 1);
          entry->path = g_strdup (path);
          g_hash_table_insert (self->entries, entry->path, entry);
        }
      entry->seq = MAX (entry->seq, seq);
      if (from != NULL)
        runner_sync_entry_set_from (self, entry, from);
    }

  {
    g_autoptr(GList) values = g_hash_table_get_values (self->entries);

    for (GList *l = values; l != NULL; l = l->next)
      {
        RunnerSyncEntry *entry = l->data;

        entry->queued = TRUE;
        g_queue_push_tail (&self->ready, entry);
        replayed++;
      }
  }
  if (replayed > 0)
    g_message ("Replaying %u pending change(s) from %s", replayed, self->journal_path);
  return TRUE;
}

static void
barrier_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;

  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* Answers @task once the journal lines written so far are on disk. */
void
runner_sync_journal_barrier (RunnerSync *self,
                             GTask      *task)
{
  runner_sync_journal_push (self, RUNNER_SYNC_JOURNAL_BARRIER, NULL,
                            g_task_new (NULL, NULL, barrier_done, task));
}
