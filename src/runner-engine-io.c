/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-engine-io"

#include "config.h"

#include "runner-engine-io.h"

#include "runner-eio-codec.h"
#include "runner-eio-session.h"
#include "runner-error.h"
#include "runner-sio-client.h"
#include "runner-websocket.h"

/*
 * RunnerEngineIO: the Socket.IO v4 endpoint at /socket.io/ (Engine.IO
 * protocol 4). It routes each request to its session (handshake, polling
 * GET/POST, WebSocket upgrade), answers errors as engine.io does, and handles
 * the Socket.IO CONNECT: the token check, then a RunnerSioClient that the
 * hub counts in.
 */

#define SIO_PATH "/socket.io/"

/* engine.io's error codes */
enum
{
  EIO_ERROR_UNKNOWN_TRANSPORT = 0,
  EIO_ERROR_UNKNOWN_SID = 1,
  EIO_ERROR_BAD_HANDSHAKE_METHOD = 2,
  EIO_ERROR_BAD_REQUEST = 3,
  EIO_ERROR_FORBIDDEN = 4,
  EIO_ERROR_UNSUPPORTED_PROTOCOL_VERSION = 5,
};

typedef struct
{
  RunnerEngineIO   *engine;              /* unowned */
  RunnerEioSession *session;             /* owned */
  RunnerSioClient  *client;              /* owned, once connected */
  char             *remote;              /* owned */
  gboolean          handshake_authorized; /* ?token= or Bearer on the handshake */
  guint             connect_source;
  GList            *waiting;             /* in the engine's @unconnected until CONNECT */
} Entry;

struct _RunnerEngineIO
{
  GObject       parent_instance;

  RunnerConfig *config;   /* unowned: outlives us */
  RunnerHub    *hub;      /* owned: where connected clients go */
  RunnerAuth   *auth;     /* owned */
  SoupServer   *soup;     /* owned */
  GHashTable   *sessions; /* sid -> owned Entry */
  GQueue        unconnected; /* Entry, oldest first: sessions without a client yet */
};

G_DEFINE_FINAL_TYPE (RunnerEngineIO, runner_engine_io, G_TYPE_OBJECT)

static void
entry_free (Entry *entry)
{
  g_clear_handle_id (&entry->connect_source, g_source_remove);
  if (entry->waiting != NULL)
    g_queue_delete_link (&entry->engine->unconnected, entry->waiting);
  g_signal_handlers_disconnect_by_data (entry->session, entry);
  if (entry->client != NULL)
    g_signal_handlers_disconnect_by_data (entry->client, entry);
  g_clear_object (&entry->client);
  g_clear_object (&entry->session);
  g_free (entry->remote);
  g_free (entry);
}

static void
set_eio_error (SoupServerMessage *msg,
               guint              status,
               int                code,
               const char        *message)
{
  GString *body = g_string_new (NULL);
  gsize len;

  g_string_append_printf (body, "{\"code\":%d,\"message\":", code);
  runner_json_append_string (body, message, -1);
  g_string_append_c (body, '}');
  len = body->len;

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    g_string_free (body, FALSE), len);
}

static RunnerConfig *
get_config (RunnerEngineIO *self)
{
  return self->config;
}

static void
send_connect_error (RunnerEioSession *session,
                    const char       *nsp,
                    const char       *message)
{
  g_autofree char *text = runner_sio_connect_error_new (nsp, message);

  runner_eio_session_send (session, RUNNER_EIO_PACKET_MESSAGE, text);
}

static const char *
get_auth_token (RunnerSioPacket *packet)
{
  JsonObject *auth;
  JsonNode *token;

  if (packet->data == NULL || !JSON_NODE_HOLDS_OBJECT (packet->data))
    return NULL;
  auth = json_node_get_object (packet->data);
  token = json_object_get_member (auth, "token");
  if (token == NULL || json_node_get_value_type (token) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (token);
}

static void on_session_message (RunnerEioSession *session,
                                GBytes           *data,
                                gboolean          binary,
                                Entry            *entry);
static void wait_for_connect   (Entry            *entry);

/* A client that sent its DISCONNECT leaves the session open, as socket.io
 * does: it may CONNECT again, within the auth timeout. */
static void
on_client_closed (RunnerClient *client,
                  Entry        *entry)
{
  if (runner_eio_session_is_closed (entry->session))
    return;

  g_debug ("Session %s: client %s left, session kept", runner_eio_session_get_sid (entry->session),
           runner_client_get_id (client));
  g_signal_handlers_disconnect_by_data (client, entry);
  g_clear_object (&entry->client);
  wait_for_connect (entry);
}

/* The Socket.IO CONNECT to "/": the token, the cap, then a client. */
static void
handle_connect (Entry           *entry,
                RunnerSioPacket *packet)
{
  RunnerEngineIO *self = entry->engine;
  g_autoptr(RunnerSioClient) client = NULL;
  g_autoptr(GError) error = NULL;

  if (!entry->handshake_authorized
      && !runner_auth_check_token (self->auth, get_auth_token (packet)))
    {
      g_debug ("Session %s: connect refused, not authorized",
               runner_eio_session_get_sid (entry->session));
      send_connect_error (entry->session, "/", "not authorized");
      return;
    }

  client = runner_sio_client_new (entry->session, entry->remote, get_config (self)->max_frame);
  if (!runner_hub_accept (self->hub, RUNNER_CLIENT (client), &error))
    {
      g_message ("Socket.IO connect from %s refused: %s", entry->remote, error->message);
      send_connect_error (entry->session, "/", error->message);
      return;
    }

  g_clear_handle_id (&entry->connect_source, g_source_remove);
  g_queue_delete_link (&self->unconnected, g_steal_pointer (&entry->waiting));
  g_signal_handlers_disconnect_by_func (entry->session, on_session_message, entry);
  runner_eio_session_set_max_message (entry->session, get_config (self)->max_frame);
  entry->client = g_steal_pointer (&client);
  g_signal_connect (entry->client, "closed", G_CALLBACK (on_client_closed), entry);
  runner_sio_client_connected (entry->client);
}

/* Messages of a session before its CONNECT; the client takes over after. */
static void
on_session_message (RunnerEioSession *session,
                    GBytes           *data,
                    gboolean          binary,
                    Entry            *entry)
{
  g_autoptr(RunnerSioPacket) packet = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *text = g_bytes_get_data (data, &len);

  if (binary)
    {
      runner_eio_session_close (session, "binary data before connect");
      return;
    }

  packet = runner_sio_packet_decode (text, len, &error);
  if (packet == NULL)
    {
      g_debug ("Session %s: %s", runner_eio_session_get_sid (session), error->message);
      runner_eio_session_close (session, "parse error");
      return;
    }

  if (packet->type != RUNNER_SIO_PACKET_CONNECT)
    {
      runner_eio_session_close (session, "packet before connect");
      return;
    }

  /* Only the main namespace exists. */
  if (!g_str_equal (packet->nsp, "/"))
    {
      send_connect_error (session, packet->nsp, "Invalid namespace");
      return;
    }

  handle_connect (entry, packet);
}

static void
on_session_closed (RunnerEioSession *session,
                   const char       *reason,
                   Entry            *entry)
{
  RunnerEngineIO *self = entry->engine;

  g_debug ("Session %s gone (%s), %u left", runner_eio_session_get_sid (session), reason,
           g_hash_table_size (self->sessions) - 1);
  g_hash_table_remove (self->sessions, runner_eio_session_get_sid (session));
}

static gboolean
on_connect_timeout (gpointer user_data)
{
  Entry *entry = user_data;

  entry->connect_source = 0;
  runner_eio_session_close (entry->session, "no connect in time");
  return G_SOURCE_REMOVE;
}

/* Puts a session without a client among those waiting for a CONNECT. */
static void
wait_for_connect (Entry *entry)
{
  RunnerEngineIO *self = entry->engine;
  RunnerConfig *config = get_config (self);

  /* Sessions that have not connected cost no client slot, but they are
   * bounded apart: when too many wait, the oldest goes. A real client sends
   * its CONNECT one round trip after the handshake, so a flood of token-less
   * handshakes cannot keep it out. */
  if (g_queue_get_length (&self->unconnected) >= config->max_unauthenticated)
    {
      Entry *oldest = g_queue_peek_head (&self->unconnected);

      g_debug ("Session %s dropped: %u sessions wait for CONNECT",
               runner_eio_session_get_sid (oldest->session), config->max_unauthenticated);
      runner_eio_session_close (oldest->session, "too many sessions waiting to connect");
    }

  runner_eio_session_set_max_message (entry->session,
                                      MIN (RUNNER_SIO_PREAUTH_MAX_MESSAGE, config->max_frame));
  entry->connect_source = g_timeout_add_seconds (config->auth_timeout, on_connect_timeout, entry);
  g_queue_push_tail (&self->unconnected, entry);
  entry->waiting = self->unconnected.tail;
  g_signal_connect (entry->session, "message", G_CALLBACK (on_session_message), entry);
}

static Entry *
create_session (RunnerEngineIO    *self,
                SoupServerMessage *msg,
                gboolean           can_upgrade)
{
  RunnerConfig *config = get_config (self);
  g_autofree char *open = NULL;
  Entry *entry;

  entry = g_new0 (Entry, 1);
  entry->engine = self;
  entry->session = runner_eio_session_new (config->ping_interval, config->ping_timeout,
                                           config->max_frame);
  entry->remote = g_strdup (soup_server_message_get_remote_host (msg));
  entry->handshake_authorized = runner_auth_authorize (self->auth, msg, NULL, NULL);
  wait_for_connect (entry);

  g_signal_connect (entry->session, "closed", G_CALLBACK (on_session_closed), entry);
  g_hash_table_insert (self->sessions, (char *) runner_eio_session_get_sid (entry->session), entry);

  open = runner_eio_session_build_open (entry->session, can_upgrade);
  runner_eio_session_send (entry->session, RUNNER_EIO_PACKET_OPEN, open);

  g_debug ("Session %s opened for %s", runner_eio_session_get_sid (entry->session), entry->remote);
  return entry;
}

static gboolean
can_open_session (RunnerEngineIO    *self,
                  SoupServerMessage *msg)
{
  g_autoptr(GError) error = NULL;

  /* Only connected clients count against the cap; sessions waiting for
   * their CONNECT are bounded apart (create_session()). */
  if (runner_hub_can_accept (self->hub, &error))
    return TRUE;

  set_eio_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, EIO_ERROR_FORBIDDEN, error->message);
  return FALSE;
}

static void
attach_websocket (RunnerEngineIO    *self,
                  SoupServerMessage *msg,
                  RunnerEioSession  *session)
{
  g_autoptr(RunnerWebsocket) websocket = NULL;
  g_autoptr(GError) error = NULL;

  websocket = runner_websocket_accept (msg, runner_eio_session_get_max_message (session), &error);
  if (websocket == NULL)
    {
      g_debug ("WebSocket handshake refused: %s", error->message);
      runner_eio_session_close (session, "bad websocket handshake");
      return;
    }

  runner_eio_session_attach_websocket (session, websocket);
}

static void
on_extra_websocket_open (RunnerWebsocket *websocket,
                         gpointer         user_data)
{
  runner_websocket_close (websocket, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                          "Session already upgraded");
}

static void
on_extra_websocket_closed (RunnerWebsocket *websocket,
                           gpointer         user_data)
{
  g_signal_handlers_disconnect_by_func (websocket, on_extra_websocket_open, NULL);
  g_signal_handlers_disconnect_by_func (websocket, on_extra_websocket_closed, NULL);
  g_object_unref (websocket);
}

/* A second WebSocket for a session that has one, or is moving to one: as
 * engine.io does, the handshake succeeds and the socket is closed at once,
 * so the client sees a close, not an HTTP error. */
static void
close_extra_websocket (SoupServerMessage *msg)
{
  g_autoptr(GError) error = NULL;
  RunnerWebsocket *websocket;

  websocket = runner_websocket_accept (msg, RUNNER_SIO_PREAUTH_MAX_MESSAGE, &error);
  if (websocket == NULL)
    {
      g_debug ("WebSocket handshake refused: %s", error->message);
      return;
    }

  /* Held until closed. */
  g_signal_connect (websocket, "open", G_CALLBACK (on_extra_websocket_open), NULL);
  g_signal_connect (websocket, "closed", G_CALLBACK (on_extra_websocket_closed), NULL);
}

static void
handle_handshake (RunnerEngineIO    *self,
                  SoupServerMessage *msg,
                  gboolean           websocket)
{
  Entry *entry;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET)
    {
      set_eio_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_BAD_HANDSHAKE_METHOD,
                     "Bad handshake method");
      return;
    }

  if (websocket && !runner_websocket_is_upgrade (msg))
    {
      set_eio_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_BAD_REQUEST, "Bad request");
      return;
    }

  if (!can_open_session (self, msg))
    return;

  entry = create_session (self, msg, !websocket);
  if (websocket)
    attach_websocket (self, msg, entry->session);
  else
    runner_eio_session_handle_poll (entry->session, msg);
}

static void
handle_polling (RunnerEngineIO    *self,
                SoupServerMessage *msg,
                RunnerEioSession  *session)
{
  g_autoptr(GError) error = NULL;
  const char *method = soup_server_message_get_method (msg);

  if (method == SOUP_METHOD_GET)
    {
      runner_eio_session_handle_poll (session, msg);
      return;
    }

  if (method != SOUP_METHOD_POST)
    {
      set_eio_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_BAD_REQUEST, "Bad request");
      return;
    }

  if (!runner_eio_session_handle_post (session, msg, &error))
    {
      g_debug ("Session %s: %s", runner_eio_session_get_sid (session), error->message);
      if (g_error_matches (error, RUNNER_ERROR, RUNNER_ERROR_TOO_BIG))
        soup_server_message_set_status (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL);
      else
        set_eio_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_BAD_REQUEST, "Bad request");
      return;
    }

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC, "ok", 2);
}

static void
set_cors_headers (SoupServerMessage *msg)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  const char *origin = soup_message_headers_get_one (request, "Origin");
  const char *wanted;

  if (origin == NULL)
    return;

  soup_message_headers_replace (response, "Access-Control-Allow-Origin", origin);
  soup_message_headers_replace (response, "Access-Control-Allow-Credentials", "true");
  soup_message_headers_append (response, "Vary", "Origin");

  if (soup_server_message_get_method (msg) != SOUP_METHOD_OPTIONS)
    return;

  wanted = soup_message_headers_get_one (request, "Access-Control-Request-Headers");
  soup_message_headers_replace (response, "Access-Control-Allow-Methods", "GET, POST");
  soup_message_headers_replace (response, "Access-Control-Allow-Headers",
                                wanted != NULL ? wanted : "Authorization, Content-Type");
  soup_message_headers_replace (response, "Access-Control-Max-Age", "86400");
}

/* libsoup closes the connection after answering a request that asked for
 * it, but does not say so; a client whose agent keeps connections alive
 * (node's, with node-fetch) would send its next request on it and fail. */
static void
answer_connection_close (SoupServerMessage *msg)
{
  if (soup_message_headers_header_contains (soup_server_message_get_request_headers (msg),
                                            "Connection", "close"))
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                  "close");
}

static void
handle_request (SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  RunnerEngineIO *self = user_data;
  const char *eio = query != NULL ? g_hash_table_lookup (query, "EIO") : NULL;
  const char *transport = query != NULL ? g_hash_table_lookup (query, "transport") : NULL;
  const char *sid = query != NULL ? g_hash_table_lookup (query, "sid") : NULL;
  g_autoptr(RunnerEioSession) session = NULL;
  gboolean websocket;
  Entry *entry;

  answer_connection_close (msg);

  if (!g_str_equal (path, SIO_PATH))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  if (!runner_auth_check_origin (self->auth, msg))
    {
      set_eio_error (msg, SOUP_STATUS_FORBIDDEN, EIO_ERROR_FORBIDDEN, "Origin not allowed");
      return;
    }
  set_cors_headers (msg);

  if (soup_server_message_get_method (msg) == SOUP_METHOD_OPTIONS)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
      return;
    }

  if (g_strcmp0 (eio, "4") != 0)
    {
      set_eio_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_UNSUPPORTED_PROTOCOL_VERSION,
                     "Unsupported protocol version");
      return;
    }

  if (g_strcmp0 (transport, "polling") != 0 && g_strcmp0 (transport, "websocket") != 0)
    {
      set_eio_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_UNKNOWN_TRANSPORT, "Transport unknown");
      return;
    }
  websocket = g_str_equal (transport, "websocket");

  if (sid == NULL)
    {
      handle_handshake (self, msg, websocket);
      return;
    }

  entry = g_hash_table_lookup (self->sessions, sid);
  if (entry == NULL || runner_eio_session_is_closed (entry->session))
    {
      set_eio_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_UNKNOWN_SID, "Session ID unknown");
      return;
    }

  /* Handling may close the session, which drops its entry. */
  session = g_object_ref (entry->session);

  /* A session moves from polling to a WebSocket once, never back. */
  if (websocket)
    {
      if (!runner_websocket_is_upgrade (msg))
        set_eio_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_BAD_REQUEST, "Bad request");
      else if (runner_eio_session_is_upgrading (session)
               || g_str_equal (runner_eio_session_get_transport (session), "websocket"))
        close_extra_websocket (msg);
      else
        attach_websocket (self, msg, session);
      return;
    }

  if (g_str_equal (runner_eio_session_get_transport (session), "websocket"))
    {
      set_eio_error (msg, SOUP_STATUS_BAD_REQUEST, EIO_ERROR_BAD_REQUEST, "Bad request");
      return;
    }

  handle_polling (self, msg, session);
}

/* Refuses a POST body over the cap before libsoup reads it into memory. */
static void
handle_early (SoupServer        *soup,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  RunnerEngineIO *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *sid = query != NULL ? g_hash_table_lookup (query, "sid") : NULL;
  Entry *entry = sid != NULL ? g_hash_table_lookup (self->sessions, sid) : NULL;
  gsize limit;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_POST)
    return;

  if (soup_message_headers_get_encoding (headers) != SOUP_ENCODING_CONTENT_LENGTH)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_LENGTH_REQUIRED, NULL);
      return;
    }

  /* Before the CONNECT, only small bodies. */
  limit = entry != NULL ? runner_eio_session_get_max_message (entry->session)
                        : get_config (self)->max_frame;
  if ((guint64) soup_message_headers_get_content_length (headers) > limit)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                    "close");
      if (entry != NULL)
        runner_eio_session_close (entry->session, "payload too large");
    }
}

static void
runner_engine_io_dispose (GObject *object)
{
  RunnerEngineIO *self = RUNNER_ENGINE_IO (object);

  runner_engine_io_shutdown (self);
  if (self->soup != NULL)
    soup_server_remove_handler (self->soup, SIO_PATH);
  g_clear_object (&self->soup);
  g_clear_object (&self->hub);
  g_clear_object (&self->auth);

  G_OBJECT_CLASS (runner_engine_io_parent_class)->dispose (object);
}

static void
runner_engine_io_finalize (GObject *object)
{
  RunnerEngineIO *self = RUNNER_ENGINE_IO (object);

  g_hash_table_unref (self->sessions);

  G_OBJECT_CLASS (runner_engine_io_parent_class)->finalize (object);
}

static void
runner_engine_io_class_init (RunnerEngineIOClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = runner_engine_io_dispose;
  object_class->finalize = runner_engine_io_finalize;
}

static void
runner_engine_io_init (RunnerEngineIO *self)
{
  self->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify) entry_free);
  g_queue_init (&self->unconnected);
}

static const RunnerRouteEntry routes[] = {
  /* Polling POSTs carry a body, capped by handle_early() */
  { SIO_PATH, handle_request, RUNNER_ROUTE_BODY | RUNNER_ROUTE_PREFIX },
};

/**
 * runner_engine_io_new:
 * @soup: the HTTP server, for the early handler that caps bodies
 * @config: the configuration; must outlive the returned object
 * @registry: gets the /socket.io/ route, for the server to install
 * @hub: where connected clients go
 * @auth: the token and origin checks
 *
 * Serves Socket.IO at /socket.io/.
 *
 * Returns: (transfer full): the endpoint
 */
RunnerEngineIO *
runner_engine_io_new (SoupServer     *soup,
                      RunnerConfig   *config,
                      RunnerRegistry *registry,
                      RunnerHub      *hub,
                      RunnerAuth     *auth)
{
  RunnerEngineIO *self;

  g_return_val_if_fail (SOUP_IS_SERVER (soup), NULL);
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (RUNNER_IS_REGISTRY (registry), NULL);
  g_return_val_if_fail (RUNNER_IS_HUB (hub), NULL);
  g_return_val_if_fail (RUNNER_IS_AUTH (auth), NULL);

  self = g_object_new (RUNNER_TYPE_ENGINE_IO, NULL);
  self->config = config;
  self->hub = g_object_ref (hub);
  self->auth = g_object_ref (auth);
  self->soup = g_object_ref (soup);

  soup_server_add_early_handler (self->soup, SIO_PATH, handle_early, self, NULL);
  runner_registry_add_routes (registry, routes, G_N_ELEMENTS (routes), self);
  return self;
}

guint
runner_engine_io_get_n_sessions (RunnerEngineIO *self)
{
  g_return_val_if_fail (RUNNER_IS_ENGINE_IO (self), 0);
  return g_hash_table_size (self->sessions);
}

/**
 * runner_engine_io_shutdown:
 *
 * Closes every session (connected or not). Idempotent.
 */
void
runner_engine_io_shutdown (RunnerEngineIO *self)
{
  g_autoptr(GPtrArray) sessions = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  Entry *entry;

  g_return_if_fail (RUNNER_IS_ENGINE_IO (self));

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
    g_ptr_array_add (sessions, g_object_ref (entry->session));

  for (guint i = 0; i < sessions->len; i++)
    runner_eio_session_close (g_ptr_array_index (sessions, i), "server shutdown");
}
