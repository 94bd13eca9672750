/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-s3"

#include "config.h"

#include "runner-s3-private.h"

/* S3's XML replies (errors, multipart uploads, listings), read with GMarkup
 * as a walk over the elements: each leaf function picks what it knows. */

typedef struct
{
  GString             *path;
  GString             *text;
  RunnerS3XmlLeafFunc  func;
  gpointer             user_data;
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

/**
 * runner_s3_xml_walk:
 *
 * Calls @func with the path ("A/B/C") and text of every element as it closes.
 *
 * Returns: %TRUE if @xml is well-formed, else %FALSE with @error set
 */
gboolean
runner_s3_xml_walk (const char           *xml,
                    gsize                 len,
                    RunnerS3XmlLeafFunc   func,
                    gpointer              user_data,
                    GError              **error)
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

void
runner_s3_xml_reply_clear (RunnerS3XmlReply *reply)
{
  g_clear_pointer (&reply->code, g_free);
  g_clear_pointer (&reply->message, g_free);
  g_clear_pointer (&reply->etag, g_free);
  g_clear_pointer (&reply->upload_id, g_free);
}

char *
runner_s3_unquote_etag (const char *etag)
{
  g_autofree char *copy = g_strstrip (g_strdup (etag));
  gsize len = strlen (copy);

  if (len >= 2 && copy[0] == '"' && copy[len - 1] == '"')
    return g_strndup (copy + 1, len - 2);
  return g_steal_pointer (&copy);
}

/* A RunnerS3XmlLeafFunc for an error or a reply with an ETag or UploadId. */
void
runner_s3_xml_reply_leaf (const char *path,
                          const char *text,
                          gpointer    user_data)
{
  RunnerS3XmlReply *reply = user_data;
  const char *leaf = strrchr (path, '/');

  if (leaf == NULL)
    return;
  leaf++;
  if (g_str_has_prefix (path, "Error/"))
    {
      if (g_str_equal (leaf, "Code"))
        runner_s3_set_str (&reply->code, text);
      else if (g_str_equal (leaf, "Message"))
        runner_s3_set_str (&reply->message, text);
    }
  else if (g_str_equal (leaf, "ETag"))
    {
      g_free (reply->etag);
      reply->etag = runner_s3_unquote_etag (text);
    }
  else if (g_str_equal (leaf, "UploadId"))
    runner_s3_set_str (&reply->upload_id, text);
}

/* A RunnerS3XmlLeafFunc for a page of ListObjectsV2. */
void
runner_s3_xml_list_leaf (const char *path,
                         const char *text,
                         gpointer    user_data)
{
  RunnerS3XmlListPage *page = user_data;

  if (g_str_equal (path, "ListBucketResult/Contents/Key"))
    runner_s3_set_str (&page->key, text);
  else if (g_str_equal (path, "ListBucketResult/Contents/ETag"))
    {
      g_free (page->etag);
      page->etag = runner_s3_unquote_etag (text);
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
    runner_s3_set_str (&page->token, text);
}
