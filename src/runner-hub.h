/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include "runner-broadcaster.h"
#include "runner-config.h"
#include "runner-registry.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_HUB (runner_hub_get_type ())

G_DECLARE_FINAL_TYPE (RunnerHub, runner_hub, RUNNER, HUB, GObject)

RunnerHub *runner_hub_new             (RunnerConfig   *config,
                                       RunnerRegistry *registry);
gboolean   runner_hub_can_accept      (RunnerHub      *self,
                                       GError        **error);
gboolean   runner_hub_accept          (RunnerHub      *self,
                                       RunnerClient   *client,
                                       GError        **error);
void       runner_hub_hold_pending    (RunnerHub      *self,
                                       GObject        *pending);
void       runner_hub_release_pending (RunnerHub      *self,
                                       GObject        *pending);
void       runner_hub_count_refused   (RunnerHub      *self);
guint      runner_hub_get_n_clients   (RunnerHub      *self);
guint64    runner_hub_get_n_accepted  (RunnerHub      *self);
guint64    runner_hub_get_n_refused   (RunnerHub      *self);
gint64     runner_hub_get_uptime      (RunnerHub      *self);
gboolean   runner_hub_is_closing      (RunnerHub      *self);
void       runner_hub_close           (RunnerHub      *self,
                                       const char     *reason);

G_END_DECLS
