/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <glib/gstdio.h>

#include "runner-dbus.h"
#include "runner-error.h"
#include "runner-test-util.h"

/* The D-Bus interface of the real runner binary, on a private test bus
 * (GTestDBus) that can also start Runner from a build-tree service file. */

#define TIMEOUT_MS 30000
#define TOKEN      "test-token-0123456789"

/* The activated runner's workspace: the test bus hands its environment
 * (WORKSPACE, RUNNER_TOKEN), set once before any thread, to what it starts. */
static char *activated_workspace;

typedef struct
{
  GTestDBus         *bus;
  gboolean           bus_up;
  GDBusConnection   *connection;
  guint              watch_id;
  char              *owner;        /* the name's owner now, or NULL */
  char              *dir;          /* owned temp dir */
  char              *workspace;    /* the activated runner's (WORKSPACE) */
  RunnerDbusRunner1 *proxy;
  GPtrArray         *connected;    /* "id transport" */
  GPtrArray         *disconnected; /* ids */
  GPtrArray         *sync_completed;
  guint              properties_changed_id;
  guint              n_clients_changed;
  gboolean           uptime_announced;
} Fixture;

/* Waiting */

typedef gboolean (*Check) (Fixture *f);

static gboolean
keep_polling (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  Fixture *f;
  Check    check;
} Waiter;

static gboolean
waiter_check (gpointer user_data)
{
  Waiter *waiter = user_data;

  return waiter->check (waiter->f);
}

/* Iterates the main context until @check holds, looking again at least
 * every 20 ms (for states no event announces); fails after TIMEOUT_MS. */
static void
wait_for (Fixture    *f,
          Check       check,
          const char *what)
{
  Waiter waiter = { f, check };
  guint poll_id = g_timeout_add (20, keep_polling, NULL);

  runner_test_wait_or_fail (waiter_check, &waiter, TIMEOUT_MS, what);
  g_source_remove (poll_id);
}

static void
drain_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static gboolean
has_owner (Fixture *f)
{
  return f->owner != NULL;
}

static gboolean
has_no_owner (Fixture *f)
{
  return f->owner == NULL;
}

/* Fixture */

static void
on_name_appeared (GDBusConnection *connection,
                  const char      *name,
                  const char      *owner,
                  gpointer         user_data)
{
  Fixture *f = user_data;

  g_free (f->owner);
  f->owner = g_strdup (owner);
}

static void
on_name_vanished (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  Fixture *f = user_data;

  g_clear_pointer (&f->owner, g_free);
}

/* PropertiesChanged as sent on the wire (the proxy makes up its own when
 * the name changes hands). */
static void
on_properties_changed (GDBusConnection *connection,
                       const char      *sender,
                       const char      *path,
                       const char      *interface,
                       const char      *signal,
                       GVariant        *parameters,
                       gpointer         user_data)
{
  Fixture *f = user_data;
  g_autoptr(GVariant) changed = NULL;
  const char *changed_interface;

  g_variant_get (parameters, "(&s@a{sv}as)", &changed_interface, &changed, NULL);
  if (!g_str_equal (changed_interface, RUNNER_DBUS_INTERFACE))
    return;
  if (g_variant_lookup (changed, "Clients", "u", NULL))
    f->n_clients_changed++;
  /* Uptime is computed on read and never announced. */
  if (g_variant_lookup (changed, "Uptime", "t", NULL))
    f->uptime_announced = TRUE;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *services = g_test_build_filename (G_TEST_BUILT, "services", NULL);

  f->dir = runner_test_make_tmpdir ();
  f->connected = g_ptr_array_new_with_free_func (g_free);
  f->disconnected = g_ptr_array_new_with_free_func (g_free);
  f->sync_completed = g_ptr_array_new_with_free_func (g_free);

  f->bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_add_service_dir (f->bus, services);
  g_test_dbus_up (f->bus);
  f->bus_up = TRUE;

  f->connection = g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (f->bus),
                                                          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                          NULL, NULL, &error);
  g_assert_no_error (error);
  f->watch_id = g_bus_watch_name_on_connection (f->connection, RUNNER_DBUS_NAME,
                                                G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                on_name_appeared, on_name_vanished, f, NULL);
  f->properties_changed_id =
    g_dbus_connection_signal_subscribe (f->connection, NULL, "org.freedesktop.DBus.Properties",
                                        "PropertiesChanged", RUNNER_DBUS_PATH, NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE, on_properties_changed, f, NULL);
}

static void
bus_down (Fixture *f)
{
  if (f->proxy != NULL)
    g_signal_handlers_disconnect_by_data (f->proxy, f);
  g_clear_object (&f->proxy);
  g_clear_handle_id (&f->watch_id, g_bus_unwatch_name);
  if (f->properties_changed_id != 0)
    g_dbus_connection_signal_unsubscribe (f->connection, f->properties_changed_id);
  f->properties_changed_id = 0;
  if (f->connection != NULL)
    g_dbus_connection_close_sync (f->connection, NULL, NULL);
  g_clear_object (&f->connection);
  if (f->bus_up)
    g_test_dbus_down (f->bus);
  f->bus_up = FALSE;
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_assert_false (f->uptime_announced);
  bus_down (f);
  g_clear_object (&f->bus);
  drain_main_context ();
  runner_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->owner);
  g_ptr_array_unref (f->connected);
  g_ptr_array_unref (f->disconnected);
  g_ptr_array_unref (f->sync_completed);
}

/* The proxy and its signals */

static void
on_client_connected (RunnerDbusRunner1 *proxy,
                     const char        *id,
                     const char        *transport,
                     Fixture           *f)
{
  g_ptr_array_add (f->connected, g_strdup_printf ("%s %s", id, transport));
}

static void
on_client_disconnected (RunnerDbusRunner1 *proxy,
                        const char        *id,
                        Fixture           *f)
{
  g_ptr_array_add (f->disconnected, g_strdup (id));
}

static void
on_sync_completed (RunnerDbusRunner1 *proxy,
                   gboolean           ok,
                   const char        *error,
                   Fixture           *f)
{
  g_ptr_array_add (f->sync_completed, g_strdup_printf ("%s %s", ok ? "ok" : "failed", error));
}

static void
make_proxy (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  g_clear_object (&f->proxy);
  f->proxy = runner_dbus_runner1_proxy_new_sync (f->connection,
                                                 G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                                 RUNNER_DBUS_NAME, RUNNER_DBUS_PATH, NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (f->proxy, "client-connected", G_CALLBACK (on_client_connected), f);
  g_signal_connect (f->proxy, "client-disconnected", G_CALLBACK (on_client_disconnected), f);
  g_signal_connect (f->proxy, "sync-completed", G_CALLBACK (on_sync_completed), f);
}

/* Helpers */

static guint32
get_pid (Fixture    *f,
         const char *name)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  guint32 pid = 0;

  reply = g_dbus_connection_call_sync (f->connection, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "GetConnectionUnixProcessID", g_variant_new ("(s)", name),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, TIMEOUT_MS,
                                       NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &pid);
  return pid;
}

static guint32
server_pid (RunnerTestServer *server)
{
  return (guint32) g_ascii_strtoull (g_subprocess_get_identifier (server->process), NULL, 10);
}

/* Properties.Get on the name (auto-starting Runner if need be) */
static GVariant *
get_property (Fixture    *f,
              const char *name)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *value = NULL;

  reply = g_dbus_connection_call_sync (f->connection, RUNNER_DBUS_NAME, RUNNER_DBUS_PATH,
                                       "org.freedesktop.DBus.Properties", "Get",
                                       g_variant_new ("(ss)", RUNNER_DBUS_INTERFACE, name),
                                       G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, TIMEOUT_MS,
                                       NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  return value;
}

static guint32
get_uint_property (Fixture    *f,
                   const char *name)
{
  g_autoptr(GVariant) value = get_property (f, name);

  return g_variant_get_uint32 (value);
}

static char *
real_path (const char *path)
{
  char *real = realpath (path, NULL);
  char *ret;

  g_assert_nonnull (real);
  ret = g_strdup (real);
  free (real);
  return ret;
}

static void
assert_remote_error (GError     *error,
                     gint        code,
                     const char *dbus_name)
{
  g_autofree char *remote = NULL;

  g_assert_error (error, RUNNER_ERROR, code);
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, dbus_name);
}

/* Starts the runner binary on the test bus (DBUS_SESSION_BUS_ADDRESS is the
 * test bus's since g_test_dbus_up()). */
static RunnerTestServer *
start_runner_on_bus (Fixture            *f,
                     const char * const *args,
                     const char * const *env)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new ();
  RunnerTestServer *server;

  g_ptr_array_add (all, (gpointer) "--dbus=session");
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (all, (gpointer) args[i]);
  g_ptr_array_add (all, NULL);

  server = runner_test_server_start_default ((const char * const *) all->pdata, env);
  return server;
}

/* ...and waits until it owns the name. */
static RunnerTestServer *
start_runner (Fixture            *f,
              const char * const *args,
              const char * const *env)
{
  RunnerTestServer *server = start_runner_on_bus (f, args, env);

  wait_for (f, has_owner, "runner to own io.github.runner.Runner");
  g_assert_cmpuint (get_pid (f, f->owner), ==, server_pid (server));
  make_proxy (f);
  return server;
}

static gboolean
server_exited (RunnerTestServer *server)
{
  return server->exited;
}

static void
wait_exit_status (Fixture          *f,
                  RunnerTestServer *server,
                  int               status)
{
  runner_test_wait_or_fail ((RunnerTestCondition) server_exited, server, TIMEOUT_MS,
                            "runner to exit");
  drain_main_context ();
  if (!g_subprocess_get_if_exited (server->process) ||
      g_subprocess_get_exit_status (server->process) != status)
    g_error ("runner exited with status %d, not %d; its stderr:\n%s", server->exit_status, status,
             server->errors->str);
}

typedef struct
{
  RunnerTestServer *server;
  const char       *text;
} LogWait;

static gboolean
log_has (gpointer user_data)
{
  LogWait *wait = user_data;

  return strstr (wait->server->errors->str, wait->text) != NULL ||
         strstr (wait->server->output->str, wait->text) != NULL;
}

static void
wait_log (RunnerTestServer *server,
          const char       *text)
{
  LogWait wait = { server, text };

  runner_test_wait_or_fail (log_has, &wait, TIMEOUT_MS, text);
}

static void
shutdown_runner (Fixture          *f,
                 RunnerTestServer *server)
{
  g_autoptr(GError) error = NULL;

  runner_dbus_runner1_call_shutdown_sync (f->proxy, NULL, &error);
  g_assert_no_error (error);
  wait_exit_status (f, server, 0);
  wait_for (f, has_no_owner, "the name to go");
}

static char *
sync_state_string (Fixture *f)
{
  g_autoptr(GVariant) state = get_property (f, "SyncState");

  return g_variant_print (state, FALSE);
}

/* Runs `runner status ARGS` with the test bus as session bus. */
static int
run_status (Fixture            *f,
            const char * const *args,
            const char * const *env,
            char              **out,
            char              **err)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  g_subprocess_launcher_unsetenv (launcher, "RUNNER_DBUS");
  for (guint i = 0; env != NULL && env[i] != NULL; i++)
    {
      g_auto(GStrv) kv = g_strsplit (env[i], "=", 2);

      g_subprocess_launcher_setenv (launcher, kv[0], kv[1], TRUE);
    }

  g_ptr_array_add (argv, (gpointer) g_getenv ("RUNNER_BINARY"));
  g_ptr_array_add (argv, (gpointer) "status");
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, out, err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  return g_subprocess_get_exit_status (process);
}

/* Tests */

static gboolean
uptime_positive (Fixture *f)
{
  g_autoptr(GVariant) uptime = get_property (f, "Uptime");

  return g_variant_get_uint64 (uptime) >= 1;
}

static void
test_properties (Fixture       *f,
                 gconstpointer  data)
{
  const char *env[] = { "USER_PORT=3456", NULL };
  g_autoptr(RunnerTestServer) server = start_runner (f, NULL, env);
  g_autoptr(GVariant) sync = NULL;
  g_autoptr(GVariant) uptime = NULL;
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *workspace = real_path (server->workspace);
  const char *state = NULL;
  gboolean enabled = TRUE;
  guint32 pending = 1;

  /* Through the generated proxy's cache (filled by GetAll)... */
  g_assert_cmpstr (runner_dbus_runner1_get_version (f->proxy), ==, PACKAGE_VERSION);
  g_assert_cmpstr (runner_dbus_runner1_get_workspace (f->proxy), ==, workspace);
  g_assert_cmpuint (runner_dbus_runner1_get_port (f->proxy), ==, server->port);
  g_assert_cmpuint (runner_dbus_runner1_get_app_port (f->proxy), ==, 3456);
  g_assert_cmpuint (runner_dbus_runner1_get_clients (f->proxy), ==, 0);
  g_assert_cmpuint (runner_dbus_runner1_get_terminals (f->proxy), ==, 0);

  /* ...and with Properties.Get. */
  g_assert_cmpuint (get_uint_property (f, "Port"), ==, server->port);
  sync = get_property (f, "SyncState");
  g_assert_true (g_variant_is_of_type (sync, G_VARIANT_TYPE_VARDICT));
  g_assert_true (g_variant_lookup (sync, "enabled", "b", &enabled));
  g_assert_false (enabled);
  g_assert_true (g_variant_lookup (sync, "state", "&s", &state));
  g_assert_cmpstr (state, ==, "disabled");
  g_assert_true (g_variant_lookup (sync, "pending", "u", &pending));
  g_assert_cmpuint (pending, ==, 0);
  g_assert_true (g_variant_lookup (sync, "last-error", "&s", &state));
  g_assert_cmpstr (state, ==, "");

  /* Uptime: computed when read, so it grows with no signal. */
  uptime = get_property (f, "Uptime");
  g_assert_true (g_variant_is_of_type (uptime, G_VARIANT_TYPE_UINT64));
  g_assert_cmpuint (g_variant_get_uint64 (uptime), <, 60);
  wait_for (f, uptime_positive, "Uptime to reach 1 s");

  /* GetAll has every property. */
  reply = g_dbus_connection_call_sync (f->connection, RUNNER_DBUS_NAME, RUNNER_DBUS_PATH,
                                       "org.freedesktop.DBus.Properties", "GetAll",
                                       g_variant_new ("(s)", RUNNER_DBUS_INTERFACE),
                                       G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE,
                                       TIMEOUT_MS, NULL, &error);
  g_assert_no_error (error);
  all = g_variant_get_child_value (reply, 0);
  g_assert_cmpuint (g_variant_n_children (all), ==, 8);
  g_assert_true (g_variant_lookup (all, "Uptime", "t", NULL));
  g_assert_true (g_variant_lookup (all, "Version", "s", NULL));

  /* Read-only: a Set fails and changes nothing. */
  g_clear_pointer (&reply, g_variant_unref);
  reply = g_dbus_connection_call_sync (f->connection, RUNNER_DBUS_NAME, RUNNER_DBUS_PATH,
                                       "org.freedesktop.DBus.Properties", "Set",
                                       g_variant_new ("(ssv)", RUNNER_DBUS_INTERFACE, "Clients",
                                                      g_variant_new_uint32 (7)),
                                       NULL, G_DBUS_CALL_FLAGS_NONE, TIMEOUT_MS, NULL, &error);
  g_assert_null (reply);
  g_assert_true (error->domain == G_DBUS_ERROR);
  g_clear_error (&error);
  g_assert_cmpuint (get_uint_property (f, "Clients"), ==, 0);

  /* Unknown property and method. */
  reply = g_dbus_connection_call_sync (f->connection, RUNNER_DBUS_NAME, RUNNER_DBUS_PATH,
                                       "org.freedesktop.DBus.Properties", "Get",
                                       g_variant_new ("(ss)", RUNNER_DBUS_INTERFACE, "Nope"),
                                       NULL, G_DBUS_CALL_FLAGS_NONE, TIMEOUT_MS, NULL, &error);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  reply = g_dbus_connection_call_sync (f->connection, RUNNER_DBUS_NAME, RUNNER_DBUS_PATH,
                                       RUNNER_DBUS_INTERFACE, "Explode", NULL, NULL,
                                       G_DBUS_CALL_FLAGS_NONE, TIMEOUT_MS, NULL, &error);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD);
  g_clear_error (&error);

  runner_test_server_stop (server);
  wait_for (f, has_no_owner, "the name to go on SIGTERM");
}

typedef struct
{
  Fixture *f;
  guint    connected;
  guint    disconnected;
  guint    clients;
} ClientCounts;

static gboolean
client_counts_reached (gpointer user_data)
{
  ClientCounts *want = user_data;
  Fixture *f = want->f;

  return f->connected->len == want->connected && f->disconnected->len == want->disconnected &&
         runner_dbus_runner1_get_clients (f->proxy) == want->clients;
}

static void
wait_clients (Fixture *f,
              guint    connected,
              guint    disconnected,
              guint    clients)
{
  ClientCounts want = { f, connected, disconnected, clients };

  runner_test_wait_or_fail (client_counts_reached, &want, TIMEOUT_MS, "client signals");
  g_assert_cmpuint (get_uint_property (f, "Clients"), ==, clients);
}

static void
test_clients (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(RunnerTestServer) server = start_runner (f, NULL, NULL);
  g_autoptr(RunnerTestClient) refused = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) a = NULL, b = NULL;
  RunnerTestClient *first, *second;

  first = runner_test_client_new (server);
  wait_clients (f, 1, 0, 1);
  a = g_strsplit (f->connected->pdata[0], " ", 2);
  g_assert_cmpstr (a[0], !=, "");
  g_assert_cmpstr (a[1], ==, "websocket");

  second = runner_test_client_new (server);
  wait_clients (f, 2, 0, 2);
  b = g_strsplit (f->connected->pdata[1], " ", 2);
  g_assert_cmpstr (b[0], !=, a[0]);
  g_assert_cmpuint (f->n_clients_changed, >=, 2);

  /* A refused client is no client: no signal, no count. The round trip
   * after it orders any signal before the reply. */
  refused = runner_test_client_connect (server, "/ws", "wrong-token", NULL, &error);
  g_assert_null (refused);
  g_assert_nonnull (error);
  g_assert_cmpuint (get_uint_property (f, "Clients"), ==, 2);
  drain_main_context ();
  g_assert_cmpuint (f->connected->len, ==, 2);

  runner_test_client_free (first);
  wait_clients (f, 2, 1, 1);
  g_assert_cmpstr (f->disconnected->pdata[0], ==, a[0]);

  runner_test_client_free (second);
  wait_clients (f, 2, 2, 0);
  g_assert_cmpstr (f->disconnected->pdata[1], ==, b[0]);

  runner_test_server_stop (server);
}

static void
test_terminals (Fixture       *f,
                gconstpointer  data)
{
  const char *env[] = { "RUNNER_MAX_TERMINALS=2", NULL };
  g_autoptr(RunnerTestServer) server = start_runner (f, NULL, env);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *id = NULL;
  const guint bad_sizes[][2] = { { 0, 24 }, { 80, 0 }, { 1001, 24 }, { 80, 1001 } };

  for (guint i = 0; i < G_N_ELEMENTS (bad_sizes); i++)
    {
      g_assert_false (runner_dbus_runner1_call_open_terminal_sync (f->proxy, bad_sizes[i][0],
                                                                   bad_sizes[i][1], &id, NULL,
                                                                   &error));
      assert_remote_error (error, RUNNER_ERROR_INVALID, "io.github.runner.Runner1.Error.Invalid");
      g_assert_null (id);
      g_clear_error (&error);
    }
  g_assert_cmpuint (get_uint_property (f, "Terminals"), ==, 0);

  /* A wrong signature never reaches Runner. */
  reply = g_dbus_connection_call_sync (f->connection, RUNNER_DBUS_NAME, RUNNER_DBUS_PATH,
                                       RUNNER_DBUS_INTERFACE, "OpenTerminal",
                                       g_variant_new ("(s)", "80x24"), NULL,
                                       G_DBUS_CALL_FLAGS_NONE, TIMEOUT_MS, NULL, &error);
  g_assert_null (reply);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  /* Until the terminal manager is part of Runner, terminals are unavailable. */
  g_assert_false (runner_dbus_runner1_call_open_terminal_sync (f->proxy, 80, 24, &id, NULL, &error));
  assert_remote_error (error, RUNNER_ERROR_UNAVAILABLE, "io.github.runner.Runner1.Error.Unavailable");
  g_clear_error (&error);
  g_assert_false (runner_dbus_runner1_call_close_terminal_sync (f->proxy, "nope", NULL, &error));
  assert_remote_error (error, RUNNER_ERROR_UNAVAILABLE, "io.github.runner.Runner1.Error.Unavailable");
  g_clear_error (&error);
  g_assert_cmpuint (get_uint_property (f, "Terminals"), ==, 0);

  runner_test_server_stop (server);
}

static void
test_sync_unavailable (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(RunnerTestServer) server = start_runner (f, NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *before = sync_state_string (f);
  g_autofree char *after = NULL;

  g_assert_false (runner_dbus_runner1_call_sync_sync (f->proxy, NULL, &error));
  assert_remote_error (error, RUNNER_ERROR_UNAVAILABLE, "io.github.runner.Runner1.Error.Unavailable");
  g_assert_nonnull (strstr (error->message, "S3"));

  after = sync_state_string (f);
  g_assert_cmpstr (after, ==, before);
  drain_main_context ();
  g_assert_cmpuint (f->sync_completed->len, ==, 0);

  runner_test_server_stop (server);
}

static void
test_shutdown (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(RunnerTestServer) server = start_runner (f, NULL, NULL);
  g_autoptr(RunnerTestClient) client = runner_test_client_new (server);

  wait_clients (f, 1, 0, 1);
  shutdown_runner (f, server);
  g_assert_nonnull (strstr (server->errors->str, "Shutdown requested over D-Bus"));
  /* Its clients were closed on the way out. */
  runner_test_client_wait_closed (client);
}

typedef struct
{
  Fixture *f;
  guint32  pid;
} PidWait;

static gboolean
pid_gone (gpointer user_data)
{
  PidWait *wait = user_data;

  return kill ((pid_t) wait->pid, 0) < 0 && errno == ESRCH;
}

static void
wait_pid_gone (Fixture *f,
               guint32  pid)
{
  PidWait wait = { f, pid };
  guint poll_id = g_timeout_add (20, keep_polling, NULL);

  runner_test_wait_or_fail (pid_gone, &wait, TIMEOUT_MS, "the activated runner to exit");
  g_source_remove (poll_id);
}

/* Calls a method on the name with nothing running: the bus starts runner
 * from the build-tree service file, which then answers. Returns its pid. */
static guint32
activate (Fixture *f)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *workspace = NULL;
  g_autoptr(GVariant) value = NULL;

  g_assert_null (f->owner);
  reply = g_dbus_connection_call_sync (f->connection, RUNNER_DBUS_NAME, RUNNER_DBUS_PATH,
                                       RUNNER_DBUS_INTERFACE, "CloseTerminal",
                                       g_variant_new ("(s)", "no-such-terminal"), NULL,
                                       G_DBUS_CALL_FLAGS_NONE, TIMEOUT_MS, NULL, &error);
  g_assert_null (reply);
  /* Runner's own error: it was started and it answered. */
  g_assert_true (error->domain == RUNNER_ERROR);

  wait_for (f, has_owner, "the activated runner's name");
  make_proxy (f);
  value = get_property (f, "Workspace");
  workspace = real_path (activated_workspace);
  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, workspace);
  return get_pid (f, f->owner);
}

static void
test_activation (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(RunnerTestServer) view = runner_test_server_new ();
  g_autoptr(GError) error = NULL;
  RunnerTestClient *client;
  guint32 pid = activate (f);

  /* The activated runner serves for real, with the test's token. */
  view->port = get_uint_property (f, "Port");
  g_assert_cmpuint (view->port, >, 0);
  client = runner_test_client_new (view);
  wait_clients (f, 1, 0, 1);
  g_assert_true (g_str_has_suffix (f->connected->pdata[0], " websocket"));
  runner_test_client_free (client);
  wait_clients (f, 1, 1, 0);

  runner_dbus_runner1_call_shutdown_sync (f->proxy, NULL, &error);
  g_assert_no_error (error);
  wait_for (f, has_no_owner, "the activated runner's name to go");
  wait_pid_gone (f, pid);
}

static void
test_bus_gone_activated (Fixture       *f,
                         gconstpointer  data)
{
  guint32 pid = activate (f);

  /* A runner the bus started leaves with the bus. */
  bus_down (f);
  wait_pid_gone (f, pid);
}

static void
test_bus_gone_serves_on (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(RunnerTestServer) server = start_runner (f, NULL, NULL);

  /* One started otherwise serves on without D-Bus. */
  bus_down (f);
  wait_log (server, "The D-Bus connection closed");
  g_assert_cmpuint (runner_test_http_get (server, "/healthz", NULL, NULL), ==, 200);
  runner_test_server_stop (server);
}

static void
test_name_taken (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(RunnerTestServer) first = start_runner (f, NULL, NULL);
  g_autoptr(RunnerTestServer) second = start_runner_on_bus (f, NULL, NULL);
  g_autofree char *first_owner = g_strdup (f->owner);
  g_autoptr(GError) error = NULL;

  /* The second serves without the name, and says so. */
  wait_log (second, "is taken on D-Bus by another process");
  g_assert_cmpuint (runner_test_http_get (second, "/healthz", NULL, NULL), ==, 200);
  g_assert_cmpuint (get_pid (f, f->owner), ==, server_pid (first));

  /* It was queued: the name passes to it when the first leaves. */
  runner_dbus_runner1_call_shutdown_sync (f->proxy, NULL, &error);
  g_assert_no_error (error);
  wait_exit_status (f, first, 0);
  wait_for (f, has_owner, "the name to pass on");
  g_assert_cmpstr (f->owner, !=, first_owner);
  g_assert_cmpuint (get_pid (f, f->owner), ==, server_pid (second));
  wait_log (second, "On D-Bus as io.github.runner.Runner");

  make_proxy (f);
  shutdown_runner (f, second);
}

static void
test_no_bus (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *missing = g_build_filename (f->dir, "missing-bus", NULL);
  g_autofree char *missing_env = g_strdup_printf ("DBUS_SESSION_BUS_ADDRESS=unix:path=%s", missing);
  g_autofree char *empty_dir = g_build_filename (f->dir, "runtime", NULL);
  g_autofree char *runtime_env = g_strdup_printf ("XDG_RUNTIME_DIR=%s", empty_dir);
  const char *session_env[] = { missing_env, NULL };
  const char *auto_env[] = { "DBUS_SESSION_BUS_ADDRESS=", runtime_env, NULL };
  const char *auto_args[] = { "--dbus=auto", NULL };
  const char *none_args[] = { "--dbus=none", "--verbose", NULL };
  const char *bad_args[] = { "--dbus=bogus", NULL };
  g_autoptr(RunnerTestServer) session = NULL;
  g_autoptr(RunnerTestServer) automatic = NULL;
  g_autoptr(RunnerTestServer) none = NULL;
  g_autoptr(RunnerTestServer) bad = runner_test_server_new ();
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir (empty_dir, 0700), ==, 0);

  /* --dbus=session with an unreachable bus: serves, says so. */
  session = start_runner_on_bus (f, NULL, session_env);
  wait_log (session, "Not on D-Bus");
  g_assert_cmpuint (runner_test_http_get (session, "/healthz", NULL, NULL), ==, 200);
  runner_test_server_stop (session);

  /* auto with no session bus at all: the same, quietly. */
  automatic = start_runner_on_bus (f, auto_args, auto_env);
  wait_log (automatic, "There is no session bus");
  g_assert_cmpuint (runner_test_http_get (automatic, "/healthz", NULL, NULL), ==, 200);
  runner_test_server_stop (automatic);

  /* none: never on the bus, though one is there. */
  none = start_runner_on_bus (f, none_args, NULL);
  wait_log (none, "D-Bus is turned off");
  g_assert_null (f->owner);
  runner_test_server_stop (none);
  g_assert_null (strstr (none->errors->str, "On D-Bus"));

  /* A wrong value is refused at start. */
  g_assert_false (runner_test_server_start (bad, bad_args, NULL, &error));
  g_clear_error (&error);
  runner_test_wait_or_fail ((RunnerTestCondition) server_exited, bad, TIMEOUT_MS, "runner to fail");
  g_assert_cmpint (g_subprocess_get_exit_status (bad->process), ==, 1);
  g_assert_nonnull (strstr (bad->errors->str, "--dbus must be session, system, none or auto"));
  g_assert_null (f->owner);
}

/* auto finds the session bus at $XDG_RUNTIME_DIR/bus when
 * DBUS_SESSION_BUS_ADDRESS is unset. */
static void
test_auto_runtime_dir (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *runtime = g_build_filename (f->dir, "runtime", NULL);
  g_autofree char *link = g_build_filename (runtime, "bus", NULL);
  g_autofree char *runtime_env = g_strdup_printf ("XDG_RUNTIME_DIR=%s", runtime);
  const char *env[] = { "DBUS_SESSION_BUS_ADDRESS=", runtime_env, NULL };
  const char *args[] = { "--dbus=auto", NULL };
  const char *address = g_test_dbus_get_bus_address (f->bus);
  g_autofree char *path = NULL;
  g_autoptr(RunnerTestServer) server = NULL;
  const char *start;

  /* The test bus listens on a path (unix:path=...,guid=...). */
  start = strstr (address, "unix:path=");
  g_assert_nonnull (start);
  start += strlen ("unix:path=");
  path = g_strndup (start, strcspn (start, ","));
  g_assert_cmpint (g_mkdir (runtime, 0700), ==, 0);
  g_assert_cmpint (symlink (path, link), ==, 0);

  server = start_runner (f, args, env);
  shutdown_runner (f, server);
}

static void
test_system_bus (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *system_env = g_strdup_printf ("DBUS_SYSTEM_BUS_ADDRESS=%s",
                                                 g_test_dbus_get_bus_address (f->bus));
  const char *env[] = { system_env, "DBUS_SESSION_BUS_ADDRESS=", NULL };
  const char *args[] = { "--dbus=system", NULL };
  const char *status_args[] = { "--dbus=system", NULL };
  g_autoptr(RunnerTestServer) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *out = NULL, *err = NULL;

  /* The test bus stands in for the system bus. */
  server = start_runner (f, args, env);

  /* Methods check the caller first (same user here), then run. */
  g_assert_false (runner_dbus_runner1_call_open_terminal_sync (f->proxy, 0, 0, &id, NULL, &error));
  assert_remote_error (error, RUNNER_ERROR_INVALID, "io.github.runner.Runner1.Error.Invalid");
  g_clear_error (&error);

  g_assert_cmpint (run_status (f, status_args, env, &out, &err), ==, 0);
  g_assert_nonnull (strstr (out, "on the system bus"));

  shutdown_runner (f, server);
}

static void
test_status (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(RunnerTestServer) server = start_runner (f, NULL, NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *line = NULL;
  g_autofree char *workspace = real_path (server->workspace);
  g_autoptr(JsonNode) node = NULL;
  const char *json_args[] = { "--json", NULL };
  const char *extra_args[] = { "extra", NULL };
  JsonObject *object;

  g_assert_cmpint (run_status (f, NULL, NULL, &out, &err), ==, 0);
  g_assert_cmpstr (err, ==, "");
  line = g_strdup_printf ("Runner %s on the session bus (%s, pid %u)", PACKAGE_VERSION, f->owner,
                          server_pid (server));
  g_assert_nonnull (strstr (out, line));
  g_clear_pointer (&line, g_free);
  line = g_strdup_printf ("Port:        %u\n", server->port);
  g_assert_nonnull (strstr (out, line));
  g_clear_pointer (&line, g_free);
  line = g_strdup_printf ("Workspace:   %s\n", workspace);
  g_assert_nonnull (strstr (out, line));
  g_assert_nonnull (strstr (out, "Clients:     0\n"));
  g_assert_nonnull (strstr (out, "Terminals:   0\n"));
  g_assert_nonnull (strstr (out, "Uptime:      "));
  g_assert_nonnull (strstr (out, "Sync:        off"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_status (f, json_args, NULL, &out, &err), ==, 0);
  node = json_from_string (out, NULL);
  g_assert_nonnull (node);
  object = json_node_get_object (node);
  g_assert_cmpint (json_object_get_int_member (object, "Port"), ==, server->port);
  g_assert_cmpstr (json_object_get_string_member (object, "Workspace"), ==, workspace);
  g_assert_cmpstr (json_object_get_string_member (object, "Version"), ==, PACKAGE_VERSION);
  g_assert_false (json_object_get_boolean_member (json_object_get_object_member (object, "SyncState"),
                                                  "enabled"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_status (f, extra_args, NULL, &out, &err), ==, 1);
  g_assert_nonnull (strstr (err, "extra"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  shutdown_runner (f, server);

  /* Nothing on the bus: a clear message, status 1, and no Runner started
   * (the bus could activate one from the service file). */
  g_assert_cmpint (run_status (f, NULL, NULL, &out, &err), ==, 1);
  g_assert_cmpstr (out, ==, "");
  g_assert_nonnull (strstr (err, "no Runner is running on the session bus"));
  drain_main_context ();
  g_assert_null (f->owner);
}

static void
add_test (const char *path,
          void (*func) (Fixture *, gconstpointer))
{
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *base = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  /* Nothing from the caller's own buses. */
  g_test_dbus_unset ();
  g_unsetenv ("DBUS_SYSTEM_BUS_ADDRESS");
  /* Remote errors map to RUNNER_ERROR once the domain is registered. */
  (void) runner_error_quark ();

  base = runner_test_make_tmpdir ();
  activated_workspace = g_build_filename (base, "activated-workspace", NULL);
  g_setenv ("WORKSPACE", activated_workspace, TRUE);
  g_setenv ("RUNNER_TOKEN", TOKEN, TRUE);

  add_test ("/runner/dbus/properties", test_properties);
  add_test ("/runner/dbus/clients", test_clients);
  add_test ("/runner/dbus/terminals", test_terminals);
  add_test ("/runner/dbus/sync/unavailable", test_sync_unavailable);
  add_test ("/runner/dbus/shutdown", test_shutdown);
  add_test ("/runner/dbus/activation", test_activation);
  add_test ("/runner/dbus/bus-gone/activated", test_bus_gone_activated);
  add_test ("/runner/dbus/bus-gone/serves-on", test_bus_gone_serves_on);
  add_test ("/runner/dbus/name-taken", test_name_taken);
  add_test ("/runner/dbus/no-bus", test_no_bus);
  add_test ("/runner/dbus/auto-runtime-dir", test_auto_runtime_dir);
  add_test ("/runner/dbus/system-bus", test_system_bus);
  add_test ("/runner/dbus/status", test_status);

  ret = g_test_run ();
  runner_test_rm_rf (base);
  g_free (activated_workspace);
  return ret;
}
