/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-server"

#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "runner-server.h"
#include "runner-engine-io.h"
#include "runner-error.h"
#include "runner-resources.h"
#include "runner-websocket.h"
#include "runner-workspace.h"
#include "runner-ws-client.h"

struct _RunnerServer
{
  GObject          parent_instance;
  RunnerConfig    *config;     /* unowned: outlives the server */
  RunnerRegistry  *registry;   /* owned: the routes served, the events dispatched */
  RunnerHub       *hub;        /* owned: the clients, wherever they connect */
  RunnerAuth      *auth;       /* owned */
  RunnerEngineIO  *engine_io;  /* owned: Socket.IO at /socket.io/ */
  SoupServer      *soup;       /* owned */
  GSocket         *listener;   /* owned: the socket clients connect to */
  GSource         *incoming;   /* owned: readiness of @listener */
  guint            accept_retry; /* accepting paused after an error (EMFILE) */
  gboolean         accept_failing; /* warned already; quiet until an accept works */
  GSocket         *placeholder; /* owned: the end libsoup does not see, below */
  GHashTable      *connections; /* owned: remote GSocketAddress -> owned Connection */
  guint            max_sockets; /* open connections allowed by the fd limit */
  guint            port;
  gboolean         ready;
  gboolean         shutting_down;
};

G_DEFINE_FINAL_TYPE (RunnerServer, runner_server, G_TYPE_OBJECT)

/* Accepting pauses this long when accept() fails (no file descriptors left). */
#define ACCEPT_RETRY_MS 100
/* Connections taken per wake-up, so that a burst does not starve the rest. */
#define ACCEPT_BATCH 64

/* One TCP connection, from accept() until libsoup drops its stream. Its
 * deadline runs while a request is awaited or being read: from the accept,
 * the previous response or a request's first byte until the request is read
 * whole. */
typedef struct
{
  RunnerServer      *server;   /* unowned */
  GSocketConnection *stream;   /* unowned: libsoup owns it; weakly referenced */
  GSocketAddress    *remote;   /* owned: the key, the very object libsoup hands its messages */
  guint              deadline;
  GSource           *idle;     /* owned: watches a kept-alive connection between requests */
} Connection;

enum {
  PROP_0,
  PROP_READY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Connections */

static void on_connection_gone (gpointer  data,
                                GObject  *stream);

static void
unwatch_idle (Connection *conn)
{
  if (conn->idle != NULL)
    g_source_destroy (conn->idle);
  g_clear_pointer (&conn->idle, g_source_unref);
}

static void
connection_free (Connection *conn)
{
  g_clear_handle_id (&conn->deadline, g_source_remove);
  unwatch_idle (conn);
  if (conn->stream != NULL)
    g_object_weak_unref (G_OBJECT (conn->stream), on_connection_gone, conn);
  g_object_unref (conn->remote);
  g_free (conn);
}

static void
on_connection_gone (gpointer  data,
                    GObject  *stream)
{
  Connection *conn = data;

  conn->stream = NULL;
  g_hash_table_remove (conn->server->connections, conn->remote);
}

/* Closes @conn whatever libsoup is doing with it (its reads then fail, and it
 * lets go of the stream in its own time), and frees @conn. */
static void
close_connection (Connection *conn)
{
  g_socket_shutdown (g_socket_connection_get_socket (conn->stream), TRUE, TRUE, NULL);
  g_io_stream_close (G_IO_STREAM (conn->stream), NULL, NULL);
  g_hash_table_remove (conn->server->connections, conn->remote);
}

static gboolean
on_deadline (gpointer user_data)
{
  Connection *conn = user_data;

  conn->deadline = 0;
  g_debug ("Closing a connection that sent no whole request within %u s",
           conn->server->config->request_timeout);
  close_connection (conn);
  return G_SOURCE_REMOVE;
}

/* libsoup 3.2 does not notice when the client of a kept-alive connection
 * closes it between requests: it would keep the descriptor. */
static gboolean
on_idle_readable (GSocket      *socket,
                  GIOCondition  condition,
                  gpointer      user_data)
{
  Connection *conn = user_data;
  char byte;
  gssize n = recv (g_socket_get_fd (socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);

  /* A next request: libsoup reads it. */
  if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
    return G_SOURCE_CONTINUE;

  close_connection (conn);
  return G_SOURCE_REMOVE;
}

static void
watch_idle (Connection *conn)
{
  unwatch_idle (conn);
  conn->idle = g_socket_create_source (g_socket_connection_get_socket (conn->stream),
                                       G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (conn->idle, G_SOURCE_FUNC (on_idle_readable), conn, NULL);
  g_source_attach (conn->idle, NULL);
}

static Connection *
lookup_connection (RunnerServer      *self,
                   SoupServerMessage *msg)
{
  return g_hash_table_lookup (self->connections, soup_server_message_get_remote_address (msg));
}

static void
arm_deadline (Connection *conn)
{
  g_clear_handle_id (&conn->deadline, g_source_remove);
  conn->deadline = g_timeout_add_seconds (conn->server->config->request_timeout, on_deadline, conn);
}

static void
take_connection (RunnerServer *self,
                 GSocket      *socket)
{
  g_autoptr(GSocketConnection) stream = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  GSocketAddress *remote;
  Connection *conn;

  /* Over the cap, the cheapest refusal: closed before a byte is read. */
  if (self->shutting_down || g_hash_table_size (self->connections) >= self->max_sockets)
    {
      runner_hub_count_refused (self->hub);
      g_socket_close (socket, NULL);
      return;
    }

  stream = g_socket_connection_factory_create_connection (socket);
  local = g_socket_get_local_address (socket, NULL);
  remote = g_socket_get_remote_address (socket, NULL);
  if (local == NULL || remote == NULL)
    {
      /* Gone already. */
      g_clear_object (&remote);
      g_socket_close (socket, NULL);
      return;
    }
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);

  conn = g_new0 (Connection, 1);
  conn->server = self;
  conn->stream = stream;
  conn->remote = remote;
  g_object_weak_ref (G_OBJECT (stream), on_connection_gone, conn);
  g_hash_table_insert (self->connections, remote, conn);
  arm_deadline (conn);

  soup_server_accept_iostream (self->soup, G_IO_STREAM (stream), local, remote, NULL);
}

static gboolean on_incoming (GSocket      *socket,
                             GIOCondition  condition,
                             gpointer      user_data);

static void
watch_listener (RunnerServer *self)
{
  self->incoming = g_socket_create_source (self->listener, G_IO_IN, NULL);
  g_source_set_callback (self->incoming, G_SOURCE_FUNC (on_incoming), self, NULL);
  g_source_attach (self->incoming, NULL);
}

static gboolean
on_accept_retry (gpointer user_data)
{
  RunnerServer *self = user_data;

  self->accept_retry = 0;
  watch_listener (self);
  return G_SOURCE_REMOVE;
}

static gboolean
on_incoming (GSocket      *socket,
             GIOCondition  condition,
             gpointer      user_data)
{
  RunnerServer *self = user_data;

  for (guint i = 0; i < ACCEPT_BATCH; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) client = g_socket_accept (socket, NULL, &error);

      if (client != NULL)
        {
          self->accept_failing = FALSE;
          take_connection (self, client);
          continue;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;

      /* Out of file descriptors (or a client that left at once): waiting
       * clients stay queued in the kernel while closing connections free
       * descriptors; accepting goes on shortly. */
      if (!self->accept_failing)
        g_warning ("Could not accept a connection: %s; retrying every %u ms", error->message,
                   ACCEPT_RETRY_MS);
      self->accept_failing = TRUE;
      g_clear_pointer (&self->incoming, g_source_unref);
      self->accept_retry = g_timeout_add (ACCEPT_RETRY_MS, on_accept_retry, self);
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

static void
stop_accepting (RunnerServer *self)
{
  g_clear_handle_id (&self->accept_retry, g_source_remove);
  if (self->incoming != NULL)
    {
      g_source_destroy (self->incoming);
      g_clear_pointer (&self->incoming, g_source_unref);
    }
  if (self->listener != NULL)
    g_socket_close (self->listener, NULL);
}

static guint
sockets_allowed (void)
{
  struct rlimit limit;

  /* What the fd limit leaves after files, terminals, the app and libraries. */
  if (getrlimit (RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return G_MAXUINT;
  if (limit.rlim_cur > 1024)
    return MIN (limit.rlim_cur - 256, G_MAXUINT);
  return limit.rlim_cur / 2;
}

static void
runner_server_dispose (GObject *object)
{
  RunnerServer *self = RUNNER_SERVER (object);

  if (self->hub != NULL)
    runner_server_shutdown (self);
  g_clear_pointer (&self->connections, g_hash_table_unref);
  g_clear_object (&self->listener);
  g_clear_object (&self->placeholder);
  g_clear_object (&self->engine_io);
  g_clear_object (&self->soup);
  g_clear_object (&self->auth);
  g_clear_object (&self->hub);
  g_clear_object (&self->registry);

  G_OBJECT_CLASS (runner_server_parent_class)->dispose (object);
}

static void
runner_server_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  RunnerServer *self = RUNNER_SERVER (object);

  switch (prop_id)
    {
    case PROP_READY:
      g_value_set_boolean (value, self->ready);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
runner_server_class_init (RunnerServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = runner_server_dispose;
  object_class->get_property = runner_server_get_property;

  properties[PROP_READY] =
    g_param_spec_boolean ("ready", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
runner_server_init (RunnerServer *self)
{
  self->connections = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) connection_free);
}

/* HTTP */

static void
set_json_response (SoupServerMessage *msg,
                   guint              status,
                   JsonNode          *node)
{
  gsize len;
  char *text = runner_json_to_string (node, &len);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, len);
}

static void
set_error_response (SoupServerMessage *msg,
                    guint              status,
                    const GError      *error)
{
  g_autoptr(JsonNode) node = runner_json_error_new (error);

  set_json_response (msg, status, node);
}

/* Every request, before its route */

static gboolean
request_has_body (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  switch (soup_message_headers_get_encoding (headers))
    {
    case SOUP_ENCODING_CONTENT_LENGTH:
      return soup_message_headers_get_content_length (headers) > 0;
    case SOUP_ENCODING_NONE:
      return FALSE;
    default:
      return TRUE;
    }
}

static void
refuse_request (SoupServerMessage *msg,
                guint              status,
                GError            *error)
{
  set_error_response (msg, status, error);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                "close");
}

/* After libsoup's own checks and the early handlers, before the body. Only
 * routes flagged RUNNER_ROUTE_BODY take one (Socket.IO's polling POST, whose
 * early handler caps it). */
static void
on_got_headers (SoupServerMessage *msg,
                RunnerServer      *self)
{
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));
  g_autoptr(GError) error = NULL;

  if (soup_server_message_get_status (msg) == 0)
    {
      const RunnerRoute *route = runner_registry_match_route (self->registry, path);

      if (!runner_auth_check_host (self->auth, msg))
        {
          g_set_error_literal (&error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN, "Host not allowed");
          refuse_request (msg, SOUP_STATUS_FORBIDDEN, error);
        }
      else if (request_has_body (msg) &&
               (route == NULL || !(route->entry->flags & RUNNER_ROUTE_BODY)))
        {
          g_set_error_literal (&error, RUNNER_ERROR, RUNNER_ERROR_TOO_BIG,
                               "This resource takes no request body");
          refuse_request (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, error);
        }
    }

  /* A refused request's body is read (libsoup 3.2 reads it before answering)
   * but thrown away, within the request deadline. */
  if (soup_server_message_get_status (msg) != 0)
    soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
}

static void
on_request_started (SoupServer        *soup,
                    SoupServerMessage *msg,
                    RunnerServer      *self)
{
  Connection *conn = lookup_connection (self, msg);

  if (conn != NULL)
    {
      unwatch_idle (conn);
      arm_deadline (conn);
    }
  g_signal_connect_object (msg, "got-headers", G_CALLBACK (on_got_headers), self, 0);
}

/* The connection stays open for the next request, awaited within the same
 * bound (a WebSocket's stolen connection emits no ::request-finished). */
static void
on_request_finished (SoupServer        *soup,
                     SoupServerMessage *msg,
                     RunnerServer      *self)
{
  Connection *conn = lookup_connection (self, msg);

  if (conn != NULL && !g_io_stream_is_closed (G_IO_STREAM (conn->stream)))
    {
      arm_deadline (conn);
      watch_idle (conn);
    }
}

static void
on_request_read (SoupServer        *soup,
                 SoupServerMessage *msg,
                 RunnerServer      *self)
{
  Connection *conn = lookup_connection (self, msg);

  if (conn != NULL)
    g_clear_handle_id (&conn->deadline, g_source_remove);
}

static JsonNode *
build_status (RunnerServer *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "ok");
  json_builder_set_member_name (builder, "workspace");
  json_builder_add_string_value (builder, RUNNER_WORKSPACE_VIRTUAL_ROOT);
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, PACKAGE_VERSION);
  json_builder_set_member_name (builder, "ready");
  json_builder_add_boolean_value (builder, self->ready);
  json_builder_set_member_name (builder, "clients");
  json_builder_add_int_value (builder, runner_hub_get_n_clients (self->hub));
  json_builder_set_member_name (builder, "uptime");
  json_builder_add_int_value (builder, runner_hub_get_uptime (self->hub));
  json_builder_set_member_name (builder, "port");
  json_builder_add_int_value (builder, self->port);
  json_builder_set_member_name (builder, "appPort");
  json_builder_add_int_value (builder, self->config->user_port);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static void
handle_files (SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  RunnerServer *self = user_data;
  g_autoptr(JsonNode) node = NULL;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET &&
      soup_server_message_get_method (msg) != SOUP_METHOD_HEAD)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }

  node = build_status (self);
  set_json_response (msg, SOUP_STATUS_OK, node);
}

static void
handle_health (SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  RunnerServer *self = user_data;
  gboolean ok = TRUE;

  if (g_str_equal (path, "/readyz"))
    ok = self->ready && !self->shutting_down;

  soup_server_message_set_status (msg, ok ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE,
                                  NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC,
                                    ok ? "ok\n" : "not ready\n", ok ? 3 : 10);
}

static void
handle_metrics (SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  RunnerServer *self = user_data;
  GString *out;
  gsize len;

  out = g_string_new (NULL);
  g_string_append_printf (out,
                          "# TYPE runner_clients gauge\nrunner_clients %u\n"
                          "# TYPE runner_connections_accepted_total counter\n"
                          "runner_connections_accepted_total %" G_GUINT64_FORMAT "\n"
                          "# TYPE runner_connections_refused_total counter\n"
                          "runner_connections_refused_total %" G_GUINT64_FORMAT "\n"
                          "# TYPE runner_uptime_seconds gauge\nrunner_uptime_seconds %" G_GINT64_FORMAT "\n",
                          runner_hub_get_n_clients (self->hub),
                          runner_hub_get_n_accepted (self->hub),
                          runner_hub_get_n_refused (self->hub),
                          runner_hub_get_uptime (self->hub));
  len = out->len;
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4", SOUP_MEMORY_TAKE,
                                    g_string_free (out, FALSE), len);
}

static void
serve_page (SoupServerMessage *msg)
{
  g_autoptr(GBytes) page = g_resource_lookup_data (runner_get_resource (),
                                                   "/io/github/runner/web/index.html",
                                                   G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

  if (page == NULL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Content-Security-Policy",
                                "default-src 'self'; connect-src 'self' ws: wss:; "
                                "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'");
  soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (page, NULL), g_bytes_get_size (page));
}

static void
on_websocket_closed_early (RunnerWebsocket *websocket,
                           RunnerServer    *self)
{
  runner_hub_release_pending (self->hub, G_OBJECT (websocket));
}

static void
on_websocket_open (RunnerWebsocket *websocket,
                   RunnerServer    *self)
{
  g_autoptr(RunnerClient) client = runner_ws_client_new (websocket);
  g_autoptr(GError) error = NULL;

  g_signal_handlers_disconnect_by_data (websocket, self);

  if (!runner_hub_accept (self->hub, client, &error))
    {
      g_autoptr(JsonNode) node = runner_json_error_new (error);
      g_autoptr(RunnerMessage) message = runner_message_new ("runner:error", g_steal_pointer (&node));

      runner_client_send_must (client, message);
      runner_client_close (client, error->message);
    }

  runner_hub_release_pending (self->hub, G_OBJECT (websocket));
}

static void
handle_root (SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  RunnerServer *self = user_data;
  g_autoptr(GError) error = NULL;
  RunnerWebsocket *websocket;

  if (!runner_websocket_is_upgrade (msg))
    {
      if (g_str_equal (path, "/") || g_str_equal (path, "/index.html"))
        serve_page (msg);
      else
        soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  if (!runner_auth_check_origin (self->auth, msg))
    {
      g_set_error_literal (&error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN, "Origin not allowed");
      set_error_response (msg, SOUP_STATUS_FORBIDDEN, error);
      return;
    }

  if (!runner_auth_authorize (self->auth, msg, NULL, &error) ||
      !runner_hub_can_accept (self->hub, &error))
    {
      runner_hub_count_refused (self->hub);
      set_error_response (msg, runner_error_to_http_status (error), error);
      return;
    }

  websocket = runner_websocket_accept (msg, self->config->max_frame, &error);
  if (websocket == NULL)
    return;

  /* The hub keeps pending upgrades, counted, until they open or fail. */
  g_signal_connect (websocket, "open", G_CALLBACK (on_websocket_open), self);
  g_signal_connect (websocket, "closed", G_CALLBACK (on_websocket_closed_early), self);
  runner_hub_hold_pending (self->hub, G_OBJECT (websocket));
  g_object_unref (websocket);
}

/* The server's own routes; features add theirs to the registry. */
static const RunnerRouteEntry routes[] = {
  { "/files", handle_files, RUNNER_ROUTE_FLAGS_NONE },
  { "/healthz", handle_health, RUNNER_ROUTE_FLAGS_NONE },
  { "/readyz", handle_health, RUNNER_ROUTE_FLAGS_NONE },
  { "/metrics", handle_metrics, RUNNER_ROUTE_AUTH },
  /* The page, and plain WebSocket clients (they check the token themselves:
   * a refusal is answered before the upgrade) */
  { "/", handle_root, RUNNER_ROUTE_PREFIX },
};

/* One route as installed on the SoupServer. */
typedef struct
{
  RunnerServer      *server; /* unowned: owns the installed routes */
  const RunnerRoute *route;  /* unowned: the registry's */
} InstalledRoute;

/* Every route, as libsoup calls it: the path rule and the token first. */
static void
serve_route (SoupServer        *soup,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  InstalledRoute *installed = user_data;
  const RunnerRouteEntry *entry = installed->route->entry;
  g_autoptr(GError) error = NULL;

  if (!(entry->flags & RUNNER_ROUTE_PREFIX) && !g_str_equal (path, entry->path))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }
  if ((entry->flags & RUNNER_ROUTE_AUTH) &&
      !runner_auth_authorize (installed->server->auth, msg, NULL, &error))
    {
      set_error_response (msg, runner_error_to_http_status (error), error);
      return;
    }

  entry->handler (msg, path, query, installed->route->user_data);
}

static void
install_routes (RunnerServer *self)
{
  g_autoptr(GPtrArray) all = runner_registry_get_routes (self->registry);

  for (guint i = 0; i < all->len; i++)
    {
      InstalledRoute *installed = g_new0 (InstalledRoute, 1);

      installed->server = self;
      installed->route = g_ptr_array_index (all, i);
      soup_server_add_handler (self->soup, installed->route->entry->path, serve_route, installed,
                               g_free);
    }
}

/* Public API */

/**
 * runner_server_new:
 * @config: the configuration; must outlive the server
 * @registry: the events and routes; complete but for the server's own
 * @hub: where authorized clients go
 * @auth: the token, origin and Host checks
 *
 * Makes the HTTP server: its own routes, the plain WebSocket transport at `/`
 * and Socket.IO at `/socket.io/`, and every route of @registry. It listens
 * once runner_server_listen() is called.
 */
RunnerServer *
runner_server_new (RunnerConfig   *config,
                   RunnerRegistry *registry,
                   RunnerHub      *hub,
                   RunnerAuth     *auth)
{
  RunnerServer *self;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (RUNNER_IS_REGISTRY (registry), NULL);
  g_return_val_if_fail (RUNNER_IS_HUB (hub), NULL);
  g_return_val_if_fail (RUNNER_IS_AUTH (auth), NULL);

  self = g_object_new (RUNNER_TYPE_SERVER, NULL);
  self->config = config;
  self->registry = g_object_ref (registry);
  self->hub = g_object_ref (hub);
  self->auth = g_object_ref (auth);
  self->soup = soup_server_new ("server-header", "runner/" PACKAGE_VERSION " ", NULL);
  self->max_sockets = sockets_allowed ();
  g_signal_connect (self->soup, "request-started", G_CALLBACK (on_request_started), self);
  g_signal_connect (self->soup, "request-read", G_CALLBACK (on_request_read), self);
  g_signal_connect (self->soup, "request-finished", G_CALLBACK (on_request_finished), self);

  runner_registry_add_routes (registry, routes, G_N_ELEMENTS (routes), self);
  self->engine_io = runner_engine_io_new (self->soup, config, registry, hub, auth);
  install_routes (self);

  return self;
}
static gboolean
add_placeholder_listener (RunnerServer  *self,
                          GError       **error)
{
  g_autoptr(GSocket) seen = NULL;
  int fds[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "socketpair: %s",
                   g_strerror (saved));
      return FALSE;
    }
  seen = g_socket_new_from_fd (fds[0], error);
  if (seen == NULL)
    {
      close (fds[0]);
      close (fds[1]);
      return FALSE;
    }
  self->placeholder = g_socket_new_from_fd (fds[1], error);
  if (self->placeholder == NULL)
    {
      close (fds[1]);
      return FALSE;
    }
  return soup_server_listen_socket (self->soup, seen, 0, error);
}

/**
 * runner_server_listen:
 *
 * Listens on the configured address and port (0 picks a free port).
 */
gboolean
runner_server_listen (RunnerServer  *self,
                      GError       **error)
{
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocket) listener = NULL;
  g_autoptr(GSocketAddress) local = NULL;

  g_return_val_if_fail (RUNNER_IS_SERVER (self), FALSE);
  g_return_val_if_fail (self->listener == NULL, FALSE);

  inet = g_inet_address_new_from_string (self->config->bind);
  if (inet == NULL)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("“%s” is not an IP address to bind"), self->config->bind);
      return FALSE;
    }

  address = g_inet_socket_address_new (inet, self->config->port);
  /* Runner accepts itself rather than through soup_server_listen(): libsoup
   * 3.2 stops accepting for good after one failed accept() (EMFILE), and
   * keeps GSocket's backlog of 10, so that a burst of clients (200 Socket.IO
   * connects at once) loses SYNs and waits 1-3 s for TCP to retry. */
  listener = g_socket_new (g_socket_address_get_family (address), G_SOCKET_TYPE_STREAM,
                           G_SOCKET_PROTOCOL_TCP, error);
  if (listener == NULL)
    return FALSE;
  g_socket_set_listen_backlog (listener, SOMAXCONN);
  g_socket_set_blocking (listener, FALSE);
  if (!g_socket_bind (listener, address, TRUE, error) ||
      !g_socket_listen (listener, error))
    return FALSE;

  /* libsoup keeps connections alive only while it has a listener: give it
   * one end of a socket pair that never carries a connection. */
  if (!add_placeholder_listener (self, error))
    return FALSE;

  local = g_socket_get_local_address (listener, error);
  if (local == NULL)
    return FALSE;
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  self->listener = g_steal_pointer (&listener);
  watch_listener (self);

  self->ready = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READY]);
  return TRUE;
}

guint
runner_server_get_port (RunnerServer *self)
{
  g_return_val_if_fail (RUNNER_IS_SERVER (self), 0);
  return self->port;
}

/**
 * runner_server_shutdown:
 *
 * Stops listening and closes every client (through the hub). Idempotent.
 */
void
runner_server_shutdown (RunnerServer *self)
{
  g_return_if_fail (RUNNER_IS_SERVER (self));

  if (self->shutting_down)
    return;
  self->shutting_down = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READY]);

  stop_accepting (self);
  if (self->soup != NULL)
    soup_server_disconnect (self->soup);

  runner_hub_close (self->hub, "server shutting down");
  /* Socket.IO sessions that never connected a client */
  if (self->engine_io != NULL)
    runner_engine_io_shutdown (self->engine_io);
}

