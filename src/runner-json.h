/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The deepest nesting of arrays and objects accepted from a peer. */
#define RUNNER_JSON_MAX_DEPTH 64

/* The most bytes runner_json_escape() writes per input byte. */
#define RUNNER_JSON_ESCAPE_EXPANSION 6

JsonNode *runner_json_parse                (const char    *text,
                                            gsize          len,
                                            guint          max_depth,
                                            GError       **error);
gboolean  runner_json_string_has_nul       (const char    *str);
gboolean  runner_json_string_has_surrogate (const char    *str);
char     *runner_json_string_decode_nul    (const char    *str,
                                            gsize         *len);

gsize     runner_json_escape               (const guint8  *data,
                                            gsize          len,
                                            char          *out);
gboolean  runner_json_escape_strict        (const guint8  *data,
                                            gsize          len,
                                            char          *out,
                                            gsize         *out_len);
void      runner_json_append_string        (GString       *out,
                                            const char    *str,
                                            gssize         len);
gboolean  runner_json_append_text          (GString       *out,
                                            const guint8  *data,
                                            gsize          len);

char     *runner_json_to_string            (JsonNode      *node,
                                            gsize         *length);
JsonNode *runner_json_error_new            (const GError  *error);

G_END_DECLS
