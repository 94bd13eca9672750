/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-server"

#include "config.h"

#include <sys/socket.h>

#include <glib/gi18n.h>

#include "runner-server.h"
#include "runner-app.h"
#include "runner-error.h"
#include "runner-resources.h"
#include "runner-files.h"
#include "runner-request.h"
#include "runner-engine-io.h"
#include "runner-terminal-manager.h"
#include "runner-websocket.h"
#include "runner-ws-client.h"

struct _RunnerServer
{
  GObject          parent_instance;
  RunnerConfig    *config;     /* unowned: outlives the server */
  RunnerWorkspace *workspace;  /* owned */
  RunnerProtocol  *protocol;   /* owned */
  RunnerFiles     *files;      /* owned */
  RunnerEngineIO  *engine_io;  /* owned: Socket.IO at /socket.io/ */
  RunnerApp       *app;        /* owned */
  RunnerTerminalManager *terminals; /* owned */
  SoupServer      *soup;       /* owned */
  GHashTable      *clients;    /* owned: RunnerClient -> itself (owned) */
  GHashTable      *pending;    /* owned: RunnerWebsocket being upgraded */
  gint64           started_at; /* monotonic µs */
  guint            port;
  gboolean         ready;
  gboolean         shutting_down;
  guint64          n_accepted;
  guint64          n_refused;
};

G_DEFINE_FINAL_TYPE (RunnerServer, runner_server, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_N_CLIENTS,
  PROP_READY,
  N_PROPS
};

enum {
  CLIENT_ADDED,
  CLIENT_REMOVED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void on_client_closed (RunnerClient *client,
                              RunnerServer *self);
static void on_client_event  (RunnerClient  *client,
                              RunnerRequest *request,
                              RunnerServer  *self);

static void
forget_client (RunnerServer *self,
               RunnerClient *client)
{
  g_signal_handlers_disconnect_by_func (client, on_client_closed, self);
  g_signal_handlers_disconnect_by_func (client, on_client_event, self);
}

static void
runner_server_dispose (GObject *object)
{
  RunnerServer *self = RUNNER_SERVER (object);

  runner_server_shutdown (self);
  if (self->protocol != NULL)
    runner_protocol_remove_by_data (self->protocol, self);
  g_clear_pointer (&self->clients, g_hash_table_unref);
  g_clear_pointer (&self->pending, g_hash_table_unref);
  g_clear_object (&self->files);
  g_clear_object (&self->engine_io);
  g_clear_object (&self->app);
  g_clear_object (&self->terminals);
  g_clear_object (&self->soup);
  g_clear_object (&self->protocol);
  g_clear_object (&self->workspace);

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
    case PROP_N_CLIENTS:
      g_value_set_uint (value, runner_server_get_n_clients (self));
      break;
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

  properties[PROP_N_CLIENTS] =
    g_param_spec_uint ("n-clients", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_READY] =
    g_param_spec_boolean ("ready", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * RunnerServer::client-added:
   * @client: the client, authorized and counted
   */
  signals[CLIENT_ADDED] =
    g_signal_new ("client-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, RUNNER_TYPE_CLIENT);

  /**
   * RunnerServer::client-removed:
   * @client: the client, now closed
   */
  signals[CLIENT_REMOVED] =
    g_signal_new ("client-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, RUNNER_TYPE_CLIENT);
}

static void
runner_server_init (RunnerServer *self)
{
  self->clients = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  self->pending = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  self->protocol = runner_protocol_new ();
  self->started_at = g_get_monotonic_time ();
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

static guint
status_for_error (const GError *error)
{
  if (g_error_matches (error, RUNNER_ERROR, RUNNER_ERROR_AUTH))
    return SOUP_STATUS_UNAUTHORIZED;
  if (g_error_matches (error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN))
    return SOUP_STATUS_FORBIDDEN;
  if (g_error_matches (error, RUNNER_ERROR, RUNNER_ERROR_LIMIT))
    return SOUP_STATUS_SERVICE_UNAVAILABLE;
  if (g_error_matches (error, RUNNER_ERROR, RUNNER_ERROR_TOO_BIG))
    return SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE;
  if (g_error_matches (error, RUNNER_ERROR, RUNNER_ERROR_NOT_FOUND) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    return SOUP_STATUS_NOT_FOUND;
  return SOUP_STATUS_BAD_REQUEST;
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
  json_builder_add_int_value (builder, runner_server_get_n_clients (self));
  json_builder_set_member_name (builder, "uptime");
  json_builder_add_int_value (builder, runner_server_get_uptime (self));
  json_builder_set_member_name (builder, "port");
  json_builder_add_int_value (builder, self->port);
  json_builder_set_member_name (builder, "appPort");
  json_builder_add_int_value (builder, self->config->user_port);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static void
handle_files (SoupServer        *server,
              SoupServerMessage *msg,
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
handle_health (SoupServer        *server,
               SoupServerMessage *msg,
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
handle_metrics (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  RunnerServer *self = user_data;
  g_autoptr(GError) error = NULL;
  GString *out;
  gsize len;

  if (!runner_server_authorize (self, msg, NULL, &error))
    {
      set_error_response (msg, status_for_error (error), error);
      return;
    }

  out = g_string_new (NULL);
  g_string_append_printf (out,
                          "# TYPE runner_clients gauge\nrunner_clients %u\n"
                          "# TYPE runner_connections_accepted_total counter\n"
                          "runner_connections_accepted_total %" G_GUINT64_FORMAT "\n"
                          "# TYPE runner_connections_refused_total counter\n"
                          "runner_connections_refused_total %" G_GUINT64_FORMAT "\n"
                          "# TYPE runner_uptime_seconds gauge\nrunner_uptime_seconds %" G_GINT64_FORMAT "\n",
                          runner_server_get_n_clients (self), self->n_accepted, self->n_refused,
                          runner_server_get_uptime (self));
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
  g_hash_table_remove (self->pending, websocket);
}

static void
on_websocket_open (RunnerWebsocket *websocket,
                   RunnerServer    *self)
{
  g_autoptr(RunnerClient) client = runner_ws_client_new (websocket);
  g_autoptr(GError) error = NULL;

  g_signal_handlers_disconnect_by_data (websocket, self);

  if (!runner_server_accept_client (self, client, &error))
    {
      g_autoptr(JsonNode) node = runner_json_error_new (error);
      g_autoptr(RunnerMessage) message = runner_message_new ("runner:error", g_steal_pointer (&node));

      runner_client_send_must (client, message);
      runner_client_close (client, error->message);
    }

  g_hash_table_remove (self->pending, websocket);
}

static void
handle_root (SoupServer        *server,
             SoupServerMessage *msg,
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

  if (!runner_server_check_origin (self, msg))
    {
      g_set_error_literal (&error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN, "Origin not allowed");
      set_error_response (msg, SOUP_STATUS_FORBIDDEN, error);
      return;
    }

  if (!runner_server_authorize (self, msg, NULL, &error) ||
      !runner_server_can_accept (self, &error))
    {
      self->n_refused++;
      set_error_response (msg, status_for_error (error), error);
      return;
    }

  websocket = runner_websocket_accept (msg, self->config->max_frame, &error);
  if (websocket == NULL)
    return;

  /* The server keeps pending upgrades until they open or fail. */
  g_hash_table_add (self->pending, websocket);
  g_signal_connect (websocket, "open", G_CALLBACK (on_websocket_open), self);
  g_signal_connect (websocket, "closed", G_CALLBACK (on_websocket_closed_early), self);
}

/* Public API */

/**
 * runner_server_new:
 * @config: the configuration; must outlive the server
 * @workspace: the workspace to serve
 */
RunnerServer *
runner_server_new (RunnerConfig    *config,
                   RunnerWorkspace *workspace)
{
  RunnerServer *self;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (workspace), NULL);

  self = g_object_new (RUNNER_TYPE_SERVER, NULL);
  self->config = config;
  self->workspace = g_object_ref (workspace);
  self->soup = soup_server_new ("server-header", "runner/" PACKAGE_VERSION " ", NULL);

  soup_server_add_handler (self->soup, "/files", handle_files, self, NULL);
  soup_server_add_handler (self->soup, "/healthz", handle_health, self, NULL);
  soup_server_add_handler (self->soup, "/readyz", handle_health, self, NULL);
  soup_server_add_handler (self->soup, "/metrics", handle_metrics, self, NULL);
  soup_server_add_handler (self->soup, "/", handle_root, self, NULL);

  self->files = runner_files_new (self);
  self->engine_io = runner_engine_io_new (self);
  self->app = runner_app_new (self);
  self->terminals = runner_terminal_manager_new (self);

  return self;
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
  GSList *listeners;

  g_return_val_if_fail (RUNNER_IS_SERVER (self), FALSE);

  inet = g_inet_address_new_from_string (self->config->bind);
  if (inet == NULL)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("“%s” is not an IP address to bind"), self->config->bind);
      return FALSE;
    }

  address = g_inet_socket_address_new (inet, self->config->port);
  /* soup_server_listen() keeps GSocket's backlog of 10: a burst of clients
   * (200 Socket.IO connects at once) then loses SYNs and waits 1-3 s for TCP
   * to retry. Listen with the kernel's maximum instead. */
  listener = g_socket_new (g_socket_address_get_family (address), G_SOCKET_TYPE_STREAM,
                           G_SOCKET_PROTOCOL_TCP, error);
  if (listener == NULL)
    return FALSE;
  g_socket_set_listen_backlog (listener, SOMAXCONN);
  if (!g_socket_bind (listener, address, TRUE, error) ||
      !g_socket_listen (listener, error) ||
      !soup_server_listen_socket (self->soup, listener, 0, error))
    return FALSE;

  /* Not soup_server_get_uris(): it leaks an address in libsoup 3.2. */
  listeners = soup_server_get_listeners (self->soup);
  if (listeners != NULL)
    {
      g_autoptr(GSocketAddress) local = g_socket_get_local_address (listeners->data, NULL);

      if (G_IS_INET_SOCKET_ADDRESS (local))
        self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
    }
  g_slist_free (listeners);

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

RunnerConfig *
runner_server_get_config (RunnerServer *self)
{
  g_return_val_if_fail (RUNNER_IS_SERVER (self), NULL);
  return self->config;
}

RunnerProtocol *
runner_server_get_protocol (RunnerServer *self)
{
  g_return_val_if_fail (RUNNER_IS_SERVER (self), NULL);
  return self->protocol;
}

RunnerWorkspace *
runner_server_get_workspace (RunnerServer *self)
{
  g_return_val_if_fail (RUNNER_IS_SERVER (self), NULL);
  return self->workspace;
}

/**
 * runner_server_get_app:
 *
 * Returns: (transfer none): the supervisor of the user's app
 */
RunnerApp *
runner_server_get_app (RunnerServer *self)
{
  g_return_val_if_fail (RUNNER_IS_SERVER (self), NULL);
  return self->app;
}

/**
 * runner_server_get_terminals:
 *
 * Returns: (transfer none): the terminals
 */
RunnerTerminalManager *
runner_server_get_terminals (RunnerServer *self)
{
  g_return_val_if_fail (RUNNER_IS_SERVER (self), NULL);
  return self->terminals;
}

SoupServer *
runner_server_get_soup_server (RunnerServer *self)
{
  g_return_val_if_fail (RUNNER_IS_SERVER (self), NULL);
  return self->soup;
}

guint
runner_server_get_n_clients (RunnerServer *self)
{
  g_return_val_if_fail (RUNNER_IS_SERVER (self), 0);
  return g_hash_table_size (self->clients);
}

/**
 * runner_server_list_clients:
 *
 * Returns: (transfer container) (element-type RunnerClient): the clients
 */
GPtrArray *
runner_server_list_clients (RunnerServer *self)
{
  GPtrArray *ret;
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (RUNNER_IS_SERVER (self), NULL);

  ret = g_ptr_array_new_full (g_hash_table_size (self->clients), g_object_unref);
  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (ret, g_object_ref (key));
  return ret;
}

/**
 * runner_server_get_uptime:
 *
 * Returns: seconds since the server was made
 */
gint64
runner_server_get_uptime (RunnerServer *self)
{
  g_return_val_if_fail (RUNNER_IS_SERVER (self), 0);
  return (g_get_monotonic_time () - self->started_at) / G_USEC_PER_SEC;
}

static gboolean
tokens_equal (const char *a,
              const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  guchar diff = la != lb;

  /* Constant time in the length of the expected token. */
  for (gsize i = 0; i < lb; i++)
    diff |= (guchar) (i < la ? a[i] : 0) ^ (guchar) b[i];
  return diff == 0;
}

/**
 * runner_server_check_token:
 * @token: (nullable): what the client presented
 *
 * Returns: whether @token opens the server (always, with --no-auth)
 */
gboolean
runner_server_check_token (RunnerServer *self,
                           const char   *token)
{
  g_return_val_if_fail (RUNNER_IS_SERVER (self), FALSE);

  if (self->config->no_auth)
    return TRUE;
  if (token == NULL || self->config->token == NULL)
    return FALSE;
  return tokens_equal (token, self->config->token);
}

static char *
token_from_request (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *auth = soup_message_headers_get_one (headers, "Authorization");
  const char *query;

  if (auth != NULL && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0)
    return g_strstrip (g_strdup (auth + 7));

  query = g_uri_get_query (soup_server_message_get_uri (msg));
  if (query != NULL)
    {
      g_autoptr(GHashTable) params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
      const char *token = params != NULL ? g_hash_table_lookup (params, "token") : NULL;

      if (token != NULL)
        return g_strdup (token);
    }

  return NULL;
}

/**
 * runner_server_authorize:
 * @msg: (nullable): the HTTP request (for `Authorization: Bearer` and `?token=`)
 * @token: (nullable): a token from elsewhere (the Socket.IO `auth` object)
 *
 * Returns: %TRUE if any of the presented tokens is right, else %FALSE with
 *   RUNNER_ERROR_AUTH
 */
gboolean
runner_server_authorize (RunnerServer       *self,
                         SoupServerMessage  *msg,
                         const char         *token,
                         GError            **error)
{
  g_autofree char *from_request = NULL;

  g_return_val_if_fail (RUNNER_IS_SERVER (self), FALSE);

  if (self->config->no_auth)
    return TRUE;
  if (token != NULL && runner_server_check_token (self, token))
    return TRUE;
  if (msg != NULL)
    {
      from_request = token_from_request (msg);
      if (from_request != NULL && runner_server_check_token (self, from_request))
        return TRUE;
    }

  g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_AUTH,
                       (token != NULL || from_request != NULL) ? "Wrong token" : "A token is required");
  return FALSE;
}

static gboolean
origin_is_local (GUri *uri)
{
  const char *host = g_uri_get_host (uri);

  return host != NULL && (g_ascii_strcasecmp (host, "localhost") == 0 ||
                          g_str_equal (host, "127.0.0.1") ||
                          g_str_equal (host, "::1") ||
                          g_str_equal (host, "[::1]"));
}

/**
 * runner_server_check_origin:
 *
 * Requests without `Origin` (non-browser clients) pass. A browser's origin
 * must be the server's own (same host and port), a loopback one, or one of
 * RUNNER_ALLOWED_ORIGINS ("*" allows any).
 */
gboolean
runner_server_check_origin (RunnerServer      *self,
                            SoupServerMessage *msg)
{
  SoupMessageHeaders *headers;
  const char *origin, *host;
  g_autoptr(GUri) uri = NULL;
  g_autofree char *authority = NULL;

  g_return_val_if_fail (RUNNER_IS_SERVER (self), FALSE);

  headers = soup_server_message_get_request_headers (msg);
  origin = soup_message_headers_get_one (headers, "Origin");
  if (origin == NULL)
    return TRUE;

  for (guint i = 0; self->config->allowed_origins && self->config->allowed_origins[i]; i++)
    {
      const char *allowed = self->config->allowed_origins[i];

      if (g_str_equal (allowed, "*") || g_ascii_strcasecmp (allowed, origin) == 0)
        return TRUE;
    }

  uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    return FALSE;
  if (origin_is_local (uri))
    return TRUE;

  host = soup_message_headers_get_one (headers, "Host");
  if (host == NULL)
    return FALSE;
  if (g_uri_get_port (uri) > 0)
    authority = g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri));
  else
    authority = g_strdup (g_uri_get_host (uri));
  return g_ascii_strcasecmp (authority, host) == 0;
}

/**
 * runner_server_can_accept:
 *
 * Returns: %FALSE with RUNNER_ERROR_LIMIT when the connection cap is reached
 *   or the server is shutting down
 */
gboolean
runner_server_can_accept (RunnerServer  *self,
                          GError       **error)
{
  g_return_val_if_fail (RUNNER_IS_SERVER (self), FALSE);

  if (self->shutting_down)
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE, "Shutting down");
      return FALSE;
    }

  if (g_hash_table_size (self->clients) + g_hash_table_size (self->pending) >=
      self->config->max_connections)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_LIMIT,
                   "Too many connections (the limit is %u)", self->config->max_connections);
      return FALSE;
    }

  return TRUE;
}

static void
on_client_event (RunnerClient  *client,
                 RunnerRequest *request,
                 RunnerServer  *self)
{
  runner_protocol_dispatch (self->protocol, request);
}

static void
on_client_closed (RunnerClient *client,
                  RunnerServer *self)
{
  g_autoptr(RunnerClient) hold = g_object_ref (client);

  forget_client (self, client);
  if (!g_hash_table_remove (self->clients, client))
    return;

  g_debug ("Client %s (%s) left", runner_client_get_id (client),
           runner_client_get_transport (client));
  g_signal_emit (self, signals[CLIENT_REMOVED], 0, client);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_CLIENTS]);
}

/**
 * runner_server_accept_client:
 * @client: a client a transport made and authorized
 *
 * Counts @client in: its events are dispatched, broadcasts reach it.
 *
 * Returns: %FALSE with @error when the connection cap is reached
 */
gboolean
runner_server_accept_client (RunnerServer  *self,
                             RunnerClient  *client,
                             GError       **error)
{
  g_return_val_if_fail (RUNNER_IS_SERVER (self), FALSE);
  g_return_val_if_fail (RUNNER_IS_CLIENT (client), FALSE);

  if (runner_client_is_closed (client))
    return TRUE;

  if (self->shutting_down ||
      g_hash_table_size (self->clients) >= self->config->max_connections)
    {
      self->n_refused++;
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_LIMIT,
                   "Too many connections (the limit is %u)", self->config->max_connections);
      return FALSE;
    }

  runner_client_set_max_queued (client, self->config->max_queued);
  g_hash_table_add (self->clients, g_object_ref (client));
  self->n_accepted++;
  g_signal_connect (client, "event", G_CALLBACK (on_client_event), self);
  g_signal_connect (client, "closed", G_CALLBACK (on_client_closed), self);

  g_debug ("Client %s (%s, %s) joined", runner_client_get_id (client),
           runner_client_get_transport (client), runner_client_get_remote (client));
  g_signal_emit (self, signals[CLIENT_ADDED], 0, client);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_CLIENTS]);
  return TRUE;
}

/**
 * runner_server_broadcast:
 * @message: the event
 *
 * Sends @message to every client, as the old service's `io.emit` did.
 */
void
runner_server_broadcast (RunnerServer  *self,
                         RunnerMessage *message)
{
  g_autoptr(GPtrArray) clients = NULL;

  g_return_if_fail (RUNNER_IS_SERVER (self));
  g_return_if_fail (message != NULL);

  /* A snapshot: sending may close a slow client, which changes the set. */
  clients = runner_server_list_clients (self);
  for (guint i = 0; i < clients->len; i++)
    runner_client_send (g_ptr_array_index (clients, i), message);
}

/**
 * runner_server_shutdown:
 *
 * Stops listening and closes every client. Idempotent.
 */
void
runner_server_shutdown (RunnerServer *self)
{
  g_autoptr(GPtrArray) clients = NULL;

  g_return_if_fail (RUNNER_IS_SERVER (self));

  if (self->shutting_down)
    return;
  self->shutting_down = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READY]);

  if (self->soup != NULL)
    soup_server_disconnect (self->soup);

  clients = runner_server_list_clients (self);
  for (guint i = 0; i < clients->len; i++)
    runner_client_close (g_ptr_array_index (clients, i), "server shutting down");
  /* Socket.IO sessions that never connected a client */
  if (self->engine_io != NULL)
    runner_engine_io_shutdown (self->engine_io);

  if (self->app != NULL)
    runner_app_shutdown (self->app);
  if (self->terminals != NULL)
    runner_terminal_manager_shutdown (self->terminals);

  g_hash_table_remove_all (self->pending);
}
