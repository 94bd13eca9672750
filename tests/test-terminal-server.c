/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "runner-test-util.h"
#include "terminal-fixture.h"

/* Terminals through the real runner binary and the plain WebSocket. */

#define TIMEOUT_MS 30000

/* What one client saw of one terminal. */
typedef struct
{
  RunnerTestClient *client;
  const char       *id;       /* the terminal */
  GString          *output;
  guint64           last_seq;
  guint             n_data;
  gboolean          exited;
  gint64            code;
  gint64            signal;
  gboolean          foreign;  /* data of another terminal arrived */
} Screen;

static Screen *
screen_new (RunnerTestClient *client,
            const char       *id)
{
  Screen *screen = g_new0 (Screen, 1);

  screen->client = client;
  screen->id = id;
  screen->output = g_string_new (NULL);
  return screen;
}

static void
screen_free (Screen *screen)
{
  g_string_free (screen->output, TRUE);
  g_free (screen);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Screen, screen_free)

/* Takes the client's events of this terminal off its queue. */
static void
screen_update (Screen *screen)
{
  GList *l = screen->client->messages.head;

  while (l != NULL)
    {
      GList *next = l->next;
      JsonObject *envelope = json_node_get_object (l->data);
      const char *event = json_object_get_string_member_with_default (envelope, "event", "");
      JsonObject *data;

      if (!g_str_equal (event, "terminal:data") && !g_str_equal (event, "terminal:exit"))
        {
          l = next;
          continue;
        }

      data = json_object_get_object_member (envelope, "data");
      if (!g_str_equal (json_object_get_string_member (data, "id"), screen->id))
        {
          screen->foreign = TRUE;
          l = next;
          continue;
        }

      if (g_str_equal (event, "terminal:data"))
        {
          g_string_append (screen->output, json_object_get_string_member (data, "data"));
          screen->last_seq = json_object_get_int_member (data, "seq");
          screen->n_data++;
        }
      else
        {
          screen->exited = TRUE;
          screen->code = json_object_get_int_member_with_default (data, "code", -1);
          screen->signal = json_object_get_int_member_with_default (data, "signal", 0);
        }

      json_node_unref (l->data);
      g_queue_delete_link (&screen->client->messages, l);
      l = next;
    }
}

typedef struct
{
  Screen     *screen;
  const char *needle;
} Seek;

static gboolean
screen_has (gpointer user_data)
{
  Seek *seek = user_data;

  screen_update (seek->screen);
  return strstr (seek->screen->output->str, seek->needle) != NULL;
}

static void
wait_for_output (Screen     *screen,
                 const char *needle)
{
  Seek seek = { screen, needle };
  g_autofree char *what = g_strdup_printf ("“%s” on terminal %s", needle, screen->id);

  runner_test_wait_or_fail (screen_has, &seek, TIMEOUT_MS, what);
}

static gboolean
screen_exited (gpointer user_data)
{
  screen_update (user_data);
  return ((Screen *) user_data)->exited;
}

/* Sends an event with no id: no reply, as the old front ends do. */
static void
send_event (RunnerTestClient *client,
            const char       *event,
            const char       *data_json)
{
  g_autofree char *text = g_strdup_printf ("{\"event\":\"%s\",\"data\":%s}", event, data_json);

  runner_test_client_send (client, text);
}

static JsonNode *
request (RunnerTestClient *client,
         const char       *event,
         const char       *format,
         ...) G_GNUC_PRINTF (3, 4);

static JsonNode *
request (RunnerTestClient *client,
         const char       *event,
         const char       *format,
         ...)
{
  g_autofree char *data = NULL;
  va_list args;

  va_start (args, format);
  data = g_strdup_vprintf (format, args);
  va_end (args);
  return runner_test_client_request (client, event, data);
}

static void
assert_error (JsonNode   *reply,
              const char *code)
{
  g_autoptr(JsonNode) owned = reply;

  g_assert_cmpstr (runner_test_error_code (owned), ==, code);
}

/* A string member of a reply's data. */
static const char *
reply_string (JsonNode   *reply,
              const char *member)
{
  return json_object_get_string_member (runner_test_data (reply), member);
}

static gint64
reply_int (JsonNode   *reply,
           const char *member)
{
  return json_object_get_int_member (runner_test_data (reply), member);
}

/* The terminals terminal:list reports, as the reply's array. */
static JsonArray *
list_terminals (RunnerTestClient *client,
                JsonNode        **reply)
{
  *reply = runner_test_client_request (client, "terminal:list", "{}");
  runner_test_assert_ok (*reply);
  return json_object_get_array_member (json_node_get_object (*reply), "data");
}

static JsonObject *
find_listed (JsonArray  *list,
             const char *id)
{
  return runner_test_find_object (list, "id", id);
}

static void
test_default_terminal (void)
{
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, NULL);
  g_autoptr(RunnerTestClient) a = runner_test_client_new (server);
  g_autoptr(RunnerTestClient) b = runner_test_client_new (server);
  g_autoptr(RunnerTestClient) c = NULL;
  g_autoptr(Screen) on_a = screen_new (a, "default");
  g_autoptr(Screen) on_b = screen_new (b, "default");
  g_autoptr(Screen) on_c = NULL;
  g_autoptr(JsonNode) reply = NULL;
  JsonArray *list;

  /* the old contract: a write without an id, output to every client */
  send_event (a, "terminal:write", "{\"data\":\"echo hel''lo\\n\"}");
  wait_for_output (on_a, "hello\r\n");
  wait_for_output (on_b, "hello\r\n");
  g_assert_cmpuint (on_a->last_seq, >, 0);
  g_assert_false (on_a->foreign);

  /* one who comes later gets what follows */
  c = runner_test_client_new (server);
  on_c = screen_new (c, "default");
  send_event (b, "terminal:write", "{\"data\":\"echo wor''ld\\n\"}");
  wait_for_output (on_c, "world\r\n");
  wait_for_output (on_a, "world\r\n");
  g_assert_null (strstr (on_c->output->str, "hello"));

  list = list_terminals (a, &reply);
  g_assert_cmpuint (json_array_get_length (list), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (find_listed (list, "default"), "id"), ==,
                   "default");
  g_assert_true (json_object_get_boolean_member (find_listed (list, "default"), "alive"));
  g_assert_cmpint (json_object_get_int_member (find_listed (list, "default"), "cols"), ==, 120);

  runner_test_server_stop (server);
}

/* A shell that is still starting has no handler for SIGINT yet: a ^C then
 * killed it, and since the default terminal starts on its first write, a
 * client's usual "^C, then a command" killed every new shell in turn. Input
 * to a new terminal now waits for the shell's first output. */
static void
test_interrupt_at_start (void)
{
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, NULL);
  g_autoptr(RunnerTestClient) a = runner_test_client_new (server);
  g_autoptr(Screen) on_a = screen_new (a, "default");

  send_event (a, "terminal:write", "{\"data\":\"\\u0003\"}");
  wait_for_output (on_a, "^C");
  /* readline may take the key that follows a ^C with it: an empty line */
  send_event (a, "terminal:write", "{\"data\":\"\\necho sur''vived\\n\"}");
  wait_for_output (on_a, "survived\r\n");
  g_assert_false (on_a->exited);

  runner_test_server_stop (server);
}

static void
test_reconnect_replay (void)
{
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, NULL);
  RunnerTestClient *a = runner_test_client_new (server);
  g_autoptr(RunnerTestClient) b = runner_test_client_new (server);
  g_autoptr(RunnerTestClient) again = NULL;
  g_autoptr(RunnerTestClient) fresh = NULL;
  g_autoptr(Screen) on_b = screen_new (b, "default");
  g_autoptr(Screen) on_again = NULL;
  g_autoptr(Screen) on_fresh = NULL;
  g_autoptr(JsonNode) list_reply = NULL;
  g_autoptr(JsonNode) reply = NULL;
  Screen *on_a = screen_new (a, "default");
  gint64 pid, seen;

  send_event (a, "terminal:write", "{\"data\":\"echo one''one\\n\"}");
  wait_for_output (on_a, "oneone\r\n");
  seen = on_a->last_seq;
  pid = json_object_get_int_member (find_listed (list_terminals (a, &list_reply), "default"),
                                    "pid");
  g_clear_pointer (&list_reply, json_node_unref);

  /* the front end goes away; the shell goes on */
  screen_free (on_a);
  runner_test_client_free (a);
  send_event (b, "terminal:write", "{\"data\":\"echo two''two\\n\"}");
  wait_for_output (on_b, "twotwo\r\n");

  /* it comes back and asks for what it missed */
  again = runner_test_client_new (server);
  on_again = screen_new (again, "default");
  reply = request (again, "terminal:attach", "{\"since\":%" G_GINT64_FORMAT "}", seen);
  runner_test_assert_ok (reply);
  g_assert_cmpstr (reply_string (reply, "id"), ==, "default");
  g_assert_cmpint (reply_int (reply, "from"), ==, seen);
  g_assert_cmpint (reply_int (reply, "missed"), ==, 0);
  g_assert_cmpint (reply_int (reply, "pid"), ==, pid);
  wait_for_output (on_again, "twotwo\r\n");
  g_assert_null (strstr (on_again->output->str, "oneone"));
  g_clear_pointer (&reply, json_node_unref);

  /* without since: the whole scrollback */
  fresh = runner_test_client_new (server);
  on_fresh = screen_new (fresh, "default");
  reply = request (fresh, "terminal:attach", "{\"id\":\"default\"}");
  runner_test_assert_ok (reply);
  g_assert_cmpint (reply_int (reply, "from"), ==, 0);
  wait_for_output (on_fresh, "twotwo\r\n");
  g_assert_nonnull (strstr (on_fresh->output->str, "oneone\r\n"));
  g_clear_pointer (&reply, json_node_unref);

  /* bad since; one past the output is not this stream's */
  assert_error (request (fresh, "terminal:attach", "{\"since\":-1}"), "EINVAL");
  assert_error (request (fresh, "terminal:attach", "{\"since\":1000000000}"), "EINVAL");
  assert_error (request (fresh, "terminal:attach", "{\"since\":\"x\"}"), "EINVAL");
  assert_error (request (fresh, "terminal:attach", "{\"id\":\"nope\"}"), "ENOENT");

  /* still the same shell */
  g_assert_cmpint (json_object_get_int_member (find_listed (list_terminals (b, &list_reply),
                                                            "default"), "pid"), ==, pid);

  runner_test_server_stop (server);
}

static void
test_created_terminals (void)
{
  const char *env[] = { "RUNNER_MAX_TERMINALS=2", "RUNNER_MAX_WRITE=1000", NULL };
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, env);
  g_autoptr(RunnerTestClient) a = runner_test_client_new (server);
  g_autoptr(RunnerTestClient) b = runner_test_client_new (server);
  g_autoptr(Screen) on_a = screen_new (a, "1");
  g_autoptr(Screen) on_b = screen_new (b, "1");
  g_autoptr(Screen) two_on_b = screen_new (b, "2");
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(JsonNode) list_reply = NULL;
  g_autofree char *long_data = g_strnfill (1001, 'x');
  JsonArray *list;

  reply = request (a, "terminal:create", "{\"cols\":100,\"rows\":30}");
  runner_test_assert_ok (reply);
  g_assert_cmpstr (reply_string (reply, "id"), ==, "1");
  g_assert_cmpint (reply_int (reply, "cols"), ==, 100);
  g_assert_cmpint (reply_int (reply, "rows"), ==, 30);
  g_assert_cmpint (reply_int (reply, "pid"), >, 1);
  g_clear_pointer (&reply, json_node_unref);

  reply = request (a, "terminal:write", "{\"id\":\"1\",\"data\":\"echo S$(stty size)E\\n\"}");
  runner_test_assert_ok (reply);
  g_clear_pointer (&reply, json_node_unref);
  wait_for_output (on_a, "S30 100E");

  reply = request (a, "terminal:resize", "{\"id\":\"1\",\"cols\":90,\"rows\":20}");
  runner_test_assert_ok (reply);
  g_assert_cmpint (reply_int (reply, "cols"), ==, 90);
  g_clear_pointer (&reply, json_node_unref);
  send_event (a, "terminal:write", "{\"id\":\"1\",\"data\":\"echo S$(stty size)E\\n\"}");
  wait_for_output (on_a, "S20 90E");

  /* only its creator sees it: b's queue is in order, so after an answer
   * to b everything sent to b before is there */
  list = list_terminals (b, &list_reply);
  screen_update (on_b);
  g_assert_cmpuint (on_b->n_data, ==, 0);
  g_assert_cmpuint (json_array_get_length (list), ==, 1);
  g_clear_pointer (&list_reply, json_node_unref);

  /* bad input: refused, nothing changes */
  assert_error (request (a, "terminal:resize", "{\"id\":\"1\",\"cols\":0,\"rows\":5}"), "EINVAL");
  assert_error (request (a, "terminal:resize", "{\"id\":\"1\",\"cols\":\"x\",\"rows\":5}"), "EINVAL");
  assert_error (request (a, "terminal:resize", "{\"id\":\"1\",\"cols\":80,\"rows\":1001}"), "EINVAL");
  assert_error (request (a, "terminal:resize", "{\"id\":\"1\"}"), "EINVAL");
  assert_error (request (a, "terminal:resize", "{\"id\":\"9\",\"cols\":80,\"rows\":24}"), "ENOENT");
  assert_error (request (a, "terminal:write", "{\"id\":\"9\",\"data\":\"x\"}"), "ENOENT");
  assert_error (request (a, "terminal:write", "{\"id\":\"1\",\"data\":5}"), "EINVAL");
  assert_error (request (a, "terminal:write", "{\"id\":\"1\"}"), "EINVAL");
  assert_error (request (a, "terminal:write", "{\"id\":\"1\",\"data\":\"%s\"}", long_data), "E2BIG");
  assert_error (request (a, "terminal:create", "{\"cols\":0}"), "EINVAL");
  assert_error (request (a, "terminal:close", "{}"), "EINVAL");
  assert_error (request (a, "terminal:close", "{\"id\":\"9\"}"), "ENOENT");
  assert_error (request (a, "terminal:detach", "{\"id\":\"9\"}"), "ENOENT");
  list = list_terminals (a, &list_reply);
  g_assert_cmpint (json_object_get_int_member (find_listed (list, "1"), "cols"), ==, 90);
  g_assert_cmpint (json_object_get_int_member (find_listed (list, "1"), "rows"), ==, 20);
  g_clear_pointer (&list_reply, json_node_unref);

  /* the limit */
  reply = request (b, "terminal:create", "{}");
  runner_test_assert_ok (reply);
  g_assert_cmpstr (reply_string (reply, "id"), ==, "2");
  g_assert_cmpint (reply_int (reply, "cols"), ==, 120);
  g_clear_pointer (&reply, json_node_unref);
  assert_error (request (a, "terminal:create", "{}"), "ELIMIT");

  /* a attaches to b's terminal and sees its output too */
  reply = request (a, "terminal:attach", "{\"id\":\"2\"}");
  runner_test_assert_ok (reply);
  g_clear_pointer (&reply, json_node_unref);
  send_event (b, "terminal:write", "{\"id\":\"2\",\"data\":\"echo fr''om-b\\n\"}");
  wait_for_output (two_on_b, "from-b\r\n");
  {
    g_autoptr(Screen) two_on_a = screen_new (a, "2");

    wait_for_output (two_on_a, "from-b\r\n");
  }

  /* closing: its followers learn it ended */
  reply = request (a, "terminal:close", "{\"id\":\"1\"}");
  runner_test_assert_ok (reply);
  g_clear_pointer (&reply, json_node_unref);
  runner_test_wait_or_fail (screen_exited, on_a, TIMEOUT_MS, "terminal 1 to exit");
  assert_error (request (a, "terminal:close", "{\"id\":\"1\"}"), "ENOENT");
  list = list_terminals (a, &list_reply);
  g_assert_null (find_listed (list, "1"));
  g_assert_nonnull (find_listed (list, "2"));
  g_clear_pointer (&list_reply, json_node_unref);

  /* room again; ids are never reused */
  reply = request (a, "terminal:create", "{}");
  runner_test_assert_ok (reply);
  g_assert_cmpstr (reply_string (reply, "id"), ==, "3");

  runner_test_server_stop (server);
}

/* Whether the process has a file whose name contains @name mapped. */
static gboolean
maps_library (GPid        pid,
              const char *name)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/maps", pid);
  g_autofree char *maps = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &maps, NULL, &error);
  g_assert_no_error (error);
  return strstr (maps, name) != NULL;
}

/* libvte (and GTK) are loaded with the first terminal, not at start;
 * libcurl only with S3 sync. */
static void
test_vte_on_demand (void)
{
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, NULL);
  g_autoptr(RunnerTestClient) a = runner_test_client_new (server);
  g_autoptr(Screen) one = screen_new (a, "1");
  g_autoptr(JsonNode) reply = NULL;
  GPid pid = runner_test_server_get_pid (server);

  g_assert_cmpuint (runner_test_http_get (server, "/files", NULL, NULL), ==, 200);
  g_assert_false (maps_library (pid, "libvte-2.91"));
  g_assert_false (maps_library (pid, "libgtk-3"));
  g_assert_false (maps_library (pid, "libcurl"));

  reply = request (a, "terminal:create", "{}");
  runner_test_assert_ok (reply);
  g_clear_pointer (&reply, json_node_unref);
  g_assert_true (maps_library (pid, "libvte-2.91"));
  g_assert_false (maps_library (pid, "libcurl"));
  send_event (a, "terminal:write", "{\"id\":\"1\",\"data\":\"echo S$(stty size)E\\n\"}");
  wait_for_output (one, "S40 120E");

  runner_test_server_stop (server);
}

/* Without libvte, terminals fail cleanly and the rest still works. */
static void
test_vte_missing (void)
{
  const char *env[] = { "RUNNER_VTE_LIBRARY=libvte-missing-for-test.so.0", NULL };
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, env);
  g_autoptr(RunnerTestClient) a = runner_test_client_new (server);
  g_autoptr(JsonNode) reply = NULL;
  JsonArray *list;

  assert_error (request (a, "terminal:create", "{}"), "ENOTSUP");
  /* the same on a second try, and for the default terminal */
  assert_error (request (a, "terminal:create", "{\"cols\":100,\"rows\":30}"), "ENOTSUP");
  assert_error (request (a, "terminal:resize", "{\"cols\":100,\"rows\":30}"), "ENOTSUP");
  list = list_terminals (a, &reply);
  g_assert_cmpuint (json_array_get_length (list), ==, 0);
  g_clear_pointer (&reply, json_node_unref);
  g_assert_false (maps_library (runner_test_server_get_pid (server), "libvte-2.91"));

  g_assert_cmpuint (runner_test_http_get (server, "/files", NULL, NULL), ==, 200);
  reply = request (a, "terminal:list", "{}");
  runner_test_assert_ok (reply);

  runner_test_server_stop (server);
  g_assert_nonnull (strstr (server->errors->str, "libvte-missing-for-test.so.0"));
}

static void
test_exit_status (void)
{
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, NULL);
  g_autoptr(RunnerTestClient) a = runner_test_client_new (server);
  g_autoptr(Screen) one = screen_new (a, "1");
  g_autoptr(Screen) two = NULL;
  g_autoptr(JsonNode) reply = NULL;
  JsonArray *list;

  reply = request (a, "terminal:create", "{}");
  runner_test_assert_ok (reply);
  g_clear_pointer (&reply, json_node_unref);
  send_event (a, "terminal:write", "{\"id\":\"1\",\"data\":\"exit 3\\n\"}");
  runner_test_wait_or_fail (screen_exited, one, TIMEOUT_MS, "exit 3");
  g_assert_cmpint (one->code, ==, 3);
  g_assert_cmpint (one->signal, ==, 0);

  list = list_terminals (a, &reply);
  g_assert_false (json_object_get_boolean_member (find_listed (list, "1"), "alive"));
  g_assert_cmpint (json_object_get_int_member (find_listed (list, "1"), "code"), ==, 3);
  g_clear_pointer (&reply, json_node_unref);
  assert_error (request (a, "terminal:write", "{\"id\":\"1\",\"data\":\"x\"}"), "EIO");

  reply = request (a, "terminal:create", "{}");
  runner_test_assert_ok (reply);
  two = screen_new (a, reply_string (reply, "id"));
  send_event (a, "terminal:write", "{\"id\":\"2\",\"data\":\"kill -9 $$\\n\"}");
  runner_test_wait_or_fail (screen_exited, two, TIMEOUT_MS, "kill -9");
  g_assert_cmpint (two->signal, ==, SIGKILL);

  runner_test_server_stop (server);
}

static gboolean
no_sleeper (gpointer user_data)
{
  GPid *pids = user_data;

  /* gone, and reaped: kill() still finds a zombie */
  return kill (pids[0], 0) != 0 && errno == ESRCH && !has_zombie_children (pids[1]);
}

static void
test_no_zombies (void)
{
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, NULL);
  g_autoptr(RunnerTestClient) a = runner_test_client_new (server);
  g_autoptr(Screen) one = screen_new (a, "1");
  g_autoptr(JsonNode) reply = NULL;
  const char *line;
  GPid pids[2];

  reply = request (a, "terminal:create", "{}");
  runner_test_assert_ok (reply);
  send_event (a, "terminal:write",
              "{\"id\":\"1\",\"data\":\"sleep 100 & echo SLEEP''ER=$!.\\n\"}");
  wait_for_output (one, "SLEEPER=");
  wait_for_output (one, ".\r\n");
  line = strstr (one->output->str, "SLEEPER=");
  pids[0] = (GPid) g_ascii_strtoll (line + 8, NULL, 10);
  pids[1] = runner_test_server_get_pid (server);
  g_assert_cmpint (pids[0], >, 1);
  g_assert_cmpint (kill (pids[0], 0), ==, 0);

  g_clear_pointer (&reply, json_node_unref);
  reply = request (a, "terminal:close", "{\"id\":\"1\"}");
  runner_test_assert_ok (reply);
  runner_test_wait_or_fail (no_sleeper, pids, TIMEOUT_MS, "the background job to be reaped");

  runner_test_server_stop (server);
}

/* The state letter of a process ('Z' for a zombie), or 0 once it is gone. */
static char
process_state (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *stat = NULL;
  const char *paren;

  if (!g_file_get_contents (path, &stat, NULL, NULL) || (paren = strrchr (stat, ')')) == NULL)
    return 0;
  return paren[2];
}

/* The shell is reaped when it exits, and terminal:exit says so then: not a
 * zombie waiting for a later timer. */
static void
test_close_reaps (void)
{
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, NULL);
  g_autoptr(RunnerTestClient) a = runner_test_client_new (server);
  g_autoptr(Screen) one = screen_new (a, "1");
  g_autoptr(JsonNode) reply = NULL;
  GPid shell;

  reply = request (a, "terminal:create", "{}");
  runner_test_assert_ok (reply);
  shell = reply_int (reply, "pid");
  g_clear_pointer (&reply, json_node_unref);
  send_event (a, "terminal:write", "{\"id\":\"1\",\"data\":\"echo RE''ADY\\n\"}");
  wait_for_output (one, "READY\r\n");
  g_assert_cmpint (process_state (shell), !=, 0);

  reply = request (a, "terminal:close", "{\"id\":\"1\"}");
  runner_test_assert_ok (reply);
  runner_test_wait_or_fail (screen_exited, one, TIMEOUT_MS, "terminal:exit after the close");
  g_assert_cmpint (one->signal, ==, SIGHUP);
  g_assert_cmpint (process_state (shell), ==, 0);

  runner_test_server_stop (server);
}

/* The pid printed after @label (e.g. "A=1234."), or 0 until it is there. */
static GPid
printed_pid (Screen     *screen,
             const char *label)
{
  const char *at;

  screen_update (screen);
  at = screen->output->str;
  while ((at = strstr (at, label)) != NULL)
    {
      at += strlen (label);
      if (g_ascii_isdigit (*at) && strchr (at, '.') != NULL)
        return (GPid) g_ascii_strtoll (at, NULL, 10);
    }
  return 0;
}

static gboolean
both_printed (gpointer user_data)
{
  return printed_pid (user_data, "A=") != 0 && printed_pid (user_data, "B=") != 0;
}

static gboolean
is_sleep (gpointer user_data)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/comm", GPOINTER_TO_INT (user_data));
  g_autofree char *comm = NULL;

  return g_file_get_contents (path, &comm, NULL, NULL) && g_str_equal (g_strstrip (comm), "sleep");
}

static gboolean
both_gone (gpointer user_data)
{
  GPid *pids = user_data;

  /* gone and reaped: kill() still finds a zombie */
  return kill (pids[0], 0) != 0 && errno == ESRCH && kill (pids[1], 0) != 0 && errno == ESRCH;
}

/* Starts, in terminal @id, two processes that leave the shell's session:
 * a setsid'd sleep, and one in a subshell that exits at once (so that it is
 * orphaned) which ignores SIGHUP and SIGTERM. Returns their pids, once both
 * run sleep. */
static void
start_escapees (Screen     *screen,
                const char *id,
                GPid        pids[2])
{
  g_autofree char *data = NULL;

  data = g_strdup_printf ("{\"id\":\"%s\",\"data\":\"setsid sh -c 'echo A=$$.; exec sleep 1000' & "
                          "(setsid sh -c 'trap \\\"\\\" HUP TERM; echo B=$$.; exec sleep 1001' &)\\n\"}",
                          id);
  send_event (screen->client, "terminal:write", data);
  runner_test_wait_or_fail (both_printed, screen, TIMEOUT_MS, "the pids of A and B");
  pids[0] = printed_pid (screen, "A=");
  pids[1] = printed_pid (screen, "B=");
  g_assert_cmpint (pids[0], >, 1);
  g_assert_cmpint (pids[1], >, 1);
  runner_test_wait_or_fail (is_sleep, GINT_TO_POINTER (pids[0]), TIMEOUT_MS, "A to run sleep");
  runner_test_wait_or_fail (is_sleep, GINT_TO_POINTER (pids[1]), TIMEOUT_MS, "B to run sleep");
}

/* Closing a terminal ends what was started in it, even outside its session. */
static void
test_close_ends_escapees (void)
{
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, NULL);
  g_autoptr(RunnerTestClient) a = runner_test_client_new (server);
  g_autoptr(Screen) one = screen_new (a, "1");
  g_autoptr(JsonNode) reply = NULL;
  GPid pids[2];

  reply = request (a, "terminal:create", "{}");
  runner_test_assert_ok (reply);
  g_clear_pointer (&reply, json_node_unref);
  start_escapees (one, "1", pids);

  reply = request (a, "terminal:close", "{\"id\":\"1\"}");
  runner_test_assert_ok (reply);
  runner_test_wait_or_fail (both_gone, pids, TIMEOUT_MS, "the escaped processes to end");

  runner_test_server_stop (server);
}

/* Runner's exit ends them too. */
static void
test_exit_ends_escapees (void)
{
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, NULL);
  g_autoptr(RunnerTestClient) a = runner_test_client_new (server);
  g_autoptr(Screen) on_a = screen_new (a, "default");
  GPid pids[2];

  start_escapees (on_a, "default", pids);
  runner_test_server_stop (server);
  runner_test_wait_or_fail (both_gone, pids, TIMEOUT_MS, "the escaped processes to end");
}

static void
test_clean_environment (void)
{
  const char *env[] = { "AWS_SECRET_ACCESS_KEY=sekrit-aws", "AWS_ACCESS_KEY_ID=sekrit-id",
                        "HARMLESS_SETTING=visible", NULL };
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, env);
  g_autoptr(RunnerTestClient) a = runner_test_client_new (server);
  g_autoptr(Screen) on_a = screen_new (a, "default");
  g_autofree char *data = NULL;

  data = g_strdup_printf ("{\"data\":\"echo \\\"A[$AWS_SECRET_ACCESS_KEY]T[$RUNNER_TOKEN]"
                          "E[$TERM]H[$HARMLESS_SETTING]\\\"; "
                          "env | grep -c -e sekrit -e %s; echo fin''ished\\n\"}", server->token);
  send_event (a, "terminal:write", data);
  wait_for_output (on_a, "finished\r\n");
  g_assert_nonnull (strstr (on_a->output->str, "A[]T[]E[xterm-256color]H[visible]\r\n"));
  g_assert_nonnull (strstr (on_a->output->str, "\r\n0\r\n"));

  runner_test_server_stop (server);
}

/* What the shell may try against Runner's process: its environment block,
 * its memory, ptrace (PTRACE_SEIZE: as PTRACE_ATTACH, without stopping it). */
static void
probe_runner (Screen           *screen,
              RunnerTestServer *server)
{
  GPid pid = runner_test_server_get_pid (server);
  g_autofree char *data = NULL;

  data = g_strdup_printf ("{\"data\":\"echo U=$(id -u); tr '\\\\0' '\\\\n' < /proc/%d/environ; "
                          "head -c1 /proc/%d/mem; /usr/bin/python3 -c 'import ctypes; "
                          "c = ctypes.CDLL(None, use_errno=True); "
                          "print(\\\"PTRACE\\\", c.ptrace(0x4206, %d, 0, 0), ctypes.get_errno())'; "
                          "echo fin''ished\\n\"}", pid, pid, pid);
  send_event (screen->client, "terminal:write", data);
  wait_for_output (screen, "finished\r\n");
  g_test_message ("%s", screen->output->str);
}

static void
assert_no_secrets (Screen           *screen,
                   RunnerTestServer *server)
{
  g_assert_null (strstr (screen->output->str, "sekrit-aws-value"));
  g_assert_null (strstr (screen->output->str, server->token));
}

typedef struct
{
  const char *path;
  const char *expected;
} FileWait;

static gboolean
file_has (gpointer user_data)
{
  FileWait *wait = user_data;
  g_autofree char *contents = NULL;

  return g_file_get_contents (wait->path, &contents, NULL, NULL) &&
         g_str_equal (contents, wait->expected);
}

/* Runner's secrets stay out of the user's reach: the same uid cannot read
 * its environment or memory, nor ptrace it; with --user, shells and the app
 * run as that user; and the secrets are gone from the environment block that
 * /proc shows even to root. */
static void
test_secrets_out_of_reach (void)
{
  const char *env[] = { "AWS_SECRET_ACCESS_KEY=sekrit-aws-value", "AWS_ACCESS_KEY_ID=sekrit-id",
                        "HARMLESS_SETTING=visible", "RUNNER_APP_COMMAND=id -u > app-uid", NULL };
  const char *as_nobody[] = { "--user", "nobody", NULL };
  struct passwd *nobody = getpwnam ("nobody");
  g_autoptr(RunnerTestServer) same = runner_test_server_new ();
  g_autoptr(RunnerTestServer) root = runner_test_server_new ();
  g_autoptr(RunnerTestServer) plain = NULL;
  g_autoptr(RunnerTestClient) a = NULL;
  g_autoptr(RunnerTestClient) b = NULL;
  g_autoptr(RunnerTestClient) c = NULL;
  g_autoptr(Screen) on_a = NULL;
  g_autoptr(Screen) on_b = NULL;
  g_autoptr(Screen) on_c = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *uid_line = NULL;
  g_autofree char *app_uid = NULL;
  g_autofree char *app_uid_path = NULL;
  FileWait wait;

  g_assert_nonnull (nobody);
  g_assert_cmpuint (getuid (), ==, 0);
  uid_line = g_strdup_printf ("U=%u\r\n", (guint) nobody->pw_uid);

  /* Runner and its shell as one uid, not root */
  g_assert_cmpint (chmod (same->dir, 0777), ==, 0);
  same->uid = nobody->pw_uid;
  runner_test_server_start (same, NULL, env, &error);
  g_assert_no_error (error);
  a = runner_test_client_new (same);
  on_a = screen_new (a, "default");
  probe_runner (on_a, same);
  g_assert_nonnull (strstr (on_a->output->str, uid_line));
  g_assert_nonnull (strstr (on_a->output->str, "environ: Permission denied"));
  g_assert_nonnull (strstr (on_a->output->str, "mem' for reading: Permission denied"));
  g_assert_nonnull (strstr (on_a->output->str, "PTRACE -1 1\r\n"));
  assert_no_secrets (on_a, same);
  runner_test_server_stop (same);

  /* Runner as root, shells and the app as nobody */
  g_assert_cmpint (chmod (root->dir, 0755), ==, 0);
  g_assert_cmpint (chmod (root->workspace, 0777), ==, 0);
  runner_test_server_start (root, as_nobody, env, &error);
  g_assert_no_error (error);
  b = runner_test_client_new (root);
  on_b = screen_new (b, "default");
  probe_runner (on_b, root);
  g_assert_nonnull (strstr (on_b->output->str, uid_line));
  g_assert_nonnull (strstr (on_b->output->str, "environ: Permission denied"));
  g_assert_nonnull (strstr (on_b->output->str, "PTRACE -1 1\r\n"));
  assert_no_secrets (on_b, root);
  app_uid_path = g_build_filename (root->workspace, "app-uid", NULL);
  app_uid = g_strdup_printf ("%u\n", (guint) nobody->pw_uid);
  wait = (FileWait) { app_uid_path, app_uid };
  runner_test_wait_or_fail (file_has, &wait, TIMEOUT_MS, "the app to write its uid");
  runner_test_server_stop (root);

  /* root reads the environment block: the secrets' values are gone */
  plain = runner_test_server_start_default (NULL, env);
  c = runner_test_client_new (plain);
  on_c = screen_new (c, "default");
  probe_runner (on_c, plain);
  g_assert_nonnull (strstr (on_c->output->str, "HARMLESS_SETTING=visible"));
  assert_no_secrets (on_c, plain);
  runner_test_server_stop (plain);
}

typedef struct
{
  RunnerTestServer *server;
  const char       *needle;
} ErrorsWait;

static gboolean
errors_have (gpointer user_data)
{
  ErrorsWait *wait = user_data;

  return strstr (wait->server->errors->str, wait->needle) != NULL;
}

/* --user that Runner cannot take, or that does not exist: it refuses to
 * start rather than run the user's code as itself. */
static void
test_user_refused (void)
{
  const char *as_root[] = { "--user", "root", NULL };
  const char *unknown[] = { "--user", "no-such-user-here", NULL };
  struct passwd *nobody = getpwnam ("nobody");
  g_autoptr(RunnerTestServer) unprivileged = runner_test_server_new ();
  g_autoptr(RunnerTestServer) missing = runner_test_server_new ();
  g_autoptr(GError) error = NULL;
  ErrorsWait wait;

  g_assert_nonnull (nobody);
  g_assert_cmpint (chmod (unprivileged->dir, 0777), ==, 0);
  unprivileged->uid = nobody->pw_uid;
  g_assert_false (runner_test_server_start (unprivileged, as_root, NULL, &error));
  g_clear_error (&error);
  g_assert_true (unprivileged->exited);
  g_assert_cmpint (unprivileged->exit_status, !=, 0);
  wait = (ErrorsWait) { unprivileged, "without CAP_SETUID and CAP_SETGID" };
  runner_test_wait_or_fail (errors_have, &wait, TIMEOUT_MS, "the refusal on stderr");

  g_assert_false (runner_test_server_start (missing, unknown, NULL, &error));
  g_clear_error (&error);
  g_assert_true (missing->exited);
  g_assert_cmpint (missing->exit_status, !=, 0);
  wait = (ErrorsWait) { missing, "No user “no-such-user-here”" };
  runner_test_wait_or_fail (errors_have, &wait, TIMEOUT_MS, "the unknown user on stderr");
}

static void
test_utf8 (void)
{
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, NULL);
  g_autoptr(RunnerTestClient) a = runner_test_client_new (server);
  g_autoptr(Screen) on_a = screen_new (a, "default");

  send_event (a, "terminal:write",
              "{\"data\":\"printf '\\\\xf0\\\\x9f\\\\x98\\\\x80\\\\xc3\\\\xa9\\\\xe2\\\\x82\\\\xac%.0s' "
              "{1..10000}; echo; echo do''ne\\n\"}");
  wait_for_output (on_a, "done\r\n");
  g_assert_cmpuint (count_occurrences (on_a->output->str,
                                       "\xf0\x9f\x98\x80\xc3\xa9\xe2\x82\xac"), ==, 10000);
  g_assert_null (strstr (on_a->output->str, "\xef\xbf\xbd"));

  runner_test_server_stop (server);
}

typedef struct
{
  Screen *screen;
  gsize   zs;
  gint64  max_rss;
  GPid    pid;
} Stream;

/* Counts the stream without keeping it (but for a tail where the end
 * marker may begin). */
static gboolean
stream_done (gpointer user_data)
{
  Stream *stream = user_data;
  GString *output = stream->screen->output;
  gsize counted;

  screen_update (stream->screen);
  stream->max_rss = MAX (stream->max_rss, runner_test_rss_kb (stream->pid));
  if (strstr (output->str, "finished\r\n") != NULL)
    {
      stream->zs += count_occurrences (output->str, "z");
      return TRUE;
    }

  counted = output->len - MIN (output->len, 16);
  for (gsize i = 0; i < counted; i++)
    stream->zs += output->str[i] == 'z';
  g_string_erase (output, 0, counted);
  return FALSE;
}

static void
test_slow_client (void)
{
  const char *args[] = { "--max-queued=4M", NULL };
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (args, NULL);
  g_autoptr(RunnerTestClient) reader = runner_test_client_new (server);
  g_autoptr(GSocketConnection) slow = NULL;
  g_autoptr(Screen) on_reader = screen_new (reader, "default");
  g_autoptr(JsonNode) reply = NULL;
  g_autofree char *body = NULL;
  Stream stream = { on_reader, 0, 0, runner_test_server_get_pid (server) };
  gint64 rss_before;

  /* the default terminal exists, and a client that never reads follows it */
  reply = request (reader, "terminal:attach", "{}");
  runner_test_assert_ok (reply);
  slow = runner_test_raw_websocket (server);
  runner_test_http_get (server, "/metrics", server->token, &body);
  g_assert_nonnull (strstr (body, "runner_clients 2\n"));
  g_clear_pointer (&body, g_free);
  rss_before = runner_test_rss_kb (stream.pid);

  /* 64 MiB of output: the reader gets it all, the stalled one holds back
   * neither the reader nor memory */
  send_event (reader, "terminal:write",
              "{\"data\":\"head -c 67108864 /dev/zero | tr '\\\\0' z; echo; echo fin''ished\\n\"}");
  runner_test_wait_or_fail (stream_done, &stream, 120000, "64 MiB of output");
  g_assert_cmpuint (stream.zs, >=, 67108864);

  runner_test_http_get (server, "/metrics", server->token, &body);
  g_assert_nonnull (strstr (body, "runner_clients 2\n"));
  g_test_message ("RSS %" G_GINT64_FORMAT " kB, at most %" G_GINT64_FORMAT " kB while streaming",
                  rss_before, stream.max_rss);
  /* the slow client's cap (4 MiB), the scrollback (1 MiB), what is in
   * flight; AddressSanitizer's quarantine makes RSS meaningless there */
#ifndef __SANITIZE_ADDRESS__
  g_assert_cmpint (stream.max_rss - rss_before, <, 32 * 1024);
#endif

  runner_test_server_stop (server);
}

static gboolean
gone_or_zombie (gpointer user_data)
{
  GPid pid = GPOINTER_TO_INT (user_data);
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *stat = NULL;
  const char *paren;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  paren = strrchr (stat, ')');
  return paren != NULL && paren[2] == 'Z';
}

static void
test_shutdown_ends_shells (void)
{
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (NULL, NULL);
  g_autoptr(RunnerTestClient) a = runner_test_client_new (server);
  g_autoptr(Screen) on_a = screen_new (a, "default");
  g_autoptr(JsonNode) reply = NULL;
  const char *line;
  GPid shell, stubborn;

  /* a job that ignores the hangup */
  send_event (a, "terminal:write", "{\"data\":\"trap '' HUP; sleep 100 & echo JO''B=$!.\\n\"}");
  wait_for_output (on_a, "JOB=");
  wait_for_output (on_a, ".\r\n");
  line = strstr (on_a->output->str, "JOB=");
  stubborn = (GPid) g_ascii_strtoll (line + 4, NULL, 10);
  shell = json_object_get_int_member (find_listed (list_terminals (a, &reply), "default"), "pid");

  runner_test_server_stop (server);
  g_assert_true (gone_or_zombie (GINT_TO_POINTER (shell)));
  runner_test_wait_or_fail (gone_or_zombie, GINT_TO_POINTER (stubborn), TIMEOUT_MS,
                            "the job to end with Runner");
}

static void
test_sandboxed (void)
{
  const char *args[] = { "--sandbox=bwrap", NULL };
  const char *env[] = { "RUNNER_SANDBOX_NETWORK=false", NULL };
  const char *no_bwrap[] = { "RUNNER_BWRAP=/nonexistent/bwrap", NULL };
  g_autoptr(RunnerTestServer) server = runner_test_server_start_default (args, env);
  g_autoptr(RunnerTestServer) broken = NULL;
  g_autoptr(RunnerTestClient) a = runner_test_client_new (server);
  g_autoptr(RunnerTestClient) b = NULL;
  g_autoptr(Screen) one = screen_new (a, "1");
  g_autoptr(JsonNode) reply = NULL;
  g_autofree char *expected = NULL;

  /* pid 1 is bubblewrap's, only a loopback, an empty home */
  reply = request (a, "terminal:create", "{}");
  runner_test_assert_ok (reply);
  send_event (a, "terminal:write", "{\"id\":\"1\",\"data\":\"echo P1=$(cat /proc/1/comm) "
              "N=$(wc -l < /proc/net/dev) H=$HOME E''ND\\n\"}");
  expected = g_strdup_printf ("P1=bwrap N=3 H=/home/%s END", g_get_user_name ());
  wait_for_output (one, expected);
  runner_test_server_stop (server);

  /* no bubblewrap: a clear error, no shell outside the sandbox */
  broken = runner_test_server_start_default (args, no_bwrap);
  b = runner_test_client_new (broken);
  assert_error (request (b, "terminal:create", "{}"), "ENOTSUP");
  assert_error (request (b, "terminal:write", "{\"data\":\"echo hi\\n\"}"), "ENOTSUP");
  runner_test_server_stop (broken);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *home = NULL;
  int result;

  g_test_init (&argc, &argv, NULL);
  /* Runner, and so its shells, get an empty HOME */
  home = terminal_test_init ();

  g_test_add_func ("/runner/terminal-server/default", test_default_terminal);
  g_test_add_func ("/runner/terminal-server/interrupt-at-start", test_interrupt_at_start);
  g_test_add_func ("/runner/terminal-server/reconnect-replay", test_reconnect_replay);
  g_test_add_func ("/runner/terminal-server/created", test_created_terminals);
  g_test_add_func ("/runner/terminal-server/exit-status", test_exit_status);
  g_test_add_func ("/runner/terminal-server/vte-on-demand", test_vte_on_demand);
  g_test_add_func ("/runner/terminal-server/vte-missing", test_vte_missing);
  g_test_add_func ("/runner/terminal-server/no-zombies", test_no_zombies);
  g_test_add_func ("/runner/terminal-server/close-reaps", test_close_reaps);
  g_test_add_func ("/runner/terminal-server/close-ends-escapees", test_close_ends_escapees);
  g_test_add_func ("/runner/terminal-server/exit-ends-escapees", test_exit_ends_escapees);
  g_test_add_func ("/runner/terminal-server/clean-environment", test_clean_environment);
  g_test_add_func ("/runner/terminal-server/secrets-out-of-reach", test_secrets_out_of_reach);
  g_test_add_func ("/runner/terminal-server/user-refused", test_user_refused);
  g_test_add_func ("/runner/terminal-server/utf8", test_utf8);
  g_test_add_func ("/runner/terminal-server/slow-client", test_slow_client);
  g_test_add_func ("/runner/terminal-server/shutdown", test_shutdown_ends_shells);
  g_test_add_func ("/runner/terminal-server/sandboxed", test_sandboxed);

  result = g_test_run ();
  runner_test_rm_rf (home);
  return result;
}
