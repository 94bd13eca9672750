/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <libsoup/soup.h>

#include "runner-auth.h"
#include "runner-config.h"
#include "runner-hub.h"
#include "runner-registry.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_SERVER (runner_server_get_type ())

G_DECLARE_FINAL_TYPE (RunnerServer, runner_server, RUNNER, SERVER, GObject)

RunnerServer *runner_server_new      (RunnerConfig    *config,
                                      RunnerRegistry  *registry,
                                      RunnerHub       *hub,
                                      RunnerAuth      *auth);
gboolean      runner_server_listen   (RunnerServer    *self,
                                      GError         **error);
guint         runner_server_get_port (RunnerServer    *self);
void          runner_server_shutdown (RunnerServer    *self);

G_END_DECLS
