/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-sio-client"

#include "config.h"

#include "runner-sio-client.h"

#include <string.h>

#include "runner-error.h"
#include "runner-json.h"
#include "runner-message.h"
#include "runner-request.h"

/*
 * RunnerSioClient: one Socket.IO connection on the main namespace, on top of
 * an Engine.IO session. It turns EVENT and BINARY_EVENT packets (the latter
 * once all their attachments arrived) into requests, acks into `3<id>[...]`
 * and server events into the shared `42[...]` frame of each message.
 */
struct _RunnerSioClient
{
  RunnerClient      parent_instance;

  RunnerEioSession *session;      /* owned */
  RunnerSioPacket  *pending;      /* owned: a binary event awaiting attachments */
  GPtrArray        *attachments;  /* owned GBytes of @pending */
  gsize             attachments_size;
  gsize             max_attachments_size;
};

G_DEFINE_FINAL_TYPE (RunnerSioClient, runner_sio_client, RUNNER_TYPE_CLIENT)

/* A server event: an EVENT packet on the main namespace, `42["E",D]`
 * (without the Engine.IO framing of the polling transport). */
static void
write_event_header (GString    *out,
                    const char *event_json)
{
  g_string_append_c (out, '0' + RUNNER_EIO_PACKET_MESSAGE);
  g_string_append_c (out, '0' + RUNNER_SIO_PACKET_EVENT);
  g_string_append_c (out, '[');
  g_string_append (out, event_json);
  g_string_append_c (out, ',');
}

static const RunnerFramer event_framer = { write_event_header, "]" };

static void
runner_sio_client_send_message (RunnerClient  *client,
                                RunnerMessage *message)
{
  RunnerSioClient *self = RUNNER_SIO_CLIENT (client);

  runner_eio_session_send_frame (self->session, runner_message_get_frame (message, &event_framer));
}

/* The old service emitted `error:runner` on every failure, ack or not. */
static void
send_error_event (RunnerSioClient *self,
                  GBytes          *result_json)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) data = NULL;
  g_autoptr(RunnerMessage) message = NULL;
  const char *code = "EIO";
  const char *text = "error";
  JsonObject *error = NULL;
  gsize len;
  const char *json = g_bytes_get_data (result_json, &len);

  node = runner_json_parse (json, len, RUNNER_JSON_MAX_DEPTH, NULL);
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    error = json_object_get_object_member (json_node_get_object (node), "error");
  if (error != NULL)
    {
      code = json_object_get_string_member_with_default (error, "code", code);
      text = json_object_get_string_member_with_default (error, "message", text);
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, text);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  json_builder_end_object (builder);
  data = json_builder_get_root (builder);

  message = runner_message_new ("error:runner", g_steal_pointer (&data));
  runner_client_send_must (RUNNER_CLIENT (self), message);
}

static void
runner_sio_client_send_reply (RunnerClient  *client,
                              RunnerRequest *request,
                              GBytes        *result_json,
                              gboolean       is_error)
{
  RunnerSioClient *self = RUNNER_SIO_CLIENT (client);
  gint64 id = runner_request_get_id (request);

  if (is_error)
    send_error_event (self, result_json);

  if (id != RUNNER_REQUEST_NO_ID)
    {
      g_autoptr(GBytes) frame = NULL;
      gsize len;
      const char *json = g_bytes_get_data (result_json, &len);
      GString *out = g_string_sized_new (len + 24);

      /* 43<id>[result] */
      g_string_append_printf (out, "%c%c%" G_GINT64_FORMAT "[", '0' + RUNNER_EIO_PACKET_MESSAGE,
                              '0' + RUNNER_SIO_PACKET_ACK, id);
      g_string_append_len (out, json, len);
      g_string_append_c (out, ']');
      frame = g_string_free_to_bytes (out);
      runner_eio_session_send_frame (self->session, frame);
    }
}

static gsize
runner_sio_client_get_queued_bytes (RunnerClient *client)
{
  return runner_eio_session_get_queued (RUNNER_SIO_CLIENT (client)->session);
}

static void
runner_sio_client_close (RunnerClient *client,
                         const char   *reason)
{
  g_autoptr(RunnerSioClient) self = g_object_ref (RUNNER_SIO_CLIENT (client));

  /* No DISCONNECT packet: the client is to reconnect (after a restart, or
   * when it was dropped as too slow), as after a lost connection. */
  runner_eio_session_close (self->session, reason);
  runner_client_notify_closed (client);
}

static void
clear_pending (RunnerSioClient *self)
{
  g_clear_pointer (&self->pending, runner_sio_packet_free);
  g_clear_pointer (&self->attachments, g_ptr_array_unref);
  self->attachments_size = 0;
}

static void
protocol_error (RunnerSioClient *self,
                const char      *what)
{
  g_debug ("Client %s: %s", runner_client_get_id (RUNNER_CLIENT (self)), what);
  runner_client_close (RUNNER_CLIENT (self), what);
}

static void
dispatch_event (RunnerSioClient *self,
                RunnerSioPacket *packet,
                GPtrArray       *attachments)
{
  g_autoptr(RunnerRequest) request = NULL;
  JsonNode *arg = runner_sio_packet_get_arg (packet, 0);

  request = runner_client_new_request (RUNNER_CLIENT (self), runner_sio_packet_get_event (packet),
                                       arg != NULL ? json_node_ref (arg) : NULL,
                                       packet->id >= 0 ? packet->id : RUNNER_REQUEST_NO_ID);

  /* The request gets the bytes each placeholder member stands for. */
  if (attachments != NULL && arg != NULL && JSON_NODE_HOLDS_OBJECT (arg))
    {
      JsonObjectIter iter;
      const char *member;
      JsonNode *value;

      json_object_iter_init (&iter, json_node_get_object (arg));
      while (json_object_iter_next (&iter, &member, &value))
        {
          GBytes *bytes = runner_sio_placeholder_resolve (value, attachments);

          if (bytes != NULL)
            runner_request_set_bytes (request, member, bytes);
        }
    }

  runner_client_dispatch (RUNNER_CLIENT (self), request);
}

static void
refuse_namespace (RunnerSioClient *self,
                  const char      *nsp)
{
  g_autofree char *text = runner_sio_connect_error_new (nsp, "Invalid namespace");

  runner_eio_session_send (self->session, RUNNER_EIO_PACKET_MESSAGE, text);
}

static void
handle_text (RunnerSioClient *self,
             GBytes          *data)
{
  g_autoptr(RunnerSioPacket) packet = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *text = g_bytes_get_data (data, &len);

  if (self->pending != NULL)
    {
      protocol_error (self, "text packet while attachments were due");
      return;
    }

  packet = runner_sio_packet_decode (text, len, &error);
  if (packet == NULL)
    {
      protocol_error (self, error->message);
      return;
    }

  if (!g_str_equal (packet->nsp, "/"))
    {
      /* Only the main namespace exists. */
      if (packet->type == RUNNER_SIO_PACKET_CONNECT)
        refuse_namespace (self, packet->nsp);
      else
        protocol_error (self, "packet for a namespace not connected");
      return;
    }

  switch (packet->type)
    {
    case RUNNER_SIO_PACKET_EVENT:
      dispatch_event (self, packet, NULL);
      break;

    case RUNNER_SIO_PACKET_BINARY_EVENT:
      if (packet->attachments == 0)
        {
          dispatch_event (self, packet, NULL);
          break;
        }
      self->pending = g_steal_pointer (&packet);
      self->attachments = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      break;

    case RUNNER_SIO_PACKET_DISCONNECT:
      /* The client leaves; its session stays with the engine, which waits
       * for another CONNECT (as socket.io keeps the connection). */
      g_debug ("Client %s: namespace disconnect", runner_client_get_id (RUNNER_CLIENT (self)));
      g_signal_handlers_disconnect_by_data (self->session, self);
      clear_pending (self);
      runner_client_notify_closed (RUNNER_CLIENT (self));
      break;

    case RUNNER_SIO_PACKET_CONNECT:
    case RUNNER_SIO_PACKET_ACK:
    case RUNNER_SIO_PACKET_BINARY_ACK:
      /* Runner asks the client nothing, so no ack is due; a second CONNECT
       * changes nothing. */
      break;

    case RUNNER_SIO_PACKET_CONNECT_ERROR:
    default:
      protocol_error (self, "unexpected packet type");
      break;
    }
}

static void
handle_binary (RunnerSioClient *self,
               GBytes          *data)
{
  g_autoptr(RunnerSioPacket) packet = NULL;
  g_autoptr(GPtrArray) attachments = NULL;

  if (self->pending == NULL)
    {
      protocol_error (self, "binary packet without a binary event");
      return;
    }

  self->attachments_size += g_bytes_get_size (data);
  if (self->attachments_size > self->max_attachments_size)
    {
      protocol_error (self, "attachments over the size limit");
      return;
    }

  g_ptr_array_add (self->attachments, g_bytes_ref (data));
  if (self->attachments->len < self->pending->attachments)
    return;

  packet = g_steal_pointer (&self->pending);
  attachments = g_steal_pointer (&self->attachments);
  self->attachments_size = 0;
  dispatch_event (self, packet, attachments);
}

static void
on_session_message (RunnerEioSession *session,
                    GBytes           *data,
                    gboolean          binary,
                    RunnerSioClient  *self)
{
  g_autoptr(RunnerSioClient) hold = g_object_ref (self);

  if (runner_client_is_closed (RUNNER_CLIENT (self)))
    return;

  if (binary)
    handle_binary (self, data);
  else
    handle_text (self, data);
}

static void
on_session_drained (RunnerEioSession *session,
                    RunnerSioClient  *self)
{
  runner_client_notify_drained (RUNNER_CLIENT (self));
}

static void
on_session_closed (RunnerEioSession *session,
                   const char       *reason,
                   RunnerSioClient  *self)
{
  clear_pending (self);
  runner_client_notify_closed (RUNNER_CLIENT (self));
}

static void
runner_sio_client_dispose (GObject *object)
{
  RunnerSioClient *self = RUNNER_SIO_CLIENT (object);

  /* The engine owns the session and closes it; a client refused by the
   * server must leave it open for the CONNECT_ERROR to reach the peer. */
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->session);
  clear_pending (self);

  G_OBJECT_CLASS (runner_sio_client_parent_class)->dispose (object);
}

static void
runner_sio_client_class_init (RunnerSioClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  RunnerClientClass *client_class = RUNNER_CLIENT_CLASS (klass);

  object_class->dispose = runner_sio_client_dispose;

  client_class->send_message = runner_sio_client_send_message;
  client_class->send_reply = runner_sio_client_send_reply;
  client_class->get_queued_bytes = runner_sio_client_get_queued_bytes;
  client_class->close = runner_sio_client_close;
}

static void
runner_sio_client_init (RunnerSioClient *self)
{
}

/**
 * runner_sio_client_new:
 * @session: the Engine.IO session whose CONNECT to "/" was authorized
 * @remote: the peer's address, for logs
 * @max_attachments_size: the most bytes of attachments one event may carry
 *
 * Returns: (transfer full): a client that takes over @session's messages
 */
RunnerSioClient *
runner_sio_client_new (RunnerEioSession *session,
                       const char       *remote,
                       gsize             max_attachments_size)
{
  RunnerSioClient *self;

  g_return_val_if_fail (RUNNER_IS_EIO_SESSION (session), NULL);

  self = g_object_new (RUNNER_TYPE_SIO_CLIENT,
                       "transport", "socket.io",
                       "remote", remote,
                       NULL);
  self->session = g_object_ref (session);
  self->max_attachments_size = max_attachments_size;

  g_signal_connect (session, "message", G_CALLBACK (on_session_message), self);
  g_signal_connect (session, "drained", G_CALLBACK (on_session_drained), self);
  g_signal_connect (session, "closed", G_CALLBACK (on_session_closed), self);
  return self;
}

RunnerEioSession *
runner_sio_client_get_session (RunnerSioClient *self)
{
  g_return_val_if_fail (RUNNER_IS_SIO_CLIENT (self), NULL);
  return self->session;
}

/**
 * runner_sio_client_connected:
 *
 * Answers the client's CONNECT: `40{"sid":...}`, the sid being the client id.
 */
void
runner_sio_client_connected (RunnerSioClient *self)
{
  g_autofree char *text = NULL;

  g_return_if_fail (RUNNER_IS_SIO_CLIENT (self));

  text = g_strdup_printf ("%c{\"sid\":\"%s\"}", '0' + RUNNER_SIO_PACKET_CONNECT,
                          runner_client_get_id (RUNNER_CLIENT (self)));
  runner_eio_session_send (self->session, RUNNER_EIO_PACKET_MESSAGE, text);
}
