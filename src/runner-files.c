/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-files"

#include "config.h"

#include "runner-files.h"
#include "runner-beneath.h"
#include "runner-error.h"
#include "runner-json.h"
#include "runner-request.h"
#include "runner-utf8.h"

/*
 * RunnerFiles: the file events of the protocol (fetchDir, fetchContent,
 * updateContent and the new createFile, mkdir, rename, delete) on top of
 * RunnerWorkspace.
 *
 * The old service answered every write with the whole tree. Runner keeps the
 * last root tree it sent, serialized once: a write that only changes the
 * content of a file already in it leaves the tree as it was, so the refresh
 * after it costs no disk walk. Any other change drops the cache.
 *
 * That refresh goes to every client at once after a lone change. Changes
 * that overlap (another file operation or a listing of the root still
 * running) are coalesced: one refresh after a quiet spell of
 * REFRESH_QUIET_MS, at most REFRESH_MAX_DELAY_MS after the first. A client
 * whose queue is over its low-water mark gets no tree then: it gets the
 * latest one once it drains. Trees are bounded (max-tree-bytes), so a
 * refresh always fits a client's queue.
 */
#define REFRESH_QUIET_MS 100
#define REFRESH_MAX_DELAY_MS 1000

typedef struct _Listing Listing;

struct _RunnerFiles
{
  GObject          parent_instance;
  RunnerBroadcaster *broadcaster; /* weak: async work may outlive it */
  RunnerWorkspace *workspace;    /* owned */
  RunnerMessage   *root_tree;    /* owned, nullable: cached file:refresh of the root */
  Listing         *inflight;     /* unowned, nullable: the Listing of the current state */
  guint            generation;   /* bumped by every change, to drop stale listings */
  gulong           changed_id;
  guint            ops_running;  /* changing operations not finished yet */
  guint            refresh_id;   /* the debounced refresh after changes */
  gint64           refresh_deadline; /* monotonic: the latest it may fire */
};

G_DEFINE_FINAL_TYPE (RunnerFiles, runner_files, G_TYPE_OBJECT)

static void
drop_cache (RunnerFiles *self)
{
  self->generation++;
  g_clear_pointer (&self->root_tree, runner_message_unref);
}

/* Whether the cached tree lists @path (relative): its entry holds
 * `"path":"/workspace/<path>"`, escaped as the listing escapes it. */
static gboolean
tree_lists (RunnerFiles *self,
            const char  *path)
{
  g_autofree char *virtual_path = runner_workspace_to_virtual (self->workspace, path);
  g_autoptr(GString) needle = g_string_new ("\"path\":");
  GBytes *text;

  if (self->root_tree == NULL)
    return FALSE;

  runner_json_append_string (needle, virtual_path, -1);
  text = runner_message_get_data_text (self->root_tree);
  return memmem (g_bytes_get_data (text, NULL), g_bytes_get_size (text),
                 needle->str, needle->len) != NULL;
}

/* Takes @object. */
static JsonNode *
object_node (JsonObject *object)
{
  JsonNode *node = json_node_init_object (json_node_alloc (), object);

  json_object_unref (object);
  return node;
}

/* Sets @member to @virtual_path; a path that is not UTF-8 shows with U+FFFD
 * there, and exactly, as base64, in @member + "Bytes". */
static void
set_path_member (JsonObject *object,
                 const char *member,
                 const char *virtual_path)
{
  g_autofree char *bytes_member = NULL;
  g_autofree char *valid = NULL;
  g_autofree char *encoded = NULL;

  if (g_utf8_validate (virtual_path, -1, NULL))
    {
      json_object_set_string_member (object, member, virtual_path);
      return;
    }

  valid = g_utf8_make_valid (virtual_path, -1);
  json_object_set_string_member (object, member, valid);
  bytes_member = g_strconcat (member, "Bytes", NULL);
  encoded = g_base64_encode ((const guchar *) virtual_path, strlen (virtual_path));
  json_object_set_string_member (object, bytes_member, encoded);
}

static void
on_workspace_changed (RunnerWorkspace       *workspace,
                      const char            *path,
                      RunnerWorkspaceChange  kind,
                      const char            *other_path,
                      RunnerFiles           *self)
{
  g_autoptr(RunnerMessage) message = NULL;
  static const char * const kinds[] = { "written", "created-dir", "deleted", "renamed" };
  g_autofree char *virtual_path = runner_workspace_to_virtual (workspace, path);
  JsonObject *object;

  if (kind != RUNNER_WORKSPACE_CHANGE_WRITTEN || !tree_lists (self, path))
    drop_cache (self);

  /* New event: lets a front end follow changes made in the shell too. */
  object = json_object_new ();
  set_path_member (object, "path", virtual_path);
  json_object_set_string_member (object, "kind",
                                 kind < G_N_ELEMENTS (kinds) ? kinds[kind] : "written");
  if (other_path != NULL)
    {
      g_autofree char *virtual_other = runner_workspace_to_virtual (workspace, other_path);

      set_path_member (object, "to", virtual_other);
    }
  message = runner_message_new ("file:changed", object_node (object));
  if (self->broadcaster != NULL)
    runner_broadcaster_broadcast (self->broadcaster, message);
}

static void
runner_files_dispose (GObject *object)
{
  RunnerFiles *self = RUNNER_FILES (object);

  g_clear_signal_handler (&self->changed_id, self->workspace);
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_clear_weak_pointer (&self->broadcaster);
  drop_cache (self);
  g_clear_object (&self->workspace);

  G_OBJECT_CLASS (runner_files_parent_class)->dispose (object);
}

static void
runner_files_class_init (RunnerFilesClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = runner_files_dispose;
}

static void
runner_files_init (RunnerFiles *self)
{
}

/* Helpers */

/* The root tree, shared by every refresh */

struct _Listing
{
  RunnerFiles *self;       /* owned */
  guint        generation; /* the state of the tree the listing sees */
  GPtrArray   *waiters;    /* owned: GTasks */
};

/* {"tree":TREE} around a listing's text, or, when it was cut short,
 * {"tree":TREE,"truncated":true,"limit":{"entries":N,"bytes":N}} */
static char *
tree_data (RunnerWorkspace *workspace,
           char            *tree,
           gsize            tree_len,
           gboolean         truncated,
           gsize           *len)
{
  g_autofree char *owned = tree;
  GString *out = g_string_sized_new (tree_len + 96);

  g_string_append (out, "{\"tree\":");
  g_string_append_len (out, owned, tree_len);
  if (truncated)
    g_string_append_printf (out, ",\"truncated\":true,\"limit\":{\"entries\":%u,\"bytes\":%zu}",
                            runner_workspace_get_max_entries (workspace),
                            runner_workspace_get_max_tree_bytes (workspace));
  g_string_append_c (out, '}');
  *len = out->len;
  return g_string_free (out, FALSE);
}

static void
root_listed_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Listing *listing = user_data;
  g_autoptr(RunnerFiles) self = listing->self;
  g_autoptr(GPtrArray) waiters = listing->waiters;
  g_autoptr(RunnerMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  gboolean truncated = FALSE;
  gboolean current;
  gsize len = 0;
  char *tree;

  current = self->inflight == listing && listing->generation == self->generation;
  if (self->inflight == listing)
    self->inflight = NULL;
  g_free (listing);

  tree = runner_workspace_list_json_finish (RUNNER_WORKSPACE (object), result, &truncated, &len,
                                            &error);
  if (tree == NULL)
    {
      for (guint i = 0; i < waiters->len; i++)
        g_task_return_error (g_ptr_array_index (waiters, i), g_error_copy (error));
      return;
    }

  tree = tree_data (self->workspace, tree, len, truncated, &len);
  message = runner_message_new_take_text ("file:refresh", tree, len);
  if (current)
    {
      drop_cache (self);
      self->root_tree = runner_message_ref (message);
    }

  for (guint i = 0; i < waiters->len; i++)
    g_task_return_pointer (g_ptr_array_index (waiters, i), runner_message_ref (message),
                           (GDestroyNotify) runner_message_unref);
}

/*
 * The file:refresh message for the root: from the cache, else from a
 * listing. Requests that arrive while a listing of the current state runs
 * share it.
 */
static void
get_root_tree_async (RunnerFiles         *self,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);
  Listing *listing;

  if (self->root_tree != NULL)
    {
      g_task_return_pointer (task, runner_message_ref (self->root_tree),
                             (GDestroyNotify) runner_message_unref);
      return;
    }

  if (self->inflight != NULL && self->inflight->generation == self->generation)
    {
      g_ptr_array_add (self->inflight->waiters, g_steal_pointer (&task));
      return;
    }

  listing = g_new0 (Listing, 1);
  listing->self = g_object_ref (self);
  listing->generation = self->generation;
  listing->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (listing->waiters, g_steal_pointer (&task));
  self->inflight = listing;
  runner_workspace_list_json_async (self->workspace, "", -1, NULL, root_listed_cb, listing);
}

static RunnerMessage *
get_root_tree_finish (RunnerFiles   *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The tree a busy client gets once it drains: the latest only. */
typedef struct
{
  RunnerMessage *message; /* owned, nullable */
} PendingRefresh;

static void
pending_refresh_free (gpointer data)
{
  PendingRefresh *pending = data;

  g_clear_pointer (&pending->message, runner_message_unref);
  g_free (pending);
}

static void send_refresh (RunnerClient  *client,
                          RunnerMessage *message);

static GQuark pending_refresh_quark (void);
G_DEFINE_QUARK (runner-files-pending-refresh, pending_refresh)

static void
client_drained_cb (RunnerClient   *client,
                   PendingRefresh *pending)
{
  g_autoptr(RunnerMessage) message = g_steal_pointer (&pending->message);

  if (message != NULL)
    send_refresh (client, message);
}

/* Sends a file:refresh to @client now if its queue has room, else keeps it
 * (in place of any older one) until the client drains. */
static void
send_refresh (RunnerClient  *client,
              RunnerMessage *message)
{
  PendingRefresh *pending = g_object_get_qdata (G_OBJECT (client), pending_refresh_quark ());

  if (runner_client_is_writable (client))
    {
      if (pending != NULL)
        g_clear_pointer (&pending->message, runner_message_unref);
      runner_client_send (client, message);
      return;
    }
  if (runner_client_is_closed (client))
    return;

  if (pending == NULL)
    {
      pending = g_new0 (PendingRefresh, 1);
      g_object_set_qdata_full (G_OBJECT (client), pending_refresh_quark (), pending,
                               pending_refresh_free);
      g_signal_connect (client, "drained", G_CALLBACK (client_drained_cb), pending);
    }
  g_clear_pointer (&pending->message, runner_message_unref);
  pending->message = runner_message_ref (message);
}

static void
broadcast_tree_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  RunnerFiles *self = RUNNER_FILES (object);
  g_autoptr(RunnerMessage) message = NULL;
  g_autoptr(GPtrArray) clients = NULL;
  g_autoptr(GError) error = NULL;

  message = get_root_tree_finish (self, result, &error);
  if (message == NULL)
    {
      g_warning ("Could not list the workspace: %s", error->message);
      return;
    }
  if (self->broadcaster == NULL)
    return;

  clients = runner_broadcaster_list_clients (self->broadcaster);
  for (guint i = 0; i < clients->len; i++)
    send_refresh (g_ptr_array_index (clients, i), message);
}

static gboolean
refresh_cb (gpointer user_data)
{
  RunnerFiles *self = user_data;

  self->refresh_id = 0;
  get_root_tree_async (self, broadcast_tree_cb, NULL);
  return G_SOURCE_REMOVE;
}

/* Pushes the tree to every client: now after a lone change (the finishing
 * operation itself still counts as running), else once changes stop. */
static void
schedule_refresh (RunnerFiles *self)
{
  gint64 now = g_get_monotonic_time ();
  gint64 delay_ms;

  if (self->refresh_id == 0 && self->ops_running <= 1 && self->inflight == NULL)
    {
      get_root_tree_async (self, broadcast_tree_cb, NULL);
      return;
    }

  if (self->refresh_id == 0)
    self->refresh_deadline = now + REFRESH_MAX_DELAY_MS * G_TIME_SPAN_MILLISECOND;
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  delay_ms = CLAMP ((self->refresh_deadline - now) / G_TIME_SPAN_MILLISECOND, 0, REFRESH_QUIET_MS);
  self->refresh_id = g_timeout_add ((guint) delay_ms, refresh_cb, self);
}

/* After a change: the answer first, then (soon) the tree to every client. */
static void
changed_reply (RunnerFiles   *self,
               RunnerRequest *request,
               const char    *path)
{
  JsonObject *result = json_object_new ();
  g_autofree char *virtual_path = runner_workspace_to_virtual (self->workspace, path);

  json_object_set_boolean_member (result, "ok", TRUE);
  set_path_member (result, "path", virtual_path);
  runner_request_reply (request, object_node (result));

  schedule_refresh (self);
}

/* Resolve a path argument (@member, or its bytes in @member + "Bytes"):
 * EINVAL when missing or malformed, EACCES outside. A trailing slash stays,
 * for the workspace to require a directory there. */
static char *
path_arg (RunnerFiles    *self,
          RunnerRequest  *request,
          const char     *member,
          gboolean        required,
          GError        **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *path = runner_request_get_path (request, member, required, &local_error);
  char *relative;

  if (path == NULL)
    {
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      path = g_strdup ("");
    }

  relative = runner_workspace_resolve (self->workspace, path, error);
  if (relative != NULL && *relative != '\0' && runner_beneath_names_directory (path))
    {
      char *with_slash = g_strconcat (relative, "/", NULL);

      g_free (relative);
      relative = with_slash;
    }
  return relative;
}

/* A required path argument, resolved; on failure the request is answered. */
static char *
required_path (RunnerFiles   *self,
               RunnerRequest *request,
               const char    *member)
{
  g_autoptr(GError) error = NULL;
  char *path = path_arg (self, request, member, TRUE, &error);

  if (path == NULL)
    runner_request_fail (request, error);
  return path;
}

/* fetchDir {path?, depth?} -> file:refresh {tree} */

static void
fetch_dir_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(RunnerRequest) request = user_data;
  g_autoptr(RunnerMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  gboolean truncated = FALSE;
  gsize len = 0;
  char *tree;

  tree = runner_workspace_list_json_finish (RUNNER_WORKSPACE (object), result, &truncated, &len,
                                            &error);
  if (tree == NULL)
    {
      runner_request_fail (request, error);
      return;
    }

  tree = tree_data (RUNNER_WORKSPACE (object), tree, len, truncated, &len);
  message = runner_message_new_take_text ("file:refresh", tree, len);
  send_refresh (runner_request_get_client (request), message);
  runner_request_reply_text (request, runner_message_get_data_text (message));
}

static void
root_tree_for_request_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  RunnerFiles *self = RUNNER_FILES (object);
  g_autoptr(RunnerRequest) request = user_data;
  g_autoptr(RunnerMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  message = get_root_tree_finish (self, result, &error);
  if (message == NULL)
    {
      runner_request_fail (request, error);
      return;
    }

  send_refresh (runner_request_get_client (request), message);
  runner_request_reply_text (request, runner_message_get_data_text (message));
}

static void
handle_fetch_dir (RunnerRequest *request,
                  gpointer       user_data)
{
  RunnerFiles *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  gint64 depth = -1;

  path = path_arg (self, request, "path", FALSE, &error);
  if (path == NULL || !runner_request_get_int (request, "depth", -1, 4096, &depth, &error))
    {
      runner_request_fail (request, error);
      return;
    }

  /* The whole tree of the root is what old front ends ask for: share it. */
  if (*path == '\0' && depth == -1)
    {
      get_root_tree_async (self, root_tree_for_request_cb, runner_request_ref (request));
      return;
    }

  runner_workspace_list_json_async (self->workspace, path, (int) depth, NULL, fetch_dir_cb,
                                    runner_request_ref (request));
}

/* fetchContent {path} -> file:content {path, content, encoding?} */

typedef struct
{
  GBytes *content; /* owned */
  char   *path;    /* owned, as the client sent it */
} ContentJob;

static void
content_job_free (gpointer data)
{
  ContentJob *job = data;

  g_bytes_unref (job->content);
  g_free (job->path);
  g_free (job);
}

/* In a worker: `{"path":P,"content":C}`, text validated and escaped in one
 * pass, or with "encoding":"base64" for anything else (not UTF-8, or NUL).
 * Written straight into the message's buffer, framed in place: the main
 * thread does not copy it again to push it. */
static void
content_json_thread (GTask        *task,
                     gpointer      source,
                     gpointer      data,
                     GCancellable *cancellable)
{
  ContentJob *job = data;
  gsize len;
  const guint8 *content = g_bytes_get_data (job->content, &len);
  GString *buffer;

  buffer = runner_message_buffer_new ("file:content", len + len / 8 + strlen (job->path) + 64);
  g_string_append (buffer, "{\"path\":");
  runner_json_append_string (buffer, job->path, -1);
  if (!g_utf8_validate (job->path, -1, NULL))
    {
      g_autofree char *encoded = g_base64_encode ((const guchar *) job->path, strlen (job->path));

      g_string_append (buffer, ",\"pathBytes\":\"");
      g_string_append (buffer, encoded);
      g_string_append_c (buffer, '"');
    }
  g_string_append (buffer, ",\"content\":");
  if (runner_json_append_text (buffer, content, len))
    g_string_append_c (buffer, '}');
  else
    {
      g_autofree char *encoded = g_base64_encode (content, len);

      g_string_append_c (buffer, '"');
      g_string_append (buffer, encoded);
      g_string_append (buffer, "\",\"encoding\":\"base64\"}");
    }

  g_task_return_pointer (task, runner_message_new_from_buffer ("file:content", buffer),
                         (GDestroyNotify) runner_message_unref);
}

static void
content_json_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(RunnerRequest) request = user_data;
  g_autoptr(RunnerMessage) message = g_task_propagate_pointer (G_TASK (result), NULL);

  if (runner_client_is_closed (runner_request_get_client (request)))
    return;

  runner_client_send (runner_request_get_client (request), message);
  runner_request_reply_text (request, runner_message_get_data_text (message));
}

static void
fetch_content_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(RunnerRequest) request = user_data;
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  ContentJob *job;
  GBytes *bytes;

  bytes = runner_workspace_read_finish (RUNNER_WORKSPACE (object), result, &error);
  if (bytes == NULL)
    {
      runner_request_fail (request, error);
      return;
    }
  if (runner_client_is_closed (runner_request_get_client (request)))
    {
      g_bytes_unref (bytes);
      return;
    }

  /* The main loop only sends: a 1 MiB file is escaped in the worker. */
  job = g_new0 (ContentJob, 1);
  job->content = bytes;
  job->path = runner_request_get_path (request, "path", TRUE, NULL);
  task = g_task_new (NULL, NULL, content_json_cb, g_steal_pointer (&request));
  g_task_set_source_tag (task, fetch_content_cb);
  g_task_set_task_data (task, job, content_job_free);
  g_task_run_in_thread (task, content_json_thread);
}

static void
handle_fetch_content (RunnerRequest *request,
                      gpointer       user_data)
{
  RunnerFiles *self = user_data;
  g_autofree char *path = required_path (self, request, "path");

  if (path == NULL)
    return;

  runner_workspace_read_async (self->workspace, path, NULL, fetch_content_cb,
                               runner_request_ref (request));
}

/* updateContent {path, content, encoding?} and createFile {path, content?} */

typedef struct
{
  RunnerFiles   *self;    /* owned */
  RunnerRequest *request; /* owned */
  char          *path;    /* owned, relative */
} Op;

static Op *
op_new (RunnerFiles   *self,
        RunnerRequest *request,
        char          *path)
{
  Op *op = g_new0 (Op, 1);

  op->self = g_object_ref (self);
  op->request = runner_request_ref (request);
  /* the entry itself, for the answer: without a trailing slash */
  if (g_str_has_suffix (path, "/"))
    path[strlen (path) - 1] = '\0';
  op->path = path;
  self->ops_running++;
  return op;
}

static void
op_free (Op *op)
{
  op->self->ops_running--;
  g_object_unref (op->self);
  runner_request_unref (op->request);
  g_free (op->path);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Op, op_free)

static void
written_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  g_autoptr(GError) error = NULL;

  if (!runner_workspace_write_finish (RUNNER_WORKSPACE (object), result, &error))
    {
      runner_request_fail (op->request, error);
      return;
    }

  changed_reply (op->self, op->request, op->path);
}

static void
write_content (RunnerFiles   *self,
               RunnerRequest *request,
               gboolean       exclusive)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) content = NULL;
  g_autofree char *path = required_path (self, request, "path");

  if (path == NULL)
    return;

  if (exclusive && !runner_request_has_member (request, "content"))
    content = g_bytes_new_static ("", 0);
  else
    content = runner_request_get_bytes (request, "content",
                                        runner_workspace_get_max_file_size (self->workspace),
                                        &error);
  if (content == NULL)
    {
      runner_request_fail (request, error);
      return;
    }

  runner_workspace_write_async (self->workspace, path, content, exclusive, NULL, written_cb,
                                op_new (self, request, g_strdup (path)));
}

static void
handle_update_content (RunnerRequest *request,
                       gpointer       user_data)
{
  write_content (user_data, request, FALSE);
}

static void
handle_create_file (RunnerRequest *request,
                    gpointer       user_data)
{
  write_content (user_data, request, TRUE);
}

/* mkdir {path}, rename {from, to}, delete {path, recursive?} */

typedef gboolean (*FinishFunc) (RunnerWorkspace *, GAsyncResult *, GError **);

static void
finish_op (GAsyncResult *result,
           Op           *op,
           FinishFunc    finish)
{
  g_autoptr(GError) error = NULL;

  if (!finish (op->self->workspace, result, &error))
    runner_request_fail (op->request, error);
  else
    changed_reply (op->self, op->request, op->path);
  op_free (op);
}

static void
mkdir_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  finish_op (result, user_data, runner_workspace_mkdir_finish);
}

static void
rename_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  finish_op (result, user_data, runner_workspace_rename_finish);
}

static void
delete_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  finish_op (result, user_data, runner_workspace_delete_finish);
}

static void
handle_mkdir (RunnerRequest *request,
              gpointer       user_data)
{
  RunnerFiles *self = user_data;
  g_autofree char *path = required_path (self, request, "path");

  if (path == NULL)
    return;

  runner_workspace_mkdir_async (self->workspace, path, NULL, mkdir_cb,
                                op_new (self, request, g_strdup (path)));
}

static void
handle_rename (RunnerRequest *request,
               gpointer       user_data)
{
  RunnerFiles *self = user_data;
  g_autofree char *from = required_path (self, request, "from");
  g_autofree char *to = from != NULL ? required_path (self, request, "to") : NULL;

  if (to == NULL)
    return;

  runner_workspace_rename_async (self->workspace, from, to, NULL, rename_cb,
                                 op_new (self, request, g_strdup (to)));
}

static void
handle_delete (RunnerRequest *request,
               gpointer       user_data)
{
  RunnerFiles *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = required_path (self, request, "path");
  gboolean recursive = FALSE;

  if (path == NULL)
    return;
  if (!runner_request_get_bool (request, "recursive", &recursive, &error))
    {
      runner_request_fail (request, error);
      return;
    }

  runner_workspace_delete_async (self->workspace, path, recursive, NULL, delete_cb,
                                 op_new (self, request, g_strdup (path)));
}

static const RunnerEventEntry events[] = {
  { "fetchDir", handle_fetch_dir, "path?:path depth?:int", RUNNER_EVENT_FLAGS_NONE },
  { "fetchContent", handle_fetch_content, "path:path", RUNNER_EVENT_FLAGS_NONE },
  { "updateContent", handle_update_content, "path:path content:any encoding?:string",
    RUNNER_EVENT_FLAGS_NONE },
  { "createFile", handle_create_file, "path:path content?:any encoding?:string",
    RUNNER_EVENT_FLAGS_NONE },
  { "mkdir", handle_mkdir, "path:path", RUNNER_EVENT_FLAGS_NONE },
  { "rename", handle_rename, "from:path to:path", RUNNER_EVENT_FLAGS_NONE },
  { "delete", handle_delete, "path:path recursive?:bool", RUNNER_EVENT_FLAGS_NONE },
};

/**
 * runner_files_new:
 * @workspace: the files served
 * @broadcaster: the clients, told of changes
 * @registry: gets the file events
 *
 * Returns: (transfer full): the file service
 */
RunnerFiles *
runner_files_new (RunnerWorkspace   *workspace,
                  RunnerBroadcaster *broadcaster,
                  RunnerRegistry    *registry)
{
  RunnerFiles *self;

  g_return_val_if_fail (RUNNER_IS_WORKSPACE (workspace), NULL);
  g_return_val_if_fail (RUNNER_IS_BROADCASTER (broadcaster), NULL);
  g_return_val_if_fail (RUNNER_IS_REGISTRY (registry), NULL);

  self = g_object_new (RUNNER_TYPE_FILES, NULL);
  g_set_weak_pointer (&self->broadcaster, broadcaster);
  self->workspace = g_object_ref (workspace);
  self->changed_id = g_signal_connect (self->workspace, "changed",
                                       G_CALLBACK (on_workspace_changed), self);
  runner_registry_add_events (registry, events, G_N_ELEMENTS (events), self);

  return self;
}
