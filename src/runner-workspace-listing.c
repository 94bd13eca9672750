/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-workspace"

#include "config.h"

#include "runner-workspace-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner-beneath.h"
#include "runner-json.h"

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
  fd = runner_workspace_open_errno (walk->self, list_walk_relative (walk), O_PATH, 0);
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
      runner_json_append_string (walk->text, entry->name, -1);
      g_string_append (walk->text, entry->is_dir ? ",\"type\":\"directory\",\"path\":"
                                                 : ",\"type\":\"file\",\"path\":");
      runner_json_append_string (walk->text, path, -1);
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

      if (runner_workspace_is_dot_or_dotdot (de->d_name)
          || runner_workspace_name_is_excluded (walk->op->excluded, de->d_name)
          || runner_beneath_is_temp_name (de->d_name))
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

  fd = runner_workspace_open_errno (self, op->path, O_RDONLY | O_DIRECTORY | O_NONBLOCK, 0);
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      GError *error = NULL;

      runner_beneath_set_error (&error, errno, op->path);
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
  op = runner_workspace_op_new (self);
  op->path = relative;
  op->depth = depth < 0 ? -1 : depth;
  op->flag = text;
  g_task_set_task_data (task, op, runner_workspace_op_free);
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
