/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The most bytes runner_utf8_escape_json() writes per input byte. */
#define RUNNER_UTF8_JSON_EXPANSION 6

gsize runner_utf8_incomplete_tail (const guint8 *data,
                                   gsize         len);
gsize runner_utf8_escape_json     (const guint8 *data,
                                   gsize         len,
                                   char         *out);
gboolean runner_utf8_escape_json_strict (const guint8 *data,
                                         gsize         len,
                                         char         *out,
                                         gsize        *out_len);
gboolean runner_utf8_validate           (const guint8 *data,
                                         gsize         len);
GBytes  *runner_utf8_make_valid_bytes   (GBytes       *text);
gboolean runner_utf8_has_json_nul       (const char   *str);
gboolean runner_utf8_has_json_surrogate (const char   *str);
char    *runner_utf8_decode_json_nul    (const char   *str,
                                         gsize        *len);

G_END_DECLS
