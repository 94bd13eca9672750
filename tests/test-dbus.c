/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <glib/gstdio.h>

#include "runner-daemon.h"
#include "runner-dbus.h"
#include "runner-error.h"
#include "runner-s3.h"
#include "runner-test-util.h"

/* The D-Bus interface of the real runner binary, on a private test bus
 * (GTestDBus) that can also start Runner from a build-tree service file. */

#define TIMEOUT_MS 30000
#define TOKEN      "test-token-0123456789"

/* The activated runner's workspace: the test bus hands its environment
 * (WORKSPACE, RUNNER_TOKEN), set once before any thread, to what it starts. */
static char *activated_workspace;

/* One test bus for the whole run: GTestDBus's watcher kills what it started
 * if this process dies, but a second bus it starts after the first would
 * inherit the watcher's pipe and keep both alive. Tests that take a bus
 * down start a dbus-daemon of their own instead. */
static GTestDBus *test_bus;

typedef struct
{
  char              *address;      /* the bus the test uses */
  GSubprocess       *private_bus;  /* a dbus-daemon of this test's own, or NULL */
  GDataInputStream  *private_out;
  GDBusConnection   *connection;
  guint              watch_id;
  char              *owner;        /* the name's owner now, or NULL */
  char              *dir;          /* owned temp dir */
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
connect_bus (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  f->connection = g_dbus_connection_new_for_address_sync (f->address,
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
disconnect_bus (Fixture *f)
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
  g_clear_pointer (&f->owner, g_free);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->dir = runner_test_make_tmpdir ();
  f->connected = g_ptr_array_new_with_free_func (g_free);
  f->disconnected = g_ptr_array_new_with_free_func (g_free);
  f->sync_completed = g_ptr_array_new_with_free_func (g_free);
  f->address = g_strdup (g_test_dbus_get_bus_address (test_bus));
  connect_bus (f);
}

static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

typedef struct
{
  char     *line;
  gboolean  done;
} LineRead;

static void
line_read_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  LineRead *read = user_data;
  g_autoptr(GError) error = NULL;

  read->line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object), result,
                                                          NULL, &error);
  g_assert_no_error (error);
  read->done = TRUE;
}

static gboolean
line_read_done (gpointer user_data)
{
  return ((LineRead *) user_data)->done;
}

/* Starts @argv (dying with this process) and reads its stdout up to a line
 * that starts with @prefix; returns the rest of that line. */
static char *
spawn_until_line (GSubprocessLauncher  *launcher,
                  const char * const   *argv,
                  const char           *prefix,
                  GSubprocess         **process,
                  GDataInputStream    **out)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  *process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  *out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (*process));

  for (;;)
    {
      LineRead read = { NULL, FALSE };

      g_data_input_stream_read_line_async (*out, G_PRIORITY_DEFAULT, NULL, line_read_cb, &read);
      runner_test_wait_or_fail (line_read_done, &read, TIMEOUT_MS, argv[0]);
      if (read.line == NULL)
        g_error ("%s ended before it printed “%s”", argv[0], prefix);
      if (g_str_has_prefix (read.line, prefix))
        {
          char *rest = g_strdup (read.line + strlen (prefix));

          g_free (read.line);
          return rest;
        }
      g_free (read.line);
    }
}

/* Moves the test onto a dbus-daemon of its own (with the same service
 * directory), which it may take down. */
static void
start_private_bus (Fixture *f)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *services = g_test_build_filename (G_TEST_BUILT, "services", NULL);
  g_autofree char *config_path = g_build_filename (f->dir, "bus.conf", NULL);
  g_autofree char *config_arg = g_strdup_printf ("--config-file=%s", config_path);
  const char *argv[] = { "dbus-daemon", "--nofork", "--print-address=1", config_arg, NULL };
  g_autofree char *config = NULL;

  config = g_strdup_printf ("<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                            " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                            "<busconfig>\n"
                            "  <type>session</type>\n"
                            "  <listen>unix:dir=%s</listen>\n"
                            "  <servicedir>%s</servicedir>\n"
                            "  <auth>EXTERNAL</auth>\n"
                            "  <policy context=\"default\">\n"
                            "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                            "    <allow eavesdrop=\"true\"/>\n"
                            "    <allow own=\"*\"/>\n"
                            "  </policy>\n"
                            "</busconfig>\n", f->dir, services);
  g_file_set_contents (config_path, config, -1, &error);
  g_assert_no_error (error);

  disconnect_bus (f);
  g_clear_pointer (&f->address, g_free);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  f->address = spawn_until_line (launcher, argv, "", &f->private_bus, &f->private_out);
  connect_bus (f);
}

static gboolean
subprocess_gone (gpointer user_data)
{
  return *(gboolean *) user_data;
}

static void
subprocess_exited_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  *(gboolean *) user_data = TRUE;
}

/* SIGTERM, then waits for the exit. */
static void
terminate_and_wait (GSubprocess *process,
                    const char  *what)
{
  gboolean gone = FALSE;

  g_subprocess_wait_async (process, NULL, subprocess_exited_cb, &gone);
  g_subprocess_send_signal (process, SIGTERM);
  runner_test_wait_or_fail (subprocess_gone, &gone, TIMEOUT_MS, what);
}

static void
stop_private_bus (Fixture *f)
{
  if (f->private_bus == NULL)
    return;

  disconnect_bus (f);
  terminate_and_wait (f->private_bus, "the private bus to exit");
  g_clear_object (&f->private_out);
  g_clear_object (&f->private_bus);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_assert_false (f->uptime_announced);
  disconnect_bus (f);
  stop_private_bus (f);
  drain_main_context ();
  runner_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->address);
  g_ptr_array_unref (f->connected);
  g_ptr_array_unref (f->disconnected);
  g_ptr_array_unref (f->sync_completed);
}

/* The proxy and its signals */

/* Clients changes before the signal about it arrives. */
static void
on_client_connected (RunnerDbusRunner1 *proxy,
                     const char        *id,
                     const char        *transport,
                     Fixture           *f)
{
  g_ptr_array_add (f->connected, g_strdup_printf ("%s %s", id, transport));
  g_assert_cmpuint (runner_dbus_runner1_get_clients (proxy), ==,
                    f->connected->len - f->disconnected->len);
}

static void
on_client_disconnected (RunnerDbusRunner1 *proxy,
                        const char        *id,
                        Fixture           *f)
{
  g_ptr_array_add (f->disconnected, g_strdup (id));
  g_assert_cmpuint (runner_dbus_runner1_get_clients (proxy), ==,
                    f->connected->len - f->disconnected->len);
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
connect_proxy_signals (Fixture *f)
{
  g_signal_connect (f->proxy, "client-connected", G_CALLBACK (on_client_connected), f);
  g_signal_connect (f->proxy, "client-disconnected", G_CALLBACK (on_client_disconnected), f);
  g_signal_connect (f->proxy, "sync-completed", G_CALLBACK (on_sync_completed), f);
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
  connect_proxy_signals (f);
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
  g_assert_cmpuint (get_pid (f, f->owner), ==, (guint32) runner_test_server_get_pid (server));
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

typedef struct
{
  Fixture *f;
  guint    n;
} TerminalsWait;

static gboolean
terminals_reached (gpointer user_data)
{
  TerminalsWait *wait = user_data;

  return runner_dbus_runner1_get_terminals (wait->f->proxy) == wait->n;
}

/* Terminals, as PropertiesChanged brings it. */
static void
wait_terminals (Fixture *f,
                guint    n)
{
  TerminalsWait wait = { f, n };

  runner_test_wait_or_fail (terminals_reached, &wait, TIMEOUT_MS, "Terminals to change");
  g_assert_cmpuint (get_uint_property (f, "Terminals"), ==, n);
}

static gboolean
client_has_message (gpointer user_data)
{
  return ((RunnerTestClient *) user_data)->messages.length > 0;
}

/* Attaches to terminal @id over the WebSocket and runs a command in it. */
static void
run_in_terminal (RunnerTestClient *client,
                 const char       *id)
{
  g_autofree char *attach = g_strdup_printf ("{\"id\":\"%s\"}", id);
  g_autofree char *write = g_strdup_printf ("{\"id\":\"%s\",\"data\":\"echo dbus-$((6*7))\\n\"}", id);
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GString) output = g_string_new (NULL);

  reply = runner_test_client_request (client, "terminal:attach", attach);
  runner_test_assert_ok (reply);
  g_clear_pointer (&reply, json_node_unref);
  reply = runner_test_client_request (client, "terminal:write", write);
  runner_test_assert_ok (reply);

  /* The echoed command line has "$((6*7))"; only the shell prints 42. The
   * queue is read here, whole: output comes in any number of events. */
  while (strstr (output->str, "dbus-42") == NULL)
    {
      JsonNode *message;

      runner_test_wait_or_fail (client_has_message, client, TIMEOUT_MS, "the shell's output");
      while ((message = g_queue_pop_head (&client->messages)) != NULL)
        {
          JsonObject *object = json_node_get_object (message);

          if (g_strcmp0 (json_object_get_string_member_with_default (object, "event", NULL),
                         "terminal:data") == 0)
            {
              JsonObject *data = runner_test_data (message);

              g_assert_cmpstr (json_object_get_string_member (data, "id"), ==, id);
              g_string_append (output, json_object_get_string_member (data, "data"));
            }
          json_node_unref (message);
        }
    }
}

static void
test_terminals (Fixture       *f,
                gconstpointer  data)
{
  /* A HOME of its own: the shells read no rc file of the machine's. */
  g_autofree char *home = g_strdup_printf ("HOME=%s", f->dir);
  const char *env[] = { "RUNNER_MAX_TERMINALS=2", home, NULL };
  g_autoptr(RunnerTestServer) server = start_runner (f, NULL, env);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(RunnerTestClient) client = NULL;
  g_autoptr(JsonNode) listing = NULL;
  g_autofree char *id = NULL, *first = NULL, *second = NULL, *text = NULL;
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

  /* Two open; a third is over RUNNER_MAX_TERMINALS and opens nothing. */
  g_assert_true (runner_dbus_runner1_call_open_terminal_sync (f->proxy, 80, 24, &first, NULL,
                                                              &error));
  g_assert_no_error (error);
  g_assert_cmpstr (first, !=, "");
  wait_terminals (f, 1);
  g_assert_true (runner_dbus_runner1_call_open_terminal_sync (f->proxy, 100, 30, &second, NULL,
                                                              &error));
  g_assert_no_error (error);
  g_assert_cmpstr (second, !=, first);
  wait_terminals (f, 2);
  g_assert_false (runner_dbus_runner1_call_open_terminal_sync (f->proxy, 80, 24, &id, NULL, &error));
  assert_remote_error (error, RUNNER_ERROR_LIMIT, "io.github.runner.Runner1.Error.Limit");
  g_clear_error (&error);
  g_assert_cmpuint (get_uint_property (f, "Terminals"), ==, 2);

  /* They are real shells that clients reach by id. */
  client = runner_test_client_new (server);
  listing = runner_test_client_request (client, "terminal:list", NULL);
  runner_test_assert_ok (listing);
  text = json_to_string (listing, FALSE);
  g_assert_nonnull (strstr (text, "\"rows\":30"));
  run_in_terminal (client, second);

  /* Close one; closing it again, or an unknown id, is NotFound. */
  g_assert_true (runner_dbus_runner1_call_close_terminal_sync (f->proxy, first, NULL, &error));
  g_assert_no_error (error);
  wait_terminals (f, 1);
  g_assert_false (runner_dbus_runner1_call_close_terminal_sync (f->proxy, first, NULL, &error));
  assert_remote_error (error, RUNNER_ERROR_NOT_FOUND, "io.github.runner.Runner1.Error.NotFound");
  g_clear_error (&error);
  g_assert_false (runner_dbus_runner1_call_close_terminal_sync (f->proxy, "no-such-terminal", NULL,
                                                                &error));
  assert_remote_error (error, RUNNER_ERROR_NOT_FOUND, "io.github.runner.Runner1.Error.NotFound");
  g_clear_error (&error);
  g_assert_cmpuint (get_uint_property (f, "Terminals"), ==, 1);

  g_assert_true (runner_dbus_runner1_call_close_terminal_sync (f->proxy, second, NULL, &error));
  g_assert_no_error (error);
  wait_terminals (f, 0);

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

/* Sync() against the S3 test server (s3rver behind a SigV4 check, built
 * into the build tree by the s3-test-server target). */

#define S3_BUCKET     "runner"
#define S3_ACCESS_KEY "runner-test"
#define S3_SECRET_KEY "runner-secret"

typedef struct
{
  GSubprocess      *process;
  GDataInputStream *out;
  char             *data_dir;
  guint             port;
} S3Server;

static void
s3_server_start (S3Server   *s3,
                 const char *dir,
                 guint       port)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autofree char *js = g_test_build_filename (G_TEST_BUILT, "s3-server", "server.js", NULL);
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  g_autofree char *listening = NULL;
  const char *argv[] = { "node", js, NULL };

  g_assert_true (g_file_test (js, G_FILE_TEST_EXISTS));
  if (s3->data_dir == NULL)
    s3->data_dir = g_build_filename (dir, "s3", NULL);
  g_assert_cmpint (g_mkdir_with_parents (s3->data_dir, 0700), ==, 0);
  g_subprocess_launcher_setenv (launcher, "S3_PORT", port_text, TRUE);
  g_subprocess_launcher_setenv (launcher, "S3_DIR", s3->data_dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "S3_BUCKETS", S3_BUCKET, TRUE);
  g_subprocess_launcher_setenv (launcher, "S3_ACCESS_KEY", S3_ACCESS_KEY, TRUE);
  g_subprocess_launcher_setenv (launcher, "S3_SECRET_KEY", S3_SECRET_KEY, TRUE);
  listening = spawn_until_line (launcher, argv, "listening ", &s3->process, &s3->out);
  s3->port = (guint) g_ascii_strtoull (listening, NULL, 10);
  g_assert_cmpuint (s3->port, >, 0);
}

static void
s3_server_stop (S3Server *s3)
{
  if (s3->process == NULL)
    return;
  terminate_and_wait (s3->process, "the S3 server to exit");
  g_clear_object (&s3->out);
  g_clear_object (&s3->process);
}

static char *
s3_get_text (S3Server   *s3,
             const char *dir,
             const char *key)
{
  g_autofree char *endpoint = g_strdup_printf ("http://127.0.0.1:%u", s3->port);
  g_autofree char *path = g_build_filename (dir, "download", NULL);
  g_autoptr(RunnerS3) client = NULL;
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  client = runner_s3_new_with_credentials (S3_BUCKET, "us-east-1", endpoint, S3_ACCESS_KEY,
                                           S3_SECRET_KEY, NULL, &error);
  g_assert_no_error (error);
  if (!runner_s3_get_object (client, key, AT_FDCWD, path, NULL, NULL, &error))
    {
      g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_NOT_FOUND);
      return NULL;
    }
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_unlink (path);
  return text;
}

static void
write_over_websocket (RunnerTestClient *client,
                      const char       *path,
                      const char       *content)
{
  g_autofree char *data = g_strdup_printf ("{\"path\":\"%s\",\"content\":\"%s\"}", path, content);
  g_autoptr(JsonNode) reply = runner_test_client_request (client, "updateContent", data);

  runner_test_assert_ok (reply);
}

static const char *
last_sync_completed (Fixture *f)
{
  drain_main_context ();
  g_assert_cmpuint (f->sync_completed->len, >, 0);
  return f->sync_completed->pdata[f->sync_completed->len - 1];
}

static void
test_sync_s3 (Fixture       *f,
              gconstpointer  data)
{
  S3Server s3 = { NULL, };
  g_autoptr(RunnerTestServer) server = NULL;
  g_autoptr(RunnerTestClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autofree char *endpoint = NULL, *state_dir = NULL, *home = NULL, *text = NULL;
  const char *env[9] = { NULL, };
  const char *value = NULL;
  gint64 last_success = 0;
  guint32 pending = 0;
  gboolean enabled = FALSE;

  s3_server_start (&s3, f->dir, 0);
  endpoint = g_strdup_printf ("S3_ENDPOINT=http://127.0.0.1:%u", s3.port);
  state_dir = g_strdup_printf ("RUNNER_STATE_DIR=%s/state", f->dir);
  home = g_strdup_printf ("HOME=%s", f->dir);
  env[0] = "S3_BUCKET=" S3_BUCKET;
  env[1] = "S3_PREFIX=code/dbus/";
  env[2] = endpoint;
  env[3] = state_dir;
  env[4] = "AWS_ACCESS_KEY_ID=" S3_ACCESS_KEY;
  env[5] = "AWS_SECRET_ACCESS_KEY=" S3_SECRET_KEY;
  env[6] = "AWS_REGION=us-east-1";
  env[7] = home;
  server = start_runner (f, NULL, env);

  state = get_property (f, "SyncState");
  g_assert_true (g_variant_lookup (state, "enabled", "b", &enabled));
  g_assert_true (enabled);

  /* A write over the WebSocket, then Sync(): it is in S3 when Sync returns,
   * and SyncCompleted(true) came first. */
  client = runner_test_client_new (server);
  write_over_websocket (client, "/workspace/hello.txt", "hello over D-Bus");
  g_assert_true (runner_dbus_runner1_call_sync_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);
  text = s3_get_text (&s3, f->dir, "code/dbus/hello.txt");
  g_assert_cmpstr (text, ==, "hello over D-Bus");
  g_assert_cmpstr (last_sync_completed (f), ==, "ok ");
  g_clear_pointer (&state, g_variant_unref);
  state = get_property (f, "SyncState");
  g_assert_true (g_variant_lookup (state, "state", "&s", &value));
  g_assert_cmpstr (value, ==, "idle");
  g_assert_true (g_variant_lookup (state, "pending", "u", &pending));
  g_assert_cmpuint (pending, ==, 0);
  g_assert_true (g_variant_lookup (state, "last-success", "x", &last_success));
  g_assert_cmpint (last_success, >, g_get_real_time () / G_USEC_PER_SEC - 600);

  /* S3 gone: Sync() fails with the reason, and says it in SyncCompleted. */
  s3_server_stop (&s3);
  write_over_websocket (client, "/workspace/later.txt", "written while S3 was away");
  g_assert_false (runner_dbus_runner1_call_sync_sync (f->proxy, NULL, &error));
  g_test_message ("Sync() with S3 away: %s", error->message);
  g_assert_true (error->domain == RUNNER_ERROR);
  g_assert_nonnull (strstr (error->message, "not uploaded"));
  g_assert_true (g_str_has_prefix (last_sync_completed (f), "failed "));
  g_assert_nonnull (strstr (last_sync_completed (f), "not uploaded"));
  g_clear_error (&error);
  g_clear_pointer (&state, g_variant_unref);
  state = get_property (f, "SyncState");
  g_assert_true (g_variant_lookup (state, "state", "&s", &value));
  g_assert_cmpstr (value, ==, "error");
  g_assert_true (g_variant_lookup (state, "last-error", "&s", &value));
  g_assert_cmpstr (value, !=, "");
  g_assert_true (g_variant_lookup (state, "pending", "u", &pending));
  g_assert_cmpuint (pending, ==, 1);

  /* Back again: Sync() sends what waited. */
  s3_server_start (&s3, f->dir, s3.port);
  g_assert_true (runner_dbus_runner1_call_sync_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&text, g_free);
  text = s3_get_text (&s3, f->dir, "code/dbus/later.txt");
  g_assert_cmpstr (text, ==, "written while S3 was away");
  g_assert_cmpstr (last_sync_completed (f), ==, "ok ");

  runner_test_server_stop (server);
  s3_server_stop (&s3);
  g_free (s3.data_dir);
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
  guint32 pid;

  start_private_bus (f);
  pid = activate (f);

  /* A runner the bus started leaves with the bus. */
  stop_private_bus (f);
  wait_pid_gone (f, pid);
}

static void
test_bus_gone_serves_on (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(RunnerTestServer) server = NULL;
  g_autofree char *address_env = NULL;
  const char *env[] = { NULL, NULL };

  start_private_bus (f);
  address_env = g_strdup_printf ("DBUS_SESSION_BUS_ADDRESS=%s", f->address);
  env[0] = address_env;
  server = start_runner (f, NULL, env);

  /* One started otherwise serves on without D-Bus. */
  stop_private_bus (f);
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
  g_assert_cmpuint (get_pid (f, f->owner), ==, (guint32) runner_test_server_get_pid (first));

  /* It was queued: the name passes to it when the first leaves. */
  runner_dbus_runner1_call_shutdown_sync (f->proxy, NULL, &error);
  g_assert_no_error (error);
  wait_exit_status (f, first, 0);
  wait_for (f, has_owner, "the name to pass on");
  g_assert_cmpstr (f->owner, !=, first_owner);
  g_assert_cmpuint (get_pid (f, f->owner), ==, (guint32) runner_test_server_get_pid (second));
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
  const char *address = f->address;
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
                                                 f->address);
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
                          (guint32) runner_test_server_get_pid (server));
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

/* In process: RunnerDbus on the parts of a real RunnerDaemon (built, not
 * listening): its hub and terminal manager, and a RunnerSync against the S3 test server. The service and the client share
 * this thread, so every call is async. */

typedef struct
{
  RunnerConfig    *config;
  RunnerDaemon    *daemon;
  RunnerDbus      *dbus;
  GDBusConnection *connection;  /* the service's own */
  guint            n_quit_requested;
} InProcess;

static InProcess *
in_process_new (Fixture *f)
{
  InProcess *p = g_new0 (InProcess, 1);
  g_autofree char *root = g_build_filename (f->dir, "in-process", NULL);
  g_autoptr(GError) error = NULL;

  p->config = runner_config_new_defaults ();
  p->config->port = 0;
  g_free (p->config->token);
  p->config->token = g_strdup (TOKEN);
  g_free (p->config->workspace);
  p->config->workspace = g_strdup (root);
  p->daemon = runner_daemon_new (p->config, &error);
  g_assert_no_error (error);

  p->connection = g_dbus_connection_new_for_address_sync (f->address,
                                                          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                          NULL, NULL, &error);
  g_assert_no_error (error);
  p->dbus = runner_dbus_new (p->config, runner_daemon_get_workspace (p->daemon),
                             runner_daemon_get_hub (p->daemon),
                             runner_daemon_get_terminals (p->daemon), 0);
  g_assert_true (runner_dbus_export (p->dbus, p->connection, &error));
  g_assert_no_error (error);
  wait_for (f, has_owner, "the in-process RunnerDbus to own the name");
  g_assert_cmpstr (f->owner, ==, g_dbus_connection_get_unique_name (p->connection));
  return p;
}

static gboolean
no_terminal_runs (gpointer user_data)
{
  InProcess *p = user_data;

  return runner_terminal_manager_get_n_running (runner_daemon_get_terminals (p->daemon)) == 0;
}

static void
in_process_free (InProcess *p)
{
  runner_dbus_stop (p->dbus);
  g_clear_object (&p->dbus);
  runner_daemon_shutdown (p->daemon);
  runner_test_wait_or_fail (no_terminal_runs, p, TIMEOUT_MS, "the shells to be gone");
  g_clear_object (&p->daemon);
  g_clear_object (&p->connection);
  runner_config_free (p->config);
  g_free (p);
  drain_main_context ();
}

static void
proxy_ready_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Fixture *f = user_data;
  g_autoptr(GError) error = NULL;

  f->proxy = runner_dbus_runner1_proxy_new_finish (result, &error);
  g_assert_no_error (error);
}

static gboolean
has_proxy (Fixture *f)
{
  return f->proxy != NULL;
}

static void
make_proxy_async (Fixture *f)
{
  g_clear_object (&f->proxy);
  runner_dbus_runner1_proxy_new (f->connection, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                 RUNNER_DBUS_NAME, RUNNER_DBUS_PATH, NULL, proxy_ready_cb, f);
  wait_for (f, has_proxy, "the proxy");
  connect_proxy_signals (f);
}

typedef struct
{
  gboolean  done;
  GVariant *reply;
  GError   *error;
} CallResult;

static void
call_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  CallResult *call = user_data;

  call->reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (object), result, &call->error);
  call->done = TRUE;
}

static gboolean
call_done (gpointer user_data)
{
  return ((CallResult *) user_data)->done;
}

/* Calls @method on the proxy without blocking the service. */
static GError *
call_async (Fixture    *f,
            const char *method,
            GVariant   *parameters)
{
  CallResult call = { FALSE, NULL, NULL };

  g_dbus_proxy_call (G_DBUS_PROXY (f->proxy), method, parameters, G_DBUS_CALL_FLAGS_NONE,
                     TIMEOUT_MS, NULL, call_done_cb, &call);
  runner_test_wait_or_fail (call_done, &call, TIMEOUT_MS, method);
  g_clear_pointer (&call.reply, g_variant_unref);
  return call.error;
}

static gboolean
proxy_terminals_is_1 (Fixture *f)
{
  return runner_dbus_runner1_get_terminals (f->proxy) == 1;
}

static gboolean
proxy_terminals_is_2 (Fixture *f)
{
  return runner_dbus_runner1_get_terminals (f->proxy) == 2;
}

static gboolean
proxy_terminals_is_0 (Fixture *f)
{
  return runner_dbus_runner1_get_terminals (f->proxy) == 0;
}

static char *
proxy_sync_value (Fixture    *f,
                  const char *key)
{
  GVariant *state = runner_dbus_runner1_get_sync_state (f->proxy);
  g_autoptr(GVariant) value = state != NULL ? g_variant_lookup_value (state, key, NULL) : NULL;

  return value != NULL ? g_variant_print (value, TRUE) : NULL;
}

static gboolean
proxy_sync_is (Fixture    *f,
               const char *key,
               const char *printed)
{
  g_autofree char *value = proxy_sync_value (f, key);

  return g_strcmp0 (value, printed) == 0;
}

static gboolean
sync_enabled_idle (Fixture *f)
{
  return proxy_sync_is (f, "enabled", "true") && proxy_sync_is (f, "state", "'idle'");
}

/* One upload under way (the S3 client sends one at a time), three files
 * of 100 bytes waiting. */
static gboolean
sync_busy (Fixture *f)
{
  return proxy_sync_is (f, "state", "'syncing'") && proxy_sync_is (f, "pending", "uint32 3") &&
         proxy_sync_is (f, "pending-bytes", "uint64 300") && proxy_sync_is (f, "in-flight", "uint32 1");
}

static gboolean
sync_completed_1 (Fixture *f)
{
  return f->sync_completed->len == 1;
}

static gboolean
sync_completed_2 (Fixture *f)
{
  return f->sync_completed->len == 2;
}

static gboolean
sync_disabled (Fixture *f)
{
  return proxy_sync_is (f, "enabled", "false") && proxy_sync_is (f, "state", "'disabled'");
}

/* SyncCompleted comes after the state it reports. */
static void
on_sync_completed_check_state (RunnerDbusRunner1 *proxy,
                               gboolean           ok,
                               const char        *error,
                               Fixture           *f)
{
  g_autofree char *last_error = g_strdup_printf ("'%s'", error);

  g_assert_true (proxy_sync_is (f, "state", ok ? "'idle'" : "'error'"));
  g_assert_true (proxy_sync_is (f, "last-error", last_error));
}

static void
on_quit_requested (RunnerDbus *dbus,
                   InProcess  *p)
{
  p->n_quit_requested++;
}

/* A gate in front of the S3 test server: connections wait at it until it
 * opens, then go through to the server's port. */
typedef struct
{
  GSocketService *service;
  guint16         port;
  guint           target_port;
  gboolean        open;
  GPtrArray      *held;  /* of GSocketConnection */
} S3Gate;

static void
gate_relay (S3Gate            *gate,
            GSocketConnection *connection)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) upstream = NULL;

  /* Nothing there (the server was stopped): the S3 client sees the
   * connection close. */
  upstream = g_socket_client_connect_to_host (client, "127.0.0.1", gate->target_port, NULL, NULL);
  if (upstream == NULL)
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return;
    }
  /* Either side closing closes both: a kept-alive connection goes with the
   * server. */
  g_io_stream_splice_async (G_IO_STREAM (connection), G_IO_STREAM (upstream),
                            G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2,
                            G_PRIORITY_DEFAULT, NULL, NULL, NULL);
}

static gboolean
on_gate_incoming (GSocketService    *service,
                  GSocketConnection *connection,
                  GObject           *source,
                  S3Gate            *gate)
{
  if (gate->open)
    gate_relay (gate, connection);
  else
    g_ptr_array_add (gate->held, g_object_ref (connection));
  return TRUE;
}

static void
gate_start (S3Gate *gate,
            guint   target_port)
{
  g_autoptr(GError) error = NULL;

  gate->service = g_socket_service_new ();
  gate->port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (gate->service), NULL, &error);
  g_assert_no_error (error);
  gate->target_port = target_port;
  gate->held = g_ptr_array_new_with_free_func (g_object_unref);
  g_signal_connect (gate->service, "incoming", G_CALLBACK (on_gate_incoming), gate);
}

static void
gate_open (S3Gate *gate)
{
  gate->open = TRUE;
  for (guint i = 0; i < gate->held->len; i++)
    gate_relay (gate, g_ptr_array_index (gate->held, i));
  g_ptr_array_set_size (gate->held, 0);
}

static void
gate_stop (S3Gate *gate)
{
  g_socket_service_stop (gate->service);
  g_socket_listener_close (G_SOCKET_LISTENER (gate->service));
  g_clear_object (&gate->service);
  g_clear_pointer (&gate->held, g_ptr_array_unref);
}

static gboolean
gate_holds_one (gpointer user_data)
{
  return ((S3Gate *) user_data)->held->len == 1;
}

/* Opens a terminal over D-Bus and returns its id. */
static char *
open_terminal_async (Fixture *f)
{
  CallResult call = { FALSE, NULL, NULL };
  g_autoptr(GVariant) reply = NULL;
  char *id = NULL;

  g_dbus_proxy_call (G_DBUS_PROXY (f->proxy), "OpenTerminal", g_variant_new ("(uu)", 80, 24),
                     G_DBUS_CALL_FLAGS_NONE, TIMEOUT_MS, NULL, call_done_cb, &call);
  runner_test_wait_or_fail (call_done, &call, TIMEOUT_MS, "OpenTerminal");
  g_assert_no_error (call.error);
  reply = g_steal_pointer (&call.reply);
  g_variant_get (reply, "(s)", &id);
  return id;
}

static void
test_in_process_terminals (Fixture       *f,
                           gconstpointer  data)
{
  InProcess *p = in_process_new (f);
  RunnerTerminalManager *terminals = runner_daemon_get_terminals (p->daemon);
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *third = NULL;

  make_proxy_async (f);
  g_assert_cmpuint (runner_dbus_runner1_get_terminals (f->proxy), ==, 0);

  /* No manager: Unavailable, after the size check. */
  runner_dbus_set_terminals (p->dbus, NULL);
  error = call_async (f, "OpenTerminal", g_variant_new ("(uu)", 0, 24));
  assert_remote_error (error, RUNNER_ERROR_INVALID, "io.github.runner.Runner1.Error.Invalid");
  g_clear_error (&error);
  error = call_async (f, "OpenTerminal", g_variant_new ("(uu)", 80, 24));
  assert_remote_error (error, RUNNER_ERROR_UNAVAILABLE, "io.github.runner.Runner1.Error.Unavailable");
  g_clear_error (&error);
  g_assert_cmpuint (runner_terminal_manager_get_n_terminals (terminals), ==, 0);

  /* Terminals follows the manager, whoever opens them. */
  runner_dbus_set_terminals (p->dbus, terminals);
  first = open_terminal_async (f);
  wait_for (f, proxy_terminals_is_1, "Terminals to be 1");
  second = runner_terminal_manager_open (terminals, 80, 24, &error);
  g_assert_no_error (error);
  wait_for (f, proxy_terminals_is_2, "Terminals to be 2");
  g_assert_true (runner_terminal_manager_close (terminals, first, &error));
  g_assert_no_error (error);
  g_assert_true (runner_terminal_manager_close (terminals, second, &error));
  g_assert_no_error (error);
  wait_for (f, proxy_terminals_is_0, "Terminals to be 0");
  g_clear_pointer (&first, g_free);
  g_clear_pointer (&second, g_free);
  first = runner_terminal_manager_open (terminals, 80, 24, &error);
  g_assert_no_error (error);
  second = open_terminal_async (f);
  wait_for (f, proxy_terminals_is_2, "Terminals to be 2 again");
  runner_dbus_set_terminals (p->dbus, NULL);
  wait_for (f, proxy_terminals_is_0, "Terminals to be 0 without a manager");
  /* Let go of it: a change no longer shows (the round trip after it
   * would bring a PropertiesChanged first). */
  third = runner_terminal_manager_open (terminals, 80, 24, &error);
  g_assert_no_error (error);
  error = call_async (f, "OpenTerminal", g_variant_new ("(uu)", 0, 0));
  g_assert_nonnull (error);
  g_clear_error (&error);
  drain_main_context ();
  g_assert_cmpuint (runner_terminal_manager_get_n_terminals (terminals), ==, 3);
  g_assert_cmpuint (runner_dbus_runner1_get_terminals (f->proxy), ==, 0);
  g_assert_cmpuint (runner_dbus_runner1_get_terminals (RUNNER_DBUS_RUNNER1 (p->dbus)), ==, 0);

  in_process_free (p);
}

static char *
write_in_process (InProcess  *p,
                  const char *name,
                  gsize       size)
{
  RunnerWorkspace *workspace = runner_daemon_get_workspace (p->daemon);
  g_autofree char *path = g_build_filename (runner_workspace_get_root (workspace), name, NULL);
  g_autofree char *content = g_strnfill (size, 'x');
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, content, size, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

static void
test_in_process_sync (Fixture       *f,
                      gconstpointer  data)
{
  InProcess *p = in_process_new (f);
  S3Server s3 = { NULL, };
  S3Gate gate = { NULL, };
  g_autoptr(RunnerS3) client = NULL;
  g_autoptr(RunnerSync) sync = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *endpoint = NULL;
  g_autofree char *state_dir = g_build_filename (f->dir, "in-process-state", NULL);
  g_autofree char *last_success = NULL;
  g_autofree char *want = NULL;
  const char *names[] = { "a.txt", "b.txt", "c.txt" };

  s3_server_start (&s3, f->dir, 0);
  gate_start (&gate, s3.port);
  endpoint = g_strdup_printf ("http://127.0.0.1:%u", gate.port);
  client = runner_s3_new_with_credentials (S3_BUCKET, "us-east-1", endpoint, S3_ACCESS_KEY,
                                           S3_SECRET_KEY, NULL, &error);
  g_assert_no_error (error);
  runner_s3_set_parallel (client, 1);
  sync = runner_sync_new_with_s3 (client,
                                  runner_workspace_get_root (runner_daemon_get_workspace (p->daemon)),
                                  "code/in-process/", state_dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (runner_sync_start (sync, &error));
  g_assert_no_error (error);

  make_proxy_async (f);
  g_signal_connect (f->proxy, "sync-completed", G_CALLBACK (on_sync_completed_check_state), f);
  g_assert_true (sync_disabled (f));

  runner_dbus_set_sync (p->dbus, sync);
  wait_for (f, sync_enabled_idle, "SyncState enabled and idle");

  /* Uploads pending, the first one held up at the gate: the state shows
   * them, nothing is completed. */
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = write_in_process (p, names[i], 100);

      runner_sync_queue (sync, RUNNER_WORKSPACE_CHANGE_WRITTEN, path, NULL);
    }
  wait_for (f, sync_busy, "SyncState to show 3 pending");
  runner_test_wait_or_fail (gate_holds_one, &gate, TIMEOUT_MS, "the upload at the gate");
  g_assert_cmpuint (f->sync_completed->len, ==, 0);

  /* The queue empties: SyncCompleted(true, ""), after the state. */
  gate_open (&gate);
  wait_for (f, sync_completed_1, "SyncCompleted");
  g_assert_cmpstr (f->sync_completed->pdata[0], ==, "ok ");
  last_success = proxy_sync_value (f, "last-success");
  want = g_strdup_printf ("int64 %" G_GINT64_FORMAT,
                          runner_sync_get_last_success (sync) / G_USEC_PER_SEC);
  g_assert_cmpstr (last_success, ==, want);
  g_clear_pointer (&want, g_free);

  /* An upload fails: SyncCompleted(false, reason). */
  s3_server_stop (&s3);
  {
    g_autofree char *path = write_in_process (p, "d.txt", 10);

    runner_sync_queue (sync, RUNNER_WORKSPACE_CHANGE_WRITTEN, path, NULL);
  }
  wait_for (f, sync_completed_2, "SyncCompleted after a failure");
  g_assert_nonnull (runner_sync_get_last_error (sync));
  want = g_strdup_printf ("failed %s", runner_sync_get_last_error (sync));
  g_assert_cmpstr (f->sync_completed->pdata[1], ==, want);

  /* Back again: Sync() sends what waited. */
  s3_server_start (&s3, f->dir, s3.port);
  error = call_async (f, "Sync", NULL);
  g_assert_no_error (error);
  g_assert_cmpstr (last_sync_completed (f), ==, "ok ");
  g_assert_cmpuint (runner_sync_get_pending (sync), ==, 0);

  runner_dbus_set_sync (p->dbus, NULL);
  wait_for (f, sync_disabled, "SyncState disabled");

  runner_sync_stop (sync);
  in_process_free (p);
  gate_stop (&gate);
  s3_server_stop (&s3);
  g_free (s3.data_dir);
}

static void
test_in_process_shutdown (Fixture       *f,
                          gconstpointer  data)
{
  InProcess *p = in_process_new (f);
  g_autoptr(GError) error = NULL;

  make_proxy_async (f);

  /* Nobody to stop: refused. */
  error = call_async (f, "Shutdown", NULL);
  assert_remote_error (error, RUNNER_ERROR_UNAVAILABLE, "io.github.runner.Runner1.Error.Unavailable");
  g_clear_error (&error);

  g_signal_connect (p->dbus, "quit-requested", G_CALLBACK (on_quit_requested), p);
  error = call_async (f, "Shutdown", NULL);
  g_assert_no_error (error);
  g_assert_cmpuint (p->n_quit_requested, ==, 1);

  /* Stopping gives the name back. */
  runner_dbus_stop (p->dbus);
  g_assert_null (runner_dbus_get_connection (p->dbus));
  wait_for (f, has_no_owner, "the name to go after runner_dbus_stop()");

  in_process_free (p);
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
  g_autofree char *services = NULL;
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

  services = g_test_build_filename (G_TEST_BUILT, "services", NULL);
  test_bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_add_service_dir (test_bus, services);
  g_test_dbus_up (test_bus);

  add_test ("/runner/dbus/properties", test_properties);
  add_test ("/runner/dbus/clients", test_clients);
  add_test ("/runner/dbus/terminals", test_terminals);
  add_test ("/runner/dbus/sync/unavailable", test_sync_unavailable);
  add_test ("/runner/dbus/sync/s3", test_sync_s3);
  add_test ("/runner/dbus/shutdown", test_shutdown);
  add_test ("/runner/dbus/activation", test_activation);
  add_test ("/runner/dbus/bus-gone/activated", test_bus_gone_activated);
  add_test ("/runner/dbus/bus-gone/serves-on", test_bus_gone_serves_on);
  add_test ("/runner/dbus/name-taken", test_name_taken);
  add_test ("/runner/dbus/no-bus", test_no_bus);
  add_test ("/runner/dbus/auto-runtime-dir", test_auto_runtime_dir);
  add_test ("/runner/dbus/system-bus", test_system_bus);
  add_test ("/runner/dbus/status", test_status);
  add_test ("/runner/dbus/in-process/terminals", test_in_process_terminals);
  add_test ("/runner/dbus/in-process/sync", test_in_process_sync);
  add_test ("/runner/dbus/in-process/shutdown", test_in_process_shutdown);

  ret = g_test_run ();
  g_test_dbus_down (test_bus);
  g_clear_object (&test_bus);
  runner_test_rm_rf (base);
  g_free (activated_workspace);
  return ret;
}
