/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include "runner-sync.h"

G_BEGIN_DECLS

/*
 * RunnerSync spans several files, each owning one concern (see
 * runner-sync.c); this header is what they share.
 */

typedef struct
{
  char    *path;         /* relative to the root, "" is the root */
  char    *from;         /* rename source: may be copied on the server */
  guint64  seq;          /* newest journaled mark */
  guint64  running_seq;  /* the mark the running job started from, or 0 */
  gint64   bytes;
  guint    failures;
  gint64   not_before;   /* monotonic time before which it waits */
  gboolean queued;       /* in self->ready */
} RunnerSyncEntry;

struct _RunnerSync
{
  GObject          parent_instance;

  RunnerS3        *s3;
  char            *root;
  int              root_fd;
  char            *prefix;          /* "" or ending in '/' */
  char            *state_dir;
  char            *state_rel;       /* the state dir inside the root, or NULL */
  char            *journal_path;
  GStrv            excluded;

  gboolean         started;
  GHashTable      *entries;         /* path -> RunnerSyncEntry (owned) */
  GQueue           ready;           /* RunnerSyncEntry, in arrival order */
  GHashTable      *running;         /* path -> RunnerSyncEntry */
  GHashTable      *sources;         /* rename source path -> count of entries */
  guint64          next_seq;
  guint            retry_source;

  GThreadPool     *journal_pool;    /* one thread: writes stay in order */
  gint             journal_queued;  /* atomic: ops pushed and not yet done */
  int              journal_fd;      /* used on the journal thread only */
  guint            journal_lines;

  GCancellable    *cancellable;
  RunnerWorkspace *workspace;
  gulong           changed_id;
  GPtrArray       *flush_waiters;   /* GTask */
  guint            notify_source;
  RunnerBroadcaster *broadcaster;   /* weak */
  gulong           broadcast_id;

  guint64          pending_bytes;
  guint            in_flight;
  char            *last_error;
  char            *last_error_code;
  gint64           last_success;    /* unix µs, 0 = never */
  RunnerSyncState  state;
};

static inline gboolean
runner_sync_set_errno_error (GError    **error,
                             int         saved,
                             const char *what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", what, g_strerror (saved));
  return FALSE;
}

/* ---------------------------------------------------------------- runner-sync.c */

void      runner_sync_set_error        (RunnerSync   *self,
                                        const GError *error);
void      runner_sync_note_success     (RunnerSync   *self);
void      runner_sync_update_state     (RunnerSync   *self);

/* ---------------------------------------------------------------- runner-sync-paths.c */

gboolean  runner_sync_paths_overlap     (const char   *a,
                                         const char   *b);
gboolean  runner_sync_is_excluded       (RunnerSync   *self,
                                         const char   *rel);
char     *runner_sync_key_for           (RunnerSync   *self,
                                         const char   *rel);
char     *runner_sync_rel_for_key       (RunnerSync   *self,
                                         const char   *key);

/* ---------------------------------------------------------------- runner-sync-journal.c */

typedef enum
{
  RUNNER_SYNC_JOURNAL_APPEND,
  RUNNER_SYNC_JOURNAL_TRUNCATE,
  RUNNER_SYNC_JOURNAL_REWRITE,
  RUNNER_SYNC_JOURNAL_BARRIER,
} RunnerSyncJournalOpKind;

void      runner_sync_journal_run      (gpointer                 data,
                                        gpointer                 user_data);
void      runner_sync_journal_push     (RunnerSync              *self,
                                        RunnerSyncJournalOpKind  kind,
                                        char                    *text,
                                        GTask                   *task);
char     *runner_sync_journal_line     (const char              *path,
                                        const char              *from,
                                        guint64                  seq,
                                        gboolean                 done);
char     *runner_sync_journal_snapshot (RunnerSync              *self);
void      runner_sync_journal_append   (RunnerSync              *self,
                                        char                    *line);
gboolean  runner_sync_journal_replay   (RunnerSync              *self,
                                        GError                 **error);
void      runner_sync_journal_barrier  (RunnerSync              *self,
                                        GTask                   *task);

/* ---------------------------------------------------------------- runner-sync-plan.c */

typedef struct
{
  RunnerSync *self;         /* kept alive by the job or task that waits for the plan */
  char       *path;
  char       *from;
  GPtrArray  *actions;      /* Action */
  gboolean    saw_file;     /* the walk found a local file */
} RunnerSyncPlan;

RunnerSyncPlan *runner_sync_plan_new         (RunnerSync           *self,
                                              const char           *path,
                                              const char           *from);
void            runner_sync_plan_free        (RunnerSyncPlan       *plan);
gboolean        runner_sync_plan_path        (RunnerS3             *s3,
                                              gpointer              data,
                                              GCancellable         *cancellable,
                                              GError              **error);
void            runner_sync_run_batch_async  (RunnerSync           *self,
                                              GPtrArray            *actions,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
gssize          runner_sync_run_batch_finish (RunnerSync           *self,
                                              GAsyncResult         *result,
                                              GError              **error);

/* ---------------------------------------------------------------- runner-sync-queue.c */

void      runner_sync_entry_free       (RunnerSyncEntry *entry);
void      runner_sync_entry_set_from   (RunnerSync      *self,
                                        RunnerSyncEntry *entry,
                                        const char      *from);
void      runner_sync_entry_remove     (RunnerSync      *self,
                                        RunnerSyncEntry *entry);
void      runner_sync_pump             (RunnerSync      *self);

/* ---------------------------------------------------------------- runner-sync-events.c */

void      runner_sync_detach           (RunnerSync      *self);

G_END_DECLS
