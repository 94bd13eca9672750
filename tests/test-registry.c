/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include "runner-daemon.h"
#include "runner-error.h"
#include "runner-registry.h"
#include "runner-test-util.h"

/* The registry: argument schemas checked before handlers run, and every
 * event and route the daemon registers documented in README.md (and nothing
 * documented that it does not register). */

/* ------------------------------------------------------------------ schemas */

typedef struct
{
  GObject  *client;  /* stands in for a RunnerClient: the sink below answers */
  GString  *answers; /* every answer, one per line */
  guint     handled;
} Dispatch;

static gboolean
sink_is_closed (RunnerClient *client)
{
  return FALSE;
}

static Dispatch *current;

static void
sink_reply (RunnerClient  *client,
            RunnerRequest *request,
            GBytes        *result_json,
            gboolean       is_error)
{
  g_string_append_len (current->answers, g_bytes_get_data (result_json, NULL),
                       g_bytes_get_size (result_json));
  g_string_append_c (current->answers, '\n');
}

static void
sink_done (RunnerClient *client)
{
}

static const RunnerRequestSink sink = { sink_is_closed, sink_reply, sink_done };

static void
handle_ok (RunnerRequest *request,
           gpointer       user_data)
{
  Dispatch *d = user_data;

  d->handled++;
  runner_request_reply_ok (request);
}

static const RunnerEventEntry entries[] = {
  { "open", handle_ok, "path:path depth?:int", RUNNER_EVENT_FLAGS_NONE },
  { "set", handle_ok, "id?:string on:bool data?:object value?:any", RUNNER_EVENT_FLAGS_NONE },
  { "ping", handle_ok, NULL, RUNNER_EVENT_FLAGS_NONE },
};

/* Dispatches @event with @args (JSON) and returns the answer. */
static char *
dispatch (RunnerRegistry *registry,
          Dispatch       *d,
          const char     *event,
          const char     *args)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = args != NULL ? json_from_string (args, &error) : NULL;
  RunnerRequest *request;

  g_assert_no_error (error);
  g_string_truncate (d->answers, 0);
  request = runner_request_new ((RunnerClient *) d->client, &sink, event, node, 1);
  runner_registry_dispatch (registry, request);
  runner_request_unref (request);
  return g_strdup (d->answers->str);
}

static void
assert_error (char       *answer,
              const char *code,
              const char *member)
{
  g_autofree char *owned = answer;
  g_autofree char *expected = g_strdup_printf ("\"code\":\"%s\"", code);

  g_assert_nonnull (strstr (answer, expected));
  if (member != NULL)
    {
      g_autofree char *named = g_strdup_printf ("“%s”", member);

      g_assert_nonnull (strstr (answer, named));
    }
}

static void
assert_ok (char *answer)
{
  g_autofree char *owned = answer;

  g_assert_cmpstr (answer, ==, "{\"ok\":true}\n");
}

static void
test_schema (void)
{
  g_autoptr(RunnerRegistry) registry = runner_registry_new ();
  Dispatch d = { .client = g_object_new (G_TYPE_OBJECT, NULL), .answers = g_string_new (NULL) };

  current = &d;
  runner_registry_add_events (registry, entries, G_N_ELEMENTS (entries), &d);

  /* Required members, by name; a null one is missing */
  assert_error (dispatch (registry, &d, "open", "{}"), "EINVAL", "path");
  assert_error (dispatch (registry, &d, "open", "{\"path\":null}"), "EINVAL", "path");
  assert_error (dispatch (registry, &d, "open", NULL), "EINVAL", "path");
  assert_error (dispatch (registry, &d, "open", "\"a\""), "EINVAL", "path");
  assert_error (dispatch (registry, &d, "set", "{}"), "EINVAL", "on");
  /* JSON types */
  assert_error (dispatch (registry, &d, "open", "{\"path\":5}"), "EINVAL", "path");
  assert_error (dispatch (registry, &d, "open", "{\"pathBytes\":5}"), "EINVAL", "pathBytes");
  assert_error (dispatch (registry, &d, "open", "{\"path\":\"a\",\"depth\":\"1\"}"), "EINVAL", "depth");
  assert_error (dispatch (registry, &d, "open", "{\"path\":\"a\",\"depth\":1.5}"), "EINVAL", "depth");
  assert_error (dispatch (registry, &d, "set", "{\"on\":1}"), "EINVAL", "on");
  assert_error (dispatch (registry, &d, "set", "{\"on\":true,\"id\":[]}"), "EINVAL", "id");
  assert_error (dispatch (registry, &d, "set", "{\"on\":true,\"data\":\"x\"}"), "EINVAL", "data");
  /* None of those reached the handler */
  g_assert_cmpuint (d.handled, ==, 0);

  /* What fits goes through: a path as its bytes, integral numbers, any value */
  assert_ok (dispatch (registry, &d, "open", "{\"path\":\"a\"}"));
  assert_ok (dispatch (registry, &d, "open", "{\"pathBytes\":\"YQ==\",\"depth\":2.0}"));
  assert_ok (dispatch (registry, &d, "open", "{\"path\":\"a\",\"depth\":null,\"other\":1}"));
  assert_ok (dispatch (registry, &d, "set", "{\"on\":false,\"data\":{},\"value\":[1]}"));
  assert_ok (dispatch (registry, &d, "ping", "[1,2]"));
  g_assert_cmpuint (d.handled, ==, 5);

  /* Unknown events */
  assert_error (dispatch (registry, &d, "nope", "{}"), "ENOSYS", "nope");
  g_assert_cmpuint (d.handled, ==, 5);
  g_assert_true (runner_registry_has_event (registry, "ping"));
  g_assert_false (runner_registry_has_event (registry, "nope"));

  current = NULL;
  g_string_free (d.answers, TRUE);
  g_object_unref (d.client);
}

static void
handle_route (SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
}

static const RunnerRouteEntry routes[] = {
  { "/", handle_route, RUNNER_ROUTE_PREFIX },
  { "/sync", handle_route, RUNNER_ROUTE_AUTH },
  { "/socket.io/", handle_route, RUNNER_ROUTE_BODY | RUNNER_ROUTE_PREFIX },
  { "/api", handle_route, RUNNER_ROUTE_PREFIX },
};

static void
test_routes (void)
{
  g_autoptr(RunnerRegistry) registry = runner_registry_new ();
  g_auto(GStrv) paths = NULL;

  runner_registry_add_routes (registry, routes, G_N_ELEMENTS (routes), NULL);
  paths = runner_registry_list_routes (registry);
  g_assert_cmpuint (g_strv_length (paths), ==, 4);
  g_assert_cmpstr (paths[0], ==, "/");

  g_assert_true (runner_registry_match_route (registry, "/sync")->entry == &routes[1]);
  /* Not a prefix route: below it, the root serves */
  g_assert_true (runner_registry_match_route (registry, "/sync/x")->entry == &routes[0]);
  g_assert_true (runner_registry_match_route (registry, "/socket.io/")->entry == &routes[2]);
  g_assert_true (runner_registry_match_route (registry, "/socket.io/x")->entry == &routes[2]);
  g_assert_true (runner_registry_match_route (registry, "/api/v1")->entry == &routes[3]);
  /* Component boundaries */
  g_assert_true (runner_registry_match_route (registry, "/apis")->entry == &routes[0]);
  g_assert_true (runner_registry_match_route (registry, "/anything")->entry == &routes[0]);
}

/* ------------------------------------------------------------ README tables */

/* The backticked names in the first cell of each row of the first table
 * after @heading; a name is the first word of its backticks, and for HTTP
 * rows the word that starts with '/'. */
static GPtrArray *
readme_names (const char *heading,
              gboolean    http)
{
  g_autofree char *path = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "..", "README.md", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  gboolean in_section = FALSE, in_table = FALSE;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      g_auto(GStrv) cells = NULL;
      g_auto(GStrv) ticks = NULL;

      if (!in_section)
        {
          in_section = g_str_equal (line, heading);
          continue;
        }
      if (line[0] != '|')
        {
          if (in_table || g_str_has_prefix (line, "#"))
            break;
          continue;
        }
      cells = g_strsplit (line, "|", 3);
      /* The header and the separator come first */
      if (!in_table || g_str_has_prefix (cells[1], "---"))
        {
          in_table = TRUE;
          continue;
        }

      ticks = g_strsplit (cells[1], "`", -1);
      for (guint j = 1; ticks[j] != NULL; j += 2)
        {
          g_auto(GStrv) words = g_strsplit (ticks[j], " ", -1);
          const char *name = words[0];

          for (guint k = 0; http && words[k] != NULL; k++)
            if (words[k][0] == '/')
              name = words[k];
          g_ptr_array_add (names, g_strdup (name));
        }
    }

  g_assert_true (in_table);
  return names;
}

static gboolean
contains (GPtrArray  *names,
          const char *name)
{
  for (guint i = 0; i < names->len; i++)
    if (g_str_equal (g_ptr_array_index (names, i), name))
      return TRUE;
  return FALSE;
}

/* Fails naming every name on one side only. */
static void
assert_same (const char  *what,
             char       **registered,
             GPtrArray   *documented)
{
  g_autoptr(GString) problems = g_string_new (NULL);

  for (guint i = 0; registered[i] != NULL; i++)
    if (!contains (documented, registered[i]))
      g_string_append_printf (problems, " %s (registered, not in README)", registered[i]);
  for (guint i = 0; i < documented->len; i++)
    if (!g_strv_contains ((const char * const *) registered, g_ptr_array_index (documented, i)))
      g_string_append_printf (problems, " %s (in README, not registered)",
                              (char *) g_ptr_array_index (documented, i));

  if (problems->len > 0)
    g_test_fail_printf ("%s differ:%s", what, problems->str);
}

typedef struct
{
  char         *dir;
  RunnerConfig *config;
  RunnerDaemon *daemon;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = runner_test_make_tmpdir ();
  f->config = runner_config_new_defaults ();
  g_free (f->config->workspace);
  f->config->workspace = g_build_filename (f->dir, "workspace", NULL);
  /* Built, not started: nothing listens */
  f->daemon = runner_daemon_new (f->config, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->daemon);
  runner_config_free (f->config);
  runner_test_rm_rf (f->dir);
  g_free (f->dir);
}

static void
test_readme_events (Fixture       *f,
                    gconstpointer  data)
{
  g_auto(GStrv) events = runner_registry_list_events (runner_daemon_get_registry (f->daemon));
  g_autoptr(GPtrArray) documented = readme_names ("### Events", FALSE);

  g_assert_cmpuint (g_strv_length (events), >, 20);
  assert_same ("Events", events, documented);
}

static void
test_readme_routes (Fixture       *f,
                    gconstpointer  data)
{
  g_auto(GStrv) paths = runner_registry_list_routes (runner_daemon_get_registry (f->daemon));
  g_autoptr(GPtrArray) documented = readme_names ("### HTTP", TRUE);

  g_assert_true (g_strv_contains ((const char * const *) paths, "/socket.io/"));
  assert_same ("HTTP routes", paths, documented);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/runner/registry/schema", test_schema);
  g_test_add_func ("/runner/registry/routes", test_routes);
  g_test_add ("/runner/registry/readme/events", Fixture, NULL, fixture_set_up,
              test_readme_events, fixture_tear_down);
  g_test_add ("/runner/registry/readme/routes", Fixture, NULL, fixture_set_up,
              test_readme_routes, fixture_tear_down);

  return g_test_run ();
}
