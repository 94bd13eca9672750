/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <libsoup/soup.h>

#include "runner-config.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_AUTH (runner_auth_get_type ())

G_DECLARE_FINAL_TYPE (RunnerAuth, runner_auth, RUNNER, AUTH, GObject)

RunnerAuth *runner_auth_new          (RunnerConfig       *config);
gboolean    runner_auth_check_token  (RunnerAuth         *self,
                                      const char         *token);
gboolean    runner_auth_authorize    (RunnerAuth         *self,
                                      SoupServerMessage  *msg,
                                      const char         *token,
                                      GError            **error);
gboolean    runner_auth_check_origin (RunnerAuth         *self,
                                      SoupServerMessage  *msg);
gboolean    runner_auth_check_host   (RunnerAuth         *self,
                                      SoupServerMessage  *msg);

G_END_DECLS
