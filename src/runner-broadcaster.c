/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-broadcaster"

#include "config.h"

#include "runner-broadcaster.h"

G_DEFINE_INTERFACE (RunnerBroadcaster, runner_broadcaster, G_TYPE_OBJECT)

enum {
  CLIENT_ADDED,
  CLIENT_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
runner_broadcaster_default_init (RunnerBroadcasterInterface *iface)
{
  /**
   * RunnerBroadcaster::client-added:
   * @client: the client, authorized and counted
   */
  signals[CLIENT_ADDED] =
    g_signal_new ("client-added", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 1, RUNNER_TYPE_CLIENT);

  /**
   * RunnerBroadcaster::client-removed:
   * @client: the client, now closed
   */
  signals[CLIENT_REMOVED] =
    g_signal_new ("client-removed", G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 1, RUNNER_TYPE_CLIENT);
}

/**
 * runner_broadcaster_broadcast:
 * @message: the event
 *
 * Sends @message to every client, as the old service's `io.emit` did.
 */
void
runner_broadcaster_broadcast (RunnerBroadcaster *self,
                              RunnerMessage     *message)
{
  g_return_if_fail (RUNNER_IS_BROADCASTER (self));
  g_return_if_fail (message != NULL);

  RUNNER_BROADCASTER_GET_IFACE (self)->broadcast (self, message);
}

/**
 * runner_broadcaster_list_clients:
 *
 * Returns: (transfer container) (element-type RunnerClient): the clients
 */
GPtrArray *
runner_broadcaster_list_clients (RunnerBroadcaster *self)
{
  g_return_val_if_fail (RUNNER_IS_BROADCASTER (self), NULL);

  return RUNNER_BROADCASTER_GET_IFACE (self)->list_clients (self);
}

/* For implementations: emit the signals. */
void
runner_broadcaster_client_added (RunnerBroadcaster *self,
                                 RunnerClient      *client)
{
  g_signal_emit (self, signals[CLIENT_ADDED], 0, client);
}

void
runner_broadcaster_client_removed (RunnerBroadcaster *self,
                                   RunnerClient      *client)
{
  g_signal_emit (self, signals[CLIENT_REMOVED], 0, client);
}
