/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-websocket"

#include "config.h"

#include "runner-websocket.h"
#include "runner-error.h"
#include "runner-metered-stream.h"
#include "runner-utf8.h"
#include "runner-ws-limit-stream.h"

/*
 * RunnerWebsocket: a server WebSocket whose queued bytes are known.
 *
 * libsoup does the handshake and the framing; Runner accepts the upgrade in
 * its own handler (so one path can serve both Engine.IO polling and the
 * WebSocket upgrade) with no extensions (permessage-deflate would let a small
 * compressed frame inflate past the frame cap), then builds the connection on
 * the stolen stream with a metered output stream under it, and an input
 * stream that bounds each message, all its fragments together.
 */
struct _RunnerWebsocket
{
  GObject                  parent_instance;
  SoupServerMessage       *msg;        /* owned until the upgrade completes */
  SoupWebsocketConnection *conn;       /* owned */
  GIOStream               *stolen;     /* owned: the real connection */
  GIOStream               *wrapped;    /* owned: input + metered output */
  RunnerMeteredStream     *metered;    /* owned */
  RunnerWsLimitStream     *limit;      /* owned */
  char                    *remote;     /* owned */
  gsize                    max_message;
  gsize                    queued;
  guint                    keepalive;
  gboolean                 closed;
};

G_DEFINE_FINAL_TYPE (RunnerWebsocket, runner_websocket, G_TYPE_OBJECT)

enum {
  OPEN,
  MESSAGE,
  WRITTEN,
  CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gsize
frame_size (gsize len)
{
  /* Server frames are never masked. */
  if (len < 126)
    return 2 + len;
  if (len < 65536)
    return 4 + len;
  return 10 + len;
}

static void
on_written (gsize    written,
            gpointer user_data)
{
  RunnerWebsocket *self = user_data;

  /* Pongs and the close frame pass through too: never go below zero. */
  self->queued = self->queued > written ? self->queued - written : 0;
  g_signal_emit (self, signals[WRITTEN], 0);
}

static void
on_message (SoupWebsocketConnection *conn,
            gint                     type,
            GBytes                  *message,
            RunnerWebsocket         *self)
{
  g_signal_emit (self, signals[MESSAGE], 0, type, message);
}

static void
teardown (RunnerWebsocket *self)
{
  if (self->metered != NULL)
    runner_metered_stream_disconnect (self->metered);
  if (self->conn != NULL)
    g_signal_handlers_disconnect_by_data (self->conn, self);
  if (self->stolen != NULL && !g_io_stream_is_closed (self->stolen))
    g_io_stream_close_async (self->stolen, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
}

static void
on_closed (SoupWebsocketConnection *conn,
           RunnerWebsocket         *self)
{
  if (self->closed)
    return;
  self->closed = TRUE;

  g_object_ref (self);
  teardown (self);
  g_signal_emit (self, signals[CLOSED], 0);
  g_object_unref (self);
}

static void
on_error (SoupWebsocketConnection *conn,
          GError                  *error,
          RunnerWebsocket         *self)
{
  g_debug ("WebSocket %s: %s", self->remote, error->message);

  /* libsoup then drops the connection; tell the client why if the socket
   * takes the close frame at once. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE) &&
      soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_TOO_BIG, "Message too big");
}

static void
on_wrote_informational (SoupServerMessage *msg,
                        RunnerWebsocket   *self)
{
  g_autoptr(GOutputStream) metered = NULL;
  g_autoptr(GInputStream) limit = NULL;
  GUri *uri;

  g_signal_handlers_disconnect_by_func (msg, on_wrote_informational, self);

  self->stolen = soup_server_message_steal_connection (msg);
  limit = runner_ws_limit_stream_new (g_io_stream_get_input_stream (self->stolen),
                                      self->max_message);
  self->limit = g_object_ref (RUNNER_WS_LIMIT_STREAM (limit));
  metered = runner_metered_stream_new (g_io_stream_get_output_stream (self->stolen),
                                       on_written, self);
  self->metered = g_object_ref (RUNNER_METERED_STREAM (metered));
  self->wrapped = g_simple_io_stream_new (limit, metered);

  uri = soup_server_message_get_uri (msg);
  self->conn = soup_websocket_connection_new (self->wrapped, uri, SOUP_WEBSOCKET_CONNECTION_SERVER,
                                              soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Origin"),
                                              NULL, NULL);
  /* Per frame only; the limit stream counts whole messages. */
  soup_websocket_connection_set_max_incoming_payload_size (self->conn, self->max_message);
  if (self->keepalive > 0)
    soup_websocket_connection_set_keepalive_interval (self->conn, self->keepalive);

  g_signal_connect (self->conn, "message", G_CALLBACK (on_message), self);
  g_signal_connect (self->conn, "closed", G_CALLBACK (on_closed), self);
  g_signal_connect (self->conn, "error", G_CALLBACK (on_error), self);

  g_clear_object (&self->msg);

  g_object_ref (self);
  g_signal_emit (self, signals[OPEN], 0);
  g_object_unref (self);
}

static void
on_msg_finished (SoupServerMessage *msg,
                 RunnerWebsocket   *self)
{
  /* The client went away before the upgrade was written. */
  if (self->conn == NULL && !self->closed)
    {
      self->closed = TRUE;
      g_clear_object (&self->msg);
      g_signal_emit (self, signals[CLOSED], 0);
    }
}

static void
runner_websocket_dispose (GObject *object)
{
  RunnerWebsocket *self = RUNNER_WEBSOCKET (object);

  if (self->msg != NULL)
    g_signal_handlers_disconnect_by_data (self->msg, self);
  teardown (self);
  if (self->conn != NULL &&
      soup_websocket_connection_get_state (self->conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (self->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);

  g_clear_object (&self->msg);
  g_clear_object (&self->conn);
  g_clear_object (&self->wrapped);
  g_clear_object (&self->metered);
  g_clear_object (&self->limit);
  g_clear_object (&self->stolen);

  G_OBJECT_CLASS (runner_websocket_parent_class)->dispose (object);
}

static void
runner_websocket_finalize (GObject *object)
{
  RunnerWebsocket *self = RUNNER_WEBSOCKET (object);

  g_free (self->remote);

  G_OBJECT_CLASS (runner_websocket_parent_class)->finalize (object);
}

static void
runner_websocket_class_init (RunnerWebsocketClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = runner_websocket_dispose;
  object_class->finalize = runner_websocket_finalize;

  /**
   * RunnerWebsocket::open:
   *
   * The upgrade was written; messages may flow.
   */
  signals[OPEN] =
    g_signal_new ("open", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  /**
   * RunnerWebsocket::message:
   * @type: a #SoupWebsocketDataType
   * @data: the message
   */
  signals[MESSAGE] =
    g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_BYTES);

  /**
   * RunnerWebsocket::written:
   *
   * Bytes left the queue for the kernel.
   */
  signals[WRITTEN] =
    g_signal_new ("written", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  /**
   * RunnerWebsocket::closed:
   *
   * The connection is closed (or the upgrade never completed). Emitted once.
   */
  signals[CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
runner_websocket_init (RunnerWebsocket *self)
{
}

/**
 * runner_websocket_is_upgrade:
 *
 * Returns: whether @msg asks for a WebSocket upgrade
 */
gboolean
runner_websocket_is_upgrade (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  return soup_message_headers_header_contains (headers, "Upgrade", "websocket");
}

/**
 * runner_websocket_accept:
 * @msg: a request that asks for a WebSocket upgrade, in a server handler
 * @max_message: the largest message accepted from the client (all its
 *   fragments together); a larger one closes the connection with 1009
 *
 * Answers the handshake (101) without extensions. The connection is usable
 * once #RunnerWebsocket::open is emitted.
 *
 * Returns: (transfer full): the pending WebSocket, or %NULL with @error set
 *   and an error status on @msg when the handshake is bad
 */
RunnerWebsocket *
runner_websocket_accept (SoupServerMessage  *msg,
                         gsize               max_message,
                         GError            **error)
{
  RunnerWebsocket *self;
  GInetSocketAddress *addr;
  GError *local_error = NULL;

  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), NULL);

  if (!soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &local_error))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST, NULL);
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_INVALID, local_error->message);
      g_error_free (local_error);
      return NULL;
    }

  if (!soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL))
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_INVALID, "Bad WebSocket handshake");
      return NULL;
    }

  self = g_object_new (RUNNER_TYPE_WEBSOCKET, NULL);
  self->msg = g_object_ref (msg);
  self->max_message = max_message;
  addr = G_INET_SOCKET_ADDRESS (soup_server_message_get_remote_address (msg));
  if (addr != NULL)
    self->remote = g_inet_address_to_string (g_inet_socket_address_get_address (addr));
  else
    self->remote = g_strdup ("unknown");

  g_signal_connect (msg, "wrote-informational", G_CALLBACK (on_wrote_informational), self);
  g_signal_connect (msg, "finished", G_CALLBACK (on_msg_finished), self);

  return self;
}

gboolean
runner_websocket_is_open (RunnerWebsocket *self)
{
  g_return_val_if_fail (RUNNER_IS_WEBSOCKET (self), FALSE);

  return !self->closed && self->conn != NULL &&
         soup_websocket_connection_get_state (self->conn) == SOUP_WEBSOCKET_STATE_OPEN;
}

/**
 * runner_websocket_get_queued:
 *
 * Returns: bytes handed to the connection that have not reached the kernel
 */
gsize
runner_websocket_get_queued (RunnerWebsocket *self)
{
  g_return_val_if_fail (RUNNER_IS_WEBSOCKET (self), 0);
  return self->queued;
}

static void
send_frame (RunnerWebsocket       *self,
            SoupWebsocketDataType  type,
            GBytes                *data)
{
  g_autoptr(GBytes) text = NULL;
  gsize len;
  gconstpointer bytes;

  if (!runner_websocket_is_open (self))
    return;

  /* soup refuses invalid UTF-8 with a critical and sends nothing: such text
   * would stay counted as queued. Never hand it over. */
  if (type == SOUP_WEBSOCKET_DATA_TEXT)
    {
      text = runner_utf8_make_valid_bytes (data);
      if (text != data)
        g_warning ("Text frame of %zu bytes was not UTF-8; sent with U+FFFD",
                   g_bytes_get_size (data));
      data = text;
    }

  bytes = g_bytes_get_data (data, &len);
  /* Count first: soup writes at once when the socket takes it. */
  self->queued += frame_size (len);
  if (type == SOUP_WEBSOCKET_DATA_TEXT)
    soup_websocket_connection_send_message (self->conn, type, data);
  else
    soup_websocket_connection_send_binary (self->conn, bytes, len);
}

void
runner_websocket_send_text (RunnerWebsocket *self,
                            GBytes          *text)
{
  g_return_if_fail (RUNNER_IS_WEBSOCKET (self));
  send_frame (self, SOUP_WEBSOCKET_DATA_TEXT, text);
}

void
runner_websocket_send_binary (RunnerWebsocket *self,
                              GBytes          *data)
{
  g_return_if_fail (RUNNER_IS_WEBSOCKET (self));
  send_frame (self, SOUP_WEBSOCKET_DATA_BINARY, data);
}

/**
 * runner_websocket_set_max_message:
 * @max_message: the largest message accepted from now on
 */
void
runner_websocket_set_max_message (RunnerWebsocket *self,
                                  gsize            max_message)
{
  g_return_if_fail (RUNNER_IS_WEBSOCKET (self));

  self->max_message = max_message;
  if (self->limit != NULL)
    runner_ws_limit_stream_set_max_message (self->limit, max_message);
  if (self->conn != NULL)
    soup_websocket_connection_set_max_incoming_payload_size (self->conn, max_message);
}

void
runner_websocket_set_keepalive (RunnerWebsocket *self,
                                guint            seconds)
{
  g_return_if_fail (RUNNER_IS_WEBSOCKET (self));

  self->keepalive = seconds;
  if (self->conn != NULL)
    soup_websocket_connection_set_keepalive_interval (self->conn, seconds);
}

/**
 * runner_websocket_close:
 * @code: a WebSocket close code
 * @reason: (nullable): a short reason
 */
void
runner_websocket_close (RunnerWebsocket *self,
                        gushort          code,
                        const char      *reason)
{
  g_return_if_fail (RUNNER_IS_WEBSOCKET (self));

  if (self->closed)
    return;

  if (self->conn != NULL &&
      soup_websocket_connection_get_state (self->conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (self->conn, code, reason);
  else if (self->conn == NULL)
    on_msg_finished (self->msg, self);
}

const char *
runner_websocket_get_remote (RunnerWebsocket *self)
{
  g_return_val_if_fail (RUNNER_IS_WEBSOCKET (self), NULL);
  return self->remote;
}
