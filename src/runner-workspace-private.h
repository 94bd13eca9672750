/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <dirent.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "runner-beneath.h"
#include "runner-workspace.h"

G_BEGIN_DECLS

/*
 * RunnerWorkspace spans several files sharing this header, each owning one
 * concern:
 *   runner-workspace.c          the object: properties, signal, settings,
 *                               client paths (through runner-beneath)
 *   runner-workspace-listing.c  the tree listing, as JsonNode or JSON text
 *   runner-workspace-ops.c      operations on worker threads: read, mkdir,
 *                               rename, delete, and what they changed
 *   runner-workspace-write.c    atomic writes and the temporary files a
 *                               crash left behind
 *   runner-workspace-watcher.c  the recursive inotify watcher
 */

/* Tests switch openat2(2) off to exercise the component-by-component walk. */
void     runner_workspace_set_use_openat2 (RunnerWorkspace *self,
                                           gboolean         use_openat2);
gboolean runner_workspace_get_use_openat2 (RunnerWorkspace *self);
/* ...and O_TMPFILE off to exercise named temporary files. */
void     runner_workspace_set_use_tmpfile (RunnerWorkspace *self,
                                           gboolean         use_tmpfile);

typedef int RunnerFd;

static inline void
runner_fd_close (RunnerFd fd)
{
  if (fd >= 0)
    close (fd);
}

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (RunnerFd, runner_fd_close, -1)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DIR, closedir)

struct _RunnerWorkspace
{
  GObject parent_instance;

  char *root;                   /* canonical absolute path */
  int root_fd;                  /* O_PATH | O_DIRECTORY */
  char **excluded;
  goffset max_file_size;
  guint max_entries;
  gsize max_tree_bytes;
  int use_openat2;              /* atomic; read from worker threads */
  int use_tmpfile;              /* atomic; O_TMPFILE for atomic writes */

  /* Paths that operations through this object are changing right now
   * (relative path -> count): the watcher does not report them again.
   * Worker threads add, the main thread drops them. */
  GMutex own_lock;
  GHashTable *own;

  /* The watcher */
  int inotify_fd;
  guint inotify_source;
  GHashTable *watches;          /* wd -> relative directory path */
  GPtrArray *pending;           /* Change*, in arrival order */
  GHashTable *pending_index;    /* path -> Change* in pending */
  guint flush_source;
  gboolean watch_limit_warned;
};

/* One change to report through ::changed. */
typedef struct
{
  RunnerWorkspaceChange kind;
  char *path;
  char *other;
} Change;

/* What a worker thread needs, and what it changed. */
typedef struct
{
  char *path;                   /* relative */
  char *other;                  /* relative; rename target */
  GBytes *content;
  gboolean flag;                /* exclusive, recursive, text listing */
  int depth;
  char **excluded;
  goffset max_file_size;
  guint max_entries;
  gsize max_tree_bytes;

  GPtrArray *changes;           /* Change*, to emit on the main thread */
  GPtrArray *created;           /* relative dirs this operation created */
  GPtrArray *owned;             /* paths added to self->own */
  gboolean truncated;
  gboolean dir_only;            /* path had a trailing slash */
  gboolean other_dir_only;      /* other had a trailing slash */
} Op;

static inline gboolean
runner_workspace_is_dot_or_dotdot (const char *name)
{
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

static inline gboolean
runner_workspace_name_is_excluded (char * const *excluded,
                                   const char   *name)
{
  for (guint i = 0; excluded != NULL && excluded[i] != NULL; i++)
    if (strcmp (excluded[i], name) == 0)
      return TRUE;
  return FALSE;
}

/* ---------------------------------------------------------------- runner-workspace.c */

RunnerBeneathFlags runner_workspace_get_beneath_flags (RunnerWorkspace *self);
int      runner_workspace_open_errno        (RunnerWorkspace      *self,
                                             const char           *relative,
                                             int                   flags,
                                             mode_t                mode);
void     runner_workspace_emit_changed      (RunnerWorkspace      *self,
                                             const Change         *change);

/* ---------------------------------------------------------------- runner-workspace-ops.c */

void     runner_workspace_change_free       (gpointer              data);
Op      *runner_workspace_op_new            (RunnerWorkspace      *self);
void     runner_workspace_op_free           (gpointer              data);
void     runner_workspace_op_add_change     (Op                   *op,
                                             RunnerWorkspaceChange kind,
                                             const char           *path,
                                             const char           *other);
void     runner_workspace_op_own            (RunnerWorkspace      *self,
                                             Op                   *op,
                                             const char           *path);
gboolean runner_workspace_is_own            (RunnerWorkspace      *self,
                                             const char           *path);
void     runner_workspace_op_rollback_created (RunnerWorkspace    *self,
                                               Op                 *op);
int      runner_workspace_ensure_dir        (RunnerWorkspace      *self,
                                             Op                   *op,
                                             const char           *relative,
                                             GError              **error);
void     runner_workspace_run_op            (RunnerWorkspace      *self,
                                             Op                   *op,
                                             GTaskThreadFunc       func,
                                             gpointer              source_tag,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
Op      *runner_workspace_op_new_for_path   (RunnerWorkspace      *self,
                                             const char           *path,
                                             gpointer              source_tag,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean runner_workspace_op_finish         (RunnerWorkspace      *self,
                                             GAsyncResult         *result,
                                             gpointer              source_tag,
                                             GError              **error);
void     runner_workspace_op_thread_return  (GTask                *task,
                                             gboolean              ok,
                                             GError               *error);

/* ---------------------------------------------------------------- runner-workspace-write.c */

gboolean runner_workspace_have_proc_fd      (void);

/* ---------------------------------------------------------------- runner-workspace-watcher.c */

void     runner_workspace_watcher_read      (RunnerWorkspace      *self);

G_END_DECLS
