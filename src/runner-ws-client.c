/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-ws-client"

#include "config.h"

#include "runner-ws-client.h"
#include "runner-json.h"
#include "runner-error.h"
#include "runner-request.h"

/*
 * The plain JSON WebSocket transport: each text frame is one
 * `{"event": NAME, "data": ARGS, "id": N?}`; replies echo `id`.
 */
struct _RunnerWsClient
{
  RunnerClient     parent_instance;
  RunnerWebsocket *websocket; /* owned */
};

G_DEFINE_FINAL_TYPE (RunnerWsClient, runner_ws_client, RUNNER_TYPE_CLIENT)

/* {"event":E,"id":N,"request":R,"data":D}: id and request only when known */
static void
send_envelope (RunnerWsClient *self,
               const char     *event,
               gint64          id,
               const char     *request_event,
               GBytes         *data)
{
  g_autoptr(GBytes) bytes = NULL;
  GString *out = g_string_sized_new (g_bytes_get_size (data) + 64);

  g_string_append (out, "{\"event\":");
  runner_json_append_string (out, event, -1);
  if (id != RUNNER_REQUEST_NO_ID)
    g_string_append_printf (out, ",\"id\":%" G_GINT64_FORMAT, id);
  if (request_event != NULL)
    {
      g_string_append (out, ",\"request\":");
      runner_json_append_string (out, request_event, -1);
    }
  g_string_append (out, ",\"data\":");
  g_string_append_len (out, g_bytes_get_data (data, NULL), g_bytes_get_size (data));
  g_string_append_c (out, '}');

  bytes = g_string_free_to_bytes (out);
  runner_websocket_send_text (self->websocket, bytes);
}

static void
send_error (RunnerWsClient *self,
            gint64          id,
            const GError   *error)
{
  g_autoptr(JsonNode) node = runner_json_error_new (error);
  g_autoptr(GBytes) text = NULL;
  gsize len;
  char *data = runner_json_to_string (node, &len);

  text = g_bytes_new_take (data, len);
  send_envelope (self, "runner:error", id, NULL, text);
}

/* A server event: `{"event":E,"data":D}` */
static void
write_event_header (GString    *out,
                    const char *event_json)
{
  g_string_append (out, "{\"event\":");
  g_string_append (out, event_json);
  g_string_append (out, ",\"data\":");
}

static const RunnerFramer event_framer = { write_event_header, "}" };

static void
runner_ws_client_send_message (RunnerClient  *client,
                               RunnerMessage *message)
{
  RunnerWsClient *self = RUNNER_WS_CLIENT (client);

  runner_websocket_send_text (self->websocket, runner_message_get_frame (message, &event_framer));
}

static void
runner_ws_client_send_reply (RunnerClient  *client,
                             RunnerRequest *request,
                             GBytes        *result_json,
                             gboolean       is_error)
{
  RunnerWsClient *self = RUNNER_WS_CLIENT (client);
  const char *event = runner_request_get_event (request);

  /* An error names the failed event, so a client without ids still knows. */
  if (is_error)
    send_envelope (self, "runner:error", runner_request_get_id (request), event, result_json);
  else
    send_envelope (self, event, runner_request_get_id (request), NULL, result_json);
}

static gsize
runner_ws_client_get_queued_bytes (RunnerClient *client)
{
  return runner_websocket_get_queued (RUNNER_WS_CLIENT (client)->websocket);
}

static void
runner_ws_client_close (RunnerClient *client,
                        const char   *reason)
{
  RunnerWsClient *self = RUNNER_WS_CLIENT (client);

  runner_websocket_close (self->websocket, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, reason);
  /* Do not wait for the peer: a client being dropped must stop costing now. */
  runner_client_notify_closed (client);
}

static gboolean
parse_frame (RunnerWsClient  *self,
             GBytes          *frame,
             char           **event,
             JsonNode       **args,
             gint64          *id,
             GError         **error)
{
  g_autoptr(JsonNode) root = NULL;
  gconstpointer data;
  JsonObject *object;
  JsonNode *node;
  gsize len;

  /* The strict parser: json-glib alone accepts non-JSON and overflows its
   * stack on deep nesting. */
  data = g_bytes_get_data (frame, &len);
  root = runner_json_parse (data, len, RUNNER_JSON_MAX_DEPTH, error);
  if (root == NULL)
    return FALSE;

  node = root;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                           "A message must be a JSON object {\"event\", \"data\", \"id\"}");
      return FALSE;
    }
  object = json_node_get_object (node);

  /* Read the id first, so that even a bad event can be answered by id. */
  node = json_object_get_member (object, "id");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64 ||
          json_node_get_int (node) < 0)
        {
          g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                               "“id” must be a non-negative integer");
          return FALSE;
        }
      *id = json_node_get_int (node);
    }

  node = json_object_get_member (object, "event");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING ||
      *json_node_get_string (node) == '\0')
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                           "“event” must be a non-empty string");
      return FALSE;
    }
  *event = g_strdup (json_node_get_string (node));

  node = json_object_get_member (object, "data");
  *args = node != NULL ? json_node_copy (node) : NULL;
  return TRUE;
}

static void
on_message (RunnerWebsocket *websocket,
            gint             type,
            GBytes          *frame,
            RunnerWsClient  *self)
{
  g_autoptr(RunnerRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *event = NULL;
  JsonNode *args = NULL;
  gint64 id = RUNNER_REQUEST_NO_ID;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      g_set_error_literal (&error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                           "Binary frames are not part of the JSON protocol");
      send_error (self, id, error);
      return;
    }

  if (!parse_frame (self, frame, &event, &args, &id, &error))
    {
      send_error (self, id, error);
      return;
    }

  request = runner_client_new_request (RUNNER_CLIENT (self), event, args, id);
  runner_client_dispatch (RUNNER_CLIENT (self), request);
}

static void
on_written (RunnerWebsocket *websocket,
            RunnerWsClient  *self)
{
  runner_client_notify_drained (RUNNER_CLIENT (self));
}

static void
on_closed (RunnerWebsocket *websocket,
           RunnerWsClient  *self)
{
  runner_client_notify_closed (RUNNER_CLIENT (self));
}

static void
runner_ws_client_dispose (GObject *object)
{
  RunnerWsClient *self = RUNNER_WS_CLIENT (object);

  if (self->websocket != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->websocket, self);
      runner_websocket_close (self->websocket, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
    }
  g_clear_object (&self->websocket);

  G_OBJECT_CLASS (runner_ws_client_parent_class)->dispose (object);
}

static void
runner_ws_client_class_init (RunnerWsClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  RunnerClientClass *client_class = RUNNER_CLIENT_CLASS (klass);

  object_class->dispose = runner_ws_client_dispose;

  client_class->send_message = runner_ws_client_send_message;
  client_class->send_reply = runner_ws_client_send_reply;
  client_class->get_queued_bytes = runner_ws_client_get_queued_bytes;
  client_class->close = runner_ws_client_close;
}

static void
runner_ws_client_init (RunnerWsClient *self)
{
}

/**
 * runner_ws_client_new:
 * @websocket: an open #RunnerWebsocket
 *
 * Returns: (transfer full): a client speaking the plain JSON protocol on it
 */
RunnerClient *
runner_ws_client_new (RunnerWebsocket *websocket)
{
  RunnerWsClient *self;

  g_return_val_if_fail (RUNNER_IS_WEBSOCKET (websocket), NULL);

  self = g_object_new (RUNNER_TYPE_WS_CLIENT,
                       "transport", "websocket",
                       "remote", runner_websocket_get_remote (websocket),
                       NULL);
  self->websocket = g_object_ref (websocket);
  g_signal_connect (websocket, "message", G_CALLBACK (on_message), self);
  g_signal_connect (websocket, "written", G_CALLBACK (on_written), self);
  g_signal_connect (websocket, "closed", G_CALLBACK (on_closed), self);
  return RUNNER_CLIENT (self);
}
