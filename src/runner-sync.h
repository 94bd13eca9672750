/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "runner-config.h"
#include "runner-enums.h"
#include "runner-s3.h"
#include "runner-broadcaster.h"
#include "runner-registry.h"
#include "runner-workspace.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_SYNC (runner_sync_get_type ())

G_DECLARE_FINAL_TYPE (RunnerSync, runner_sync, RUNNER, SYNC, GObject)

/* How long `serve` waits on SIGTERM for pending uploads by default. */
#define RUNNER_SYNC_DEFAULT_FLUSH_TIMEOUT_MS 20000

/**
 * RunnerSyncState:
 * @RUNNER_SYNC_STATE_IDLE: nothing pending
 * @RUNNER_SYNC_STATE_SYNCING: changes are pending or being sent
 * @RUNNER_SYNC_STATE_ERROR: the last attempt failed; it will be tried again
 *
 * The nicks are the names `sync:state` and D-Bus's SyncState carry.
 */
typedef enum
{
  RUNNER_SYNC_STATE_IDLE,     /*< nick=idle >*/
  RUNNER_SYNC_STATE_SYNCING,  /*< nick=syncing >*/
  RUNNER_SYNC_STATE_ERROR,    /*< nick=error >*/
} RunnerSyncState;

RunnerSync *runner_sync_new               (RunnerConfig          *config,
                                           GError               **error);
RunnerSync *runner_sync_new_with_s3       (RunnerS3              *s3,
                                           const char            *root,
                                           const char            *prefix,
                                           const char            *state_dir,
                                           const char * const    *excluded,
                                           GError               **error);
RunnerS3   *runner_sync_get_s3            (RunnerSync            *self);
const char *runner_sync_get_prefix        (RunnerSync            *self);
const char *runner_sync_get_journal_path  (RunnerSync            *self);

gboolean    runner_sync_start             (RunnerSync            *self,
                                           GError               **error);
void        runner_sync_watch             (RunnerSync            *self,
                                           RunnerWorkspace       *workspace);
void        runner_sync_attach            (RunnerSync            *self,
                                           RunnerBroadcaster     *broadcaster,
                                           RunnerRegistry        *registry);
void        runner_sync_add_unavailable   (RunnerRegistry        *registry);
void        runner_sync_queue             (RunnerSync            *self,
                                           RunnerWorkspaceChange  kind,
                                           const char            *path,
                                           const char            *other_path);

guint            runner_sync_get_pending       (RunnerSync       *self);
guint64          runner_sync_get_pending_bytes (RunnerSync       *self);
guint            runner_sync_get_in_flight     (RunnerSync       *self);
const char      *runner_sync_get_last_error    (RunnerSync       *self);
gint64           runner_sync_get_last_success  (RunnerSync       *self);
RunnerSyncState  runner_sync_get_state         (RunnerSync       *self);
JsonNode        *runner_sync_to_json           (RunnerSync       *self);

void        runner_sync_down_async        (RunnerSync            *self,
                                           GCancellable          *cancellable,
                                           GAsyncReadyCallback    callback,
                                           gpointer               user_data);
gboolean    runner_sync_down_finish       (RunnerSync            *self,
                                           GAsyncResult          *result,
                                           guint                 *n_files,
                                           GError               **error);
void        runner_sync_up_async          (RunnerSync            *self,
                                           GCancellable          *cancellable,
                                           GAsyncReadyCallback    callback,
                                           gpointer               user_data);
gboolean    runner_sync_up_finish         (RunnerSync            *self,
                                           GAsyncResult          *result,
                                           guint                 *n_files,
                                           GError               **error);
void        runner_sync_flush_async       (RunnerSync            *self,
                                           guint                  timeout_ms,
                                           GCancellable          *cancellable,
                                           GAsyncReadyCallback    callback,
                                           gpointer               user_data);
void        runner_sync_stop              (RunnerSync            *self);
gboolean    runner_sync_flush_finish      (RunnerSync            *self,
                                           GAsyncResult          *result,
                                           GError               **error);

gboolean    runner_sync_workspace_is_empty (const char           *root);
int         runner_sync_main_down         (RunnerConfig          *config);
int         runner_sync_main_up           (RunnerConfig          *config);

G_END_DECLS
