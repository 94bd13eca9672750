/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define RUNNER_TYPE_S3 (runner_s3_get_type ())

G_DECLARE_FINAL_TYPE (RunnerS3, runner_s3, RUNNER, S3, GObject)

/* Defaults, each overridable through the environment (see runner_s3_new()). */
#define RUNNER_S3_DEFAULT_PARALLEL            16
#define RUNNER_S3_DEFAULT_MULTIPART_THRESHOLD (G_GINT64_CONSTANT (64) * 1024 * 1024)
#define RUNNER_S3_DEFAULT_PART_SIZE           (G_GINT64_CONSTANT (8) * 1024 * 1024)
#define RUNNER_S3_DEFAULT_MAX_ATTEMPTS        10

/**
 * RunnerS3Object:
 * @key: the full object key
 * @size: its size in bytes
 * @etag: the ETag without quotes (an MD5 in hex for single-part uploads,
 *   `MD5-N` for multipart ones)
 *
 * One object, as ListObjectsV2, HeadObject or an upload tell it.
 */
typedef struct
{
  char   *key;
  gint64  size;
  char   *etag;
} RunnerS3Object;

RunnerS3Object *runner_s3_object_new  (const char     *key,
                                       gint64          size,
                                       const char     *etag);
void            runner_s3_object_free (RunnerS3Object *object);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunnerS3Object, runner_s3_object_free)

/**
 * RunnerS3Func:
 * @self: the client
 * @data: what was given to runner_s3_run_async()
 * @cancellable: (nullable): cancels the work
 * @error: where to put an error
 *
 * Blocking work run on one of the client's transfer threads; it may call the
 * blocking runner_s3_*() operations.
 *
 * Returns: %TRUE on success
 */
typedef gboolean (*RunnerS3Func) (RunnerS3      *self,
                                  gpointer       data,
                                  GCancellable  *cancellable,
                                  GError       **error);

RunnerS3   *runner_s3_new                 (const char    *bucket,
                                           const char    *region,
                                           const char    *endpoint,
                                           GError       **error);
RunnerS3   *runner_s3_new_with_credentials (const char   *bucket,
                                           const char    *region,
                                           const char    *endpoint,
                                           const char    *access_key,
                                           const char    *secret_key,
                                           const char    *session_token,
                                           GError       **error);
const char *runner_s3_get_bucket          (RunnerS3      *self);
const char *runner_s3_get_region          (RunnerS3      *self);
void        runner_s3_set_parallel        (RunnerS3      *self,
                                           guint          parallel);
guint       runner_s3_get_parallel        (RunnerS3      *self);
void        runner_s3_set_multipart       (RunnerS3      *self,
                                           gint64         threshold,
                                           gint64         part_size);
gint64      runner_s3_get_part_size       (RunnerS3      *self);
gint64      runner_s3_get_multipart_threshold (RunnerS3  *self);
void        runner_s3_set_max_attempts    (RunnerS3      *self,
                                           guint          attempts);

char       *runner_s3_uri_encode          (const char    *text,
                                           gboolean       keep_slash);
char       *runner_s3_local_etag          (int            fd,
                                           gint64         size,
                                           gint64         threshold,
                                           gint64         part_size,
                                           GCancellable  *cancellable,
                                           GError       **error);

gboolean    runner_s3_etag_matches        (RunnerS3      *self,
                                           int            fd,
                                           gint64         size,
                                           const char    *etag,
                                           GCancellable  *cancellable);

/* Blocking operations: call them from a transfer thread (runner_s3_run_async())
 * or any other thread that is not the main one. */
gboolean    runner_s3_get_object          (RunnerS3      *self,
                                           const char    *key,
                                           int            dir_fd,
                                           const char    *name,
                                           RunnerS3Object **object,
                                           GCancellable  *cancellable,
                                           GError       **error);
gboolean    runner_s3_put_object          (RunnerS3      *self,
                                           const char    *key,
                                           int            fd,
                                           RunnerS3Object **object,
                                           GCancellable  *cancellable,
                                           GError       **error);
gboolean    runner_s3_put_bytes           (RunnerS3      *self,
                                           const char    *key,
                                           GBytes        *content,
                                           RunnerS3Object **object,
                                           GCancellable  *cancellable,
                                           GError       **error);
RunnerS3Object *runner_s3_head_object     (RunnerS3      *self,
                                           const char    *key,
                                           GCancellable  *cancellable,
                                           GError       **error);
gboolean    runner_s3_delete_object       (RunnerS3      *self,
                                           const char    *key,
                                           GCancellable  *cancellable,
                                           GError       **error);
gboolean    runner_s3_copy_object         (RunnerS3      *self,
                                           const char    *from_key,
                                           const char    *to_key,
                                           RunnerS3Object **object,
                                           GCancellable  *cancellable,
                                           GError       **error);
GPtrArray  *runner_s3_list_objects        (RunnerS3      *self,
                                           const char    *prefix,
                                           GCancellable  *cancellable,
                                           GError       **error);

/* The same, asynchronous: run on the client's bounded transfer threads,
 * completed on the caller's thread-default main context. */
void        runner_s3_run_async           (RunnerS3      *self,
                                           RunnerS3Func   func,
                                           gpointer       data,
                                           GDestroyNotify data_free,
                                           GCancellable  *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer       user_data);
gboolean    runner_s3_run_finish          (RunnerS3      *self,
                                           GAsyncResult  *result,
                                           GError       **error);
void        runner_s3_get_object_async    (RunnerS3      *self,
                                           const char    *key,
                                           const char    *path,
                                           GCancellable  *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer       user_data);
void        runner_s3_put_object_async    (RunnerS3      *self,
                                           const char    *key,
                                           const char    *path,
                                           GCancellable  *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer       user_data);
void        runner_s3_put_bytes_async     (RunnerS3      *self,
                                           const char    *key,
                                           GBytes        *content,
                                           GCancellable  *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer       user_data);
void        runner_s3_head_object_async   (RunnerS3      *self,
                                           const char    *key,
                                           GCancellable  *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer       user_data);
void        runner_s3_copy_object_async   (RunnerS3      *self,
                                           const char    *from_key,
                                           const char    *to_key,
                                           GCancellable  *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer       user_data);
/* get, put, head and copy finish with the object */
RunnerS3Object *runner_s3_object_finish   (RunnerS3      *self,
                                           GAsyncResult  *result,
                                           GError       **error);
void        runner_s3_delete_object_async (RunnerS3      *self,
                                           const char    *key,
                                           GCancellable  *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer       user_data);
gboolean    runner_s3_delete_object_finish (RunnerS3     *self,
                                           GAsyncResult  *result,
                                           GError       **error);
void        runner_s3_list_objects_async  (RunnerS3      *self,
                                           const char    *prefix,
                                           GCancellable  *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer       user_data);
GPtrArray  *runner_s3_list_objects_finish (RunnerS3      *self,
                                           GAsyncResult  *result,
                                           GError       **error);

G_END_DECLS
