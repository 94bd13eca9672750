/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-workspace"

#include "config.h"

#include "runner-workspace-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "runner-beneath.h"
#include "runner-error.h"

/* ---------------------------------------------------------------------- */
/* Operations: what a worker thread needs, and what it changed */

void
runner_workspace_change_free (gpointer data)
{
  Change *change = data;

  g_free (change->path);
  g_free (change->other);
  g_free (change);
}

void
runner_workspace_op_free (gpointer data)
{
  Op *op = data;

  g_free (op->path);
  g_free (op->other);
  g_clear_pointer (&op->content, g_bytes_unref);
  g_strfreev (op->excluded);
  g_ptr_array_unref (op->changes);
  g_ptr_array_unref (op->created);
  g_ptr_array_unref (op->owned);
  g_free (op);
}

Op *
runner_workspace_op_new (RunnerWorkspace *self)
{
  Op *op = g_new0 (Op, 1);

  op->excluded = g_strdupv (self->excluded);
  op->max_file_size = self->max_file_size;
  op->max_entries = self->max_entries;
  op->max_tree_bytes = self->max_tree_bytes;
  op->changes = g_ptr_array_new_with_free_func (runner_workspace_change_free);
  op->created = g_ptr_array_new_with_free_func (g_free);
  op->owned = g_ptr_array_new_with_free_func (g_free);
  return op;
}

void
runner_workspace_op_add_change (Op                   *op,
                                RunnerWorkspaceChange kind,
                                const char           *path,
                                const char           *other)
{
  Change *change = g_new0 (Change, 1);

  change->kind = kind;
  change->path = g_strdup (path);
  change->other = g_strdup (other);
  g_ptr_array_add (op->changes, change);
}

/* Marks @path as being changed by @op, before the change, so that the
 * watcher does not report it a second time. */
void
runner_workspace_op_own (RunnerWorkspace *self,
                         Op              *op,
                         const char      *path)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->own_lock);
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->own, path));

  g_hash_table_insert (self->own, g_strdup (path), GUINT_TO_POINTER (count + 1));
  g_ptr_array_add (op->owned, g_strdup (path));
}

static void
op_disown (RunnerWorkspace *self,
           Op              *op)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->own_lock);

  for (guint i = 0; i < op->owned->len; i++)
    {
      const char *path = g_ptr_array_index (op->owned, i);
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->own, path));

      if (count > 1)
        g_hash_table_insert (self->own, g_strdup (path), GUINT_TO_POINTER (count - 1));
      else
        g_hash_table_remove (self->own, path);
    }
  g_ptr_array_set_size (op->owned, 0);
}

/* Whether @path, or a directory above it, is being changed by us. */
gboolean
runner_workspace_is_own (RunnerWorkspace *self,
                         const char      *path)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->own_lock);
  g_autofree char *copy = NULL;
  char *slash;

  if (g_hash_table_size (self->own) == 0)
    return FALSE;
  copy = g_strdup (path);
  for (;;)
    {
      if (g_hash_table_contains (self->own, copy))
        return TRUE;
      slash = strrchr (copy, '/');
      if (slash == NULL)
        return FALSE;
      *slash = '\0';
    }
}

/* Removes the directories @op created, newest first, after a failure. */
void
runner_workspace_op_rollback_created (RunnerWorkspace *self,
                                      Op              *op)
{
  for (guint i = op->created->len; i > 0; i--)
    {
      const char *dir = g_ptr_array_index (op->created, i - 1);
      g_autofree char *parent = NULL;
      const char *name;
      g_auto(RunnerFd) pfd = -1;

      runner_beneath_split (dir, &parent, &name);
      pfd = runner_workspace_open_errno (self, parent, O_PATH | O_DIRECTORY, 0);
      if (pfd >= 0)
        unlinkat (pfd, name, AT_REMOVEDIR);
    }
  g_ptr_array_set_size (op->created, 0);
  g_ptr_array_set_size (op->changes, 0);
}

static void
ensure_dir_cb (const char *relative,
               gboolean    created,
               gpointer    user_data)
{
  gpointer *pair = user_data;
  RunnerWorkspace *self = pair[0];
  Op *op = pair[1];

  if (!created)
    {
      runner_workspace_op_own (self, op, relative);
      return;
    }
  g_ptr_array_add (op->created, g_strdup (relative));
  runner_workspace_op_add_change (op, RUNNER_WORKSPACE_CHANGE_CREATED_DIR, relative, NULL);
}

/* mkdir -p beneath the root; each created directory is recorded in @op.
 * Returns an O_PATH fd on the directory. */
int
runner_workspace_ensure_dir (RunnerWorkspace *self,
                             Op              *op,
                             const char      *relative,
                             GError         **error)
{
  gpointer pair[] = { self, op };
  int fd;

  fd = runner_beneath_ensure_dir (self->root_fd, self->root, relative,
                                  runner_workspace_get_beneath_flags (self), ensure_dir_cb, pair);
  if (fd < 0)
    runner_beneath_set_error (error, errno, relative);
  return fd;
}

/* ---------------------------------------------------------------------- */
/* Reading */

static GBytes *
read_file (RunnerWorkspace *self,
           Op              *op,
           GError         **error)
{
  g_auto(RunnerFd) fd = -1;
  g_autofree char *buf = NULL;
  struct stat st;
  gsize size;
  gsize got = 0;

  /* O_NONBLOCK: a FIFO must not hang the open; fstat tells it apart. */
  fd = runner_workspace_open_errno (self, op->path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
  if (fd < 0 || fstat (fd, &st) < 0)
    return runner_beneath_set_error (error, errno, op->path), NULL;
  if (S_ISDIR (st.st_mode))
    return runner_beneath_set_error (error, EISDIR, op->path), NULL;
  if (op->dir_only)
    return runner_beneath_set_error (error, ENOTDIR, op->path), NULL;
  if (!S_ISREG (st.st_mode))
    {
      g_autofree char *virt = runner_beneath_to_virtual (op->path);

      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID, _("%s is not a regular file"), virt);
      return NULL;
    }
  if (st.st_size > op->max_file_size)
    {
      g_autofree char *virt = runner_beneath_to_virtual (op->path);

      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_TOO_BIG,
                   _("%s is larger than %" G_GOFFSET_FORMAT " bytes"), virt, op->max_file_size);
      return NULL;
    }

  /* Read one byte past the size to notice a file that grew meanwhile. */
  size = (gsize) st.st_size;
  buf = g_malloc (size + 1);
  for (;;)
    {
      ssize_t n = read (fd, buf + got, size + 1 - got);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return runner_beneath_set_error (error, errno, op->path), NULL;
      if (n == 0)
        break;
      got += (gsize) n;
      if (got > size)
        {
          if ((goffset) got > op->max_file_size)
            {
              g_autofree char *virt = runner_beneath_to_virtual (op->path);

              g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_TOO_BIG,
                           _("%s is larger than %" G_GOFFSET_FORMAT " bytes"), virt,
                           op->max_file_size);
              return NULL;
            }
          size = MIN ((gsize) op->max_file_size, size * 2 + 4096);
          buf = g_realloc (buf, size + 1);
        }
    }
  return g_bytes_new_take (g_steal_pointer (&buf), got);
}

static void
read_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  GError *error = NULL;
  GBytes *bytes = read_file (source, data, &error);

  if (bytes == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, bytes, (GDestroyNotify) g_bytes_unref);
}

/**
 * runner_workspace_read_async:
 * @self: a #RunnerWorkspace
 * @path: a client path
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * Reads a whole regular file. Directories fail with
 * %G_IO_ERROR_IS_DIRECTORY, other non-regular files (FIFOs, devices,
 * sockets) with %RUNNER_ERROR_INVALID, files over max-file-size with
 * %RUNNER_ERROR_TOO_BIG.
 */
void
runner_workspace_read_async (RunnerWorkspace     *self,
                             const char          *path,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  Op *op;
  char *relative;

  g_return_if_fail (RUNNER_IS_WORKSPACE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, runner_workspace_read_async);
  relative = runner_workspace_resolve (self, path, &error);
  if (relative == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  op = runner_workspace_op_new (self);
  op->path = relative;
  op->dir_only = *relative != '\0' && runner_beneath_names_directory (path);
  g_task_set_task_data (task, op, runner_workspace_op_free);
  g_task_run_in_thread (task, read_thread);
}

/**
 * runner_workspace_read_finish:
 * @self: a #RunnerWorkspace
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the content, or %NULL with @error set
 */
GBytes *
runner_workspace_read_finish (RunnerWorkspace *self,
                              GAsyncResult    *result,
                              GError         **error)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == runner_workspace_read_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---------------------------------------------------------------------- */
/* Changing operations: a worker thread does the work, then the main thread
 * emits ::changed for what it did and completes the caller's task. */

static void
op_done_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  RunnerWorkspace *self = RUNNER_WORKSPACE (source);
  g_autoptr(GTask) outer = user_data;
  Op *op = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);

  /* Whatever the kernel queued for our own changes is in the inotify fd
   * now: read it while those paths are still marked as ours. */
  runner_workspace_watcher_read (self);
  op_disown (self, op);
  for (guint i = 0; i < op->changes->len; i++)
    {
      Change *change = g_ptr_array_index (op->changes, i);

      runner_workspace_emit_changed (self, change);
    }
  if (ok)
    g_task_return_boolean (outer, TRUE);
  else
    g_task_return_error (outer, error);
}

void
runner_workspace_run_op (RunnerWorkspace    *self,
                         Op                 *op,
                         GTaskThreadFunc     func,
                         gpointer            source_tag,
                         GCancellable       *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer            user_data)
{
  GTask *outer = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GTask) inner = NULL;

  g_task_set_source_tag (outer, source_tag);
  inner = g_task_new (self, cancellable, op_done_cb, outer);
  g_task_set_task_data (inner, op, runner_workspace_op_free);
  g_task_run_in_thread (inner, func);
}

/* Resolves @path for a changing operation; fails the task on a bad path. */
Op *
runner_workspace_op_new_for_path (RunnerWorkspace    *self,
                                  const char         *path,
                                  gpointer            source_tag,
                                  GCancellable       *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer            user_data)
{
  GError *error = NULL;
  char *relative = runner_workspace_resolve (self, path, &error);
  Op *op;

  if (relative == NULL)
    {
      g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

      g_task_set_source_tag (task, source_tag);
      g_task_return_error (task, error);
      return NULL;
    }
  op = runner_workspace_op_new (self);
  op->path = relative;
  op->dir_only = *relative != '\0' && runner_beneath_names_directory (path);
  return op;
}

gboolean
runner_workspace_op_finish (RunnerWorkspace *self,
                            GAsyncResult    *result,
                            gpointer         source_tag,
                            GError         **error)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
runner_workspace_op_thread_return (GTask   *task,
                                   gboolean ok,
                                   GError  *error)
{
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/* ---------------------------------------------------------------------- */
/* mkdir, rename, delete */

static void
mkdir_thread (GTask        *task,
              gpointer      source,
              gpointer      data,
              GCancellable *cancellable)
{
  RunnerWorkspace *self = source;
  Op *op = data;
  GError *error = NULL;
  g_auto(RunnerFd) fd = runner_workspace_open_errno (self, op->path, O_PATH, 0);
  struct stat st;

  if (fd >= 0 && fstat (fd, &st) == 0)
    {
      if (!S_ISDIR (st.st_mode))
        runner_beneath_set_error (&error, EEXIST, op->path);
      runner_workspace_op_thread_return (task, error == NULL, error);
      return;
    }
  if (fd < 0 && errno != ENOENT)
    {
      runner_beneath_set_error (&error, errno, op->path);
      runner_workspace_op_thread_return (task, FALSE, error);
      return;
    }
  fd = runner_workspace_ensure_dir (self, op, op->path, &error);
  if (fd < 0)
    runner_workspace_op_rollback_created (self, op);
  runner_workspace_op_thread_return (task, fd >= 0, error);
}

/**
 * runner_workspace_mkdir_async:
 * @self: a #RunnerWorkspace
 * @path: a client path
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * `mkdir -p`: creates @path and its missing parents (mode 0755). An
 * existing directory is success; anything else there is %G_IO_ERROR_EXISTS.
 */
void
runner_workspace_mkdir_async (RunnerWorkspace     *self,
                              const char          *path,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  Op *op;

  g_return_if_fail (RUNNER_IS_WORKSPACE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = runner_workspace_op_new_for_path (self, path, runner_workspace_mkdir_async, cancellable,
                                         callback, user_data);
  if (op != NULL)
    runner_workspace_run_op (self, op, mkdir_thread, runner_workspace_mkdir_async, cancellable,
                             callback, user_data);
}

gboolean
runner_workspace_mkdir_finish (RunnerWorkspace *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  return runner_workspace_op_finish (self, result, runner_workspace_mkdir_async, error);
}

static gboolean
rename_entry (RunnerWorkspace *self,
              Op              *op,
              GError         **error)
{
  g_autofree char *from_dir = NULL;
  g_autofree char *to_dir = NULL;
  const char *from_name;
  const char *to_name;
  g_auto(RunnerFd) from_fd = -1;
  g_auto(RunnerFd) to_fd = -1;
  struct stat st;

  runner_beneath_split (op->path, &from_dir, &from_name);
  runner_beneath_split (op->other, &to_dir, &to_name);

  if (*op->path == '\0' || *op->other == '\0')
    {
      runner_beneath_set_refused (error, _("the workspace root cannot be renamed or replaced"));
      return FALSE;
    }
  if (strcmp (op->path, op->other) != 0 && runner_beneath_is_within (op->other, op->path))
    {
      g_autofree char *virt = runner_beneath_to_virtual (op->path);

      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("%s cannot be moved into itself"), virt);
      return FALSE;
    }

  from_fd = runner_workspace_open_errno (self, from_dir, O_PATH | O_DIRECTORY, 0);
  if (from_fd < 0)
    return runner_beneath_set_error (error, errno, op->path);
  if (fstatat (from_fd, from_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return runner_beneath_set_error (error, errno, op->path);
  if ((op->dir_only || op->other_dir_only) && !S_ISDIR (st.st_mode))
    return runner_beneath_set_error (error, ENOTDIR, op->path);
  if (strcmp (op->path, op->other) == 0)
    return TRUE;

  to_fd = runner_workspace_ensure_dir (self, op, to_dir, error);
  if (to_fd < 0)
    return FALSE;
  runner_workspace_op_own (self, op, op->path);
  runner_workspace_op_own (self, op, op->other);
  if (renameat (from_fd, from_name, to_fd, to_name) < 0)
    {
      int errsv = errno == EEXIST ? ENOTEMPTY : errno;

      if (errsv == EINVAL)
        {
          g_autofree char *virt = runner_beneath_to_virtual (op->path);

          g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                       _("%s cannot be moved into itself"), virt);
          return FALSE;
        }
      return runner_beneath_set_error (error, errsv, op->other);
    }
  runner_beneath_fsync_dir (to_fd);
  if (strcmp (to_dir, from_dir) != 0)
    runner_beneath_fsync_dir (from_fd);
  runner_workspace_op_add_change (op, RUNNER_WORKSPACE_CHANGE_RENAMED, op->path, op->other);
  return TRUE;
}

static void
rename_thread (GTask        *task,
               gpointer      source,
               gpointer      data,
               GCancellable *cancellable)
{
  GError *error = NULL;
  gboolean ok = rename_entry (source, data, &error);

  if (!ok)
    runner_workspace_op_rollback_created (source, data);
  runner_workspace_op_thread_return (task, ok, error);
}

/**
 * runner_workspace_rename_async:
 * @self: a #RunnerWorkspace
 * @from: a client path that exists
 * @to: a client path
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * Moves @from to @to with rename(2) semantics: an existing file at @to is
 * replaced, an empty directory is replaced by a directory, a non-empty
 * directory is not (%G_IO_ERROR_NOT_EMPTY); a file over a directory is
 * %G_IO_ERROR_IS_DIRECTORY, a directory over a file
 * %G_IO_ERROR_NOT_DIRECTORY. Missing parents of @to are created. Refused:
 * the root on either side (%RUNNER_ERROR_FORBIDDEN), moving a directory
 * into itself (%RUNNER_ERROR_INVALID). A symlink is moved, not followed.
 */
void
runner_workspace_rename_async (RunnerWorkspace     *self,
                               const char          *from,
                               const char          *to,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GError *error = NULL;
  Op *op;

  g_return_if_fail (RUNNER_IS_WORKSPACE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = runner_workspace_op_new_for_path (self, from, runner_workspace_rename_async, cancellable,
                                         callback, user_data);
  if (op == NULL)
    return;
  op->other = runner_workspace_resolve (self, to, &error);
  op->other_dir_only = op->other != NULL && *op->other != '\0'
                       && runner_beneath_names_directory (to);
  if (op->other == NULL)
    {
      g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

      g_task_set_source_tag (task, runner_workspace_rename_async);
      g_task_return_error (task, error);
      runner_workspace_op_free (op);
      return;
    }
  runner_workspace_run_op (self, op, rename_thread, runner_workspace_rename_async, cancellable,
                           callback, user_data);
}

gboolean
runner_workspace_rename_finish (RunnerWorkspace *self,
                                GAsyncResult    *result,
                                GError         **error)
{
  return runner_workspace_op_finish (self, result, runner_workspace_rename_async, error);
}

/* Empties the directory @name in @parent; never follows a symlink. */
static gboolean
delete_tree (int           parent,
             const char   *name,
             GCancellable *cancellable)
{
  int fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  g_autoptr(DIR) dir = NULL;
  struct dirent *de;

  if (fd < 0)
    return FALSE;
  dir = fdopendir (fd);
  if (dir == NULL)
    {
      close (fd);
      return FALSE;
    }
  while ((de = readdir (dir)) != NULL)
    {
      if (runner_workspace_is_dot_or_dotdot (de->d_name))
        continue;
      if (g_cancellable_is_cancelled (cancellable))
        {
          errno = ECANCELED;
          return FALSE;
        }
      if (unlinkat (dirfd (dir), de->d_name, 0) == 0)
        continue;
      if (errno != EISDIR && errno != EPERM)
        return FALSE;
      if (!delete_tree (dirfd (dir), de->d_name, cancellable)
          || unlinkat (dirfd (dir), de->d_name, AT_REMOVEDIR) < 0)
        return FALSE;
    }
  return TRUE;
}

static gboolean
delete_entry (RunnerWorkspace *self,
              Op              *op,
              GCancellable    *cancellable,
              GError         **error)
{
  g_autofree char *dir = NULL;
  const char *base;
  g_auto(RunnerFd) dirfd = -1;
  struct stat st;

  runner_beneath_split (op->path, &dir, &base);

  if (*op->path == '\0')
    {
      runner_beneath_set_refused (error, _("the workspace root cannot be deleted"));
      return FALSE;
    }
  dirfd = runner_workspace_open_errno (self, dir, O_PATH | O_DIRECTORY, 0);
  if (dirfd < 0 || fstatat (dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return runner_beneath_set_error (error, errno, op->path);
  if (op->dir_only && !S_ISDIR (st.st_mode))
    return runner_beneath_set_error (error, ENOTDIR, op->path);

  runner_workspace_op_own (self, op, op->path);
  if (!S_ISDIR (st.st_mode))
    {
      if (unlinkat (dirfd, base, 0) < 0)
        return runner_beneath_set_error (error, errno, op->path);
    }
  else if (unlinkat (dirfd, base, AT_REMOVEDIR) < 0)
    {
      if (errno != ENOTEMPTY && errno != EEXIST)
        return runner_beneath_set_error (error, errno, op->path);
      if (!op->flag)
        return runner_beneath_set_error (error, ENOTEMPTY, op->path);
      if (!delete_tree (dirfd, base, cancellable) || unlinkat (dirfd, base, AT_REMOVEDIR) < 0)
        return runner_beneath_set_error (error, errno, op->path);
    }
  runner_beneath_fsync_dir (dirfd);
  runner_workspace_op_add_change (op, RUNNER_WORKSPACE_CHANGE_DELETED, op->path, NULL);
  return TRUE;
}

static void
delete_thread (GTask        *task,
               gpointer      source,
               gpointer      data,
               GCancellable *cancellable)
{
  GError *error = NULL;
  gboolean ok = delete_entry (source, data, cancellable, &error);

  runner_workspace_op_thread_return (task, ok, error);
}

/**
 * runner_workspace_delete_async:
 * @self: a #RunnerWorkspace
 * @path: a client path
 * @recursive: whether a non-empty directory goes with all below it
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * Deletes a file, a symlink (never what it points to) or a directory.
 * Without @recursive a non-empty directory is %G_IO_ERROR_NOT_EMPTY. The
 * root is refused with %RUNNER_ERROR_FORBIDDEN. A recursive delete that
 * fails midway (permissions) may have removed part of the tree.
 */
void
runner_workspace_delete_async (RunnerWorkspace     *self,
                               const char          *path,
                               gboolean             recursive,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  Op *op;

  g_return_if_fail (RUNNER_IS_WORKSPACE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = runner_workspace_op_new_for_path (self, path, runner_workspace_delete_async, cancellable,
                                         callback, user_data);
  if (op == NULL)
    return;
  op->flag = recursive;
  runner_workspace_run_op (self, op, delete_thread, runner_workspace_delete_async, cancellable,
                           callback, user_data);
}

gboolean
runner_workspace_delete_finish (RunnerWorkspace *self,
                                GAsyncResult    *result,
                                GError         **error)
{
  return runner_workspace_op_finish (self, result, runner_workspace_delete_async, error);
}
