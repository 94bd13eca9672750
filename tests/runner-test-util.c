/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <grp.h>
#include <signal.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <glib/gstdio.h>

#include "runner-test-util.h"

static gboolean
on_timeout (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
on_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/**
 * runner_test_wait:
 *
 * Iterates the default main context until @condition holds or @timeout_ms
 * passes. The condition is checked after every event and at least every
 * 10 ms, so it may poll something outside the process (a file, a port).
 * Returns whether the condition holds.
 */
gboolean
runner_test_wait (RunnerTestCondition condition,
                  gpointer            user_data,
                  guint               timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, on_timeout, &timed_out);
  guint tick = g_timeout_add (10, on_tick, NULL);

  while (!condition (user_data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  g_source_remove (tick);
  if (!timed_out)
    g_source_remove (id);
  return condition (user_data);
}

void
runner_test_wait_or_fail (RunnerTestCondition condition,
                          gpointer            user_data,
                          guint               timeout_ms,
                          const char         *what)
{
  /* Deadlines, not expectations: slower builds (sanitizers) stretch them. */
  const char *scale = g_getenv ("RUNNER_TEST_WAIT_SCALE");
  guint64 factor = scale != NULL ? g_ascii_strtoull (scale, NULL, 10) : 1;

  timeout_ms = (guint) MIN ((guint64) timeout_ms * CLAMP (factor, 1, 10), G_MAXUINT);
  if (!runner_test_wait (condition, user_data, timeout_ms))
    g_error ("Timed out after %u ms waiting for %s", timeout_ms, what);
}

char *
runner_test_make_tmpdir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("runner-test-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

void
runner_test_rm_rf (const char *path)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileEnumerator) children = NULL;
  GFileInfo *info;

  if (path == NULL)
    return;

  file = g_file_new_for_path (path);
  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                        G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  while (children != NULL && (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, g_file_info_get_name (info), NULL);

      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        runner_test_rm_rf (child);
      else
        g_unlink (child);
      g_object_unref (info);
    }
  g_rmdir (path);
}

/* The server */

RunnerTestServer *
runner_test_server_new (void)
{
  RunnerTestServer *server = g_new0 (RunnerTestServer, 1);

  server->dir = runner_test_make_tmpdir ();
  server->workspace = g_build_filename (server->dir, "workspace", NULL);
  g_assert_cmpint (g_mkdir (server->workspace, 0755), ==, 0);
  server->token = g_strdup ("test-token-0123456789");
  server->output = g_string_new (NULL);
  server->errors = g_string_new (NULL);
  return server;
}

static void
read_stream (GInputStream *stream,
             GString      *into,
             GCancellable *cancellable);

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  GString *into = user_data;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, &error);
  if (bytes == NULL || g_bytes_get_size (bytes) == 0)
    return;

  g_string_append_len (into, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  if (g_getenv ("RUNNER_TEST_ECHO") != NULL)
    g_printerr ("%.*s", (int) g_bytes_get_size (bytes), (const char *) g_bytes_get_data (bytes, NULL));
  /* The GString lives as long as the server; the read stops with the cancellable. */
  read_stream (G_INPUT_STREAM (object), into, g_object_get_data (object, "cancellable"));
}

static void
read_stream (GInputStream *stream,
             GString      *into,
             GCancellable *cancellable)
{
  if (g_cancellable_is_cancelled (cancellable))
    return;
  g_object_set_data (G_OBJECT (stream), "cancellable", cancellable);
  g_input_stream_read_bytes_async (stream, 65536, G_PRIORITY_DEFAULT, cancellable, read_cb, into);
}

static void
exited_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  RunnerTestServer *server = user_data;

  if (!g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL))
    return;
  server->exited = TRUE;
  server->exit_status = g_subprocess_get_status (G_SUBPROCESS (object));
}

static void
child_setup (gpointer user_data)
{
  RunnerTestServer *server = user_data;

  /* A test that fails aborts: its runner must not outlive it. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (server->fd_limit > 0)
    {
      struct rlimit limit = { server->fd_limit, server->fd_limit };

      setrlimit (RLIMIT_NOFILE, &limit);
    }
  if (server->uid > 0 && (setgroups (0, NULL) != 0 || setgid (server->uid) != 0 ||
                          setuid (server->uid) != 0))
    _exit (126);
}

static gboolean
listening_or_exited (gpointer user_data)
{
  RunnerTestServer *server = user_data;

  return server->exited || strstr (server->output->str, "Runner listening on ") != NULL;
}

/**
 * runner_test_server_start:
 * @args: (nullable): extra arguments after `serve`
 * @env: (nullable): extra KEY=VALUE pairs
 *
 * Starts the runner binary ($RUNNER_BINARY) on 127.0.0.1, port 0, with the
 * server's workspace and token, and waits for its "listening" line.
 */
gboolean
runner_test_server_start (RunnerTestServer   *server,
                          const char * const *args,
                          const char * const *env,
                          GError            **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *binary = g_getenv ("RUNNER_BINARY");
  const char *line;

  g_assert_nonnull (binary);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_cwd (launcher, server->dir);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, server, NULL);
  g_subprocess_launcher_setenv (launcher, "RUNNER_TOKEN", server->token, TRUE);
  g_subprocess_launcher_setenv (launcher, "RUNNER_DBUS", "none", TRUE);
  g_subprocess_launcher_setenv (launcher, "SHELL", "/bin/bash", TRUE);
  /* Shells must not run the machine's own rc files (slow, or worse). */
  g_subprocess_launcher_setenv (launcher, "HOME", server->dir, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "S3_BUCKET");
  g_subprocess_launcher_unsetenv (launcher, "PORT");
  for (guint i = 0; env != NULL && env[i] != NULL; i++)
    {
      g_auto(GStrv) kv = g_strsplit (env[i], "=", 2);

      g_subprocess_launcher_setenv (launcher, kv[0], kv[1] ? kv[1] : "", TRUE);
    }

  g_ptr_array_add (argv, (gpointer) binary);
  g_ptr_array_add (argv, (gpointer) "serve");
  g_ptr_array_add (argv, (gpointer) "--port=0");
  g_ptr_array_add (argv, (gpointer) "--bind=127.0.0.1");
  g_ptr_array_add (argv, (gpointer) "--workspace");
  g_ptr_array_add (argv, server->workspace);
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  server->exited = FALSE;
  server->port = 0;
  g_string_truncate (server->output, 0);
  g_string_truncate (server->errors, 0);
  g_clear_object (&server->cancellable);
  server->cancellable = g_cancellable_new ();

  server->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                                  error);
  if (server->process == NULL)
    return FALSE;

  read_stream (g_subprocess_get_stdout_pipe (server->process), server->output, server->cancellable);
  read_stream (g_subprocess_get_stderr_pipe (server->process), server->errors, server->cancellable);
  g_subprocess_wait_async (server->process, server->cancellable, exited_cb, server);

  runner_test_wait (listening_or_exited, server, 20000);
  line = strstr (server->output->str, "Runner listening on ");
  if (line == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "runner did not start (%s, status %d); stdout: %s; stderr: %s",
                   server->exited ? "exited" : "still running", server->exit_status,
                   server->output->str, server->errors->str);
      return FALSE;
    }

  line = strstr (line, "127.0.0.1:");
  g_assert_nonnull (line);
  server->port = (guint) g_ascii_strtoull (line + strlen ("127.0.0.1:"), NULL, 10);
  g_assert_cmpuint (server->port, >, 0);
  return TRUE;
}

RunnerTestServer *
runner_test_server_start_default (const char * const *args,
                                  const char * const *env)
{
  g_autoptr(GError) error = NULL;
  RunnerTestServer *server = runner_test_server_new ();

  runner_test_server_start (server, args, env, &error);
  g_assert_no_error (error);
  return server;
}

static gboolean
has_exited (gpointer user_data)
{
  return ((RunnerTestServer *) user_data)->exited;
}

/**
 * runner_test_server_stop:
 *
 * SIGTERM, then asserts a clean exit (status 0) within 10 s.
 */
void
runner_test_server_stop (RunnerTestServer *server)
{
  if (server->process == NULL || server->exited)
    return;

  g_subprocess_send_signal (server->process, SIGTERM);
  runner_test_wait_or_fail (has_exited, server, 10000, "runner to exit on SIGTERM");
  /* Drain what it printed last (sanitizer reports among it). */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  if (!g_subprocess_get_if_exited (server->process) ||
      g_subprocess_get_exit_status (server->process) != 0)
    g_error ("runner did not exit cleanly (status %d); its stderr:\n%s",
             server->exit_status, server->errors->str);
}

void
runner_test_server_kill (RunnerTestServer *server)
{
  if (server->process == NULL || server->exited)
    return;

  g_subprocess_force_exit (server->process);
  runner_test_wait_or_fail (has_exited, server, 10000, "runner to die");
}

void
runner_test_server_free (RunnerTestServer *server)
{
  if (server == NULL)
    return;

  if (server->process != NULL && !server->exited)
    runner_test_server_kill (server);
  if (server->cancellable != NULL)
    g_cancellable_cancel (server->cancellable);
  /* Let cancelled reads finish before their strings go. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&server->process);
  g_clear_object (&server->cancellable);
  runner_test_rm_rf (server->dir);
  g_free (server->dir);
  g_free (server->workspace);
  g_free (server->token);
  g_string_free (server->output, TRUE);
  g_string_free (server->errors, TRUE);
  g_free (server);
}

char *
runner_test_server_url (RunnerTestServer *server,
                        const char       *path)
{
  return g_strdup_printf ("http://127.0.0.1:%u%s", server->port, path);
}

/**
 * runner_test_http_get:
 * @bearer: (nullable): a token for `Authorization: Bearer`
 * @body: (out) (optional): the body
 *
 * Returns: the HTTP status
 */
guint
runner_test_http_get (RunnerTestServer  *server,
                      const char        *path,
                      const char        *bearer,
                      char             **body)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = runner_test_server_url (server, path);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  if (bearer != NULL)
    {
      g_autofree char *value = g_strdup_printf ("Bearer %s", bearer);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", value);
    }

  bytes = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  if (body != NULL)
    *body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  return soup_message_get_status (msg);
}

/**
 * runner_test_raw_websocket_at:
 * @path: the request target, query included
 *
 * A WebSocket connection made by hand on a blocking socket, that reads
 * nothing unless the test does: a peer that is slow, gone without closing,
 * or sending frames no library would.
 *
 * Returns: (transfer full): the connection, after the 101 response (and
 *   nothing of what follows it)
 */
GSocketConnection *
runner_test_raw_websocket_at (RunnerTestServer *server,
                              const char       *path)
{
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *handshake = NULL;
  g_autoptr(GString) response = g_string_new (NULL);
  GSocketConnection *conn;
  GOutputStream *out;

  conn = g_socket_client_connect_to_host (socket_client, "127.0.0.1", server->port, NULL, &error);
  g_assert_no_error (error);
  handshake = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                               "Sec-WebSocket-Version: 13\r\n\r\n", path);
  out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  g_output_stream_write_all (out, handshake, strlen (handshake), NULL, NULL, &error);
  g_assert_no_error (error);

  /* Byte by byte: the server may write its first frame right after. */
  while (!g_str_has_suffix (response->str, "\r\n\r\n"))
    {
      char c;
      gssize n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (conn)), &c, 1,
                                      NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpint (n, ==, 1);
      g_string_append_c (response, c);
    }
  g_assert_true (g_str_has_prefix (response->str, "HTTP/1.1 101"));
  return conn;
}

/**
 * runner_test_raw_websocket:
 *
 * runner_test_raw_websocket_at() on the plain WebSocket, with the token.
 */
GSocketConnection *
runner_test_raw_websocket (RunnerTestServer *server)
{
  g_autofree char *path = g_strdup_printf ("/ws?token=%s", server->token);

  return runner_test_raw_websocket_at (server, path);
}

/**
 * runner_test_ws_send_frame:
 * @first: the first byte: FIN bit and opcode (0x81 a whole text message,
 *   0x01 its first fragment, 0x00 a middle one, 0x80 the last)
 *
 * Writes one masked client frame.
 *
 * Returns: whether the whole frame was written
 */
gboolean
runner_test_ws_send_frame (GSocketConnection *conn,
                           guint8             first,
                           const void        *payload,
                           gsize              len)
{
  static const guint8 mask[4] = { 0x12, 0x34, 0x56, 0x78 };
  g_autoptr(GByteArray) frame = g_byte_array_sized_new (len + 14);
  const guint8 *data = payload;
  guint8 header[10];
  gsize header_len;

  header[0] = first;
  if (len < 126)
    {
      header[1] = 0x80 | len;
      header_len = 2;
    }
  else if (len < 65536)
    {
      header[1] = 0x80 | 126;
      header[2] = len >> 8;
      header[3] = len & 0xff;
      header_len = 4;
    }
  else
    {
      header[1] = 0x80 | 127;
      for (guint i = 0; i < 8; i++)
        header[2 + i] = ((guint64) len >> (8 * (7 - i))) & 0xff;
      header_len = 10;
    }
  g_byte_array_append (frame, header, header_len);
  g_byte_array_append (frame, mask, 4);
  g_byte_array_set_size (frame, header_len + 4 + len);
  for (gsize i = 0; i < len; i++)
    frame->data[header_len + 4 + i] = data[i] ^ mask[i % 4];

  return g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)),
                                    frame->data, frame->len, NULL, NULL, NULL);
}

/**
 * runner_test_ws_read_frame:
 * @first: (out): the frame's first byte (FIN bit and opcode)
 *
 * Reads one (unmasked) server frame, blocking.
 *
 * Returns: (transfer full) (nullable): its payload, or %NULL at the end of
 *   the stream or on an error
 */
GBytes *
runner_test_ws_read_frame (GSocketConnection *conn,
                           guint8            *first)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  guint8 header[10];
  guint64 len;
  gsize got = 0;
  guint8 *payload;

  if (!g_input_stream_read_all (in, header, 2, &got, NULL, NULL) || got < 2)
    return NULL;
  *first = header[0];
  len = header[1] & 0x7f;
  if (len >= 126)
    {
      gsize extra = len == 126 ? 2 : 8;

      if (!g_input_stream_read_all (in, header + 2, extra, &got, NULL, NULL) || got < extra)
        return NULL;
      len = 0;
      for (gsize i = 0; i < extra; i++)
        len = (len << 8) | header[2 + i];
    }
  g_assert_cmpuint (len, <, 64 * 1024 * 1024);
  payload = g_malloc (len);
  if (!g_input_stream_read_all (in, payload, len, &got, NULL, NULL) || got < len)
    {
      g_free (payload);
      return NULL;
    }
  return g_bytes_new_take (payload, len);
}

/* The client */

static void
on_message (SoupWebsocketConnection *conn,
            gint                     type,
            GBytes                  *message,
            RunnerTestClient        *client)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  client->bytes_received += g_bytes_get_size (message);
  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  json_parser_load_from_data (parser, g_bytes_get_data (message, NULL),
                              g_bytes_get_size (message), &error);
  g_assert_no_error (error);
  g_queue_push_tail (&client->messages, json_node_copy (json_parser_get_root (parser)));
}

static void
on_closed (SoupWebsocketConnection *conn,
           RunnerTestClient        *client)
{
  client->closed = TRUE;
  client->close_code = soup_websocket_connection_get_close_code (conn);
}

typedef struct
{
  SoupWebsocketConnection *conn;
  GError                  *error;
  gboolean                 done;
} ConnectData;

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  ConnectData *data = user_data;

  data->conn = soup_session_websocket_connect_finish (SOUP_SESSION (object), result, &data->error);
  data->done = TRUE;
}

static gboolean
connect_done (gpointer user_data)
{
  return ((ConnectData *) user_data)->done;
}

/**
 * runner_test_client_connect:
 * @path: "/ws" or "/"
 * @token: (nullable): sent as `?token=`
 * @origin: (nullable): the Origin header
 *
 * Returns: (transfer full) (nullable): a connected client, or %NULL with @error
 */
RunnerTestClient *
runner_test_client_connect (RunnerTestServer  *server,
                            const char        *path,
                            const char        *token,
                            const char        *origin,
                            GError           **error)
{
  g_autofree char *url = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  RunnerTestClient *client;
  ConnectData data = { 0 };

  if (token != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (token, NULL, FALSE);
      url = g_strdup_printf ("ws://127.0.0.1:%u%s?token=%s", server->port, path, escaped);
    }
  else
    url = g_strdup_printf ("ws://127.0.0.1:%u%s", server->port, path);

  client = g_new0 (RunnerTestClient, 1);
  client->session = soup_session_new ();
  client->next_id = 1;
  g_queue_init (&client->messages);
  msg = soup_message_new ("GET", url);
  soup_session_websocket_connect_async (client->session, msg, origin, NULL, G_PRIORITY_DEFAULT,
                                        NULL, connect_cb, &data);
  runner_test_wait_or_fail (connect_done, &data, 10000, "WebSocket connect");

  if (data.conn == NULL)
    {
      g_propagate_error (error, data.error);
      runner_test_client_free (client);
      return NULL;
    }

  client->conn = data.conn;
  soup_websocket_connection_set_max_incoming_payload_size (client->conn, 0);
  g_signal_connect (client->conn, "message", G_CALLBACK (on_message), client);
  g_signal_connect (client->conn, "closed", G_CALLBACK (on_closed), client);
  return client;
}

RunnerTestClient *
runner_test_client_new (RunnerTestServer *server)
{
  g_autoptr(GError) error = NULL;
  RunnerTestClient *client = runner_test_client_connect (server, "/ws", server->token, NULL, &error);

  g_assert_no_error (error);
  return client;
}

void
runner_test_client_send (RunnerTestClient *client,
                         const char       *text)
{
  soup_websocket_connection_send_text (client->conn, text);
}

typedef struct
{
  RunnerTestClient *client;
  const char       *event;
  gint64            id;
  JsonNode         *found;
} Match;

static gboolean
find_match (gpointer user_data)
{
  Match *match = user_data;

  /* The wait checks once more after its loop: keep what was found. */
  if (match->found != NULL)
    return TRUE;

  for (GList *l = match->client->messages.head; l != NULL; l = l->next)
    {
      JsonObject *object = json_node_get_object (l->data);

      if (match->event != NULL &&
          g_strcmp0 (json_object_get_string_member_with_default (object, "event", NULL),
                     match->event) != 0)
        continue;
      if (match->id >= 0 &&
          (!json_object_has_member (object, "id") ||
           json_object_get_int_member (object, "id") != match->id))
        continue;

      match->found = l->data;
      g_queue_delete_link (&match->client->messages, l);
      return TRUE;
    }

  return match->found != NULL || match->client->closed;
}

/**
 * runner_test_client_wait_event:
 *
 * Returns: (transfer full): the first queued message of @event (removed
 *   from the queue); fails the test after 10 s
 */
JsonNode *
runner_test_client_wait_event (RunnerTestClient *client,
                               const char       *event)
{
  Match match = { client, event, -1, NULL };

  runner_test_wait (find_match, &match, 10000);
  if (match.found == NULL)
    g_error ("No “%s” event arrived%s", event, client->closed ? " (closed)" : "");
  return match.found;
}

JsonNode *
runner_test_client_wait_id (RunnerTestClient *client,
                            gint64            id)
{
  Match match = { client, NULL, id, NULL };

  runner_test_wait (find_match, &match, 10000);
  if (match.found == NULL)
    g_error ("No reply to request %" G_GINT64_FORMAT " arrived%s", id,
             client->closed ? " (closed)" : "");
  return match.found;
}

/**
 * runner_test_client_request:
 * @data_json: the `data` member as JSON text
 *
 * Sends `{"event","data","id"}` and waits for the reply with that id.
 *
 * Returns: (transfer full): the reply envelope
 */
JsonNode *
runner_test_client_request (RunnerTestClient *client,
                            const char       *event,
                            const char       *data_json)
{
  gint64 id = client->next_id++;
  g_autofree char *text = NULL;
  g_autoptr(JsonNode) name = json_node_init_string (json_node_alloc (), event);
  g_autofree char *quoted = json_to_string (name, FALSE);

  text = g_strdup_printf ("{\"event\":%s,\"data\":%s,\"id\":%" G_GINT64_FORMAT "}", quoted,
                          data_json ? data_json : "null", id);
  runner_test_client_send (client, text);
  return runner_test_client_wait_id (client, id);
}

static gboolean
is_closed (gpointer user_data)
{
  return ((RunnerTestClient *) user_data)->closed;
}

void
runner_test_client_wait_closed (RunnerTestClient *client)
{
  runner_test_wait_or_fail (is_closed, client, 10000, "the connection to close");
}

void
runner_test_client_free (RunnerTestClient *client)
{
  if (client == NULL)
    return;

  if (client->conn != NULL)
    {
      g_signal_handlers_disconnect_by_data (client->conn, client);
      if (soup_websocket_connection_get_state (client->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (client->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    }
  g_clear_object (&client->conn);
  g_clear_object (&client->session);
  g_queue_clear_full (&client->messages, (GDestroyNotify) json_node_unref);
  g_free (client);
}

/**
 * runner_test_error_code:
 *
 * Returns: (nullable): the `code` of an error reply, or %NULL if it is none
 */
const char *
runner_test_error_code (JsonNode *envelope)
{
  JsonObject *object = json_node_get_object (envelope);
  JsonObject *data, *error;

  if (g_strcmp0 (json_object_get_string_member_with_default (object, "event", NULL),
                 "runner:error") != 0)
    return NULL;
  data = json_object_get_object_member (object, "data");
  error = data ? json_object_get_object_member (data, "error") : NULL;
  return error ? json_object_get_string_member (error, "code") : NULL;
}

JsonObject *
runner_test_data (JsonNode *envelope)
{
  return json_object_get_object_member (json_node_get_object (envelope), "data");
}

/**
 * runner_test_assert_ok:
 *
 * Fails the test when @reply is an error reply.
 */
void
runner_test_assert_ok (JsonNode *reply)
{
  const char *code = runner_test_error_code (reply);

  if (code != NULL)
    g_error ("unexpected error %s: %s", code, json_to_string (reply, FALSE));
}

/**
 * runner_test_find_object:
 *
 * Returns: (transfer none) (nullable): the first object of @array whose
 *   string @member is @value
 */
JsonObject *
runner_test_find_object (JsonArray  *array,
                         const char *member,
                         const char *value)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *object = json_array_get_object_element (array, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (object, member, NULL),
                     value) == 0)
        return object;
    }
  return NULL;
}

GPid
runner_test_server_get_pid (RunnerTestServer *server)
{
  return (GPid) g_ascii_strtoll (g_subprocess_get_identifier (server->process), NULL, 10);
}

/* The resident memory of process @pid, in kB. */
gint64
runner_test_rss_kb (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents (path, &status, NULL, NULL));
  line = strstr (status, "VmRSS:");
  g_assert_nonnull (line);
  return g_ascii_strtoll (line + 6, NULL, 10);
}
