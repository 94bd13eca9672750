/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define RUNNER_TYPE_METERED_STREAM (runner_metered_stream_get_type ())

G_DECLARE_FINAL_TYPE (RunnerMeteredStream, runner_metered_stream, RUNNER, METERED_STREAM,
                      GFilterOutputStream)

typedef void (*RunnerMeteredFunc) (gsize    written,
                                   gpointer user_data);

GOutputStream *runner_metered_stream_new         (GOutputStream     *base,
                                                  RunnerMeteredFunc  func,
                                                  gpointer           user_data);
void           runner_metered_stream_disconnect  (RunnerMeteredStream *self);
guint64        runner_metered_stream_get_written (RunnerMeteredStream *self);

G_END_DECLS
