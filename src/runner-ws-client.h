/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include "runner-client.h"
#include "runner-websocket.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_WS_CLIENT (runner_ws_client_get_type ())

G_DECLARE_FINAL_TYPE (RunnerWsClient, runner_ws_client, RUNNER, WS_CLIENT, RunnerClient)

RunnerClient *runner_ws_client_new (RunnerWebsocket *websocket);

G_END_DECLS
