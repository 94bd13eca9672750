/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define RUNNER_TYPE_WEBSOCKET (runner_websocket_get_type ())

G_DECLARE_FINAL_TYPE (RunnerWebsocket, runner_websocket, RUNNER, WEBSOCKET, GObject)

gboolean          runner_websocket_is_upgrade     (SoupServerMessage *msg);
RunnerWebsocket  *runner_websocket_accept         (SoupServerMessage *msg,
                                                   gsize              max_message,
                                                   GError           **error);
gboolean          runner_websocket_is_open        (RunnerWebsocket   *self);
gsize             runner_websocket_get_queued     (RunnerWebsocket   *self);
void              runner_websocket_send_text      (RunnerWebsocket   *self,
                                                   GBytes            *text);
void              runner_websocket_send_binary    (RunnerWebsocket   *self,
                                                   GBytes            *data);
void              runner_websocket_set_max_message (RunnerWebsocket *self,
                                                   gsize              max_message);
void              runner_websocket_set_keepalive  (RunnerWebsocket   *self,
                                                   guint              seconds);
void              runner_websocket_close          (RunnerWebsocket   *self,
                                                   gushort            code,
                                                   const char        *reason);
const char       *runner_websocket_get_remote     (RunnerWebsocket   *self);

G_END_DECLS
