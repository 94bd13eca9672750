/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-dbus"

#include "config.h"

#include "runner-dbus-private.h"

#include <sys/stat.h>
#include <unistd.h>
#include <glib/gi18n.h>

#include "runner-client.h"
#include "runner-error.h"
#include "runner-sync.h"
#include "runner-terminal-manager.h"
#include "runner-workspace.h"

/* How long Sync() waits for the upload queue: under the 25 s a D-Bus caller
 * waits by default. */
#define SYNC_TIMEOUT_MS RUNNER_SYNC_DEFAULT_FLUSH_TIMEOUT_MS
/* SyncState is rebuilt at most this often, however busy the queue is. */
#define SYNC_STATE_DELAY_MS 250

/* RunnerSyncState, read through the "state" property (of stand-ins too). */
enum
{
  SYNC_STATE_IDLE = RUNNER_SYNC_STATE_IDLE,
  SYNC_STATE_SYNCING = RUNNER_SYNC_STATE_SYNCING,
  SYNC_STATE_ERROR = RUNNER_SYNC_STATE_ERROR,
};

/**
 * RunnerDbus:
 *
 * The io.github.runner.Runner1 skeleton bound to a running server: its
 * properties follow the server's state, its methods act on it. The terminals
 * are the server's; the S3 sync is optional and set later. Without them the
 * methods that need them fail with %RUNNER_ERROR_UNAVAILABLE.
 */
struct _RunnerDbus
{
  RunnerDbusRunner1Skeleton parent_instance;

  RunnerServer    *server;       /* owned */
  GObject         *terminals;    /* owned, nullable: RunnerTerminalManager */
  GObject         *sync;         /* owned, nullable */
  GDBusConnection *connection;   /* owned, nullable: exported there */
  GCancellable    *cancellable;  /* owned: connecting, caller checks, Sync() */
  guint            owner_id;
  guint            sync_state_source;
  guint            sync_state;   /* the last state seen, for SyncCompleted */
  guint            n_sync_calls;
  gboolean         activated;    /* started by the bus: leaves with it */
  gboolean         check_callers;
  gboolean         name_owned;
};

static void runner_dbus_iface_init (RunnerDbusRunner1Iface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RunnerDbus, runner_dbus, RUNNER_DBUS_TYPE_RUNNER1_SKELETON,
                               G_IMPLEMENT_INTERFACE (RUNNER_DBUS_TYPE_RUNNER1, runner_dbus_iface_init))

enum {
  PROP_0,
  PROP_UPTIME,
};

enum {
  QUIT_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void on_connection_closed (GDBusConnection *connection,
                                  gboolean         remote_peer_vanished,
                                  GError          *error,
                                  RunnerDbus      *self);

/* State */

static guint64
get_number (GObject    *object,
            const char *name)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (object), name);
  g_auto(GValue) value = G_VALUE_INIT;
  g_auto(GValue) number = G_VALUE_INIT;

  if (pspec == NULL)
    return 0;
  g_value_init (&value, pspec->value_type);
  g_object_get_property (object, name, &value);
  g_value_init (&number, G_TYPE_UINT64);
  if (!g_value_transform (&value, &number))
    return 0;
  return g_value_get_uint64 (&number);
}

static char *
get_string (GObject    *object,
            const char *name)
{
  char *ret = NULL;

  if (g_object_class_find_property (G_OBJECT_GET_CLASS (object), name) != NULL)
    g_object_get (object, name, &ret, NULL);
  return ret;
}

static const char *
sync_state_name (guint state)
{
  switch (state)
    {
    case SYNC_STATE_SYNCING: return "syncing";
    case SYNC_STATE_ERROR: return "error";
    case SYNC_STATE_IDLE:
    default:
      return "idle";
    }
}

static GVariant *
build_sync_state (RunnerDbus *self)
{
  g_autofree char *last_error = NULL;
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  if (self->sync == NULL)
    {
      g_variant_dict_insert (&dict, "enabled", "b", FALSE);
      g_variant_dict_insert (&dict, "state", "s", "disabled");
      g_variant_dict_insert (&dict, "pending", "u", 0);
      g_variant_dict_insert (&dict, "pending-bytes", "t", (guint64) 0);
      g_variant_dict_insert (&dict, "in-flight", "u", 0);
      g_variant_dict_insert (&dict, "last-error", "s", "");
      g_variant_dict_insert (&dict, "last-success", "x", (gint64) 0);
      return g_variant_dict_end (&dict);
    }

  last_error = get_string (self->sync, "last-error");
  g_variant_dict_insert (&dict, "enabled", "b", TRUE);
  g_variant_dict_insert (&dict, "state", "s", sync_state_name (get_number (self->sync, "state")));
  g_variant_dict_insert (&dict, "pending", "u", (guint32) get_number (self->sync, "pending"));
  g_variant_dict_insert (&dict, "pending-bytes", "t", get_number (self->sync, "pending-bytes"));
  g_variant_dict_insert (&dict, "in-flight", "u", (guint32) get_number (self->sync, "in-flight"));
  g_variant_dict_insert (&dict, "last-error", "s", last_error != NULL ? last_error : "");
  /* RunnerSync keeps microseconds. */
  g_variant_dict_insert (&dict, "last-success", "x",
                         (gint64) get_number (self->sync, "last-success") / G_USEC_PER_SEC);
  return g_variant_dict_end (&dict);
}

static void
update_sync_state (RunnerDbus *self)
{
  /* The skeleton compares values: an unchanged state emits nothing. */
  runner_dbus_runner1_set_sync_state (RUNNER_DBUS_RUNNER1 (self), build_sync_state (self));
}

static gboolean
update_sync_state_cb (gpointer user_data)
{
  RunnerDbus *self = user_data;

  self->sync_state_source = 0;
  update_sync_state (self);
  return G_SOURCE_REMOVE;
}

/* Sends the pending PropertiesChanged now rather than from an idle, so that
 * a signal sent next comes after the state it is about. */
static void
flush_properties (RunnerDbus *self)
{
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (self));
}

static void
emit_sync_completed (RunnerDbus *self,
                     gboolean    ok,
                     const char *error)
{
  g_clear_handle_id (&self->sync_state_source, g_source_remove);
  update_sync_state (self);
  flush_properties (self);
  runner_dbus_runner1_emit_sync_completed (RUNNER_DBUS_RUNNER1 (self), ok, error ? error : "");
}

static void
on_sync_notify (GObject    *sync,
                GParamSpec *pspec,
                RunnerDbus *self)
{
  guint state;

  if (!g_str_equal (pspec->name, "state"))
    {
      if (self->sync_state_source == 0)
        self->sync_state_source = g_timeout_add (SYNC_STATE_DELAY_MS, update_sync_state_cb, self);
      return;
    }

  state = get_number (sync, "state");
  if (state == self->sync_state)
    return;
  self->sync_state = state;

  /* A running Sync() call reports for itself. */
  if (self->n_sync_calls > 0)
    return;
  if (state == SYNC_STATE_IDLE)
    emit_sync_completed (self, TRUE, NULL);
  else if (state == SYNC_STATE_ERROR)
    {
      g_autofree char *error = get_string (sync, "last-error");

      emit_sync_completed (self, FALSE, error);
    }
  else
    update_sync_state (self);
}

static void
on_n_clients (RunnerServer *server,
              GParamSpec   *pspec,
              RunnerDbus   *self)
{
  runner_dbus_runner1_set_clients (RUNNER_DBUS_RUNNER1 (self), runner_server_get_n_clients (server));
}

/* The server counts a client before it announces it: Clients changes on
 * the bus first, then the signal comes. */
static void
on_client_added (RunnerServer *server,
                 RunnerClient *client,
                 RunnerDbus   *self)
{
  const char *transport = runner_client_get_transport (client);

  on_n_clients (server, NULL, self);
  flush_properties (self);
  runner_dbus_runner1_emit_client_connected (RUNNER_DBUS_RUNNER1 (self),
                                             runner_client_get_id (client),
                                             transport != NULL ? transport : "");
}

static void
on_client_removed (RunnerServer *server,
                   RunnerClient *client,
                   RunnerDbus   *self)
{
  on_n_clients (server, NULL, self);
  flush_properties (self);
  runner_dbus_runner1_emit_client_disconnected (RUNNER_DBUS_RUNNER1 (self),
                                                runner_client_get_id (client));
}

static void
on_n_terminals (GObject    *terminals,
                GParamSpec *pspec,
                RunnerDbus *self)
{
  runner_dbus_runner1_set_terminals (RUNNER_DBUS_RUNNER1 (self),
                                     (guint) get_number (terminals, "n-terminals"));
}

/* Methods */

typedef void (*RunnerDbusMethod) (RunnerDbus            *self,
                                  GDBusMethodInvocation *invocation);

typedef struct
{
  RunnerDbus            *self;        /* owned */
  GDBusMethodInvocation *invocation;  /* answered by method or here */
  RunnerDbusMethod       method;
} CallerCheck;

static void
caller_checked_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  CallerCheck *check = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  guint32 uid = G_MAXUINT32;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply != NULL)
    g_variant_get (reply, "(u)", &uid);

  if (reply != NULL && (uid == getuid () || uid == 0))
    check->method (check->self, check->invocation);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_dbus_method_invocation_return_error_literal (check->invocation, RUNNER_ERROR,
                                                   RUNNER_ERROR_UNAVAILABLE,
                                                   _("Runner is shutting down"));
  else
    {
      g_debug ("Refusing %s from %s (uid %u): %s",
               g_dbus_method_invocation_get_method_name (check->invocation),
               g_dbus_method_invocation_get_sender (check->invocation), uid,
               error != NULL ? error->message : "another user");
      g_dbus_method_invocation_return_error (check->invocation, RUNNER_ERROR,
                                             RUNNER_ERROR_FORBIDDEN,
                                             _("Only user %u may control this Runner"),
                                             (guint) getuid ());
    }

  g_object_unref (check->self);
  g_free (check);
}

/* Runs @method for the caller, once it is known to be allowed: on the
 * session bus every caller is the user; on the system bus, only the same
 * user or root may act. */
static gboolean
dispatch (RunnerDbus            *self,
          GDBusMethodInvocation *invocation,
          RunnerDbusMethod       method)
{
  CallerCheck *check;

  if (!self->check_callers)
    {
      method (self, invocation);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  check = g_new0 (CallerCheck, 1);
  check->self = g_object_ref (self);
  check->invocation = invocation;
  check->method = method;
  g_dbus_connection_call (g_dbus_method_invocation_get_connection (invocation),
                          "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionUnixUser",
                          g_variant_new ("(s)", g_dbus_method_invocation_get_sender (invocation)),
                          G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1,
                          self->cancellable, caller_checked_cb, check);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Every error goes out as one of io.github.runner.Runner1.Error.*, with the
 * message (the reason) kept. */
static void
return_error (GDBusMethodInvocation *invocation,
              const GError          *error)
{
  g_debug ("%s failed: %s", g_dbus_method_invocation_get_method_name (invocation), error->message);
  g_dbus_method_invocation_return_dbus_error (invocation, runner_error_to_dbus_name (error),
                                              error->message);
}

typedef struct
{
  RunnerDbus            *self;        /* owned */
  GDBusMethodInvocation *invocation;  /* answered here */
} SyncCall;

static void
flush_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  SyncCall *call = user_data;
  RunnerDbus *self = call->self;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = runner_sync_flush_finish (RUNNER_SYNC (object), result, &error);
  self->n_sync_calls--;
  /* What the call reports, the state transitions need not report again. */
  if (self->sync == object)
    self->sync_state = get_number (object, "state");

  /* Why the changes did not go: the failure of the last attempt. */
  if (!ok)
    {
      g_autofree char *last_error = get_string (object, "last-error");

      if (last_error != NULL && *last_error != '\0')
        g_prefix_error (&error, "%s: ", last_error);
    }

  /* The signal before the reply: a caller has both when the reply comes. */
  emit_sync_completed (self, ok, ok ? NULL : error->message);
  if (ok)
    runner_dbus_runner1_complete_sync (RUNNER_DBUS_RUNNER1 (self), call->invocation);
  else
    return_error (call->invocation, error);

  g_object_unref (call->self);
  g_free (call);
}

static void
do_sync (RunnerDbus            *self,
         GDBusMethodInvocation *invocation)
{
  g_autoptr(GError) error = NULL;
  SyncCall *call;

  if (self->sync == NULL)
    {
      g_set_error_literal (&error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE,
                           _("S3 sync is not configured (S3_BUCKET is not set)"));
      return_error (invocation, error);
      return;
    }
  if (!RUNNER_IS_SYNC (self->sync))
    {
      g_set_error_literal (&error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE,
                           _("This Runner cannot flush its uploads"));
      return_error (invocation, error);
      return;
    }

  call = g_new0 (SyncCall, 1);
  call->self = g_object_ref (self);
  call->invocation = invocation;
  self->n_sync_calls++;
  runner_sync_flush_async (RUNNER_SYNC (self->sync), SYNC_TIMEOUT_MS, self->cancellable,
                           flush_cb, call);
}

/* The terminal manager, or %NULL having answered Unavailable. */
static RunnerTerminalManager *
get_terminals (RunnerDbus            *self,
               GDBusMethodInvocation *invocation)
{
  g_autoptr(GError) error = NULL;

  if (RUNNER_IS_TERMINAL_MANAGER (self->terminals))
    return RUNNER_TERMINAL_MANAGER (self->terminals);
  g_set_error_literal (&error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE,
                       _("This Runner has no terminals"));
  return_error (invocation, error);
  return NULL;
}

static void
do_open_terminal (RunnerDbus            *self,
                  GDBusMethodInvocation *invocation)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  RunnerTerminalManager *terminals;
  guint cols, rows;

  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(uu)", &cols, &rows);
  if (cols < RUNNER_TERMINAL_MIN_SIZE || rows < RUNNER_TERMINAL_MIN_SIZE ||
      cols > RUNNER_TERMINAL_MAX_SIZE || rows > RUNNER_TERMINAL_MAX_SIZE)
    {
      g_set_error (&error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("A terminal of %u×%u is out of range (%u to %u each way)"),
                   cols, rows, RUNNER_TERMINAL_MIN_SIZE, RUNNER_TERMINAL_MAX_SIZE);
      return_error (invocation, error);
      return;
    }

  if ((terminals = get_terminals (self, invocation)) == NULL)
    return;

  id = runner_terminal_manager_open (terminals, cols, rows, &error);
  if (id == NULL)
    {
      return_error (invocation, error);
      return;
    }
  g_debug ("Opened terminal %s (%u×%u) for %s", id, cols, rows,
           g_dbus_method_invocation_get_sender (invocation));
  runner_dbus_runner1_complete_open_terminal (RUNNER_DBUS_RUNNER1 (self), invocation, id);
}

static void
do_close_terminal (RunnerDbus            *self,
                   GDBusMethodInvocation *invocation)
{
  g_autoptr(GError) error = NULL;
  RunnerTerminalManager *terminals;
  const char *id;

  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&s)", &id);
  if ((terminals = get_terminals (self, invocation)) == NULL)
    return;

  if (!runner_terminal_manager_close (terminals, id, &error))
    {
      return_error (invocation, error);
      return;
    }
  runner_dbus_runner1_complete_close_terminal (RUNNER_DBUS_RUNNER1 (self), invocation);
}

static void
do_shutdown (RunnerDbus            *self,
             GDBusMethodInvocation *invocation)
{
  if (!g_signal_has_handler_pending (self, signals[QUIT_REQUESTED], 0, FALSE))
    {
      g_dbus_method_invocation_return_error_literal (invocation, RUNNER_ERROR,
                                                     RUNNER_ERROR_UNAVAILABLE,
                                                     _("This Runner cannot be stopped over D-Bus"));
      return;
    }

  g_message ("Shutdown requested over D-Bus by %s", g_dbus_method_invocation_get_sender (invocation));
  /* The reply goes first; runner_dbus_stop() flushes it out. */
  runner_dbus_runner1_complete_shutdown (RUNNER_DBUS_RUNNER1 (self), invocation);
  g_signal_emit (self, signals[QUIT_REQUESTED], 0);
}

static gboolean
handle_sync (RunnerDbusRunner1     *object,
             GDBusMethodInvocation *invocation)
{
  return dispatch (RUNNER_DBUS (object), invocation, do_sync);
}

static gboolean
handle_open_terminal (RunnerDbusRunner1     *object,
                      GDBusMethodInvocation *invocation,
                      guint                  cols,
                      guint                  rows)
{
  return dispatch (RUNNER_DBUS (object), invocation, do_open_terminal);
}

static gboolean
handle_close_terminal (RunnerDbusRunner1     *object,
                       GDBusMethodInvocation *invocation,
                       const char            *id)
{
  return dispatch (RUNNER_DBUS (object), invocation, do_close_terminal);
}

static gboolean
handle_shutdown (RunnerDbusRunner1     *object,
                 GDBusMethodInvocation *invocation)
{
  return dispatch (RUNNER_DBUS (object), invocation, do_shutdown);
}

static void
runner_dbus_iface_init (RunnerDbusRunner1Iface *iface)
{
  iface->handle_sync = handle_sync;
  iface->handle_open_terminal = handle_open_terminal;
  iface->handle_close_terminal = handle_close_terminal;
  iface->handle_shutdown = handle_shutdown;
}

/* The bus */

static const char *
bus_type_name (GBusType bus_type)
{
  return bus_type == G_BUS_TYPE_SYSTEM ? "system" : "session";
}

/**
 * runner_dbus_get_bus_address:
 * @mode: what --dbus asked for
 * @bus_type: (out) (optional): the bus the address is of
 * @activated: (out) (optional): whether this bus started Runner
 *
 * Finds the bus @mode means without connecting and without ever starting
 * one (no autolaunch): the bus that started Runner if it is of the kind
 * asked for, else $DBUS_SESSION_BUS_ADDRESS or $XDG_RUNTIME_DIR/bus for the
 * session bus (and for auto), or the system bus's well-known address.
 *
 * Returns: (transfer full) (nullable): a D-Bus address, or %NULL with
 *   %RUNNER_ERROR_UNAVAILABLE when there is no such bus (or @mode is none)
 */
char *
runner_dbus_get_bus_address (RunnerDbusMode   mode,
                             GBusType        *bus_type,
                             gboolean        *activated,
                             GError         **error)
{
  GBusType type = mode == RUNNER_DBUS_SYSTEM ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION;
  const char *starter = g_getenv ("DBUS_STARTER_ADDRESS");
  const char *starter_type = g_getenv ("DBUS_STARTER_BUS_TYPE");
  const char *address = g_getenv ("DBUS_SESSION_BUS_ADDRESS");
  const char *runtime_dir = g_getenv ("XDG_RUNTIME_DIR");
  g_autofree char *socket = NULL;
  struct stat st;

  if (bus_type != NULL)
    *bus_type = type;
  if (activated != NULL)
    *activated = FALSE;

  if (mode == RUNNER_DBUS_NONE)
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE,
                           _("D-Bus is turned off (--dbus=none)"));
      return NULL;
    }

  if (starter != NULL && *starter != '\0' &&
      g_strcmp0 (starter_type, bus_type_name (type)) == 0)
    {
      if (activated != NULL)
        *activated = TRUE;
      return g_strdup (starter);
    }

  if (type == G_BUS_TYPE_SYSTEM)
    return g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, NULL, error);

  if (address != NULL && *address != '\0')
    return g_strdup (address);

  if (runtime_dir != NULL && *runtime_dir != '\0')
    {
      socket = g_build_filename (runtime_dir, "bus", NULL);
      if (stat (socket, &st) == 0 && S_ISSOCK (st.st_mode))
        {
          g_autofree char *escaped = g_dbus_address_escape_value (socket);

          return g_strconcat ("unix:path=", escaped, NULL);
        }
    }

  g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE,
                       _("There is no session bus (DBUS_SESSION_BUS_ADDRESS is not set and "
                         "$XDG_RUNTIME_DIR/bus does not exist)"));
  return NULL;
}

static void
on_name_acquired (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  RunnerDbus *self = user_data;

  self->name_owned = TRUE;
  g_message ("On D-Bus as %s (%s)", name, g_dbus_connection_get_unique_name (connection));
}

static void
on_name_lost (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  RunnerDbus *self = user_data;

  if (connection == NULL || g_dbus_connection_is_closed (connection))
    return;

  if (self->name_owned)
    g_message ("Lost the name %s on D-Bus; still serving as %s", name,
               g_dbus_connection_get_unique_name (connection));
  else
    /* Queued: the name comes to us when its owner leaves. */
    g_message ("%s is taken on D-Bus by another process; serving without it as %s", name,
               g_dbus_connection_get_unique_name (connection));
  self->name_owned = FALSE;
}

static void
unexport (RunnerDbus *self)
{
  if (self->connection == NULL)
    return;

  g_clear_handle_id (&self->owner_id, g_bus_unown_name);
  g_signal_handlers_disconnect_by_func (self->connection, on_connection_closed, self);
  if (g_dbus_interface_skeleton_has_connection (G_DBUS_INTERFACE_SKELETON (self), self->connection))
    g_dbus_interface_skeleton_unexport_from_connection (G_DBUS_INTERFACE_SKELETON (self),
                                                        self->connection);
  self->name_owned = FALSE;
}

static void
on_connection_closed (GDBusConnection *connection,
                      gboolean         remote_peer_vanished,
                      GError          *error,
                      RunnerDbus      *self)
{
  g_message ("The D-Bus connection closed%s%s", error != NULL ? ": " : "",
             error != NULL ? error->message : "");
  unexport (self);
  g_clear_object (&self->connection);

  /* A bus-activated service lives as long as the bus that started it. */
  if (self->activated)
    g_signal_emit (self, signals[QUIT_REQUESTED], 0);
}

/**
 * runner_dbus_export:
 * @connection: a message bus connection
 *
 * Exports the interface at %RUNNER_DBUS_PATH on @connection and asks for
 * %RUNNER_DBUS_NAME. If another process owns the name, Runner queues for it
 * and keeps serving under its unique name.
 */
gboolean
runner_dbus_export (RunnerDbus       *self,
                    GDBusConnection  *connection,
                    GError          **error)
{
  g_return_val_if_fail (RUNNER_IS_DBUS (self), FALSE);
  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), FALSE);
  g_return_val_if_fail (self->connection == NULL, FALSE);

  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self), connection,
                                         RUNNER_DBUS_PATH, error))
    return FALSE;

  self->connection = g_object_ref (connection);
  g_signal_connect (connection, "closed", G_CALLBACK (on_connection_closed), self);
  self->owner_id = g_bus_own_name_on_connection (connection, RUNNER_DBUS_NAME,
                                                 G_BUS_NAME_OWNER_FLAGS_NONE,
                                                 on_name_acquired, on_name_lost, self, NULL);
  return TRUE;
}

static void
connected_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(RunnerDbus) self = user_data;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  connection = g_dbus_connection_new_for_address_finish (result, &error);
  if (connection != NULL && g_cancellable_is_cancelled (self->cancellable))
    g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Stopped");
  else if (connection != NULL)
    runner_dbus_export (self, connection, &error);

  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_message ("Not on D-Bus: %s", error->message);
  if (connection != NULL && error != NULL)
    g_dbus_connection_close (connection, NULL, NULL, NULL);
}

/**
 * runner_dbus_start:
 * @mode: which bus (config->dbus)
 *
 * Connects to the bus @mode names, then exports the interface and asks for
 * the name. Never fatal: without a bus, Runner says so in its log and
 * serves on.
 */
void
runner_dbus_start (RunnerDbus     *self,
                   RunnerDbusMode  mode)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  GBusType bus_type;

  g_return_if_fail (RUNNER_IS_DBUS (self));

  if (mode == RUNNER_DBUS_NONE)
    {
      g_debug ("D-Bus is turned off");
      return;
    }

  address = runner_dbus_get_bus_address (mode, &bus_type, &self->activated, &error);
  if (address == NULL)
    {
      g_message ("Not on D-Bus: %s", error->message);
      return;
    }

  g_debug ("Connecting to the %s bus at %s", bus_type_name (bus_type), address);
  self->check_callers = bus_type != G_BUS_TYPE_SESSION;
  g_dbus_connection_new_for_address (address,
                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                     NULL, self->cancellable, connected_cb, g_object_ref (self));
}

/**
 * runner_dbus_stop:
 *
 * Gives the name back, unexports the object and closes the connection,
 * after sending what is queued (the reply to Shutdown() among it). Blocks
 * only for that flush; call it at shutdown.
 */
void
runner_dbus_stop (RunnerDbus *self)
{
  g_autoptr(GDBusConnection) connection = NULL;

  g_return_if_fail (RUNNER_IS_DBUS (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->sync_state_source, g_source_remove);
  if (self->connection == NULL)
    return;

  unexport (self);
  connection = g_steal_pointer (&self->connection);
  g_dbus_connection_flush_sync (connection, NULL, NULL);
  g_dbus_connection_close_sync (connection, NULL, NULL);
}

GDBusConnection *
runner_dbus_get_connection (RunnerDbus *self)
{
  g_return_val_if_fail (RUNNER_IS_DBUS (self), NULL);
  return self->connection;
}

gboolean
runner_dbus_get_name_owned (RunnerDbus *self)
{
  g_return_val_if_fail (RUNNER_IS_DBUS (self), FALSE);
  return self->name_owned;
}

/**
 * runner_dbus_bind_terminals:
 * @terminals: (nullable): the terminal manager, or a stand-in with an
 *   "n-terminals" property
 */
void
runner_dbus_bind_terminals (RunnerDbus *self,
                            GObject    *terminals)
{
  g_return_if_fail (RUNNER_IS_DBUS (self));
  g_return_if_fail (terminals == NULL ||
                    g_object_class_find_property (G_OBJECT_GET_CLASS (terminals), "n-terminals"));

  if (self->terminals != NULL)
    g_signal_handlers_disconnect_by_data (self->terminals, self);
  g_set_object (&self->terminals, terminals);
  if (terminals != NULL)
    {
      g_signal_connect (terminals, "notify::n-terminals", G_CALLBACK (on_n_terminals), self);
      on_n_terminals (terminals, NULL, self);
    }
  else
    runner_dbus_runner1_set_terminals (RUNNER_DBUS_RUNNER1 (self), 0);
}

/**
 * runner_dbus_bind_sync:
 * @sync: (nullable): the S3 sync or a stand-in with its properties, or
 *   %NULL when sync is off
 */
void
runner_dbus_bind_sync (RunnerDbus *self,
                       GObject    *sync)
{
  g_return_if_fail (RUNNER_IS_DBUS (self));

  if (self->sync != NULL)
    g_signal_handlers_disconnect_by_data (self->sync, self);
  g_set_object (&self->sync, sync);
  self->sync_state = sync != NULL ? get_number (sync, "state") : SYNC_STATE_IDLE;
  if (sync != NULL)
    g_signal_connect (sync, "notify", G_CALLBACK (on_sync_notify), self);
  update_sync_state (self);
}

/**
 * runner_dbus_set_sync:
 * @sync: (nullable): the S3 sync, or %NULL when sync is off
 */
void
runner_dbus_set_sync (RunnerDbus *self,
                      RunnerSync *sync)
{
  g_return_if_fail (sync == NULL || RUNNER_IS_SYNC (sync));

  runner_dbus_bind_sync (self, G_OBJECT (sync));
}

/* GObject */

static void
runner_dbus_dispose (GObject *object)
{
  RunnerDbus *self = RUNNER_DBUS (object);

  runner_dbus_stop (self);
  /* Not through the setters: no property changes while going away. */
  if (self->server != NULL)
    g_signal_handlers_disconnect_by_data (self->server, self);
  if (self->terminals != NULL)
    g_signal_handlers_disconnect_by_data (self->terminals, self);
  if (self->sync != NULL)
    g_signal_handlers_disconnect_by_data (self->sync, self);
  g_clear_object (&self->server);
  g_clear_object (&self->terminals);
  g_clear_object (&self->sync);

  G_OBJECT_CLASS (runner_dbus_parent_class)->dispose (object);
}

static void
runner_dbus_finalize (GObject *object)
{
  RunnerDbus *self = RUNNER_DBUS (object);

  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (runner_dbus_parent_class)->finalize (object);
}

static void
runner_dbus_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  RunnerDbus *self = RUNNER_DBUS (object);

  switch (prop_id)
    {
    case PROP_UPTIME:
      /* Computed on read: a changing counter is no reason for signals. */
      g_value_set_uint64 (value, self->server != NULL
                                 ? (guint64) MAX (runner_server_get_uptime (self->server), 0)
                                 : 0);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
runner_dbus_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  switch (prop_id)
    {
    case PROP_UPTIME:
      /* Read-only in effect: always the server's. */
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
runner_dbus_class_init (RunnerDbusClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = runner_dbus_dispose;
  object_class->finalize = runner_dbus_finalize;
  object_class->get_property = runner_dbus_get_property;
  object_class->set_property = runner_dbus_set_property;

  g_object_class_override_property (object_class, PROP_UPTIME, "uptime");

  /**
   * RunnerDbus::quit-requested:
   *
   * A caller asked for Shutdown(), or the bus that started Runner went away.
   */
  signals[QUIT_REQUESTED] =
    g_signal_new ("quit-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
}

static void
runner_dbus_init (RunnerDbus *self)
{
  self->cancellable = g_cancellable_new ();
}

/**
 * runner_dbus_new:
 * @server: the listening server whose state to show
 *
 * Returns: (transfer full): a new #RunnerDbus, not yet on any bus
 */
RunnerDbus *
runner_dbus_new (RunnerServer *server)
{
  RunnerDbus *self;
  RunnerDbusRunner1 *iface;
  RunnerConfig *config;
  g_autofree char *root = NULL;

  g_return_val_if_fail (RUNNER_IS_SERVER (server), NULL);

  self = g_object_new (RUNNER_TYPE_DBUS, NULL);
  iface = RUNNER_DBUS_RUNNER1 (self);
  self->server = g_object_ref (server);
  config = runner_server_get_config (server);

  runner_dbus_runner1_set_version (iface, PACKAGE_VERSION);
  /* D-Bus strings are UTF-8: a root that is not shows with U+FFFD. */
  root = g_utf8_make_valid (runner_workspace_get_root (runner_server_get_workspace (server)), -1);
  runner_dbus_runner1_set_workspace (iface, root);
  runner_dbus_runner1_set_port (iface, runner_server_get_port (server));
  runner_dbus_runner1_set_app_port (iface, config->user_port);
  runner_dbus_runner1_set_clients (iface, runner_server_get_n_clients (server));
  runner_dbus_bind_terminals (self, G_OBJECT (runner_server_get_terminals (server)));
  update_sync_state (self);

  g_signal_connect (server, "notify::n-clients", G_CALLBACK (on_n_clients), self);
  g_signal_connect (server, "client-added", G_CALLBACK (on_client_added), self);
  g_signal_connect (server, "client-removed", G_CALLBACK (on_client_removed), self);
  return self;
}
