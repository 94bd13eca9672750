/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-s3"

#include "config.h"

#include "runner-s3.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "runner-curl.h"
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
 */

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_RESPONSE (16 * 1024 * 1024)
#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 5000
#define MAX_PARTS 10000

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CURL, runner_curl_easy_cleanup)

struct _RunnerS3
{
  GObject      parent_instance;

  char        *bucket;
  char        *region;
  char        *origin;         /* scheme://authority */
  char        *host;           /* the Host header */
  char        *base_path;      /* "" or "/bucket" (path-style), no trailing slash */
  char        *access_key;
  char        *secret_key;
  char        *session_token;  /* nullable */

  guint        parallel;
  gint64       threshold;
  gint64       part_size;
  guint        max_attempts;
  GThreadPool *pool;           /* owned */
};

G_DEFINE_FINAL_TYPE (RunnerS3, runner_s3, G_TYPE_OBJECT)

/* One thread's easy handle, reused so that its connection stays open. */
static GPrivate thread_curl = G_PRIVATE_INIT ((GDestroyNotify) runner_curl_easy_cleanup);

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

/* ---------------------------------------------------------------- encoding */

/**
 * runner_s3_uri_encode:
 * @text: UTF-8 text
 * @keep_slash: leave `/` as is (object keys in a path)
 *
 * Percent-encodes every byte but the unreserved ones (`A-Za-z0-9-._~`), as
 * SigV4 wants for the canonical URI and query: a space is `%20`, `+` is
 * `%2B`, non-ASCII UTF-8 is encoded byte by byte.
 *
 * Returns: (transfer full): the encoded text
 */
char *
runner_s3_uri_encode (const char *text,
                      gboolean    keep_slash)
{
  GString *out = g_string_sized_new (strlen (text) + 16);

  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      if (g_ascii_isalnum (*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
          (keep_slash && *p == '/'))
        g_string_append_c (out, *p);
      else
        g_string_append_printf (out, "%%%02X", *p);
    }
  return g_string_free (out, FALSE);
}

/* g_set_str() is GLib 2.76 */
static void
set_str (char       **slot,
         const char  *value)
{
  g_free (*slot);
  *slot = g_strdup (value);
}

static char *
sha256_hex (const void *data,
            gsize       len)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
}

static void
hmac_sha256 (const guint8 *key,
             gsize         key_len,
             const char   *text,
             guint8        out[32])
{
  g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);
  gsize len = 32;

  g_hmac_update (hmac, (const guchar *) text, -1);
  g_hmac_get_digest (hmac, out, &len);
}

/* ---------------------------------------------------------------- XML */

typedef void (*XmlLeafFunc) (const char *path,
                             const char *text,
                             gpointer    user_data);

typedef struct
{
  GString     *path;
  GString     *text;
  XmlLeafFunc  func;
  gpointer     user_data;
} XmlWalk;

static void
xml_start (GMarkupParseContext  *context,
           const char           *element,
           const char          **names,
           const char          **values,
           gpointer              user_data,
           GError              **error)
{
  XmlWalk *walk = user_data;

  if (walk->path->len > 0)
    g_string_append_c (walk->path, '/');
  g_string_append (walk->path, element);
  g_string_truncate (walk->text, 0);
}

static void
xml_end (GMarkupParseContext  *context,
         const char           *element,
         gpointer              user_data,
         GError              **error)
{
  XmlWalk *walk = user_data;
  const char *slash;

  walk->func (walk->path->str, walk->text->str, walk->user_data);
  g_string_truncate (walk->text, 0);
  slash = strrchr (walk->path->str, '/');
  g_string_truncate (walk->path, slash != NULL ? (gsize) (slash - walk->path->str) : 0);
}

static void
xml_text (GMarkupParseContext  *context,
          const char           *text,
          gsize                 len,
          gpointer              user_data,
          GError              **error)
{
  XmlWalk *walk = user_data;

  g_string_append_len (walk->text, text, len);
}

/* Calls @func with the path ("A/B/C") and text of every element as it closes. */
static gboolean
xml_walk (const char  *xml,
          gsize        len,
          XmlLeafFunc  func,
          gpointer     user_data,
          GError     **error)
{
  static const GMarkupParser parser = { xml_start, xml_end, xml_text, NULL, NULL };
  XmlWalk walk = { g_string_new (NULL), g_string_new (NULL), func, user_data };
  g_autoptr(GMarkupParseContext) context = NULL;
  gboolean ok;

  context = g_markup_parse_context_new (&parser, G_MARKUP_PREFIX_ERROR_POSITION, &walk, NULL);
  ok = g_markup_parse_context_parse (context, xml, len, error) &&
       g_markup_parse_context_end_parse (context, error);
  g_string_free (walk.path, TRUE);
  g_string_free (walk.text, TRUE);
  if (!ok)
    g_prefix_error (error, "malformed S3 reply: ");
  return ok;
}

typedef struct
{
  char *code;
  char *message;
  char *etag;
  char *upload_id;
} XmlReply;

static void
xml_reply_clear (XmlReply *reply)
{
  g_clear_pointer (&reply->code, g_free);
  g_clear_pointer (&reply->message, g_free);
  g_clear_pointer (&reply->etag, g_free);
  g_clear_pointer (&reply->upload_id, g_free);
}

static char *
unquote_etag (const char *etag)
{
  g_autofree char *copy = g_strstrip (g_strdup (etag));
  gsize len = strlen (copy);

  if (len >= 2 && copy[0] == '"' && copy[len - 1] == '"')
    return g_strndup (copy + 1, len - 2);
  return g_steal_pointer (&copy);
}

static void
xml_reply_leaf (const char *path,
                const char *text,
                gpointer    user_data)
{
  XmlReply *reply = user_data;
  const char *leaf = strrchr (path, '/');

  if (leaf == NULL)
    return;
  leaf++;
  if (g_str_has_prefix (path, "Error/"))
    {
      if (g_str_equal (leaf, "Code"))
        set_str (&reply->code, text);
      else if (g_str_equal (leaf, "Message"))
        set_str (&reply->message, text);
    }
  else if (g_str_equal (leaf, "ETag"))
    {
      g_free (reply->etag);
      reply->etag = unquote_etag (text);
    }
  else if (g_str_equal (leaf, "UploadId"))
    set_str (&reply->upload_id, text);
}

/* ---------------------------------------------------------------- requests */

typedef struct
{
  /* what to send */
  const char   *method;
  const char   *key;            /* NULL: the bucket itself */
  GPtrArray    *query;          /* "name=value", both already encoded */
  GPtrArray    *headers;        /* "name:value", names lower-case; signed */
  GBytes       *body;           /* memory body (signed payload) */
  int           body_fd;        /* or a file range (UNSIGNED-PAYLOAD) */
  gint64        body_offset;
  gint64        body_length;
  int           out_fd;         /* -1: the reply goes to @response */
  gboolean      verify_md5;     /* a download checks its MD5 against the ETag */

  /* during a transfer */
  CURL         *curl;
  GCancellable *cancellable;
  gint64        body_pos;
  int           local_errno;    /* a failed read or write of a local file */
  GChecksum    *out_md5;
  gint64        out_written;

  /* what came back */
  long          status;
  GByteArray   *response;
  char         *etag;
  gint64        content_length;
} S3Request;

static void
s3_request_init (S3Request  *req,
                 const char *method,
                 const char *key)
{
  memset (req, 0, sizeof *req);
  req->method = method;
  req->key = key;
  req->query = g_ptr_array_new_with_free_func (g_free);
  req->headers = g_ptr_array_new_with_free_func (g_free);
  req->body_fd = -1;
  req->out_fd = -1;
  req->response = g_byte_array_new ();
  req->content_length = -1;
}

static void
s3_request_clear (S3Request *req)
{
  g_clear_pointer (&req->query, g_ptr_array_unref);
  g_clear_pointer (&req->headers, g_ptr_array_unref);
  g_clear_pointer (&req->body, g_bytes_unref);
  g_clear_pointer (&req->out_md5, g_checksum_free);
  g_clear_pointer (&req->response, g_byte_array_unref);
  g_clear_pointer (&req->etag, g_free);
}

static void
s3_request_add_query (S3Request  *req,
                      const char *name,
                      const char *value)
{
  g_autofree char *n = runner_s3_uri_encode (name, FALSE);
  g_autofree char *v = runner_s3_uri_encode (value != NULL ? value : "", FALSE);

  g_ptr_array_add (req->query, g_strconcat (n, "=", v, NULL));
}

static void
s3_request_add_header (S3Request  *req,
                       const char *name,
                       const char *value)
{
  g_ptr_array_add (req->headers, g_strconcat (name, ":", value, NULL));
}

/* Sorts "name=value" by name, then value, as SigV4's canonical query wants. */
static int
compare_pairs (gconstpointer a,
               gconstpointer b)
{
  const char *pa = *(const char * const *) a;
  const char *pb = *(const char * const *) b;
  gsize la = strcspn (pa, "=");
  gsize lb = strcspn (pb, "=");
  int cmp = strncmp (pa, pb, MIN (la, lb));

  if (cmp != 0)
    return cmp;
  if (la != lb)
    return la < lb ? -1 : 1;
  return strcmp (pa + la, pb + lb);
}

static int
compare_headers (gconstpointer a,
                 gconstpointer b)
{
  const char *pa = *(const char * const *) a;
  const char *pb = *(const char * const *) b;
  gsize la = strcspn (pa, ":");
  gsize lb = strcspn (pb, ":");
  int cmp = strncmp (pa, pb, MIN (la, lb));

  if (cmp != 0)
    return cmp;
  return la == lb ? 0 : (la < lb ? -1 : 1);
}

static size_t
on_write (char   *ptr,
          size_t  size,
          size_t  nmemb,
          void   *user_data)
{
  S3Request *req = user_data;
  size_t len = size * nmemb;

  if (req->status == 0)
    runner_curl ()->easy_getinfo (req->curl, CURLINFO_RESPONSE_CODE, &req->status);

  if (req->out_fd >= 0 && req->status >= 200 && req->status < 300)
    {
      size_t done = 0;

      while (done < len)
        {
          ssize_t n = write (req->out_fd, ptr + done, len - done);

          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            {
              req->local_errno = errno;
              return 0;
            }
          done += n;
        }
      if (req->out_md5 != NULL)
        g_checksum_update (req->out_md5, (const guchar *) ptr, len);
      req->out_written += len;
      return len;
    }

  if (req->response->len + len > MAX_RESPONSE)
    return 0;
  g_byte_array_append (req->response, (const guint8 *) ptr, len);
  return len;
}

static size_t
on_header (char   *line,
           size_t  size,
           size_t  nmemb,
           void   *user_data)
{
  S3Request *req = user_data;
  size_t len = size * nmemb;
  g_autofree char *copy = g_strndup (line, len);

  if (g_str_has_prefix (copy, "HTTP/"))
    {
      /* a new response (after a 100 Continue) */
      g_clear_pointer (&req->etag, g_free);
      req->content_length = -1;
    }
  else if (g_ascii_strncasecmp (copy, "etag:", 5) == 0)
    {
      g_free (req->etag);
      req->etag = unquote_etag (copy + 5);
    }
  else if (g_ascii_strncasecmp (copy, "content-length:", 15) == 0)
    req->content_length = g_ascii_strtoll (copy + 15, NULL, 10);
  return len;
}

static size_t
on_read (char   *buffer,
         size_t  size,
         size_t  nmemb,
         void   *user_data)
{
  S3Request *req = user_data;
  gint64 want = MIN ((gint64) (size * nmemb), req->body_length - req->body_pos);
  ssize_t n;

  if (want <= 0)
    return 0;

  if (req->body != NULL)
    {
      const guint8 *data = g_bytes_get_data (req->body, NULL);

      memcpy (buffer, data + req->body_pos, want);
      req->body_pos += want;
      return want;
    }

  do
    n = pread (req->body_fd, buffer, want, req->body_offset + req->body_pos);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    {
      /* the file shrank under us, or cannot be read */
      req->local_errno = n < 0 ? errno : ESTALE;
      return CURL_READFUNC_ABORT;
    }
  req->body_pos += n;
  return n;
}

static int
on_seek (void       *user_data,
         curl_off_t  offset,
         int         origin)
{
  S3Request *req = user_data;

  if (origin != SEEK_SET || offset < 0 || offset > req->body_length)
    return CURL_SEEKFUNC_CANTSEEK;
  req->body_pos = offset;
  return CURL_SEEKFUNC_OK;
}

static int
on_progress (void       *user_data,
             curl_off_t  dltotal,
             curl_off_t  dlnow,
             curl_off_t  ultotal,
             curl_off_t  ulnow)
{
  S3Request *req = user_data;

  return g_cancellable_is_cancelled (req->cancellable) ? 1 : 0;
}

static char *
s3_request_path (RunnerS3  *self,
                 S3Request *req)
{
  g_autofree char *key = NULL;

  if (req->key == NULL)
    return g_strdup (self->base_path[0] != '\0' ? self->base_path : "/");
  key = runner_s3_uri_encode (req->key, TRUE);
  return g_strconcat (self->base_path, "/", key, NULL);
}

/* "date:Tue, 03 Mar 2026 10:00:00 GMT", in English whatever the locale */
static char *
http_date (GDateTime *now)
{
  static const char * const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char * const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

  return g_strdup_printf ("date:%s, %02d %s %04d %02d:%02d:%02d GMT",
                          days[g_date_time_get_day_of_week (now) - 1],
                          g_date_time_get_day_of_month (now),
                          months[g_date_time_get_month (now) - 1],
                          g_date_time_get_year (now),
                          g_date_time_get_hour (now),
                          g_date_time_get_minute (now),
                          g_date_time_get_second (now));
}

/* Builds the SigV4 Authorization header and the list of headers to send. */
static struct curl_slist *
s3_request_sign (RunnerS3   *self,
                 S3Request  *req,
                 const char *path,
                 const char *query)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *amz_date = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  g_autofree char *date = g_date_time_format (now, "%Y%m%d");
  g_autofree char *payload = NULL;
  g_autoptr(GPtrArray) headers = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) canonical = g_string_new (NULL);
  g_autoptr(GString) signed_names = g_string_new (NULL);
  g_autofree char *scope = NULL;
  g_autofree char *string_to_sign = NULL;
  g_autofree char *canonical_hash = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *signature = NULL;
  g_autofree char *authorization = NULL;
  struct curl_slist *list = NULL;
  guint8 key[32];

  if (req->body != NULL)
    {
      gsize len;
      gconstpointer data = g_bytes_get_data (req->body, &len);

      payload = sha256_hex (data, len);
    }
  else if (req->body_fd >= 0)
    payload = g_strdup ("UNSIGNED-PAYLOAD");
  else
    payload = g_strdup (EMPTY_SHA256);

  g_ptr_array_add (headers, g_strconcat ("host:", self->host, NULL));
  /* S3 goes by x-amz-date; a signed Date of the same instant also serves
   * verifiers that take the time from Date (the aws4 npm package does). */
  g_ptr_array_add (headers, http_date (now));
  g_ptr_array_add (headers, g_strconcat ("x-amz-content-sha256:", payload, NULL));
  g_ptr_array_add (headers, g_strconcat ("x-amz-date:", amz_date, NULL));
  if (self->session_token != NULL)
    g_ptr_array_add (headers, g_strconcat ("x-amz-security-token:", self->session_token, NULL));
  for (guint i = 0; i < req->headers->len; i++)
    g_ptr_array_add (headers, g_strdup (req->headers->pdata[i]));
  g_ptr_array_sort (headers, compare_headers);

  g_string_append_printf (canonical, "%s\n%s\n%s\n", req->method, path, query);
  for (guint i = 0; i < headers->len; i++)
    {
      const char *h = headers->pdata[i];
      gsize name_len = strcspn (h, ":");

      g_string_append_printf (canonical, "%s\n", h);
      if (signed_names->len > 0)
        g_string_append_c (signed_names, ';');
      g_string_append_len (signed_names, h, name_len);
      /* "Name: value" on the wire (curl wants "Name;" for an empty value) */
      {
        g_autofree char *line = h[name_len + 1] == '\0'
                                ? g_strdup_printf ("%.*s;", (int) name_len, h)
                                : g_strdup_printf ("%.*s: %s", (int) name_len, h, h + name_len + 1);

        list = runner_curl ()->slist_append (list, line);
      }
    }
  g_string_append_printf (canonical, "\n%s\n%s", signed_names->str, payload);

  scope = g_strdup_printf ("%s/%s/s3/aws4_request", date, self->region);
  canonical_hash = sha256_hex (canonical->str, canonical->len);
  string_to_sign = g_strdup_printf ("AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, canonical_hash);

  secret = g_strconcat ("AWS4", self->secret_key, NULL);
  hmac_sha256 ((const guint8 *) secret, strlen (secret), date, key);
  hmac_sha256 (key, sizeof key, self->region, key);
  hmac_sha256 (key, sizeof key, "s3", key);
  hmac_sha256 (key, sizeof key, "aws4_request", key);
  {
    g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, key, sizeof key);

    g_hmac_update (hmac, (const guchar *) string_to_sign, -1);
    signature = g_strdup (g_hmac_get_string (hmac));
  }

  authorization = g_strdup_printf ("Authorization: AWS4-HMAC-SHA256 Credential=%s/%s, "
                                   "SignedHeaders=%s, Signature=%s",
                                   self->access_key, scope, signed_names->str, signature);
  list = runner_curl ()->slist_append (list, authorization);
  list = runner_curl ()->slist_append (list, "Expect:");
  if (req->body != NULL && g_str_equal (req->method, "POST"))
    list = runner_curl ()->slist_append (list, "Content-Type: application/xml");
  else if (g_str_equal (req->method, "POST"))
    list = runner_curl ()->slist_append (list, "Content-Type:");
  return list;
}

static gboolean
status_is_retryable (long        status,
                     const char *code)
{
  if (status >= 500 || status == 429)
    return TRUE;
  return g_strcmp0 (code, "SlowDown") == 0 ||
         g_strcmp0 (code, "RequestTimeout") == 0 ||
         g_strcmp0 (code, "InternalError") == 0;
}

static gboolean
curl_code_is_retryable (CURLcode code)
{
  switch (code)
    {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return TRUE;
    default:
      return FALSE;
    }
}

static GIOErrorEnum
curl_code_to_io_error (CURLcode code)
{
  switch (code)
    {
    case CURLE_COULDNT_RESOLVE_HOST:
      return G_IO_ERROR_HOST_NOT_FOUND;
    case CURLE_COULDNT_CONNECT:
      return G_IO_ERROR_CONNECTION_REFUSED;
    case CURLE_OPERATION_TIMEDOUT:
      return G_IO_ERROR_TIMED_OUT;
    case CURLE_ABORTED_BY_CALLBACK:
      return G_IO_ERROR_CANCELLED;
    default:
      return G_IO_ERROR_FAILED;
    }
}

/* Turns an S3 error reply into a GError; 403 is always RUNNER_ERROR_AUTH. */
static void
set_status_error (S3Request  *req,
                  GError    **error)
{
  XmlReply reply = { 0 };
  const char *what;

  if (req->response->len > 0)
    xml_walk ((const char *) req->response->data, req->response->len, xml_reply_leaf, &reply, NULL);
  what = reply.message != NULL ? reply.message : "";

  if (req->status == 401 || req->status == 403)
    g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_AUTH,
                 _("S3 refused the request (%s %ld %s): check the credentials and bucket policy"),
                 reply.code != NULL ? reply.code : "AccessDenied", req->status, what);
  else if (req->status == 404)
    g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_NOT_FOUND, _("S3: %s (%s)"),
                 reply.code != NULL ? reply.code : "NotFound", req->key != NULL ? req->key : "");
  else
    g_set_error (error, RUNNER_ERROR, status_is_retryable (req->status, reply.code)
                                      ? RUNNER_ERROR_UNAVAILABLE : RUNNER_ERROR_FAILED,
                 _("S3 answered %ld %s: %s"), req->status,
                 reply.code != NULL ? reply.code : "", what);
  xml_reply_clear (&reply);
}

static CURL *
thread_easy_handle (void)
{
  CURL *curl = g_private_get (&thread_curl);

  if (curl == NULL)
    {
      curl = runner_curl ()->easy_init ();
      g_private_set (&thread_curl, curl);
    }
  else
    runner_curl ()->easy_reset (curl);
  return curl;
}

static void
s3_request_reset_output (S3Request *req)
{
  req->status = 0;
  req->local_errno = 0;
  req->body_pos = 0;
  req->out_written = 0;
  g_byte_array_set_size (req->response, 0);
  g_clear_pointer (&req->etag, g_free);
  req->content_length = -1;
  if (req->out_fd >= 0)
    {
      if (ftruncate (req->out_fd, 0) != 0 || lseek (req->out_fd, 0, SEEK_SET) != 0)
        req->local_errno = errno;
      if (req->verify_md5)
        {
          g_clear_pointer (&req->out_md5, g_checksum_free);
          req->out_md5 = g_checksum_new (G_CHECKSUM_MD5);
        }
    }
}

/* One attempt. *retry tells whether another one may succeed. */
static gboolean
s3_request_perform_once (RunnerS3   *self,
                         S3Request  *req,
                         gboolean   *retry,
                         GError    **error)
{
  g_autofree char *path = s3_request_path (self, req);
  g_autofree char *query = NULL;
  g_autofree char *url = NULL;
  g_autofree char *url_query = NULL;
  struct curl_slist *headers;
  char curl_error[CURL_ERROR_SIZE] = "";
  CURLcode res;

  *retry = FALSE;
  s3_request_reset_output (req);
  if (req->local_errno != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (req->local_errno),
                   "%s", g_strerror (req->local_errno));
      return FALSE;
    }

  g_ptr_array_sort (req->query, compare_pairs);
  g_ptr_array_add (req->query, NULL);
  query = g_strjoinv ("&", (char **) req->query->pdata);
  g_ptr_array_remove_index (req->query, req->query->len - 1);
  url = g_strconcat (self->origin, path, query[0] != '\0' ? "?" : "", query, NULL);

  req->curl = thread_easy_handle ();
  headers = s3_request_sign (self, req, path, query);

  runner_curl ()->easy_setopt (req->curl, CURLOPT_URL, url);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_HTTPHEADER, headers);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_NOSIGNAL, 1L);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_ERRORBUFFER, curl_error);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_CONNECTTIMEOUT, 15L);
  /* a stalled transfer (under 1 byte/s for a minute) is a failed one */
  runner_curl ()->easy_setopt (req->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_LOW_SPEED_TIME, 60L);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_WRITEFUNCTION, on_write);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_WRITEDATA, req);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_HEADERFUNCTION, on_header);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_HEADERDATA, req);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_NOPROGRESS, 0L);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_XFERINFODATA, req);

  if (req->body != NULL)
    req->body_length = g_bytes_get_size (req->body);
  if (g_str_equal (req->method, "PUT"))
    {
      runner_curl ()->easy_setopt (req->curl, CURLOPT_UPLOAD, 1L);
      runner_curl ()->easy_setopt (req->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t) req->body_length);
    }
  else if (g_str_equal (req->method, "POST"))
    {
      runner_curl ()->easy_setopt (req->curl, CURLOPT_POST, 1L);
      runner_curl ()->easy_setopt (req->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_length);
    }
  else if (g_str_equal (req->method, "HEAD"))
    runner_curl ()->easy_setopt (req->curl, CURLOPT_NOBODY, 1L);
  else if (!g_str_equal (req->method, "GET"))
    runner_curl ()->easy_setopt (req->curl, CURLOPT_CUSTOMREQUEST, req->method);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_READFUNCTION, on_read);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_READDATA, req);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_SEEKFUNCTION, on_seek);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_SEEKDATA, req);

  res = runner_curl ()->easy_perform (req->curl);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_HTTPHEADER, NULL);
  runner_curl ()->easy_setopt (req->curl, CURLOPT_ERRORBUFFER, NULL);
  runner_curl ()->slist_free_all (headers);
  runner_curl ()->easy_getinfo (req->curl, CURLINFO_RESPONSE_CODE, &req->status);
  req->curl = NULL;

  if (g_cancellable_set_error_if_cancelled (req->cancellable, error))
    return FALSE;
  if (req->local_errno != 0)
    {
      /* our own file: a retry reads or writes it again */
      *retry = req->local_errno != ENOSPC && req->local_errno != EDQUOT;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (req->local_errno),
                   _("S3 %s %s: local file: %s"), req->method,
                   req->key != NULL ? req->key : "", g_strerror (req->local_errno));
      return FALSE;
    }
  if (res != CURLE_OK)
    {
      *retry = curl_code_is_retryable (res);
      g_set_error (error, G_IO_ERROR, curl_code_to_io_error (res), _("S3 %s %s: %s"),
                   req->method, req->key != NULL ? req->key : "",
                   curl_error[0] != '\0' ? curl_error : runner_curl ()->easy_strerror (res));
      return FALSE;
    }
  if (req->status < 200 || req->status >= 300)
    {
      XmlReply reply = { 0 };

      if (req->response->len > 0)
        xml_walk ((const char *) req->response->data, req->response->len, xml_reply_leaf, &reply, NULL);
      *retry = status_is_retryable (req->status, reply.code);
      xml_reply_clear (&reply);
      set_status_error (req, error);
      return FALSE;
    }
  /* CopyObject and CompleteMultipartUpload may fail inside a 200 */
  if (req->out_fd < 0 && req->response->len > 0 &&
      g_strstr_len ((const char *) req->response->data, MIN (req->response->len, 256), "<Error>") != NULL)
    {
      req->status = 500;
      *retry = TRUE;
      set_status_error (req, error);
      return FALSE;
    }
  if (req->out_fd >= 0)
    {
      if (req->content_length >= 0 && req->out_written != req->content_length)
        {
          *retry = TRUE;
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                       _("S3 GET %s: short body"), req->key);
          return FALSE;
        }
      if (req->verify_md5 && req->etag != NULL && strlen (req->etag) == 32 &&
          g_ascii_strcasecmp (req->etag, g_checksum_get_string (req->out_md5)) != 0)
        {
          *retry = TRUE;
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("S3 GET %s: the content does not match its ETag"), req->key);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
wait_cancellable (GCancellable *cancellable,
                  guint         ms)
{
  GPollFD pfd;

  if (!g_cancellable_make_pollfd (cancellable, &pfd))
    {
      g_usleep ((gulong) ms * 1000);
      return FALSE;
    }
  g_poll (&pfd, 1, ms);
  g_cancellable_release_fd (cancellable);
  return g_cancellable_is_cancelled (cancellable);
}

/* Performs @req with retries: exponential back-off with jitter on 5xx,
 * SlowDown, time-outs and broken connections; never on 4xx. */
static gboolean
s3_request_perform (RunnerS3      *self,
                    S3Request     *req,
                    GCancellable  *cancellable,
                    GError       **error)
{
  req->cancellable = cancellable;

  for (guint attempt = 1;; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      gboolean retry;
      guint delay;

      if (s3_request_perform_once (self, req, &retry, &local_error))
        return TRUE;
      if (!retry || attempt >= self->max_attempts)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      delay = MIN (BACKOFF_CAP_MS, BACKOFF_BASE_MS << MIN (attempt - 1, 16));
      delay = delay / 2 + g_random_int_range (0, delay / 2 + 1);
      g_debug ("%s %s: %s; attempt %u again in %u ms", req->method,
               req->key != NULL ? req->key : "/", local_error->message, attempt + 1, delay);
      if (wait_cancellable (cancellable, delay))
        return !g_cancellable_set_error_if_cancelled (cancellable, error);
    }
}

/* ---------------------------------------------------------------- hashing */

/* MD5 of @len bytes of @fd from @offset (pread: the offset of @fd stays). */
static gboolean
md5_range (int           fd,
           gint64        offset,
           gint64        len,
           guint8        digest[16],
           GChecksum    *whole,
           GCancellable *cancellable,
           GError      **error)
{
  g_autoptr(GChecksum) md5 = g_checksum_new (G_CHECKSUM_MD5);
  g_autofree guint8 *buffer = g_malloc (256 * 1024);
  gsize digest_len = 16;

  while (len > 0)
    {
      ssize_t n = pread (fd, buffer, MIN (len, 256 * 1024), offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s", g_strerror (saved));
          return FALSE;
        }
      if (n == 0)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                               _("the file shrank while it was read"));
          return FALSE;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      g_checksum_update (md5, buffer, n);
      if (whole != NULL)
        g_checksum_update (whole, buffer, n);
      offset += n;
      len -= n;
    }
  g_checksum_get_digest (md5, digest, &digest_len);
  return TRUE;
}

static char *
hex_digest (const guint8 *digest,
            gsize         len)
{
  GString *out = g_string_sized_new (len * 2);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (out, "%02x", digest[i]);
  return g_string_free (out, FALSE);
}

static gint64
effective_part_size (gint64 size,
                     gint64 part_size)
{
  const gint64 mib = 1024 * 1024;

  if ((size + part_size - 1) / part_size > MAX_PARTS)
    part_size = ((size / MAX_PARTS) / mib + 1) * mib;
  return part_size;
}

/**
 * runner_s3_local_etag:
 * @fd: a file
 * @size: its size
 * @threshold: the multipart threshold it would be uploaded with
 * @part_size: the part size
 *
 * Computes the ETag S3 gives to @fd's content once uploaded: the MD5 in hex,
 * or for a multipart upload the MD5 of the parts' MD5s and `-N`.
 *
 * Returns: (transfer full): the ETag, or %NULL with @error set
 */
char *
runner_s3_local_etag (int            fd,
                      gint64         size,
                      gint64         threshold,
                      gint64         part_size,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autoptr(GChecksum) all = NULL;
  g_autofree char *hex = NULL;
  guint8 digest[16];
  guint parts = 0;

  g_return_val_if_fail (fd >= 0, NULL);
  g_return_val_if_fail (part_size > 0, NULL);

  if (size < threshold)
    {
      if (!md5_range (fd, 0, size, digest, NULL, cancellable, error))
        return NULL;
      return hex_digest (digest, sizeof digest);
    }

  part_size = effective_part_size (size, part_size);
  all = g_checksum_new (G_CHECKSUM_MD5);
  for (gint64 offset = 0; offset < size; offset += part_size, parts++)
    {
      if (!md5_range (fd, offset, MIN (part_size, size - offset), digest, NULL, cancellable, error))
        return NULL;
      g_checksum_update (all, digest, sizeof digest);
    }
  return g_strdup_printf ("%s-%u", g_checksum_get_string (all), parts);
}

/**
 * runner_s3_etag_matches:
 * @self: a #RunnerS3
 * @fd: a local file
 * @size: its size
 * @etag: an object's ETag
 *
 * Tells whether @fd holds what an object with @etag holds: by MD5 for a
 * single-part ETag; for a multipart one (`MD5-N`), by recomputing it with the
 * part sizes it may have been uploaded with (ours, the AWS CLI's 8 MiB, or
 * the size that gives N parts).
 */
gboolean
runner_s3_etag_matches (RunnerS3     *self,
                        int           fd,
                        gint64        size,
                        const char   *etag,
                        GCancellable *cancellable)
{
  const gint64 mib = 1024 * 1024;
  const char *dash;
  gint64 parts;
  gint64 candidates[4];

  g_return_val_if_fail (RUNNER_IS_S3 (self), FALSE);

  if (etag == NULL || etag[0] == '\0')
    return FALSE;
  dash = strchr (etag, '-');
  if (dash == NULL)
    {
      g_autofree char *local = runner_s3_local_etag (fd, size, G_MAXINT64, mib, cancellable, NULL);

      return local != NULL && g_ascii_strcasecmp (local, etag) == 0;
    }

  parts = g_ascii_strtoll (dash + 1, NULL, 10);
  if (parts <= 0 || size <= 0)
    return FALSE;
  candidates[0] = self->part_size;
  candidates[1] = 8 * mib;
  candidates[2] = ((size + parts - 1) / parts + mib - 1) / mib * mib;
  candidates[3] = (size + parts - 1) / parts;
  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      g_autofree char *local = NULL;
      gboolean seen = FALSE;

      for (guint j = 0; j < i; j++)
        seen |= candidates[j] == candidates[i];
      if (seen || candidates[i] <= 0 || (size + candidates[i] - 1) / candidates[i] != parts)
        continue;
      local = runner_s3_local_etag (fd, size, 0, candidates[i], cancellable, NULL);
      if (local != NULL && g_ascii_strcasecmp (local, etag) == 0)
        return TRUE;
    }
  return FALSE;
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
 * Downloads @key into @name atomically: into a temporary file beside it,
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
  S3Request req;
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
      g_free (tmp);
      tmp = g_strdup_printf ("%s.%s.s3-%08x", dir, base, g_random_int ());
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

  s3_request_init (&req, "GET", key);
  req.out_fd = fd;
  req.verify_md5 = TRUE;
  ok = s3_request_perform (self, &req, cancellable, error);
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
  s3_request_clear (&req);
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
  S3Request req;
  guint8 digest[16];
  gboolean ok;

  if (!md5_range (fd, offset, len, digest, whole, cancellable, error))
    return FALSE;
  md5_b64 = g_base64_encode (digest, sizeof digest);
  md5_hex = hex_digest (digest, sizeof digest);

  s3_request_init (&req, "PUT", key);
  if (part_number != NULL)
    {
      s3_request_add_query (&req, "partNumber", part_number);
      s3_request_add_query (&req, "uploadId", upload_id);
    }
  s3_request_add_header (&req, "content-md5", md5_b64);
  req.body_fd = fd;
  req.body_offset = offset;
  req.body_length = len;
  ok = s3_request_perform (self, &req, cancellable, error);
  if (ok && req.etag != NULL && g_ascii_strcasecmp (req.etag, md5_hex) != 0)
    {
      ok = FALSE;
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_FAILED,
                   _("S3 PUT %s: the stored ETag %s is not the MD5 %s of what was sent"),
                   key, req.etag, md5_hex);
    }
  if (ok)
    *etag = g_strdup (md5_hex);
  s3_request_clear (&req);
  return ok;
}

static gboolean
multipart_abort (RunnerS3   *self,
                 const char *key,
                 const char *upload_id)
{
  g_autoptr(GError) error = NULL;
  S3Request req;
  gboolean ok;

  s3_request_init (&req, "DELETE", key);
  s3_request_add_query (&req, "uploadId", upload_id);
  /* not cancellable: it cleans up after a cancelled upload */
  ok = s3_request_perform (self, &req, NULL, &error);
  if (!ok)
    g_message ("Cannot abort the multipart upload of %s: %s", key, error->message);
  s3_request_clear (&req);
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
  gint64 part_size = effective_part_size (size, self->part_size);
  g_autoptr(GString) xml = g_string_new ("<CompleteMultipartUpload>");
  g_autoptr(GChecksum) all = g_checksum_new (G_CHECKSUM_MD5);
  g_autoptr(GChecksum) whole = g_checksum_new (G_CHECKSUM_MD5);
  g_autofree char *upload_id = NULL;
  g_autofree char *expected = NULL;
  XmlReply reply = { 0 };
  S3Request req;
  guint part = 0;
  gboolean ok;

  s3_request_init (&req, "POST", key);
  s3_request_add_query (&req, "uploads", "");
  ok = s3_request_perform (self, &req, cancellable, error) &&
       xml_walk ((const char *) req.response->data, req.response->len, xml_reply_leaf, &reply, error);
  s3_request_clear (&req);
  upload_id = g_steal_pointer (&reply.upload_id);
  xml_reply_clear (&reply);
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

  s3_request_init (&req, "POST", key);
  s3_request_add_query (&req, "uploadId", upload_id);
  req.body = g_bytes_new (xml->str, xml->len);
  ok = s3_request_perform (self, &req, cancellable, error) &&
       xml_walk ((const char *) req.response->data, req.response->len, xml_reply_leaf, &reply, error);
  s3_request_clear (&req);
  /* S3 says MD5-of-MD5s-N; some servers (s3rver) the MD5 of the whole */
  if (ok && reply.etag != NULL && g_ascii_strcasecmp (reply.etag, expected) != 0 &&
      g_ascii_strcasecmp (reply.etag, g_checksum_get_string (whole)) != 0)
    {
      ok = FALSE;
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_FAILED,
                   _("S3 multipart %s: ETag %s, expected %s"), key, reply.etag, expected);
    }
  if (ok && reply.etag != NULL)
    set_str (&expected, reply.etag);
  xml_reply_clear (&reply);
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
  S3Request req;
  gboolean ok;
  gsize len;
  gconstpointer data;

  g_return_val_if_fail (RUNNER_IS_S3 (self), FALSE);
  g_return_val_if_fail (key != NULL && content != NULL, FALSE);

  data = g_bytes_get_data (content, &len);
  md5_hex = g_compute_checksum_for_data (G_CHECKSUM_MD5, data, len);
  s3_request_init (&req, "PUT", key);
  req.body = g_bytes_ref (content);
  ok = s3_request_perform (self, &req, cancellable, error);
  if (ok && object != NULL)
    *object = runner_s3_object_new (key, len, req.etag != NULL ? req.etag : md5_hex);
  s3_request_clear (&req);
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
  S3Request req;

  g_return_val_if_fail (RUNNER_IS_S3 (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  s3_request_init (&req, "HEAD", key);
  if (s3_request_perform (self, &req, cancellable, error))
    object = runner_s3_object_new (key, req.content_length, req.etag);
  s3_request_clear (&req);
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
  S3Request req;
  gboolean ok;

  g_return_val_if_fail (RUNNER_IS_S3 (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  s3_request_init (&req, "DELETE", key);
  ok = s3_request_perform (self, &req, cancellable, &local_error);
  s3_request_clear (&req);
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
  XmlReply reply = { 0 };
  S3Request req;
  gboolean ok;

  g_return_val_if_fail (RUNNER_IS_S3 (self), FALSE);
  g_return_val_if_fail (from_key != NULL && to_key != NULL, FALSE);

  source_key = runner_s3_uri_encode (from_key, TRUE);
  source = g_strconcat ("/", self->bucket, "/", source_key, NULL);
  s3_request_init (&req, "PUT", to_key);
  s3_request_add_header (&req, "x-amz-copy-source", source);
  req.body = g_bytes_new_static ("", 0);
  ok = s3_request_perform (self, &req, cancellable, error) &&
       xml_walk ((const char *) req.response->data, req.response->len, xml_reply_leaf, &reply, error);
  if (ok && object != NULL)
    *object = runner_s3_object_new (to_key, -1, reply.etag);
  xml_reply_clear (&reply);
  s3_request_clear (&req);
  return ok;
}

typedef struct
{
  GPtrArray *objects;
  char      *key;
  char      *etag;
  gint64     size;
  gboolean   truncated;
  char      *token;
} ListPage;

static void
list_leaf (const char *path,
           const char *text,
           gpointer    user_data)
{
  ListPage *page = user_data;

  if (g_str_equal (path, "ListBucketResult/Contents/Key"))
    set_str (&page->key, text);
  else if (g_str_equal (path, "ListBucketResult/Contents/ETag"))
    {
      g_free (page->etag);
      page->etag = unquote_etag (text);
    }
  else if (g_str_equal (path, "ListBucketResult/Contents/Size"))
    page->size = g_ascii_strtoll (text, NULL, 10);
  else if (g_str_equal (path, "ListBucketResult/Contents"))
    {
      if (page->key != NULL)
        g_ptr_array_add (page->objects, runner_s3_object_new (page->key, page->size, page->etag));
      g_clear_pointer (&page->key, g_free);
      g_clear_pointer (&page->etag, g_free);
      page->size = 0;
    }
  else if (g_str_equal (path, "ListBucketResult/IsTruncated"))
    page->truncated = g_str_equal (text, "true");
  else if (g_str_equal (path, "ListBucketResult/NextContinuationToken"))
    set_str (&page->token, text);
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
      ListPage page = { objects, NULL, NULL, 0, FALSE, NULL };
      S3Request req;
      gboolean ok;

      s3_request_init (&req, "GET", NULL);
      s3_request_add_query (&req, "list-type", "2");
      if (prefix != NULL && prefix[0] != '\0')
        s3_request_add_query (&req, "prefix", prefix);
      if (token != NULL)
        s3_request_add_query (&req, "continuation-token", token);
      ok = s3_request_perform (self, &req, cancellable, error) &&
           xml_walk ((const char *) req.response->data, req.response->len, list_leaf, &page, error);
      s3_request_clear (&req);
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

/* The profile's keys in an AWS shared credentials file (INI). */
static GHashTable *
read_credentials_file (const char *path,
                       const char *profile)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GHashTable *values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gboolean in_profile = FALSE;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return values;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      char *eq;

      if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
        continue;
      if (line[0] == '[')
        {
          char *end = strchr (line, ']');
          g_autofree char *name = NULL;

          if (end == NULL)
            continue;
          name = g_strstrip (g_strndup (line + 1, end - line - 1));
          in_profile = g_str_equal (name, profile);
          continue;
        }
      eq = strchr (line, '=');
      if (!in_profile || eq == NULL)
        continue;
      *eq = '\0';
      g_hash_table_replace (values, g_strdup (g_strstrip (line)), g_strdup (g_strstrip (eq + 1)));
    }
  return values;
}

static gboolean
find_credentials (char   **access_key,
                  char   **secret_key,
                  char   **session_token,
                  GError **error)
{
  const char *env_key = g_getenv ("AWS_ACCESS_KEY_ID");
  const char *env_secret = g_getenv ("AWS_SECRET_ACCESS_KEY");
  g_autofree char *path = NULL;
  g_autoptr(GHashTable) values = NULL;
  const char *profile;

  if (env_key != NULL && env_key[0] != '\0' && env_secret != NULL && env_secret[0] != '\0')
    {
      const char *token = g_getenv ("AWS_SESSION_TOKEN");

      *access_key = g_strdup (env_key);
      *secret_key = g_strdup (env_secret);
      *session_token = token != NULL && token[0] != '\0' ? g_strdup (token) : NULL;
      return TRUE;
    }

  path = g_strdup (g_getenv ("AWS_SHARED_CREDENTIALS_FILE"));
  if (path == NULL || path[0] == '\0')
    {
      g_free (path);
      path = g_build_filename (g_get_home_dir (), ".aws", "credentials", NULL);
    }
  profile = g_getenv ("AWS_PROFILE");
  if (profile == NULL || profile[0] == '\0')
    profile = "default";
  values = read_credentials_file (path, profile);
  if (g_hash_table_contains (values, "aws_access_key_id") &&
      g_hash_table_contains (values, "aws_secret_access_key"))
    {
      *access_key = g_strdup (g_hash_table_lookup (values, "aws_access_key_id"));
      *secret_key = g_strdup (g_hash_table_lookup (values, "aws_secret_access_key"));
      *session_token = g_strdup (g_hash_table_lookup (values, "aws_session_token"));
      return TRUE;
    }

  g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_AUTH,
               _("No AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                 "or profile “%s” in %s"), profile, path);
  return FALSE;
}

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

  g_return_val_if_fail (bucket != NULL, NULL);
  g_return_val_if_fail (access_key != NULL && secret_key != NULL, NULL);

  if (bucket[0] == '\0' || strchr (bucket, '/') != NULL)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID, _("Invalid S3 bucket name “%s”"), bucket);
      return NULL;
    }
  if (!runner_curl_load (error))
    return NULL;

  self = g_object_new (RUNNER_TYPE_S3, NULL);
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

  if (!find_credentials (&access_key, &secret_key, &session_token, error))
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
