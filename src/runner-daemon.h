/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include "runner-app.h"
#include "runner-config.h"
#include "runner-hub.h"
#include "runner-registry.h"
#include "runner-sync.h"
#include "runner-terminal-manager.h"
#include "runner-workspace.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_DAEMON (runner_daemon_get_type ())

G_DECLARE_FINAL_TYPE (RunnerDaemon, runner_daemon, RUNNER, DAEMON, GObject)

RunnerDaemon          *runner_daemon_new           (RunnerConfig  *config,
                                                    GError       **error);
gboolean               runner_daemon_start         (RunnerDaemon  *self,
                                                    GError       **error);
void                   runner_daemon_shutdown      (RunnerDaemon  *self);
void                   runner_daemon_stop          (RunnerDaemon  *self);
guint                  runner_daemon_get_port      (RunnerDaemon  *self);
RunnerWorkspace       *runner_daemon_get_workspace (RunnerDaemon  *self);
RunnerRegistry        *runner_daemon_get_registry  (RunnerDaemon  *self);
RunnerHub             *runner_daemon_get_hub       (RunnerDaemon  *self);
RunnerApp             *runner_daemon_get_app       (RunnerDaemon  *self);
RunnerTerminalManager *runner_daemon_get_terminals (RunnerDaemon  *self);
RunnerSync            *runner_daemon_get_sync      (RunnerDaemon  *self);

G_END_DECLS
