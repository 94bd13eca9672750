/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

const char *runner_enum_get_nick (GType enum_type,
                                  int   value);

G_END_DECLS
