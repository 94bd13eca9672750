/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-workspace"

#include "config.h"

#include "runner-workspace-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "runner-beneath.h"

#define DEBOUNCE_MS 50
/* IN_EXCL_UNLINK also keeps out the events of O_TMPFILE files, which
 * inotify names "#<inode>". */
#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM \
                    | IN_MOVED_TO | IN_DELETE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)

/* ---------------------------------------------------------------------- */
/* Watching */

static gboolean
watcher_flush_cb (gpointer data)
{
  RunnerWorkspace *self = data;
  g_autoptr(GPtrArray) changes = g_steal_pointer (&self->pending);

  self->flush_source = 0;
  self->pending = g_ptr_array_new_with_free_func (runner_workspace_change_free);
  g_hash_table_remove_all (self->pending_index);
  g_object_ref (self);
  for (guint i = 0; i < changes->len; i++)
    {
      Change *change = g_ptr_array_index (changes, i);

      runner_workspace_emit_changed (self, change);
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

  if (runner_workspace_is_own (self, path)
      || (other != NULL && runner_workspace_is_own (self, other)))
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

  fd = runner_workspace_open_errno (self, relative,
                                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK, 0);
  if (fd < 0)
    return;
  if (runner_workspace_have_proc_fd ())
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

      if (runner_workspace_is_dot_or_dotdot (de->d_name)
          || runner_workspace_name_is_excluded (self->excluded, de->d_name))
        continue;
      if (de->d_type == DT_UNKNOWN)
        {
          struct stat st;

          if (fstatat (dirfd (dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0
              || !S_ISDIR (st.st_mode))
            continue;
        }
      else if (de->d_type != DT_DIR)
        continue;
      child = *relative != '\0' ? g_strconcat (relative, "/", de->d_name, NULL)
                                : g_strdup (de->d_name);
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
    if (runner_beneath_is_within (value, relative))
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
    if (runner_beneath_is_within (value, from))
      g_hash_table_iter_replace (&iter, g_strconcat (to, (char *) value + from_len, NULL));
}

/* Whether the watcher reports changes to @name at all. */
static gboolean
watcher_ignores (RunnerWorkspace *self,
                 const char      *name)
{
  return runner_workspace_name_is_excluded (self->excluded, name)
         || runner_beneath_is_temp_name (name);
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
void
runner_workspace_watcher_read (RunnerWorkspace *self)
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
  runner_workspace_watcher_read (data);
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
