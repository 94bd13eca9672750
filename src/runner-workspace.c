/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-workspace"

#include "config.h"

#include "runner-workspace.h"
#include "runner-workspace-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#if HAVE_OPENAT2
#include <linux/openat2.h>
#endif

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "runner-error.h"

#if HAVE_OPENAT2 && defined(SYS_openat2)
#define USE_OPENAT2 1
#else
#define USE_OPENAT2 0
#endif

#define DEFAULT_MAX_FILE_SIZE (10 * 1024 * 1024)
#define DEFAULT_MAX_ENTRIES 100000
/* A quarter of the default per-client queue (RUNNER_MAX_QUEUED, 8M). */
#define DEFAULT_MAX_TREE_BYTES (2 * 1024 * 1024)
#define MAX_SYMLINKS 40
#define TEMP_MARK ".runner-"
#define TEMP_RANDOM 6
/* An unlocked temporary file this old is left by a crash (see write_into). */
#define TEMP_STALE_SECONDS 10
#define DEBOUNCE_MS 50
/* IN_EXCL_UNLINK also keeps out the events of O_TMPFILE files, which
 * inotify names "#<inode>". */
#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM \
                    | IN_MOVED_TO | IN_DELETE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)

typedef int RunnerFd;

static void
fd_close (RunnerFd fd)
{
  if (fd >= 0)
    close (fd);
}

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (RunnerFd, fd_close, -1)
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

static void runner_workspace_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RunnerWorkspace, runner_workspace, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      runner_workspace_initable_iface_init))

enum
{
  PROP_0,
  PROP_ROOT,
  PROP_MAX_FILE_SIZE,
  PROP_MAX_ENTRIES,
  PROP_MAX_TREE_BYTES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char * const default_excluded[] = { "node_modules", ".git", NULL };

/* Set once the kernel answers ENOSYS; then every lookup walks. */
static int openat2_missing;

/* ---------------------------------------------------------------------- */
/* Errors */

static char *
virtual_path (const char *relative)
{
  if (relative == NULL || *relative == '\0')
    return g_strdup (RUNNER_WORKSPACE_VIRTUAL_ROOT);
  return g_strconcat (RUNNER_WORKSPACE_VIRTUAL_ROOT "/", relative, NULL);
}

static void
set_forbidden (GError    **error,
               const char *why)
{
  g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN, _("Path refused: %s"), why);
}

/* EXDEV is what RESOLVE_BENEATH (and our walk) answer for an escape. */
static gboolean
set_error_errno (GError    **error,
                 int         errsv,
                 const char *relative)
{
  g_autofree char *virt = virtual_path (relative);

  if (errsv == EXDEV)
    g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN,
                 _("%s: path leads outside the workspace"), virt);
  else
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", virt,
                 g_strerror (errsv));
  return FALSE;
}

/* ---------------------------------------------------------------------- */
/* Paths */

static gboolean
is_dot_or_dotdot (const char *name)
{
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

gboolean
runner_workspace_is_temp_name (const char *name)
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

static char *
make_temp_name (const char *base)
{
  static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  char random[TEMP_RANDOM + 1];
  int keep = MIN ((int) strlen (base), NAME_MAX - 1 - (int) strlen (TEMP_MARK) - TEMP_RANDOM);

  for (guint i = 0; i < TEMP_RANDOM; i++)
    random[i] = chars[g_random_int_range (0, sizeof chars - 1)];
  random[TEMP_RANDOM] = '\0';
  return g_strdup_printf (".%.*s" TEMP_MARK "%s", keep, base, random);
}

/* "a/b/c" -> "a/b", "c" -> "" */
static char *
rel_dirname (const char *relative)
{
  const char *slash = strrchr (relative, '/');

  return slash ? g_strndup (relative, slash - relative) : g_strdup ("");
}

static const char *
rel_basename (const char *relative)
{
  const char *slash = strrchr (relative, '/');

  return slash ? slash + 1 : relative;
}

/* TRUE when @path is @prefix or below it. */
static gboolean
rel_is_within (const char *path,
               const char *prefix)
{
  gsize len = strlen (prefix);

  if (len == 0)
    return TRUE;
  return strncmp (path, prefix, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/**
 * runner_workspace_resolve_len:
 * @self: a #RunnerWorkspace
 * @path: a client path, not necessarily NUL-terminated
 * @length: the length of @path in bytes, or -1 if it is NUL-terminated
 * @error: return location for a #GError
 *
 * Like runner_workspace_resolve(), for strings that may carry NUL bytes
 * (JSON's `\u0000`): any NUL inside @length refuses the path.
 *
 * Returns: (transfer full): the normalized relative path, or %NULL
 */
char *
runner_workspace_resolve_len (RunnerWorkspace *self,
                              const char      *path,
                              gssize           length,
                              GError         **error)
{
  g_autoptr(GPtrArray) parts = NULL;
  g_autoptr(GString) out = NULL;
  gboolean absolute;
  gsize len;
  gsize start;

  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), NULL);
  g_return_val_if_fail (path != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (path == NULL)
    path = "";
  len = length < 0 ? strlen (path) : (gsize) length;
  if (memchr (path, '\0', len) != NULL)
    {
      set_forbidden (error, _("it contains a NUL byte"));
      return NULL;
    }
  if (len >= PATH_MAX)
    {
      set_forbidden (error, _("it is too long"));
      return NULL;
    }

  /* Lexical normalization: "." and empty components vanish, ".." pops
   * and may never climb above where the path started. */
  absolute = len > 0 && path[0] == '/';
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
              set_forbidden (error, _("it leads outside the workspace"));
              return NULL;
            }
          g_ptr_array_remove_index (parts, parts->len - 1);
          continue;
        }
      if (n > NAME_MAX)
        {
          set_forbidden (error, _("a file name in it is too long"));
          return NULL;
        }
      g_ptr_array_add (parts, g_strndup (comp, n));
    }

  if (absolute)
    {
      if (parts->len == 0
          || strcmp (g_ptr_array_index (parts, 0), RUNNER_WORKSPACE_VIRTUAL_ROOT + 1) != 0)
        {
          set_forbidden (error, _("it leads outside the workspace"));
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
 * runner_workspace_resolve:
 * @self: a #RunnerWorkspace
 * @path: a client path: `/workspace/...` or relative to it
 * @error: return location for a #GError
 *
 * Checks @path lexically and normalizes it. Refused with
 * %RUNNER_ERROR_FORBIDDEN: `..` that climbs above the root, absolute paths
 * outside the virtual root, NUL bytes, paths of PATH_MAX bytes or more and
 * components over NAME_MAX. Symlinks are checked when the path is opened,
 * by runner_workspace_open_beneath().
 *
 * Returns: (transfer full): the relative path ("" for the root, "a/b.txt"),
 *   or %NULL with @error set
 */
char *
runner_workspace_resolve (RunnerWorkspace *self,
                          const char      *path,
                          GError         **error)
{
  return runner_workspace_resolve_len (self, path, -1, error);
}

/**
 * runner_workspace_names_directory:
 * @path: a client path
 *
 * A path that ends in `/` (or `/.`) names a directory, as in POSIX:
 * runner_workspace_resolve() drops that slash, and operations on such a
 * path refuse anything but a directory (%G_IO_ERROR_NOT_DIRECTORY).
 *
 * Returns: whether @path ends in a slash
 */
gboolean
runner_workspace_names_directory (const char *path)
{
  gsize len = path != NULL ? strlen (path) : 0;

  while (len >= 2 && path[len - 1] == '.' && path[len - 2] == '/')
    len--;
  return len > 0 && path[len - 1] == '/';
}

/**
 * runner_workspace_to_virtual:
 * @self: a #RunnerWorkspace
 * @relative: a relative path as runner_workspace_resolve() returns it
 *
 * Returns: (transfer full): the client's view of @relative, `/workspace/...`
 */
char *
runner_workspace_to_virtual (RunnerWorkspace *self,
                             const char      *relative)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), NULL);
  g_return_val_if_fail (relative != NULL, NULL);

  return virtual_path (relative);
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
 * absolute target must lie below the real root, and restarts from there. */
static gboolean
expand_link (RunnerWorkspace *self,
             int              dirfd,
             const char      *name,
             GPtrArray       *todo,
             GArray          *dirs,
             guint           *links)
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
      gsize root_len = strcmp (self->root, "/") == 0 ? 0 : strlen (self->root);

      if (strncmp (buf, self->root, root_len) != 0 || (buf[root_len] != '/' && buf[root_len] != '\0'))
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
walk_beneath (RunnerWorkspace *self,
              const char      *path,
              int              flags,
              mode_t           mode)
{
  g_autoptr(GPtrArray) todo = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) dirs = g_array_new (FALSE, FALSE, sizeof (int));
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
      int cur = dirs->len > 0 ? g_array_index (dirs, int, dirs->len - 1) : self->root_fd;
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
          if (!expand_link (self, fd, "", todo, dirs, &links))
            {
              errsv = errno;
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
          gboolean ok = expand_link (self, fd, "", todo, dirs, &links);

          errsv = errno;
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
          if (!expand_link (self, cur, comp, todo, dirs, &links))
            return -1;
          continue;
        }
      errno = errsv;
      return -1;
    }
}

#if USE_OPENAT2
static int
do_openat2 (int         dirfd,
            const char *path,
            int         flags,
            mode_t      mode)
{
  struct open_how how;

  memset (&how, 0, sizeof how);
  how.flags = (guint64) flags;
  if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
    how.mode = mode;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return (int) syscall (SYS_openat2, dirfd, path, &how, sizeof how);
}
#endif

/* Returns an fd or -1 with errno set; EXDEV means "leads outside". */
static int
open_beneath_errno (RunnerWorkspace *self,
                    const char      *relative,
                    int              flags,
                    mode_t           mode)
{
  const char *path = *relative != '\0' ? relative : ".";

  flags |= O_CLOEXEC;
#if USE_OPENAT2
  if (g_atomic_int_get (&self->use_openat2) && !g_atomic_int_get (&openat2_missing))
    {
      int fd = -1;

      /* RESOLVE_BENEATH answers EAGAIN when a rename raced a "..". */
      for (guint tries = 0; tries < 16; tries++)
        {
          fd = do_openat2 (self->root_fd, path, flags, mode);
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
  return walk_beneath (self, path, flags, mode);
}

/**
 * runner_workspace_open_beneath:
 * @self: a #RunnerWorkspace
 * @relative: a path relative to the root (as runner_workspace_resolve() returns)
 * @flags: open(2) flags; O_CLOEXEC is always added
 * @mode: the mode for O_CREAT
 * @error: return location for a #GError
 *
 * Opens @relative so that no component, symlinks included, can lead outside
 * the root, even if the tree changes during the call: openat2(2) with
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS on the root's fd, or an equivalent
 * walk where the kernel lacks it. Symlinks that stay inside are followed
 * (unless @flags has O_NOFOLLOW); an escape is %RUNNER_ERROR_FORBIDDEN.
 *
 * Returns: a file descriptor the caller closes, or -1 with @error set
 */
int
runner_workspace_open_beneath (RunnerWorkspace *self,
                               const char      *relative,
                               int              flags,
                               mode_t           mode,
                               GError         **error)
{
  int fd;

  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), -1);
  g_return_val_if_fail (relative != NULL, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  fd = open_beneath_errno (self, relative, flags, mode);
  if (fd < 0)
    set_error_errno (error, errno, relative);
  return fd;
}

void
runner_workspace_set_use_openat2 (RunnerWorkspace *self,
                                  gboolean         use_openat2)
{
  g_return_if_fail (RUNNER_IS_WORKSPACE (self));

  g_atomic_int_set (&self->use_openat2, !!use_openat2);
}

void
runner_workspace_set_use_tmpfile (RunnerWorkspace *self,
                                  gboolean         use_tmpfile)
{
  g_return_if_fail (RUNNER_IS_WORKSPACE (self));

  g_atomic_int_set (&self->use_tmpfile, !!use_tmpfile);
}

gboolean
runner_workspace_get_use_openat2 (RunnerWorkspace *self)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), FALSE);

  return USE_OPENAT2 && g_atomic_int_get (&self->use_openat2)
         && !g_atomic_int_get (&openat2_missing);
}

/* ---------------------------------------------------------------------- */
/* Operations: what a worker thread needs, and what it changed */

typedef struct
{
  RunnerWorkspaceChange kind;
  char *path;
  char *other;
} Change;

static void
change_free (gpointer data)
{
  Change *change = data;

  g_free (change->path);
  g_free (change->other);
  g_free (change);
}

typedef struct
{
  char *path;                   /* relative */
  char *other;                  /* relative; rename target */
  GBytes *content;
  gboolean flag;                /* exclusive, recursive */
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

static void
op_free (gpointer data)
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

static Op *
op_new (RunnerWorkspace *self)
{
  Op *op = g_new0 (Op, 1);

  op->excluded = g_strdupv (self->excluded);
  op->max_file_size = self->max_file_size;
  op->max_entries = self->max_entries;
  op->max_tree_bytes = self->max_tree_bytes;
  op->changes = g_ptr_array_new_with_free_func (change_free);
  op->created = g_ptr_array_new_with_free_func (g_free);
  op->owned = g_ptr_array_new_with_free_func (g_free);
  return op;
}

static void
op_add_change (Op                   *op,
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
static void
op_own (RunnerWorkspace *self,
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
static gboolean
is_own (RunnerWorkspace *self,
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
static void
op_rollback_created (RunnerWorkspace *self,
                     Op              *op)
{
  for (guint i = op->created->len; i > 0; i--)
    {
      const char *dir = g_ptr_array_index (op->created, i - 1);
      g_autofree char *parent = rel_dirname (dir);
      g_auto(RunnerFd) pfd = open_beneath_errno (self, parent, O_PATH | O_DIRECTORY, 0);

      if (pfd >= 0)
        unlinkat (pfd, rel_basename (dir), AT_REMOVEDIR);
    }
  g_ptr_array_set_size (op->created, 0);
  g_ptr_array_set_size (op->changes, 0);
}

static void
fsync_dir (int dirfd)
{
  g_auto(RunnerFd) fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0 || fsync (fd) < 0)
    g_debug ("fsync of a directory failed: %s", g_strerror (errno));
}

/* mkdir -p beneath the root; each created directory is recorded in @op.
 * Returns an O_PATH fd on the directory. */
static int
ensure_dir (RunnerWorkspace *self,
            Op              *op,
            const char      *relative,
            GError         **error)
{
  g_autofree char *parent = NULL;
  g_auto(RunnerFd) pfd = -1;
  int fd;

  fd = open_beneath_errno (self, relative, O_PATH | O_DIRECTORY, 0);
  if (fd >= 0)
    return fd;
  if (errno != ENOENT || *relative == '\0')
    return set_error_errno (error, errno, relative), -1;

  parent = rel_dirname (relative);
  pfd = ensure_dir (self, op, parent, error);
  if (pfd < 0)
    return -1;
  op_own (self, op, relative);
  if (mkdirat (pfd, rel_basename (relative), 0755) < 0)
    {
      if (errno != EEXIST)
        return set_error_errno (error, errno, relative), -1;
    }
  else
    {
      g_auto(RunnerFd) dfd = openat (pfd, rel_basename (relative),
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

      /* 0755 whatever the umask, as files get 0644. */
      if (dfd >= 0 && fchmod (dfd, 0755) < 0)
        g_debug ("cannot chmod a new directory: %s", g_strerror (errno));
      g_ptr_array_add (op->created, g_strdup (relative));
      op_add_change (op, RUNNER_WORKSPACE_CHANGE_CREATED_DIR, relative, NULL);
      fsync_dir (pfd);
    }

  fd = open_beneath_errno (self, relative, O_PATH | O_DIRECTORY, 0);
  if (fd < 0)
    set_error_errno (error, errno, relative);
  return fd;
}

/* ---------------------------------------------------------------------- */
/* Listing */

typedef struct
{
  RunnerWorkspace *self;
  Op *op;
  GCancellable *cancellable;
  guint count;
  GString *vpath;               /* virtual path of the entry at hand, as on disk */
  GArray *ancestors;            /* struct stat of the directories being listed */
  GString *text;                /* JSON text output, or NULL for a JsonNode */
} ListWalk;

typedef struct
{
  char *name;                   /* valid UTF-8 */
  char *raw_name;               /* the name on disk, if it is not UTF-8 */
  gboolean is_dir;
  gboolean is_link;
} ListEntry;

static void
list_entry_clear (gpointer data)
{
  ListEntry *entry = data;

  g_free (entry->name);
  g_free (entry->raw_name);
}

static int
list_entry_compare (gconstpointer a,
                    gconstpointer b)
{
  const ListEntry *ea = a;
  const ListEntry *eb = b;

  if (ea->is_dir != eb->is_dir)
    return ea->is_dir ? -1 : 1;
  return strcmp (ea->name, eb->name);
}

static gboolean
is_excluded_name (char * const *excluded,
                  const char   *name)
{
  for (guint i = 0; excluded != NULL && excluded[i] != NULL; i++)
    if (strcmp (excluded[i], name) == 0)
      return TRUE;
  return FALSE;
}

/* Appends @str as a JSON string literal; @str is valid UTF-8. */
static void
append_json_string (GString    *out,
                    const char *str)
{
  const char *p = str;

  g_string_append_c (out, '"');
  for (;;)
    {
      const char *run = p;

      while ((guchar) *p >= 0x20 && *p != '"' && *p != '\\')
        p++;
      g_string_append_len (out, run, p - run);
      switch (*p)
        {
        case '\0':
          g_string_append_c (out, '"');
          return;
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          g_string_append_printf (out, "\\u%04x", (guint) (guchar) *p);
          break;
        }
      p++;
    }
}

/* The path of the entry at hand relative to the root. */
static const char *
list_walk_relative (ListWalk *walk)
{
  gsize vlen = strlen (RUNNER_WORKSPACE_VIRTUAL_ROOT);

  return walk->vpath->len > vlen ? walk->vpath->str + vlen + 1 : "";
}

static gboolean
list_walk_seen (ListWalk          *walk,
                const struct stat *st)
{
  for (guint i = 0; i < walk->ancestors->len; i++)
    {
      const struct stat *a = &g_array_index (walk->ancestors, struct stat, i);

      if (a->st_dev == st->st_dev && a->st_ino == st->st_ino)
        return TRUE;
    }
  return FALSE;
}

/* A symlink counts as what it points to, if that stays inside. */
static gboolean
list_walk_link_type (ListWalk   *walk,
                     const char *name,
                     ListEntry  *entry)
{
  gsize len = walk->vpath->len;
  g_auto(RunnerFd) fd = -1;
  struct stat st;

  g_string_append_c (walk->vpath, '/');
  g_string_append (walk->vpath, name);
  fd = open_beneath_errno (walk->self, list_walk_relative (walk), O_PATH, 0);
  g_string_truncate (walk->vpath, len);
  if (fd < 0 || fstat (fd, &st) < 0)
    return FALSE;
  entry->is_dir = S_ISDIR (st.st_mode);
  return TRUE;
}

static JsonArray *list_walk_dir (ListWalk *walk,
                                 int       fd,
                                 int       depth);

/* Lists the directory at hand into "children"; not if it is (a mount of)
 * a directory being listed. */
static void
list_walk_children (ListWalk   *walk,
                    DIR        *dir,
                    ListEntry  *entry,
                    int         depth,
                    JsonObject *object)
{
  int fd;
  struct stat st;
  JsonArray *children;

  fd = openat (dirfd (dir), entry->raw_name != NULL ? entry->raw_name : entry->name,
               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0 && (fstat (fd, &st) < 0 || list_walk_seen (walk, &st)))
    {
      close (fd);
      return;
    }

  if (walk->text != NULL)
    g_string_append (walk->text, ",\"children\":");
  if (fd < 0)
    {
      /* Unreadable, or gone meanwhile: an empty directory. */
      if (walk->text != NULL)
        g_string_append (walk->text, "[]");
      else
        json_object_set_array_member (object, "children", json_array_new ());
      return;
    }
  g_array_append_val (walk->ancestors, st);
  children = list_walk_dir (walk, fd, depth);
  g_array_set_size (walk->ancestors, walk->ancestors->len - 1);
  if (children != NULL)
    json_object_set_array_member (object, "children", children);
}

static void
list_walk_entry (ListWalk  *walk,
                 DIR       *dir,
                 ListEntry *entry,
                 int        depth,
                 JsonArray *array)
{
  JsonObject *object = NULL;
  g_autofree char *valid_path = NULL;
  g_autofree char *name_bytes = NULL;
  g_autofree char *path_bytes = NULL;
  const char *path = walk->vpath->str;

  /* Names that are not UTF-8 show with U+FFFD, and exactly in base64. */
  if (entry->raw_name != NULL)
    name_bytes = g_base64_encode ((const guchar *) entry->raw_name, strlen (entry->raw_name));
  if (!g_utf8_validate (path, walk->vpath->len, NULL))
    {
      path_bytes = g_base64_encode ((const guchar *) path, walk->vpath->len);
      path = valid_path = g_utf8_make_valid (path, walk->vpath->len);
    }

  if (walk->text != NULL)
    {
      g_string_append (walk->text, "{\"name\":");
      append_json_string (walk->text, entry->name);
      g_string_append (walk->text, entry->is_dir ? ",\"type\":\"directory\",\"path\":"
                                                 : ",\"type\":\"file\",\"path\":");
      append_json_string (walk->text, path);
      if (name_bytes != NULL)
        g_string_append_printf (walk->text, ",\"nameBytes\":\"%s\"", name_bytes);
      if (path_bytes != NULL)
        g_string_append_printf (walk->text, ",\"pathBytes\":\"%s\"", path_bytes);
    }
  else
    {
      object = json_object_new ();
      json_object_set_string_member (object, "name", entry->name);
      json_object_set_string_member (object, "type", entry->is_dir ? "directory" : "file");
      json_object_set_string_member (object, "path", path);
      if (name_bytes != NULL)
        json_object_set_string_member (object, "nameBytes", name_bytes);
      if (path_bytes != NULL)
        json_object_set_string_member (object, "pathBytes", path_bytes);
    }
  /* A symlinked directory is not followed: each real directory is listed
   * once, and links cannot multiply a tree. */
  if (entry->is_dir && !entry->is_link && depth != 0)
    list_walk_children (walk, dir, entry, depth > 0 ? depth - 1 : -1, object);
  if (walk->text != NULL)
    g_string_append_c (walk->text, '}');
  else
    json_array_add_object_element (array, object);
}

/* Reads the entries of @dir, sorted, without excluded and temporary names. */
static GArray *
list_read_dir (ListWalk *walk,
               DIR      *dir)
{
  GArray *entries = g_array_sized_new (FALSE, FALSE, sizeof (ListEntry), 64);
  struct dirent *de;

  g_array_set_clear_func (entries, list_entry_clear);
  while ((de = readdir (dir)) != NULL)
    {
      ListEntry entry = { NULL, NULL, FALSE, FALSE };
      unsigned char type = de->d_type;

      if (is_dot_or_dotdot (de->d_name) || is_excluded_name (walk->op->excluded, de->d_name)
          || runner_workspace_is_temp_name (de->d_name))
        continue;
      if (type == DT_UNKNOWN)
        {
          struct stat st;

          if (fstatat (dirfd (dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
          type = S_ISDIR (st.st_mode) ? DT_DIR : S_ISLNK (st.st_mode) ? DT_LNK : DT_REG;
        }
      entry.is_dir = type == DT_DIR;
      entry.is_link = type == DT_LNK;
      /* dangling, or leading outside: left out */
      if (entry.is_link && !list_walk_link_type (walk, de->d_name, &entry))
        continue;
      /* JSON carries UTF-8 only; such a name shows with U+FFFD. */
      if (g_utf8_validate (de->d_name, -1, NULL))
        entry.name = g_strdup (de->d_name);
      else
        {
          entry.name = g_utf8_make_valid (de->d_name, -1);
          entry.raw_name = g_strdup (de->d_name);
        }
      g_array_append_val (entries, entry);
    }
  g_array_sort (entries, list_entry_compare);
  return entries;
}

/* Takes @fd. Returns the entries as a JsonArray, or appends them to
 * walk->text and returns NULL. */
static JsonArray *
list_walk_dir (ListWalk *walk,
               int       fd,
               int       depth)
{
  g_autoptr(DIR) dir = fdopendir (fd);
  g_autoptr(GArray) entries = NULL;
  JsonArray *array = NULL;

  if (dir == NULL)
    close (fd);
  if (dir == NULL || g_cancellable_is_cancelled (walk->cancellable))
    entries = g_array_new (FALSE, FALSE, sizeof (ListEntry));
  else
    entries = list_read_dir (walk, dir);

  if (walk->text != NULL)
    g_string_append_c (walk->text, '[');
  else
    array = json_array_sized_new (entries->len);
  for (guint i = 0; i < entries->len && !walk->op->truncated; i++)
    {
      ListEntry *entry = &g_array_index (entries, ListEntry, i);
      gsize len = walk->vpath->len;
      gsize mark = walk->text != NULL ? walk->text->len : 0;

      if (walk->count >= walk->op->max_entries)
        {
          walk->op->truncated = TRUE;
          break;
        }
      walk->count++;
      if (walk->text != NULL && i > 0)
        g_string_append_c (walk->text, ',');
      g_string_append_c (walk->vpath, '/');
      g_string_append (walk->vpath, entry->raw_name != NULL ? entry->raw_name : entry->name);
      list_walk_entry (walk, dir, entry, depth, array);
      g_string_truncate (walk->vpath, len);
      /* Past max-tree-bytes with the brackets still to close ("]" per open
       * array, "}" per open object): take the entry back and stop. */
      if (walk->text != NULL
          && walk->text->len + 2 * walk->ancestors->len > walk->op->max_tree_bytes)
        {
          g_string_truncate (walk->text, mark);
          walk->op->truncated = TRUE;
        }
    }
  if (walk->text != NULL)
    g_string_append_c (walk->text, ']');
  return array;
}

typedef struct
{
  JsonNode *node;
  char *text;
  gsize length;
  gboolean truncated;
} ListResult;

static void
list_result_free (gpointer data)
{
  ListResult *result = data;

  g_clear_pointer (&result->node, json_node_unref);
  g_free (result->text);
  g_free (result);
}

static void
list_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  RunnerWorkspace *self = source;
  Op *op = data;
  g_autoptr(GString) vpath = NULL;
  g_autoptr(GArray) ancestors = NULL;
  ListWalk walk = { self, op, cancellable, 0, NULL, NULL, NULL };
  ListResult *result;
  JsonArray *array;
  struct stat st;
  int fd;

  fd = open_beneath_errno (self, op->path, O_RDONLY | O_DIRECTORY | O_NONBLOCK, 0);
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      GError *error = NULL;

      set_error_errno (&error, errno, op->path);
      if (fd >= 0)
        close (fd);
      g_task_return_error (task, error);
      return;
    }

  vpath = g_string_new (RUNNER_WORKSPACE_VIRTUAL_ROOT);
  if (*op->path != '\0')
    {
      g_string_append_c (vpath, '/');
      g_string_append (vpath, op->path);
    }
  ancestors = g_array_new (FALSE, FALSE, sizeof (struct stat));
  g_array_append_val (ancestors, st);
  walk.vpath = vpath;
  walk.ancestors = ancestors;
  if (op->flag)
    walk.text = g_string_sized_new (64 * 1024);
  array = list_walk_dir (&walk, fd, op->depth);

  result = g_new0 (ListResult, 1);
  result->truncated = op->truncated;
  if (array != NULL)
    result->node = json_node_init_array (json_node_alloc (), array);
  g_clear_pointer (&array, json_array_unref);
  if (walk.text != NULL)
    {
      result->length = walk.text->len;
      result->text = g_string_free (walk.text, FALSE);
    }
  if (g_task_return_error_if_cancelled (task))
    list_result_free (result);
  else
    g_task_return_pointer (task, result, list_result_free);
}

static void
list_start (RunnerWorkspace    *self,
            const char         *path,
            int                 depth,
            gboolean            text,
            gpointer            source_tag,
            GCancellable       *cancellable,
            GAsyncReadyCallback callback,
            gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  Op *op;
  char *relative;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  relative = runner_workspace_resolve (self, path, &error);
  if (relative == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  op = op_new (self);
  op->path = relative;
  op->depth = depth < 0 ? -1 : depth;
  op->flag = text;
  g_task_set_task_data (task, op, op_free);
  g_task_run_in_thread (task, list_thread);
}

static ListResult *
list_finish (RunnerWorkspace *self,
             GAsyncResult    *result,
             gpointer         source_tag,
             gboolean        *truncated,
             GError         **error)
{
  ListResult *list;

  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  list = g_task_propagate_pointer (G_TASK (result), error);
  if (truncated != NULL)
    *truncated = list != NULL && list->truncated;
  return list;
}

/**
 * runner_workspace_list_async:
 * @self: a #RunnerWorkspace
 * @path: the directory to list (a client path)
 * @depth: how many levels below @path to descend: -1 for all, 0 for @path's
 *   entries only
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * Lists a directory as the old service's tree: an array of
 * `{"name", "type": "file"|"directory", "path": "/workspace/...", "children": [...]}`,
 * directories first, then by name (byte order). "children" is present on
 * directories within @depth. Excluded names are left out at every level,
 * and so are Runner's temporary files. A symlink counts as what it points
 * to if that stays inside the workspace; dangling and escaping symlinks are
 * left out. A symlinked directory gets no "children" (list its path to see
 * them): each real directory is listed once, and links cannot multiply the
 * tree or loop. Names that are not UTF-8 show with U+FFFD, and exactly in
 * "nameBytes" (and "pathBytes" for the path), base64. At most max-entries entries
 * are listed (depth first, in the order above); then the listing stops and
 * is marked truncated.
 */
void
runner_workspace_list_async (RunnerWorkspace     *self,
                             const char          *path,
                             int                  depth,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (RUNNER_IS_WORKSPACE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  list_start (self, path, depth, FALSE, runner_workspace_list_async, cancellable, callback,
              user_data);
}

/**
 * runner_workspace_list_finish:
 * @self: a #RunnerWorkspace
 * @result: the #GAsyncResult
 * @truncated: (out) (optional): set to whether the entry cap cut the listing short
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a JSON array node, or %NULL with @error set
 */
JsonNode *
runner_workspace_list_finish (RunnerWorkspace *self,
                              GAsyncResult    *result,
                              gboolean        *truncated,
                              GError         **error)
{
  ListResult *list = list_finish (self, result, runner_workspace_list_async, truncated, error);
  JsonNode *node;

  if (list == NULL)
    return NULL;
  node = g_steal_pointer (&list->node);
  list_result_free (list);
  return node;
}

/**
 * runner_workspace_list_json_async:
 * @self: a #RunnerWorkspace
 * @path: the directory to list (a client path)
 * @depth: as for runner_workspace_list_async()
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * The same listing as runner_workspace_list_async(), written as compact
 * JSON text in the worker thread: the fast path for `fetchDir` replies,
 * with no JsonNode tree to build, serialize on the main thread and free.
 * The text is also bounded by max-tree-bytes: past it the listing stops
 * before the entry that crosses it and is marked truncated.
 */
void
runner_workspace_list_json_async (RunnerWorkspace     *self,
                                  const char          *path,
                                  int                  depth,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_return_if_fail (RUNNER_IS_WORKSPACE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  list_start (self, path, depth, TRUE, runner_workspace_list_json_async, cancellable, callback,
              user_data);
}

/**
 * runner_workspace_list_json_finish:
 * @self: a #RunnerWorkspace
 * @result: the #GAsyncResult
 * @truncated: (out) (optional): set to whether the entry cap cut the listing short
 * @length: (out) (optional): the length of the text
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the tree as a JSON array text, or %NULL with
 *   @error set
 */
char *
runner_workspace_list_json_finish (RunnerWorkspace *self,
                                   GAsyncResult    *result,
                                   gboolean        *truncated,
                                   gsize           *length,
                                   GError         **error)
{
  ListResult *list = list_finish (self, result, runner_workspace_list_json_async, truncated,
                                  error);
  char *text;

  if (list == NULL)
    return NULL;
  if (length != NULL)
    *length = list->length;
  text = g_steal_pointer (&list->text);
  list_result_free (list);
  return text;
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
  fd = open_beneath_errno (self, op->path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
  if (fd < 0 || fstat (fd, &st) < 0)
    return set_error_errno (error, errno, op->path), NULL;
  if (S_ISDIR (st.st_mode))
    return set_error_errno (error, EISDIR, op->path), NULL;
  if (op->dir_only)
    return set_error_errno (error, ENOTDIR, op->path), NULL;
  if (!S_ISREG (st.st_mode))
    {
      g_autofree char *virt = virtual_path (op->path);

      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID, _("%s is not a regular file"), virt);
      return NULL;
    }
  if (st.st_size > op->max_file_size)
    {
      g_autofree char *virt = virtual_path (op->path);

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
        return set_error_errno (error, errno, op->path), NULL;
      if (n == 0)
        break;
      got += (gsize) n;
      if (got > size)
        {
          if ((goffset) got > op->max_file_size)
            {
              g_autofree char *virt = virtual_path (op->path);

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
  op = op_new (self);
  op->path = relative;
  op->dir_only = *relative != '\0' && runner_workspace_names_directory (path);
  g_task_set_task_data (task, op, op_free);
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
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == runner_workspace_read_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---------------------------------------------------------------------- */
/* Changing operations: a worker thread does the work, then the main thread
 * emits ::changed for what it did and completes the caller's task. */

static void watcher_read (RunnerWorkspace *self);

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
  watcher_read (self);
  op_disown (self, op);
  for (guint i = 0; i < op->changes->len; i++)
    {
      Change *change = g_ptr_array_index (op->changes, i);

      g_signal_emit (self, signals[SIGNAL_CHANGED], 0, change->path, change->kind, change->other);
    }
  if (ok)
    g_task_return_boolean (outer, TRUE);
  else
    g_task_return_error (outer, error);
}

static void
run_op (RunnerWorkspace    *self,
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
  g_task_set_task_data (inner, op, op_free);
  g_task_run_in_thread (inner, func);
}

/* Resolves @path for a changing operation; fails the task on a bad path. */
static Op *
op_new_for_path (RunnerWorkspace    *self,
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
  op = op_new (self);
  op->path = relative;
  op->dir_only = *relative != '\0' && runner_workspace_names_directory (path);
  return op;
}

static gboolean
op_finish (RunnerWorkspace *self,
           GAsyncResult    *result,
           gpointer         source_tag,
           GError         **error)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
op_thread_return (GTask   *task,
                  gboolean ok,
                  GError  *error)
{
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

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

static gboolean
have_proc_fd (void)
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
      g_autofree char *tmp = make_temp_name (base);

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
  const char *base = rel_basename (relative);
  mode_t mode = old != NULL ? (old->st_mode & 07777) : 0644;
  g_auto(RunnerFd) fd = -1;
  g_autofree char *tmp = NULL;
  gboolean ok;

  if (have_proc_fd () && g_atomic_int_get (&self->use_tmpfile))
    {
      fd = openat (dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
      if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return set_error_errno (error, errno, relative);
    }
  for (guint tries = 0; fd < 0 && tries < 100; tries++)
    {
      g_clear_pointer (&tmp, g_free);
      tmp = make_temp_name (base);
      fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
      if (fd < 0 && errno != EEXIST)
        return set_error_errno (error, errno, relative);
    }
  if (fd < 0)
    return set_error_errno (error, EEXIST, relative);
  /* Held until the file is committed or removed: an unlocked temporary
   * file is one a crash left behind (runner_workspace_clean_temp_async()). */
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    g_debug ("cannot lock a temporary file: %s", g_strerror (errno));

  op_own (self, op, relative);
  if (!write_temp (fd, op->content, mode, old) || g_cancellable_is_cancelled (cancellable))
    {
      int errsv = g_cancellable_is_cancelled (cancellable) ? ECANCELED : errno;

      if (tmp != NULL)
        unlinkat (dirfd, tmp, 0);
      return set_error_errno (error, errsv, relative);
    }

  if (tmp != NULL)
    ok = commit_named (dirfd, tmp, base, op->flag);
  else
    ok = commit_anonymous (dirfd, fd, base, op->flag);
  if (!ok)
    return set_error_errno (error, errno, relative);
  fsync_dir (dirfd);
  op_add_change (op, RUNNER_WORKSPACE_CHANGE_WRITTEN, relative, NULL);
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
  g_autofree char *dir = rel_dirname (relative);
  const char *base = rel_basename (relative);
  g_auto(RunnerFd) dirfd = -1;
  struct stat st;

  if (*relative == '\0')
    {
      set_forbidden (error, _("the workspace root cannot be written"));
      return FALSE;
    }
  dirfd = ensure_dir (self, op, dir, error);
  if (dirfd < 0)
    return FALSE;

  if (fstatat (dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno != ENOENT)
        return set_error_errno (error, errno, relative);
      return write_into (self, op, dirfd, relative, NULL, cancellable, error);
    }

  if (S_ISLNK (st.st_mode) && !followed)
    {
      /* Write through a symlink to the file it names, if that is inside;
       * a dangling symlink is replaced by the file. */
      g_auto(RunnerFd) target = open_beneath_errno (self, relative, O_PATH, 0);
      g_autofree char *real = NULL;

      if (target < 0 && errno == ENOENT)
        return write_into (self, op, dirfd, relative, NULL, cancellable, error);
      if (target < 0)
        return set_error_errno (error, errno, relative);
      real = fd_relative_path (self, target);
      if (real == NULL)
        return set_error_errno (error, EXDEV, relative);
      if (!write_file (self, op, real, TRUE, cancellable, error))
        return FALSE;
      op_add_change (op, RUNNER_WORKSPACE_CHANGE_WRITTEN, relative, NULL);
      return TRUE;
    }
  if (S_ISDIR (st.st_mode))
    return set_error_errno (error, EISDIR, relative);
  if (op->flag)
    return set_error_errno (error, EEXIST, relative);
  if (!S_ISREG (st.st_mode))
    {
      g_autofree char *virt = virtual_path (relative);

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
      g_auto(RunnerFd) fd = open_beneath_errno (self, op->path, O_PATH, 0);
      struct stat st;

      set_error_errno (&error, fd >= 0 && fstat (fd, &st) == 0 && !S_ISDIR (st.st_mode)
                               ? ENOTDIR : EISDIR, op->path);
      op_thread_return (task, FALSE, error);
      return;
    }
  ok = write_file (self, op, op->path, FALSE, cancellable, &error);
  if (!ok)
    op_rollback_created (self, op);
  op_thread_return (task, ok, error);
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

  op = op_new_for_path (self, path, runner_workspace_write_async, cancellable, callback, user_data);
  if (op == NULL)
    return;
  if ((goffset) g_bytes_get_size (content) > self->max_file_size)
    {
      g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
      g_autofree char *virt = virtual_path (op->path);

      g_task_set_source_tag (task, runner_workspace_write_async);
      g_task_return_new_error (task, RUNNER_ERROR, RUNNER_ERROR_TOO_BIG,
                               _("%s: content is larger than %" G_GOFFSET_FORMAT " bytes"), virt,
                               self->max_file_size);
      op_free (op);
      return;
    }
  op->content = g_bytes_ref (content);
  op->flag = exclusive;
  run_op (self, op, write_thread, runner_workspace_write_async, cancellable, callback, user_data);
}

gboolean
runner_workspace_write_finish (RunnerWorkspace *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  return op_finish (self, result, runner_workspace_write_async, error);
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
      if (is_dot_or_dotdot (de->d_name) || is_excluded_name (op->excluded, de->d_name))
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
      if (runner_workspace_is_temp_name (de->d_name)
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

      set_error_errno (&error, errno, "");
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
  g_task_set_task_data (task, op_new (self), op_free);
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
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == runner_workspace_clean_temp_async,
                        -1);

  return (int) g_task_propagate_int (G_TASK (result), error);
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
  g_auto(RunnerFd) fd = open_beneath_errno (self, op->path, O_PATH, 0);
  struct stat st;

  if (fd >= 0 && fstat (fd, &st) == 0)
    {
      if (!S_ISDIR (st.st_mode))
        set_error_errno (&error, EEXIST, op->path);
      op_thread_return (task, error == NULL, error);
      return;
    }
  if (fd < 0 && errno != ENOENT)
    {
      set_error_errno (&error, errno, op->path);
      op_thread_return (task, FALSE, error);
      return;
    }
  fd = ensure_dir (self, op, op->path, &error);
  if (fd < 0)
    op_rollback_created (self, op);
  op_thread_return (task, fd >= 0, error);
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

  op = op_new_for_path (self, path, runner_workspace_mkdir_async, cancellable, callback, user_data);
  if (op != NULL)
    run_op (self, op, mkdir_thread, runner_workspace_mkdir_async, cancellable, callback, user_data);
}

gboolean
runner_workspace_mkdir_finish (RunnerWorkspace *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  return op_finish (self, result, runner_workspace_mkdir_async, error);
}

static gboolean
rename_entry (RunnerWorkspace *self,
              Op              *op,
              GError         **error)
{
  g_autofree char *from_dir = rel_dirname (op->path);
  g_autofree char *to_dir = rel_dirname (op->other);
  g_auto(RunnerFd) from_fd = -1;
  g_auto(RunnerFd) to_fd = -1;
  struct stat st;

  if (*op->path == '\0' || *op->other == '\0')
    {
      set_forbidden (error, _("the workspace root cannot be renamed or replaced"));
      return FALSE;
    }
  if (strcmp (op->path, op->other) != 0 && rel_is_within (op->other, op->path))
    {
      g_autofree char *virt = virtual_path (op->path);

      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("%s cannot be moved into itself"), virt);
      return FALSE;
    }

  from_fd = open_beneath_errno (self, from_dir, O_PATH | O_DIRECTORY, 0);
  if (from_fd < 0)
    return set_error_errno (error, errno, op->path);
  if (fstatat (from_fd, rel_basename (op->path), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return set_error_errno (error, errno, op->path);
  if ((op->dir_only || op->other_dir_only) && !S_ISDIR (st.st_mode))
    return set_error_errno (error, ENOTDIR, op->path);
  if (strcmp (op->path, op->other) == 0)
    return TRUE;

  to_fd = ensure_dir (self, op, to_dir, error);
  if (to_fd < 0)
    return FALSE;
  op_own (self, op, op->path);
  op_own (self, op, op->other);
  if (renameat (from_fd, rel_basename (op->path), to_fd, rel_basename (op->other)) < 0)
    {
      int errsv = errno == EEXIST ? ENOTEMPTY : errno;

      if (errsv == EINVAL)
        {
          g_autofree char *virt = virtual_path (op->path);

          g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                       _("%s cannot be moved into itself"), virt);
          return FALSE;
        }
      return set_error_errno (error, errsv, op->other);
    }
  fsync_dir (to_fd);
  if (strcmp (to_dir, from_dir) != 0)
    fsync_dir (from_fd);
  op_add_change (op, RUNNER_WORKSPACE_CHANGE_RENAMED, op->path, op->other);
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
    op_rollback_created (source, data);
  op_thread_return (task, ok, error);
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

  op = op_new_for_path (self, from, runner_workspace_rename_async, cancellable, callback, user_data);
  if (op == NULL)
    return;
  op->other = runner_workspace_resolve (self, to, &error);
  op->other_dir_only = op->other != NULL && *op->other != '\0'
                       && runner_workspace_names_directory (to);
  if (op->other == NULL)
    {
      g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

      g_task_set_source_tag (task, runner_workspace_rename_async);
      g_task_return_error (task, error);
      op_free (op);
      return;
    }
  run_op (self, op, rename_thread, runner_workspace_rename_async, cancellable, callback, user_data);
}

gboolean
runner_workspace_rename_finish (RunnerWorkspace *self,
                                GAsyncResult    *result,
                                GError         **error)
{
  return op_finish (self, result, runner_workspace_rename_async, error);
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
      if (is_dot_or_dotdot (de->d_name))
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
  g_autofree char *dir = rel_dirname (op->path);
  const char *base = rel_basename (op->path);
  g_auto(RunnerFd) dirfd = -1;
  struct stat st;

  if (*op->path == '\0')
    {
      set_forbidden (error, _("the workspace root cannot be deleted"));
      return FALSE;
    }
  dirfd = open_beneath_errno (self, dir, O_PATH | O_DIRECTORY, 0);
  if (dirfd < 0 || fstatat (dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return set_error_errno (error, errno, op->path);
  if (op->dir_only && !S_ISDIR (st.st_mode))
    return set_error_errno (error, ENOTDIR, op->path);

  op_own (self, op, op->path);
  if (!S_ISDIR (st.st_mode))
    {
      if (unlinkat (dirfd, base, 0) < 0)
        return set_error_errno (error, errno, op->path);
    }
  else if (unlinkat (dirfd, base, AT_REMOVEDIR) < 0)
    {
      if (errno != ENOTEMPTY && errno != EEXIST)
        return set_error_errno (error, errno, op->path);
      if (!op->flag)
        return set_error_errno (error, ENOTEMPTY, op->path);
      if (!delete_tree (dirfd, base, cancellable) || unlinkat (dirfd, base, AT_REMOVEDIR) < 0)
        return set_error_errno (error, errno, op->path);
    }
  fsync_dir (dirfd);
  op_add_change (op, RUNNER_WORKSPACE_CHANGE_DELETED, op->path, NULL);
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

  op_thread_return (task, ok, error);
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

  op = op_new_for_path (self, path, runner_workspace_delete_async, cancellable, callback, user_data);
  if (op == NULL)
    return;
  op->flag = recursive;
  run_op (self, op, delete_thread, runner_workspace_delete_async, cancellable, callback, user_data);
}

gboolean
runner_workspace_delete_finish (RunnerWorkspace *self,
                                GAsyncResult    *result,
                                GError         **error)
{
  return op_finish (self, result, runner_workspace_delete_async, error);
}

/* ---------------------------------------------------------------------- */
/* Watching */

static gboolean
watcher_flush_cb (gpointer data)
{
  RunnerWorkspace *self = data;
  g_autoptr(GPtrArray) changes = g_steal_pointer (&self->pending);

  self->flush_source = 0;
  self->pending = g_ptr_array_new_with_free_func (change_free);
  g_hash_table_remove_all (self->pending_index);
  g_object_ref (self);
  for (guint i = 0; i < changes->len; i++)
    {
      Change *change = g_ptr_array_index (changes, i);

      g_signal_emit (self, signals[SIGNAL_CHANGED], 0, change->path, change->kind, change->other);
    }
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* Queues a change seen on disk; within the debounce window the latest kind
 * for a path wins and the path keeps its place. */
static void
watcher_queue (RunnerWorkspace      *self,
               RunnerWorkspaceChange kind,
               const char           *path,
               const char           *other)
{
  Change *change;

  if (is_own (self, path) || (other != NULL && is_own (self, other)))
    return;
  change = g_hash_table_lookup (self->pending_index, path);
  if (change == NULL)
    {
      change = g_new0 (Change, 1);
      change->path = g_strdup (path);
      g_ptr_array_add (self->pending, change);
      g_hash_table_insert (self->pending_index, change->path, change);
    }
  change->kind = kind;
  g_free (change->other);
  change->other = g_strdup (other);
  if (self->flush_source == 0)
    self->flush_source = g_timeout_add (DEBOUNCE_MS, watcher_flush_cb, self);
}

/* Watches the directory @relative and every directory below it that is
 * not excluded. Only real directories: symlinks are not followed. */
static void
watcher_add (RunnerWorkspace *self,
             const char      *relative)
{
  g_auto(RunnerFd) fd = -1;
  g_autoptr(DIR) dir = NULL;
  struct dirent *de;
  int wd;

  fd = open_beneath_errno (self, relative, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK, 0);
  if (fd < 0)
    return;
  if (have_proc_fd ())
    {
      g_autofree char *proc = g_strdup_printf ("/proc/self/fd/%d", fd);

      wd = inotify_add_watch (self->inotify_fd, proc, WATCH_MASK);
    }
  else
    {
      g_autofree char *path = g_build_filename (self->root, relative, NULL);

      wd = inotify_add_watch (self->inotify_fd, path, WATCH_MASK | IN_DONT_FOLLOW);
    }
  if (wd < 0)
    {
      if (errno == ENOSPC && !self->watch_limit_warned)
        {
          g_warning ("The inotify watch limit is reached; changes below %s and other "
                     "directories are not seen (raise fs.inotify.max_user_watches)", relative);
          self->watch_limit_warned = TRUE;
        }
      return;
    }
  g_hash_table_insert (self->watches, GINT_TO_POINTER (wd), g_strdup (relative));

  dir = fdopendir (g_steal_fd (&fd));
  if (dir == NULL)
    return;
  while ((de = readdir (dir)) != NULL)
    {
      g_autofree char *child = NULL;

      if (is_dot_or_dotdot (de->d_name) || is_excluded_name (self->excluded, de->d_name))
        continue;
      if (de->d_type == DT_UNKNOWN)
        {
          struct stat st;

          if (fstatat (dirfd (dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR (st.st_mode))
            continue;
        }
      else if (de->d_type != DT_DIR)
        continue;
      child = *relative != '\0' ? g_strconcat (relative, "/", de->d_name, NULL) : g_strdup (de->d_name);
      watcher_add (self, child);
    }
}

/* Stops watching @relative and below (it left the tree). */
static void
watcher_remove (RunnerWorkspace *self,
                const char      *relative)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->watches);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (rel_is_within (value, relative))
      {
        inotify_rm_watch (self->inotify_fd, GPOINTER_TO_INT (key));
        g_hash_table_iter_remove (&iter);
      }
}

/* A directory moved inside the tree: its watches keep working, with new paths. */
static void
watcher_move (RunnerWorkspace *self,
              const char      *from,
              const char      *to)
{
  GHashTableIter iter;
  gpointer value;
  gsize from_len = strlen (from);

  g_hash_table_iter_init (&iter, self->watches);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (rel_is_within (value, from))
      g_hash_table_iter_replace (&iter, g_strconcat (to, (char *) value + from_len, NULL));
}

/* Whether the watcher reports changes to @name at all. */
static gboolean
watcher_ignores (RunnerWorkspace *self,
                 const char      *name)
{
  return is_excluded_name (self->excluded, name) || runner_workspace_is_temp_name (name);
}

/* The path an event names, or NULL if the watcher does not report it. */
static char *
watcher_event_path (RunnerWorkspace            *self,
                    const struct inotify_event *ev)
{
  const char *dir = g_hash_table_lookup (self->watches, GINT_TO_POINTER (ev->wd));

  if (dir == NULL || ev->len == 0 || watcher_ignores (self, ev->name))
    return NULL;
  return *dir != '\0' ? g_strconcat (dir, "/", ev->name, NULL) : g_strdup (ev->name);
}

static void
watcher_appeared (RunnerWorkspace *self,
                  const char      *path,
                  gboolean         is_dir)
{
  if (is_dir)
    {
      watcher_add (self, path);
      watcher_queue (self, RUNNER_WORKSPACE_CHANGE_CREATED_DIR, path, NULL);
    }
  else
    watcher_queue (self, RUNNER_WORKSPACE_CHANGE_WRITTEN, path, NULL);
}

static void
watcher_disappeared (RunnerWorkspace *self,
                     const char      *path,
                     gboolean         is_dir)
{
  if (is_dir)
    watcher_remove (self, path);
  watcher_queue (self, RUNNER_WORKSPACE_CHANGE_DELETED, path, NULL);
}

/* A rename seen from both sides. A name the watcher ignores on one side
 * (a temporary file renamed over its target, a move into an excluded
 * name) makes it an appearance or a disappearance. */
static void
watcher_renamed (RunnerWorkspace            *self,
                 const struct inotify_event *from_ev,
                 const struct inotify_event *to_ev)
{
  g_autofree char *from = watcher_event_path (self, from_ev);
  g_autofree char *to = watcher_event_path (self, to_ev);
  gboolean is_dir = (from_ev->mask & IN_ISDIR) != 0;

  if (from != NULL && to != NULL)
    {
      if (is_dir)
        watcher_move (self, from, to);
      watcher_queue (self, RUNNER_WORKSPACE_CHANGE_RENAMED, from, to);
    }
  else if (from != NULL)
    watcher_disappeared (self, from, is_dir);
  else if (to != NULL)
    watcher_appeared (self, to, is_dir);
}

static void
watcher_event (RunnerWorkspace            *self,
               const struct inotify_event *ev)
{
  g_autofree char *path = NULL;
  gboolean is_dir = (ev->mask & IN_ISDIR) != 0;
  const char *dir;

  if (ev->mask & IN_Q_OVERFLOW)
    {
      /* Events were lost: one WRITTEN for the root means "rescan". */
      g_debug ("inotify queue overflow; asking for a rescan");
      watcher_add (self, "");
      watcher_queue (self, RUNNER_WORKSPACE_CHANGE_WRITTEN, "", NULL);
      return;
    }
  dir = g_hash_table_lookup (self->watches, GINT_TO_POINTER (ev->wd));
  if (dir == NULL)
    return;
  if (ev->mask & IN_IGNORED)
    {
      g_hash_table_remove (self->watches, GINT_TO_POINTER (ev->wd));
      return;
    }
  if ((ev->mask & IN_DELETE_SELF) && *dir == '\0')
    {
      watcher_queue (self, RUNNER_WORKSPACE_CHANGE_DELETED, "", NULL);
      return;
    }

  path = watcher_event_path (self, ev);
  if (path == NULL)
    return;
  if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
    watcher_disappeared (self, path, is_dir);
  else if (ev->mask & (IN_CREATE | IN_MOVED_TO))
    watcher_appeared (self, path, is_dir);
  else if (!is_dir)
    watcher_queue (self, RUNNER_WORKSPACE_CHANGE_WRITTEN, path, NULL);
}

/* Reads and handles every event queued on the inotify fd. The two halves
 * of a rename come one after the other with the same cookie. */
static void
watcher_read (RunnerWorkspace *self)
{
  char buf[64 * 1024] __attribute__ ((aligned (__alignof__ (struct inotify_event))));

  if (self->inotify_fd < 0)
    return;
  for (;;)
    {
      ssize_t n = read (self->inotify_fd, buf, sizeof buf);
      char *p = buf;

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      while (p < buf + n)
        {
          const struct inotify_event *ev = (const struct inotify_event *) p;
          const struct inotify_event *next = NULL;

          p += sizeof *ev + ev->len;
          if (p < buf + n)
            next = (const struct inotify_event *) p;
          if ((ev->mask & IN_MOVED_FROM) && next != NULL && (next->mask & IN_MOVED_TO)
              && next->cookie == ev->cookie)
            {
              watcher_renamed (self, ev, next);
              p += sizeof *next + next->len;
            }
          else
            watcher_event (self, ev);
        }
    }
}

static gboolean
watcher_readable_cb (int          fd,
                     GIOCondition condition,
                     gpointer     data)
{
  watcher_read (data);
  return G_SOURCE_CONTINUE;
}

/**
 * runner_workspace_start_watching:
 * @self: a #RunnerWorkspace
 * @error: return location for a #GError
 *
 * Starts reporting changes others make on disk (the shell, the user's app)
 * through ::changed: recursive inotify over every directory that is not
 * excluded (symlinks are not followed), directories that appear are
 * watched too. Changes are debounced: within 50 ms the latest kind per
 * path wins. Changes made through this object are not reported again, nor
 * are Runner's temporary files. If the kernel's queue overflows, one
 * %RUNNER_WORKSPACE_CHANGE_WRITTEN for "" (the root) means "rescan
 * everything". A second call does nothing.
 *
 * Returns: %TRUE if watching
 */
gboolean
runner_workspace_start_watching (RunnerWorkspace *self,
                                 GError         **error)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->inotify_fd >= 0)
    return TRUE;
  self->inotify_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (self->inotify_fd < 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot watch the workspace: %s"), g_strerror (errsv));
      return FALSE;
    }
  watcher_add (self, "");
  self->inotify_source = g_unix_fd_add (self->inotify_fd, G_IO_IN, watcher_readable_cb, self);
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Settings */

/**
 * runner_workspace_get_root:
 * @self: a #RunnerWorkspace
 *
 * Returns: the real root directory, absolute and without symlinks
 */
const char *
runner_workspace_get_root (RunnerWorkspace *self)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), NULL);

  return self->root;
}

/**
 * runner_workspace_set_excluded:
 * @self: a #RunnerWorkspace
 * @names: (nullable) (array zero-terminated=1): file names to leave out, or
 *   %NULL for the default (node_modules, .git)
 *
 * Names (not paths) left out of listings at every level and not watched.
 * Takes effect for operations started afterwards.
 */
void
runner_workspace_set_excluded (RunnerWorkspace    *self,
                               const char * const *names)
{
  g_return_if_fail (RUNNER_IS_WORKSPACE (self));

  g_strfreev (self->excluded);
  self->excluded = g_strdupv ((char **) (names != NULL ? names : default_excluded));
}

/**
 * runner_workspace_get_excluded:
 * @self: a #RunnerWorkspace
 *
 * Returns: (transfer none): the excluded names
 */
const char * const *
runner_workspace_get_excluded (RunnerWorkspace *self)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), NULL);

  return (const char * const *) self->excluded;
}

/**
 * runner_workspace_is_excluded:
 * @self: a #RunnerWorkspace
 * @relative: a relative path
 *
 * Returns: %TRUE if any component of @relative is an excluded name
 */
gboolean
runner_workspace_is_excluded (RunnerWorkspace *self,
                              const char      *relative)
{
  g_auto(GStrv) parts = NULL;

  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), FALSE);
  g_return_val_if_fail (relative != NULL, FALSE);

  parts = g_strsplit (relative, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (is_excluded_name (self->excluded, parts[i]))
      return TRUE;
  return FALSE;
}

void
runner_workspace_set_max_file_size (RunnerWorkspace *self,
                                    goffset          max_file_size)
{
  g_return_if_fail (RUNNER_IS_WORKSPACE (self));
  g_return_if_fail (max_file_size >= 0);

  if (self->max_file_size == max_file_size)
    return;
  self->max_file_size = max_file_size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_FILE_SIZE]);
}

goffset
runner_workspace_get_max_file_size (RunnerWorkspace *self)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), 0);

  return self->max_file_size;
}

void
runner_workspace_set_max_entries (RunnerWorkspace *self,
                                  guint            max_entries)
{
  g_return_if_fail (RUNNER_IS_WORKSPACE (self));

  if (self->max_entries == max_entries)
    return;
  self->max_entries = max_entries;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_ENTRIES]);
}

guint
runner_workspace_get_max_entries (RunnerWorkspace *self)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), 0);

  return self->max_entries;
}

/**
 * runner_workspace_set_max_tree_bytes:
 * @self: a #RunnerWorkspace
 * @max_tree_bytes: the most bytes of JSON text in one listing (at least 1024)
 *
 * Bounds the text of runner_workspace_list_json_async(): a listing that
 * would be longer stops before the entry that crosses the bound and is
 * marked truncated, so that it fits what a client may have queued.
 */
void
runner_workspace_set_max_tree_bytes (RunnerWorkspace *self,
                                     gsize            max_tree_bytes)
{
  g_return_if_fail (RUNNER_IS_WORKSPACE (self));

  max_tree_bytes = MAX (max_tree_bytes, 1024);
  if (self->max_tree_bytes == max_tree_bytes)
    return;
  self->max_tree_bytes = max_tree_bytes;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_TREE_BYTES]);
}

gsize
runner_workspace_get_max_tree_bytes (RunnerWorkspace *self)
{
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (self), 0);

  return self->max_tree_bytes;
}

/* ---------------------------------------------------------------------- */
/* Object */

static gboolean
runner_workspace_initable_init (GInitable    *initable,
                                GCancellable *cancellable,
                                GError      **error)
{
  RunnerWorkspace *self = RUNNER_WORKSPACE (initable);
  g_autofree char *real = NULL;
  int errsv;

  if (self->root == NULL || *self->root == '\0')
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID, _("No workspace directory given"));
      return FALSE;
    }
  if (g_mkdir_with_parents (self->root, 0755) < 0)
    {
      errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot create the workspace %s: %s"), self->root, g_strerror (errsv));
      return FALSE;
    }
  real = realpath (self->root, NULL);
  if (real != NULL)
    self->root_fd = open (real, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (real == NULL || self->root_fd < 0)
    {
      errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot open the workspace %s: %s"), self->root, g_strerror (errsv));
      return FALSE;
    }
  g_free (self->root);
  self->root = g_steal_pointer (&real);
  return TRUE;
}

static void
runner_workspace_initable_iface_init (GInitableIface *iface)
{
  iface->init = runner_workspace_initable_init;
}

static void
runner_workspace_dispose (GObject *object)
{
  RunnerWorkspace *self = RUNNER_WORKSPACE (object);

  g_clear_handle_id (&self->inotify_source, g_source_remove);
  g_clear_handle_id (&self->flush_source, g_source_remove);
  if (self->inotify_fd >= 0)
    {
      close (self->inotify_fd);
      self->inotify_fd = -1;
    }
  g_hash_table_remove_all (self->watches);

  G_OBJECT_CLASS (runner_workspace_parent_class)->dispose (object);
}

static void
runner_workspace_finalize (GObject *object)
{
  RunnerWorkspace *self = RUNNER_WORKSPACE (object);

  if (self->root_fd >= 0)
    close (self->root_fd);
  g_free (self->root);
  g_strfreev (self->excluded);
  g_hash_table_unref (self->own);
  g_mutex_clear (&self->own_lock);
  g_hash_table_unref (self->watches);
  g_ptr_array_unref (self->pending);
  g_hash_table_unref (self->pending_index);

  G_OBJECT_CLASS (runner_workspace_parent_class)->finalize (object);
}

static void
runner_workspace_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  RunnerWorkspace *self = RUNNER_WORKSPACE (object);

  switch (prop_id)
    {
    case PROP_ROOT:
      g_value_set_string (value, self->root);
      break;
    case PROP_MAX_FILE_SIZE:
      g_value_set_int64 (value, self->max_file_size);
      break;
    case PROP_MAX_ENTRIES:
      g_value_set_uint (value, self->max_entries);
      break;
    case PROP_MAX_TREE_BYTES:
      g_value_set_uint64 (value, self->max_tree_bytes);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
runner_workspace_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  RunnerWorkspace *self = RUNNER_WORKSPACE (object);

  switch (prop_id)
    {
    case PROP_ROOT:
      g_free (self->root);
      self->root = g_value_dup_string (value);
      break;
    case PROP_MAX_FILE_SIZE:
      runner_workspace_set_max_file_size (self, g_value_get_int64 (value));
      break;
    case PROP_MAX_ENTRIES:
      runner_workspace_set_max_entries (self, g_value_get_uint (value));
      break;
    case PROP_MAX_TREE_BYTES:
      runner_workspace_set_max_tree_bytes (self, g_value_get_uint64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
runner_workspace_class_init (RunnerWorkspaceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = runner_workspace_dispose;
  object_class->finalize = runner_workspace_finalize;
  object_class->get_property = runner_workspace_get_property;
  object_class->set_property = runner_workspace_set_property;

  properties[PROP_ROOT] =
    g_param_spec_string ("root", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_FILE_SIZE] =
    g_param_spec_int64 ("max-file-size", NULL, NULL, 0, G_MAXINT64, DEFAULT_MAX_FILE_SIZE,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_ENTRIES] =
    g_param_spec_uint ("max-entries", NULL, NULL, 0, G_MAXUINT, DEFAULT_MAX_ENTRIES,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_TREE_BYTES] =
    g_param_spec_uint64 ("max-tree-bytes", NULL, NULL, 1024, G_MAXSIZE, DEFAULT_MAX_TREE_BYTES,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * RunnerWorkspace::changed:
   * @self: the workspace
   * @path: the relative path that changed ("" for the root)
   * @kind: a #RunnerWorkspaceChange
   * @other_path: (nullable): the new relative path for
   *   %RUNNER_WORKSPACE_CHANGE_RENAMED, else %NULL
   *
   * Emitted on the main thread after a write, mkdir, rename or delete
   * through this object succeeds, and for changes the watcher sees.
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_INT, G_TYPE_STRING);
}

static void
runner_workspace_init (RunnerWorkspace *self)
{
  self->root_fd = -1;
  self->excluded = g_strdupv ((char **) default_excluded);
  self->max_file_size = DEFAULT_MAX_FILE_SIZE;
  self->max_entries = DEFAULT_MAX_ENTRIES;
  self->max_tree_bytes = DEFAULT_MAX_TREE_BYTES;
  self->use_openat2 = TRUE;
  self->use_tmpfile = TRUE;
  g_mutex_init (&self->own_lock);
  self->own = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->inotify_fd = -1;
  self->watches = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  self->pending = g_ptr_array_new_with_free_func (change_free);
  self->pending_index = g_hash_table_new (g_str_hash, g_str_equal);
}

/**
 * runner_workspace_new:
 * @root: the real directory behind `/workspace`; created if missing
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a new #RunnerWorkspace, or %NULL with @error set
 */
RunnerWorkspace *
runner_workspace_new (const char *root,
                      GError    **error)
{
  g_return_val_if_fail (root != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (RUNNER_TYPE_WORKSPACE, NULL, error, "root", root, NULL);
}
