/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-dbus"

#include "config.h"

#include "runner-dbus-bus.h"

#include <sys/stat.h>
#include <glib/gi18n.h>

#include "runner-error.h"

/**
 * RunnerDbusBus:
 *
 * Runner's connection to a message bus and the well-known name it holds
 * there: which bus `--dbus` means (never an autolaunched one), connecting,
 * asking for the name and queueing for it when it is taken, and noticing
 * when the bus goes away. What is exported on the connection is the
 * caller's (#RunnerDbus).
 */
struct _RunnerDbusBus
{
  GObject          parent_instance;

  GDBusConnection *connection;  /* owned, nullable once closed */
  GBusType         bus_type;
  gboolean         activated;   /* the bus started Runner */
  guint            owner_id;
  gboolean         name_owned;
};

G_DEFINE_FINAL_TYPE (RunnerDbusBus, runner_dbus_bus, G_TYPE_OBJECT)

enum {
  CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char *
bus_type_name (GBusType bus_type)
{
  return bus_type == G_BUS_TYPE_SYSTEM ? "system" : "session";
}

/**
 * runner_dbus_bus_get_address:
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
runner_dbus_bus_get_address (RunnerDbusMode   mode,
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

#define CONNECTION_FLAGS (G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | \
                          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION)

/**
 * runner_dbus_bus_connect_sync:
 * @mode: which bus
 *
 * Connects to the bus @mode means, as runner_dbus_bus_get_address() finds
 * it. Blocks: for short-lived commands such as `runner status`.
 *
 * Returns: (transfer full) (nullable): a new connection
 */
GDBusConnection *
runner_dbus_bus_connect_sync (RunnerDbusMode   mode,
                              GError         **error)
{
  g_autofree char *address = runner_dbus_bus_get_address (mode, NULL, NULL, error);

  if (address == NULL)
    return NULL;
  return g_dbus_connection_new_for_address_sync (address, CONNECTION_FLAGS, NULL, NULL, error);
}

typedef struct
{
  GBusType bus_type;
  gboolean activated;
} Connecting;

static void
connected_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Connecting *connecting = g_task_get_task_data (task);
  g_autoptr(GDBusConnection) connection = NULL;
  GError *error = NULL;

  connection = g_dbus_connection_new_for_address_finish (result, &error);
  if (connection == NULL)
    g_task_return_error (task, error);
  else if (g_task_return_error_if_cancelled (task))
    g_dbus_connection_close (connection, NULL, NULL, NULL);
  else
    g_task_return_pointer (task,
                           runner_dbus_bus_new_for_connection (connection, connecting->bus_type,
                                                               connecting->activated),
                           g_object_unref);
}

/**
 * runner_dbus_bus_new_async:
 * @mode: which bus (config->dbus), not none
 *
 * Connects to the bus @mode means. Finish with runner_dbus_bus_new_finish().
 */
void
runner_dbus_bus_new_async (RunnerDbusMode       mode,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Connecting *connecting = g_new0 (Connecting, 1);
  g_autofree char *address = NULL;
  GError *error = NULL;

  g_task_set_source_tag (task, runner_dbus_bus_new_async);
  g_task_set_task_data (task, connecting, g_free);

  address = runner_dbus_bus_get_address (mode, &connecting->bus_type, &connecting->activated,
                                         &error);
  if (address == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_debug ("Connecting to the %s bus at %s", bus_type_name (connecting->bus_type), address);
  g_dbus_connection_new_for_address (address, CONNECTION_FLAGS, NULL, cancellable, connected_cb,
                                     g_steal_pointer (&task));
}

/**
 * runner_dbus_bus_new_finish:
 *
 * Returns: (transfer full) (nullable): the bus, connected and holding no
 *   name yet
 */
RunnerDbusBus *
runner_dbus_bus_new_finish (GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
on_name_acquired (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  RunnerDbusBus *self = user_data;

  self->name_owned = TRUE;
  g_message ("On D-Bus as %s (%s)", name, g_dbus_connection_get_unique_name (connection));
}

static void
on_name_lost (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  RunnerDbusBus *self = user_data;

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
release (RunnerDbusBus *self)
{
  g_clear_handle_id (&self->owner_id, g_bus_unown_name);
  self->name_owned = FALSE;
  if (self->connection != NULL)
    g_signal_handlers_disconnect_by_data (self->connection, self);
}

static void
on_connection_closed (GDBusConnection *connection,
                      gboolean         remote_peer_vanished,
                      GError          *error,
                      RunnerDbusBus   *self)
{
  g_message ("The D-Bus connection closed%s%s", error != NULL ? ": " : "",
             error != NULL ? error->message : "");
  release (self);
  g_clear_object (&self->connection);
  g_signal_emit (self, signals[CLOSED], 0);
}

/**
 * runner_dbus_bus_own_name:
 * @name: a well-known name
 *
 * Asks for @name. If another process owns it, Runner queues for it and
 * keeps serving under its unique name.
 */
void
runner_dbus_bus_own_name (RunnerDbusBus *self,
                          const char    *name)
{
  g_return_if_fail (RUNNER_IS_DBUS_BUS (self));
  g_return_if_fail (self->connection != NULL);
  g_return_if_fail (self->owner_id == 0);

  self->owner_id = g_bus_own_name_on_connection (self->connection, name,
                                                 G_BUS_NAME_OWNER_FLAGS_NONE,
                                                 on_name_acquired, on_name_lost, self, NULL);
}

/**
 * runner_dbus_bus_close:
 *
 * Gives the name back and closes the connection, after sending what is
 * queued (the reply to Shutdown() among it). Blocks only for that flush;
 * call it at shutdown. No ::closed follows.
 */
void
runner_dbus_bus_close (RunnerDbusBus *self)
{
  g_autoptr(GDBusConnection) connection = NULL;

  g_return_if_fail (RUNNER_IS_DBUS_BUS (self));

  release (self);
  connection = g_steal_pointer (&self->connection);
  if (connection == NULL || g_dbus_connection_is_closed (connection))
    return;
  g_dbus_connection_flush_sync (connection, NULL, NULL);
  g_dbus_connection_close_sync (connection, NULL, NULL);
}

GDBusConnection *
runner_dbus_bus_get_connection (RunnerDbusBus *self)
{
  g_return_val_if_fail (RUNNER_IS_DBUS_BUS (self), NULL);
  return self->connection;
}

GBusType
runner_dbus_bus_get_bus_type (RunnerDbusBus *self)
{
  g_return_val_if_fail (RUNNER_IS_DBUS_BUS (self), G_BUS_TYPE_NONE);
  return self->bus_type;
}

/* Whether the bus started Runner: then Runner lives as long as it does. */
gboolean
runner_dbus_bus_get_activated (RunnerDbusBus *self)
{
  g_return_val_if_fail (RUNNER_IS_DBUS_BUS (self), FALSE);
  return self->activated;
}

gboolean
runner_dbus_bus_get_name_owned (RunnerDbusBus *self)
{
  g_return_val_if_fail (RUNNER_IS_DBUS_BUS (self), FALSE);
  return self->name_owned;
}

static void
runner_dbus_bus_dispose (GObject *object)
{
  RunnerDbusBus *self = RUNNER_DBUS_BUS (object);

  release (self);
  g_clear_object (&self->connection);

  G_OBJECT_CLASS (runner_dbus_bus_parent_class)->dispose (object);
}

static void
runner_dbus_bus_class_init (RunnerDbusBusClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = runner_dbus_bus_dispose;

  /**
   * RunnerDbusBus::closed:
   *
   * The connection closed under Runner: the bus went away. The name is
   * gone with it.
   */
  signals[CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
}

static void
runner_dbus_bus_init (RunnerDbusBus *self)
{
}

/**
 * runner_dbus_bus_new_for_connection:
 * @connection: a message bus connection
 * @bus_type: which bus it is
 * @activated: whether that bus started Runner
 *
 * Returns: (transfer full): a bus holding no name yet
 */
RunnerDbusBus *
runner_dbus_bus_new_for_connection (GDBusConnection *connection,
                                    GBusType         bus_type,
                                    gboolean         activated)
{
  RunnerDbusBus *self;

  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), NULL);

  self = g_object_new (RUNNER_TYPE_DBUS_BUS, NULL);
  self->connection = g_object_ref (connection);
  self->bus_type = bus_type;
  self->activated = activated;
  g_signal_connect (connection, "closed", G_CALLBACK (on_connection_closed), self);
  return self;
}
