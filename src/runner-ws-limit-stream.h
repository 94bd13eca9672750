/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define RUNNER_TYPE_WS_LIMIT_STREAM (runner_ws_limit_stream_get_type ())

G_DECLARE_FINAL_TYPE (RunnerWsLimitStream, runner_ws_limit_stream, RUNNER, WS_LIMIT_STREAM,
                      GFilterInputStream)

GInputStream *runner_ws_limit_stream_new             (GInputStream        *base,
                                                      gsize                max_message);
void          runner_ws_limit_stream_set_max_message (RunnerWsLimitStream *self,
                                                      gsize                max_message);

G_END_DECLS
