/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * RunnerFrameKind:
 * @RUNNER_FRAME_JSON: the plain WebSocket form, `{"event":E,"data":D}`
 * @RUNNER_FRAME_SIO: a Socket.IO EVENT packet on the main namespace, `42["E",D]`
 *   (without the Engine.IO framing of the polling transport)
 */
typedef enum
{
  RUNNER_FRAME_JSON,
  RUNNER_FRAME_SIO,
  RUNNER_N_FRAME_KINDS
} RunnerFrameKind;

/**
 * RunnerMessage:
 *
 * An immutable, reference-counted server event (name + JSON data) that is
 * broadcast to many clients. The data is serialized once; each wire form is
 * built once, on first use, and shared by every client of that transport.
 */
typedef struct _RunnerMessage RunnerMessage;

GType          runner_message_get_type       (void) G_GNUC_CONST;
RunnerMessage *runner_message_new            (const char      *event,
                                              JsonNode        *data);
RunnerMessage *runner_message_new_take_text  (const char      *event,
                                              char            *data_json,
                                              gsize            len);
RunnerMessage *runner_message_ref            (RunnerMessage   *self);
void           runner_message_unref          (RunnerMessage   *self);
const char    *runner_message_get_event      (RunnerMessage   *self);
GBytes        *runner_message_get_data_text  (RunnerMessage   *self);
GString       *runner_message_frame_begin    (RunnerFrameKind  kind,
                                              const char      *event,
                                              gsize            data_len);
RunnerMessage *runner_message_frame_end      (GString         *frame,
                                              RunnerFrameKind  kind,
                                              const char      *event,
                                              gsize            data_offset);
GBytes        *runner_message_get_frame      (RunnerMessage   *self,
                                              RunnerFrameKind  kind);

char          *runner_json_to_string         (JsonNode        *node,
                                              gsize           *length);
void           runner_json_append_string     (GString         *out,
                                              const char      *str,
                                              gssize           len);
JsonNode      *runner_json_error_new         (const GError    *error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunnerMessage, runner_message_unref)

G_END_DECLS
