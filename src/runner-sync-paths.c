/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-sync"

#include "config.h"

#include "runner-sync-private.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Paths: a workspace path as the queue keys it, the S3 key for it and back,
 * what is never synced, and opening what lies below the root without
 * following a symbolic link. */

/* Normalizes a workspace path ("/workspace/a/b", "a/./b", an absolute path
 * under the root) into "a/b"; NULL when it is not inside the workspace. */
char *
runner_sync_normalize_path (RunnerSync *self,
                            const char *path)
{
  g_auto(GStrv) parts = NULL;
  g_autoptr(GPtrArray) kept = g_ptr_array_new ();
  const char *rest = path;
  gsize root_len = strlen (self->root);

  if (path == NULL)
    return NULL;
  if (g_str_has_prefix (path, RUNNER_WORKSPACE_VIRTUAL_ROOT) &&
      (path[strlen (RUNNER_WORKSPACE_VIRTUAL_ROOT)] == '/' ||
       path[strlen (RUNNER_WORKSPACE_VIRTUAL_ROOT)] == '\0'))
    rest = path + strlen (RUNNER_WORKSPACE_VIRTUAL_ROOT);
  else if (strncmp (path, self->root, root_len) == 0 &&
           (path[root_len] == '/' || path[root_len] == '\0'))
    rest = path + root_len;

  parts = g_strsplit (rest, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0' || g_str_equal (parts[i], "."))
        continue;
      if (g_str_equal (parts[i], ".."))
        return NULL;
      g_ptr_array_add (kept, parts[i]);
    }
  g_ptr_array_add (kept, NULL);
  return g_strjoinv ("/", (char **) kept->pdata);
}

/* Whether one of @a and @b is the other or inside it. */
gboolean
runner_sync_paths_overlap (const char *a,
                           const char *b)
{
  gsize la, lb;

  if (a == NULL || b == NULL)
    return FALSE;
  la = strlen (a);
  lb = strlen (b);
  if (la == 0 || lb == 0)
    return TRUE;
  if (la > lb)
    return strncmp (a, b, lb) == 0 && a[lb] == '/';
  if (lb > la)
    return strncmp (a, b, la) == 0 && b[la] == '/';
  return g_str_equal (a, b);
}

static gboolean
is_temp_name (const char *name)
{
  /* our own downloads in progress: .NAME.s3-xxxxxxxx */
  gsize len = strlen (name);

  return name[0] == '.' && len > 12 && strncmp (name + len - 12, ".s3-", 4) == 0;
}

/* Excluded names at any depth, the state dir, our temporary files. */
gboolean
runner_sync_is_excluded (RunnerSync *self,
                         const char *rel)
{
  g_auto(GStrv) parts = NULL;

  if (self->state_rel != NULL && runner_sync_paths_overlap (rel, self->state_rel) && rel[0] != '\0' &&
      strlen (rel) >= strlen (self->state_rel))
    return TRUE;
  parts = g_strsplit (rel, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (is_temp_name (parts[i]))
        return TRUE;
      if (self->excluded != NULL && g_strv_contains ((const char * const *) self->excluded, parts[i]))
        return TRUE;
    }
  return FALSE;
}

char *
runner_sync_key_for (RunnerSync *self,
                     const char *rel)
{
  return g_strconcat (self->prefix, rel, NULL);
}

/* A key's path below the prefix, when it is a safe relative path. */
char *
runner_sync_rel_for_key (RunnerSync *self,
                         const char *key)
{
  const char *rel;
  g_auto(GStrv) parts = NULL;

  if (!g_str_has_prefix (key, self->prefix))
    return NULL;
  rel = key + strlen (self->prefix);
  if (rel[0] == '\0' || rel[0] == '/')
    return NULL;
  parts = g_strsplit (rel, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      /* a trailing "" is a folder marker; other empty, "." or ".." parts are unsafe */
      if (parts[i][0] == '\0' && parts[i + 1] == NULL)
        continue;
      if (parts[i][0] == '\0' || g_str_equal (parts[i], ".") || g_str_equal (parts[i], ".."))
        return NULL;
    }
  return g_strdup (rel);
}

/* Opens directory @rel below @root_fd without following symbolic links,
 * creating missing directories when @create is set. */
int
runner_sync_open_dir_beneath (int          root_fd,
                              const char  *rel,
                              gboolean     create,
                              GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (rel, "/", -1);
  int fd = openat (root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return runner_sync_set_errno_error (error, errno, rel), -1;
  for (guint i = 0; parts[i] != NULL; i++)
    {
      int next;

      if (parts[i][0] == '\0')
        continue;
      next = openat (fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0 && errno == ENOENT && create)
        {
          if (mkdirat (fd, parts[i], 0755) != 0 && errno != EEXIST)
            {
              int saved = errno;

              close (fd);
              return runner_sync_set_errno_error (error, saved, rel), -1;
            }
          next = openat (fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
      if (next < 0)
        {
          int saved = errno == ELOOP ? ENOTDIR : errno;

          close (fd);
          return runner_sync_set_errno_error (error, saved, rel), -1;
        }
      close (fd);
      fd = next;
    }
  return fd;
}

void
runner_sync_split_rel (const char  *rel,
                       char       **dir,
                       const char **base)
{
  const char *slash = strrchr (rel, '/');

  *dir = slash != NULL ? g_strndup (rel, slash - rel) : g_strdup ("");
  *base = slash != NULL ? slash + 1 : rel;
}

/* Opens regular file @rel below the root, never through a symbolic link. */
int
runner_sync_open_file_beneath (int          root_fd,
                               const char  *rel,
                               GError     **error)
{
  g_autofree char *dir = NULL;
  const char *base;
  int dir_fd, fd;

  runner_sync_split_rel (rel, &dir, &base);
  dir_fd = runner_sync_open_dir_beneath (root_fd, dir, FALSE, error);
  if (dir_fd < 0)
    return -1;
  fd = openat (dir_fd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    runner_sync_set_errno_error (error, errno == ELOOP ? ENOENT : errno, rel);
  close (dir_fd);
  return fd;
}
