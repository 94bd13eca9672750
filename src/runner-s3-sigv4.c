/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-s3"

#include "config.h"

#include "runner-s3-private.h"

/*
 * AWS Signature Version 4, as pure functions of their inputs: no clock, no
 * network, no libcurl, so that AWS's published test vectors check them
 * (tests/test-sigv4.c).
 */

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

/**
 * runner_s3_sigv4_canonical_query:
 * @pairs: (nullable) (array zero-terminated=1): "name=value" pairs, both
 *   already percent-encoded, in any order
 *
 * Returns: (transfer full): the pairs sorted by name, then value, joined
 *   with `&` ("" for none): SigV4's canonical query, and the URL's
 */
char *
runner_s3_sigv4_canonical_query (const char * const *pairs)
{
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();

  for (guint i = 0; pairs != NULL && pairs[i] != NULL; i++)
    g_ptr_array_add (sorted, (gpointer) pairs[i]);
  g_ptr_array_sort (sorted, compare_pairs);
  g_ptr_array_add (sorted, NULL);
  return g_strjoinv ("&", (char **) sorted->pdata);
}

/* "Name:  a   b " → "name:a b": the name in lower case, the value trimmed,
 * each run of spaces one space. */
static char *
canonical_header (const char *header)
{
  gsize name_len = strcspn (header, ":");
  g_autofree char *name = g_strstrip (g_strndup (header, name_len));
  const char *value = header[name_len] == ':' ? header + name_len + 1 : "";
  GString *out = g_string_new (NULL);
  gboolean space = FALSE;

  g_string_append (out, name);
  g_string_ascii_down (out);
  g_string_append_c (out, ':');
  while (g_ascii_isspace (*value))
    value++;
  for (; *value != '\0'; value++)
    {
      if (g_ascii_isspace (*value))
        {
          space = TRUE;
          continue;
        }
      if (space)
        g_string_append_c (out, ' ');
      space = FALSE;
      g_string_append_c (out, *value);
    }
  return g_string_free (out, FALSE);
}

/**
 * runner_s3_sigv4_sign:
 * @request: what to sign
 * @signature: (out caller-allocates): the result; free its fields with
 *   runner_s3_signature_clear()
 *
 * Signs @request with AWS Signature Version 4 (AWS4-HMAC-SHA256): builds the
 * canonical request (header names in lower case, values trimmed, repeated
 * names joined with commas), the string to sign with the scope
 * `DATE/REGION/SERVICE/aws4_request`, derives the signing key from the
 * secret and signs. A pure function: the same input, the same output.
 */
void
runner_s3_sigv4_sign (const RunnerS3SigV4Request *request,
                      RunnerS3Signature          *signature)
{
  g_autoptr(GPtrArray) sorted = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) canonical = g_string_new (NULL);
  g_autoptr(GString) signed_names = g_string_new (NULL);
  g_autofree char *query = runner_s3_sigv4_canonical_query (request->query);
  g_autofree char *date = g_strndup (request->amz_date, 8);
  g_autofree char *scope = NULL;
  g_autofree char *canonical_hash = NULL;
  g_autofree char *secret = NULL;
  guint8 key[32];

  g_return_if_fail (request->amz_date != NULL && strlen (request->amz_date) >= 8);

  memset (signature, 0, sizeof *signature);
  signature->headers = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; request->headers[i] != NULL; i++)
    g_ptr_array_add (sorted, canonical_header (request->headers[i]));
  /* stable: the values of a repeated name stay in their order */
  g_ptr_array_sort (sorted, compare_headers);
  for (guint i = 0; i < sorted->len; i++)
    {
      const char *h = sorted->pdata[i];
      gsize name_len = strcspn (h, ":");
      char *last = signature->headers->len > 0
                   ? signature->headers->pdata[signature->headers->len - 1] : NULL;

      if (last != NULL && strcspn (last, ":") == name_len && strncmp (last, h, name_len) == 0)
        {
          signature->headers->pdata[signature->headers->len - 1] = g_strconcat (last, ",", h + name_len + 1, NULL);
          g_free (last);
          continue;
        }
      g_ptr_array_add (signature->headers, g_strdup (h));
      if (signed_names->len > 0)
        g_string_append_c (signed_names, ';');
      g_string_append_len (signed_names, h, name_len);
    }

  g_string_append_printf (canonical, "%s\n%s\n%s\n", request->method, request->path, query);
  for (guint i = 0; i < signature->headers->len; i++)
    g_string_append_printf (canonical, "%s\n", (const char *) signature->headers->pdata[i]);
  g_string_append_printf (canonical, "\n%s\n%s", signed_names->str, request->payload_hash);

  scope = g_strdup_printf ("%s/%s/%s/aws4_request", date, request->region, request->service);
  canonical_hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, canonical->str, canonical->len);
  signature->string_to_sign = g_strdup_printf ("AWS4-HMAC-SHA256\n%s\n%s\n%s",
                                               request->amz_date, scope, canonical_hash);

  secret = g_strconcat ("AWS4", request->secret_key, NULL);
  hmac_sha256 ((const guint8 *) secret, strlen (secret), date, key);
  memset (secret, 0, strlen (secret));
  hmac_sha256 (key, sizeof key, request->region, key);
  hmac_sha256 (key, sizeof key, request->service, key);
  hmac_sha256 (key, sizeof key, "aws4_request", key);
  {
    g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, key, sizeof key);

    g_hmac_update (hmac, (const guchar *) signature->string_to_sign, -1);
    signature->signature = g_strdup (g_hmac_get_string (hmac));
  }
  memset (key, 0, sizeof key);

  signature->canonical_request = g_string_free (g_steal_pointer (&canonical), FALSE);
  signature->signed_headers = g_string_free (g_steal_pointer (&signed_names), FALSE);
  signature->authorization = g_strdup_printf ("AWS4-HMAC-SHA256 Credential=%s/%s, "
                                              "SignedHeaders=%s, Signature=%s",
                                              request->access_key, scope,
                                              signature->signed_headers, signature->signature);
}

/**
 * runner_s3_signature_clear:
 *
 * Frees the fields of a #RunnerS3Signature from runner_s3_sigv4_sign().
 */
void
runner_s3_signature_clear (RunnerS3Signature *signature)
{
  g_clear_pointer (&signature->canonical_request, g_free);
  g_clear_pointer (&signature->string_to_sign, g_free);
  g_clear_pointer (&signature->signed_headers, g_free);
  g_clear_pointer (&signature->signature, g_free);
  g_clear_pointer (&signature->authorization, g_free);
  g_clear_pointer (&signature->headers, g_ptr_array_unref);
}
