/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "runner-broadcaster.h"
#include "runner-config.h"
#include "runner-enums.h"
#include "runner-registry.h"
#include "runner-workspace.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_APP (runner_app_get_type ())

G_DECLARE_FINAL_TYPE (RunnerApp, runner_app, RUNNER, APP, GObject)

/**
 * RunnerAppState:
 * @RUNNER_APP_STATE_STOPPED: not running, and not meant to
 * @RUNNER_APP_STATE_STARTING: running, its port not yet listening
 * @RUNNER_APP_STATE_RUNNING: running and listening on its port
 * @RUNNER_APP_STATE_BACKOFF: it exited on its own; restarting after a delay
 * @RUNNER_APP_STATE_STOPPING: asked to stop, not yet gone
 *
 * The nicks are the names `app:state` carries.
 */
typedef enum
{
  RUNNER_APP_STATE_STOPPED,   /*< nick=stopped >*/
  RUNNER_APP_STATE_STARTING,  /*< nick=starting >*/
  RUNNER_APP_STATE_RUNNING,   /*< nick=running >*/
  RUNNER_APP_STATE_BACKOFF,   /*< nick=backoff >*/
  RUNNER_APP_STATE_STOPPING,  /*< nick=stopping >*/
} RunnerAppState;

RunnerApp      *runner_app_new             (RunnerConfig      *config,
                                            RunnerWorkspace   *workspace,
                                            RunnerBroadcaster *broadcaster,
                                            RunnerRegistry    *registry);
RunnerAppState  runner_app_get_state       (RunnerApp     *self);
gboolean        runner_app_start           (RunnerApp     *self,
                                            GError       **error);
void            runner_app_stop            (RunnerApp     *self);
gboolean        runner_app_restart         (RunnerApp     *self,
                                            GError       **error);
JsonNode       *runner_app_to_json         (RunnerApp     *self);
void            runner_app_shutdown        (RunnerApp     *self);
gboolean        runner_app_is_running      (RunnerApp     *self);

G_END_DECLS
