/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-sync"

#include "config.h"

#include "runner-sync-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "runner-beneath.h"
#include "runner-error.h"

/* Plans and actions: what S3 must do so that one path matches the disk
 * (worked out on a transfer thread), running those actions in parallel as a
 * batch, and the whole-tree sync-down and sync-up. */

#define SMALL_FILE            (1024 * 1024)

typedef enum
{
  ACTION_PUT,
  ACTION_COPY,
  ACTION_DELETE,
  ACTION_GET,
} ActionKind;

static const char * const action_names[] = { "put", "copy", "delete", "get" };

typedef struct
{
  ActionKind  kind;
  char       *rel;       /* the local path, for put, copy and get */
  char       *key;
  char       *from_key;  /* copy */
  char       *etag;      /* get: what the object's ETag is */
  gint64      size;
} Action;

static void
action_free (Action *action)
{
  g_free (action->rel);
  g_free (action->key);
  g_free (action->from_key);
  g_free (action->etag);
  g_free (action);
}

static Action *
action_new (ActionKind  kind,
            const char *rel,
            char       *key,
            gint64      size)
{
  Action *action = g_new0 (Action, 1);

  action->kind = kind;
  action->rel = g_strdup (rel);
  action->key = key;
  action->size = size;
  return action;
}

/* ---------------------------------------------------------------- plans */

void
runner_sync_plan_free (RunnerSyncPlan *plan)
{
  g_free (plan->path);
  g_free (plan->from);
  g_ptr_array_unref (plan->actions);
  g_free (plan);
}

RunnerSyncPlan *
runner_sync_plan_new (RunnerSync *self,
                      const char *path,
                      const char *from)
{
  RunnerSyncPlan *plan = g_new0 (RunnerSyncPlan, 1);

  plan->self = self;
  plan->path = g_strdup (path);
  plan->from = g_strdup (from);
  plan->actions = g_ptr_array_new_with_free_func ((GDestroyNotify) action_free);
  return plan;
}

static char *
join_rel (const char *dir,
          const char *name)
{
  return dir[0] != '\0' ? g_strconcat (dir, "/", name, NULL) : g_strdup (name);
}

/* The objects under @rel/ keyed by their path below it. */
static GHashTable *
list_below (RunnerSync    *self,
            const char    *rel,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autofree char *dir_key = rel[0] != '\0' ? g_strconcat (self->prefix, rel, "/", NULL)
                                            : g_strdup (self->prefix);
  g_autoptr(GPtrArray) objects = runner_s3_list_objects (self->s3, dir_key, cancellable, error);
  GHashTable *below;
  gsize skip = strlen (dir_key);

  if (objects == NULL)
    return NULL;
  below = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) runner_s3_object_free);
  for (guint i = 0; i < objects->len; i++)
    {
      RunnerS3Object *object = objects->pdata[i];

      g_hash_table_insert (below, g_strdup (object->key + skip), object);
      objects->pdata[i] = NULL;
    }
  return below;
}

static gboolean
same_content (RunnerSync     *self,
              int             fd,
              gint64          size,
              RunnerS3Object *object,
              GCancellable   *cancellable)
{
  return object != NULL && object->size == size &&
         runner_s3_etag_matches (self->s3, fd, size, object->etag, cancellable);
}

static gboolean
plan_file (RunnerSyncPlan *plan,
           const char     *rel,
           int             fd,
           gint64          size,
           RunnerS3Object *remote,
           RunnerS3Object *source,
           const char     *source_key,
           GCancellable   *cancellable)
{
  RunnerSync *self = plan->self;

  if (remote != NULL && same_content (self, fd, size, remote, cancellable))
    return TRUE;
  if (source != NULL && same_content (self, fd, size, source, cancellable))
    {
      Action *action = action_new (ACTION_COPY, rel, runner_sync_key_for (self, rel), size);

      action->from_key = g_strdup (source_key);
      g_ptr_array_add (plan->actions, action);
      return TRUE;
    }
  g_ptr_array_add (plan->actions, action_new (ACTION_PUT, rel, runner_sync_key_for (self, rel), size));
  return TRUE;
}

static RunnerS3Object *
head_or_null (RunnerSync    *self,
              const char    *key,
              GCancellable  *cancellable,
              GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  RunnerS3Object *object = runner_s3_head_object (self->s3, key, cancellable, &local_error);

  if (object == NULL && !g_error_matches (local_error, RUNNER_ERROR, RUNNER_ERROR_NOT_FOUND))
    g_propagate_error (error, g_steal_pointer (&local_error));
  return object;
}

/* Walks the local directory @dir_fd (@rel), planning an upload or copy for
 * every file S3 does not hold yet; what it saw is removed from @remote. */
static gboolean
plan_walk (RunnerSyncPlan  *plan,
           int              dir_fd,
           const char      *rel,
           const char      *sub,
           GHashTable      *remote,
           GHashTable      *source,
           GCancellable    *cancellable,
           GError         **error)
{
  RunnerSync *self = plan->self;
  /* a new open file description: a dup() would share (and move) the
   * directory offset of @dir_fd */
  int fd = openat (dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *entry;

  if (dir == NULL)
    {
      if (fd >= 0)
        close (fd);
      return runner_sync_set_errno_error (error, errno, rel);
    }

  while ((entry = readdir (dir)) != NULL)
    {
      g_autofree char *child_rel = NULL;
      g_autofree char *child_sub = NULL;
      struct stat st;

      if (g_str_equal (entry->d_name, ".") || g_str_equal (entry->d_name, ".."))
        continue;
      child_rel = join_rel (rel, entry->d_name);
      child_sub = join_rel (sub, entry->d_name);
      if (runner_sync_is_excluded (self, child_rel))
        continue;
      if (fstatat (dirfd (dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        continue;

      if (S_ISDIR (st.st_mode))
        {
          int child = openat (dirfd (dir), entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          gboolean ok;

          if (child < 0)
            continue;
          ok = plan_walk (plan, child, child_rel, child_sub, remote, source, cancellable, error);
          close (child);
          if (!ok)
            {
              closedir (dir);
              return FALSE;
            }
        }
      else if (S_ISREG (st.st_mode))
        {
          int file = openat (dirfd (dir), entry->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
          RunnerS3Object *source_object = source != NULL ? g_hash_table_lookup (source, child_sub) : NULL;

          if (file < 0)
            continue;
          plan->saw_file = TRUE;
          plan_file (plan, child_rel, file, st.st_size, g_hash_table_lookup (remote, child_sub),
                     source_object, source_object != NULL ? source_object->key : NULL, cancellable);
          close (file);
          g_hash_table_remove (remote, child_sub);
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          closedir (dir);
          return FALSE;
        }
    }
  closedir (dir);
  return TRUE;
}

/* Plans the deletion of everything under @rel/ left in @remote (no local file). */
static void
plan_deletes (RunnerSyncPlan *plan,
              const char     *rel,
              GHashTable     *remote)
{
  GHashTableIter iter;
  const char *sub;
  RunnerS3Object *object;

  g_hash_table_iter_init (&iter, remote);
  while (g_hash_table_iter_next (&iter, (gpointer *) &sub, (gpointer *) &object))
    {
      g_autofree char *child_rel = join_rel (rel, sub);

      if (runner_sync_is_excluded (plan->self, child_rel))
        continue;
      g_ptr_array_add (plan->actions, action_new (ACTION_DELETE, child_rel, g_strdup (object->key), 0));
    }
}

/* The work for one path, on a transfer thread: what must S3 do so that
 * prefix/PATH matches the disk now? */
gboolean
runner_sync_plan_path (RunnerS3      *s3,
                       gpointer       data,
                       GCancellable  *cancellable,
                       GError       **error)
{
  RunnerSyncPlan *plan = data;
  RunnerSync *self = plan->self;
  g_autofree char *dir = NULL;
  const char *base;
  struct stat st;
  int dir_fd;
  int saved = 0;

  if (plan->path[0] != '\0' && runner_sync_is_excluded (self, plan->path))
    return TRUE;

  runner_beneath_split (plan->path, &dir, &base);
  dir_fd = runner_beneath_open (self->root_fd, self->root, dir, O_PATH | O_DIRECTORY, 0,
                                RUNNER_BENEATH_NO_SYMLINKS);
  if (dir_fd < 0)
    saved = ENOENT;
  else if (plan->path[0] == '\0')
    {
      if (fstat (dir_fd, &st) != 0)
        saved = errno;
    }
  else if (fstatat (dir_fd, base, &st, AT_SYMLINK_NOFOLLOW) != 0)
    saved = errno;

  if (saved == 0 && S_ISREG (st.st_mode))
    {
      g_autoptr(RunnerS3Object) remote = NULL;
      g_autoptr(RunnerS3Object) source = NULL;
      g_autofree char *source_key = NULL;
      g_autoptr(GError) local_error = NULL;
      int fd = openat (dir_fd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

      close (dir_fd);
      if (fd < 0)
        return runner_sync_set_errno_error (error, errno, plan->path);
      if (plan->from != NULL)
        {
          source_key = runner_sync_key_for (self, plan->from);
          source = head_or_null (self, source_key, cancellable, &local_error);
        }
      /* small files go up without asking first */
      if (local_error == NULL && (st.st_size >= SMALL_FILE || plan->from != NULL))
        {
          g_autofree char *key = runner_sync_key_for (self, plan->path);

          remote = head_or_null (self, key, cancellable, &local_error);
        }
      if (local_error == NULL)
        plan_file (plan, plan->path, fd, st.st_size, remote, source, source_key, cancellable);
      close (fd);
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      return TRUE;
    }

  if (saved == 0 && S_ISDIR (st.st_mode))
    {
      g_autoptr(GHashTable) remote = NULL;
      g_autoptr(GHashTable) source = NULL;
      guint remote_count;
      int fd = openat (dir_fd, plan->path[0] != '\0' ? base : ".",
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      gboolean ok;

      close (dir_fd);
      if (fd < 0)
        return runner_sync_set_errno_error (error, errno, plan->path);
      remote = list_below (self, plan->path, cancellable, error);
      remote_count = remote != NULL ? g_hash_table_size (remote) : 0;
      if (remote != NULL && plan->from != NULL)
        source = list_below (self, plan->from, cancellable, error);
      ok = remote != NULL && (plan->from == NULL || source != NULL) &&
           plan_walk (plan, fd, plan->path, "", remote, source, cancellable, error);
      close (fd);
      if (ok && plan->path[0] == '\0' && remote_count > 0 && !plan->saw_file)
        {
          /* an empty workspace (a volume not mounted?) never wipes the bucket */
          g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN,
                       _("The workspace %s is empty: not deleting the %u objects under s3://%s/%s "
                         "(restore it with sync-down first)"),
                       self->root, remote_count, runner_s3_get_bucket (self->s3), self->prefix);
          return FALSE;
        }
      if (ok)
        plan_deletes (plan, plan->path, remote);
      return ok;
    }

  if (dir_fd >= 0)
    close (dir_fd);
  if (saved != 0 && saved != ENOENT && saved != ENOTDIR)
    return runner_sync_set_errno_error (error, saved, plan->path);

  /* gone (or a symbolic link, a socket...): nothing of it stays in S3 */
  {
    g_autoptr(GHashTable) remote = list_below (self, plan->path, cancellable, error);

    if (remote == NULL)
      return FALSE;
    g_ptr_array_add (plan->actions,
                     action_new (ACTION_DELETE, plan->path, runner_sync_key_for (self, plan->path), 0));
    plan_deletes (plan, plan->path, remote);
  }
  return TRUE;
}

/* ---------------------------------------------------------------- actions */

typedef struct
{
  RunnerSync *self;      /* kept alive by the batch's task */
  Action     *action;    /* owned by the batch */
} ActionRun;

static gboolean
run_get (RunnerSync    *self,
         Action        *action,
         GCancellable  *cancellable,
         GError       **error)
{
  g_autofree char *dir = NULL;
  const char *base;
  struct stat st;
  int dir_fd;
  gboolean ok;

  runner_beneath_split (action->rel, &dir, &base);
  /* a symbolic link where a directory belongs is not a directory */
  dir_fd = runner_beneath_ensure_dir (self->root_fd, self->root, dir, RUNNER_BENEATH_NO_SYMLINKS,
                                      NULL, NULL);
  if (dir_fd < 0)
    return runner_sync_set_errno_error (error, errno == ELOOP ? ENOTDIR : errno, dir);
  if (base[0] == '\0')
    {
      /* a folder marker */
      close (dir_fd);
      return TRUE;
    }
  if (fstatat (dir_fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode) &&
      st.st_size == action->size)
    {
      int fd = openat (dir_fd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
      g_autoptr(RunnerS3Object) remote = runner_s3_object_new (action->key, action->size, action->etag);
      gboolean same = fd >= 0 && same_content (self, fd, st.st_size, remote, cancellable);

      if (fd >= 0)
        close (fd);
      if (same)
        {
          close (dir_fd);
          return TRUE;
        }
    }
  ok = runner_s3_get_object (self->s3, action->key, dir_fd, base, NULL, cancellable, error);
  close (dir_fd);
  return ok;
}

/* Opens @rel below the root, never through a symbolic link: one there
 * (at any level) counts as gone. */
static int
open_file (RunnerSync  *self,
           const char  *rel,
           GError     **error)
{
  int fd = runner_beneath_open (self->root_fd, self->root, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0,
                                RUNNER_BENEATH_NO_SYMLINKS);

  if (fd < 0)
    runner_sync_set_errno_error (error, errno == ELOOP ? ENOENT : errno, rel);
  return fd;
}

static gboolean
run_action (RunnerS3      *s3,
            gpointer       data,
            GCancellable  *cancellable,
            GError       **error)
{
  ActionRun *run = data;
  RunnerSync *self = run->self;
  Action *action = run->action;
  g_autoptr(GError) local_error = NULL;
  gboolean ok;
  int fd;

  g_debug ("%s %s", action_names[action->kind], action->key);

  switch (action->kind)
    {
    case ACTION_DELETE:
      return runner_s3_delete_object (s3, action->key, cancellable, error);
    case ACTION_GET:
      return run_get (self, action, cancellable, error);
    case ACTION_COPY:
      if (runner_s3_copy_object (s3, action->from_key, action->key, NULL, cancellable, &local_error))
        return TRUE;
      if (!g_error_matches (local_error, RUNNER_ERROR, RUNNER_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      /* the source went away meanwhile: send the bytes */
      g_clear_error (&local_error);
      G_GNUC_FALLTHROUGH;
    case ACTION_PUT:
      fd = open_file (self, action->rel, &local_error);
      if (fd < 0)
        {
          /* gone since the plan: its deletion is another change */
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
            return TRUE;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      ok = runner_s3_put_object (s3, action->key, fd, NULL, cancellable, error);
      close (fd);
      return ok;
    default:
      g_assert_not_reached ();
    }
  return FALSE;
}

typedef struct
{
  GPtrArray *actions;
  guint      pending;
  guint      failed;
  GError    *error;       /* the first one, an auth error wins */
} Batch;

static void
batch_free (Batch *batch)
{
  g_ptr_array_unref (batch->actions);
  g_clear_error (&batch->error);
  g_free (batch);
}

static void
batch_action_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Batch *batch = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!runner_s3_run_finish (RUNNER_S3 (source), result, &error))
    {
      batch->failed++;
      if (batch->error == NULL ||
          (g_error_matches (error, RUNNER_ERROR, RUNNER_ERROR_AUTH) &&
           !g_error_matches (batch->error, RUNNER_ERROR, RUNNER_ERROR_AUTH)))
        {
          g_clear_error (&batch->error);
          batch->error = g_steal_pointer (&error);
        }
    }
  if (--batch->pending > 0)
    return;
  if (batch->error != NULL)
    {
      if (batch->failed > 1 || batch->actions->len > 1)
        g_prefix_error (&batch->error, _("%u of %u transfers failed, the first: "),
                        batch->failed, batch->actions->len);
      g_task_return_error (task, g_steal_pointer (&batch->error));
    }
  else
    g_task_return_int (task, batch->actions->len);
}

/* Runs every action of @actions on the transfer threads; fails if any fails. */
void
runner_sync_run_batch_async (RunnerSync          *self,
                             GPtrArray           *actions,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  Batch *batch = g_new0 (Batch, 1);

  batch->actions = g_ptr_array_ref (actions);
  batch->pending = actions->len;
  g_task_set_task_data (task, batch, (GDestroyNotify) batch_free);
  if (actions->len == 0)
    {
      g_task_return_int (task, 0);
      return;
    }
  for (guint i = 0; i < actions->len; i++)
    {
      ActionRun *run = g_new0 (ActionRun, 1);

      run->self = self;
      run->action = actions->pdata[i];
      runner_s3_run_async (self->s3, run_action, run, g_free,
                           cancellable, batch_action_done, g_object_ref (task));
    }
}

gssize
runner_sync_run_batch_finish (RunnerSync    *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return g_task_propagate_int (G_TASK (result), error);
}

/* ---------------------------------------------------------------- down / up */

static void
whole_batch_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  gssize n = runner_sync_run_batch_finish (RUNNER_SYNC (source), result, &error);

  if (n < 0)
    g_task_return_error (task, error);
  else
    g_task_return_int (task, n);
}

static void
down_listed (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RunnerSync *self = g_task_get_source_object (task);
  g_autoptr(GPtrArray) actions = g_ptr_array_new_with_free_func ((GDestroyNotify) action_free);
  g_autoptr(GPtrArray) objects = NULL;
  GError *error = NULL;

  objects = runner_s3_list_objects_finish (RUNNER_S3 (source), result, &error);
  if (objects == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  for (guint i = 0; i < objects->len; i++)
    {
      RunnerS3Object *object = objects->pdata[i];
      g_autofree char *rel = runner_sync_rel_for_key (self, object->key);
      Action *action;

      if (rel == NULL)
        {
          g_warning ("Not restoring S3 key “%s”: not a safe path below the prefix", object->key);
          continue;
        }
      if (self->state_rel != NULL && runner_sync_paths_overlap (rel, self->state_rel))
        continue;
      action = action_new (ACTION_GET, rel, g_strdup (object->key), object->size);
      action->etag = g_strdup (object->etag);
      g_ptr_array_add (actions, action);
    }
  g_debug ("Restoring %u object(s) from s3://%s/%s", actions->len,
           runner_s3_get_bucket (self->s3), self->prefix);
  runner_sync_run_batch_async (self, actions, g_task_get_cancellable (task), whole_batch_done,
                               g_object_ref (task));
}

/**
 * runner_sync_down_async:
 * @self: a #RunnerSync
 *
 * Restores s3://bucket/prefix into the workspace: every object in parallel,
 * each file written atomically (temporary file, checked, renamed); files
 * already identical are left alone; nothing local is deleted. Fails if any
 * object did not arrive.
 */
void
runner_sync_down_async (RunnerSync          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (RUNNER_IS_SYNC (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, runner_sync_down_async);
  runner_s3_list_objects_async (self->s3, self->prefix, cancellable, down_listed, task);
}

static gboolean
propagate_count (GAsyncResult  *result,
                 guint         *n_files,
                 GError       **error)
{
  gssize n = g_task_propagate_int (G_TASK (result), error);

  if (n < 0)
    return FALSE;
  if (n_files != NULL)
    *n_files = (guint) n;
  return TRUE;
}

/**
 * runner_sync_down_finish:
 * @n_files: (out) (optional): how many objects were restored or found identical
 */
gboolean
runner_sync_down_finish (RunnerSync    *self,
                         GAsyncResult  *result,
                         guint         *n_files,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return propagate_count (result, n_files, error);
}

static void
up_planned (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RunnerSync *self = g_task_get_source_object (task);
  GPtrArray *actions = g_task_get_task_data (task);
  GError *error = NULL;

  if (!runner_s3_run_finish (RUNNER_S3 (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  runner_sync_run_batch_async (self, actions, g_task_get_cancellable (task), whole_batch_done,
                               g_object_ref (task));
}

/**
 * runner_sync_up_async:
 * @self: a #RunnerSync
 *
 * Makes s3://bucket/prefix match the workspace: uploads what differs (by
 * ETag: MD5, or the multipart ETag recomputed), deletes objects that have no
 * local file. Excluded names are neither sent nor deleted.
 */
void
runner_sync_up_async (RunnerSync          *self,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  GTask *task;
  RunnerSyncPlan *plan;

  g_return_if_fail (RUNNER_IS_SYNC (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, runner_sync_up_async);
  plan = runner_sync_plan_new (self, "", NULL);
  g_task_set_task_data (task, g_ptr_array_ref (plan->actions), (GDestroyNotify) g_ptr_array_unref);
  runner_s3_run_async (self->s3, runner_sync_plan_path, plan, (GDestroyNotify) runner_sync_plan_free,
                       cancellable, up_planned, task);
}

/**
 * runner_sync_up_finish:
 * @n_files: (out) (optional): how many uploads, copies and deletions it took
 */
gboolean
runner_sync_up_finish (RunnerSync    *self,
                       GAsyncResult  *result,
                       guint         *n_files,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return propagate_count (result, n_files, error);
}
