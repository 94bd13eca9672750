/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-auth"

#include "config.h"

#include "runner-auth.h"
#include "runner-error.h"

/* Who may talk to Runner: the token (compared in constant time), the
 * browser's Origin, and the Host a request names when there is no token. */

struct _RunnerAuth
{
  GObject       parent_instance;
  RunnerConfig *config; /* unowned: outlives the checks */
};

G_DEFINE_FINAL_TYPE (RunnerAuth, runner_auth, G_TYPE_OBJECT)

static void
runner_auth_class_init (RunnerAuthClass *klass)
{
}

static void
runner_auth_init (RunnerAuth *self)
{
}

/**
 * runner_auth_new:
 * @config: the token, --no-auth, allowed origins and hosts; must outlive
 *   the returned object
 */
RunnerAuth *
runner_auth_new (RunnerConfig *config)
{
  RunnerAuth *self;

  g_return_val_if_fail (config != NULL, NULL);

  self = g_object_new (RUNNER_TYPE_AUTH, NULL);
  self->config = config;
  return self;
}

static gboolean
host_is_loopback (const char *host)
{
  g_autoptr(GInetAddress) address = NULL;
  g_autofree char *name = NULL;
  const char *colon;

  if (host[0] == '[')
    {
      const char *end = strchr (host, ']');

      if (end == NULL || (end[1] != '\0' && end[1] != ':'))
        return FALSE;
      name = g_strndup (host + 1, end - host - 1);
    }
  else
    {
      colon = strchr (host, ':');
      name = colon != NULL ? g_strndup (host, colon - host) : g_strdup (host);
    }

  if (g_ascii_strcasecmp (name, "localhost") == 0)
    return TRUE;
  address = g_inet_address_new_from_string (name);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

/* Without a token, a page from anywhere could reach Runner through a DNS name
 * that points at it (DNS rebinding): the browser then sends that name in
 * Host. Only loopback names and the configured ones pass (and the health
 * probes, which tell nothing). */
/**
 * runner_auth_check_host:
 *
 * Returns: whether the request's Host may reach Runner (always, with a token)
 */
gboolean
runner_auth_check_host (RunnerAuth        *self,
                        SoupServerMessage *msg)
{
  const char *host;
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));
  char **allowed;

  g_return_val_if_fail (RUNNER_IS_AUTH (self), FALSE);

  allowed = self->config->allowed_hosts;
  if (!self->config->no_auth || g_str_equal (path, "/healthz") || g_str_equal (path, "/readyz"))
    return TRUE;

  host = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Host");
  if (host == NULL)
    return FALSE;
  if (host_is_loopback (host))
    return TRUE;
  for (guint i = 0; allowed != NULL && allowed[i] != NULL; i++)
    {
      gsize len = strlen (allowed[i]);

      /* "name" allows any port, "name:port" only that one. */
      if (g_ascii_strncasecmp (host, allowed[i], len) == 0 &&
          (host[len] == '\0' || (host[len] == ':' && strchr (allowed[i], ':') == NULL) ||
           (allowed[i][0] == '[' && host[len] == ':')))
        return TRUE;
    }
  return FALSE;
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
 * runner_auth_check_token:
 * @token: (nullable): what the client presented
 *
 * Returns: whether @token opens the server (always, with --no-auth)
 */
gboolean
runner_auth_check_token (RunnerAuth *self,
                         const char *token)
{
  g_return_val_if_fail (RUNNER_IS_AUTH (self), FALSE);

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
 * runner_auth_authorize:
 * @msg: (nullable): the HTTP request (for `Authorization: Bearer` and `?token=`)
 * @token: (nullable): a token from elsewhere (the Socket.IO `auth` object)
 *
 * Returns: %TRUE if any of the presented tokens is right, else %FALSE with
 *   RUNNER_ERROR_AUTH
 */
gboolean
runner_auth_authorize (RunnerAuth         *self,
                       SoupServerMessage  *msg,
                       const char         *token,
                       GError            **error)
{
  g_autofree char *from_request = NULL;

  g_return_val_if_fail (RUNNER_IS_AUTH (self), FALSE);

  if (self->config->no_auth)
    return TRUE;
  if (token != NULL && runner_auth_check_token (self, token))
    return TRUE;
  if (msg != NULL)
    {
      from_request = token_from_request (msg);
      if (from_request != NULL && runner_auth_check_token (self, from_request))
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
 * runner_auth_check_origin:
 *
 * Requests without `Origin` (non-browser clients) pass. A browser's origin
 * must be the server's own (same host and port), a loopback one, or one of
 * RUNNER_ALLOWED_ORIGINS ("*" allows any).
 */
gboolean
runner_auth_check_origin (RunnerAuth        *self,
                          SoupServerMessage *msg)
{
  SoupMessageHeaders *headers;
  const char *origin, *host;
  g_autoptr(GUri) uri = NULL;
  g_autofree char *authority = NULL;

  g_return_val_if_fail (RUNNER_IS_AUTH (self), FALSE);

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
