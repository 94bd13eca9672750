/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-dbus"

#include "config.h"

#include "runner-dbus.h"

#include <unistd.h>
#include <glib/gi18n.h>

#include "runner-client.h"
#include "runner-enum-nick.h"
#include "runner-error.h"
#include "runner-workspace.h"

/* How long Sync() waits for the upload queue: under the 25 s a D-Bus caller
 * waits by default. */
#define SYNC_TIMEOUT_MS RUNNER_SYNC_DEFAULT_FLUSH_TIMEOUT_MS
/* SyncState is rebuilt at most this often, however busy the queue is. */
#define SYNC_STATE_DELAY_MS 250

/**
 * RunnerDbus:
 *
 * The io.github.runner.Runner1 skeleton bound to a running daemon: its
 * properties follow the hub, the terminal manager and the S3 sync, its
 * methods act on them. The terminals and the sync are optional (the sync is
 * set later); without them the methods that need them fail with
 * %RUNNER_ERROR_UNAVAILABLE. Which bus, and the name on it, are
 * #RunnerDbusBus's.
 */
struct _RunnerDbus
{
  RunnerDbusRunner1Skeleton parent_instance;

  RunnerHub             *hub;          /* owned: the clients */
  RunnerTerminalManager *terminals;    /* owned, nullable */
  RunnerSync            *sync;         /* owned, nullable */
  RunnerDbusBus         *bus;          /* owned, nullable: exported there */
  GCancellable          *cancellable;  /* owned: connecting, caller checks, Sync() */
  guint                  sync_state_source;
  RunnerSyncState        sync_state;   /* the last state seen, for SyncCompleted */
  guint                  n_sync_calls;
  gboolean               check_callers;
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

/* State */

static GVariant *
build_sync_state (RunnerDbus *self)
{
  RunnerSyncState state;
  const char *last_error;
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

  state = runner_sync_get_state (self->sync);
  last_error = runner_sync_get_last_error (self->sync);
  g_variant_dict_insert (&dict, "enabled", "b", TRUE);
  g_variant_dict_insert (&dict, "state", "s", runner_enum_get_nick (RUNNER_TYPE_SYNC_STATE, state));
  g_variant_dict_insert (&dict, "pending", "u", runner_sync_get_pending (self->sync));
  g_variant_dict_insert (&dict, "pending-bytes", "t", runner_sync_get_pending_bytes (self->sync));
  g_variant_dict_insert (&dict, "in-flight", "u", runner_sync_get_in_flight (self->sync));
  g_variant_dict_insert (&dict, "last-error", "s", last_error != NULL ? last_error : "");
  /* RunnerSync keeps microseconds. */
  g_variant_dict_insert (&dict, "last-success", "x",
                         runner_sync_get_last_success (self->sync) / G_USEC_PER_SEC);
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

/* Counters and errors: shown at most every SYNC_STATE_DELAY_MS. */
static void
on_sync_changed (RunnerSync *sync,
                 GParamSpec *pspec,
                 RunnerDbus *self)
{
  if (self->sync_state_source == 0)
    self->sync_state_source = g_timeout_add (SYNC_STATE_DELAY_MS, update_sync_state_cb, self);
}

/* A new state: shown at once, and the end of a run is signalled. */
static void
on_sync_state (RunnerSync *sync,
               GParamSpec *pspec,
               RunnerDbus *self)
{
  RunnerSyncState state = runner_sync_get_state (sync);

  if (state == self->sync_state)
    return;
  self->sync_state = state;

  /* A running Sync() call reports for itself. */
  if (self->n_sync_calls > 0)
    return;
  if (state == RUNNER_SYNC_STATE_IDLE)
    emit_sync_completed (self, TRUE, NULL);
  else if (state == RUNNER_SYNC_STATE_ERROR)
    emit_sync_completed (self, FALSE, runner_sync_get_last_error (sync));
  else
    update_sync_state (self);
}

static void
on_n_clients (RunnerHub  *hub,
              GParamSpec *pspec,
              RunnerDbus *self)
{
  runner_dbus_runner1_set_clients (RUNNER_DBUS_RUNNER1 (self), runner_hub_get_n_clients (hub));
}

/* The hub counts a client before it announces it: Clients changes on
 * the bus first, then the signal comes. */
static void
on_client_added (RunnerHub    *hub,
                 RunnerClient *client,
                 RunnerDbus   *self)
{
  const char *transport = runner_client_get_transport (client);

  on_n_clients (hub, NULL, self);
  flush_properties (self);
  runner_dbus_runner1_emit_client_connected (RUNNER_DBUS_RUNNER1 (self),
                                             runner_client_get_id (client),
                                             transport != NULL ? transport : "");
}

static void
on_client_removed (RunnerHub    *hub,
                   RunnerClient *client,
                   RunnerDbus   *self)
{
  on_n_clients (hub, NULL, self);
  flush_properties (self);
  runner_dbus_runner1_emit_client_disconnected (RUNNER_DBUS_RUNNER1 (self),
                                                runner_client_get_id (client));
}

static void
on_n_terminals (RunnerTerminalManager *terminals,
                GParamSpec            *pspec,
                RunnerDbus            *self)
{
  runner_dbus_runner1_set_terminals (RUNNER_DBUS_RUNNER1 (self),
                                     runner_terminal_manager_get_n_terminals (terminals));
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
  RunnerSync *sync = RUNNER_SYNC (object);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = runner_sync_flush_finish (sync, result, &error);
  self->n_sync_calls--;
  /* What the call reports, the state transitions need not report again. */
  if (self->sync == sync)
    self->sync_state = runner_sync_get_state (sync);

  /* Why the changes did not go: the failure of the last attempt. */
  if (!ok)
    {
      const char *last_error = runner_sync_get_last_error (sync);

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

  call = g_new0 (SyncCall, 1);
  call->self = g_object_ref (self);
  call->invocation = invocation;
  self->n_sync_calls++;
  runner_sync_flush_async (self->sync, SYNC_TIMEOUT_MS, self->cancellable,
                           flush_cb, call);
}

/* The terminal manager, or %NULL having answered Unavailable. */
static RunnerTerminalManager *
get_terminals (RunnerDbus            *self,
               GDBusMethodInvocation *invocation)
{
  g_autoptr(GError) error = NULL;

  if (self->terminals != NULL)
    return self->terminals;
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

static void
unexport (RunnerDbus *self)
{
  GDBusInterfaceSkeleton *skeleton = G_DBUS_INTERFACE_SKELETON (self);

  if (g_dbus_interface_skeleton_get_connection (skeleton) != NULL)
    g_dbus_interface_skeleton_unexport (skeleton);
}

static void
on_bus_closed (RunnerDbusBus *bus,
               RunnerDbus    *self)
{
  gboolean activated = runner_dbus_bus_get_activated (bus);

  unexport (self);
  g_signal_handlers_disconnect_by_data (bus, self);
  g_clear_object (&self->bus);

  /* A bus-activated service lives as long as the bus that started it. */
  if (activated)
    g_signal_emit (self, signals[QUIT_REQUESTED], 0);
}

/* Exports the interface on @bus's connection, then asks for the name: it
 * is there for the first caller the name brings. */
static gboolean
export_on (RunnerDbus     *self,
           RunnerDbusBus  *bus,
           GError        **error)
{
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self),
                                         runner_dbus_bus_get_connection (bus),
                                         RUNNER_DBUS_PATH, error))
    return FALSE;

  self->bus = g_object_ref (bus);
  /* Other users share the system bus. */
  self->check_callers = runner_dbus_bus_get_bus_type (bus) == G_BUS_TYPE_SYSTEM;
  g_signal_connect (bus, "closed", G_CALLBACK (on_bus_closed), self);
  runner_dbus_bus_own_name (bus, RUNNER_DBUS_NAME);
  return TRUE;
}

/**
 * runner_dbus_export:
 * @connection: a session bus connection
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
  g_autoptr(RunnerDbusBus) bus = NULL;

  g_return_val_if_fail (RUNNER_IS_DBUS (self), FALSE);
  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), FALSE);
  g_return_val_if_fail (self->bus == NULL, FALSE);

  bus = runner_dbus_bus_new_for_connection (connection, G_BUS_TYPE_SESSION, FALSE);
  return export_on (self, bus, error);
}

static void
bus_ready_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(RunnerDbus) self = user_data;
  g_autoptr(RunnerDbusBus) bus = NULL;
  g_autoptr(GError) error = NULL;

  bus = runner_dbus_bus_new_finish (result, &error);
  if (bus != NULL && !export_on (self, bus, &error))
    runner_dbus_bus_close (bus);

  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_message ("Not on D-Bus: %s", error->message);
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
  g_return_if_fail (RUNNER_IS_DBUS (self));
  g_return_if_fail (self->bus == NULL);

  if (mode == RUNNER_DBUS_NONE)
    {
      g_debug ("D-Bus is turned off");
      return;
    }

  runner_dbus_bus_new_async (mode, self->cancellable, bus_ready_cb, g_object_ref (self));
}

/**
 * runner_dbus_stop:
 *
 * Unexports the object, gives the name back and closes the connection,
 * after sending what is queued (the reply to Shutdown() among it). Blocks
 * only for that flush; call it at shutdown.
 */
void
runner_dbus_stop (RunnerDbus *self)
{
  g_autoptr(RunnerDbusBus) bus = NULL;

  g_return_if_fail (RUNNER_IS_DBUS (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->sync_state_source, g_source_remove);
  if (self->bus == NULL)
    return;

  unexport (self);
  bus = g_steal_pointer (&self->bus);
  g_signal_handlers_disconnect_by_data (bus, self);
  runner_dbus_bus_close (bus);
}

GDBusConnection *
runner_dbus_get_connection (RunnerDbus *self)
{
  g_return_val_if_fail (RUNNER_IS_DBUS (self), NULL);
  return self->bus != NULL ? runner_dbus_bus_get_connection (self->bus) : NULL;
}

gboolean
runner_dbus_get_name_owned (RunnerDbus *self)
{
  g_return_val_if_fail (RUNNER_IS_DBUS (self), FALSE);
  return self->bus != NULL && runner_dbus_bus_get_name_owned (self->bus);
}

/**
 * runner_dbus_set_terminals:
 * @terminals: (nullable): the terminal manager, or %NULL for none
 */
void
runner_dbus_set_terminals (RunnerDbus            *self,
                           RunnerTerminalManager *terminals)
{
  g_return_if_fail (RUNNER_IS_DBUS (self));
  g_return_if_fail (terminals == NULL || RUNNER_IS_TERMINAL_MANAGER (terminals));

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
 * runner_dbus_set_sync:
 * @sync: (nullable): the S3 sync, or %NULL when sync is off
 */
void
runner_dbus_set_sync (RunnerDbus *self,
                      RunnerSync *sync)
{
  g_return_if_fail (RUNNER_IS_DBUS (self));
  g_return_if_fail (sync == NULL || RUNNER_IS_SYNC (sync));

  if (self->sync != NULL)
    g_signal_handlers_disconnect_by_data (self->sync, self);
  g_set_object (&self->sync, sync);
  self->sync_state = sync != NULL ? runner_sync_get_state (sync) : RUNNER_SYNC_STATE_IDLE;
  if (sync != NULL)
    {
      g_signal_connect (sync, "notify", G_CALLBACK (on_sync_changed), self);
      g_signal_connect (sync, "notify::state", G_CALLBACK (on_sync_state), self);
    }
  update_sync_state (self);
}

/* GObject */

static void
runner_dbus_dispose (GObject *object)
{
  RunnerDbus *self = RUNNER_DBUS (object);

  runner_dbus_stop (self);
  /* Not through the setters: no property changes while going away. */
  if (self->hub != NULL)
    g_signal_handlers_disconnect_by_data (self->hub, self);
  if (self->terminals != NULL)
    g_signal_handlers_disconnect_by_data (self->terminals, self);
  if (self->sync != NULL)
    g_signal_handlers_disconnect_by_data (self->sync, self);
  g_clear_object (&self->hub);
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
      g_value_set_uint64 (value, self->hub != NULL
                                 ? (guint64) MAX (runner_hub_get_uptime (self->hub), 0)
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
      /* Read-only in effect: always the hub's. */
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
 * @config: the configuration
 * @workspace: the workspace served
 * @hub: the clients, counted and announced
 * @terminals: (nullable): the terminals
 * @port: the port the server listens on
 *
 * Returns: (transfer full): a new #RunnerDbus, not yet on any bus
 */
RunnerDbus *
runner_dbus_new (RunnerConfig          *config,
                 RunnerWorkspace       *workspace,
                 RunnerHub             *hub,
                 RunnerTerminalManager *terminals,
                 guint                  port)
{
  RunnerDbus *self;
  RunnerDbusRunner1 *iface;
  g_autofree char *root = NULL;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (workspace), NULL);
  g_return_val_if_fail (RUNNER_IS_HUB (hub), NULL);

  self = g_object_new (RUNNER_TYPE_DBUS, NULL);
  iface = RUNNER_DBUS_RUNNER1 (self);
  self->hub = g_object_ref (hub);

  runner_dbus_runner1_set_version (iface, PACKAGE_VERSION);
  /* D-Bus strings are UTF-8: a root that is not shows with U+FFFD. */
  root = g_utf8_make_valid (runner_workspace_get_root (workspace), -1);
  runner_dbus_runner1_set_workspace (iface, root);
  runner_dbus_runner1_set_port (iface, port);
  runner_dbus_runner1_set_app_port (iface, config->user_port);
  runner_dbus_runner1_set_clients (iface, runner_hub_get_n_clients (hub));
  runner_dbus_set_terminals (self, terminals);
  update_sync_state (self);

  g_signal_connect (hub, "notify::n-clients", G_CALLBACK (on_n_clients), self);
  g_signal_connect (hub, "client-added", G_CALLBACK (on_client_added), self);
  g_signal_connect (hub, "client-removed", G_CALLBACK (on_client_removed), self);
  return self;
}
