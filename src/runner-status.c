/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-status"

#include "config.h"

#include "runner-status.h"

#include <stdlib.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "runner-dbus-bus.h"

/* `runner status`: a short-lived command, so plain blocking D-Bus calls. */

static gboolean
is_no_owner (const GError *error)
{
  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER);
}

static char *
format_duration (guint64 seconds)
{
  guint64 days = seconds / 86400, hours = seconds / 3600 % 24;
  guint64 minutes = seconds / 60 % 60, secs = seconds % 60;

  if (days > 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "d %" G_GUINT64_FORMAT "h %02" G_GUINT64_FORMAT "m",
                            days, hours, minutes);
  if (hours > 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "h %02" G_GUINT64_FORMAT "m %02" G_GUINT64_FORMAT "s",
                            hours, minutes, secs);
  if (minutes > 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "m %02" G_GUINT64_FORMAT "s", minutes, secs);
  return g_strdup_printf ("%" G_GUINT64_FORMAT "s", secs);
}

static void
print_row (const char *label,
           const char *value)
{
  g_print ("  %-12s %s\n", label, value);
}

static void
print_uint_row (const char *label,
                GVariant   *props,
                const char *key)
{
  guint32 value;
  g_autofree char *text = NULL;

  if (!g_variant_lookup (props, key, "u", &value))
    return;
  text = g_strdup_printf ("%u", value);
  print_row (label, text);
}

static void
print_sync (GVariant *props)
{
  g_autoptr(GVariant) sync = g_variant_lookup_value (props, "SyncState", G_VARIANT_TYPE_VARDICT);
  g_autofree char *summary = NULL;
  const char *state = "unknown", *last_error = "";
  gboolean enabled = FALSE;
  guint32 pending = 0, in_flight = 0;
  guint64 pending_bytes = 0;
  gint64 last_success = 0;

  if (sync == NULL)
    return;

  g_variant_lookup (sync, "enabled", "b", &enabled);
  if (!enabled)
    {
      print_row (_("Sync:"), _("off (S3 is not configured)"));
      return;
    }

  g_variant_lookup (sync, "state", "&s", &state);
  g_variant_lookup (sync, "pending", "u", &pending);
  g_variant_lookup (sync, "pending-bytes", "t", &pending_bytes);
  g_variant_lookup (sync, "in-flight", "u", &in_flight);
  g_variant_lookup (sync, "last-error", "&s", &last_error);
  g_variant_lookup (sync, "last-success", "x", &last_success);

  summary = g_strdup_printf (_("%s, %u pending (%" G_GUINT64_FORMAT " bytes), %u uploading"),
                             state, pending, pending_bytes, in_flight);
  print_row (_("Sync:"), summary);
  if (*last_error != '\0')
    print_row (_("Last error:"), last_error);
  if (last_success > 0)
    {
      g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (last_success);
      g_autofree char *text = when != NULL ? g_date_time_format (when, "%F %T %Z") : NULL;

      if (text != NULL)
        print_row (_("Last synced:"), text);
    }
}

static void
print_readable (GVariant   *props,
                const char *bus,
                const char *owner,
                guint32     pid)
{
  const char *version = "?", *workspace = NULL;
  guint64 uptime;
  g_autofree char *where = NULL;

  g_variant_lookup (props, "Version", "&s", &version);
  if (pid != 0)
    where = g_strdup_printf (_("Runner %s on the %s bus (%s, pid %u)"), version, bus, owner, pid);
  else
    where = g_strdup_printf (_("Runner %s on the %s bus (%s)"), version, bus, owner);
  g_print ("%s\n", where);

  if (g_variant_lookup (props, "Workspace", "&s", &workspace))
    print_row (_("Workspace:"), workspace);
  print_uint_row (_("Port:"), props, "Port");
  print_uint_row (_("App port:"), props, "AppPort");
  print_uint_row (_("Clients:"), props, "Clients");
  print_uint_row (_("Terminals:"), props, "Terminals");
  if (g_variant_lookup (props, "Uptime", "t", &uptime))
    {
      g_autofree char *text = format_duration (uptime);

      print_row (_("Uptime:"), text);
    }
  print_sync (props);
}

static void
print_json (GVariant *props)
{
  g_autoptr(JsonNode) node = json_gvariant_serialize (props);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

static guint32
get_owner_pid (GDBusConnection *connection,
               const char      *owner)
{
  g_autoptr(GVariant) reply = NULL;
  guint32 pid = 0;

  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                                       g_variant_new ("(s)", owner), G_VARIANT_TYPE ("(u)"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(u)", &pid);
  return pid;
}

static char *
get_owner (GDBusConnection  *connection,
           GError          **error)
{
  g_autoptr(GVariant) reply = NULL;
  char *owner = NULL;

  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetNameOwner",
                                       g_variant_new ("(s)", RUNNER_DBUS_NAME),
                                       G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                       error);
  if (reply != NULL)
    g_variant_get (reply, "(s)", &owner);
  return owner;
}

static GVariant *
get_properties (GDBusConnection  *connection,
                const char       *owner,
                GError          **error)
{
  g_autoptr(GVariant) reply = NULL;
  GVariant *props = NULL;

  /* Ask the owner found, not the name: a status must never start a Runner. */
  reply = g_dbus_connection_call_sync (connection, owner, RUNNER_DBUS_PATH,
                                       "org.freedesktop.DBus.Properties", "GetAll",
                                       g_variant_new ("(s)", RUNNER_DBUS_INTERFACE),
                                       G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                       10000, NULL, error);
  if (reply != NULL)
    g_variant_get (reply, "(@a{sv})", &props);
  return props;
}

/**
 * runner_status_main:
 * @config: defaults to load the rest of the command line into
 *
 * `runner status [--json] [--dbus=session|system]`: prints the state of the
 * Runner on the bus (session unless --dbus=system).
 *
 * Returns: the exit status: 0, or 1 when no Runner is on the bus
 */
int
runner_status_main (RunnerConfig  *config,
                    int            argc,
                    char         **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *owner = NULL;
  gboolean json = FALSE;
  RunnerDbusMode mode;
  const char *bus;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the properties as JSON"), NULL },
    { NULL }
  };

  g_return_val_if_fail (config != NULL, EXIT_FAILURE);

  /* Its own option first; the shared ones (--dbus, --env-file) go on to the
   * configuration. */
  context = g_option_context_new (_("— show the state of the Runner on D-Bus"));
  g_option_context_set_summary (context,
                                _("Prints the state of the Runner that owns io.github.runner.Runner."));
  g_option_context_set_description (context,
                                    _("The bus is the session bus unless --dbus=system is given."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_ignore_unknown_options (context, TRUE);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      !runner_config_load (config, &argc, &argv, &error))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return EXIT_FAILURE;
    }
  if (argc > 1)
    {
      g_printerr (_("%s: status takes no argument “%s”\n"), g_get_prgname (), argv[1]);
      return EXIT_FAILURE;
    }

  mode = config->dbus == RUNNER_DBUS_SYSTEM ? RUNNER_DBUS_SYSTEM : RUNNER_DBUS_SESSION;
  bus = mode == RUNNER_DBUS_SYSTEM ? _("system") : _("session");
  connection = runner_dbus_bus_connect_sync (mode, &error);
  if (connection == NULL)
    {
      g_printerr (_("%s: cannot reach the %s bus: %s\n"), g_get_prgname (), bus, error->message);
      return EXIT_FAILURE;
    }

  owner = get_owner (connection, &error);
  if (owner != NULL)
    props = get_properties (connection, owner, &error);
  if (props == NULL)
    {
      if (is_no_owner (error))
        g_printerr (_("%s: no Runner is running on the %s bus (nothing owns %s)\n"),
                    g_get_prgname (), bus, RUNNER_DBUS_NAME);
      else
        g_printerr (_("%s: cannot read the Runner’s state: %s\n"), g_get_prgname (),
                    error->message);
      return EXIT_FAILURE;
    }

  if (json)
    print_json (props);
  else
    print_readable (props, bus, owner, get_owner_pid (connection, owner));
  return EXIT_SUCCESS;
}
