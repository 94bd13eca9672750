/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include "runner-request.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_PROTOCOL (runner_protocol_get_type ())

G_DECLARE_FINAL_TYPE (RunnerProtocol, runner_protocol, RUNNER, PROTOCOL, GObject)

/**
 * RunnerEventHandler:
 * @request: the request; the handler answers it now or keeps a reference
 * @user_data: what was given to runner_protocol_add()
 *
 * Every unit (workspace, terminals, sync, app) adds its own rows to the one
 * event table; transports never know the events.
 */
typedef void (*RunnerEventHandler) (RunnerRequest *request,
                                    gpointer       user_data);

RunnerProtocol *runner_protocol_new       (void);
void            runner_protocol_add       (RunnerProtocol     *self,
                                           const char         *event,
                                           RunnerEventHandler  handler,
                                           gpointer            user_data);
void            runner_protocol_remove_by_data (RunnerProtocol *self,
                                           gpointer            user_data);
gboolean        runner_protocol_has       (RunnerProtocol     *self,
                                           const char         *event);
char          **runner_protocol_list      (RunnerProtocol     *self);
void            runner_protocol_dispatch  (RunnerProtocol     *self,
                                           RunnerRequest      *request);

G_END_DECLS
