/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-workspace"

#include "config.h"

#include "runner-workspace-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "runner-beneath.h"
#include "runner-error.h"

/* An unlocked temporary file this old is left by a crash (see write_into). */
#define TEMP_STALE_SECONDS 10

/* ---------------------------------------------------------------------- */
/* Writing */

static gboolean
write_all (int          fd,
           const guint8 *data,
           gsize        size)
{
  while (size > 0)
    {
      ssize_t n = write (fd, data, size);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return FALSE;
      data += n;
      size -= (gsize) n;
    }
  return TRUE;
}

gboolean
runner_workspace_have_proc_fd (void)
{
  static gsize checked = 0;
  static gboolean have = FALSE;

  if (g_once_init_enter (&checked))
    {
      have = access ("/proc/self/fd", X_OK) == 0;
      g_once_init_leave (&checked, 1);
    }
  return have;
}

/* The real path of an open file below the root, as a relative path. */
static char *
fd_relative_path (RunnerWorkspace *self,
                  int              fd)
{
  g_autofree char *proc = g_strdup_printf ("/proc/self/fd/%d", fd);
  g_autofree char *target = g_file_read_link (proc, NULL);
  gsize root_len = strcmp (self->root, "/") == 0 ? 0 : strlen (self->root);

  if (target == NULL || strncmp (target, self->root, root_len) != 0)
    return NULL;
  if (target[root_len] == '\0')
    return g_strdup ("");
  if (target[root_len] != '/')
    return NULL;
  return g_strdup (target + root_len + 1);
}

/* Fills the temporary file @fd and gives it @mode and the old owner. */
static gboolean
write_temp (int          fd,
            GBytes      *content,
            mode_t       mode,
            struct stat *old)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (content, &size);

  if (!write_all (fd, data, size))
    return FALSE;
  if (old != NULL && (old->st_uid != geteuid () || old->st_gid != getegid ()))
    {
      if (fchown (fd, old->st_uid, old->st_gid) < 0)
        g_debug ("cannot keep the owner of a file: %s", g_strerror (errno));
    }
  if (fchmod (fd, mode) < 0)
    return FALSE;
  return fsync (fd) == 0;
}

/* Commits a named temporary file: rename over @base, or (exclusive) only
 * if @base does not exist yet. The temporary name is gone afterwards. */
static gboolean
commit_named (int         dirfd,
              const char *tmp,
              const char *base,
              gboolean    exclusive)
{
  int errsv;

  if (!exclusive)
    {
      if (renameat (dirfd, tmp, dirfd, base) == 0)
        return TRUE;
    }
  else if (renameat2 (dirfd, tmp, dirfd, base, RENAME_NOREPLACE) == 0)
    return TRUE;
  else if (errno == EINVAL || errno == ENOSYS)
    {
      /* No RENAME_NOREPLACE on this file system: link(2) never replaces. */
      if (linkat (dirfd, tmp, dirfd, base, 0) == 0)
        {
          unlinkat (dirfd, tmp, 0);
          return TRUE;
        }
    }
  errsv = errno;
  unlinkat (dirfd, tmp, 0);
  errno = errsv;
  return FALSE;
}

/* Commits an O_TMPFILE file by linking it in. */
static gboolean
commit_anonymous (int         dirfd,
                  int         fd,
                  const char *base,
                  gboolean    exclusive)
{
  g_autofree char *proc = g_strdup_printf ("/proc/self/fd/%d", fd);

  if (exclusive)
    return linkat (AT_FDCWD, proc, dirfd, base, AT_SYMLINK_FOLLOW) == 0;

  for (guint tries = 0; tries < 100; tries++)
    {
      g_autofree char *tmp = runner_beneath_temp_name_new (base);

      if (linkat (AT_FDCWD, proc, dirfd, tmp, AT_SYMLINK_FOLLOW) == 0)
        return commit_named (dirfd, tmp, base, FALSE);
      if (errno != EEXIST)
        return FALSE;
    }
  return FALSE;
}

static gboolean
write_into (RunnerWorkspace *self,
            Op              *op,
            int              dirfd,
            const char      *relative,
            struct stat     *old,
            GCancellable    *cancellable,
            GError         **error)
{
  const char *base;
  mode_t mode = old != NULL ? (old->st_mode & 07777) : 0644;
  g_auto(RunnerFd) fd = -1;
  g_autofree char *tmp = NULL;
  gboolean ok;

  runner_beneath_split (relative, NULL, &base);
  if (runner_workspace_have_proc_fd () && g_atomic_int_get (&self->use_tmpfile))
    {
      fd = openat (dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
      if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return runner_beneath_set_error (error, errno, relative);
    }
  for (guint tries = 0; fd < 0 && tries < 100; tries++)
    {
      g_clear_pointer (&tmp, g_free);
      tmp = runner_beneath_temp_name_new (base);
      fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
      if (fd < 0 && errno != EEXIST)
        return runner_beneath_set_error (error, errno, relative);
    }
  if (fd < 0)
    return runner_beneath_set_error (error, EEXIST, relative);
  /* Held until the file is committed or removed: an unlocked temporary
   * file is one a crash left behind (runner_workspace_clean_temp_async()). */
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    g_debug ("cannot lock a temporary file: %s", g_strerror (errno));

  runner_workspace_op_own (self, op, relative);
  if (!write_temp (fd, op->content, mode, old) || g_cancellable_is_cancelled (cancellable))
    {
      int errsv = g_cancellable_is_cancelled (cancellable) ? ECANCELED : errno;

      if (tmp != NULL)
        unlinkat (dirfd, tmp, 0);
      return runner_beneath_set_error (error, errsv, relative);
    }

  if (tmp != NULL)
    ok = commit_named (dirfd, tmp, base, op->flag);
  else
    ok = commit_anonymous (dirfd, fd, base, op->flag);
  if (!ok)
    return runner_beneath_set_error (error, errno, relative);
  runner_beneath_fsync_dir (dirfd);
  runner_workspace_op_add_change (op, RUNNER_WORKSPACE_CHANGE_WRITTEN, relative, NULL);
  return TRUE;
}

static gboolean
write_file (RunnerWorkspace *self,
            Op              *op,
            const char      *relative,
            gboolean         followed,
            GCancellable    *cancellable,
            GError         **error)
{
  g_autofree char *dir = NULL;
  const char *base;
  g_auto(RunnerFd) dirfd = -1;
  struct stat st;

  runner_beneath_split (relative, &dir, &base);
  if (*relative == '\0')
    {
      runner_beneath_set_refused (error, _("the workspace root cannot be written"));
      return FALSE;
    }
  dirfd = runner_workspace_ensure_dir (self, op, dir, error);
  if (dirfd < 0)
    return FALSE;

  if (fstatat (dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno != ENOENT)
        return runner_beneath_set_error (error, errno, relative);
      return write_into (self, op, dirfd, relative, NULL, cancellable, error);
    }

  if (S_ISLNK (st.st_mode) && !followed)
    {
      /* Write through a symlink to the file it names, if that is inside;
       * a dangling symlink is replaced by the file. */
      g_auto(RunnerFd) target = runner_workspace_open_errno (self, relative, O_PATH, 0);
      g_autofree char *real = NULL;

      if (target < 0 && errno == ENOENT)
        return write_into (self, op, dirfd, relative, NULL, cancellable, error);
      if (target < 0)
        return runner_beneath_set_error (error, errno, relative);
      real = fd_relative_path (self, target);
      if (real == NULL)
        return runner_beneath_set_error (error, EXDEV, relative);
      if (!write_file (self, op, real, TRUE, cancellable, error))
        return FALSE;
      runner_workspace_op_add_change (op, RUNNER_WORKSPACE_CHANGE_WRITTEN, relative, NULL);
      return TRUE;
    }
  if (S_ISDIR (st.st_mode))
    return runner_beneath_set_error (error, EISDIR, relative);
  if (op->flag)
    return runner_beneath_set_error (error, EEXIST, relative);
  if (!S_ISREG (st.st_mode))
    {
      g_autofree char *virt = runner_beneath_to_virtual (relative);

      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID, _("%s is not a regular file"), virt);
      return FALSE;
    }
  return write_into (self, op, dirfd, relative, &st, cancellable, error);
}

static void
write_thread (GTask        *task,
              gpointer      source,
              gpointer      data,
              GCancellable *cancellable)
{
  RunnerWorkspace *self = source;
  Op *op = data;
  GError *error = NULL;
  gboolean ok;

  /* "a.txt/" names a directory: no file is written there. */
  if (op->dir_only)
    {
      g_auto(RunnerFd) fd = runner_workspace_open_errno (self, op->path, O_PATH, 0);
      struct stat st;

      runner_beneath_set_error (&error, fd >= 0 && fstat (fd, &st) == 0 && !S_ISDIR (st.st_mode)
                                ? ENOTDIR : EISDIR, op->path);
      runner_workspace_op_thread_return (task, FALSE, error);
      return;
    }
  ok = write_file (self, op, op->path, FALSE, cancellable, &error);
  if (!ok)
    runner_workspace_op_rollback_created (self, op);
  runner_workspace_op_thread_return (task, ok, error);
}

/**
 * runner_workspace_write_async:
 * @self: a #RunnerWorkspace
 * @path: a client path
 * @content: the new content
 * @exclusive: %TRUE to fail with %G_IO_ERROR_EXISTS if @path exists
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * Replaces a file atomically: the content goes into a temporary file in the
 * same directory (O_TMPFILE, else `.NAME.runner-XXXXXX`), is fsync'ed and
 * renamed over @path; readers see the old or the new file, never a part.
 * An existing file keeps its mode and owner; a new one gets 0644. Missing
 * parents are created. Writing through a symlink that stays inside writes
 * its target. Refused: the root (%RUNNER_ERROR_FORBIDDEN), a directory
 * (%G_IO_ERROR_IS_DIRECTORY), content over max-file-size
 * (%RUNNER_ERROR_TOO_BIG). On failure the target is unchanged and neither a
 * temporary file nor a directory created for it is left behind.
 */
void
runner_workspace_write_async (RunnerWorkspace     *self,
                              const char          *path,
                              GBytes              *content,
                              gboolean             exclusive,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  Op *op;

  g_return_if_fail (RUNNER_IS_WORKSPACE (self));
  g_return_if_fail (content != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = runner_workspace_op_new_for_path (self, path, runner_workspace_write_async, cancellable,
                                         callback, user_data);
  if (op == NULL)
    return;
  if ((goffset) g_bytes_get_size (content) > self->max_file_size)
    {
      g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
      g_autofree char *virt = runner_beneath_to_virtual (op->path);

      g_task_set_source_tag (task, runner_workspace_write_async);
      g_task_return_new_error (task, RUNNER_ERROR, RUNNER_ERROR_TOO_BIG,
                               _("%s: content is larger than %" G_GOFFSET_FORMAT " bytes"), virt,
                               self->max_file_size);
      runner_workspace_op_free (op);
      return;
    }
  op->content = g_bytes_ref (content);
  op->flag = exclusive;
  runner_workspace_run_op (self, op, write_thread, runner_workspace_write_async, cancellable,
                           callback, user_data);
}

gboolean
runner_workspace_write_finish (RunnerWorkspace *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  return runner_workspace_op_finish (self, result, runner_workspace_write_async, error);
}

/* ---------------------------------------------------------------------- */
/* Temporary files left behind */

/* Removes @name in @dirfd if it is a regular file, unchanged since
 * @before and locked by no writer. */
static gboolean
remove_stale_temp (int         dirfd,
                   const char *name,
                   time_t      before)
{
  g_auto(RunnerFd) fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY
                                             | O_CLOEXEC);
  struct stat st, again;

  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_mtime > before)
    return FALSE;
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    return FALSE;
  /* still that file under that name */
  if (fstatat (dirfd, name, &again, AT_SYMLINK_NOFOLLOW) < 0 || again.st_dev != st.st_dev
      || again.st_ino != st.st_ino)
    return FALSE;
  return unlinkat (dirfd, name, 0) == 0;
}

/* Takes @fd. Never follows a symlink; skips excluded names. */
static guint
clean_temp_dir (Op           *op,
                int           fd,
                time_t        before,
                GCancellable *cancellable)
{
  g_autoptr(DIR) dir = fdopendir (fd);
  struct dirent *de;
  guint removed = 0;

  if (dir == NULL)
    {
      close (fd);
      return 0;
    }
  while ((de = readdir (dir)) != NULL && !g_cancellable_is_cancelled (cancellable))
    {
      if (runner_workspace_is_dot_or_dotdot (de->d_name)
          || runner_workspace_name_is_excluded (op->excluded, de->d_name))
        continue;
      if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN)
        {
          int sub = openat (dirfd (dir), de->d_name,
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

          if (sub >= 0)
            {
              removed += clean_temp_dir (op, sub, before, cancellable);
              continue;
            }
        }
      if (runner_beneath_is_temp_name (de->d_name)
          && remove_stale_temp (dirfd (dir), de->d_name, before))
        removed++;
    }
  return removed;
}

static void
clean_temp_thread (GTask        *task,
                   gpointer      source,
                   gpointer      data,
                   GCancellable *cancellable)
{
  RunnerWorkspace *self = source;
  int fd = openat (self->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  time_t before = time (NULL) - TEMP_STALE_SECONDS;
  guint removed;

  if (fd < 0)
    {
      GError *error = NULL;

      runner_beneath_set_error (&error, errno, "");
      g_task_return_error (task, error);
      return;
    }
  removed = clean_temp_dir (data, fd, before, cancellable);
  g_task_return_int (task, removed);
}

/**
 * runner_workspace_clean_temp_async:
 * @self: a #RunnerWorkspace
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * Removes the temporary files (`.NAME.runner-XXXXXX`) that writes cut
 * short by a crash left behind: only regular files with exactly that form
 * of name, not modified for TEMP_STALE_SECONDS and locked by no writer (a
 * write holds a lock on its temporary file until it is renamed). Walks the
 * workspace without following symlinks and skips excluded names.
 */
void
runner_workspace_clean_temp_async (RunnerWorkspace     *self,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (RUNNER_IS_WORKSPACE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, runner_workspace_clean_temp_async);
  g_task_set_task_data (task, runner_workspace_op_new (self), runner_workspace_op_free);
  g_task_run_in_thread (task, clean_temp_thread);
}

/**
 * runner_workspace_clean_temp_finish:
 * @self: a #RunnerWorkspace
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: how many files were removed, or -1 with @error set
 */
int
runner_workspace_clean_temp_finish (RunnerWorkspace *self,
                                    GAsyncResult    *result,
                                    GError         **error)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), -1);
  g_return_val_if_fail (g_task_is_valid (result, self), -1);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == runner_workspace_clean_temp_async, -1);

  return (int) g_task_propagate_int (G_TASK (result), error);
}
