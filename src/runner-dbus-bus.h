/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <gio/gio.h>

#include "runner-config.h"

G_BEGIN_DECLS

#define RUNNER_DBUS_NAME      "io.github.runner.Runner"
#define RUNNER_DBUS_PATH      "/io/github/runner/Runner"
#define RUNNER_DBUS_INTERFACE "io.github.runner.Runner1"

#define RUNNER_TYPE_DBUS_BUS (runner_dbus_bus_get_type ())

G_DECLARE_FINAL_TYPE (RunnerDbusBus, runner_dbus_bus, RUNNER, DBUS_BUS, GObject)

char            *runner_dbus_bus_get_address        (RunnerDbusMode        mode,
                                                     GBusType             *bus_type,
                                                     gboolean             *activated,
                                                     GError              **error);
GDBusConnection *runner_dbus_bus_connect_sync       (RunnerDbusMode        mode,
                                                     GError              **error);

void             runner_dbus_bus_new_async          (RunnerDbusMode        mode,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
RunnerDbusBus   *runner_dbus_bus_new_finish         (GAsyncResult         *result,
                                                     GError              **error);
RunnerDbusBus   *runner_dbus_bus_new_for_connection (GDBusConnection      *connection,
                                                     GBusType              bus_type,
                                                     gboolean              activated);

GDBusConnection *runner_dbus_bus_get_connection     (RunnerDbusBus        *self);
GBusType         runner_dbus_bus_get_bus_type       (RunnerDbusBus        *self);
gboolean         runner_dbus_bus_get_activated      (RunnerDbusBus        *self);
void             runner_dbus_bus_own_name           (RunnerDbusBus        *self,
                                                     const char           *name);
gboolean         runner_dbus_bus_get_name_owned     (RunnerDbusBus        *self);
void             runner_dbus_bus_close              (RunnerDbusBus        *self);

G_END_DECLS
