/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-sync"

#include "config.h"

#include "runner-sync.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "runner-config.h"
#include "runner-enum-nick.h"
#include "runner-error.h"
#include "runner-message.h"
#include "runner-protocol.h"
#include "runner-request.h"

/*
 * RunnerSync keeps s3://bucket/prefix and the workspace the same.
 *
 * Every change the workspace reports marks a path dirty. The mark is written
 * to a journal on disk first (one JSON line per mark, and one per completion),
 * so a crash loses nothing: the next start replays what was not done. Marks
 * coalesce per path, and the work for a path is state-based: its job looks at
 * what is on disk *now* and makes S3 match (upload, server-side copy for a
 * rename, delete, or all of that for a directory), so replaying a job twice is
 * harmless. A job that fails is tried again with back-off until it lands;
 * a change that arrives while its path is being sent runs it once more.
 *
 * A job first builds a plan on a transfer thread (stat, listing, hashing:
 * blocking work), then runs the plan's actions in parallel on the S3 client's
 * transfer threads. Jobs whose paths overlap (one inside the other, or the
 * source of a rename) never run at the same time.
 */

#define SMALL_FILE            (1024 * 1024)
#define RETRY_BASE_MS         500
#define RETRY_CAP_MS          30000
#define JOURNAL_COMPACT_LINES 4096
#define BROADCAST_DELAY_MS    200

typedef struct
{
  char    *path;         /* relative to the root, "" is the root */
  char    *from;         /* rename source: may be copied on the server */
  guint64  seq;          /* newest journaled mark */
  guint64  running_seq;  /* the mark the running job started from, or 0 */
  gint64   bytes;
  guint    failures;
  gint64   not_before;   /* monotonic time before which it waits */
  gboolean queued;       /* in self->ready */
} Entry;

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

typedef enum
{
  JOURNAL_APPEND,
  JOURNAL_TRUNCATE,
  JOURNAL_REWRITE,
  JOURNAL_BARRIER,
} JournalOpKind;

typedef struct
{
  JournalOpKind  kind;
  char          *text;
  GTask         *task;
} JournalOp;

struct _RunnerSync
{
  GObject          parent_instance;

  RunnerS3        *s3;
  char            *root;
  int              root_fd;
  char            *prefix;          /* "" or ending in '/' */
  char            *state_dir;
  char            *state_rel;       /* the state dir inside the root, or NULL */
  char            *journal_path;
  GStrv            excluded;

  gboolean         started;
  GHashTable      *entries;         /* path -> Entry (owned) */
  GQueue           ready;           /* Entry, in arrival order */
  GHashTable      *running;         /* path -> Entry */
  GHashTable      *sources;         /* rename source path -> count of entries */
  guint64          next_seq;
  guint            retry_source;

  GThreadPool     *journal_pool;    /* one thread: writes stay in order */
  gint             journal_queued;  /* atomic: ops pushed and not yet done */
  int              journal_fd;      /* used on the journal thread only */
  guint            journal_lines;

  GCancellable    *cancellable;
  RunnerWorkspace *workspace;
  gulong           changed_id;
  GPtrArray       *flush_waiters;   /* GTask */
  guint            notify_source;
  RunnerServer    *server;          /* weak */
  gulong           broadcast_id;

  guint64          pending_bytes;
  guint            in_flight;
  char            *last_error;
  char            *last_error_code;
  gint64           last_success;    /* unix µs, 0 = never */
  RunnerSyncState  state;
};

G_DEFINE_FINAL_TYPE (RunnerSync, runner_sync, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_PENDING,
  PROP_PENDING_BYTES,
  PROP_IN_FLIGHT,
  PROP_LAST_ERROR,
  PROP_LAST_SUCCESS,
  PROP_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  STATE_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void pump           (RunnerSync *self);
static void entry_set_from (RunnerSync *self,
                            Entry      *entry,
                            const char *from);
static void entry_remove   (RunnerSync *self,
                            Entry      *entry);

/* ---------------------------------------------------------------- paths */

static void
entry_free (Entry *entry)
{
  g_free (entry->path);
  g_free (entry->from);
  g_free (entry);
}

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

/* Normalizes a workspace path ("/workspace/a/b", "a/./b", an absolute path
 * under the root) into "a/b"; NULL when it is not inside the workspace. */
static char *
normalize_path (RunnerSync *self,
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
static gboolean
paths_overlap (const char *a,
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
static gboolean
is_excluded (RunnerSync *self,
             const char *rel)
{
  g_auto(GStrv) parts = NULL;

  if (self->state_rel != NULL && paths_overlap (rel, self->state_rel) && rel[0] != '\0' &&
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

static char *
key_for (RunnerSync *self,
         const char *rel)
{
  return g_strconcat (self->prefix, rel, NULL);
}

/* A key's path below the prefix, when it is a safe relative path. */
static char *
rel_for_key (RunnerSync *self,
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

static gboolean
set_errno_error (GError    **error,
                 int         saved,
                 const char *what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", what, g_strerror (saved));
  return FALSE;
}

/* Opens directory @rel below @root_fd without following symbolic links,
 * creating missing directories when @create is set. */
static int
open_dir_beneath (int          root_fd,
                  const char  *rel,
                  gboolean     create,
                  GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (rel, "/", -1);
  int fd = openat (root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return set_errno_error (error, errno, rel), -1;
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
              return set_errno_error (error, saved, rel), -1;
            }
          next = openat (fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
      if (next < 0)
        {
          int saved = errno == ELOOP ? ENOTDIR : errno;

          close (fd);
          return set_errno_error (error, saved, rel), -1;
        }
      close (fd);
      fd = next;
    }
  return fd;
}

static void
split_rel (const char  *rel,
           char       **dir,
           const char **base)
{
  const char *slash = strrchr (rel, '/');

  *dir = slash != NULL ? g_strndup (rel, slash - rel) : g_strdup ("");
  *base = slash != NULL ? slash + 1 : rel;
}

/* Opens regular file @rel below the root, never through a symbolic link. */
static int
open_file_beneath (int          root_fd,
                   const char  *rel,
                   GError     **error)
{
  g_autofree char *dir = NULL;
  const char *base;
  int dir_fd, fd;

  split_rel (rel, &dir, &base);
  dir_fd = open_dir_beneath (root_fd, dir, FALSE, error);
  if (dir_fd < 0)
    return -1;
  fd = openat (dir_fd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    set_errno_error (error, errno == ELOOP ? ENOENT : errno, rel);
  close (dir_fd);
  return fd;
}

/* ---------------------------------------------------------------- state */

static gboolean
emit_state_changed (gpointer user_data)
{
  RunnerSync *self = user_data;

  self->notify_source = 0;
  g_signal_emit (self, signals[STATE_CHANGED], 0);
  return G_SOURCE_REMOVE;
}

static void
set_error (RunnerSync   *self,
           const GError *error)
{
  const char *code = error != NULL ? runner_error_to_code (error) : NULL;

  if (g_strcmp0 (self->last_error, error != NULL ? error->message : NULL) == 0)
    return;
  g_free (self->last_error);
  self->last_error = error != NULL ? g_strdup (error->message) : NULL;
  g_free (self->last_error_code);
  self->last_error_code = g_strdup (code);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ERROR]);
}

/* Recomputes the summary, notifies what changed and schedules one
 * ::state-changed (throttled: a burst of changes makes one broadcast). */
static void
update_state (RunnerSync *self)
{
  RunnerSyncState state;

  if (g_hash_table_size (self->entries) == 0 && self->in_flight == 0)
    state = RUNNER_SYNC_STATE_IDLE;
  else if (self->last_error != NULL)
    state = RUNNER_SYNC_STATE_ERROR;
  else
    state = RUNNER_SYNC_STATE_SYNCING;

  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING_BYTES]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IN_FLIGHT]);
  if (state != self->state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
  g_object_thaw_notify (G_OBJECT (self));

  if (self->notify_source == 0)
    self->notify_source = g_timeout_add (BROADCAST_DELAY_MS, emit_state_changed, self);
}

/* ---------------------------------------------------------------- journal */

static void
journal_run (gpointer data,
             gpointer user_data)
{
  JournalOp *op = data;
  RunnerSync *self = user_data;
  g_autoptr(GError) error = NULL;

  switch (op->kind)
    {
    case JOURNAL_APPEND:
      if (self->journal_fd >= 0)
        {
          gsize len = strlen (op->text), done = 0;

          while (done < len)
            {
              ssize_t n = write (self->journal_fd, op->text + done, len - done);

              if (n < 0 && errno == EINTR)
                continue;
              if (n < 0)
                {
                  g_warning ("Cannot write the sync journal %s: %s", self->journal_path, g_strerror (errno));
                  break;
                }
              done += n;
            }
        }
      break;
    case JOURNAL_TRUNCATE:
      if (self->journal_fd >= 0 && ftruncate (self->journal_fd, 0) != 0)
        g_warning ("Cannot truncate the sync journal %s: %s", self->journal_path, g_strerror (errno));
      break;
    case JOURNAL_REWRITE:
      if (!g_file_set_contents_full (self->journal_path, op->text, -1,
                                     G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
        g_warning ("Cannot rewrite the sync journal: %s", error->message);
      else
        {
          int fd = open (self->journal_path, O_WRONLY | O_APPEND | O_CLOEXEC);

          if (fd >= 0)
            {
              if (self->journal_fd >= 0)
                close (self->journal_fd);
              self->journal_fd = fd;
            }
        }
      break;
    case JOURNAL_BARRIER:
      break;
    default:
      g_assert_not_reached ();
    }

  /* durable once the burst is written: one fdatasync per burst (counted
   * here, not asked of the pool, which may already be stopping) */
  if (g_atomic_int_dec_and_test (&self->journal_queued) && self->journal_fd >= 0)
    fdatasync (self->journal_fd);
  if (op->task != NULL)
    {
      g_task_return_boolean (op->task, TRUE);
      g_object_unref (op->task);
    }
  g_free (op->text);
  g_free (op);
}

static void
journal_push (RunnerSync    *self,
              JournalOpKind  kind,
              char          *text,
              GTask         *task)
{
  JournalOp *op = g_new0 (JournalOp, 1);

  op->kind = kind;
  op->text = text;
  op->task = task;
  g_atomic_int_inc (&self->journal_queued);
  g_thread_pool_push (self->journal_pool, op, NULL);
}

static char *
journal_line (const char *path,
              const char *from,
              guint64     seq,
              gboolean    done)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, done ? "done" : "path");
  json_builder_add_string_value (builder, path);
  if (from != NULL)
    {
      json_builder_set_member_name (builder, "from");
      json_builder_add_string_value (builder, from);
    }
  json_builder_set_member_name (builder, "seq");
  json_builder_add_int_value (builder, (gint64) seq);
  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  return g_strconcat (text, "\n", NULL);
}

static char *
journal_snapshot (RunnerSync *self)
{
  GString *text = g_string_new (NULL);

  for (GList *l = self->ready.head; l != NULL; l = l->next)
    {
      Entry *entry = l->data;
      g_autofree char *line = journal_line (entry->path, entry->from, entry->seq, FALSE);

      g_string_append (text, line);
    }
  {
    GHashTableIter iter;
    Entry *entry;

    g_hash_table_iter_init (&iter, self->running);
    while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
      {
        g_autofree char *line = NULL;

        if (entry->queued)
          continue;
        line = journal_line (entry->path, entry->from, entry->seq, FALSE);
        g_string_append (text, line);
      }
  }
  return g_string_free (text, FALSE);
}

static void
journal_append (RunnerSync *self,
                char       *line)
{
  self->journal_lines++;
  journal_push (self, JOURNAL_APPEND, line, NULL);
}

/* Reads the journal left by an earlier run; returns marks not yet done. */
static gboolean
journal_replay (RunnerSync  *self,
                GError     **error)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  guint replayed = 0;

  if (!g_file_get_contents (self->journal_path, &text, NULL, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), _("Cannot read the sync journal: "));
      return FALSE;
    }

  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      JsonObject *object;
      const char *path, *done, *from;
      guint64 seq;
      Entry *entry;

      if (lines[i][0] == '\0')
        continue;
      /* a line cut by a crash is skipped */
      if (!json_parser_load_from_data (parser, lines[i], -1, NULL) ||
          !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        continue;
      object = json_node_get_object (json_parser_get_root (parser));
      path = json_object_get_string_member_with_default (object, "path", NULL);
      done = json_object_get_string_member_with_default (object, "done", NULL);
      from = json_object_get_string_member_with_default (object, "from", NULL);
      seq = (guint64) json_object_get_int_member_with_default (object, "seq", 0);
      self->next_seq = MAX (self->next_seq, seq);

      if (done != NULL)
        {
          entry = g_hash_table_lookup (self->entries, done);
          if (entry != NULL && entry->seq <= seq)
            entry_remove (self, entry);
          continue;
        }
      if (path == NULL)
        continue;
      entry = g_hash_table_lookup (self->entries, path);
      if (entry == NULL)
        {
          entry = g_new0 (Entry, 1);
          entry->path = g_strdup (path);
          g_hash_table_insert (self->entries, entry->path, entry);
        }
      entry->seq = MAX (entry->seq, seq);
      if (from != NULL)
        entry_set_from (self, entry, from);
    }

  {
    g_autoptr(GList) values = g_hash_table_get_values (self->entries);

    for (GList *l = values; l != NULL; l = l->next)
      {
        Entry *entry = l->data;

        entry->queued = TRUE;
        g_queue_push_tail (&self->ready, entry);
        replayed++;
      }
  }
  if (replayed > 0)
    g_message ("Replaying %u pending change(s) from %s", replayed, self->journal_path);
  return TRUE;
}

/* ---------------------------------------------------------------- plans */

typedef struct
{
  RunnerSync *self;         /* kept alive by the job or task that waits for the plan */
  char       *path;
  char       *from;
  GPtrArray  *actions;      /* Action */
  gboolean    saw_file;     /* the walk found a local file */
} Plan;

static void
plan_free (Plan *plan)
{
  g_free (plan->path);
  g_free (plan->from);
  g_ptr_array_unref (plan->actions);
  g_free (plan);
}

static Plan *
plan_new (RunnerSync *self,
          const char *path,
          const char *from)
{
  Plan *plan = g_new0 (Plan, 1);

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
plan_file (Plan          *plan,
           const char    *rel,
           int            fd,
           gint64         size,
           RunnerS3Object *remote,
           RunnerS3Object *source,
           const char    *source_key,
           GCancellable  *cancellable)
{
  RunnerSync *self = plan->self;

  if (remote != NULL && same_content (self, fd, size, remote, cancellable))
    return TRUE;
  if (source != NULL && same_content (self, fd, size, source, cancellable))
    {
      Action *action = action_new (ACTION_COPY, rel, key_for (self, rel), size);

      action->from_key = g_strdup (source_key);
      g_ptr_array_add (plan->actions, action);
      return TRUE;
    }
  g_ptr_array_add (plan->actions, action_new (ACTION_PUT, rel, key_for (self, rel), size));
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
plan_walk (Plan          *plan,
           int            dir_fd,
           const char    *rel,
           const char    *sub,
           GHashTable    *remote,
           GHashTable    *source,
           GCancellable  *cancellable,
           GError       **error)
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
      return set_errno_error (error, errno, rel);
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
      if (is_excluded (self, child_rel))
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
plan_deletes (Plan       *plan,
              const char *rel,
              GHashTable *remote)
{
  GHashTableIter iter;
  const char *sub;
  RunnerS3Object *object;

  g_hash_table_iter_init (&iter, remote);
  while (g_hash_table_iter_next (&iter, (gpointer *) &sub, (gpointer *) &object))
    {
      g_autofree char *child_rel = join_rel (rel, sub);

      if (is_excluded (plan->self, child_rel))
        continue;
      g_ptr_array_add (plan->actions, action_new (ACTION_DELETE, child_rel, g_strdup (object->key), 0));
    }
}

/* The work for one path, on a transfer thread: what must S3 do so that
 * prefix/PATH matches the disk now? */
static gboolean
plan_path (RunnerS3      *s3,
           gpointer       data,
           GCancellable  *cancellable,
           GError       **error)
{
  Plan *plan = data;
  RunnerSync *self = plan->self;
  g_autofree char *dir = NULL;
  const char *base;
  struct stat st;
  int dir_fd;
  int saved = 0;

  if (plan->path[0] != '\0' && is_excluded (self, plan->path))
    return TRUE;

  split_rel (plan->path, &dir, &base);
  dir_fd = open_dir_beneath (self->root_fd, plan->path[0] != '\0' ? dir : "", FALSE, NULL);
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
        return set_errno_error (error, errno, plan->path);
      if (plan->from != NULL)
        {
          source_key = key_for (self, plan->from);
          source = head_or_null (self, source_key, cancellable, &local_error);
        }
      /* small files go up without asking first */
      if (local_error == NULL && (st.st_size >= SMALL_FILE || plan->from != NULL))
        {
          g_autofree char *key = key_for (self, plan->path);

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
        return set_errno_error (error, errno, plan->path);
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
    return set_errno_error (error, saved, plan->path);

  /* gone (or a symbolic link, a socket...): nothing of it stays in S3 */
  {
    g_autoptr(GHashTable) remote = list_below (self, plan->path, cancellable, error);

    if (remote == NULL)
      return FALSE;
    g_ptr_array_add (plan->actions, action_new (ACTION_DELETE, plan->path, key_for (self, plan->path), 0));
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

  split_rel (action->rel, &dir, &base);
  dir_fd = open_dir_beneath (self->root_fd, dir, TRUE, error);
  if (dir_fd < 0)
    return FALSE;
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
      fd = open_file_beneath (self->root_fd, action->rel, &local_error);
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
static void
run_batch_async (RunnerSync          *self,
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

static gssize
run_batch_finish (RunnerSync    *self,
                  GAsyncResult  *result,
                  GError       **error)
{
  return g_task_propagate_int (G_TASK (result), error);
}

/* ---------------------------------------------------------------- jobs */

static void entry_job_done (RunnerSync   *self,
                            Entry        *entry,
                            const GError *error);

typedef struct
{
  RunnerSync *self;    /* owned */
  Entry      *entry;   /* stays alive while running */
  GPtrArray  *actions; /* filled by the plan, on its thread */
} Job;

static void
job_free (Job *job)
{
  g_object_unref (job->self);
  g_ptr_array_unref (job->actions);
  g_free (job);
}

static void
job_actions_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;

  run_batch_finish (job->self, result, &error);
  entry_job_done (job->self, job->entry, error);
  job_free (job);
}

static void
job_plan_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;

  if (!runner_s3_run_finish (RUNNER_S3 (source), result, &error))
    {
      entry_job_done (job->self, job->entry, error);
      job_free (job);
      return;
    }
  run_batch_async (job->self, job->actions, job->self->cancellable, job_actions_done, job);
}

static void
start_job (RunnerSync *self,
           Entry      *entry)
{
  Job *job = g_new0 (Job, 1);
  Plan *plan = plan_new (self, entry->path, entry->from);

  job->self = g_object_ref (self);
  job->entry = entry;
  job->actions = g_ptr_array_ref (plan->actions);
  entry->running_seq = entry->seq;
  self->in_flight++;
  g_hash_table_insert (self->running, entry->path, entry);
  g_debug ("Syncing “%s”%s%s", entry->path, entry->from != NULL ? " from " : "",
           entry->from != NULL ? entry->from : "");
  runner_s3_run_async (self->s3, plan_path, plan, (GDestroyNotify) plan_free,
                       self->cancellable, job_plan_done, job);
}

/* ---------------------------------------------------------------- queue */

/* Keeps self->sources (rename source -> how many entries copy from it). */
static void
entry_set_from (RunnerSync *self,
                Entry      *entry,
                const char *from)
{
  if (entry->from != NULL)
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->sources, entry->from));

      if (n <= 1)
        g_hash_table_remove (self->sources, entry->from);
      else
        g_hash_table_insert (self->sources, g_strdup (entry->from), GUINT_TO_POINTER (n - 1));
    }
  g_free (entry->from);
  entry->from = g_strdup (from);
  if (from != NULL)
    g_hash_table_insert (self->sources, g_strdup (from),
                         GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (self->sources, from)) + 1));
}

static void
entry_remove (RunnerSync *self,
              Entry      *entry)
{
  entry_set_from (self, entry, NULL);
  self->pending_bytes -= MIN (self->pending_bytes, (guint64) entry->bytes);
  if (entry->queued)
    g_queue_remove (&self->ready, entry);
  g_hash_table_remove (self->entries, entry->path);
}

static void
entry_enqueue (RunnerSync *self,
               Entry      *entry)
{
  if (entry->queued || entry->running_seq != 0)
    return;
  entry->queued = TRUE;
  g_queue_push_tail (&self->ready, entry);
}

/* Whether @entry must wait: a running job touches an overlapping path, or
 * (when @prefer_order) a pending rename still wants to copy from it. */
static gboolean
entry_is_blocked (RunnerSync *self,
                  Entry      *entry,
                  gboolean    prefer_order)
{
  GHashTableIter iter;
  Entry *other;

  g_hash_table_iter_init (&iter, self->running);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &other))
    if (paths_overlap (entry->path, other->path) ||
        paths_overlap (entry->path, other->from) ||
        paths_overlap (entry->from, other->path))
      return TRUE;

  if (prefer_order && g_hash_table_size (self->sources) > 0)
    {
      const char *source;

      g_hash_table_iter_init (&iter, self->sources);
      while (g_hash_table_iter_next (&iter, (gpointer *) &source, NULL))
        if (paths_overlap (source, entry->path) &&
            (entry->from == NULL || !g_str_equal (entry->from, source) ||
             GPOINTER_TO_UINT (g_hash_table_lookup (self->sources, source)) > 1))
          return TRUE;
    }
  return FALSE;
}

static gboolean
retry_cb (gpointer user_data)
{
  RunnerSync *self = user_data;

  self->retry_source = 0;
  pump (self);
  return G_SOURCE_REMOVE;
}

/* Starts what may start: up to the client's parallelism, oldest first. */
static void
pump (RunnerSync *self)
{
  guint parallel = runner_s3_get_parallel (self->s3);
  gint64 now = g_get_monotonic_time ();
  gint64 next = G_MAXINT64;

  if (!self->started || g_cancellable_is_cancelled (self->cancellable))
    return;

  /* first pass: renames before the removal of their source */
  for (guint pass = 0; pass < 2; pass++)
    {
      GList *l = self->ready.head;

      while (l != NULL && self->in_flight < parallel)
        {
          GList *next_link = l->next;
          Entry *entry = l->data;

          if (entry->not_before > now)
            next = MIN (next, entry->not_before);
          else if (!entry_is_blocked (self, entry, pass == 0))
            {
              g_queue_delete_link (&self->ready, l);
              entry->queued = FALSE;
              start_job (self, entry);
            }
          l = next_link;
        }
    }

  g_clear_handle_id (&self->retry_source, g_source_remove);
  if (next != G_MAXINT64)
    self->retry_source = g_timeout_add ((guint) ((next - now) / 1000 + 1), retry_cb, self);
}

static gboolean
is_idle (RunnerSync *self)
{
  return g_hash_table_size (self->entries) == 0 && self->in_flight == 0;
}

static void
barrier_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;

  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* Answers @task once the journal lines written so far are on disk. */
static void
journal_barrier (RunnerSync *self,
                 GTask      *task)
{
  journal_push (self, JOURNAL_BARRIER, NULL, g_task_new (NULL, NULL, barrier_done, task));
}

static void
check_flush_waiters (RunnerSync *self)
{
  if (!is_idle (self) || self->flush_waiters->len == 0)
    return;
  while (self->flush_waiters->len > 0)
    {
      GTask *task = g_ptr_array_steal_index (self->flush_waiters, 0);
      guint *timeout_id = g_task_get_task_data (task);

      g_clear_handle_id (timeout_id, g_source_remove);
      journal_barrier (self, task);
    }
}

static void
entry_job_done (RunnerSync   *self,
                Entry        *entry,
                const GError *error)
{
  self->in_flight--;
  g_hash_table_remove (self->running, entry->path);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* stopped: the journal keeps it for the next start */
      entry->running_seq = 0;
      update_state (self);
      return;
    }

  if (error != NULL)
    {
      guint delay;

      entry->failures++;
      delay = MIN (RETRY_CAP_MS, RETRY_BASE_MS << MIN (entry->failures - 1, 10));
      delay = delay / 2 + g_random_int_range (0, delay / 2 + 1);
      entry->not_before = g_get_monotonic_time () + (gint64) delay * 1000;
      g_message ("Sync of “%s” failed (attempt %u), again in %u ms: %s",
                 entry->path, entry->failures, delay, error->message);
      set_error (self, error);
      entry->running_seq = 0;
      entry_enqueue (self, entry);
    }
  else
    {
      GHashTableIter iter;
      Entry *other;
      gboolean failing = FALSE;

      journal_append (self, journal_line (entry->path, NULL, entry->running_seq, TRUE));
      self->last_success = g_get_real_time ();
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_SUCCESS]);
      if (entry->seq > entry->running_seq)
        {
          /* changed again while it was sent */
          entry->running_seq = 0;
          entry->failures = 0;
          entry_set_from (self, entry, NULL);
          entry_enqueue (self, entry);
        }
      else
        entry_remove (self, entry);

      g_hash_table_iter_init (&iter, self->entries);
      while (!failing && g_hash_table_iter_next (&iter, NULL, (gpointer *) &other))
        failing = other->failures > 0;
      if (!failing)
        set_error (self, NULL);
    }

  if (is_idle (self))
    {
      self->journal_lines = 0;
      journal_push (self, JOURNAL_TRUNCATE, NULL, NULL);
    }
  else if (self->journal_lines > MAX (JOURNAL_COMPACT_LINES, 2 * g_hash_table_size (self->entries)))
    {
      self->journal_lines = g_hash_table_size (self->entries);
      journal_push (self, JOURNAL_REWRITE, journal_snapshot (self), NULL);
    }

  update_state (self);
  pump (self);
  check_flush_waiters (self);
}

typedef struct
{
  RunnerSync *self;   /* owned */
  char       *path;
  guint64     seq;
} SizeQuery;

static void
size_query_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  SizeQuery *query = user_data;
  g_autoptr(GFileInfo) info = g_file_query_info_finish (G_FILE (source), result, NULL);
  RunnerSync *self = query->self;
  Entry *entry = g_hash_table_lookup (self->entries, query->path);

  if (entry != NULL && entry->seq == query->seq)
    {
      gint64 size = info != NULL && g_file_info_get_file_type (info) == G_FILE_TYPE_REGULAR
                    ? g_file_info_get_size (info) : 0;

      self->pending_bytes -= MIN (self->pending_bytes, (guint64) entry->bytes);
      entry->bytes = size;
      self->pending_bytes += size;
      update_state (self);
    }
  g_object_unref (query->self);
  g_free (query->path);
  g_free (query);
}

static void
add_change (RunnerSync *self,
            const char *path,
            const char *from)
{
  Entry *entry;

  if (path[0] != '\0' && is_excluded (self, path))
    return;

  entry = g_hash_table_lookup (self->entries, path);
  if (entry == NULL)
    {
      entry = g_new0 (Entry, 1);
      entry->path = g_strdup (path);
      g_hash_table_insert (self->entries, entry->path, entry);
    }
  entry->seq = ++self->next_seq;
  if (from != NULL)
    entry_set_from (self, entry, from);
  entry->failures = 0;
  entry->not_before = 0;
  journal_append (self, journal_line (path, from, entry->seq, FALSE));
  entry_enqueue (self, entry);

  {
    SizeQuery *query = g_new0 (SizeQuery, 1);
    g_autoptr(GFile) file = g_file_new_build_filename (self->root, path, NULL);

    query->self = g_object_ref (self);
    query->path = g_strdup (path);
    query->seq = entry->seq;
    g_file_query_info_async (file, G_FILE_ATTRIBUTE_STANDARD_SIZE "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                             G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, G_PRIORITY_LOW,
                             self->cancellable, size_query_done, query);
  }
}

/**
 * runner_sync_queue:
 * @self: a #RunnerSync
 * @kind: what happened
 * @path: the path (relative to the workspace, `/workspace/...`, or absolute
 *   under the root)
 * @other_path: (nullable): the new path of a rename
 *
 * Records a change in the journal and queues its upload. What the
 * workspace's ::changed signal reports comes here.
 */
void
runner_sync_queue (RunnerSync            *self,
                   RunnerWorkspaceChange  kind,
                   const char            *path,
                   const char            *other_path)
{
  g_autofree char *rel = NULL;

  g_return_if_fail (RUNNER_IS_SYNC (self));
  g_return_if_fail (path != NULL);
  g_return_if_fail (self->started);

  rel = normalize_path (self, path);
  if (rel == NULL)
    {
      g_debug ("Not syncing a path outside the workspace: %s", path);
      return;
    }

  if (kind == RUNNER_WORKSPACE_CHANGE_RENAMED)
    {
      g_autofree char *to = normalize_path (self, other_path);

      if (to != NULL)
        add_change (self, to, rel[0] != '\0' && !is_excluded (self, rel) ? rel : NULL);
    }
  add_change (self, rel, NULL);
  update_state (self);
  pump (self);
}

static void
workspace_changed_cb (RunnerWorkspace       *workspace,
                      const char            *path,
                      RunnerWorkspaceChange  kind,
                      const char            *other_path,
                      RunnerSync            *self)
{
  runner_sync_queue (self, kind, path, other_path);
}

/**
 * runner_sync_watch:
 * @self: a started #RunnerSync
 * @workspace: the workspace whose ::changed signal feeds the queue
 */
void
runner_sync_watch (RunnerSync      *self,
                   RunnerWorkspace *workspace)
{
  g_return_if_fail (RUNNER_IS_SYNC (self));
  g_return_if_fail (RUNNER_IS_WORKSPACE (workspace));

  if (self->workspace != NULL)
    g_clear_signal_handler (&self->changed_id, self->workspace);
  g_set_object (&self->workspace, workspace);
  self->changed_id = g_signal_connect (workspace, "changed", G_CALLBACK (workspace_changed_cb), self);
}

/* ---------------------------------------------------------------- flush */

static gboolean
flush_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  RunnerSync *self = g_task_get_source_object (task);
  guint *timeout_id = g_task_get_task_data (task);

  *timeout_id = 0;
  g_ptr_array_remove (self->flush_waiters, task);
  g_task_return_new_error (task, RUNNER_ERROR, RUNNER_ERROR_BUSY,
                           g_dngettext (GETTEXT_PACKAGE,
                                        "%u change not uploaded yet; it stays in the journal",
                                        "%u changes not uploaded yet; they stay in the journal",
                                        g_hash_table_size (self->entries)),
                           g_hash_table_size (self->entries));
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

/**
 * runner_sync_flush_async:
 * @self: a #RunnerSync
 * @timeout_ms: how long to wait at most
 *
 * Sends what is pending now (skipping back-off waits) and completes when the
 * queue is empty and the journal is on disk, or fails with
 * RUNNER_ERROR_BUSY after @timeout_ms; what is left stays in the journal for
 * the next start. For shutdown (SIGTERM).
 */
void
runner_sync_flush_async (RunnerSync          *self,
                         guint                timeout_ms,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  GTask *task;
  guint *timeout_id;

  g_return_if_fail (RUNNER_IS_SYNC (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, runner_sync_flush_async);
  timeout_id = g_new0 (guint, 1);
  g_task_set_task_data (task, timeout_id, g_free);

  if (!self->started || is_idle (self))
    {
      if (self->started)
        journal_barrier (self, task);
      else
        {
          g_task_return_boolean (task, TRUE);
          g_object_unref (task);
        }
      return;
    }

  for (GList *l = self->ready.head; l != NULL; l = l->next)
    ((Entry *) l->data)->not_before = 0;
  *timeout_id = g_timeout_add (timeout_ms, flush_timeout_cb, task);
  g_ptr_array_add (self->flush_waiters, task);
  pump (self);
}

gboolean
runner_sync_flush_finish (RunnerSync    *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * runner_sync_stop:
 * @self: a #RunnerSync
 *
 * Cancels every transfer and stops sending; the journal keeps what is
 * pending. In-flight jobs end soon after, with the client's threads.
 */
void
runner_sync_stop (RunnerSync *self)
{
  g_return_if_fail (RUNNER_IS_SYNC (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->retry_source, g_source_remove);
}

/* ---------------------------------------------------------------- down / up */

static void
whole_batch_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  gssize n = run_batch_finish (RUNNER_SYNC (source), result, &error);

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
      g_autofree char *rel = rel_for_key (self, object->key);
      Action *action;

      if (rel == NULL)
        {
          g_warning ("Not restoring S3 key “%s”: not a safe path below the prefix", object->key);
          continue;
        }
      if (self->state_rel != NULL && paths_overlap (rel, self->state_rel))
        continue;
      action = action_new (ACTION_GET, rel, g_strdup (object->key), object->size);
      action->etag = g_strdup (object->etag);
      g_ptr_array_add (actions, action);
    }
  g_debug ("Restoring %u object(s) from s3://%s/%s", actions->len,
           runner_s3_get_bucket (self->s3), self->prefix);
  run_batch_async (self, actions, g_task_get_cancellable (task), whole_batch_done, g_object_ref (task));
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
  run_batch_async (self, actions, g_task_get_cancellable (task), whole_batch_done, g_object_ref (task));
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
  Plan *plan;

  g_return_if_fail (RUNNER_IS_SYNC (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, runner_sync_up_async);
  plan = plan_new (self, "", NULL);
  g_task_set_task_data (task, g_ptr_array_ref (plan->actions), (GDestroyNotify) g_ptr_array_unref);
  runner_s3_run_async (self->s3, plan_path, plan, (GDestroyNotify) plan_free, cancellable, up_planned, task);
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

/* ---------------------------------------------------------------- object */

guint
runner_sync_get_pending (RunnerSync *self)
{
  g_return_val_if_fail (RUNNER_IS_SYNC (self), 0);
  return g_hash_table_size (self->entries);
}

guint64
runner_sync_get_pending_bytes (RunnerSync *self)
{
  g_return_val_if_fail (RUNNER_IS_SYNC (self), 0);
  return self->pending_bytes;
}

guint
runner_sync_get_in_flight (RunnerSync *self)
{
  g_return_val_if_fail (RUNNER_IS_SYNC (self), 0);
  return self->in_flight;
}

const char *
runner_sync_get_last_error (RunnerSync *self)
{
  g_return_val_if_fail (RUNNER_IS_SYNC (self), NULL);
  return self->last_error;
}

/**
 * runner_sync_get_last_success:
 *
 * Returns: when a change last landed, in unix microseconds; 0 if never
 */
gint64
runner_sync_get_last_success (RunnerSync *self)
{
  g_return_val_if_fail (RUNNER_IS_SYNC (self), 0);
  return self->last_success;
}

RunnerSyncState
runner_sync_get_state (RunnerSync *self)
{
  g_return_val_if_fail (RUNNER_IS_SYNC (self), RUNNER_SYNC_STATE_IDLE);
  return self->state;
}

RunnerS3 *
runner_sync_get_s3 (RunnerSync *self)
{
  g_return_val_if_fail (RUNNER_IS_SYNC (self), NULL);
  return self->s3;
}

const char *
runner_sync_get_prefix (RunnerSync *self)
{
  g_return_val_if_fail (RUNNER_IS_SYNC (self), NULL);
  return self->prefix;
}

const char *
runner_sync_get_journal_path (RunnerSync *self)
{
  g_return_val_if_fail (RUNNER_IS_SYNC (self), NULL);
  return self->journal_path;
}

/**
 * runner_sync_to_json:
 * @self: a #RunnerSync
 *
 * The state as the `sync:status` reply, the `sync:state` push and
 * `GET /sync` show it:
 * `{enabled, bucket, prefix, state, pending, pendingBytes, inFlight,
 *   lastError, lastErrorCode, lastSuccess}` (lastSuccess is ISO 8601 or null).
 *
 * Returns: (transfer full): a JSON object
 */
JsonNode *
runner_sync_to_json (RunnerSync *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (RUNNER_IS_SYNC (self), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "enabled");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "bucket");
  json_builder_add_string_value (builder, runner_s3_get_bucket (self->s3));
  json_builder_set_member_name (builder, "prefix");
  json_builder_add_string_value (builder, self->prefix);
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, runner_enum_get_nick (RUNNER_TYPE_SYNC_STATE, self->state));
  json_builder_set_member_name (builder, "pending");
  json_builder_add_int_value (builder, g_hash_table_size (self->entries));
  json_builder_set_member_name (builder, "pendingBytes");
  json_builder_add_int_value (builder, (gint64) self->pending_bytes);
  json_builder_set_member_name (builder, "inFlight");
  json_builder_add_int_value (builder, self->in_flight);
  json_builder_set_member_name (builder, "lastError");
  if (self->last_error != NULL)
    json_builder_add_string_value (builder, self->last_error);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "lastErrorCode");
  if (self->last_error_code != NULL)
    json_builder_add_string_value (builder, self->last_error_code);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "lastSuccess");
  if (self->last_success != 0)
    {
      g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc (self->last_success / G_USEC_PER_SEC);
      g_autofree char *text = g_date_time_format_iso8601 (when);

      json_builder_add_string_value (builder, text);
    }
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static void
runner_sync_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  RunnerSync *self = RUNNER_SYNC (object);

  switch (prop_id)
    {
    case PROP_PENDING:
      g_value_set_uint (value, runner_sync_get_pending (self));
      break;
    case PROP_PENDING_BYTES:
      g_value_set_uint64 (value, self->pending_bytes);
      break;
    case PROP_IN_FLIGHT:
      g_value_set_uint (value, self->in_flight);
      break;
    case PROP_LAST_ERROR:
      g_value_set_string (value, self->last_error);
      break;
    case PROP_LAST_SUCCESS:
      g_value_set_int64 (value, self->last_success);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
runner_sync_dispose (GObject *object)
{
  RunnerSync *self = RUNNER_SYNC (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->retry_source, g_source_remove);
  g_clear_handle_id (&self->notify_source, g_source_remove);
  if (self->workspace != NULL)
    g_clear_signal_handler (&self->changed_id, self->workspace);
  g_clear_object (&self->workspace);
  if (self->server != NULL)
    {
      runner_protocol_remove_by_data (runner_server_get_protocol (self->server), self);
      soup_server_remove_handler (runner_server_get_soup_server (self->server), "/sync");
      g_object_remove_weak_pointer (G_OBJECT (self->server), (gpointer *) &self->server);
      self->server = NULL;
    }
  g_clear_signal_handler (&self->broadcast_id, self);
  /* every line queued for the journal reaches it */
  if (self->journal_pool != NULL)
    {
      g_thread_pool_free (self->journal_pool, FALSE, TRUE);
      self->journal_pool = NULL;
    }

  G_OBJECT_CLASS (runner_sync_parent_class)->dispose (object);
}

static void
runner_sync_finalize (GObject *object)
{
  RunnerSync *self = RUNNER_SYNC (object);

  g_assert (self->flush_waiters->len == 0);
  g_ptr_array_unref (self->flush_waiters);
  g_queue_clear (&self->ready);
  g_hash_table_unref (self->running);
  g_hash_table_unref (self->entries);
  g_hash_table_unref (self->sources);
  if (self->journal_fd >= 0)
    close (self->journal_fd);
  if (self->root_fd >= 0)
    close (self->root_fd);
  g_clear_object (&self->s3);
  g_clear_object (&self->cancellable);
  g_free (self->root);
  g_free (self->prefix);
  g_free (self->state_dir);
  g_free (self->state_rel);
  g_free (self->journal_path);
  g_strfreev (self->excluded);
  g_free (self->last_error);
  g_free (self->last_error_code);

  G_OBJECT_CLASS (runner_sync_parent_class)->finalize (object);
}

static void
runner_sync_class_init (RunnerSyncClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = runner_sync_get_property;
  object_class->dispose = runner_sync_dispose;
  object_class->finalize = runner_sync_finalize;

  properties[PROP_PENDING] =
    g_param_spec_uint ("pending", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_PENDING_BYTES] =
    g_param_spec_uint64 ("pending-bytes", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_IN_FLIGHT] =
    g_param_spec_uint ("in-flight", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_LAST_ERROR] =
    g_param_spec_string ("last-error", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_LAST_SUCCESS] =
    g_param_spec_int64 ("last-success", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, RUNNER_TYPE_SYNC_STATE, RUNNER_SYNC_STATE_IDLE,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * RunnerSync::state-changed:
   *
   * The state changed; emitted at most every 200 ms, for broadcasts.
   */
  signals[STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
runner_sync_init (RunnerSync *self)
{
  self->root_fd = -1;
  self->journal_fd = -1;
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) entry_free);
  self->running = g_hash_table_new (g_str_hash, g_str_equal);
  self->sources = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->flush_waiters = g_ptr_array_new ();
  self->cancellable = g_cancellable_new ();
}

static char *
normalize_prefix (const char *prefix)
{
  g_autofree char *trimmed = NULL;
  const char *p = prefix != NULL ? prefix : "";

  while (*p == '/')
    p++;
  trimmed = g_strdup (p);
  if (trimmed[0] == '\0' || g_str_has_suffix (trimmed, "/"))
    return g_steal_pointer (&trimmed);
  return g_strconcat (trimmed, "/", NULL);
}

/**
 * runner_sync_new_with_s3:
 * @s3: the client
 * @root: the workspace directory (created if missing)
 * @prefix: (nullable): the key prefix; a `/` is added at its end
 * @state_dir: (nullable): where the journal lives; `$XDG_STATE_HOME/runner`
 *   when %NULL. Inside the workspace it is never synced.
 * @excluded: (nullable): names never synced (`node_modules`, `.git`)
 *
 * Returns: (transfer full): the sync, or %NULL with @error set
 */
RunnerSync *
runner_sync_new_with_s3 (RunnerS3            *s3,
                         const char          *root,
                         const char          *prefix,
                         const char          *state_dir,
                         const char * const  *excluded,
                         GError             **error)
{
  g_autoptr(RunnerSync) self = NULL;
  g_autofree char *id = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *name = NULL;
  gsize root_len;

  g_return_val_if_fail (RUNNER_IS_S3 (s3), NULL);
  g_return_val_if_fail (root != NULL, NULL);

  self = g_object_new (RUNNER_TYPE_SYNC, NULL);
  self->s3 = g_object_ref (s3);
  self->root = g_canonicalize_filename (root, NULL);
  self->prefix = normalize_prefix (prefix);
  self->state_dir = state_dir != NULL && state_dir[0] != '\0'
                    ? g_canonicalize_filename (state_dir, NULL)
                    : g_build_filename (g_get_user_state_dir (), "runner", NULL);
  self->excluded = g_strdupv ((char **) excluded);

  if (g_mkdir_with_parents (self->root, 0755) != 0)
    return set_errno_error (error, errno, self->root), NULL;
  self->root_fd = open (self->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (self->root_fd < 0)
    return set_errno_error (error, errno, self->root), NULL;

  root_len = strlen (self->root);
  if (strncmp (self->state_dir, self->root, root_len) == 0 &&
      (self->state_dir[root_len] == '/' || self->state_dir[root_len] == '\0'))
    self->state_rel = g_strdup (self->state_dir + root_len + (self->state_dir[root_len] == '/'));

  /* one journal per bucket, prefix and workspace: several may share the dir */
  id = g_strdup_printf ("%s\n%s\n%s", runner_s3_get_bucket (s3), self->prefix, self->root);
  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, id, -1);
  name = g_strdup_printf ("sync-%.16s.journal", digest);
  self->journal_path = g_build_filename (self->state_dir, name, NULL);
  return g_steal_pointer (&self);
}

static gint64
env_size (const char *name,
          gint64      fallback,
          gint64      min)
{
  const char *value = runner_config_getenv (name);
  gint64 parsed;
  char *end = NULL;

  if (value == NULL || value[0] == '\0')
    return fallback;
  parsed = g_ascii_strtoll (value, &end, 10);
  if (end != NULL && (*end == 'k' || *end == 'K'))
    parsed *= 1024;
  else if (end != NULL && (*end == 'm' || *end == 'M'))
    parsed *= 1024 * 1024;
  if (parsed < min)
    {
      g_warning ("Ignoring %s=%s (at least %" G_GINT64_FORMAT ")", name, value, min);
      return fallback;
    }
  return parsed;
}

/* RUNNER_STATE_DIR; else .runner-state beside the workspace (outside the
 * synced tree) when that directory is writable; else $XDG_STATE_HOME/runner. */
static char *
default_state_dir (const char *configured,
                   const char *workspace)
{
  g_autofree char *absolute = NULL;
  g_autofree char *parent = NULL;

  if (configured != NULL && configured[0] != '\0')
    return g_strdup (configured);
  absolute = g_canonicalize_filename (workspace, NULL);
  parent = g_path_get_dirname (absolute);
  if (!g_str_equal (parent, absolute) && access (parent, W_OK) == 0)
    return g_build_filename (parent, ".runner-state", NULL);
  return g_build_filename (g_get_user_state_dir (), "runner", NULL);
}

/**
 * runner_sync_new:
 * @config: the configuration, with an S3 bucket
 *
 * The sync of @config's workspace with s3://S3_BUCKET/S3_PREFIX. Tuning from
 * the environment: RUNNER_S3_PARALLEL (16), RUNNER_S3_MULTIPART_THRESHOLD
 * (64M), RUNNER_S3_PART_SIZE (8M), RUNNER_S3_MAX_ATTEMPTS (10).
 *
 * Returns: (transfer full): the sync, or %NULL with @error set
 *   (RUNNER_ERROR_UNAVAILABLE without a bucket, RUNNER_ERROR_AUTH without
 *   credentials)
 */
RunnerSync *
runner_sync_new (RunnerConfig  *config,
                 GError       **error)
{
  g_autoptr(RunnerS3) s3 = NULL;
  g_autofree char *state_dir = NULL;
  const char *workspace;

  g_return_val_if_fail (config != NULL, NULL);

  if (config->s3_bucket == NULL || config->s3_bucket[0] == '\0')
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE,
                           _("S3 sync is off: no bucket (S3_BUCKET)"));
      return NULL;
    }
  s3 = runner_s3_new (config->s3_bucket, config->s3_region, config->s3_endpoint, error);
  if (s3 == NULL)
    return NULL;
  runner_s3_set_parallel (s3, (guint) env_size ("RUNNER_S3_PARALLEL", RUNNER_S3_DEFAULT_PARALLEL, 1));
  runner_s3_set_multipart (s3,
                           env_size ("RUNNER_S3_MULTIPART_THRESHOLD", RUNNER_S3_DEFAULT_MULTIPART_THRESHOLD, 1),
                           env_size ("RUNNER_S3_PART_SIZE", RUNNER_S3_DEFAULT_PART_SIZE, 5 * 1024 * 1024));
  runner_s3_set_max_attempts (s3, (guint) env_size ("RUNNER_S3_MAX_ATTEMPTS", RUNNER_S3_DEFAULT_MAX_ATTEMPTS, 1));

  workspace = config->workspace != NULL ? config->workspace : "workspace";
  state_dir = default_state_dir (config->state_dir, workspace);
  return runner_sync_new_with_s3 (s3, workspace, config->s3_prefix, state_dir,
                                  (const char * const *) config->excluded, error);
}

/**
 * runner_sync_start:
 * @self: a #RunnerSync
 *
 * Opens the journal (creating the state directory), replays what an earlier
 * run left pending and starts sending. Reads the journal synchronously: call
 * it at start-up, before serving.
 */
gboolean
runner_sync_start (RunnerSync  *self,
                   GError     **error)
{
  g_return_val_if_fail (RUNNER_IS_SYNC (self), FALSE);
  g_return_val_if_fail (!self->started, FALSE);

  if (g_mkdir_with_parents (self->state_dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create the state directory %s: %s"), self->state_dir, g_strerror (saved));
      return FALSE;
    }
  if (!journal_replay (self, error))
    return FALSE;
  self->journal_fd = open (self->journal_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (self->journal_fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot open the sync journal %s: %s"), self->journal_path, g_strerror (saved));
      return FALSE;
    }
  self->journal_pool = g_thread_pool_new (journal_run, self, 1, FALSE, NULL);
  self->started = TRUE;
  /* start the new run with a compact journal */
  self->journal_lines = g_hash_table_size (self->entries);
  journal_push (self, JOURNAL_REWRITE, journal_snapshot (self), NULL);
  update_state (self);
  pump (self);
  return TRUE;
}

/**
 * runner_sync_workspace_is_empty:
 * @root: a directory
 *
 * Whether @root is missing or holds nothing (hidden state directories such
 * as `.runner-state` and `lost+found` do not count): `serve` restores the
 * workspace from S3 then.
 */
gboolean
runner_sync_workspace_is_empty (const char *root)
{
  g_autoptr(GDir) dir = g_dir_open (root, 0, NULL);
  const char *name;

  if (dir == NULL)
    return TRUE;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (!g_str_equal (name, ".runner-state") && !g_str_equal (name, "lost+found"))
      return FALSE;
  return TRUE;
}

/* ---------------------------------------------------------------- server */

static void
handle_status (RunnerRequest *request,
               gpointer       user_data)
{
  runner_request_reply (request, runner_sync_to_json (RUNNER_SYNC (user_data)));
}

static void
flush_replied (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(RunnerRequest) request = user_data;
  g_autoptr(GError) error = NULL;

  if (runner_sync_flush_finish (RUNNER_SYNC (source), result, &error))
    runner_request_reply (request, runner_sync_to_json (RUNNER_SYNC (source)));
  else
    runner_request_fail (request, error);
}

static void
handle_flush (RunnerRequest *request,
              gpointer       user_data)
{
  gint64 timeout = 30000;

  if (runner_request_has_member (request, "timeout"))
    {
      g_autoptr(GError) error = NULL;

      if (!runner_request_get_int (request, "timeout", 0, 600000, &timeout, &error))
        {
          runner_request_fail (request, error);
          return;
        }
    }
  runner_sync_flush_async (RUNNER_SYNC (user_data), (guint) timeout, NULL, flush_replied,
                           runner_request_ref (request));
}

static void
broadcast_state (RunnerSync *self)
{
  g_autoptr(RunnerMessage) message = NULL;

  if (self->server == NULL)
    return;
  message = runner_message_new ("sync:state", runner_sync_to_json (self));
  runner_server_broadcast (self->server, message);
}

static void
handle_http (SoupServer        *soup,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  RunnerSync *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  guint status = SOUP_STATUS_OK;

  if (self->server == NULL)
    return;
  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET &&
      soup_server_message_get_method (msg) != SOUP_METHOD_HEAD)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }
  if (!runner_server_authorize (self->server, msg, NULL, &error))
    {
      status = SOUP_STATUS_UNAUTHORIZED;
      node = runner_json_error_new (error);
    }
  else
    node = runner_sync_to_json (self);
  text = runner_json_to_string (node, &len);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&text), len);
}

/**
 * runner_sync_attach:
 * @self: a #RunnerSync
 * @server: the server
 *
 * Serves the sync state: the `sync:status` event (ack: the state),
 * `sync:flush {timeout?}` (sends what is pending now, acks with the state or
 * EBUSY), the `sync:state` push to every client when it changes (at most
 * every 200 ms), and `GET /sync` (JSON, token required). Undone when @self
 * goes away.
 */
void
runner_sync_attach (RunnerSync   *self,
                    RunnerServer *server)
{
  RunnerProtocol *protocol;

  g_return_if_fail (RUNNER_IS_SYNC (self));
  g_return_if_fail (RUNNER_IS_SERVER (server));
  g_return_if_fail (self->server == NULL);

  self->server = server;
  g_object_add_weak_pointer (G_OBJECT (server), (gpointer *) &self->server);
  protocol = runner_server_get_protocol (server);
  runner_protocol_add (protocol, "sync:status", handle_status, self);
  runner_protocol_add (protocol, "sync:flush", handle_flush, self);
  soup_server_add_handler (runner_server_get_soup_server (server), "/sync", handle_http, self, NULL);
  self->broadcast_id = g_signal_connect (self, "state-changed", G_CALLBACK (broadcast_state), NULL);
}

/* ---------------------------------------------------------------- commands */

typedef struct
{
  GMainLoop *loop;
  gboolean   ok;
  guint      n_files;
  GError    *error;
} CommandRun;

static void
command_down_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  CommandRun *run = user_data;

  run->ok = runner_sync_down_finish (RUNNER_SYNC (source), result, &run->n_files, &run->error);
  g_main_loop_quit (run->loop);
}

static void
command_up_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  CommandRun *run = user_data;

  run->ok = runner_sync_up_finish (RUNNER_SYNC (source), result, &run->n_files, &run->error);
  g_main_loop_quit (run->loop);
}

static gboolean
command_cancel (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_CONTINUE;
}

static int
run_command (RunnerConfig *config,
             gboolean      down)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RunnerSync) self = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  CommandRun run = { loop, FALSE, 0, NULL };
  const char *name = down ? "sync-down" : "sync-up";
  guint term_id, int_id;
  gint64 start = g_get_monotonic_time ();

  if (config->s3_bucket == NULL || config->s3_bucket[0] == '\0')
    {
      g_printerr (_("%s: no S3 bucket (S3_BUCKET): nothing to do\n"), name);
      return 0;
    }
  self = runner_sync_new (config, &error);
  if (self == NULL)
    {
      g_printerr ("%s: %s\n", name, error->message);
      return 1;
    }

  term_id = g_unix_signal_add (SIGTERM, command_cancel, cancellable);
  int_id = g_unix_signal_add (SIGINT, command_cancel, cancellable);
  if (down)
    runner_sync_down_async (self, cancellable, command_down_done, &run);
  else
    runner_sync_up_async (self, cancellable, command_up_done, &run);
  g_main_loop_run (loop);
  g_source_remove (term_id);
  g_source_remove (int_id);

  if (!run.ok)
    {
      g_printerr (_("%s: s3://%s/%s: %s\n"), name, config->s3_bucket, self->prefix, run.error->message);
      g_clear_error (&run.error);
      return 1;
    }
  g_print (down ? _("%s: %u files from s3://%s/%s into %s in %.1f s\n")
                : _("%s: %u changes to s3://%s/%s from %s in %.1f s\n"),
           name, run.n_files, config->s3_bucket, self->prefix, self->root,
           (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
  return 0;
}

/**
 * runner_sync_main_down:
 * @config: the configuration
 *
 * `runner sync-down`: restores the workspace from S3 (for an initContainer).
 *
 * Returns: the exit status: 0 only if every object arrived
 */
int
runner_sync_main_down (RunnerConfig *config)
{
  g_return_val_if_fail (config != NULL, 2);
  return run_command (config, TRUE);
}

/**
 * runner_sync_main_up:
 * @config: the configuration
 *
 * `runner sync-up`: makes S3 match the workspace, deletions included.
 *
 * Returns: the exit status: 0 only if everything landed
 */
int
runner_sync_main_up (RunnerConfig *config)
{
  g_return_val_if_fail (config != NULL, 2);
  return run_command (config, FALSE);
}
