/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-eio-codec"

#include "config.h"

#include "runner-eio-codec.h"

#include <string.h>

#include "runner-error.h"
#include "runner-json.h"

/*
 * Engine.IO protocol 4 and Socket.IO protocol 5 packets, as the npm
 * engine.io-parser and socket.io-parser write them. Everything here is pure:
 * no I/O, no state. Every decoder takes untrusted bytes and answers a
 * RUNNER_ERROR_INVALID error for anything malformed.
 */

static gboolean
fail (GError    **error,
      const char *message)
{
  g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_INVALID, message);
  return FALSE;
}

/* ---- Engine.IO ---------------------------------------------------------- */

/**
 * runner_eio_packet_new:
 * @type: the packet type
 * @binary: whether @data is raw bytes (only for %RUNNER_EIO_PACKET_MESSAGE)
 * @data: (nullable): the payload; %NULL for none
 *
 * Returns: (transfer full): a new packet holding a reference to @data
 */
RunnerEioPacket *
runner_eio_packet_new (RunnerEioPacketType  type,
                       gboolean             binary,
                       GBytes              *data)
{
  RunnerEioPacket *packet;

  g_return_val_if_fail (type <= RUNNER_EIO_PACKET_NOOP, NULL);
  g_return_val_if_fail (!binary || type == RUNNER_EIO_PACKET_MESSAGE, NULL);

  packet = g_new0 (RunnerEioPacket, 1);
  packet->type = type;
  packet->binary = binary;
  packet->data = data != NULL ? g_bytes_ref (data) : g_bytes_new_static ("", 0);
  return packet;
}

/**
 * runner_eio_packet_new_text:
 * @type: the packet type
 * @text: (nullable): the text after the type digit
 *
 * Returns: (transfer full): a new text packet with a copy of @text
 */
RunnerEioPacket *
runner_eio_packet_new_text (RunnerEioPacketType  type,
                            const char          *text)
{
  g_autoptr(GBytes) data = NULL;

  if (text != NULL)
    data = g_bytes_new (text, strlen (text));
  return runner_eio_packet_new (type, FALSE, data);
}

void
runner_eio_packet_free (RunnerEioPacket *packet)
{
  if (packet == NULL)
    return;
  g_clear_pointer (&packet->data, g_bytes_unref);
  g_free (packet);
}

/**
 * runner_eio_frame_get_polling_size:
 * @len: the size of a text frame (type digit included) or of raw bytes
 * @binary: whether they are raw bytes
 *
 * Returns: the bytes the frame takes in a polling payload, without separator
 */
gsize
runner_eio_frame_get_polling_size (gsize    len,
                                   gboolean binary)
{
  return binary ? 1 + (len + 2) / 3 * 4 : len;
}

/**
 * runner_eio_packet_get_polling_size:
 *
 * Returns: the bytes @packet takes in a polling payload, without separator
 */
gsize
runner_eio_packet_get_polling_size (const RunnerEioPacket *packet)
{
  gsize len;

  g_return_val_if_fail (packet != NULL, 0);

  len = g_bytes_get_size (packet->data);
  return runner_eio_frame_get_polling_size (packet->binary ? len : len + 1, packet->binary);
}

static gboolean
is_base64_char (guchar c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/';
}

/* g_base64_decode() skips what it does not know; a peer's base64 must be exact. */
static GBytes *
base64_decode_strict (const guint8  *text,
                      gsize          len,
                      GError       **error)
{
  g_autofree char *copy = NULL;
  gsize padding = 0;
  gsize out_len = 0;
  guchar *out;

  if (len % 4 != 0)
    {
      fail (error, "Base64 length is not a multiple of 4");
      return NULL;
    }

  while (padding < 2 && padding < len && text[len - 1 - padding] == '=')
    padding++;

  for (gsize i = 0; i < len - padding; i++)
    {
      if (!is_base64_char (text[i]))
        {
          fail (error, "Invalid base64 character");
          return NULL;
        }
    }

  if (len == 0)
    return g_bytes_new (NULL, 0);

  copy = g_strndup ((const char *) text, len);
  out = g_base64_decode (copy, &out_len);
  return g_bytes_new_take (out, out_len);
}

/**
 * runner_eio_packet_decode:
 * @data: one packet: a WebSocket text frame, or one record of a polling payload
 * @len: its length
 * @allow_base64: accept `b<base64>` binary messages (polling)
 * @error: return location for a %RUNNER_ERROR_INVALID error
 *
 * Returns: (transfer full) (nullable): the packet, or %NULL with @error set
 */
RunnerEioPacket *
runner_eio_packet_decode (const guint8  *data,
                          gsize          len,
                          gboolean       allow_base64,
                          GError       **error)
{
  g_autoptr(GBytes) bytes = NULL;
  guint8 digit;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len == 0)
    {
      fail (error, "Empty Engine.IO packet");
      return NULL;
    }

  if (allow_base64 && data[0] == 'b')
    {
      bytes = base64_decode_strict (data + 1, len - 1, error);
      if (bytes == NULL)
        return NULL;
      return runner_eio_packet_new (RUNNER_EIO_PACKET_MESSAGE, TRUE, bytes);
    }

  digit = data[0];
  if (digit < '0' || digit > '0' + RUNNER_EIO_PACKET_NOOP)
    {
      fail (error, "Unknown Engine.IO packet type");
      return NULL;
    }

  if (!g_utf8_validate_len ((const char *) data + 1, len - 1, NULL))
    {
      fail (error, "Engine.IO text packet is not valid UTF-8");
      return NULL;
    }

  bytes = g_bytes_new (data + 1, len - 1);
  return runner_eio_packet_new ((RunnerEioPacketType) (digit - '0'), FALSE, bytes);
}

/**
 * runner_eio_payload_decode:
 * @data: a polling request body
 * @len: its length
 * @max_packets: the most packets accepted in one payload
 * @error: return location for a %RUNNER_ERROR_INVALID error
 *
 * Splits a polling payload on 0x1e and decodes every packet; fails whole if
 * any packet is malformed.
 *
 * Returns: (transfer full) (element-type RunnerEioPacket) (nullable): the packets
 */
GPtrArray *
runner_eio_payload_decode (const guint8  *data,
                           gsize          len,
                           guint          max_packets,
                           GError       **error)
{
  g_autoptr(GPtrArray) packets = NULL;
  gsize start = 0;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len == 0)
    {
      fail (error, "Empty Engine.IO payload");
      return NULL;
    }

  packets = g_ptr_array_new_with_free_func ((GDestroyNotify) runner_eio_packet_free);

  while (start <= len)
    {
      const guint8 *sep = memchr (data + start, RUNNER_EIO_RECORD_SEPARATOR, len - start);
      gsize end = sep != NULL ? (gsize) (sep - data) : len;
      RunnerEioPacket *packet;

      if (packets->len >= max_packets)
        {
          fail (error, "Too many packets in one payload");
          return NULL;
        }

      packet = runner_eio_packet_decode (data + start, end - start, TRUE, error);
      if (packet == NULL)
        return NULL;
      g_ptr_array_add (packets, packet);

      start = end + 1;
    }

  return g_steal_pointer (&packets);
}

/**
 * runner_eio_payload_append_frame:
 * @payload: a polling response being built
 * @frame: a text packet with its type digit, or raw bytes
 * @len: its length
 * @binary: whether @frame is raw bytes, written as `b` and base64
 *
 * Appends one packet, after a 0x1e separator unless @payload is empty.
 */
void
runner_eio_payload_append_frame (GString      *payload,
                                 const guint8 *frame,
                                 gsize         len,
                                 gboolean      binary)
{
  g_return_if_fail (payload != NULL);
  g_return_if_fail (frame != NULL || len == 0);

  if (payload->len > 0)
    g_string_append_c (payload, RUNNER_EIO_RECORD_SEPARATOR);

  if (binary)
    {
      g_autofree char *encoded = g_base64_encode (frame, len);

      g_string_append_c (payload, 'b');
      g_string_append (payload, encoded);
      return;
    }

  g_string_append_len (payload, (const char *) frame, len);
}

/**
 * runner_eio_payload_append:
 * @payload: a polling response being built
 * @packet: the packet to add
 *
 * Like runner_eio_payload_append_frame(), for a decoded packet.
 */
void
runner_eio_payload_append (GString               *payload,
                           const RunnerEioPacket *packet)
{
  gsize len;
  const guint8 *data;

  g_return_if_fail (payload != NULL);
  g_return_if_fail (packet != NULL);

  data = g_bytes_get_data (packet->data, &len);
  if (packet->binary)
    {
      runner_eio_payload_append_frame (payload, data, len, TRUE);
      return;
    }

  if (payload->len > 0)
    g_string_append_c (payload, RUNNER_EIO_RECORD_SEPARATOR);
  g_string_append_c (payload, (char) ('0' + packet->type));
  g_string_append_len (payload, (const char *) data, len);
}

/* ---- Socket.IO ---------------------------------------------------------- */

/**
 * runner_sio_packet_new:
 * @type: the packet type
 * @nsp: (nullable): the namespace; %NULL for "/"
 * @id: the ack id, or %RUNNER_SIO_NO_ACK_ID
 * @data: (transfer full) (nullable): the payload
 *
 * Returns: (transfer full): a new packet
 */
RunnerSioPacket *
runner_sio_packet_new (RunnerSioPacketType  type,
                       const char          *nsp,
                       gint64               id,
                       JsonNode            *data)
{
  RunnerSioPacket *packet;

  g_return_val_if_fail (type <= RUNNER_SIO_PACKET_BINARY_ACK, NULL);
  g_return_val_if_fail (id >= RUNNER_SIO_NO_ACK_ID && id <= RUNNER_SIO_MAX_ACK_ID, NULL);

  packet = g_new0 (RunnerSioPacket, 1);
  packet->type = type;
  packet->nsp = g_strdup (nsp != NULL ? nsp : "/");
  packet->id = id;
  packet->data = data;
  return packet;
}

void
runner_sio_packet_free (RunnerSioPacket *packet)
{
  if (packet == NULL)
    return;
  g_clear_pointer (&packet->data, json_node_unref);
  g_free (packet->nsp);
  g_free (packet);
}

static gboolean
is_binary_type (RunnerSioPacketType type)
{
  return type == RUNNER_SIO_PACKET_BINARY_EVENT || type == RUNNER_SIO_PACKET_BINARY_ACK;
}

/* Reads a run of decimal digits at @text[*pos] into @value; FALSE when there
 * is none or it exceeds @max. */
static gboolean
read_number (const char *text,
             gsize       len,
             gsize      *pos,
             gint64      max,
             gint64     *value)
{
  gint64 v = 0;
  gsize start = *pos;

  while (*pos < len && g_ascii_isdigit (text[*pos]))
    {
      v = v * 10 + (text[*pos] - '0');
      if (v > max)
        return FALSE;
      (*pos)++;
    }

  *value = v;
  return *pos > start;
}

/**
 * runner_sio_placeholder_new:
 * @num: the attachment index
 *
 * Returns: (transfer full): `{"_placeholder":true,"num":num}`
 */
JsonNode *
runner_sio_placeholder_new (guint num)
{
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_boolean_member (object, "_placeholder", TRUE);
  json_object_set_int_member (object, "num", num);
  json_node_take_object (node, object);
  return node;
}

/**
 * runner_sio_placeholder_get_num:
 * @node: (nullable): any JSON value
 *
 * Returns: the attachment index @node stands for, or -1 when it is not a
 *   well-formed placeholder `{"_placeholder":true,"num":i}`
 */
gint
runner_sio_placeholder_get_num (JsonNode *node)
{
  JsonObject *object;
  JsonNode *flag;
  JsonNode *num;
  gint64 value;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return -1;

  object = json_node_get_object (node);
  flag = json_object_get_member (object, "_placeholder");
  num = json_object_get_member (object, "num");
  if (flag == NULL || num == NULL || json_object_get_size (object) != 2)
    return -1;
  if (json_node_get_value_type (flag) != G_TYPE_BOOLEAN || !json_node_get_boolean (flag))
    return -1;
  if (json_node_get_value_type (num) != G_TYPE_INT64)
    return -1;

  value = json_node_get_int (num);
  if (value < 0 || value >= RUNNER_SIO_MAX_ATTACHMENTS)
    return -1;
  return (gint) value;
}

/**
 * runner_sio_placeholder_resolve:
 * @node: (nullable): a JSON value from a request's arguments
 * @attachments: (nullable) (element-type GBytes): the request's attachments
 *
 * Returns: (transfer none) (nullable): the attachment @node stands for, or
 *   %NULL when @node is not a placeholder or refers to none
 */
GBytes *
runner_sio_placeholder_resolve (JsonNode  *node,
                                GPtrArray *attachments)
{
  gint num = runner_sio_placeholder_get_num (node);

  if (num < 0 || attachments == NULL || (guint) num >= attachments->len)
    return NULL;
  return g_ptr_array_index (attachments, num);
}

/* Every object marked `_placeholder` must be a valid placeholder; together
 * they must name each attachment 0..n-1 exactly once, as clients write them. */
static gboolean
collect_placeholders (JsonNode  *node,
                      guint      n_attachments,
                      gboolean  *seen,
                      guint     *n_seen)
{
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      guint n = json_array_get_length (array);

      for (guint i = 0; i < n; i++)
        if (!collect_placeholders (json_array_get_element (array, i), n_attachments, seen, n_seen))
          return FALSE;
      return TRUE;
    }

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_node_get_object (node);
      JsonObjectIter iter;
      JsonNode *member;
      gint num;

      if (json_object_has_member (object, "_placeholder"))
        {
          num = runner_sio_placeholder_get_num (node);
          if (num < 0 || (guint) num >= n_attachments || seen[num])
            return FALSE;
          seen[num] = TRUE;
          (*n_seen)++;
          return TRUE;
        }

      json_object_iter_init (&iter, object);
      while (json_object_iter_next (&iter, NULL, &member))
        if (!collect_placeholders (member, n_attachments, seen, n_seen))
          return FALSE;
    }

  return TRUE;
}

static gboolean
is_reserved_event (const char *name)
{
  static const char * const reserved[] = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
  };

  for (guint i = 0; i < G_N_ELEMENTS (reserved); i++)
    if (g_str_equal (name, reserved[i]))
      return TRUE;
  return FALSE;
}

static gboolean
check_payload (const RunnerSioPacket  *packet,
               GError                **error)
{
  JsonNode *data = packet->data;
  JsonArray *array;
  JsonNode *first;

  switch (packet->type)
    {
    case RUNNER_SIO_PACKET_CONNECT:
      if (data != NULL && !JSON_NODE_HOLDS_OBJECT (data))
        return fail (error, "CONNECT payload must be an object");
      return TRUE;

    case RUNNER_SIO_PACKET_DISCONNECT:
      if (data != NULL)
        return fail (error, "DISCONNECT carries no payload");
      return TRUE;

    case RUNNER_SIO_PACKET_CONNECT_ERROR:
      if (data == NULL
          || !(JSON_NODE_HOLDS_OBJECT (data)
               || (JSON_NODE_HOLDS_VALUE (data)
                   && json_node_get_value_type (data) == G_TYPE_STRING)))
        return fail (error, "CONNECT_ERROR payload must be an object or a string");
      return TRUE;

    case RUNNER_SIO_PACKET_EVENT:
    case RUNNER_SIO_PACKET_BINARY_EVENT:
      if (data == NULL || !JSON_NODE_HOLDS_ARRAY (data))
        return fail (error, "EVENT payload must be an array");
      array = json_node_get_array (data);
      if (json_array_get_length (array) == 0)
        return fail (error, "EVENT payload has no event name");
      first = json_array_get_element (array, 0);
      if (!JSON_NODE_HOLDS_VALUE (first) || json_node_get_value_type (first) != G_TYPE_STRING)
        return fail (error, "EVENT name must be a string");
      if (is_reserved_event (json_node_get_string (first)))
        return fail (error, "EVENT name is reserved");
      return TRUE;

    case RUNNER_SIO_PACKET_ACK:
    case RUNNER_SIO_PACKET_BINARY_ACK:
      if (data == NULL || !JSON_NODE_HOLDS_ARRAY (data))
        return fail (error, "ACK payload must be an array");
      return TRUE;

    default:
      return fail (error, "Unknown Socket.IO packet type");
    }
}

static gboolean
check_attachments (const RunnerSioPacket  *packet,
                   GError                **error)
{
  gboolean seen[RUNNER_SIO_MAX_ATTACHMENTS] = { FALSE, };
  guint n_seen = 0;

  if (!is_binary_type (packet->type))
    return TRUE;

  if (!collect_placeholders (packet->data, packet->attachments, seen, &n_seen)
      || n_seen != packet->attachments)
    return fail (error, "Binary placeholders do not match the attachment count");

  return TRUE;
}

/**
 * runner_sio_packet_decode:
 * @text: the text of an Engine.IO message (after its `4`)
 * @len: its length
 * @error: return location for a %RUNNER_ERROR_INVALID error
 *
 * Decodes `<type>[<attachments>-][/<nsp>,][<id>][<json>]` and checks the
 * payload fits the type, as socket.io-parser does; for binary packets also
 * that the placeholders name each announced attachment once.
 *
 * Returns: (transfer full) (nullable): the packet
 */
RunnerSioPacket *
runner_sio_packet_decode (const char  *text,
                          gsize        len,
                          GError     **error)
{
  g_autoptr(RunnerSioPacket) packet = NULL;
  gsize pos = 1;
  gint64 value;

  g_return_val_if_fail (text != NULL || len == 0, NULL);

  if (len == 0 || text[0] < '0' || text[0] > '0' + RUNNER_SIO_PACKET_BINARY_ACK)
    {
      fail (error, "Unknown Socket.IO packet type");
      return NULL;
    }

  packet = runner_sio_packet_new ((RunnerSioPacketType) (text[0] - '0'), NULL,
                                  RUNNER_SIO_NO_ACK_ID, NULL);

  if (is_binary_type (packet->type))
    {
      if (!read_number (text, len, &pos, RUNNER_SIO_MAX_ATTACHMENTS, &value)
          || pos >= len || text[pos] != '-')
        {
          fail (error, "Illegal attachment count");
          return NULL;
        }
      packet->attachments = (guint) value;
      pos++;
    }

  if (pos < len && text[pos] == '/')
    {
      const char *comma = memchr (text + pos, ',', len - pos);
      gsize end = comma != NULL ? (gsize) (comma - text) : len;

      if (end - pos > RUNNER_SIO_MAX_NSP_LENGTH)
        {
          fail (error, "Namespace too long");
          return NULL;
        }
      if (!g_utf8_validate_len (text + pos, end - pos, NULL))
        {
          fail (error, "Namespace is not valid UTF-8");
          return NULL;
        }
      g_free (packet->nsp);
      packet->nsp = g_strndup (text + pos, end - pos);
      pos = comma != NULL ? end + 1 : end;
    }

  if (pos < len && g_ascii_isdigit (text[pos]))
    {
      if (!read_number (text, len, &pos, RUNNER_SIO_MAX_ACK_ID, &value))
        {
          fail (error, "Ack id out of range");
          return NULL;
        }
      packet->id = value;
    }

  if (pos < len)
    {
      packet->data = runner_json_parse (text + pos, len - pos, RUNNER_JSON_MAX_DEPTH, error);
      if (packet->data == NULL)
        return NULL;
    }

  if (!check_payload (packet, error) || !check_attachments (packet, error))
    return NULL;

  return g_steal_pointer (&packet);
}

/**
 * runner_sio_packet_encode:
 * @packet: a packet
 * @len: (out) (optional): the length of the text
 *
 * Returns: (transfer full): the text of the Engine.IO message carrying
 *   @packet (without the Engine.IO `4`)
 */
char *
runner_sio_packet_encode (const RunnerSioPacket *packet,
                          gsize                 *len)
{
  GString *out;

  g_return_val_if_fail (packet != NULL, NULL);

  out = g_string_new (NULL);
  g_string_append_c (out, (char) ('0' + packet->type));

  if (is_binary_type (packet->type))
    g_string_append_printf (out, "%u-", packet->attachments);

  if (packet->nsp != NULL && !g_str_equal (packet->nsp, "/"))
    {
      g_string_append (out, packet->nsp);
      g_string_append_c (out, ',');
    }

  if (packet->id >= 0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, packet->id);

  if (packet->data != NULL)
    {
      gsize data_len;
      g_autofree char *json = runner_json_to_string (packet->data, &data_len);

      g_string_append_len (out, json, data_len);
    }

  if (len != NULL)
    *len = out->len;
  return g_string_free (out, FALSE);
}

/**
 * runner_sio_connect_error_new:
 * @nsp: (nullable): the namespace refused; %NULL for "/"
 * @message: why
 *
 * Returns: (transfer full): the text of `4[/nsp,]{"message":...}`
 */
char *
runner_sio_connect_error_new (const char *nsp,
                              const char *message)
{
  g_autoptr(RunnerSioPacket) packet = NULL;
  JsonObject *object;

  g_return_val_if_fail (message != NULL, NULL);

  object = json_object_new ();
  json_object_set_string_member (object, "message", message);
  packet = runner_sio_packet_new (RUNNER_SIO_PACKET_CONNECT_ERROR, nsp, RUNNER_SIO_NO_ACK_ID,
                                  json_node_init_object (json_node_alloc (), object));
  json_object_unref (object);
  return runner_sio_packet_encode (packet, NULL);
}

/**
 * runner_sio_packet_get_event:
 *
 * Returns: (nullable): the event name of an EVENT or BINARY_EVENT packet
 */
const char *
runner_sio_packet_get_event (const RunnerSioPacket *packet)
{
  JsonNode *first;

  g_return_val_if_fail (packet != NULL, NULL);

  if (packet->type != RUNNER_SIO_PACKET_EVENT && packet->type != RUNNER_SIO_PACKET_BINARY_EVENT)
    return NULL;
  if (packet->data == NULL || !JSON_NODE_HOLDS_ARRAY (packet->data))
    return NULL;

  first = json_array_get_element (json_node_get_array (packet->data), 0);
  if (first == NULL || json_node_get_value_type (first) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (first);
}

/**
 * runner_sio_packet_get_arg:
 * @index: which argument after the event name
 *
 * Returns: (transfer none) (nullable): argument @index of an event
 */
JsonNode *
runner_sio_packet_get_arg (const RunnerSioPacket *packet,
                           guint                  index)
{
  JsonArray *array;

  g_return_val_if_fail (packet != NULL, NULL);

  if (runner_sio_packet_get_event (packet) == NULL)
    return NULL;

  array = json_node_get_array (packet->data);
  if (index + 1 >= json_array_get_length (array))
    return NULL;
  return json_array_get_element (array, index + 1);
}
