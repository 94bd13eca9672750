/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include "runner-client.h"
#include "runner-eio-session.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_SIO_CLIENT (runner_sio_client_get_type ())

G_DECLARE_FINAL_TYPE (RunnerSioClient, runner_sio_client, RUNNER, SIO_CLIENT, RunnerClient)

RunnerSioClient  *runner_sio_client_new          (RunnerEioSession *session,
                                                  const char       *remote,
                                                  gsize             max_attachments_size);
RunnerEioSession *runner_sio_client_get_session  (RunnerSioClient  *self);
void              runner_sio_client_connected    (RunnerSioClient  *self);

G_END_DECLS
