/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-request"

#include "config.h"

#include "runner-request.h"
#include "runner-error.h"
#include "runner-json.h"
#include "runner-message.h"
#include "runner-utf8.h"

struct _RunnerRequest
{
  gatomicrefcount  ref_count;
  RunnerClient    *client;      /* owned */
  const RunnerRequestSink *sink; /* static */
  char            *event;       /* owned */
  JsonNode        *args;        /* owned, never NULL */
  GHashTable      *bytes;       /* owned, member → GBytes, may be NULL */
  gint64           id;
  gboolean         answered;
  gboolean         in_flight;   /* counted by the client until freed */
};

G_DEFINE_BOXED_TYPE (RunnerRequest, runner_request, runner_request_ref, runner_request_unref)

/**
 * runner_request_new:
 * @client: the client the event came from
 * @sink: the way back to @client
 * @event: the event name
 * @args: (transfer full) (nullable): the first argument of the event
 * @id: the reply id, or %RUNNER_REQUEST_NO_ID
 */
RunnerRequest *
runner_request_new (RunnerClient            *client,
                    const RunnerRequestSink *sink,
                    const char              *event,
                    JsonNode                *args,
                    gint64                   id)
{
  RunnerRequest *self;

  g_return_val_if_fail (G_IS_OBJECT (client), NULL);
  g_return_val_if_fail (sink != NULL, NULL);
  g_return_val_if_fail (event != NULL, NULL);

  self = g_new0 (RunnerRequest, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->client = g_object_ref (client);
  self->sink = sink;
  self->event = g_strdup (event);
  self->args = args != NULL ? args : json_node_new (JSON_NODE_NULL);
  self->id = id;
  return self;
}

RunnerRequest *
runner_request_ref (RunnerRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
runner_request_unref (RunnerRequest *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  /* A handler that forgot to answer must not leave a client waiting forever. */
  if (!self->answered && self->id != RUNNER_REQUEST_NO_ID)
    runner_request_fail_literal (self, RUNNER_ERROR, RUNNER_ERROR_FAILED, "No answer");

  if (self->in_flight)
    self->sink->done (self->client);

  g_clear_pointer (&self->bytes, g_hash_table_unref);
  g_clear_pointer (&self->args, json_node_unref);
  g_clear_object (&self->client);
  g_free (self->event);
  g_free (self);
}

/**
 * runner_request_set_in_flight:
 *
 * For #RunnerClient: the request now counts against the client's in-flight
 * cap until it is freed.
 */
void
runner_request_set_in_flight (RunnerRequest *self)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (!self->in_flight);
  self->in_flight = TRUE;
}

RunnerClient *
runner_request_get_client (RunnerRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->client;
}

const char *
runner_request_get_event (RunnerRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->event;
}

gint64
runner_request_get_id (RunnerRequest *self)
{
  g_return_val_if_fail (self != NULL, RUNNER_REQUEST_NO_ID);
  return self->id;
}

gboolean
runner_request_wants_reply (RunnerRequest *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->id != RUNNER_REQUEST_NO_ID;
}

/**
 * runner_request_get_args:
 *
 * Returns: (transfer none): the argument, a null node when there was none
 */
JsonNode *
runner_request_get_args (RunnerRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->args;
}

/**
 * runner_request_get_object:
 *
 * Returns: (transfer none) (nullable): the argument when it is an object
 */
JsonObject *
runner_request_get_object (RunnerRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (JSON_NODE_HOLDS_OBJECT (self->args))
    return json_node_get_object (self->args);
  return NULL;
}

/**
 * runner_request_set_bytes:
 * @member: a member of the argument object
 * @bytes: the raw bytes the transport received for it
 *
 * For transports that carry binary content beside the JSON (Socket.IO
 * attachments): runner_request_get_bytes() of @member answers @bytes.
 */
void
runner_request_set_bytes (RunnerRequest *self,
                          const char    *member,
                          GBytes        *bytes)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (member != NULL);
  g_return_if_fail (bytes != NULL);

  if (self->bytes == NULL)
    self->bytes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) g_bytes_unref);
  g_hash_table_replace (self->bytes, g_strdup (member), g_bytes_ref (bytes));
}

gboolean
runner_request_is_answered (RunnerRequest *self)
{
  g_return_val_if_fail (self != NULL, TRUE);
  return self->answered;
}

/**
 * runner_request_reply:
 * @result: (transfer full) (nullable): the result; %NULL for `{}`
 *
 * Answers the request. Does nothing but free @result when the client did not
 * ask for an answer, has gone away, or was answered already.
 */
void
runner_request_reply (RunnerRequest *self,
                      JsonNode      *result)
{
  g_autoptr(JsonNode) owned = result;
  g_autoptr(GBytes) text = NULL;
  gsize len;
  char *data;

  g_return_if_fail (self != NULL);

  if (self->answered || self->id == RUNNER_REQUEST_NO_ID ||
      self->sink->is_closed (self->client))
    {
      self->answered = TRUE;
      return;
    }

  if (owned == NULL)
    owned = json_node_init_object (json_node_alloc (), json_object_new ());
  data = runner_json_to_string (owned, &len);
  text = g_bytes_new_take (data, len);
  runner_request_reply_text (self, text);
}

/**
 * runner_request_reply_text:
 * @result_json: the result, already JSON text
 *
 * Like runner_request_reply(), for results serialized once and shared.
 */
void
runner_request_reply_text (RunnerRequest *self,
                           GBytes        *result_json)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (result_json != NULL);

  if (self->answered)
    return;
  self->answered = TRUE;

  if (self->id == RUNNER_REQUEST_NO_ID || self->sink->is_closed (self->client))
    return;

  self->sink->reply (self->client, self, result_json, FALSE);
}

void
runner_request_reply_ok (RunnerRequest *self)
{
  JsonObject *object = json_object_new ();

  json_object_set_boolean_member (object, "ok", TRUE);
  runner_request_reply (self, json_node_init_object (json_node_alloc (), object));
  json_object_unref (object);
}

/**
 * runner_request_fail:
 * @error: why
 *
 * Answers the request with `{error:{code,message}}`. Errors are answered even
 * when the client asked for no reply, so that bad input is never dropped
 * silently: the transport decides how (an `error:runner` or `runner:error`
 * event).
 */
void
runner_request_fail (RunnerRequest *self,
                     const GError  *error)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GBytes) text = NULL;
  gsize len;
  char *data;

  g_return_if_fail (self != NULL);
  g_return_if_fail (error != NULL);

  if (self->answered)
    return;
  self->answered = TRUE;

  g_debug ("%s failed: %s", self->event, error->message);

  if (self->sink->is_closed (self->client))
    return;

  node = runner_json_error_new (error);
  data = runner_json_to_string (node, &len);
  text = g_bytes_new_take (data, len);
  self->sink->reply (self->client, self, text, TRUE);
}

void
runner_request_fail_literal (RunnerRequest *self,
                             GQuark         domain,
                             int            code,
                             const char    *message)
{
  g_autoptr(GError) error = g_error_new_literal (domain, code, message);

  runner_request_fail (self, error);
}

static JsonNode *
get_member (RunnerRequest *self,
            const char    *member)
{
  JsonObject *object = runner_request_get_object (self);

  if (object == NULL)
    return NULL;
  return json_object_get_member (object, member);
}

gboolean
runner_request_has_member (RunnerRequest *self,
                           const char    *member)
{
  JsonNode *node;

  g_return_val_if_fail (self != NULL, FALSE);

  node = get_member (self, member);
  return node != NULL && !JSON_NODE_HOLDS_NULL (node);
}

/**
 * runner_request_get_string:
 * @member: the member of the argument object
 * @required: whether a missing member is an error
 *
 * Returns: (transfer none) (nullable): the string, or %NULL with @error set
 *   when it is missing and required, or not a string, or holds a NUL byte
 */
const char *
runner_request_get_string (RunnerRequest  *self,
                           const char     *member,
                           gboolean        required,
                           GError        **error)
{
  JsonNode *node;

  g_return_val_if_fail (self != NULL, NULL);

  node = get_member (self, member);
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                     "“%s” is required", member);
      return NULL;
    }

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   "“%s” must be a string", member);
      return NULL;
    }

  /* A C string would end there: refused rather than cut short. */
  if (runner_json_string_has_nul (json_node_get_string (node)))
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   "“%s” must not contain U+0000", member);
      return NULL;
    }

  return json_node_get_string (node);
}

/**
 * runner_request_get_data:
 * @member: the member of the argument object
 * @len: (out): the length of the result
 *
 * Like runner_request_get_string(), for data that may hold NUL bytes
 * (terminal input, file content): each U+0000 of the JSON string is one.
 *
 * Returns: (transfer full) (nullable): the bytes, NUL-terminated, or %NULL
 *   with @error set when the member is missing or not a string
 */
char *
runner_request_get_data (RunnerRequest  *self,
                         const char     *member,
                         gsize          *len,
                         GError        **error)
{
  JsonNode *node;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (len != NULL, NULL);

  node = get_member (self, member);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   "“%s” must be a string", member);
      return NULL;
    }

  return runner_json_string_decode_nul (json_node_get_string (node), len);
}

/**
 * runner_request_get_path:
 * @member: the member holding a path ("path")
 * @required: whether a missing path is an error
 *
 * Reads a path from @member, or from @member + "Bytes" (`pathBytes`): the
 * path's bytes in base64, for names that are not UTF-8, as tree entries and
 * `file:changed` give them.
 *
 * Returns: (transfer full) (nullable): the path, or %NULL; @error is set
 *   (EINVAL) when the path is malformed, or missing and required
 */
char *
runner_request_get_path (RunnerRequest  *self,
                         const char     *member,
                         gboolean        required,
                         GError        **error)
{
  g_autofree char *bytes_member = g_strconcat (member, "Bytes", NULL);
  g_autoptr(GError) local_error = NULL;
  const char *encoded;
  guchar *data;
  gsize len;

  g_return_val_if_fail (self != NULL, NULL);

  if (runner_request_has_member (self, member) || !runner_request_has_member (self, bytes_member))
    return g_strdup (runner_request_get_string (self, member, required, error));

  encoded = runner_request_get_string (self, bytes_member, TRUE, error);
  if (encoded == NULL)
    return NULL;
  len = strlen (encoded);
  if (len % 4 != 0 || strspn (encoded, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != len)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   "“%s” is not valid base64", bytes_member);
      return NULL;
    }
  data = g_base64_decode (encoded, &len);
  if (memchr (data, '\0', len) != NULL)
    {
      g_free (data);
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   "“%s” must not contain a NUL byte", bytes_member);
      return NULL;
    }
  data = g_realloc (data, len + 1);
  data[len] = '\0';
  return (char *) data;
}

static gboolean
node_has_surrogate (JsonNode *node,
                    guint     depth)
{
  if (depth > RUNNER_JSON_MAX_DEPTH)
    return FALSE;

  if (JSON_NODE_HOLDS_VALUE (node))
    return json_node_get_value_type (node) == G_TYPE_STRING &&
           runner_json_string_has_surrogate (json_node_get_string (node));

  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        if (node_has_surrogate (json_array_get_element (array, i), depth + 1))
          return TRUE;
    }
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, &name, &member))
        if (runner_json_string_has_surrogate (name) || node_has_surrogate (member, depth + 1))
          return TRUE;
    }

  return FALSE;
}

/**
 * runner_request_check_text:
 *
 * A lone UTF-16 surrogate (`"\ud800"`) is valid JSON but no text: no file
 * name or content can hold it. Requests with one anywhere are refused, and
 * so are event names with U+0000.
 *
 * Returns: %FALSE with @error set (EINVAL) if the event name or any string
 *   or member name of the argument holds a lone surrogate, or the event
 *   name U+0000
 */
gboolean
runner_request_check_text (RunnerRequest  *self,
                           GError        **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (runner_json_string_has_surrogate (self->event) || node_has_surrogate (self->args, 0))
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                           "A string holds a lone UTF-16 surrogate");
      return FALSE;
    }
  if (runner_json_string_has_nul (self->event))
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                           "The event name must not contain U+0000");
      return FALSE;
    }
  return TRUE;
}

static gboolean
node_get_integer (JsonNode *node,
                  gint64   *out)
{
  double d;

  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      *out = json_node_get_int (node);
      return TRUE;
    case G_TYPE_DOUBLE:
      d = json_node_get_double (node);
      if (d < (double) G_MININT64 || d >= (double) G_MAXINT64 || d != (double) (gint64) d)
        return FALSE;
      *out = (gint64) d;
      return TRUE;
    default:
      return FALSE;
    }
}

/**
 * runner_request_get_int:
 * @value: (inout): the value; left as is when the member is absent
 *
 * Returns: %FALSE with @error set when the member is present but not an
 *   integer within [@min, @max]
 */
gboolean
runner_request_get_int (RunnerRequest  *self,
                        const char     *member,
                        gint64          min,
                        gint64          max,
                        gint64         *value,
                        GError        **error)
{
  JsonNode *node;
  gint64 v = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  node = get_member (self, member);
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!node_get_integer (node, &v) || v < min || v > max)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   "“%s” must be an integer from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
                   member, min, max);
      return FALSE;
    }

  *value = v;
  return TRUE;
}

/**
 * runner_request_get_bool:
 * @value: (inout): the value; left as is when the member is absent
 */
gboolean
runner_request_get_bool (RunnerRequest  *self,
                         const char     *member,
                         gboolean       *value,
                         GError        **error)
{
  JsonNode *node;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  node = get_member (self, member);
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   "“%s” must be true or false", member);
      return FALSE;
    }

  *value = json_node_get_boolean (node);
  return TRUE;
}

/**
 * runner_request_get_bytes:
 * @member: the member holding content
 * @max_size: the largest content accepted
 *
 * Reads content that may come as a UTF-8 string, as base64 text when the
 * object's `encoding` is "base64", or as bytes the transport received beside
 * the JSON (runner_request_set_bytes()).
 *
 * Returns: (transfer full): the bytes, or %NULL with @error set (EINVAL for a
 *   missing or malformed member, E2BIG over @max_size)
 */
GBytes *
runner_request_get_bytes (RunnerRequest  *self,
                          const char     *member,
                          gsize           max_size,
                          GError        **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *encoding;
  JsonNode *node;

  g_return_val_if_fail (self != NULL, NULL);

  node = get_member (self, member);
  encoding = runner_request_get_string (self, "encoding", FALSE, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (encoding != NULL && !g_str_equal (encoding, "utf8") && !g_str_equal (encoding, "utf-8") &&
      !g_str_equal (encoding, "base64"))
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   "“encoding” must be \"utf8\" or \"base64\", not “%s”", encoding);
      return NULL;
    }

  if (self->bytes != NULL && g_hash_table_contains (self->bytes, member))
    bytes = g_bytes_ref (g_hash_table_lookup (self->bytes, member));
  else if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   "“%s” must be a string or a binary attachment", member);
      return NULL;
    }
  else if (encoding != NULL && g_str_equal (encoding, "base64"))
    {
      const char *text = runner_request_get_string (self, member, TRUE, error);
      guchar *data;
      gsize len, out_len;

      if (text == NULL)
        return NULL;
      len = strlen (text);

      /* Decoded base64 is 3/4 of its text: refuse before decoding. */
      if (len / 4 * 3 > max_size + 3)
        {
          g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_TOO_BIG,
                       "“%s” is over the limit of %zu bytes", member, max_size);
          return NULL;
        }
      if (len % 4 != 0 || strspn (text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != len)
        {
          g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                       "“%s” is not valid base64", member);
          return NULL;
        }
      data = g_base64_decode (text, &out_len);
      bytes = g_bytes_new_take (data, out_len);
    }
  else
    {
      char *data;
      gsize len;

      if (!runner_request_has_member (self, member))
        {
          g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                       "“%s” is required", member);
          return NULL;
        }
      /* Text content may hold U+0000: kept, byte for byte. */
      data = runner_request_get_data (self, member, &len, error);
      if (data == NULL)
        return NULL;
      bytes = g_bytes_new_take (data, len);
    }

  if (bytes == NULL)
    return NULL;

  if (g_bytes_get_size (bytes) > max_size)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_TOO_BIG,
                   "“%s” is over the limit of %zu bytes", member, max_size);
      return NULL;
    }

  return g_steal_pointer (&bytes);
}
