/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include "runner-curl.h"
#include "runner-s3.h"

G_BEGIN_DECLS

/*
 * RunnerS3 spans several files, each owning one concern (see runner-s3.c);
 * this header is what they share.
 */

struct _RunnerS3
{
  GObject           parent_instance;

  const RunnerCurl *libcurl;        /* loaded with the client, never NULL */
  char             *bucket;
  char             *region;
  char             *origin;         /* scheme://authority */
  char             *host;           /* the Host header */
  char             *base_path;      /* "" or "/bucket" (path-style), no trailing slash */
  char             *access_key;
  char             *secret_key;
  char             *session_token;  /* nullable */

  guint             parallel;
  gint64            threshold;
  gint64            part_size;
  guint             max_attempts;
  GThreadPool      *pool;           /* owned */
};

/* g_set_str() is GLib 2.76 */
static inline void
runner_s3_set_str (char       **slot,
                   const char  *value)
{
  g_free (*slot);
  *slot = g_strdup (value);
}

/* ---------------------------------------------------------------- runner-s3-sigv4.c */

/**
 * RunnerS3SigV4Request:
 * @method: the HTTP method
 * @path: the canonical URI: the path, percent-encoded (runner_s3_uri_encode())
 * @query: (nullable) (array zero-terminated=1): "name=value" pairs, both
 *   percent-encoded, in any order
 * @headers: (array zero-terminated=1): "Name:value" headers to sign, in any
 *   order and case
 * @payload_hash: the hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`
 * @amz_date: the instant, as in x-amz-date: `20150830T123600Z`
 * @region: the region, `us-east-1`
 * @service: the service, `s3`
 * @access_key: the access key id
 * @secret_key: the secret
 *
 * Everything a SigV4 signature depends on.
 */
typedef struct
{
  const char         *method;
  const char         *path;
  const char * const *query;
  const char * const *headers;
  const char         *payload_hash;
  const char         *amz_date;
  const char         *region;
  const char         *service;
  const char         *access_key;
  const char         *secret_key;
} RunnerS3SigV4Request;

/**
 * RunnerS3Signature:
 * @canonical_request: the canonical request that was signed
 * @string_to_sign: the string to sign
 * @signed_headers: the names of the signed headers, `host;x-amz-date`
 * @signature: the signature, in hex
 * @authorization: the value of the Authorization header
 * @headers: (element-type utf8): the canonical headers, "name:value",
 *   sorted; they are the ones to send
 */
typedef struct
{
  char      *canonical_request;
  char      *string_to_sign;
  char      *signed_headers;
  char      *signature;
  char      *authorization;
  GPtrArray *headers;
} RunnerS3Signature;

char *runner_s3_sigv4_canonical_query (const char * const         *pairs);
void  runner_s3_sigv4_sign            (const RunnerS3SigV4Request *request,
                                       RunnerS3Signature          *signature);
void  runner_s3_signature_clear       (RunnerS3Signature          *signature);

/* ---------------------------------------------------------------- runner-s3-xml.c */

typedef void (*RunnerS3XmlLeafFunc) (const char *path,
                                     const char *text,
                                     gpointer    user_data);

gboolean runner_s3_xml_walk (const char           *xml,
                             gsize                 len,
                             RunnerS3XmlLeafFunc   func,
                             gpointer              user_data,
                             GError              **error);

/* What runner_s3_xml_reply_leaf() picks from an error or a reply. */
typedef struct
{
  char *code;
  char *message;
  char *etag;
  char *upload_id;
} RunnerS3XmlReply;

void runner_s3_xml_reply_leaf  (const char       *path,
                                const char       *text,
                                gpointer          user_data);
void runner_s3_xml_reply_clear (RunnerS3XmlReply *reply);

/* One page of ListObjectsV2, for runner_s3_xml_list_leaf(). */
typedef struct
{
  GPtrArray *objects;    /* where the page's RunnerS3Object go */
  char      *key;        /* the <Contents> being read */
  char      *etag;
  gint64     size;
  gboolean   truncated;
  char      *token;      /* NextContinuationToken */
} RunnerS3XmlListPage;

void  runner_s3_xml_list_leaf (const char *path,
                               const char *text,
                               gpointer    user_data);
char *runner_s3_unquote_etag  (const char *etag);

/* ---------------------------------------------------------------- runner-s3-etag.c */

gboolean runner_s3_md5_range           (int            fd,
                                        gint64         offset,
                                        gint64         len,
                                        guint8         digest[16],
                                        GChecksum     *whole,
                                        GCancellable  *cancellable,
                                        GError       **error);
char    *runner_s3_hex_digest          (const guint8  *digest,
                                        gsize          len);
gint64   runner_s3_effective_part_size (gint64         size,
                                        gint64         part_size);

/* ---------------------------------------------------------------- runner-s3-credentials.c */

gboolean runner_s3_find_credentials (char   **access_key,
                                     char   **secret_key,
                                     char   **session_token,
                                     GError **error);

/* ---------------------------------------------------------------- runner-s3-request.c */

/* One request, on the stack of a transfer thread. */
typedef struct
{
  /* what to send */
  const char       *method;
  const char       *key;            /* NULL: the bucket itself */
  GPtrArray        *query;          /* "name=value", both already encoded */
  GPtrArray        *headers;        /* "name:value", names lower-case; signed */
  GBytes           *body;           /* memory body (signed payload) */
  int               body_fd;        /* or a file range (UNSIGNED-PAYLOAD) */
  gint64            body_offset;
  gint64            body_length;
  int               out_fd;         /* -1: the reply goes to @response */
  gboolean          verify_md5;     /* a download checks its MD5 against the ETag */

  /* during a transfer */
  const RunnerCurl *libcurl;
  CURL             *curl;
  GCancellable     *cancellable;
  gint64            body_pos;
  int               local_errno;    /* a failed read or write of a local file */
  GChecksum        *out_md5;
  gint64            out_written;

  /* what came back */
  long              status;
  GByteArray       *response;
  char             *etag;
  gint64            content_length;
} RunnerS3Request;

void     runner_s3_request_init       (RunnerS3Request  *req,
                                       const char       *method,
                                       const char       *key);
void     runner_s3_request_clear      (RunnerS3Request  *req);
void     runner_s3_request_add_query  (RunnerS3Request  *req,
                                       const char       *name,
                                       const char       *value);
void     runner_s3_request_add_header (RunnerS3Request  *req,
                                       const char       *name,
                                       const char       *value);
gboolean runner_s3_request_perform    (RunnerS3         *self,
                                       RunnerS3Request  *req,
                                       GCancellable     *cancellable,
                                       GError          **error);

G_END_DECLS
