/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-beneath"

#include "config.h"

#include "runner-beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#if HAVE_OPENAT2
#include <linux/openat2.h>
#endif

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "runner-error.h"

/*
 * The one confined resolver: client paths become relative paths, and those
 * are opened below a directory fd so that nothing (`..`, symlinks, a rename
 * racing the lookup) leads outside it. The workspace and S3 sync both open
 * through here; so do the names of Runner's temporary files.
 */

#if HAVE_OPENAT2 && defined(SYS_openat2)
#define USE_OPENAT2 1
#else
#define USE_OPENAT2 0
#endif

#define MAX_SYMLINKS 40
#define TEMP_MARK ".runner-"
#define TEMP_RANDOM 6

/* Set once the kernel answers ENOSYS; then every lookup walks. */
static int openat2_missing;

/* ---------------------------------------------------------------------- */
/* Paths */

/**
 * runner_beneath_normalize:
 * @path: a client path, not necessarily NUL-terminated
 * @length: the length of @path in bytes, or -1 if it is NUL-terminated
 * @host_root: (nullable): the real root, for absolute paths below it
 * @error: return location for a #GError
 *
 * Checks @path lexically and normalizes it: `.` and empty components
 * vanish, `..` pops one. An absolute path must lie below the virtual root
 * (`/workspace`) or, when given, @host_root. Refused with
 * %RUNNER_ERROR_FORBIDDEN: `..` that climbs above the root, absolute paths
 * elsewhere, NUL bytes (JSON's `\u0000`), paths of PATH_MAX bytes or more
 * and components over NAME_MAX. Symlinks are checked when the path is
 * opened, by runner_beneath_open().
 *
 * Returns: (transfer full): the relative path ("" for the root, "a/b.txt"),
 *   or %NULL with @error set
 */
char *
runner_beneath_normalize (const char *path,
                          gssize      length,
                          const char *host_root,
                          GError    **error)
{
  g_autoptr(GPtrArray) parts = NULL;
  g_autoptr(GString) out = NULL;
  gboolean absolute;
  gsize len;
  gsize start;

  g_return_val_if_fail (path != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (path == NULL)
    path = "";
  len = length < 0 ? strlen (path) : (gsize) length;
  if (memchr (path, '\0', len) != NULL)
    {
      runner_beneath_set_refused (error, _("it contains a NUL byte"));
      return NULL;
    }
  if (len >= PATH_MAX)
    {
      runner_beneath_set_refused (error, _("it is too long"));
      return NULL;
    }

  absolute = len > 0 && path[0] == '/';
  if (absolute && host_root != NULL)
    {
      gsize root_len = strcmp (host_root, "/") == 0 ? 0 : strlen (host_root);

      if (len >= root_len && memcmp (path, host_root, root_len) == 0
          && (len == root_len || path[root_len] == '/'))
        {
          path += root_len;
          len -= root_len;
          absolute = FALSE;
        }
    }

  /* Lexical normalization: "." and empty components vanish, ".." pops
   * and may never climb above where the path started. */
  parts = g_ptr_array_new_with_free_func (g_free);
  start = 0;
  while (start <= len)
    {
      const char *comp = path + start;
      const char *end = memchr (comp, '/', len - start);
      gsize n = end ? (gsize) (end - comp) : len - start;

      start += n + 1;
      if (n == 0 || (n == 1 && comp[0] == '.'))
        continue;
      if (n == 2 && comp[0] == '.' && comp[1] == '.')
        {
          if (parts->len == 0)
            {
              runner_beneath_set_refused (error, _("it leads outside the workspace"));
              return NULL;
            }
          g_ptr_array_remove_index (parts, parts->len - 1);
          continue;
        }
      if (n > NAME_MAX)
        {
          runner_beneath_set_refused (error, _("a file name in it is too long"));
          return NULL;
        }
      g_ptr_array_add (parts, g_strndup (comp, n));
    }

  if (absolute)
    {
      if (parts->len == 0
          || strcmp (g_ptr_array_index (parts, 0), RUNNER_BENEATH_VIRTUAL_ROOT + 1) != 0)
        {
          runner_beneath_set_refused (error, _("it leads outside the workspace"));
          return NULL;
        }
      g_ptr_array_remove_index (parts, 0);
    }

  out = g_string_sized_new (len);
  for (guint i = 0; i < parts->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, '/');
      g_string_append (out, g_ptr_array_index (parts, i));
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/**
 * runner_beneath_names_directory:
 * @path: a client path
 *
 * A path that ends in `/` (or `/.`) names a directory, as in POSIX:
 * runner_beneath_normalize() drops that slash, and operations on such a
 * path refuse anything but a directory (%G_IO_ERROR_NOT_DIRECTORY).
 *
 * Returns: whether @path ends in a slash
 */
gboolean
runner_beneath_names_directory (const char *path)
{
  gsize len = path != NULL ? strlen (path) : 0;

  while (len >= 2 && path[len - 1] == '.' && path[len - 2] == '/')
    len--;
  return len > 0 && path[len - 1] == '/';
}

/**
 * runner_beneath_to_virtual:
 * @relative: (nullable): a relative path as runner_beneath_normalize() returns it
 *
 * Returns: (transfer full): the client's view of @relative, `/workspace/...`
 */
char *
runner_beneath_to_virtual (const char *relative)
{
  if (relative == NULL || *relative == '\0')
    return g_strdup (RUNNER_BENEATH_VIRTUAL_ROOT);
  return g_strconcat (RUNNER_BENEATH_VIRTUAL_ROOT "/", relative, NULL);
}

/**
 * runner_beneath_split:
 * @relative: a relative path
 * @parent: (out) (optional): its parent ("a/b/c" -> "a/b", "c" -> "")
 * @name: (out) (optional): its last component, pointing into @relative
 */
void
runner_beneath_split (const char  *relative,
                      char       **parent,
                      const char **name)
{
  const char *slash = strrchr (relative, '/');

  if (parent != NULL)
    *parent = slash != NULL ? g_strndup (relative, slash - relative) : g_strdup ("");
  if (name != NULL)
    *name = slash != NULL ? slash + 1 : relative;
}

/* TRUE when the relative @path is @prefix or below it. */
gboolean
runner_beneath_is_within (const char *path,
                          const char *prefix)
{
  gsize len = strlen (prefix);

  if (len == 0)
    return TRUE;
  return strncmp (path, prefix, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/* ---------------------------------------------------------------------- */
/* Errors */

/**
 * runner_beneath_set_refused:
 * @error: return location for a #GError
 * @why: the reason, translated
 *
 * Sets %RUNNER_ERROR_FORBIDDEN, "Path refused: @why".
 */
void
runner_beneath_set_refused (GError    **error,
                            const char *why)
{
  g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN, _("Path refused: %s"), why);
}

/**
 * runner_beneath_set_error:
 * @error: return location for a #GError
 * @errsv: an errno value
 * @relative: the path it is about
 *
 * EXDEV, what RESOLVE_BENEATH (and the walk) answer for an escape, becomes
 * %RUNNER_ERROR_FORBIDDEN; anything else the matching %G_IO_ERROR. The
 * message names the virtual path.
 *
 * Returns: %FALSE
 */
gboolean
runner_beneath_set_error (GError    **error,
                          int         errsv,
                          const char *relative)
{
  g_autofree char *virt = runner_beneath_to_virtual (relative);

  if (errsv == EXDEV)
    g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN,
                 _("%s: path leads outside the workspace"), virt);
  else
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", virt,
                 g_strerror (errsv));
  return FALSE;
}

/* ---------------------------------------------------------------------- */
/* Opening beneath the root */

static void
close_fd_at (gpointer data)
{
  close (*(int *) data);
}

/* Pushes the components of @path on @todo so that the first one is on top. */
static void
push_components (GPtrArray  *todo,
                 const char *path)
{
  g_auto(GStrv) parts = g_strsplit (path, "/", -1);

  for (guint i = g_strv_length (parts); i > 0; i--)
    if (*parts[i - 1] != '\0')
      g_ptr_array_add (todo, g_strdup (parts[i - 1]));
}

/* Reads the symlink @name in @dirfd and puts its target on @todo; an
 * absolute target must lie below the real @root, and restarts from there. */
static gboolean
expand_link (const char *root,
             int         dirfd,
             const char *name,
             GPtrArray  *todo,
             GArray     *dirs,
             guint      *links)
{
  char buf[PATH_MAX];
  const char *target = buf;
  ssize_t n;

  if (++*links > MAX_SYMLINKS)
    {
      errno = ELOOP;
      return FALSE;
    }
  n = readlinkat (dirfd, name, buf, sizeof buf);
  if (n < 0)
    return FALSE;
  if ((gsize) n >= sizeof buf)
    {
      errno = ENAMETOOLONG;
      return FALSE;
    }
  buf[n] = '\0';

  if (buf[0] == '/')
    {
      gsize root_len;

      if (root == NULL)
        {
          errno = EXDEV;
          return FALSE;
        }
      root_len = strcmp (root, "/") == 0 ? 0 : strlen (root);
      if (strncmp (buf, root, root_len) != 0 || (buf[root_len] != '/' && buf[root_len] != '\0'))
        {
          errno = EXDEV;
          return FALSE;
        }
      target = buf + root_len;
      g_array_set_size (dirs, 0);
    }
  push_components (todo, target);
  return TRUE;
}

/* The fallback for kernels without openat2(2): one openat(2) per component
 * with O_NOFOLLOW on directory fds we hold, following symlinks ourselves so
 * that none can lead above the root, whatever is swapped in meanwhile. */
static int
walk_beneath (int                root_fd,
              const char        *root,
              const char        *path,
              int                flags,
              mode_t             mode,
              RunnerBeneathFlags how)
{
  g_autoptr(GPtrArray) todo = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) dirs = g_array_new (FALSE, FALSE, sizeof (int));
  gboolean follow = !(how & RUNNER_BENEATH_NO_SYMLINKS);
  guint links = 0;

  g_array_set_clear_func (dirs, close_fd_at);
  if (path[0] == '/')
    {
      errno = EXDEV;
      return -1;
    }
  push_components (todo, path);

  for (;;)
    {
      int cur = dirs->len > 0 ? g_array_index (dirs, int, dirs->len - 1) : root_fd;
      g_autofree char *comp = NULL;
      struct stat st;
      int fd;
      int errsv;

      if (todo->len == 0)
        return openat (cur, ".", flags, mode);

      comp = g_ptr_array_steal_index (todo, todo->len - 1);
      if (strcmp (comp, ".") == 0)
        continue;
      if (strcmp (comp, "..") == 0)
        {
          if (dirs->len == 0)
            {
              errno = EXDEV;
              return -1;
            }
          g_array_set_size (dirs, dirs->len - 1);
          continue;
        }

      if (todo->len > 0)
        {
          fd = openat (cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0)
            return -1;
          if (fstat (fd, &st) < 0)
            {
              errsv = errno;
              close (fd);
              errno = errsv;
              return -1;
            }
          if (S_ISDIR (st.st_mode))
            {
              g_array_append_val (dirs, fd);
              continue;
            }
          if (!S_ISLNK (st.st_mode))
            {
              close (fd);
              errno = ENOTDIR;
              return -1;
            }
          if (!follow || !expand_link (root, fd, "", todo, dirs, &links))
            {
              errsv = follow ? errno : ELOOP;
              close (fd);
              errno = errsv;
              return -1;
            }
          close (fd);
          continue;
        }

      /* The last component: open it as asked, but never through a link. */
      fd = openat (cur, comp, flags | O_NOFOLLOW, mode);
      if (fd >= 0 && (flags & O_PATH) && !(flags & O_NOFOLLOW)
          && fstat (fd, &st) == 0 && S_ISLNK (st.st_mode))
        {
          gboolean ok = follow && expand_link (root, fd, "", todo, dirs, &links);

          errsv = follow ? errno : ELOOP;
          close (fd);
          if (!ok)
            {
              errno = errsv;
              return -1;
            }
          continue;
        }
      if (fd >= 0 || (flags & O_NOFOLLOW))
        return fd;
      errsv = errno;
      if ((errsv == ELOOP || errsv == ENOTDIR)
          && fstatat (cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode))
        {
          if (!follow)
            {
              errno = ELOOP;
              return -1;
            }
          if (!expand_link (root, cur, comp, todo, dirs, &links))
            return -1;
          continue;
        }
      errno = errsv;
      return -1;
    }
}

#if USE_OPENAT2
static int
do_openat2 (int                dirfd,
            const char        *path,
            int                flags,
            mode_t             mode,
            RunnerBeneathFlags how)
{
  struct open_how open_how;

  memset (&open_how, 0, sizeof open_how);
  open_how.flags = (guint64) flags;
  if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
    open_how.mode = mode;
  open_how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  if (how & RUNNER_BENEATH_NO_SYMLINKS)
    open_how.resolve |= RESOLVE_NO_SYMLINKS;
  return (int) syscall (SYS_openat2, dirfd, path, &open_how, sizeof open_how);
}
#endif

/**
 * runner_beneath_open:
 * @root_fd: a directory fd (O_PATH will do)
 * @root: (nullable): the real absolute path of @root_fd, for absolute
 *   symlinks that point below it; %NULL refuses every absolute symlink
 * @relative: a path relative to @root_fd (as runner_beneath_normalize() returns)
 * @flags: open(2) flags; O_CLOEXEC is always added
 * @mode: the mode for O_CREAT
 * @how: #RunnerBeneathFlags
 *
 * Opens @relative so that no component, symlinks included, can lead outside
 * @root_fd, even if the tree changes during the call: openat2(2) with
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, or an equivalent walk where the
 * kernel lacks it. Symlinks that stay inside are followed (unless @flags has
 * O_NOFOLLOW, for the last component, or @how has
 * %RUNNER_BENEATH_NO_SYMLINKS, for any).
 *
 * Returns: a file descriptor the caller closes, or -1 with errno set;
 *   EXDEV means "leads outside", ELOOP a symlink that is not followed
 */
int
runner_beneath_open (int                root_fd,
                     const char        *root,
                     const char        *relative,
                     int                flags,
                     mode_t             mode,
                     RunnerBeneathFlags how)
{
  const char *path = *relative != '\0' ? relative : ".";

  flags |= O_CLOEXEC;
#if USE_OPENAT2
  if (!(how & RUNNER_BENEATH_NO_OPENAT2) && !g_atomic_int_get (&openat2_missing))
    {
      int fd = -1;

      /* RESOLVE_BENEATH answers EAGAIN when a rename raced a "..". */
      for (guint tries = 0; tries < 16; tries++)
        {
          fd = do_openat2 (root_fd, path, flags, mode, how);
          if (fd >= 0 || errno != EAGAIN)
            break;
        }
      if (fd >= 0)
        return fd;
      if (errno == ENOSYS)
        {
          g_debug ("openat2 is missing; walking paths component by component");
          g_atomic_int_set (&openat2_missing, 1);
        }
      else if (errno != EXDEV)
        return -1;
      /* EXDEV: RESOLVE_BENEATH refuses every absolute symlink, even one
       * that points inside the root; the walk tells those apart. */
    }
#endif
  return walk_beneath (root_fd, root, path, flags, mode, how);
}

/**
 * runner_beneath_have_openat2:
 *
 * Returns: whether runner_beneath_open() uses openat2(2) by default
 */
gboolean
runner_beneath_have_openat2 (void)
{
  return USE_OPENAT2 && !g_atomic_int_get (&openat2_missing);
}

/**
 * runner_beneath_fsync_dir:
 * @dirfd: a directory fd (O_PATH will do)
 *
 * Makes the directory's entries durable; a failure is only logged.
 */
void
runner_beneath_fsync_dir (int dirfd)
{
  int fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0 || fsync (fd) < 0)
    g_debug ("fsync of a directory failed: %s", g_strerror (errno));
  if (fd >= 0)
    close (fd);
}

/**
 * runner_beneath_ensure_dir:
 * @root_fd: as for runner_beneath_open()
 * @root: (nullable): as for runner_beneath_open()
 * @relative: the directory
 * @how: as for runner_beneath_open()
 * @func: (nullable): told about each directory it creates
 * @user_data: for @func
 *
 * `mkdir -p` below the root: each missing directory is created (0755
 * whatever the umask) through a parent opened with runner_beneath_open(),
 * and its parent fsync'ed.
 *
 * Returns: an O_PATH fd on the directory, or -1 with errno set
 */
int
runner_beneath_ensure_dir (int                    root_fd,
                           const char            *root,
                           const char            *relative,
                           RunnerBeneathFlags     how,
                           RunnerBeneathMkdirFunc func,
                           gpointer               user_data)
{
  g_autofree char *parent = NULL;
  const char *name;
  int pfd;
  int fd;

  fd = runner_beneath_open (root_fd, root, relative, O_PATH | O_DIRECTORY, 0, how);
  if (fd >= 0 || errno != ENOENT || *relative == '\0')
    return fd;

  runner_beneath_split (relative, &parent, &name);
  pfd = runner_beneath_ensure_dir (root_fd, root, parent, how, func, user_data);
  if (pfd < 0)
    return -1;
  if (func != NULL)
    func (relative, FALSE, user_data);
  if (mkdirat (pfd, name, 0755) < 0)
    {
      int errsv = errno;

      if (errsv != EEXIST)
        {
          close (pfd);
          errno = errsv;
          return -1;
        }
    }
  else
    {
      fd = openat (pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      /* 0755 whatever the umask, as files get 0644. */
      if (fd >= 0 && fchmod (fd, 0755) < 0)
        g_debug ("cannot chmod a new directory: %s", g_strerror (errno));
      if (fd >= 0)
        close (fd);
      if (func != NULL)
        func (relative, TRUE, user_data);
      runner_beneath_fsync_dir (pfd);
    }
  close (pfd);

  return runner_beneath_open (root_fd, root, relative, O_PATH | O_DIRECTORY, 0, how);
}

/* ---------------------------------------------------------------------- */
/* Temporary files */

/**
 * runner_beneath_temp_name_new:
 * @name: the file the temporary one stands in for (a name, not a path)
 *
 * The one form of Runner's temporary files, `.NAME.runner-XXXXXX` beside
 * the file they become: atomic writes and S3 downloads alike. Listings,
 * the watcher and sync leave such names out; a crash's leftovers are
 * removed at start (runner_workspace_clean_temp_async()). @name is cut
 * short to keep the result within NAME_MAX.
 *
 * Returns: (transfer full): a fresh random name
 */
char *
runner_beneath_temp_name_new (const char *name)
{
  static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  char random[TEMP_RANDOM + 1];
  int keep = MIN ((int) strlen (name), NAME_MAX - 1 - (int) strlen (TEMP_MARK) - TEMP_RANDOM);

  for (guint i = 0; i < TEMP_RANDOM; i++)
    random[i] = chars[g_random_int_range (0, sizeof chars - 1)];
  random[TEMP_RANDOM] = '\0';
  return g_strdup_printf (".%.*s" TEMP_MARK "%s", keep, name, random);
}

/**
 * runner_beneath_is_temp_name:
 * @name: (nullable): a file name
 *
 * Returns: whether @name has the form runner_beneath_temp_name_new() makes
 */
gboolean
runner_beneath_is_temp_name (const char *name)
{
  gsize len;
  const char *mark;

  if (name == NULL || name[0] != '.')
    return FALSE;
  len = strlen (name);
  if (len < 1 + strlen (TEMP_MARK) + TEMP_RANDOM + 1)
    return FALSE;
  mark = name + len - TEMP_RANDOM - strlen (TEMP_MARK);
  if (memcmp (mark, TEMP_MARK, strlen (TEMP_MARK)) != 0)
    return FALSE;
  for (const char *p = name + len - TEMP_RANDOM; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p))
      return FALSE;
  return TRUE;
}
