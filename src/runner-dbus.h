/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <gio/gio.h>

#include "runner-config.h"
#include "runner-dbus-bus.h"
#include "runner-dbus-generated.h"
#include "runner-hub.h"
#include "runner-sync.h"
#include "runner-terminal-manager.h"
#include "runner-workspace.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_DBUS (runner_dbus_get_type ())

G_DECLARE_FINAL_TYPE (RunnerDbus, runner_dbus, RUNNER, DBUS, RunnerDbusRunner1Skeleton)

RunnerDbus      *runner_dbus_new             (RunnerConfig           *config,
                                              RunnerWorkspace        *workspace,
                                              RunnerHub              *hub,
                                              RunnerTerminalManager  *terminals,
                                              guint                   port);
void             runner_dbus_set_terminals   (RunnerDbus             *self,
                                              RunnerTerminalManager  *terminals);
void             runner_dbus_set_sync        (RunnerDbus             *self,
                                              RunnerSync             *sync);
void             runner_dbus_start           (RunnerDbus             *self,
                                              RunnerDbusMode          mode);
gboolean         runner_dbus_export          (RunnerDbus             *self,
                                              GDBusConnection        *connection,
                                              GError                **error);
void             runner_dbus_stop            (RunnerDbus             *self);
GDBusConnection *runner_dbus_get_connection  (RunnerDbus             *self);
gboolean         runner_dbus_get_name_owned  (RunnerDbus             *self);

G_END_DECLS
