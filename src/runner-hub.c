/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-hub"

#include "config.h"

#include "runner-hub.h"
#include "runner-error.h"

/* The connected clients, whatever their transport: the connection cap, the
 * counters, dispatch of their events through the registry, and broadcasts.
 * Transports hand it the clients they authorized. */

struct _RunnerHub
{
  GObject         parent_instance;
  RunnerConfig   *config;     /* unowned: outlives the hub */
  RunnerRegistry *registry;   /* owned */
  GHashTable     *clients;    /* owned: RunnerClient -> itself (owned) */
  GHashTable     *pending;    /* owned: connections being upgraded, counted against the cap */
  gint64          started_at; /* monotonic µs */
  guint64         n_accepted;
  guint64         n_refused;
  gboolean        closing;
};

static void runner_hub_broadcaster_init (RunnerBroadcasterInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (RunnerHub, runner_hub, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (RUNNER_TYPE_BROADCASTER,
                                                      runner_hub_broadcaster_init))

enum {
  PROP_0,
  PROP_N_CLIENTS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void on_client_closed (RunnerClient *client,
                              RunnerHub    *self);
static void on_client_event  (RunnerClient  *client,
                              RunnerRequest *request,
                              RunnerHub     *self);

static void
forget_client (RunnerHub    *self,
               RunnerClient *client)
{
  g_signal_handlers_disconnect_by_func (client, on_client_closed, self);
  g_signal_handlers_disconnect_by_func (client, on_client_event, self);
}

static void
runner_hub_dispose (GObject *object)
{
  RunnerHub *self = RUNNER_HUB (object);

  if (self->clients != NULL)
    {
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, self->clients);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        forget_client (self, key);
    }
  g_clear_pointer (&self->clients, g_hash_table_unref);
  g_clear_pointer (&self->pending, g_hash_table_unref);
  g_clear_object (&self->registry);

  G_OBJECT_CLASS (runner_hub_parent_class)->dispose (object);
}

static void
runner_hub_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  RunnerHub *self = RUNNER_HUB (object);

  switch (prop_id)
    {
    case PROP_N_CLIENTS:
      g_value_set_uint (value, runner_hub_get_n_clients (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
runner_hub_class_init (RunnerHubClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = runner_hub_dispose;
  object_class->get_property = runner_hub_get_property;

  properties[PROP_N_CLIENTS] =
    g_param_spec_uint ("n-clients", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
runner_hub_init (RunnerHub *self)
{
  self->clients = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  self->pending = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  self->started_at = g_get_monotonic_time ();
}

/**
 * runner_hub_new:
 * @config: the configuration (caps); must outlive the hub
 * @registry: where the clients' events go
 */
RunnerHub *
runner_hub_new (RunnerConfig   *config,
                RunnerRegistry *registry)
{
  RunnerHub *self;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (RUNNER_IS_REGISTRY (registry), NULL);

  self = g_object_new (RUNNER_TYPE_HUB, NULL);
  self->config = config;
  self->registry = g_object_ref (registry);
  return self;
}

/**
 * runner_hub_can_accept:
 *
 * Returns: %FALSE with RUNNER_ERROR_LIMIT when the connection cap is reached
 *   (clients and pending upgrades), or RUNNER_ERROR_UNAVAILABLE when closing
 */
gboolean
runner_hub_can_accept (RunnerHub  *self,
                       GError    **error)
{
  g_return_val_if_fail (RUNNER_IS_HUB (self), FALSE);

  if (self->closing)
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE, "Shutting down");
      return FALSE;
    }

  if (g_hash_table_size (self->clients) + g_hash_table_size (self->pending) >=
      self->config->max_connections)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_LIMIT,
                   "Too many connections (the limit is %u)", self->config->max_connections);
      return FALSE;
    }

  return TRUE;
}

static void
on_client_event (RunnerClient  *client,
                 RunnerRequest *request,
                 RunnerHub     *self)
{
  runner_registry_dispatch (self->registry, request);
}

static void
on_client_closed (RunnerClient *client,
                  RunnerHub    *self)
{
  g_autoptr(RunnerClient) hold = g_object_ref (client);

  forget_client (self, client);
  if (!g_hash_table_remove (self->clients, client))
    return;

  g_debug ("Client %s (%s) left", runner_client_get_id (client),
           runner_client_get_transport (client));
  runner_broadcaster_client_removed (RUNNER_BROADCASTER (self), client);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_CLIENTS]);
}

/**
 * runner_hub_accept:
 * @client: a client a transport made and authorized
 *
 * Counts @client in: its events are dispatched, broadcasts reach it.
 *
 * Returns: %FALSE with @error when the connection cap is reached
 */
gboolean
runner_hub_accept (RunnerHub     *self,
                   RunnerClient  *client,
                   GError       **error)
{
  g_return_val_if_fail (RUNNER_IS_HUB (self), FALSE);
  g_return_val_if_fail (RUNNER_IS_CLIENT (client), FALSE);

  if (runner_client_is_closed (client))
    return TRUE;

  if (self->closing || g_hash_table_size (self->clients) >= self->config->max_connections)
    {
      self->n_refused++;
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_LIMIT,
                   "Too many connections (the limit is %u)", self->config->max_connections);
      return FALSE;
    }

  runner_client_set_max_queued (client, self->config->max_queued);
  g_hash_table_add (self->clients, g_object_ref (client));
  self->n_accepted++;
  g_signal_connect (client, "event", G_CALLBACK (on_client_event), self);
  g_signal_connect (client, "closed", G_CALLBACK (on_client_closed), self);

  g_debug ("Client %s (%s, %s) joined", runner_client_get_id (client),
           runner_client_get_transport (client), runner_client_get_remote (client));
  runner_broadcaster_client_added (RUNNER_BROADCASTER (self), client);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_CLIENTS]);
  return TRUE;
}

/**
 * runner_hub_hold_pending:
 * @pending: a connection on its way to become a client (a WebSocket being
 *   upgraded)
 *
 * Keeps @pending, counted against the cap, until released or the hub closes.
 */
void
runner_hub_hold_pending (RunnerHub *self,
                         GObject   *pending)
{
  g_return_if_fail (RUNNER_IS_HUB (self));
  g_return_if_fail (G_IS_OBJECT (pending));

  g_hash_table_add (self->pending, g_object_ref (pending));
}

void
runner_hub_release_pending (RunnerHub *self,
                            GObject   *pending)
{
  g_return_if_fail (RUNNER_IS_HUB (self));

  g_hash_table_remove (self->pending, pending);
}

/* A transport refused a connection: counted in the metrics. */
void
runner_hub_count_refused (RunnerHub *self)
{
  g_return_if_fail (RUNNER_IS_HUB (self));
  self->n_refused++;
}

guint
runner_hub_get_n_clients (RunnerHub *self)
{
  g_return_val_if_fail (RUNNER_IS_HUB (self), 0);
  return g_hash_table_size (self->clients);
}

guint64
runner_hub_get_n_accepted (RunnerHub *self)
{
  g_return_val_if_fail (RUNNER_IS_HUB (self), 0);
  return self->n_accepted;
}

guint64
runner_hub_get_n_refused (RunnerHub *self)
{
  g_return_val_if_fail (RUNNER_IS_HUB (self), 0);
  return self->n_refused;
}

/**
 * runner_hub_get_uptime:
 *
 * Returns: seconds since the hub was made
 */
gint64
runner_hub_get_uptime (RunnerHub *self)
{
  g_return_val_if_fail (RUNNER_IS_HUB (self), 0);
  return (g_get_monotonic_time () - self->started_at) / G_USEC_PER_SEC;
}

gboolean
runner_hub_is_closing (RunnerHub *self)
{
  g_return_val_if_fail (RUNNER_IS_HUB (self), TRUE);
  return self->closing;
}

static GPtrArray *
runner_hub_list_clients (RunnerBroadcaster *broadcaster)
{
  RunnerHub *self = RUNNER_HUB (broadcaster);
  GPtrArray *ret;
  GHashTableIter iter;
  gpointer key;

  ret = g_ptr_array_new_full (g_hash_table_size (self->clients), g_object_unref);
  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (ret, g_object_ref (key));
  return ret;
}

static void
runner_hub_broadcast (RunnerBroadcaster *broadcaster,
                      RunnerMessage     *message)
{
  /* A snapshot: sending may close a slow client, which changes the set. */
  g_autoptr(GPtrArray) clients = runner_hub_list_clients (broadcaster);

  for (guint i = 0; i < clients->len; i++)
    runner_client_send (g_ptr_array_index (clients, i), message);
}

static void
runner_hub_broadcaster_init (RunnerBroadcasterInterface *iface)
{
  iface->broadcast = runner_hub_broadcast;
  iface->list_clients = runner_hub_list_clients;
}

/**
 * runner_hub_close:
 * @reason: told to each client
 *
 * Closes every client and drops pending connections; accepts none from then
 * on. Idempotent.
 */
void
runner_hub_close (RunnerHub  *self,
                  const char *reason)
{
  g_autoptr(GPtrArray) clients = NULL;

  g_return_if_fail (RUNNER_IS_HUB (self));

  if (self->closing)
    return;
  self->closing = TRUE;

  clients = runner_hub_list_clients (RUNNER_BROADCASTER (self));
  for (guint i = 0; i < clients->len; i++)
    runner_client_close (g_ptr_array_index (clients, i), reason);
  g_hash_table_remove_all (self->pending);
}
