/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <libsoup/soup.h>

#include "runner-app.h"
#include "runner-client.h"
#include "runner-config.h"
#include "runner-message.h"
#include "runner-protocol.h"
#include "runner-workspace.h"

G_BEGIN_DECLS

typedef struct _RunnerTerminalManager RunnerTerminalManager;

#define RUNNER_TYPE_SERVER (runner_server_get_type ())

G_DECLARE_FINAL_TYPE (RunnerServer, runner_server, RUNNER, SERVER, GObject)

RunnerServer    *runner_server_new              (RunnerConfig       *config,
                                                 RunnerWorkspace    *workspace);
gboolean         runner_server_listen           (RunnerServer       *self,
                                                 GError            **error);
guint            runner_server_get_port         (RunnerServer       *self);
RunnerConfig    *runner_server_get_config       (RunnerServer       *self);
RunnerProtocol  *runner_server_get_protocol     (RunnerServer       *self);
RunnerWorkspace *runner_server_get_workspace    (RunnerServer       *self);
SoupServer      *runner_server_get_soup_server  (RunnerServer       *self);
RunnerApp       *runner_server_get_app          (RunnerServer       *self);
RunnerTerminalManager *runner_server_get_terminals (RunnerServer       *self);
guint            runner_server_get_n_clients    (RunnerServer       *self);
GPtrArray       *runner_server_list_clients     (RunnerServer       *self);
gint64           runner_server_get_uptime       (RunnerServer       *self);

gboolean         runner_server_authorize        (RunnerServer       *self,
                                                 SoupServerMessage  *msg,
                                                 const char         *token,
                                                 GError            **error);
gboolean         runner_server_check_token      (RunnerServer       *self,
                                                 const char         *token);
gboolean         runner_server_check_origin     (RunnerServer       *self,
                                                 SoupServerMessage  *msg);
gboolean         runner_server_accept_client    (RunnerServer       *self,
                                                 RunnerClient       *client,
                                                 GError            **error);
gboolean         runner_server_can_accept       (RunnerServer       *self,
                                                 GError            **error);
void             runner_server_broadcast        (RunnerServer       *self,
                                                 RunnerMessage      *message);
void             runner_server_shutdown         (RunnerServer       *self);

G_END_DECLS
