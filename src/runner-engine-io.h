/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <libsoup/soup.h>

#include "runner-auth.h"
#include "runner-config.h"
#include "runner-hub.h"
#include "runner-registry.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_ENGINE_IO (runner_engine_io_get_type ())

G_DECLARE_FINAL_TYPE (RunnerEngineIO, runner_engine_io, RUNNER, ENGINE_IO, GObject)

/* The largest message of a session before its CONNECT is accepted (the
 * CONNECT and its token): an unauthorized peer holds no more memory. */
#define RUNNER_SIO_PREAUTH_MAX_MESSAGE 4096

RunnerEngineIO *runner_engine_io_new            (SoupServer     *soup,
                                                 RunnerConfig   *config,
                                                 RunnerRegistry *registry,
                                                 RunnerHub      *hub,
                                                 RunnerAuth     *auth);
guint           runner_engine_io_get_n_sessions (RunnerEngineIO *self);
void            runner_engine_io_shutdown       (RunnerEngineIO *self);

G_END_DECLS
