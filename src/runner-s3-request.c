/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-s3"

#include "config.h"

#include "runner-s3-private.h"

#include <errno.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "runner-error.h"

/*
 * One S3 request on libcurl's easy interface, on a transfer thread: its
 * headers and SigV4 signature, the body streamed from memory or a file
 * range, the reply into memory or a file, and the retries with back-off.
 */

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_RESPONSE (16 * 1024 * 1024)
#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 5000

/* One thread's easy handle, reused so that its connection stays open. */
static GPrivate thread_curl = G_PRIVATE_INIT ((GDestroyNotify) runner_curl_easy_cleanup);

/**
 * runner_s3_request_init:
 * @req: a request on the stack
 * @method: the HTTP method, a static string
 * @key: (nullable): the object key (not copied), or %NULL for the bucket
 *
 * Prepares @req; free what it holds with runner_s3_request_clear().
 */
void
runner_s3_request_init (RunnerS3Request *req,
                        const char      *method,
                        const char      *key)
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

void
runner_s3_request_clear (RunnerS3Request *req)
{
  g_clear_pointer (&req->query, g_ptr_array_unref);
  g_clear_pointer (&req->headers, g_ptr_array_unref);
  g_clear_pointer (&req->body, g_bytes_unref);
  g_clear_pointer (&req->out_md5, g_checksum_free);
  g_clear_pointer (&req->response, g_byte_array_unref);
  g_clear_pointer (&req->etag, g_free);
}

/* Adds a query parameter; @name and @value are percent-encoded here. */
void
runner_s3_request_add_query (RunnerS3Request *req,
                             const char      *name,
                             const char      *value)
{
  g_autofree char *n = runner_s3_uri_encode (name, FALSE);
  g_autofree char *v = runner_s3_uri_encode (value != NULL ? value : "", FALSE);

  g_ptr_array_add (req->query, g_strconcat (n, "=", v, NULL));
}

/* Adds a header to send and sign; @name in lower case. */
void
runner_s3_request_add_header (RunnerS3Request *req,
                              const char      *name,
                              const char      *value)
{
  g_ptr_array_add (req->headers, g_strconcat (name, ":", value, NULL));
}

static size_t
on_write (char   *ptr,
          size_t  size,
          size_t  nmemb,
          void   *user_data)
{
  RunnerS3Request *req = user_data;
  size_t len = size * nmemb;

  if (req->status == 0)
    req->libcurl->easy_getinfo (req->curl, CURLINFO_RESPONSE_CODE, &req->status);

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
  RunnerS3Request *req = user_data;
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
      req->etag = runner_s3_unquote_etag (copy + 5);
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
  RunnerS3Request *req = user_data;
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
  RunnerS3Request *req = user_data;

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
  RunnerS3Request *req = user_data;

  return g_cancellable_is_cancelled (req->cancellable) ? 1 : 0;
}

static char *
s3_request_path (RunnerS3        *self,
                 RunnerS3Request *req)
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

/* Signs @req (SigV4, at this instant) and lists the headers to send. */
static struct curl_slist *
s3_request_sign (RunnerS3        *self,
                 RunnerS3Request *req,
                 const char      *path)
{
  const RunnerCurl *libcurl = self->libcurl;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *amz_date = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  g_autofree char *payload = NULL;
  g_autofree char *authorization = NULL;
  g_autoptr(GPtrArray) headers = g_ptr_array_new_with_free_func (g_free);
  RunnerS3SigV4Request request = { 0 };
  RunnerS3Signature signature;
  struct curl_slist *list = NULL;

  if (req->body != NULL)
    {
      gsize len;
      gconstpointer data = g_bytes_get_data (req->body, &len);

      payload = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
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
  g_ptr_array_add (headers, NULL);
  g_ptr_array_add (req->query, NULL);

  request.method = req->method;
  request.path = path;
  request.query = (const char * const *) req->query->pdata;
  request.headers = (const char * const *) headers->pdata;
  request.payload_hash = payload;
  request.amz_date = amz_date;
  request.region = self->region;
  request.service = "s3";
  request.access_key = self->access_key;
  request.secret_key = self->secret_key;
  runner_s3_sigv4_sign (&request, &signature);
  g_ptr_array_remove_index (req->query, req->query->len - 1);

  for (guint i = 0; i < signature.headers->len; i++)
    {
      const char *h = signature.headers->pdata[i];
      gsize name_len = strcspn (h, ":");
      /* "Name: value" on the wire (curl wants "Name;" for an empty value) */
      g_autofree char *line = h[name_len + 1] == '\0'
                              ? g_strdup_printf ("%.*s;", (int) name_len, h)
                              : g_strdup_printf ("%.*s: %s", (int) name_len, h, h + name_len + 1);

      list = libcurl->slist_append (list, line);
    }
  authorization = g_strconcat ("Authorization: ", signature.authorization, NULL);
  runner_s3_signature_clear (&signature);
  list = libcurl->slist_append (list, authorization);
  list = libcurl->slist_append (list, "Expect:");
  if (req->body != NULL && g_str_equal (req->method, "POST"))
    list = libcurl->slist_append (list, "Content-Type: application/xml");
  else if (g_str_equal (req->method, "POST"))
    list = libcurl->slist_append (list, "Content-Type:");
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
set_status_error (RunnerS3Request  *req,
                  GError          **error)
{
  RunnerS3XmlReply reply = { 0 };
  const char *what;

  if (req->response->len > 0)
    runner_s3_xml_walk ((const char *) req->response->data, req->response->len, runner_s3_xml_reply_leaf, &reply, NULL);
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
  runner_s3_xml_reply_clear (&reply);
}

static CURL *
thread_easy_handle (const RunnerCurl *libcurl)
{
  CURL *curl = g_private_get (&thread_curl);

  if (curl == NULL)
    {
      curl = libcurl->easy_init ();
      g_private_set (&thread_curl, curl);
    }
  else
    libcurl->easy_reset (curl);
  return curl;
}

static void
s3_request_reset_output (RunnerS3Request *req)
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
s3_request_perform_once (RunnerS3         *self,
                         RunnerS3Request  *req,
                         gboolean         *retry,
                         GError          **error)
{
  const RunnerCurl *libcurl = self->libcurl;
  g_autofree char *path = s3_request_path (self, req);
  g_autofree char *query = NULL;
  g_autofree char *url = NULL;
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

  g_ptr_array_add (req->query, NULL);
  query = runner_s3_sigv4_canonical_query ((const char * const *) req->query->pdata);
  g_ptr_array_remove_index (req->query, req->query->len - 1);
  url = g_strconcat (self->origin, path, query[0] != '\0' ? "?" : "", query, NULL);

  req->libcurl = libcurl;
  req->curl = thread_easy_handle (libcurl);
  headers = s3_request_sign (self, req, path);

  libcurl->easy_setopt (req->curl, CURLOPT_URL, url);
  libcurl->easy_setopt (req->curl, CURLOPT_HTTPHEADER, headers);
  libcurl->easy_setopt (req->curl, CURLOPT_NOSIGNAL, 1L);
  libcurl->easy_setopt (req->curl, CURLOPT_ERRORBUFFER, curl_error);
  libcurl->easy_setopt (req->curl, CURLOPT_CONNECTTIMEOUT, 15L);
  /* a stalled transfer (under 1 byte/s for a minute) is a failed one */
  libcurl->easy_setopt (req->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  libcurl->easy_setopt (req->curl, CURLOPT_LOW_SPEED_TIME, 60L);
  libcurl->easy_setopt (req->curl, CURLOPT_WRITEFUNCTION, on_write);
  libcurl->easy_setopt (req->curl, CURLOPT_WRITEDATA, req);
  libcurl->easy_setopt (req->curl, CURLOPT_HEADERFUNCTION, on_header);
  libcurl->easy_setopt (req->curl, CURLOPT_HEADERDATA, req);
  libcurl->easy_setopt (req->curl, CURLOPT_NOPROGRESS, 0L);
  libcurl->easy_setopt (req->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  libcurl->easy_setopt (req->curl, CURLOPT_XFERINFODATA, req);

  if (req->body != NULL)
    req->body_length = g_bytes_get_size (req->body);
  if (g_str_equal (req->method, "PUT"))
    {
      libcurl->easy_setopt (req->curl, CURLOPT_UPLOAD, 1L);
      libcurl->easy_setopt (req->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t) req->body_length);
    }
  else if (g_str_equal (req->method, "POST"))
    {
      libcurl->easy_setopt (req->curl, CURLOPT_POST, 1L);
      libcurl->easy_setopt (req->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_length);
    }
  else if (g_str_equal (req->method, "HEAD"))
    libcurl->easy_setopt (req->curl, CURLOPT_NOBODY, 1L);
  else if (!g_str_equal (req->method, "GET"))
    libcurl->easy_setopt (req->curl, CURLOPT_CUSTOMREQUEST, req->method);
  libcurl->easy_setopt (req->curl, CURLOPT_READFUNCTION, on_read);
  libcurl->easy_setopt (req->curl, CURLOPT_READDATA, req);
  libcurl->easy_setopt (req->curl, CURLOPT_SEEKFUNCTION, on_seek);
  libcurl->easy_setopt (req->curl, CURLOPT_SEEKDATA, req);

  res = libcurl->easy_perform (req->curl);
  libcurl->easy_setopt (req->curl, CURLOPT_HTTPHEADER, NULL);
  libcurl->easy_setopt (req->curl, CURLOPT_ERRORBUFFER, NULL);
  libcurl->slist_free_all (headers);
  libcurl->easy_getinfo (req->curl, CURLINFO_RESPONSE_CODE, &req->status);
  req->curl = NULL;
  req->libcurl = NULL;

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
                   curl_error[0] != '\0' ? curl_error : libcurl->easy_strerror (res));
      return FALSE;
    }
  if (req->status < 200 || req->status >= 300)
    {
      RunnerS3XmlReply reply = { 0 };

      if (req->response->len > 0)
        runner_s3_xml_walk ((const char *) req->response->data, req->response->len, runner_s3_xml_reply_leaf, &reply, NULL);
      *retry = status_is_retryable (req->status, reply.code);
      runner_s3_xml_reply_clear (&reply);
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

/**
 * runner_s3_request_perform:
 *
 * Performs @req with retries: exponential back-off with jitter on 5xx,
 * SlowDown, time-outs and broken connections; never on 4xx. Blocking: on a
 * transfer thread.
 *
 * Returns: %TRUE on a 2xx answer, else %FALSE with @error set
 */
gboolean
runner_s3_request_perform (RunnerS3         *self,
                           RunnerS3Request  *req,
                           GCancellable     *cancellable,
                           GError          **error)
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
