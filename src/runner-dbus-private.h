/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include "runner-dbus.h"

G_BEGIN_DECLS

/* RunnerDbus follows the terminal manager and the sync through their
 * properties ("n-terminals"; "pending", "pending-bytes", "in-flight",
 * "last-error", "last-success", "state"); it acts on them only when they are
 * the real types. Tests bind stand-ins with these. */
void runner_dbus_bind_terminals (RunnerDbus *self,
                                 GObject    *terminals);
void runner_dbus_bind_sync      (RunnerDbus *self,
                                 GObject    *sync);

G_END_DECLS
