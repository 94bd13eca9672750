/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "runner-beneath.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_WORKSPACE (runner_workspace_get_type ())

G_DECLARE_FINAL_TYPE (RunnerWorkspace, runner_workspace, RUNNER, WORKSPACE, GObject)

/* The virtual root every client sees, in every deployment. */
#define RUNNER_WORKSPACE_VIRTUAL_ROOT RUNNER_BENEATH_VIRTUAL_ROOT

/**
 * RunnerWorkspaceChange:
 * @RUNNER_WORKSPACE_CHANGE_WRITTEN: a file was created or its content changed
 * @RUNNER_WORKSPACE_CHANGE_CREATED_DIR: a directory appeared
 * @RUNNER_WORKSPACE_CHANGE_DELETED: a file or directory (with all below it) went away
 * @RUNNER_WORKSPACE_CHANGE_RENAMED: @path moved to @other_path
 *
 * What the ::changed signal reports, for writes through Runner and for
 * changes on disk the watcher sees.
 */
typedef enum
{
  RUNNER_WORKSPACE_CHANGE_WRITTEN,
  RUNNER_WORKSPACE_CHANGE_CREATED_DIR,
  RUNNER_WORKSPACE_CHANGE_DELETED,
  RUNNER_WORKSPACE_CHANGE_RENAMED,
} RunnerWorkspaceChange;

RunnerWorkspace *runner_workspace_new               (const char           *root,
                                                     GError              **error);
const char      *runner_workspace_get_root          (RunnerWorkspace      *self);
void             runner_workspace_set_excluded      (RunnerWorkspace      *self,
                                                     const char * const   *names);
const char * const *runner_workspace_get_excluded   (RunnerWorkspace      *self);
gboolean         runner_workspace_is_excluded       (RunnerWorkspace      *self,
                                                     const char           *relative);
void             runner_workspace_set_max_file_size (RunnerWorkspace      *self,
                                                     goffset               max_file_size);
goffset          runner_workspace_get_max_file_size (RunnerWorkspace      *self);
void             runner_workspace_set_max_entries   (RunnerWorkspace      *self,
                                                     guint                 max_entries);
guint            runner_workspace_get_max_entries   (RunnerWorkspace      *self);
void             runner_workspace_set_max_tree_bytes (RunnerWorkspace     *self,
                                                      gsize                max_tree_bytes);
gsize            runner_workspace_get_max_tree_bytes (RunnerWorkspace     *self);
gboolean         runner_workspace_start_watching    (RunnerWorkspace      *self,
                                                     GError              **error);
void             runner_workspace_clean_temp_async  (RunnerWorkspace      *self,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
int              runner_workspace_clean_temp_finish (RunnerWorkspace      *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

char            *runner_workspace_resolve           (RunnerWorkspace      *self,
                                                     const char           *path,
                                                     GError              **error);
char            *runner_workspace_resolve_len       (RunnerWorkspace      *self,
                                                     const char           *path,
                                                     gssize                length,
                                                     GError              **error);
char            *runner_workspace_to_virtual        (RunnerWorkspace      *self,
                                                     const char           *relative);
int              runner_workspace_open_beneath      (RunnerWorkspace      *self,
                                                     const char           *relative,
                                                     int                   flags,
                                                     mode_t                mode,
                                                     GError              **error);

void             runner_workspace_list_async        (RunnerWorkspace      *self,
                                                     const char           *path,
                                                     int                   depth,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
JsonNode        *runner_workspace_list_finish       (RunnerWorkspace      *self,
                                                     GAsyncResult         *result,
                                                     gboolean             *truncated,
                                                     GError              **error);
void             runner_workspace_list_json_async   (RunnerWorkspace      *self,
                                                     const char           *path,
                                                     int                   depth,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
char            *runner_workspace_list_json_finish  (RunnerWorkspace      *self,
                                                     GAsyncResult         *result,
                                                     gboolean             *truncated,
                                                     gsize                *length,
                                                     GError              **error);
void             runner_workspace_read_async        (RunnerWorkspace      *self,
                                                     const char           *path,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
GBytes          *runner_workspace_read_finish       (RunnerWorkspace      *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);
void             runner_workspace_write_async       (RunnerWorkspace      *self,
                                                     const char           *path,
                                                     GBytes               *content,
                                                     gboolean              exclusive,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean         runner_workspace_write_finish      (RunnerWorkspace      *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);
void             runner_workspace_mkdir_async       (RunnerWorkspace      *self,
                                                     const char           *path,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean         runner_workspace_mkdir_finish      (RunnerWorkspace      *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);
void             runner_workspace_rename_async      (RunnerWorkspace      *self,
                                                     const char           *from,
                                                     const char           *to,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean         runner_workspace_rename_finish     (RunnerWorkspace      *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);
void             runner_workspace_delete_async      (RunnerWorkspace      *self,
                                                     const char           *path,
                                                     gboolean              recursive,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean         runner_workspace_delete_finish     (RunnerWorkspace      *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

G_END_DECLS
