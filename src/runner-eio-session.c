/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-eio-session"

#include "config.h"

#include "runner-eio-session.h"

#include <string.h>
#include <sys/random.h>

#include "runner-error.h"
#include "runner-utf8.h"

/*
 * RunnerEioSession: one Engine.IO (protocol 4) connection.
 *
 * It starts on HTTP long-polling (one pending GET holds the next response,
 * POST bodies carry the client's packets) or directly on a WebSocket, and may
 * move from polling to a WebSocket: the client probes (`2probe` -> `3probe`),
 * the pending GET is answered with a noop so the client can pause polling,
 * then `5` switches the transport and the packets buffered meanwhile go out on
 * the WebSocket. The server pings every ping-interval and drops a session
 * whose pong does not come within ping-timeout; that also reaps a polling
 * client that simply went away.
 */

typedef enum
{
  TRANSPORT_NONE,
  TRANSPORT_POLLING,
  TRANSPORT_WEBSOCKET,
} Transport;

struct _RunnerEioSession
{
  GObject            parent_instance;

  char              *sid;            /* owned */
  guint              ping_interval;  /* ms */
  guint              ping_timeout;   /* ms */
  gsize              max_payload;
  gsize              max_message;    /* what the client may send now */
  Transport          transport;

  GQueue             outbox;         /* owned OutFrame, not yet taken */
  gsize              outbox_bytes;   /* their size in a polling payload */

  SoupServerMessage *poll;           /* owned: the paused GET, if any */
  RunnerWebsocket   *websocket;      /* owned: the WebSocket transport */
  RunnerWebsocket   *probe;          /* owned: a WebSocket being upgraded to */
  gboolean           probed;         /* the probe answered: polls get noops */

  guint              ping_source;
  guint              pong_source;
  guint              upgrade_source;
  guint              answer_source;  /* answers the poll once this turn is done */
  gboolean           closed;
};

G_DEFINE_FINAL_TYPE (RunnerEioSession, runner_eio_session, G_TYPE_OBJECT)

/* A packet on its way out: text frames include their type digit, so that a
 * broadcast frame (`42[...]`) is shared by every client, never copied. */
typedef struct
{
  GBytes   *bytes; /* owned */
  gboolean  binary;
} OutFrame;

static void
out_frame_free (OutFrame *frame)
{
  g_bytes_unref (frame->bytes);
  g_free (frame);
}

enum
{
  MESSAGE,
  DRAINED,
  CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void schedule_ping (RunnerEioSession *self);

static char *
generate_sid (void)
{
  guint8 bytes[15];
  gsize got = 0;
  char *sid;

  /* The sid is a capability once the Socket.IO connect is authorized: it must
   * not be guessable. */
  while (got < sizeof bytes)
    {
      ssize_t n = getrandom (bytes + got, sizeof bytes - got, 0);

      if (n > 0)
        got += (gsize) n;
      else
        g_assert (errno == EINTR);
    }

  sid = g_base64_encode (bytes, sizeof bytes);
  g_strdelimit (sid, "+", '-');
  g_strdelimit (sid, "/", '_');
  return sid;
}

static void
clear_outbox (RunnerEioSession *self)
{
  g_queue_clear_full (&self->outbox, (GDestroyNotify) out_frame_free);
  self->outbox_bytes = 0;
}

static void
forget_websocket (RunnerEioSession  *self,
                  RunnerWebsocket  **websocket,
                  gushort            code,
                  const char        *reason)
{
  if (*websocket == NULL)
    return;

  g_signal_handlers_disconnect_by_data (*websocket, self);
  runner_websocket_close (*websocket, code, reason);
  g_clear_object (websocket);
}

static void
on_poll_gone (SoupServerMessage *msg,
              RunnerEioSession  *self)
{
  if (self->poll != msg)
    return;

  g_debug ("Session %s: pending poll went away", self->sid);
  g_signal_handlers_disconnect_by_data (msg, self);
  g_clear_object (&self->poll);
}

static void
respond_text (SoupServerMessage *msg,
              GString           *payload)
{
  gsize len = payload->len;

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=UTF-8", SOUP_MEMORY_TAKE,
                                    g_string_free (payload, FALSE), len);
}

/* Answers the pending GET with @payload (taken), or with everything queued. */
static void
answer_poll (RunnerEioSession *self,
             GString          *payload)
{
  g_autoptr(SoupServerMessage) msg = g_steal_pointer (&self->poll);

  g_assert (msg != NULL);
  g_signal_handlers_disconnect_by_data (msg, self);
  respond_text (msg, payload);
  soup_server_message_unpause (msg);
}

static GString *
take_outbox (RunnerEioSession *self)
{
  GString *payload = g_string_sized_new (self->outbox_bytes);
  OutFrame *frame;

  while ((frame = g_queue_pop_head (&self->outbox)) != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (frame->bytes, &len);

      runner_eio_payload_append_frame (payload, data, len, frame->binary);
      out_frame_free (frame);
    }
  self->outbox_bytes = 0;
  return payload;
}

static GString *
single_packet (RunnerEioPacketType type)
{
  GString *payload = g_string_new (NULL);

  g_string_append_c (payload, (char) ('0' + type));
  return payload;
}

static void
answer_noop (RunnerEioSession *self)
{
  answer_poll (self, single_packet (RUNNER_EIO_PACKET_NOOP));
}

static gboolean
websocket_ready (RunnerEioSession *self)
{
  return self->transport == TRANSPORT_WEBSOCKET && self->websocket != NULL
         && runner_websocket_is_open (self->websocket);
}

static gboolean
answer_later (gpointer user_data)
{
  RunnerEioSession *self = user_data;

  self->answer_source = 0;
  if (self->poll != NULL && !self->probed && !g_queue_is_empty (&self->outbox))
    {
      answer_poll (self, take_outbox (self));
      g_signal_emit (self, signals[DRAINED], 0);
    }
  return G_SOURCE_REMOVE;
}

/* Moves what is queued to whichever transport can take it now. */
static void
flush (RunnerEioSession *self)
{
  gboolean had_bytes = self->outbox_bytes > 0;

  if (self->closed || g_queue_is_empty (&self->outbox))
    return;

  if (websocket_ready (self))
    {
      OutFrame *frame;

      while ((frame = g_queue_pop_head (&self->outbox)) != NULL)
        {
          if (frame->binary)
            runner_websocket_send_binary (self->websocket, frame->bytes);
          else
            runner_websocket_send_text (self->websocket, frame->bytes);
          out_frame_free (frame);
        }
      self->outbox_bytes = 0;
    }
  else if (self->transport == TRANSPORT_POLLING && self->poll != NULL && !self->probed)
    {
      /* What one event causes (a push and its ack) leaves in one response. */
      if (self->answer_source == 0)
        self->answer_source = g_idle_add_full (G_PRIORITY_DEFAULT, answer_later, self, NULL);
      return;
    }

  if (had_bytes && self->outbox_bytes == 0)
    g_signal_emit (self, signals[DRAINED], 0);
}

static void
queue_frame (RunnerEioSession *self,
             GBytes           *bytes,
             gboolean          binary)
{
  OutFrame *frame;

  if (self->closed)
    return;

  frame = g_new0 (OutFrame, 1);
  frame->bytes = g_bytes_ref (bytes);
  frame->binary = binary;
  if (!g_queue_is_empty (&self->outbox))
    self->outbox_bytes++;
  self->outbox_bytes += runner_eio_frame_get_polling_size (g_bytes_get_size (bytes), binary);
  g_queue_push_tail (&self->outbox, frame);

  flush (self);
}

/**
 * runner_eio_session_send_frame:
 * @frame: a whole Engine.IO text packet, type digit first (`42[...]`);
 *   kept by reference, not copied
 *
 * Queues a packet; it goes out on the WebSocket at once, or with the next
 * poll.
 */
void
runner_eio_session_send_frame (RunnerEioSession *self,
                               GBytes           *frame)
{
  g_autoptr(GBytes) text = NULL;

  g_return_if_fail (RUNNER_IS_EIO_SESSION (self));
  g_return_if_fail (frame != NULL && g_bytes_get_size (frame) > 0);

  /* Text goes to JavaScript clients, over polling too: UTF-8 only. */
  text = runner_utf8_make_valid_bytes (frame);
  if (text != frame)
    g_warning ("Packet of %zu bytes was not UTF-8; sent with U+FFFD", g_bytes_get_size (frame));
  queue_frame (self, text, FALSE);
}

/**
 * runner_eio_session_send_binary:
 * @data: raw bytes (a Socket.IO attachment); kept by reference
 */
void
runner_eio_session_send_binary (RunnerEioSession *self,
                                GBytes           *data)
{
  g_return_if_fail (RUNNER_IS_EIO_SESSION (self));
  g_return_if_fail (data != NULL);

  queue_frame (self, data, TRUE);
}

/**
 * runner_eio_session_send:
 * @type: the packet type
 * @text: (nullable): what follows the type digit
 *
 * Queues a text packet built from @type and a copy of @text.
 */
void
runner_eio_session_send (RunnerEioSession    *self,
                         RunnerEioPacketType  type,
                         const char          *text)
{
  g_autoptr(GBytes) frame = NULL;
  GString *out;

  g_return_if_fail (RUNNER_IS_EIO_SESSION (self));

  out = g_string_new (NULL);
  g_string_append_c (out, (char) ('0' + type));
  if (text != NULL)
    g_string_append (out, text);
  frame = g_string_free_to_bytes (out);
  runner_eio_session_send_frame (self, frame);
}

static gboolean
on_pong_timeout (gpointer user_data)
{
  RunnerEioSession *self = user_data;

  self->pong_source = 0;
  g_debug ("Session %s: no pong within %u ms", self->sid, self->ping_timeout);
  runner_eio_session_close (self, "ping timeout");
  return G_SOURCE_REMOVE;
}

static gboolean
on_ping (gpointer user_data)
{
  RunnerEioSession *self = user_data;

  self->ping_source = 0;
  runner_eio_session_send (self, RUNNER_EIO_PACKET_PING, NULL);
  g_clear_handle_id (&self->pong_source, g_source_remove);
  self->pong_source = g_timeout_add (self->ping_timeout, on_pong_timeout, self);
  return G_SOURCE_REMOVE;
}

static void
schedule_ping (RunnerEioSession *self)
{
  g_clear_handle_id (&self->ping_source, g_source_remove);
  self->ping_source = g_timeout_add (self->ping_interval, on_ping, self);
}

/* One packet from the client, over either transport. */
static void
handle_packet (RunnerEioSession *self,
               RunnerEioPacket  *packet)
{
  switch (packet->type)
    {
    case RUNNER_EIO_PACKET_PONG:
      g_clear_handle_id (&self->pong_source, g_source_remove);
      schedule_ping (self);
      break;

    case RUNNER_EIO_PACKET_MESSAGE:
      g_signal_emit (self, signals[MESSAGE], 0, packet->data, packet->binary);
      break;

    case RUNNER_EIO_PACKET_CLOSE:
      /* As engine.io: the client's own close ends its pending poll with a
       * noop; the close packet is for sessions the server ends. */
      if (self->poll != NULL)
        answer_noop (self);
      runner_eio_session_close (self, "transport close");
      break;

    case RUNNER_EIO_PACKET_PING:
      /* Protocol 4: only the server pings (probes are handled apart). */
      runner_eio_session_close (self, "invalid heartbeat direction");
      break;

    case RUNNER_EIO_PACKET_OPEN:
    case RUNNER_EIO_PACKET_UPGRADE:
    case RUNNER_EIO_PACKET_NOOP:
    default:
      break;
    }
}

/**
 * runner_eio_session_handle_poll:
 * @msg: a polling GET for this session
 *
 * Answers @msg with what is queued, or holds it until something is.
 */
void
runner_eio_session_handle_poll (RunnerEioSession  *self,
                                SoupServerMessage *msg)
{
  g_return_if_fail (RUNNER_IS_EIO_SESSION (self));
  g_return_if_fail (SOUP_IS_SERVER_MESSAGE (msg));
  g_return_if_fail (!self->closed);

  if (self->transport == TRANSPORT_NONE)
    self->transport = TRANSPORT_POLLING;
  g_return_if_fail (self->transport == TRANSPORT_POLLING);

  if (self->poll != NULL)
    {
      /* Two GETs at once: engine.io treats that as a broken client. */
      g_debug ("Session %s: overlapping polls", self->sid);
      soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST, NULL);
      runner_eio_session_close (self, "overlapping polls");
      return;
    }

  if (self->probed)
    {
      respond_text (msg, single_packet (RUNNER_EIO_PACKET_NOOP));
      return;
    }

  if (!g_queue_is_empty (&self->outbox))
    {
      respond_text (msg, take_outbox (self));
      g_signal_emit (self, signals[DRAINED], 0);
      return;
    }

  self->poll = g_object_ref (msg);
  g_signal_connect (msg, "finished", G_CALLBACK (on_poll_gone), self);
  g_signal_connect (msg, "disconnected", G_CALLBACK (on_poll_gone), self);
  soup_server_message_pause (msg);
}

/**
 * runner_eio_session_handle_post:
 * @msg: a polling POST for this session, its body read
 *
 * Decodes the body and handles its packets; the caller answers @msg.
 *
 * Returns: %FALSE with RUNNER_ERROR_TOO_BIG or RUNNER_ERROR_INVALID when the
 *   body is refused (the session is then closed)
 */
gboolean
runner_eio_session_handle_post (RunnerEioSession  *self,
                                SoupServerMessage *msg,
                                GError           **error)
{
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GPtrArray) packets = NULL;
  const guint8 *data;
  gsize len;

  g_return_val_if_fail (RUNNER_IS_EIO_SESSION (self), FALSE);
  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), FALSE);
  g_return_val_if_fail (!self->closed, FALSE);

  if (self->transport == TRANSPORT_NONE)
    self->transport = TRANSPORT_POLLING;

  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  data = g_bytes_get_data (body, &len);

  if (len > self->max_message)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_TOO_BIG,
                   "Payload of %zu bytes over the limit of %zu", len, self->max_message);
      runner_eio_session_close (self, "payload too large");
      return FALSE;
    }

  packets = runner_eio_payload_decode (data, len, RUNNER_EIO_MAX_PACKETS, error);
  if (packets == NULL)
    {
      runner_eio_session_close (self, "parse error");
      return FALSE;
    }

  g_object_ref (self);
  for (guint i = 0; i < packets->len && !self->closed; i++)
    handle_packet (self, g_ptr_array_index (packets, i));
  g_object_unref (self);

  return TRUE;
}

static gboolean
on_upgrade_timeout (gpointer user_data)
{
  RunnerEioSession *self = user_data;

  self->upgrade_source = 0;
  g_debug ("Session %s: upgrade timed out", self->sid);
  self->probed = FALSE;
  forget_websocket (self, &self->probe, SOUP_WEBSOCKET_CLOSE_NORMAL, "upgrade timeout");
  flush (self);
  return G_SOURCE_REMOVE;
}

static void
finish_upgrade (RunnerEioSession *self)
{
  g_debug ("Session %s: upgraded to websocket", self->sid);

  g_clear_handle_id (&self->upgrade_source, g_source_remove);
  self->websocket = g_steal_pointer (&self->probe);
  self->transport = TRANSPORT_WEBSOCKET;
  self->probed = FALSE;

  if (self->poll != NULL)
    answer_noop (self);
  flush (self);
}

static void
handle_probe_message (RunnerEioSession *self,
                      gint              type,
                      GBytes           *message)
{
  gsize len;
  const char *text = g_bytes_get_data (message, &len);
  g_autoptr(GBytes) probe = NULL;

  if (type == SOUP_WEBSOCKET_DATA_TEXT && len == 6 && memcmp (text, "2probe", 6) == 0)
    {
      probe = g_bytes_new_static ("3probe", 6);
      runner_websocket_send_text (self->probe, probe);
      self->probed = TRUE;
      /* Let the client's pending poll end so that it can pause polling. */
      if (self->poll != NULL)
        answer_noop (self);
      return;
    }

  if (type == SOUP_WEBSOCKET_DATA_TEXT && len == 1 && text[0] == '0' + RUNNER_EIO_PACKET_UPGRADE
      && self->probed)
    {
      finish_upgrade (self);
      return;
    }

  g_debug ("Session %s: invalid upgrade", self->sid);
  self->probed = FALSE;
  g_clear_handle_id (&self->upgrade_source, g_source_remove);
  forget_websocket (self, &self->probe, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR, "invalid upgrade");
  flush (self);
}

static void
on_websocket_message (RunnerWebsocket  *websocket,
                      gint              type,
                      GBytes           *message,
                      RunnerEioSession *self)
{
  g_autoptr(RunnerEioPacket) packet = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) hold = g_object_ref (G_OBJECT (self));
  const guint8 *data;
  gsize len;

  if (self->closed)
    return;

  if (websocket == self->probe)
    {
      handle_probe_message (self, type, message);
      return;
    }

  if (type == SOUP_WEBSOCKET_DATA_BINARY)
    {
      packet = runner_eio_packet_new (RUNNER_EIO_PACKET_MESSAGE, TRUE, message);
    }
  else
    {
      data = g_bytes_get_data (message, &len);
      packet = runner_eio_packet_decode (data, len, FALSE, &error);
      if (packet == NULL)
        {
          g_debug ("Session %s: %s", self->sid, error->message);
          runner_eio_session_close (self, "parse error");
          return;
        }
    }

  handle_packet (self, packet);
}

static void
on_websocket_open (RunnerWebsocket  *websocket,
                   RunnerEioSession *self)
{
  flush (self);
}

static void
on_websocket_written (RunnerWebsocket  *websocket,
                      RunnerEioSession *self)
{
  if (websocket == self->websocket)
    g_signal_emit (self, signals[DRAINED], 0);
}

static void
on_websocket_closed (RunnerWebsocket  *websocket,
                     RunnerEioSession *self)
{
  if (websocket == self->probe)
    {
      /* A failed upgrade leaves the session on polling. */
      g_debug ("Session %s: probe closed", self->sid);
      g_clear_handle_id (&self->upgrade_source, g_source_remove);
      self->probed = FALSE;
      g_signal_handlers_disconnect_by_data (websocket, self);
      g_clear_object (&self->probe);
      flush (self);
      return;
    }

  if (websocket == self->websocket)
    runner_eio_session_close (self, "transport close");
}

/**
 * runner_eio_session_attach_websocket:
 * @websocket: an accepted WebSocket for this session
 *
 * On a new session, @websocket becomes its transport. On a polling session
 * it is a probe: the session moves to it when the client completes the
 * upgrade within %RUNNER_EIO_UPGRADE_TIMEOUT_MS.
 */
void
runner_eio_session_attach_websocket (RunnerEioSession *self,
                                     RunnerWebsocket  *websocket)
{
  g_return_if_fail (RUNNER_IS_EIO_SESSION (self));
  g_return_if_fail (RUNNER_IS_WEBSOCKET (websocket));
  g_return_if_fail (!self->closed);
  g_return_if_fail (self->probe == NULL && self->transport != TRANSPORT_WEBSOCKET);

  if (self->transport == TRANSPORT_NONE)
    {
      self->transport = TRANSPORT_WEBSOCKET;
      self->websocket = g_object_ref (websocket);
    }
  else
    {
      self->probe = g_object_ref (websocket);
      self->upgrade_source = g_timeout_add (RUNNER_EIO_UPGRADE_TIMEOUT_MS, on_upgrade_timeout, self);
    }

  runner_websocket_set_max_message (websocket, self->max_message);
  g_signal_connect (websocket, "open", G_CALLBACK (on_websocket_open), self);
  g_signal_connect (websocket, "message", G_CALLBACK (on_websocket_message), self);
  g_signal_connect (websocket, "written", G_CALLBACK (on_websocket_written), self);
  g_signal_connect (websocket, "closed", G_CALLBACK (on_websocket_closed), self);
}

/**
 * runner_eio_session_set_max_message:
 * @max_message: the largest POST body or WebSocket message accepted from now
 *   on (at most the max-payload given at creation, which the open packet
 *   announces)
 */
void
runner_eio_session_set_max_message (RunnerEioSession *self,
                                    gsize             max_message)
{
  g_return_if_fail (RUNNER_IS_EIO_SESSION (self));
  g_return_if_fail (max_message <= self->max_payload);

  self->max_message = max_message;
  if (self->websocket != NULL)
    runner_websocket_set_max_message (self->websocket, max_message);
  if (self->probe != NULL)
    runner_websocket_set_max_message (self->probe, max_message);
}

gsize
runner_eio_session_get_max_message (RunnerEioSession *self)
{
  g_return_val_if_fail (RUNNER_IS_EIO_SESSION (self), 0);
  return self->max_message;
}

/**
 * runner_eio_session_get_queued:
 *
 * Returns: bytes accepted for the client and not yet taken: buffered packets
 *   no poll has carried away, plus what the WebSocket has not written
 */
gsize
runner_eio_session_get_queued (RunnerEioSession *self)
{
  g_return_val_if_fail (RUNNER_IS_EIO_SESSION (self), 0);

  if (self->websocket != NULL)
    return self->outbox_bytes + runner_websocket_get_queued (self->websocket);
  return self->outbox_bytes;
}

static void
teardown (RunnerEioSession *self,
          const char       *reason)
{
  g_clear_handle_id (&self->ping_source, g_source_remove);
  g_clear_handle_id (&self->pong_source, g_source_remove);
  g_clear_handle_id (&self->upgrade_source, g_source_remove);
  g_clear_handle_id (&self->answer_source, g_source_remove);
  clear_outbox (self);

  /* The client sees a close packet, not a hung request. */
  if (self->poll != NULL)
    answer_poll (self, single_packet (RUNNER_EIO_PACKET_CLOSE));

  forget_websocket (self, &self->probe, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, reason);
  forget_websocket (self, &self->websocket, SOUP_WEBSOCKET_CLOSE_NORMAL, reason);
}

/**
 * runner_eio_session_close:
 * @reason: why, for the log and the ::closed signal
 *
 * Ends the session: a pending poll gets a close packet, a WebSocket is
 * closed. Emits ::closed once.
 */
void
runner_eio_session_close (RunnerEioSession *self,
                          const char       *reason)
{
  g_return_if_fail (RUNNER_IS_EIO_SESSION (self));

  if (self->closed)
    return;

  self->closed = TRUE;
  g_debug ("Session %s closed: %s", self->sid, reason);

  g_object_ref (self);
  teardown (self, reason);
  g_signal_emit (self, signals[CLOSED], 0, reason);
  g_object_unref (self);
}

static void
runner_eio_session_dispose (GObject *object)
{
  RunnerEioSession *self = RUNNER_EIO_SESSION (object);

  self->closed = TRUE;
  teardown (self, "server shutdown");

  G_OBJECT_CLASS (runner_eio_session_parent_class)->dispose (object);
}

static void
runner_eio_session_finalize (GObject *object)
{
  RunnerEioSession *self = RUNNER_EIO_SESSION (object);

  g_free (self->sid);

  G_OBJECT_CLASS (runner_eio_session_parent_class)->finalize (object);
}

static void
runner_eio_session_class_init (RunnerEioSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = runner_eio_session_dispose;
  object_class->finalize = runner_eio_session_finalize;

  /**
   * RunnerEioSession::message:
   * @data: the message: Socket.IO packet text, or raw bytes
   * @binary: whether @data is an attachment
   */
  signals[MESSAGE] =
    g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_BYTES, G_TYPE_BOOLEAN);

  /**
   * RunnerEioSession::drained:
   *
   * Queued bytes went down (a poll took them, or the WebSocket wrote some).
   */
  signals[DRAINED] =
    g_signal_new ("drained", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  /**
   * RunnerEioSession::closed:
   * @reason: why
   *
   * Emitted once, when the session ends for any reason.
   */
  signals[CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
runner_eio_session_init (RunnerEioSession *self)
{
  g_queue_init (&self->outbox);
}

/**
 * runner_eio_session_new:
 * @ping_interval: ms between server pings
 * @ping_timeout: ms to wait for the pong
 * @max_payload: the largest POST body or WebSocket message accepted, until
 *   runner_eio_session_set_max_message() lowers it
 *
 * Returns: (transfer full): a session with a fresh random sid; its pings start now
 */
RunnerEioSession *
runner_eio_session_new (guint ping_interval,
                        guint ping_timeout,
                        gsize max_payload)
{
  RunnerEioSession *self;

  g_return_val_if_fail (ping_interval > 0 && ping_timeout > 0, NULL);

  self = g_object_new (RUNNER_TYPE_EIO_SESSION, NULL);
  self->sid = generate_sid ();
  self->ping_interval = ping_interval;
  self->ping_timeout = ping_timeout;
  self->max_payload = max_payload;
  self->max_message = max_payload;
  schedule_ping (self);
  return self;
}

const char *
runner_eio_session_get_sid (RunnerEioSession *self)
{
  g_return_val_if_fail (RUNNER_IS_EIO_SESSION (self), NULL);
  return self->sid;
}

/**
 * runner_eio_session_get_transport:
 *
 * Returns: "polling" or "websocket" (the active transport)
 */
const char *
runner_eio_session_get_transport (RunnerEioSession *self)
{
  g_return_val_if_fail (RUNNER_IS_EIO_SESSION (self), NULL);
  return self->transport == TRANSPORT_WEBSOCKET ? "websocket" : "polling";
}

gboolean
runner_eio_session_is_closed (RunnerEioSession *self)
{
  g_return_val_if_fail (RUNNER_IS_EIO_SESSION (self), TRUE);
  return self->closed;
}

/**
 * runner_eio_session_is_upgrading:
 *
 * Returns: whether a WebSocket probe is attached
 */
gboolean
runner_eio_session_is_upgrading (RunnerEioSession *self)
{
  g_return_val_if_fail (RUNNER_IS_EIO_SESSION (self), FALSE);
  return self->probe != NULL;
}

/**
 * runner_eio_session_build_open:
 * @can_upgrade: offer the WebSocket upgrade (polling handshakes)
 *
 * Returns: (transfer full): the open packet's JSON
 */
char *
runner_eio_session_build_open (RunnerEioSession *self,
                               gboolean          can_upgrade)
{
  g_return_val_if_fail (RUNNER_IS_EIO_SESSION (self), NULL);

  return g_strdup_printf ("{\"sid\":\"%s\",\"upgrades\":[%s],\"pingInterval\":%u,"
                          "\"pingTimeout\":%u,\"maxPayload\":%zu}",
                          self->sid, can_upgrade ? "\"websocket\"" : "", self->ping_interval,
                          self->ping_timeout, self->max_payload);
}
