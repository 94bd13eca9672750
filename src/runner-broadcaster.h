/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include "runner-client.h"
#include "runner-message.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_BROADCASTER (runner_broadcaster_get_type ())

G_DECLARE_INTERFACE (RunnerBroadcaster, runner_broadcaster, RUNNER, BROADCASTER, GObject)

/**
 * RunnerBroadcasterInterface:
 * @broadcast: send a message to every client
 * @list_clients: the clients now connected
 *
 * What a feature needs of the connected clients: push an event to all of
 * them, look at each, and learn when one comes or goes (the ::client-added
 * and ::client-removed signals). Features get this, never the server.
 */
struct _RunnerBroadcasterInterface
{
  GTypeInterface parent_iface;

  void       (*broadcast)    (RunnerBroadcaster *self,
                              RunnerMessage     *message);
  GPtrArray *(*list_clients) (RunnerBroadcaster *self);
};

void       runner_broadcaster_broadcast      (RunnerBroadcaster *self,
                                              RunnerMessage     *message);
GPtrArray *runner_broadcaster_list_clients   (RunnerBroadcaster *self);
void       runner_broadcaster_client_added   (RunnerBroadcaster *self,
                                              RunnerClient      *client);
void       runner_broadcaster_client_removed (RunnerBroadcaster *self,
                                              RunnerClient      *client);

G_END_DECLS
