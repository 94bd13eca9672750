/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-sync"

#include "config.h"

#include "runner-sync-private.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "runner-config.h"
#include "runner-enum-nick.h"
#include "runner-error.h"

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
 *
 * The class spans files that share runner-sync-private.h: this one holds the
 * object, its state and its start; runner-sync-queue.c the entries, jobs and
 * flush; runner-sync-plan.c the plans and actions, and sync-down/up;
 * runner-sync-journal.c the journal; runner-sync-paths.c paths and keys;
 * runner-sync-events.c the protocol edge; runner-sync-command.c the
 * `sync-down` and `sync-up` subcommands.
 */

#define BROADCAST_DELAY_MS    200

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

/* ---------------------------------------------------------------- state */

static gboolean
emit_state_changed (gpointer user_data)
{
  RunnerSync *self = user_data;

  self->notify_source = 0;
  g_signal_emit (self, signals[STATE_CHANGED], 0);
  return G_SOURCE_REMOVE;
}

void
runner_sync_set_error (RunnerSync   *self,
                       const GError *error)
{
  const char *code = error != NULL ? runner_error_to_code (error) : NULL;
  /* Shown to clients and on D-Bus: text only, though it may quote a name. */
  g_autofree char *message = error != NULL ? g_utf8_make_valid (error->message, -1) : NULL;

  if (g_strcmp0 (self->last_error, message) == 0)
    return;
  g_free (self->last_error);
  self->last_error = g_steal_pointer (&message);
  g_free (self->last_error_code);
  self->last_error_code = g_strdup (code);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ERROR]);
}

/* Recomputes the summary, notifies what changed and schedules one
 * ::state-changed (throttled: a burst of changes makes one broadcast). */
void
runner_sync_update_state (RunnerSync *self)
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

/* A change landed now. */
void
runner_sync_note_success (RunnerSync *self)
{
  self->last_success = g_get_real_time ();
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_SUCCESS]);
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
  runner_sync_detach (self);
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
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) runner_sync_entry_free);
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

/* A prefix must name one workspace: at least one non-empty segment beneath
 * @root (RUNNER_S3_ROOT, `code/`), never the whole bucket or root. */
static gboolean
check_prefix (const char  *prefix,
              const char  *root,
              GError     **error)
{
  g_autofree char *normal = normalize_prefix (prefix);
  g_autofree char *normal_root = normalize_prefix (root);
  g_auto(GStrv) segments = NULL;
  gboolean named = FALSE;

  if (normal[0] == '\0')
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                           _("No workspace prefix: set REPL_ID or S3_PREFIX "
                             "(refusing to sync the whole bucket)"));
      return FALSE;
    }
  if (g_str_has_prefix (normal, normal_root))
    {
      segments = g_strsplit (normal + strlen (normal_root), "/", -1);
      for (guint i = 0; segments[i] != NULL; i++)
        named = named || segments[i][0] != '\0';
    }
  if (!named)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("The S3 prefix “%s” names no workspace under “%s” (RUNNER_S3_ROOT)"),
                   normal, normal_root);
      return FALSE;
    }
  return TRUE;
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
    return runner_sync_set_errno_error (error, errno, self->root), NULL;
  self->root_fd = open (self->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (self->root_fd < 0)
    return runner_sync_set_errno_error (error, errno, self->root), NULL;

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
  if (!check_prefix (config->s3_prefix, config->s3_root, error))
    return NULL;
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
  if (!runner_sync_journal_replay (self, error))
    return FALSE;
  self->journal_fd = open (self->journal_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (self->journal_fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot open the sync journal %s: %s"), self->journal_path, g_strerror (saved));
      return FALSE;
    }
  self->journal_pool = g_thread_pool_new (runner_sync_journal_run, self, 1, FALSE, NULL);
  self->started = TRUE;
  /* start the new run with a compact journal */
  self->journal_lines = g_hash_table_size (self->entries);
  runner_sync_journal_push (self, RUNNER_SYNC_JOURNAL_REWRITE,
                            runner_sync_journal_snapshot (self), NULL);
  runner_sync_update_state (self);
  runner_sync_pump (self);
  return TRUE;
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
