/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <errno.h>
#include <signal.h>

#include "runner-test-util.h"

/* The user's app on USER_PORT, supervised by the real runner binary. */

static guint
free_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (socket, address, TRUE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

typedef struct
{
  RunnerTestClient *client;
  const char       *state;
  JsonNode         *last;
} StateWait;

static gboolean
app_in_state (gpointer user_data)
{
  StateWait *wait = user_data;

  g_clear_pointer (&wait->last, json_node_unref);
  wait->last = runner_test_client_request (wait->client, "app:status", "{}");
  return g_strcmp0 (json_object_get_string_member (runner_test_data (wait->last), "state"),
                    wait->state) == 0;
}

static JsonNode *
wait_for_state (RunnerTestClient *client,
                const char       *state)
{
  StateWait wait = { client, state, NULL };

  if (!runner_test_wait (app_in_state, &wait, 20000))
    g_error ("The app never reached “%s”: %s", state, json_to_string (wait.last, FALSE));
  return wait.last;
}

static gboolean
restarted_twice (gpointer user_data)
{
  StateWait *wait = user_data;
  JsonObject *data;

  app_in_state (wait);
  data = runner_test_data (wait->last);
  return json_object_get_int_member (data, "restarts") >= 2 &&
         g_str_equal (json_object_get_string_member (data, "state"), "backoff");
}

static gboolean
port_answers (guint port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = g_socket_client_connect_to_host (client, "127.0.0.1", port,
                                                                       NULL, NULL);

  return conn != NULL;
}

static void
test_app_runs_and_stops (void)
{
  guint port = free_port ();
  g_autofree char *port_env = g_strdup_printf ("USER_PORT=%u", port);
  const char *env[] = {
    port_env,
    "RUNNER_APP_COMMAND=echo app-started; exec python3 -m http.server \"$PORT\" --bind 127.0.0.1",
    NULL
  };
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, env);
  g_autoptr(RunnerTestClient) client = runner_test_client_new (server);
  JsonNode *reply;

  reply = wait_for_state (client, "running");
  g_assert_cmpint (json_object_get_int_member (runner_test_data (reply), "port"), ==, port);
  g_assert_true (json_object_has_member (runner_test_data (reply), "pid"));
  json_node_unref (reply);
  g_assert_true (port_answers (port));

  reply = runner_test_client_request (client, "app:logs", "{}");
  g_assert_nonnull (strstr (json_object_get_string_member (runner_test_data (reply), "data"),
                            "app-started"));
  json_node_unref (reply);

  reply = runner_test_client_request (client, "app:stop", "{}");
  json_node_unref (reply);
  reply = wait_for_state (client, "stopped");
  json_node_unref (reply);
  g_assert_false (port_answers (port));

  reply = runner_test_client_request (client, "app:start", "{}");
  json_node_unref (reply);
  reply = wait_for_state (client, "running");
  json_node_unref (reply);

  reply = runner_test_client_request (client, "app:restart", "{}");
  g_assert_null (runner_test_error_code (reply));
  json_node_unref (reply);
  reply = wait_for_state (client, "running");
  g_assert_cmpint (json_object_get_int_member (runner_test_data (reply), "restarts"), >=, 1);
  json_node_unref (reply);

  runner_test_server_stop (server);
  g_assert_false (port_answers (port));
}

static void
test_app_crash_backoff (void)
{
  const char *env[] = { "RUNNER_APP_COMMAND=echo boom >&2; exit 3", NULL };
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, env);
  g_autoptr(RunnerTestClient) client = runner_test_client_new (server);
  JsonNode *reply;
  JsonObject *data;

  reply = wait_for_state (client, "backoff");
  data = runner_test_data (reply);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (data, "exit"), "code"),
                   ==, 3);
  g_assert_cmpint (json_object_get_int_member (data, "retryInMs"), >=, 500);
  json_node_unref (reply);

  /* It keeps trying, each time later (every try is pushed as app:state,
   * which wakes the wait). */
  {
    StateWait wait = { client, NULL, NULL };

    runner_test_wait_or_fail (restarted_twice, &wait, 20000, "two restarts");
    g_assert_cmpint (json_object_get_int_member (runner_test_data (wait.last), "retryInMs"), >=, 1000);
    g_clear_pointer (&wait.last, json_node_unref);
  }

  reply = runner_test_client_request (client, "app:logs", "{}");
  g_assert_nonnull (strstr (json_object_get_string_member (runner_test_data (reply), "data"), "boom"));
  json_node_unref (reply);

  reply = runner_test_client_request (client, "app:stop", "{}");
  json_node_unref (reply);
  reply = wait_for_state (client, "stopped");
  json_node_unref (reply);

  runner_test_server_stop (server);
}

static gboolean
env_written (gpointer user_data)
{
  return g_file_test (user_data, G_FILE_TEST_EXISTS);
}

static void
test_app_environment (void)
{
  const char *env[] = {
    "RUNNER_APP_COMMAND=env > app-env.tmp && mv app-env.tmp app-env.txt; exec sleep 1000",
    "AWS_SECRET_ACCESS_KEY=do-not-leak",
    "AWS_ACCESS_KEY_ID=AKIDNOTHERE",
    NULL
  };
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, env);
  g_autoptr(RunnerTestClient) client = runner_test_client_new (server);
  g_autofree char *path = g_build_filename (server->workspace, "app-env.txt", NULL);
  g_autofree char *contents = NULL;
  JsonNode *reply;
  gint64 pid;

  reply = wait_for_state (client, "starting");
  pid = json_object_get_int_member (runner_test_data (reply), "pid");
  json_node_unref (reply);

  runner_test_wait_or_fail (env_written, path, 10000, "the app to write its environment");
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_null (strstr (contents, "do-not-leak"));
  g_assert_null (strstr (contents, "AKIDNOTHERE"));
  g_assert_null (strstr (contents, server->token));
  g_assert_nonnull (strstr (contents, "PORT=3000"));

  /* Runner's exit ends the app's whole group. */
  runner_test_server_stop (server);
  g_assert_cmpint (kill ((pid_t) pid, 0), ==, -1);
  g_assert_cmpint (errno, ==, ESRCH);
}

static void
test_app_without_command (void)
{
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, NULL);
  g_autoptr(RunnerTestClient) client = runner_test_client_new (server);
  g_autoptr(JsonNode) status = runner_test_client_request (client, "app:status", "{}");
  g_autoptr(JsonNode) reply = runner_test_client_request (client, "app:start", "{}");

  g_assert_cmpstr (json_object_get_string_member (runner_test_data (status), "state"), ==, "stopped");
  g_assert_cmpstr (runner_test_error_code (reply), ==, "ENOTSUP");
  runner_test_server_stop (server);
}

static void
test_app_sandboxed (void)
{
  const char *args[] = { "--sandbox=bwrap", NULL };
  const char *env[] = {
    "RUNNER_APP_COMMAND=(echo home=$HOME; ls -A /root | wc -l; touch /outside 2>&1 || echo ro) > seen.tmp; "
    "mv seen.tmp seen.txt; exec sleep 1000",
    NULL
  };
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (args, env);
  g_autoptr(RunnerTestClient) client = runner_test_client_new (server);
  g_autofree char *path = g_build_filename (server->workspace, "seen.txt", NULL);
  g_autofree char *contents = NULL;
  JsonNode *reply;

  reply = wait_for_state (client, "starting");
  json_node_unref (reply);
  runner_test_wait_or_fail (env_written, path, 10000, "the sandboxed app to write into the workspace");
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  /* A private home, the host's /root unseen, the root read-only. */
  g_assert_nonnull (strstr (contents, "home=/home/"));
  g_assert_nonnull (strstr (contents, "\n0\n"));
  g_assert_nonnull (strstr (contents, "ro"));

  runner_test_server_stop (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/runner/app/run-stop", test_app_runs_and_stops);
  g_test_add_func ("/runner/app/crash-backoff", test_app_crash_backoff);
  g_test_add_func ("/runner/app/environment", test_app_environment);
  g_test_add_func ("/runner/app/no-command", test_app_without_command);
  g_test_add_func ("/runner/app/sandboxed", test_app_sandboxed);

  return g_test_run ();
}
