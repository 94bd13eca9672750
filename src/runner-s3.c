/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-s3"

#include "config.h"

#include "runner-s3-private.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "runner-beneath.h"
#include "runner-error.h"

/*
 * RunnerS3: a small S3 client on libcurl.
 *
 * Requests are signed here with AWS Signature V4 rather than with
 * CURLOPT_AWS_SIGV4: libcurl 7.88 neither sorts nor normalizes the query, adds
 * no payload hash, and later versions changed those rules, so signing
 * ourselves gives one behaviour on every libcurl (and is checked against the
 * verifying test server).
 *
 * Transfers run on a bounded pool of threads (RUNNER_S3_DEFAULT_PARALLEL),
 * each with its own reused CURL easy handle (so its own kept-alive connection),
 * calling curl_easy_perform(). We chose threads over curl multi on the main
 * context because every transfer also does disk work: downloads stream into a
 * temporary file that is renamed into place, uploads stream from a file and
 * are hashed first (Content-MD5, ETag checks), and multipart uploads read
 * 8 MiB parts. On the main context those reads and writes would run inside
 * curl's callbacks and block the loop; on a worker they block nobody. The
 * pool bounds both the parallelism and the threads, results come back to the
 * caller's main context through GTask.
 *
 * The class spans files that share runner-s3-private.h: this one holds the
 * object, its operations and the pool; runner-s3-request.c one request on
 * libcurl (perform, retry, back-off); runner-s3-sigv4.c the signature, as
 * pure functions; runner-s3-xml.c the XML replies; runner-s3-etag.c the
 * ETags of local files; runner-s3-credentials.c where the keys come from.
 */

G_DEFINE_FINAL_TYPE (RunnerS3, runner_s3, G_TYPE_OBJECT)

RunnerS3Object *
runner_s3_object_new (const char *key,
                      gint64      size,
                      const char *etag)
{
  RunnerS3Object *object = g_new0 (RunnerS3Object, 1);

  object->key = g_strdup (key);
  object->size = size;
  object->etag = g_strdup (etag);
  return object;
}

void
runner_s3_object_free (RunnerS3Object *object)
{
  if (object == NULL)
    return;
  g_free (object->key);
  g_free (object->etag);
  g_free (object);
}

/* ---------------------------------------------------------------- operations */

static gboolean
split_name (const char  *name,
            char       **dir,
            char       **base)
{
  const char *slash = strrchr (name, '/');

  if (slash == NULL)
    {
      *dir = g_strdup ("");
      *base = g_strdup (name);
    }
  else
    {
      *dir = g_strndup (name, slash - name + 1);
      *base = g_strdup (slash + 1);
    }
  return **base != '\0';
}

/**
 * runner_s3_get_object:
 * @self: a #RunnerS3
 * @key: the object key
 * @dir_fd: a directory fd, or AT_FDCWD
 * @name: the file to create, relative to @dir_fd
 * @object: (out) (optional): the object's size and ETag
 *
 * Downloads @key into @name atomically: into a temporary file beside it
 * (named by runner_beneath_temp_name_new(), locked while it is written),
 * checked against the ETag (when it is an MD5) and the length, then renamed
 * over @name. Blocking.
 */
gboolean
runner_s3_get_object (RunnerS3        *self,
                      const char      *key,
                      int              dir_fd,
                      const char      *name,
                      RunnerS3Object **object,
                      GCancellable    *cancellable,
                      GError         **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;
  g_autofree char *tmp = NULL;
  RunnerS3Request req;
  gboolean ok;
  int fd = -1;

  g_return_val_if_fail (RUNNER_IS_S3 (self), FALSE);
  g_return_val_if_fail (key != NULL && name != NULL, FALSE);

  if (!split_name (name, &dir, &base))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME, _("invalid file name “%s”"), name);
      return FALSE;
    }
  for (guint i = 0; i < 100 && fd < 0; i++)
    {
      g_autofree char *tmp_name = runner_beneath_temp_name_new (base);

      g_free (tmp);
      tmp = g_strconcat (dir, tmp_name, NULL);
      fd = openat (dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (fd < 0 && errno != EEXIST)
        break;
    }
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("cannot create a file beside “%s”: %s"), name, g_strerror (saved));
      return FALSE;
    }
  /* Held until the file is renamed: the start-up cleaning of a crash's
   * temporary files leaves a locked one alone. */
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    g_debug ("cannot lock a temporary file: %s", g_strerror (errno));

  runner_s3_request_init (&req, "GET", key);
  req.out_fd = fd;
  req.verify_md5 = TRUE;
  ok = runner_s3_request_perform (self, &req, cancellable, error);
  if (close (fd) != 0 && ok)
    {
      int saved = errno;

      ok = FALSE;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s", g_strerror (saved));
    }
  if (ok && renameat (dir_fd, tmp, dir_fd, name) != 0)
    {
      int saved = errno;

      ok = FALSE;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("cannot move the download into “%s”: %s"), name, g_strerror (saved));
    }
  if (!ok)
    unlinkat (dir_fd, tmp, 0);
  else if (object != NULL)
    *object = runner_s3_object_new (key, req.out_written, req.etag);
  runner_s3_request_clear (&req);
  return ok;
}

/* PUT of @len bytes of @fd (from @offset), with Content-MD5; the ETag that
 * comes back must be that MD5, or the bytes changed on the way. */
static gboolean
put_range (RunnerS3      *self,
           const char    *key,
           int            fd,
           gint64         offset,
           gint64         len,
           const char    *part_number,
           const char    *upload_id,
           GChecksum     *whole,
           char         **etag,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autofree char *md5_b64 = NULL;
  g_autofree char *md5_hex = NULL;
  RunnerS3Request req;
  guint8 digest[16];
  gboolean ok;

  if (!runner_s3_md5_range (fd, offset, len, digest, whole, cancellable, error))
    return FALSE;
  md5_b64 = g_base64_encode (digest, sizeof digest);
  md5_hex = runner_s3_hex_digest (digest, sizeof digest);

  runner_s3_request_init (&req, "PUT", key);
  if (part_number != NULL)
    {
      runner_s3_request_add_query (&req, "partNumber", part_number);
      runner_s3_request_add_query (&req, "uploadId", upload_id);
    }
  runner_s3_request_add_header (&req, "content-md5", md5_b64);
  req.body_fd = fd;
  req.body_offset = offset;
  req.body_length = len;
  ok = runner_s3_request_perform (self, &req, cancellable, error);
  if (ok && req.etag != NULL && g_ascii_strcasecmp (req.etag, md5_hex) != 0)
    {
      ok = FALSE;
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_FAILED,
                   _("S3 PUT %s: the stored ETag %s is not the MD5 %s of what was sent"),
                   key, req.etag, md5_hex);
    }
  if (ok)
    *etag = g_strdup (md5_hex);
  runner_s3_request_clear (&req);
  return ok;
}

static gboolean
multipart_abort (RunnerS3   *self,
                 const char *key,
                 const char *upload_id)
{
  g_autoptr(GError) error = NULL;
  RunnerS3Request req;
  gboolean ok;

  runner_s3_request_init (&req, "DELETE", key);
  runner_s3_request_add_query (&req, "uploadId", upload_id);
  /* not cancellable: it cleans up after a cancelled upload */
  ok = runner_s3_request_perform (self, &req, NULL, &error);
  if (!ok)
    g_message ("Cannot abort the multipart upload of %s: %s", key, error->message);
  runner_s3_request_clear (&req);
  return ok;
}

static gboolean
put_multipart (RunnerS3      *self,
               const char    *key,
               int            fd,
               gint64         size,
               char         **etag,
               GCancellable  *cancellable,
               GError       **error)
{
  gint64 part_size = runner_s3_effective_part_size (size, self->part_size);
  g_autoptr(GString) xml = g_string_new ("<CompleteMultipartUpload>");
  g_autoptr(GChecksum) all = g_checksum_new (G_CHECKSUM_MD5);
  g_autoptr(GChecksum) whole = g_checksum_new (G_CHECKSUM_MD5);
  g_autofree char *upload_id = NULL;
  g_autofree char *expected = NULL;
  RunnerS3XmlReply reply = { 0 };
  RunnerS3Request req;
  guint part = 0;
  gboolean ok;

  runner_s3_request_init (&req, "POST", key);
  runner_s3_request_add_query (&req, "uploads", "");
  ok = runner_s3_request_perform (self, &req, cancellable, error) &&
       runner_s3_xml_walk ((const char *) req.response->data, req.response->len, runner_s3_xml_reply_leaf, &reply, error);
  runner_s3_request_clear (&req);
  upload_id = g_steal_pointer (&reply.upload_id);
  runner_s3_xml_reply_clear (&reply);
  if (ok && upload_id == NULL)
    {
      ok = FALSE;
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_FAILED, _("S3 gave no UploadId for %s"), key);
    }
  if (!ok)
    return FALSE;

  for (gint64 offset = 0; offset < size; offset += part_size)
    {
      g_autofree char *number = g_strdup_printf ("%u", ++part);
      g_autofree char *part_etag = NULL;
      guint8 digest[16];
      gsize len = 16;

      if (!put_range (self, key, fd, offset, MIN (part_size, size - offset), number, upload_id,
                      whole, &part_etag, cancellable, error))
        {
          multipart_abort (self, key, upload_id);
          return FALSE;
        }
      for (guint i = 0; i < 16; i++)
        digest[i] = (g_ascii_xdigit_value (part_etag[2 * i]) << 4) | g_ascii_xdigit_value (part_etag[2 * i + 1]);
      g_checksum_update (all, digest, len);
      g_string_append_printf (xml, "<Part><PartNumber>%u</PartNumber><ETag>\"%s\"</ETag></Part>",
                              part, part_etag);
    }
  g_string_append (xml, "</CompleteMultipartUpload>");
  expected = g_strdup_printf ("%s-%u", g_checksum_get_string (all), part);

  runner_s3_request_init (&req, "POST", key);
  runner_s3_request_add_query (&req, "uploadId", upload_id);
  req.body = g_bytes_new (xml->str, xml->len);
  ok = runner_s3_request_perform (self, &req, cancellable, error) &&
       runner_s3_xml_walk ((const char *) req.response->data, req.response->len, runner_s3_xml_reply_leaf, &reply, error);
  runner_s3_request_clear (&req);
  /* S3 says MD5-of-MD5s-N; some servers (s3rver) the MD5 of the whole */
  if (ok && reply.etag != NULL && g_ascii_strcasecmp (reply.etag, expected) != 0 &&
      g_ascii_strcasecmp (reply.etag, g_checksum_get_string (whole)) != 0)
    {
      ok = FALSE;
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_FAILED,
                   _("S3 multipart %s: ETag %s, expected %s"), key, reply.etag, expected);
    }
  if (ok && reply.etag != NULL)
    runner_s3_set_str (&expected, reply.etag);
  runner_s3_xml_reply_clear (&reply);
  if (!ok)
    {
      multipart_abort (self, key, upload_id);
      return FALSE;
    }
  *etag = g_steal_pointer (&expected);
  return TRUE;
}

/**
 * runner_s3_put_object:
 * @self: a #RunnerS3
 * @key: the object key
 * @fd: an open file, read with pread() from its start (its offset stays)
 * @object: (out) (optional): the stored object
 *
 * Uploads the content of @fd, streamed from disk: in one PUT below the
 * multipart threshold, else as a multipart upload (aborted on failure).
 * Blocking.
 */
gboolean
runner_s3_put_object (RunnerS3        *self,
                      const char      *key,
                      int              fd,
                      RunnerS3Object **object,
                      GCancellable    *cancellable,
                      GError         **error)
{
  g_autofree char *etag = NULL;
  struct stat st;
  gboolean ok;

  g_return_val_if_fail (RUNNER_IS_S3 (self), FALSE);
  g_return_val_if_fail (key != NULL && fd >= 0, FALSE);

  if (fstat (fd, &st) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s", g_strerror (saved));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, _("not a regular file: %s"), key);
      return FALSE;
    }

  if (st.st_size >= self->threshold)
    ok = put_multipart (self, key, fd, st.st_size, &etag, cancellable, error);
  else
    ok = put_range (self, key, fd, 0, st.st_size, NULL, NULL, NULL, &etag, cancellable, error);
  if (ok && object != NULL)
    *object = runner_s3_object_new (key, st.st_size, etag);
  return ok;
}

/**
 * runner_s3_put_bytes:
 * @self: a #RunnerS3
 * @key: the object key
 * @content: what to store
 * @object: (out) (optional): the stored object
 *
 * Uploads a small in-memory object (its SHA-256 is signed). Blocking.
 */
gboolean
runner_s3_put_bytes (RunnerS3        *self,
                     const char      *key,
                     GBytes          *content,
                     RunnerS3Object **object,
                     GCancellable    *cancellable,
                     GError         **error)
{
  g_autofree char *md5_hex = NULL;
  RunnerS3Request req;
  gboolean ok;
  gsize len;
  gconstpointer data;

  g_return_val_if_fail (RUNNER_IS_S3 (self), FALSE);
  g_return_val_if_fail (key != NULL && content != NULL, FALSE);

  data = g_bytes_get_data (content, &len);
  md5_hex = g_compute_checksum_for_data (G_CHECKSUM_MD5, data, len);
  runner_s3_request_init (&req, "PUT", key);
  req.body = g_bytes_ref (content);
  ok = runner_s3_request_perform (self, &req, cancellable, error);
  if (ok && object != NULL)
    *object = runner_s3_object_new (key, len, req.etag != NULL ? req.etag : md5_hex);
  runner_s3_request_clear (&req);
  return ok;
}

/**
 * runner_s3_head_object:
 *
 * Returns: (transfer full): the object's size and ETag, or %NULL with
 *   RUNNER_ERROR_NOT_FOUND when there is none. Blocking.
 */
RunnerS3Object *
runner_s3_head_object (RunnerS3      *self,
                       const char    *key,
                       GCancellable  *cancellable,
                       GError       **error)
{
  RunnerS3Object *object = NULL;
  RunnerS3Request req;

  g_return_val_if_fail (RUNNER_IS_S3 (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  runner_s3_request_init (&req, "HEAD", key);
  if (runner_s3_request_perform (self, &req, cancellable, error))
    object = runner_s3_object_new (key, req.content_length, req.etag);
  runner_s3_request_clear (&req);
  return object;
}

/**
 * runner_s3_delete_object:
 *
 * Deletes @key; a key that is not there is no error. Blocking.
 */
gboolean
runner_s3_delete_object (RunnerS3      *self,
                         const char    *key,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  RunnerS3Request req;
  gboolean ok;

  g_return_val_if_fail (RUNNER_IS_S3 (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  runner_s3_request_init (&req, "DELETE", key);
  ok = runner_s3_request_perform (self, &req, cancellable, &local_error);
  runner_s3_request_clear (&req);
  if (!ok && g_error_matches (local_error, RUNNER_ERROR, RUNNER_ERROR_NOT_FOUND))
    return TRUE;
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return ok;
}

/**
 * runner_s3_copy_object:
 *
 * Copies @from_key to @to_key inside the bucket, on the server. Blocking.
 */
gboolean
runner_s3_copy_object (RunnerS3        *self,
                       const char      *from_key,
                       const char      *to_key,
                       RunnerS3Object **object,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_autofree char *source_key = NULL;
  g_autofree char *source = NULL;
  RunnerS3XmlReply reply = { 0 };
  RunnerS3Request req;
  gboolean ok;

  g_return_val_if_fail (RUNNER_IS_S3 (self), FALSE);
  g_return_val_if_fail (from_key != NULL && to_key != NULL, FALSE);

  source_key = runner_s3_uri_encode (from_key, TRUE);
  source = g_strconcat ("/", self->bucket, "/", source_key, NULL);
  runner_s3_request_init (&req, "PUT", to_key);
  runner_s3_request_add_header (&req, "x-amz-copy-source", source);
  req.body = g_bytes_new_static ("", 0);
  ok = runner_s3_request_perform (self, &req, cancellable, error) &&
       runner_s3_xml_walk ((const char *) req.response->data, req.response->len, runner_s3_xml_reply_leaf, &reply, error);
  if (ok && object != NULL)
    *object = runner_s3_object_new (to_key, -1, reply.etag);
  runner_s3_xml_reply_clear (&reply);
  runner_s3_request_clear (&req);
  return ok;
}

/**
 * runner_s3_list_objects:
 * @prefix: (nullable): list only keys starting with it
 *
 * Lists every object under @prefix, following the continuation tokens of
 * ListObjectsV2 over as many pages as there are. Blocking.
 *
 * Returns: (transfer container) (element-type RunnerS3Object): the objects, in key order
 */
GPtrArray *
runner_s3_list_objects (RunnerS3      *self,
                        const char    *prefix,
                        GCancellable  *cancellable,
                        GError       **error)
{
  g_autoptr(GPtrArray) objects = g_ptr_array_new_with_free_func ((GDestroyNotify) runner_s3_object_free);
  g_autofree char *token = NULL;

  g_return_val_if_fail (RUNNER_IS_S3 (self), NULL);

  do
    {
      RunnerS3XmlListPage page = { objects, NULL, NULL, 0, FALSE, NULL };
      RunnerS3Request req;
      gboolean ok;

      runner_s3_request_init (&req, "GET", NULL);
      runner_s3_request_add_query (&req, "list-type", "2");
      if (prefix != NULL && prefix[0] != '\0')
        runner_s3_request_add_query (&req, "prefix", prefix);
      if (token != NULL)
        runner_s3_request_add_query (&req, "continuation-token", token);
      ok = runner_s3_request_perform (self, &req, cancellable, error) &&
           runner_s3_xml_walk ((const char *) req.response->data, req.response->len, runner_s3_xml_list_leaf, &page, error);
      runner_s3_request_clear (&req);
      g_clear_pointer (&token, g_free);
      g_free (page.key);
      g_free (page.etag);
      if (!ok)
        {
          g_free (page.token);
          return NULL;
        }
      if (page.truncated && page.token == NULL)
        {
          g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_FAILED,
                               _("S3 listing truncated without a continuation token"));
          return NULL;
        }
      token = page.truncated ? page.token : (g_free (page.token), NULL);
    }
  while (token != NULL);

  return g_steal_pointer (&objects);
}

/* ---------------------------------------------------------------- async */

typedef struct
{
  GTask           *task;     /* owned */
  GTaskThreadFunc  func;
} PoolItem;

static void
pool_run (gpointer item,
          gpointer user_data)
{
  PoolItem *pi = item;

  if (!g_task_return_error_if_cancelled (pi->task))
    pi->func (pi->task, g_task_get_source_object (pi->task),
              g_task_get_task_data (pi->task), g_task_get_cancellable (pi->task));
  g_object_unref (pi->task);
  g_free (pi);
}

static void
pool_push (RunnerS3        *self,
           GTask           *task,
           GTaskThreadFunc  func)
{
  PoolItem *pi = g_new0 (PoolItem, 1);

  pi->task = task;
  pi->func = func;
  g_thread_pool_push (self->pool, pi, NULL);
}

typedef enum
{
  OP_RUN,
  OP_GET,
  OP_PUT,
  OP_PUT_BYTES,
  OP_HEAD,
  OP_COPY,
  OP_DELETE,
  OP_LIST,
} OpKind;

typedef struct
{
  OpKind          kind;
  char           *key;
  char           *other;     /* a path or the copy's target */
  GBytes         *content;
  RunnerS3Func    func;
  gpointer        data;
  GDestroyNotify  data_free;
} Op;

static void
op_free (Op *op)
{
  g_free (op->key);
  g_free (op->other);
  g_clear_pointer (&op->content, g_bytes_unref);
  if (op->data_free != NULL)
    op->data_free (op->data);
  g_free (op);
}

static void
op_thread (GTask        *task,
           gpointer      source_object,
           gpointer      task_data,
           GCancellable *cancellable)
{
  RunnerS3 *self = source_object;
  Op *op = task_data;
  GError *error = NULL;
  RunnerS3Object *object = NULL;
  GPtrArray *list = NULL;
  gboolean ok = FALSE;

  switch (op->kind)
    {
    case OP_RUN:
      ok = op->func (self, op->data, cancellable, &error);
      break;
    case OP_GET:
      ok = runner_s3_get_object (self, op->key, AT_FDCWD, op->other, &object, cancellable, &error);
      break;
    case OP_PUT:
      {
        int fd = open (op->other, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
          {
            int saved = errno;

            g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s",
                         op->other, g_strerror (saved));
            break;
          }
        ok = runner_s3_put_object (self, op->key, fd, &object, cancellable, &error);
        close (fd);
      }
      break;
    case OP_PUT_BYTES:
      ok = runner_s3_put_bytes (self, op->key, op->content, &object, cancellable, &error);
      break;
    case OP_HEAD:
      object = runner_s3_head_object (self, op->key, cancellable, &error);
      ok = object != NULL;
      break;
    case OP_COPY:
      ok = runner_s3_copy_object (self, op->key, op->other, &object, cancellable, &error);
      break;
    case OP_DELETE:
      ok = runner_s3_delete_object (self, op->key, cancellable, &error);
      break;
    case OP_LIST:
      list = runner_s3_list_objects (self, op->key, cancellable, &error);
      ok = list != NULL;
      break;
    default:
      g_assert_not_reached ();
    }

  if (!ok)
    g_task_return_error (task, error);
  else if (list != NULL)
    g_task_return_pointer (task, list, (GDestroyNotify) g_ptr_array_unref);
  else if (object != NULL)
    g_task_return_pointer (task, object, (GDestroyNotify) runner_s3_object_free);
  else
    g_task_return_boolean (task, TRUE);
}

static void
op_start (RunnerS3            *self,
          Op                  *op,
          gpointer             source_tag,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, op, (GDestroyNotify) op_free);
  pool_push (self, task, op_thread);
}

static Op *
op_new (OpKind      kind,
        const char *key,
        const char *other)
{
  Op *op = g_new0 (Op, 1);

  op->kind = kind;
  op->key = g_strdup (key);
  op->other = g_strdup (other);
  return op;
}

/**
 * runner_s3_run_async:
 * @func: blocking work, run on a transfer thread
 * @data: its data
 * @data_free: (nullable): frees @data once the work is done
 *
 * Runs @func on one of the client's transfer threads (at most
 * runner_s3_get_parallel() at once) and completes on the caller's context.
 */
void
runner_s3_run_async (RunnerS3            *self,
                     RunnerS3Func         func,
                     gpointer             data,
                     GDestroyNotify       data_free,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  Op *op;

  g_return_if_fail (RUNNER_IS_S3 (self));
  g_return_if_fail (func != NULL);

  op = op_new (OP_RUN, NULL, NULL);
  op->func = func;
  op->data = data;
  op->data_free = data_free;
  op_start (self, op, runner_s3_run_async, cancellable, callback, user_data);
}

gboolean
runner_s3_run_finish (RunnerS3      *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
runner_s3_get_object_async (RunnerS3            *self,
                            const char          *key,
                            const char          *path,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (RUNNER_IS_S3 (self));
  g_return_if_fail (key != NULL && path != NULL);
  op_start (self, op_new (OP_GET, key, path), runner_s3_object_finish, cancellable, callback, user_data);
}

void
runner_s3_put_object_async (RunnerS3            *self,
                            const char          *key,
                            const char          *path,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (RUNNER_IS_S3 (self));
  g_return_if_fail (key != NULL && path != NULL);
  op_start (self, op_new (OP_PUT, key, path), runner_s3_object_finish, cancellable, callback, user_data);
}

void
runner_s3_put_bytes_async (RunnerS3            *self,
                           const char          *key,
                           GBytes              *content,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  Op *op;

  g_return_if_fail (RUNNER_IS_S3 (self));
  g_return_if_fail (key != NULL && content != NULL);
  op = op_new (OP_PUT_BYTES, key, NULL);
  op->content = g_bytes_ref (content);
  op_start (self, op, runner_s3_object_finish, cancellable, callback, user_data);
}

void
runner_s3_head_object_async (RunnerS3            *self,
                             const char          *key,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (RUNNER_IS_S3 (self));
  g_return_if_fail (key != NULL);
  op_start (self, op_new (OP_HEAD, key, NULL), runner_s3_object_finish, cancellable, callback, user_data);
}

void
runner_s3_copy_object_async (RunnerS3            *self,
                             const char          *from_key,
                             const char          *to_key,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (RUNNER_IS_S3 (self));
  g_return_if_fail (from_key != NULL && to_key != NULL);
  op_start (self, op_new (OP_COPY, from_key, to_key), runner_s3_object_finish,
            cancellable, callback, user_data);
}

/**
 * runner_s3_object_finish:
 *
 * Finishes a get, put, put-bytes, head or copy.
 *
 * Returns: (transfer full): the object, or %NULL with @error set
 */
RunnerS3Object *
runner_s3_object_finish (RunnerS3      *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
runner_s3_delete_object_async (RunnerS3            *self,
                               const char          *key,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (RUNNER_IS_S3 (self));
  g_return_if_fail (key != NULL);
  op_start (self, op_new (OP_DELETE, key, NULL), runner_s3_delete_object_async,
            cancellable, callback, user_data);
}

gboolean
runner_s3_delete_object_finish (RunnerS3      *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
runner_s3_list_objects_async (RunnerS3            *self,
                              const char          *prefix,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (RUNNER_IS_S3 (self));
  op_start (self, op_new (OP_LIST, prefix, NULL), runner_s3_list_objects_async,
            cancellable, callback, user_data);
}

/**
 * runner_s3_list_objects_finish:
 *
 * Returns: (transfer container) (element-type RunnerS3Object): the objects
 */
GPtrArray *
runner_s3_list_objects_finish (RunnerS3      *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---------------------------------------------------------------- setup */

static void
runner_s3_finalize (GObject *object)
{
  RunnerS3 *self = (RunnerS3 *) object;

  /* Tasks hold a reference on us, so the pool is idle here; do not wait:
   * the last reference may be dropped on one of its own threads. */
  g_thread_pool_free (self->pool, TRUE, FALSE);
  g_free (self->bucket);
  g_free (self->region);
  g_free (self->origin);
  g_free (self->host);
  g_free (self->base_path);
  g_free (self->access_key);
  if (self->secret_key != NULL)
    memset (self->secret_key, 0, strlen (self->secret_key));
  g_free (self->secret_key);
  g_free (self->session_token);

  G_OBJECT_CLASS (runner_s3_parent_class)->finalize (object);
}

static void
runner_s3_class_init (RunnerS3Class *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = runner_s3_finalize;
}

static void
runner_s3_init (RunnerS3 *self)
{
  self->parallel = RUNNER_S3_DEFAULT_PARALLEL;
  self->threshold = RUNNER_S3_DEFAULT_MULTIPART_THRESHOLD;
  self->part_size = RUNNER_S3_DEFAULT_PART_SIZE;
  self->max_attempts = RUNNER_S3_DEFAULT_MAX_ATTEMPTS;
  self->pool = g_thread_pool_new (pool_run, self, self->parallel, FALSE, NULL);
}

static gboolean
set_endpoint (RunnerS3    *self,
              const char  *endpoint,
              GError     **error)
{
  g_autofree char *with_scheme = NULL;
  g_autoptr(GUri) uri = NULL;
  const char *scheme;
  const char *host;
  const char *path;
  int port;

  if (endpoint == NULL || endpoint[0] == '\0')
    {
      /* AWS itself: virtual-hosted style when the name allows it */
      if (strchr (self->bucket, '.') == NULL)
        {
          self->host = g_strdup_printf ("%s.s3.%s.amazonaws.com", self->bucket, self->region);
          self->base_path = g_strdup ("");
        }
      else
        {
          self->host = g_strdup_printf ("s3.%s.amazonaws.com", self->region);
          self->base_path = g_strconcat ("/", self->bucket, NULL);
        }
      self->origin = g_strconcat ("https://", self->host, NULL);
      return TRUE;
    }

  with_scheme = strstr (endpoint, "://") != NULL ? g_strdup (endpoint)
                                                 : g_strconcat ("https://", endpoint, NULL);
  uri = g_uri_parse (with_scheme, G_URI_FLAGS_NONE, error);
  if (uri == NULL)
    {
      g_prefix_error (error, _("Invalid S3 endpoint “%s”: "), endpoint);
      return FALSE;
    }
  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);
  port = g_uri_get_port (uri);
  if ((!g_str_equal (scheme, "http") && !g_str_equal (scheme, "https")) || host == NULL || host[0] == '\0')
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("Invalid S3 endpoint “%s”: want http(s)://host[:port]"), endpoint);
      return FALSE;
    }
  if (strchr (host, ':') != NULL)
    self->host = port > 0 ? g_strdup_printf ("[%s]:%d", host, port) : g_strdup_printf ("[%s]", host);
  else
    self->host = port > 0 ? g_strdup_printf ("%s:%d", host, port) : g_strdup (host);
  self->origin = g_strconcat (scheme, "://", self->host, NULL);
  /* a custom endpoint gets path-style addressing */
  path = g_uri_get_path (uri);
  {
    g_autofree char *trimmed = g_strdup (path != NULL ? path : "");
    gsize len = strlen (trimmed);

    while (len > 0 && trimmed[len - 1] == '/')
      trimmed[--len] = '\0';
    self->base_path = g_strconcat (trimmed, "/", self->bucket, NULL);
  }
  return TRUE;
}

/**
 * runner_s3_new_with_credentials:
 * @bucket: the bucket
 * @region: (nullable): its region; us-east-1 when %NULL
 * @endpoint: (nullable): a custom endpoint (`http://127.0.0.1:9000`), addressed
 *   path-style; AWS when %NULL
 * @access_key: the access key id
 * @secret_key: the secret
 * @session_token: (nullable): a session token
 *
 * Returns: (transfer full): a client, or %NULL with @error set
 */
RunnerS3 *
runner_s3_new_with_credentials (const char  *bucket,
                                const char  *region,
                                const char  *endpoint,
                                const char  *access_key,
                                const char  *secret_key,
                                const char  *session_token,
                                GError     **error)
{
  g_autoptr(RunnerS3) self = NULL;
  const RunnerCurl *libcurl;

  g_return_val_if_fail (bucket != NULL, NULL);
  g_return_val_if_fail (access_key != NULL && secret_key != NULL, NULL);

  if (bucket[0] == '\0' || strchr (bucket, '/') != NULL)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID, _("Invalid S3 bucket name “%s”"), bucket);
      return NULL;
    }
  libcurl = runner_curl_load (error);
  if (libcurl == NULL)
    return NULL;

  self = g_object_new (RUNNER_TYPE_S3, NULL);
  self->libcurl = libcurl;
  self->bucket = g_strdup (bucket);
  self->region = g_strdup (region != NULL && region[0] != '\0' ? region : "us-east-1");
  self->access_key = g_strdup (access_key);
  self->secret_key = g_strdup (secret_key);
  self->session_token = session_token != NULL && session_token[0] != '\0' ? g_strdup (session_token) : NULL;
  if (!set_endpoint (self, endpoint, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * runner_s3_new:
 * @bucket: the bucket
 * @region: (nullable): its region
 * @endpoint: (nullable): a custom endpoint, or %NULL for AWS
 *
 * Creates a client with the credentials of the environment
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) or,
 * without them, of the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`
 * or `~/.aws/credentials`, profile `AWS_PROFILE` or `default`).
 *
 * Returns: (transfer full): a client, or %NULL with RUNNER_ERROR_AUTH when
 *   there are no credentials
 */
RunnerS3 *
runner_s3_new (const char  *bucket,
               const char  *region,
               const char  *endpoint,
               GError     **error)
{
  g_autofree char *access_key = NULL;
  g_autofree char *secret_key = NULL;
  g_autofree char *session_token = NULL;
  RunnerS3 *self;

  g_return_val_if_fail (bucket != NULL, NULL);

  if (!runner_s3_find_credentials (&access_key, &secret_key, &session_token, error))
    return NULL;
  self = runner_s3_new_with_credentials (bucket, region, endpoint, access_key, secret_key,
                                         session_token, error);
  memset (secret_key, 0, strlen (secret_key));
  return self;
}

const char *
runner_s3_get_bucket (RunnerS3 *self)
{
  g_return_val_if_fail (RUNNER_IS_S3 (self), NULL);
  return self->bucket;
}

const char *
runner_s3_get_region (RunnerS3 *self)
{
  g_return_val_if_fail (RUNNER_IS_S3 (self), NULL);
  return self->region;
}

/**
 * runner_s3_set_parallel:
 * @parallel: how many transfers may run at once (1 to 256)
 */
void
runner_s3_set_parallel (RunnerS3 *self,
                        guint     parallel)
{
  g_return_if_fail (RUNNER_IS_S3 (self));
  g_return_if_fail (parallel >= 1 && parallel <= 256);

  self->parallel = parallel;
  g_thread_pool_set_max_threads (self->pool, parallel, NULL);
}

guint
runner_s3_get_parallel (RunnerS3 *self)
{
  g_return_val_if_fail (RUNNER_IS_S3 (self), 0);
  return self->parallel;
}

/**
 * runner_s3_set_multipart:
 * @threshold: files of this size or more go up in parts
 * @part_size: the size of a part (at least 5 MiB, S3's minimum)
 *
 * Call before the first transfer.
 */
void
runner_s3_set_multipart (RunnerS3 *self,
                         gint64    threshold,
                         gint64    part_size)
{
  g_return_if_fail (RUNNER_IS_S3 (self));
  g_return_if_fail (threshold > 0);
  g_return_if_fail (part_size >= 5 * 1024 * 1024);

  self->threshold = threshold;
  self->part_size = part_size;
}

gint64
runner_s3_get_part_size (RunnerS3 *self)
{
  g_return_val_if_fail (RUNNER_IS_S3 (self), 0);
  return self->part_size;
}

gint64
runner_s3_get_multipart_threshold (RunnerS3 *self)
{
  g_return_val_if_fail (RUNNER_IS_S3 (self), 0);
  return self->threshold;
}

/**
 * runner_s3_set_max_attempts:
 * @attempts: how often one request is tried before it fails (at least 1)
 */
void
runner_s3_set_max_attempts (RunnerS3 *self,
                            guint     attempts)
{
  g_return_if_fail (RUNNER_IS_S3 (self));
  g_return_if_fail (attempts >= 1);
  self->max_attempts = attempts;
}
