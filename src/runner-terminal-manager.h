/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include "runner-broadcaster.h"
#include "runner-config.h"
#include "runner-registry.h"
#include "runner-terminal.h"
#include "runner-workspace.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_TERMINAL_MANAGER (runner_terminal_manager_get_type ())

G_DECLARE_FINAL_TYPE (RunnerTerminalManager, runner_terminal_manager, RUNNER, TERMINAL_MANAGER, GObject)

/* The id of the terminal that `terminal:write` without an id goes to. */
#define RUNNER_TERMINAL_DEFAULT_ID "default"

RunnerTerminalManager *runner_terminal_manager_new             (RunnerConfig           *config,
                                                                RunnerWorkspace        *workspace,
                                                                RunnerBroadcaster      *broadcaster,
                                                                RunnerRegistry         *registry);
char                  *runner_terminal_manager_open            (RunnerTerminalManager  *self,
                                                                guint                   cols,
                                                                guint                   rows,
                                                                GError                **error);
gboolean               runner_terminal_manager_close           (RunnerTerminalManager  *self,
                                                                const char             *id,
                                                                GError                **error);
RunnerTerminal        *runner_terminal_manager_lookup          (RunnerTerminalManager  *self,
                                                                const char             *id,
                                                                GError                **error);
RunnerTerminal        *runner_terminal_manager_get_default     (RunnerTerminalManager  *self,
                                                                GError                **error);
GPtrArray             *runner_terminal_manager_list            (RunnerTerminalManager  *self);
guint                  runner_terminal_manager_get_n_terminals (RunnerTerminalManager  *self);
guint                  runner_terminal_manager_get_n_running   (RunnerTerminalManager  *self);
void                   runner_terminal_manager_shutdown        (RunnerTerminalManager  *self);

G_END_DECLS
