/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <string.h>

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "runner-test-util.h"

/*
 * The raw Engine.IO protocol 4 / Socket.IO protocol 5 against the real runner
 * binary, over libsoup: what the npm client never sends is checked here.
 */

#define RS "\x1e"
#define WAIT_MS 10000

typedef struct
{
  RunnerTestServer *server;
  SoupSession      *http;
  char             *sid;
} Eio;

typedef struct
{
  guint   status;
  char   *body;
  gboolean done;
} Reply;

static void
reply_clear (Reply *reply)
{
  g_clear_pointer (&reply->body, g_free);
  reply->status = 0;
  reply->done = FALSE;
}

static char *
eio_url (Eio        *eio,
         const char *transport,
         const char *extra)
{
  g_autofree char *path = g_strdup_printf ("/socket.io/?EIO=4&transport=%s%s%s%s", transport,
                                           eio->sid != NULL ? "&sid=" : "",
                                           eio->sid != NULL ? eio->sid : "", extra ? extra : "");

  return runner_test_server_url (eio->server, path);
}

static void
on_sent (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Reply *reply = user_data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (object), result);
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (object), result, NULL);

  reply->status = soup_message_get_status (msg);
  reply->body = body != NULL ? g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body))
                             : g_strdup ("");
  reply->done = TRUE;
}

static gboolean
reply_done (gpointer user_data)
{
  return ((Reply *) user_data)->done;
}

/* Starts a request; the answer lands in @reply. */
static void
eio_start (Eio        *eio,
           const char *method,
           const char *url,
           const char *body,
           gssize      body_len,
           Reply      *reply)
{
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);

  g_assert_nonnull (msg);
  reply_clear (reply);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, body_len < 0 ? strlen (body) : (gsize) body_len);

      soup_message_set_request_body_from_bytes (msg, "text/plain;charset=UTF-8", bytes);
    }
  soup_session_send_and_read_async (eio->http, msg, G_PRIORITY_DEFAULT, NULL, on_sent, reply);
}

static void
eio_wait (Reply *reply)
{
  runner_test_wait_or_fail (reply_done, reply, WAIT_MS, "an HTTP answer");
}

static guint
eio_request (Eio        *eio,
             const char *method,
             const char *transport,
             const char *body,
             char      **answer)
{
  g_autofree char *url = eio_url (eio, transport, NULL);
  Reply reply = { 0, };
  guint status;

  eio_start (eio, method, url, body, -1, &reply);
  eio_wait (&reply);
  status = reply.status;
  if (answer != NULL)
    *answer = g_steal_pointer (&reply.body);
  reply_clear (&reply);
  return status;
}

static guint
eio_get (Eio   *eio,
         char **answer)
{
  g_autofree char *url = eio_url (eio, "polling", NULL);
  Reply reply = { 0, };
  guint status;

  eio_start (eio, "GET", url, NULL, 0, &reply);
  eio_wait (&reply);
  status = reply.status;
  if (answer != NULL)
    *answer = g_steal_pointer (&reply.body);
  reply_clear (&reply);
  return status;
}

typedef struct
{
  Eio        *eio;
  GString    *seen;
  const char *needle;
} Until;

static gboolean
seen_needle (gpointer user_data)
{
  Until *until = user_data;
  g_autofree char *body = NULL;

  if (strstr (until->seen->str, until->needle) != NULL)
    return TRUE;

  g_assert_cmpuint (eio_get (until->eio, &body), ==, 200);
  if (until->seen->len > 0)
    g_string_append (until->seen, RS);
  g_string_append (until->seen, body);
  return strstr (until->seen->str, until->needle) != NULL;
}

/* Polls until @needle has come (pushes may arrive in any poll). */
static char *
eio_get_until (Eio        *eio,
               const char *needle)
{
  Until until = { eio, g_string_new (NULL), needle };

  runner_test_wait_or_fail (seen_needle, &until, WAIT_MS, needle);
  return g_string_free (until.seen, FALSE);
}

static guint
eio_post (Eio        *eio,
          const char *body)
{
  g_autofree char *url = eio_url (eio, "polling", NULL);
  Reply reply = { 0, };
  guint status;

  eio_start (eio, "POST", url, body, -1, &reply);
  eio_wait (&reply);
  status = reply.status;
  if (status == SOUP_STATUS_OK)
    g_assert_cmpstr (reply.body, ==, "ok");
  reply_clear (&reply);
  return status;
}

static Eio *
eio_new (const char * const *env)
{
  Eio *eio = g_new0 (Eio, 1);

  eio->server = runner_test_server_start_default (NULL, env);
  eio->http = soup_session_new ();
  return eio;
}

static void
eio_free (Eio *eio)
{
  runner_test_server_stop (eio->server);
  runner_test_server_free (eio->server);
  g_object_unref (eio->http);
  g_free (eio->sid);
  g_free (eio);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Eio, eio_free)

static JsonObject *
parse_object (const char *text,
              JsonNode  **holder)
{
  g_autoptr(GError) error = NULL;

  *holder = json_from_string (text, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (*holder));
  return json_node_get_object (*holder);
}

/* GET without sid: the open packet; remembers the sid. */
static JsonNode *
eio_handshake (Eio *eio)
{
  g_autofree char *body = NULL;
  JsonNode *node = NULL;
  JsonObject *open;

  g_clear_pointer (&eio->sid, g_free);
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_true (body[0] == '0');
  open = parse_object (body + 1, &node);
  eio->sid = g_strdup (json_object_get_string_member (open, "sid"));
  g_assert_cmpuint (strlen (eio->sid), ==, 20);
  return node;
}

/* Handshake, then the Socket.IO CONNECT with the right token. */
static void
eio_connect (Eio *eio)
{
  g_autoptr(JsonNode) open = eio_handshake (eio);
  g_autofree char *connect = g_strdup_printf ("40{\"token\":\"%s\"}", eio->server->token);
  g_autofree char *body = NULL;

  g_assert_cmpuint (eio_post (eio, connect), ==, 200);
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_true (g_str_has_prefix (body, "40{\"sid\":\""));
}

static void
assert_eio_error (guint       status,
                  const char *body,
                  guint       expected_status,
                  gint64      code,
                  const char *message)
{
  g_autoptr(JsonNode) node = NULL;
  JsonObject *object;

  g_assert_cmpuint (status, ==, expected_status);
  object = parse_object (body, &node);
  g_assert_cmpint (json_object_get_int_member (object, "code"), ==, code);
  g_assert_cmpstr (json_object_get_string_member (object, "message"), ==, message);
}

static void
test_handshake (void)
{
  const char *env[] = { "RUNNER_PING_INTERVAL=1234", "RUNNER_PING_TIMEOUT=4321",
                        "RUNNER_MAX_FRAME=65536", NULL };
  g_autoptr(Eio) eio = eio_new (env);
  g_autoptr(JsonNode) node = eio_handshake (eio);
  g_autofree char *first_sid = g_strdup (eio->sid);
  g_autoptr(JsonNode) again = NULL;
  JsonObject *open = json_node_get_object (node);
  JsonArray *upgrades = json_object_get_array_member (open, "upgrades");

  g_assert_cmpuint (json_array_get_length (upgrades), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (upgrades, 0), ==, "websocket");
  g_assert_cmpint (json_object_get_int_member (open, "pingInterval"), ==, 1234);
  g_assert_cmpint (json_object_get_int_member (open, "pingTimeout"), ==, 4321);
  g_assert_cmpint (json_object_get_int_member (open, "maxPayload"), ==, 65536);

  /* Every handshake gets its own random sid */
  again = eio_handshake (eio);
  g_assert_cmpstr (eio->sid, !=, first_sid);
}

static void
test_errors (void)
{
  g_autoptr(Eio) eio = eio_new (NULL);
  char *body = NULL;
  guint status;

  status = runner_test_http_get (eio->server, "/socket.io/?EIO=3&transport=polling", NULL, &body);
  assert_eio_error (status, body, 400, 5, "Unsupported protocol version");
  g_free (body);

  status = runner_test_http_get (eio->server, "/socket.io/?transport=polling", NULL, &body);
  assert_eio_error (status, body, 400, 5, "Unsupported protocol version");
  g_free (body);

  status = runner_test_http_get (eio->server, "/socket.io/?EIO=4&transport=flash", NULL, &body);
  assert_eio_error (status, body, 400, 0, "Transport unknown");
  g_free (body);

  status = runner_test_http_get (eio->server, "/socket.io/?EIO=4", NULL, &body);
  assert_eio_error (status, body, 400, 0, "Transport unknown");
  g_free (body);

  status = runner_test_http_get (eio->server, "/socket.io/?EIO=4&transport=polling&sid=nope", NULL,
                                 &body);
  assert_eio_error (status, body, 400, 1, "Session ID unknown");
  g_free (body);

  /* A handshake must be a GET */
  status = eio_request (eio, "POST", "polling", "40", &body);
  assert_eio_error (status, body, 400, 2, "Bad handshake method");
  g_free (body);

  /* A websocket handshake without the upgrade */
  status = runner_test_http_get (eio->server, "/socket.io/?EIO=4&transport=websocket", NULL, &body);
  assert_eio_error (status, body, 400, 3, "Bad request");
  g_free (body);

  /* Paths under /socket.io/ other than itself */
  g_assert_cmpuint (runner_test_http_get (eio->server, "/socket.io/other?EIO=4&transport=polling",
                                          NULL, NULL), ==, 404);
}

static void
test_connect (void)
{
  g_autoptr(Eio) eio = eio_new (NULL);
  g_autoptr(JsonNode) open = eio_handshake (eio);
  g_autofree char *connect = g_strdup_printf ("40{\"token\":\"%s\"}", eio->server->token);
  char *body = NULL;

  /* No token, a wrong one, one of the wrong type: refused, the session stays */
  g_assert_cmpuint (eio_post (eio, "40"), ==, 200);
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_cmpstr (body, ==, "44{\"message\":\"not authorized\"}");
  g_free (body);

  g_assert_cmpuint (eio_post (eio, "40{\"token\":\"nope\"}" RS "40{\"token\":7}"), ==, 200);
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_cmpstr (body, ==, "44{\"message\":\"not authorized\"}" RS "44{\"message\":\"not authorized\"}");
  g_free (body);

  /* Another namespace */
  g_assert_cmpuint (eio_post (eio, "40/term,"), ==, 200);
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_cmpstr (body, ==, "44/term,{\"message\":\"Invalid namespace\"}");
  g_free (body);

  /* The right token; then an event with an ack */
  g_assert_cmpuint (eio_post (eio, connect), ==, 200);
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_true (g_str_has_prefix (body, "40{\"sid\":\""));
  g_free (body);

  g_assert_cmpuint (eio_post (eio, "4212[\"fetchDir\",{\"path\":\"/workspace\"}]"), ==, 200);
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_cmpstr (body, ==, "42[\"file:refresh\",{\"tree\":[]}]" RS "4312[{\"tree\":[]}]");
  g_free (body);

  /* A failure is acked with {error:{code,message}} and pushed as error:runner */
  g_assert_cmpuint (eio_post (eio, "423[\"fetchContent\",{\"path\":\"/workspace/none\"}]"), ==, 200);
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_true (g_str_has_prefix (body, "42[\"error:runner\",{\"error\":\""));
  g_assert_nonnull (strstr (body, "\"code\":\"ENOENT\"}]" RS "433[{\"error\":{\"code\":\"ENOENT\""));
  g_free (body);

  /* Packets before a CONNECT on a fresh session close it */
  g_clear_pointer (&open, json_node_unref);
  open = eio_handshake (eio);
  g_assert_cmpuint (eio_post (eio, "42[\"fetchDir\",{}]"), ==, 200);
  g_assert_cmpuint (eio_get (eio, &body), ==, 400);
  g_free (body);
}

static void
test_token_on_handshake (void)
{
  g_autoptr(Eio) eio = eio_new (NULL);
  g_autofree char *query = g_strdup_printf ("&token=%s", eio->server->token);
  g_autofree char *url = eio_url (eio, "polling", query);
  g_autoptr(JsonNode) node = NULL;
  JsonObject *open;
  Reply reply = { 0, };
  char *body = NULL;

  /* ?token= on the handshake authorizes the session's CONNECT */
  eio_start (eio, "GET", url, NULL, 0, &reply);
  eio_wait (&reply);
  g_assert_cmpuint (reply.status, ==, 200);
  open = parse_object (reply.body + 1, &node);
  eio->sid = g_strdup (json_object_get_string_member (open, "sid"));
  reply_clear (&reply);

  g_assert_cmpuint (eio_post (eio, "40"), ==, 200);
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_true (g_str_has_prefix (body, "40{\"sid\":\""));
  g_free (body);
}

static void
test_binary_polling (void)
{
  g_autoptr(Eio) eio = eio_new (NULL);
  char *body = NULL;

  eio_connect (eio);

  /* updateContent with its content as an attachment, b<base64> when polling */
  g_assert_cmpuint (eio_post (eio, "451-1[\"updateContent\",{\"path\":\"/workspace/b.bin\","
                                   "\"content\":{\"_placeholder\":true,\"num\":0}}]" RS "bAAEC/w=="),
                    ==, 200);
  body = eio_get_until (eio, "431[{\"ok\":true,\"path\":\"/workspace/b.bin\"}]");
  /* The tree pushed to every client after the write: in the same poll as the
   * ack, or a later one. */
  if (strstr (body, "b.bin\"}]}]") == NULL)
    {
      g_free (body);
      body = eio_get_until (eio, "b.bin\"}]}]");
    }
  g_free (body);

  g_assert_cmpuint (eio_post (eio, "422[\"fetchContent\",{\"path\":\"/workspace/b.bin\"}]"), ==, 200);
  body = eio_get_until (eio, "432[");
  g_assert_nonnull (strstr (body, "\"content\":\"AAEC/w==\",\"encoding\":\"base64\""));
  g_free (body);

  /* An attachment with no binary event before it is a protocol error */
  g_assert_cmpuint (eio_post (eio, "bAQID"), ==, 200);
  g_assert_cmpuint (eio_get (eio, &body), ==, 400);
  g_free (body);
}

static void
test_bad_payloads (void)
{
  static const char * const bad[] = {
    "", "x", "4" RS, "9", "bA=", "42[\"fetchDir\",{]", "42[[[[", "451-[\"x\"]",
  };
  g_autoptr(Eio) eio = eio_new (NULL);
  char *body = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *escaped = g_strescape (bad[i], NULL);
      guint status;

      g_test_message ("payload \"%s\"", escaped);
      eio_connect (eio);
      status = eio_post (eio, bad[i]);
      if (status == 200)
        {
          /* Accepted at the Engine.IO level, refused at Socket.IO's: closed */
          g_assert_cmpuint (eio_get (eio, &body), ==, 400);
        }
      else
        {
          g_assert_cmpuint (status, ==, 400);
          status = eio_get (eio, &body);
          assert_eio_error (status, body, 400, 1, "Session ID unknown");
        }
      g_free (body);
    }

  /* The server still serves */
  eio_connect (eio);
}

static char *
event_of_size (gsize size)
{
  GString *event = g_string_new ("42[\"fetchDir\",{\"path\":\"");

  while (event->len < size - 3)
    g_string_append_c (event, 'a');
  g_string_append (event, "\"}]");
  return g_string_free (event, FALSE);
}

static void
test_max_payload (void)
{
  const char *env[] = { "RUNNER_MAX_FRAME=4096", NULL };
  g_autoptr(Eio) eio = eio_new (env);
  g_autofree char *over = event_of_size (4097);
  g_autofree char *under = event_of_size (4096);
  char *body = NULL;

  /* Just at maxPayload: accepted (the path is refused, not the packet) */
  eio_connect (eio);
  g_assert_cmpuint (strlen (under), ==, 4096);
  g_assert_cmpuint (eio_post (eio, under), ==, 200);
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_nonnull (strstr (body, "error:runner"));
  g_free (body);

  /* Over it: 413, and the session is gone */
  g_assert_cmpuint (strlen (over), ==, 4097);
  g_assert_cmpuint (eio_post (eio, over), ==, 413);
  g_assert_cmpuint (eio_get (eio, &body), ==, 400);
  g_free (body);
}

static gboolean
is_session_gone (gpointer user_data)
{
  Eio *eio = user_data;
  g_autofree char *body = NULL;
  guint status = eio_get (eio, &body);

  /* The pending poll gets the close packet, later ones an unknown sid */
  if (status == 200)
    return g_str_has_suffix (body, "1");
  return status == 400 && strstr (body, "Session ID unknown") != NULL;
}

static void
test_ping_timeout (void)
{
  const char *env[] = { "RUNNER_PING_INTERVAL=200", "RUNNER_PING_TIMEOUT=2000", NULL };
  g_autoptr(Eio) eio = eio_new (env);
  g_autofree char *body = NULL;

  /* A client that pongs stays */
  eio_connect (eio);
  for (guint i = 0; i < 5; i++)
    {
      g_clear_pointer (&body, g_free);
      g_assert_cmpuint (eio_get (eio, &body), ==, 200);
      g_assert_cmpstr (body, ==, "2");
      g_assert_cmpuint (eio_post (eio, "3"), ==, 200);
    }

  /* One that does not is closed after pingInterval + pingTimeout */
  runner_test_wait_or_fail (is_session_gone, eio, WAIT_MS, "the session to be dropped");
}

static guint
metric (Eio        *eio,
        const char *name)
{
  g_autofree char *body = NULL;
  g_autofree char *prefix = g_strdup_printf ("\n%s ", name);
  const char *found;

  g_assert_cmpuint (runner_test_http_get (eio->server, "/metrics", eio->server->token, &body), ==,
                    200);
  found = strstr (body, prefix);
  g_assert_nonnull (found);
  return (guint) g_ascii_strtoull (found + strlen (prefix), NULL, 10);
}

static gboolean
no_clients (gpointer user_data)
{
  return metric (user_data, "runner_clients") == 0;
}

static gboolean
one_client (gpointer user_data)
{
  return metric (user_data, "runner_clients") == 1;
}

static void
test_namespace_disconnect (void)
{
  const char *env[] = { "RUNNER_AUTH_TIMEOUT=1", NULL };
  g_autoptr(Eio) eio = eio_new (env);
  g_autofree char *connect = NULL;
  g_autofree char *body = NULL;
  g_autofree char *seen = NULL;

  eio_connect (eio);
  connect = g_strdup_printf ("40{\"token\":\"%s\"}", eio->server->token);
  g_assert_cmpuint (metric (eio, "runner_clients"), ==, 1);

  /* A DISCONNECT ends the client, not the session (as socket.io) */
  g_assert_cmpuint (eio_post (eio, "41"), ==, 200);
  runner_test_wait_or_fail (no_clients, eio, WAIT_MS, "the client to leave");

  /* The session may CONNECT again, and is a client like any other */
  g_assert_cmpuint (eio_post (eio, connect), ==, 200);
  seen = eio_get_until (eio, "40{\"sid\":\"");
  g_assert_cmpuint (metric (eio, "runner_clients"), ==, 1);
  g_assert_cmpuint (eio_post (eio, "421[\"nope\"]"), ==, 200);
  g_free (seen);
  seen = eio_get_until (eio, "431[{\"error\":{\"code\":\"ENOSYS\"");

  /* Left again and silent: the auth timeout ends the session */
  g_assert_cmpuint (eio_post (eio, "41"), ==, 200);
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_cmpstr (body, ==, "1");
  g_clear_pointer (&body, g_free);
  g_assert_cmpuint (eio_get (eio, &body), ==, 400);
}

static void
test_vanished_client (void)
{
  const char *env[] = { "RUNNER_PING_INTERVAL=100", "RUNNER_PING_TIMEOUT=100", NULL };
  g_autoptr(Eio) eio = eio_new (env);
  g_autofree char *url = NULL;
  Reply reply = { 0, };

  eio_connect (eio);
  g_assert_cmpuint (metric (eio, "runner_clients"), ==, 1);

  /* A pending poll whose client goes away, then silence */
  url = eio_url (eio, "polling", NULL);
  eio_start (eio, "GET", url, NULL, 0, &reply);
  soup_session_abort (eio->http);
  eio_wait (&reply);
  reply_clear (&reply);

  runner_test_wait_or_fail (no_clients, eio, WAIT_MS, "the vanished client to be dropped");
}

/* WebSocket */

typedef struct
{
  SoupWebsocketConnection *conn;
  GQueue                   texts; /* char* */
  gboolean                 closed;
  gboolean                 failed;
} Ws;

static void
on_ws_message (SoupWebsocketConnection *conn,
               gint                     type,
               GBytes                  *message,
               Ws                      *ws)
{
  if (type == SOUP_WEBSOCKET_DATA_TEXT)
    g_queue_push_tail (&ws->texts, g_strndup (g_bytes_get_data (message, NULL),
                                              g_bytes_get_size (message)));
}

static void
on_ws_closed (SoupWebsocketConnection *conn,
              Ws                      *ws)
{
  ws->closed = TRUE;
}

static void
on_ws_connected (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Ws *ws = user_data;
  g_autoptr(GError) error = NULL;

  ws->conn = soup_session_websocket_connect_finish (SOUP_SESSION (object), result, &error);
  if (ws->conn == NULL)
    {
      ws->failed = TRUE;
      return;
    }
  g_signal_connect (ws->conn, "message", G_CALLBACK (on_ws_message), ws);
  g_signal_connect (ws->conn, "closed", G_CALLBACK (on_ws_closed), ws);
}

static gboolean
ws_settled (gpointer user_data)
{
  Ws *ws = user_data;

  return ws->conn != NULL || ws->failed;
}

static Ws *
ws_open (Eio *eio)
{
  g_autofree char *url = eio_url (eio, "websocket", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  Ws *ws = g_new0 (Ws, 1);

  g_queue_init (&ws->texts);
  soup_session_websocket_connect_async (eio->http, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_ws_connected, ws);
  runner_test_wait_or_fail (ws_settled, ws, WAIT_MS, "the websocket");
  g_assert_false (ws->failed);
  return ws;
}

static gboolean
ws_has_text (gpointer user_data)
{
  Ws *ws = user_data;

  return !g_queue_is_empty (&ws->texts) || ws->closed;
}

static char *
ws_next (Ws *ws)
{
  runner_test_wait_or_fail (ws_has_text, ws, WAIT_MS, "a websocket message");
  g_assert_false (g_queue_is_empty (&ws->texts));
  return g_queue_pop_head (&ws->texts);
}

static gboolean
ws_is_closed (gpointer user_data)
{
  return ((Ws *) user_data)->closed;
}

static void
ws_free (Ws *ws)
{
  if (ws->conn != NULL && soup_websocket_connection_get_state (ws->conn) == SOUP_WEBSOCKET_STATE_OPEN)
    {
      soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      runner_test_wait_or_fail (ws_is_closed, ws, WAIT_MS, "the websocket to close");
    }
  g_clear_object (&ws->conn);
  g_queue_clear_full (&ws->texts, g_free);
  g_free (ws);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Ws, ws_free)

static void
assert_ws_next (Ws         *ws,
                const char *expected)
{
  g_autofree char *text = ws_next (ws);

  g_assert_cmpstr (text, ==, expected);
}

/* A pending poll, then a websocket probe: the server answers the poll with
 * a noop so that the client can pause polling. */
static Ws *
probe_upgrade (Eio *eio)
{
  g_autofree char *url = eio_url (eio, "polling", NULL);
  Reply poll = { 0, };
  Ws *ws;

  eio_start (eio, "GET", url, NULL, 0, &poll);
  ws = ws_open (eio);
  soup_websocket_connection_send_text (ws->conn, "2probe");
  assert_ws_next (ws, "3probe");
  eio_wait (&poll);
  g_assert_cmpuint (poll.status, ==, 200);
  g_assert_cmpstr (poll.body, ==, "6");
  reply_clear (&poll);
  return ws;
}

static void
test_upgrade (void)
{
  g_autoptr(Eio) eio = eio_new (NULL);
  g_autoptr(Ws) ws = NULL;
  g_autofree char *text = NULL;
  char *body = NULL;

  eio_connect (eio);
  ws = probe_upgrade (eio);

  /* Events sent while upgrading wait for the websocket */
  g_assert_cmpuint (eio_post (eio, "427[\"fetchDir\",{}]"), ==, 200);
  soup_websocket_connection_send_text (ws->conn, "5");
  assert_ws_next (ws, "42[\"file:refresh\",{\"tree\":[]}]");
  assert_ws_next (ws, "437[{\"tree\":[]}]");

  /* Now on the websocket: events, and polling is refused */
  soup_websocket_connection_send_text (ws->conn, "428[\"fetchDir\",{}]");
  assert_ws_next (ws, "42[\"file:refresh\",{\"tree\":[]}]");
  assert_ws_next (ws, "438[{\"tree\":[]}]");

  g_assert_cmpuint (eio_get (eio, &body), ==, 400);
  assert_eio_error (400, body, 400, 3, "Bad request");
  g_free (body);

  /* A second websocket on the session is closed at once, with nothing said
   * (as engine.io does: a client sees a close, not an HTTP error) */
  {
    g_autofree char *ws_url = eio_url (eio, "websocket", NULL);
    g_autoptr(SoupMessage) msg = soup_message_new ("GET", ws_url);
    Ws second = { 0, };

    g_queue_init (&second.texts);
    soup_session_websocket_connect_async (eio->http, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                          on_ws_connected, &second);
    runner_test_wait_or_fail (ws_settled, &second, WAIT_MS, "the second websocket");
    g_assert_false (second.failed);
    runner_test_wait_or_fail (ws_is_closed, &second, WAIT_MS, "the second websocket to close");
    g_assert_cmpuint (soup_websocket_connection_get_close_code (second.conn), ==,
                      SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
    g_assert_true (g_queue_is_empty (&second.texts));
    g_signal_handlers_disconnect_by_data (second.conn, &second);
    g_clear_object (&second.conn);
  }

  /* Binary attachment as a binary frame */
  soup_websocket_connection_send_text (ws->conn,
                                       "451-9[\"updateContent\",{\"path\":\"/workspace/w.bin\","
                                       "\"content\":{\"_placeholder\":true,\"num\":0}}]");
  soup_websocket_connection_send_binary (ws->conn, "\x00\xff\x01", 3);
  for (;;)
    {
      g_clear_pointer (&text, g_free);
      text = ws_next (ws);
      if (g_str_has_prefix (text, "439["))
        break;
    }
  g_assert_cmpstr (text, ==, "439[{\"ok\":true,\"path\":\"/workspace/w.bin\"}]");

  /* The client's close packet ends the session */
  soup_websocket_connection_send_text (ws->conn, "1");
  runner_test_wait_or_fail (ws_is_closed, ws, WAIT_MS, "the session to end");
  runner_test_wait_or_fail (no_clients, eio, WAIT_MS, "the client to be dropped");
}

static void
test_upgrade_interrupted (void)
{
  g_autoptr(Eio) eio = eio_new (NULL);
  g_autoptr(Ws) ws = NULL;
  char *body = NULL;

  eio_connect (eio);
  ws = probe_upgrade (eio);

  /* The websocket goes away before the upgrade: the session stays on polling */
  soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
  runner_test_wait_or_fail (ws_is_closed, ws, WAIT_MS, "the websocket to close");

  g_assert_cmpuint (eio_post (eio, "424[\"fetchDir\",{}]"), ==, 200);
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_cmpstr (body, ==, "42[\"file:refresh\",{\"tree\":[]}]" RS "434[{\"tree\":[]}]");
  g_free (body);
  g_assert_cmpuint (metric (eio, "runner_clients"), ==, 1);

  /* An upgrade that sends junk instead of the probe is refused, polling goes on */
  {
    g_autoptr(Ws) bad = ws_open (eio);

    soup_websocket_connection_send_text (bad->conn, "5");
    runner_test_wait_or_fail (ws_is_closed, bad, WAIT_MS, "the bad probe to be closed");
  }
  g_assert_cmpuint (eio_post (eio, "425[\"fetchDir\",{}]"), ==, 200);
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_nonnull (strstr (body, "435[{\"tree\":[]}]"));
  g_free (body);
}

static void
test_websocket_only (void)
{
  const char *env[] = { "RUNNER_MAX_FRAME=4096", NULL };
  g_autoptr(Eio) eio = eio_new (env);
  g_autoptr(Ws) ws = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *open = NULL;
  g_autofree char *connect = g_strdup_printf ("40{\"token\":\"%s\"}", eio->server->token);
  g_autofree char *reply = NULL;
  g_autofree char *big = g_malloc (8192);
  JsonObject *object;

  ws = ws_open (eio);
  open = ws_next (ws);
  g_assert_true (open[0] == '0');
  object = parse_object (open + 1, &node);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "upgrades")), ==, 0);

  soup_websocket_connection_send_text (ws->conn, connect);
  reply = ws_next (ws);
  g_assert_true (g_str_has_prefix (reply, "40{\"sid\":\""));

  /* A frame over maxPayload closes with 1009 (or, when the kernel resets the
   * connection over the unread rest of the frame, with no code at all) */
  memset (big, 'a', 8191);
  big[0] = '4';
  big[1] = '2';
  big[8191] = '\0';
  soup_websocket_connection_send_text (ws->conn, big);
  runner_test_wait_or_fail (ws_is_closed, ws, WAIT_MS, "the oversized frame to close");
  if (soup_websocket_connection_get_close_code (ws->conn) != 0)
    g_assert_cmpint (soup_websocket_connection_get_close_code (ws->conn), ==,
                     SOUP_WEBSOCKET_CLOSE_TOO_BIG);
  runner_test_wait_or_fail (no_clients, eio, WAIT_MS, "the client to be dropped");
}

/* Raw frames, for what libsoup's client never sends: fragments. */

#define WS_PATH "/socket.io/?EIO=4&transport=websocket"

/* The next text frame (control frames skipped), or NULL at the end */
static char *
raw_next_text (GSocketConnection *conn)
{
  for (;;)
    {
      guint8 first = 0;
      g_autoptr(GBytes) payload = runner_test_ws_read_frame (conn, &first);

      if (payload == NULL)
        return NULL;
      if ((first & 0x0f) == 0x1)
        return g_strndup (g_bytes_get_data (payload, NULL), g_bytes_get_size (payload));
    }
}

static char *
connect_of_size (const char *token,
                 gsize       size)
{
  GString *connect = g_string_new (NULL);

  g_string_printf (connect, "40{\"token\":\"%s\",\"pad\":\"", token);
  while (connect->len < size - 2)
    g_string_append_c (connect, 'x');
  g_string_append (connect, "\"}");
  return g_string_free (connect, FALSE);
}

/* Before its CONNECT is accepted, a session takes only small messages. */
static void
test_preauth_limit (void)
{
  g_autoptr(Eio) eio = eio_new (NULL);
  g_autofree char *big_connect = connect_of_size (eio->server->token, 8192);
  g_autofree char *connect = g_strdup_printf ("40{\"token\":\"%s\"}", eio->server->token);
  g_autofree char *event = event_of_size (16384);
  g_autofree char *acked = g_strdup_printf ("427%s", event + 2);
  g_autoptr(JsonNode) open = NULL;
  gsize len = strlen (acked);
  char *body = NULL;
  char *text;

  /* A CONNECT over the bound, though the token is right: closed unanswered */
  {
    g_autoptr(GSocketConnection) conn = runner_test_raw_websocket_at (eio->server, WS_PATH);

    text = raw_next_text (conn);
    g_assert_true (text != NULL && text[0] == '0');
    g_free (text);
    g_assert_true (runner_test_ws_send_frame (conn, 0x81, big_connect, strlen (big_connect)));
    while ((text = raw_next_text (conn)) != NULL)
      {
        g_assert_false (g_str_has_prefix (text, "40"));
        g_free (text);
      }
  }

  /* Connected, a large event is fine, in fragments too */
  {
    g_autoptr(GSocketConnection) conn = runner_test_raw_websocket_at (eio->server, WS_PATH);

    text = raw_next_text (conn);
    g_free (text);
    g_assert_true (runner_test_ws_send_frame (conn, 0x81, connect, strlen (connect)));
    text = raw_next_text (conn);
    g_assert_true (text != NULL && g_str_has_prefix (text, "40{\"sid\":\""));
    g_free (text);

    g_assert_true (runner_test_ws_send_frame (conn, 0x01, acked, 2));
    g_assert_true (runner_test_ws_send_frame (conn, 0x89, "p", 1));
    g_assert_true (runner_test_ws_send_frame (conn, 0x00, acked + 2, len / 2 - 2));
    g_assert_true (runner_test_ws_send_frame (conn, 0x80, acked + len / 2, len - len / 2));
    while ((text = raw_next_text (conn)) != NULL && !g_str_has_prefix (text, "437["))
      g_free (text);
    g_assert_nonnull (text);
    g_free (text);
  }

  /* The same bound over polling: 413, and the session is gone */
  open = eio_handshake (eio);
  g_assert_cmpuint (eio_post (eio, big_connect), ==, 413);
  g_clear_pointer (&open, json_node_unref);

  /* Connected: up to maxPayload (the path is refused, not the packet) */
  eio_connect (eio);
  g_assert_cmpuint (eio_post (eio, event), ==, 200);
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_nonnull (strstr (body, "error:runner"));
  g_free (body);
}

/* A message that never ends, before any CONNECT: the connection is closed
 * and the server's memory stays flat. */
static void
test_preauth_flood (void)
{
  g_autoptr(Eio) eio = eio_new (NULL);
  g_autoptr(GSocketConnection) conn = runner_test_raw_websocket_at (eio->server, WS_PATH);
  gsize chunk_len = 64 * 1024;
  g_autofree char *chunk = g_strnfill (chunk_len, 'x');
  g_autofree char *open = raw_next_text (conn);
  gint64 rss_before, rss_after;
  gboolean sent_all;
  gsize sent;

  g_assert_true (open != NULL && open[0] == '0');
  rss_before = runner_test_rss_kb (runner_test_server_get_pid (eio->server));

  sent_all = runner_test_ws_send_frame (conn, 0x01, "40{\"token\":\"", 12);
  for (sent = 12; sent_all && sent < 64 * 1024 * 1024; sent += chunk_len)
    sent_all = runner_test_ws_send_frame (conn, 0x00, chunk, chunk_len);
  rss_after = runner_test_rss_kb (runner_test_server_get_pid (eio->server));
  g_test_message ("%zu bytes sent; RSS %" G_GINT64_FORMAT " kB -> %" G_GINT64_FORMAT " kB",
                  sent, rss_before, rss_after);

  g_assert_false (sent_all);
  /* AddressSanitizer keeps freed memory in quarantine: RSS says nothing there. */
#ifndef __SANITIZE_ADDRESS__
  g_assert_cmpint (rss_after - rss_before, <, 16 * 1024);
#endif

  /* The server still serves */
  eio_connect (eio);
}

/* Skips frames (pings, pushes) until one holds @needle. */
static char *
ws_next_with (Ws         *ws,
              const char *needle)
{
  for (;;)
    {
      char *text = ws_next (ws);

      g_assert_nonnull (text);
      if (strstr (text, needle) != NULL)
        return text;
      g_free (text);
    }
}

static char *
read_workspace_file (Eio        *eio,
                     const char *name,
                     gsize      *len)
{
  g_autofree char *path = g_build_filename (eio->server->workspace, name, NULL);
  char *data = NULL;

  if (!g_file_get_contents (path, &data, len, NULL))
    return NULL;
  return data;
}

static void
test_text_rules (void)
{
  g_autoptr(Eio) eio = eio_new (NULL);
  g_autoptr(Ws) ws = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autofree char *open = NULL;
  g_autofree char *text = NULL;
  g_autofree char *frame = NULL;
  g_autofree char *bad = g_build_filename (eio->server->workspace, "bad\xff.txt", NULL);
  g_autofree char *bad_bytes = g_base64_encode ((const guchar *) "/workspace/bad\xff.txt", 19);
  g_autofree char *data = NULL;
  gsize len;
  guint entries = 0;

  ws = ws_open (eio);
  open = ws_next (ws);
  g_assert_true (open[0] == '0');

  /* NUL in the token: refused, not cut short to the right token */
  frame = g_strdup_printf ("40{\"token\":\"%s\\u0000x\"}", eio->server->token);
  soup_websocket_connection_send_text (ws->conn, frame);
  text = ws_next (ws);
  g_assert_cmpstr (text, ==, "44{\"message\":\"not authorized\"}");
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&frame, g_free);
  frame = g_strdup_printf ("40{\"token\":\"%s\"}", eio->server->token);
  soup_websocket_connection_send_text (ws->conn, frame);
  text = ws_next (ws);
  g_assert_true (g_str_has_prefix (text, "40{\"sid\":\""));
  g_clear_pointer (&text, g_free);

  /* A name that is not UTF-8, made in the shell: U+FFFD and its bytes */
  g_assert_true (g_file_set_contents_full (bad, "bad", -1, G_FILE_SET_CONTENTS_NONE, 0644, NULL));
  text = ws_next_with (ws, "\"file:changed\"");
  g_assert_nonnull (strstr (text, "\"path\":\"/workspace/bad\xef\xbf\xbd.txt\""));
  g_assert_nonnull (strstr (text, bad_bytes));
  g_clear_pointer (&text, g_free);

  soup_websocket_connection_send_text (ws->conn, "421[\"fetchDir\",{}]");
  text = ws_next_with (ws, "431[");
  g_assert_nonnull (strstr (text, "\"name\":\"bad\xef\xbf\xbd.txt\""));
  g_assert_nonnull (strstr (text, "\"nameBytes\":\"YmFk/y50eHQ=\""));
  g_assert_nonnull (strstr (text, bad_bytes));
  g_clear_pointer (&text, g_free);

  /* ... which requests take in place of the path */
  g_clear_pointer (&frame, g_free);
  frame = g_strdup_printf ("422[\"fetchContent\",{\"pathBytes\":\"%s\"}]", bad_bytes);
  soup_websocket_connection_send_text (ws->conn, frame);
  text = ws_next_with (ws, "432[");
  g_assert_nonnull (strstr (text, "\"content\":\"bad\""));
  g_clear_pointer (&text, g_free);

  /* Lone surrogates: EINVAL, acked, nothing made */
  soup_websocket_connection_send_text (ws->conn,
                                       "423[\"updateContent\",{\"path\":\"sur\\ud800.txt\",\"content\":\"x\"}]");
  text = ws_next_with (ws, "433[");
  g_assert_true (g_str_has_prefix (text, "433[{\"error\":{\"code\":\"EINVAL\""));
  g_clear_pointer (&text, g_free);
  soup_websocket_connection_send_text (ws->conn,
                                       "424[\"updateContent\",{\"path\":\"s.txt\",\"content\":\"a\\udc00b\"}]");
  text = ws_next_with (ws, "434[");
  g_assert_true (g_str_has_prefix (text, "434[{\"error\":{\"code\":\"EINVAL\""));
  g_clear_pointer (&text, g_free);

  /* NUL: refused in a path, kept in text content */
  soup_websocket_connection_send_text (ws->conn,
                                       "425[\"updateContent\",{\"path\":\"bad\\u0000.bak\",\"content\":\"x\"}]");
  text = ws_next_with (ws, "435[");
  g_assert_true (g_str_has_prefix (text, "435[{\"error\":{\"code\":\"EINVAL\""));
  g_clear_pointer (&text, g_free);
  soup_websocket_connection_send_text (ws->conn,
                                       "426[\"updateContent\",{\"path\":\"n.txt\",\"content\":\"abc\\u0000def\"}]");
  text = ws_next_with (ws, "436[");
  g_assert_nonnull (strstr (text, "\"ok\":true"));
  g_clear_pointer (&text, g_free);
  data = read_workspace_file (eio, "n.txt", &len);
  g_assert_cmpmem (data, len, "abc\0def", 7);

  dir = g_dir_open (eio->server->workspace, 0, NULL);
  while (g_dir_read_name (dir) != NULL)
    entries++;
  g_assert_cmpuint (entries, ==, 2);

  g_clear_pointer (&frame, g_free);
  frame = g_strdup_printf ("427[\"delete\",{\"pathBytes\":\"%s\"}]", bad_bytes);
  soup_websocket_connection_send_text (ws->conn, frame);
  text = ws_next_with (ws, "437[");
  g_assert_nonnull (strstr (text, "\"ok\":true"));
  g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
}

static SoupMessage *
send_with_origin (Eio        *eio,
                  const char *method,
                  const char *origin,
                  guint      *status)
{
  g_autofree char *url = eio_url (eio, "polling", NULL);
  SoupMessage *msg = soup_message_new (method, url);
  g_autoptr(GBytes) body = NULL;

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Origin", origin);
  soup_message_headers_replace (soup_message_get_request_headers (msg),
                                "Access-Control-Request-Headers", "content-type");
  body = soup_session_send_and_read (eio->http, msg, NULL, NULL);
  *status = soup_message_get_status (msg);
  return msg;
}

static SoupMessage *
send_closing (Eio        *eio,
              const char *path,
              gboolean    close,
              guint      *status)
{
  g_autofree char *url = runner_test_server_url (eio->server, path);
  SoupMessage *msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = NULL;

  if (close)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Connection", "close");
  body = soup_session_send_and_read (eio->http, msg, NULL, NULL);
  *status = soup_message_get_status (msg);
  return msg;
}

static gboolean
says_close (SoupMessage *msg)
{
  return soup_message_headers_header_contains (soup_message_get_response_headers (msg),
                                               "Connection", "close");
}

static void
test_connection_close (void)
{
  g_autoptr(Eio) eio = eio_new (NULL);
  g_autoptr(SoupMessage) open = NULL;
  g_autoptr(SoupMessage) refused = NULL;
  g_autoptr(SoupMessage) kept = NULL;
  guint status;

  /* A client that asks to close is told the connection ends (RFC 9112
   * 9.6): node's keep-alive agent would reuse it otherwise, and fail */
  open = send_closing (eio, "/socket.io/?EIO=4&transport=polling", TRUE, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_true (says_close (open));
  refused = send_closing (eio, "/socket.io/?transport=polling", TRUE, &status);
  g_assert_cmpuint (status, ==, 400);
  g_assert_true (says_close (refused));

  /* Others keep their connection */
  kept = send_closing (eio, "/socket.io/?EIO=4&transport=polling", FALSE, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_false (says_close (kept));
}

static void
test_cors (void)
{
  const char *env[] = { "RUNNER_ALLOWED_ORIGINS=https://ide.example", NULL };
  g_autoptr(Eio) eio = eio_new (env);
  g_autoptr(SoupMessage) preflight = NULL;
  g_autoptr(SoupMessage) allowed = NULL;
  g_autoptr(SoupMessage) refused = NULL;
  SoupMessageHeaders *headers;
  guint status;

  preflight = send_with_origin (eio, "OPTIONS", "https://ide.example", &status);
  g_assert_cmpuint (status, ==, 204);
  headers = soup_message_get_response_headers (preflight);
  g_assert_cmpstr (soup_message_headers_get_one (headers, "Access-Control-Allow-Origin"), ==,
                   "https://ide.example");
  g_assert_cmpstr (soup_message_headers_get_one (headers, "Access-Control-Allow-Credentials"), ==,
                   "true");
  g_assert_nonnull (strstr (soup_message_headers_get_one (headers, "Access-Control-Allow-Methods"),
                            "POST"));
  g_assert_cmpstr (soup_message_headers_get_one (headers, "Access-Control-Allow-Headers"), ==,
                   "content-type");

  allowed = send_with_origin (eio, "GET", "https://ide.example", &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (soup_message_headers_get_one (soup_message_get_response_headers (allowed),
                                                 "Access-Control-Allow-Origin"), ==,
                   "https://ide.example");

  /* Another site's page may not open a session */
  refused = send_with_origin (eio, "GET", "https://evil.example", &status);
  g_assert_cmpuint (status, ==, 403);
  g_assert_null (soup_message_headers_get_one (soup_message_get_response_headers (refused),
                                               "Access-Control-Allow-Origin"));
}

static void
test_connection_cap (void)
{
  const char *env[] = { "RUNNER_MAX_CONNECTIONS=2", NULL };
  g_autoptr(Eio) eio = eio_new (env);
  g_autoptr(JsonNode) open = NULL;
  g_autofree char *first = NULL;
  char *body = NULL;
  guint status;

  eio_connect (eio);
  first = g_steal_pointer (&eio->sid);
  eio_connect (eio);

  /* A third session is refused at the handshake */
  g_clear_pointer (&eio->sid, g_free);
  status = eio_get (eio, &body);
  assert_eio_error (status, body, 503, 4, "Too many connections (the limit is 2)");
  g_free (body);

  /* One leaves (its close packet), and there is room again */
  eio->sid = g_steal_pointer (&first);
  g_assert_cmpuint (eio_post (eio, "41" RS "1"), ==, 200);
  runner_test_wait_or_fail (one_client, eio, WAIT_MS, "the client to leave");
  open = eio_handshake (eio);
}

static void
test_unauthenticated_cap (void)
{
  const char *env[] = { "RUNNER_MAX_CONNECTIONS=4", "RUNNER_MAX_UNAUTHENTICATED=4", NULL };
  g_autoptr(Eio) eio = eio_new (env);
  g_autofree char *first = NULL;
  char *body = NULL;
  guint status;

  /* Token-less handshakes, more than either cap: none takes a client's place */
  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(JsonNode) open = eio_handshake (eio);

      if (first == NULL)
        first = g_strdup (eio->sid);
    }

  /* The oldest session waiting for its CONNECT made room */
  g_free (eio->sid);
  eio->sid = g_steal_pointer (&first);
  status = eio_get (eio, &body);
  assert_eio_error (status, body, 400, 1, "Session ID unknown");
  g_free (body);

  /* A client with the token still gets in */
  eio_connect (eio);
}

static void
test_auth_timeout (void)
{
  const char *env[] = { "RUNNER_AUTH_TIMEOUT=1", NULL };
  g_autoptr(Eio) eio = eio_new (env);
  g_autoptr(JsonNode) open = eio_handshake (eio);
  g_autofree char *body = NULL;
  g_autofree char *connect = g_strdup_printf ("40{\"token\":\"%s\"}", eio->server->token);

  /* No CONNECT in time: the session ends (the pending poll gets a close) */
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_cmpstr (body, ==, "1");
  g_assert_cmpuint (eio_post (eio, connect), ==, 400);

  /* A wrong token is no CONNECT either */
  g_clear_pointer (&open, json_node_unref);
  open = eio_handshake (eio);
  g_assert_cmpuint (eio_post (eio, "40{\"token\":\"wrong\"}"), ==, 200);
  g_clear_pointer (&body, g_free);
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_true (g_str_has_prefix (body, "44"));
  g_clear_pointer (&body, g_free);
  g_assert_cmpuint (eio_get (eio, &body), ==, 200);
  g_assert_cmpstr (body, ==, "1");
}

static void
test_shutdown (void)
{
  g_autoptr(Eio) eio = eio_new (NULL);
  g_autofree char *url = NULL;
  g_autoptr(JsonNode) open = NULL;
  Reply poll = { 0, };

  /* A connected client with a pending poll, and a session never connected */
  eio_connect (eio);
  url = eio_url (eio, "polling", NULL);
  eio_start (eio, "GET", url, NULL, 0, &poll);
  open = eio_handshake (eio);

  /* SIGTERM: a clean exit (status 0, no critical), the poll gets an answer */
  runner_test_server_stop (eio->server);
  eio_wait (&poll);
  if (poll.status == 200)
    g_assert_cmpstr (poll.body, ==, "1");
  reply_clear (&poll);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/runner/socketio/handshake", test_handshake);
  g_test_add_func ("/runner/socketio/errors", test_errors);
  g_test_add_func ("/runner/socketio/connect", test_connect);
  g_test_add_func ("/runner/socketio/token-on-handshake", test_token_on_handshake);
  g_test_add_func ("/runner/socketio/binary-polling", test_binary_polling);
  g_test_add_func ("/runner/socketio/bad-payloads", test_bad_payloads);
  g_test_add_func ("/runner/socketio/max-payload", test_max_payload);
  g_test_add_func ("/runner/socketio/ping-timeout", test_ping_timeout);
  g_test_add_func ("/runner/socketio/namespace-disconnect", test_namespace_disconnect);
  g_test_add_func ("/runner/socketio/vanished-client", test_vanished_client);
  g_test_add_func ("/runner/socketio/upgrade", test_upgrade);
  g_test_add_func ("/runner/socketio/upgrade-interrupted", test_upgrade_interrupted);
  g_test_add_func ("/runner/socketio/websocket-only", test_websocket_only);
  g_test_add_func ("/runner/socketio/preauth-limit", test_preauth_limit);
  g_test_add_func ("/runner/socketio/preauth-flood", test_preauth_flood);
  g_test_add_func ("/runner/socketio/text-rules", test_text_rules);
  g_test_add_func ("/runner/socketio/cors", test_cors);
  g_test_add_func ("/runner/socketio/connection-close", test_connection_close);
  g_test_add_func ("/runner/socketio/connection-cap", test_connection_cap);
  g_test_add_func ("/runner/socketio/unauthenticated-cap", test_unauthenticated_cap);
  g_test_add_func ("/runner/socketio/auth-timeout", test_auth_timeout);
  g_test_add_func ("/runner/socketio/shutdown", test_shutdown);

  return g_test_run ();
}
