/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include "runner-json.h"

G_BEGIN_DECLS

/**
 * RunnerFramer:
 * @write_header: appends what goes before the payload, given the event name
 *   as a quoted JSON string
 * @trailer: what goes after the payload
 *
 * How one transport puts a message on its wire: header, payload, trailer.
 * Each transport declares one as a static constant; frames are cached per
 * framer, so a broadcast is framed once per transport.
 */
typedef struct
{
  void       (*write_header) (GString    *out,
                              const char *event_json);
  const char  *trailer;
} RunnerFramer;

/* The most framers a message caches frames for. */
#define RUNNER_MESSAGE_MAX_FRAMERS 4

/* Room a message keeps around its payload for the first framing in place:
 * before it, the event name as JSON plus this; after it, this. */
#define RUNNER_MESSAGE_HEADROOM 24
#define RUNNER_MESSAGE_TAILROOM 8

/**
 * RunnerMessage:
 *
 * An immutable, reference-counted server event: a name and a JSON payload,
 * the same for every transport. Each transport's framer puts it on its wire;
 * see runner_message_get_frame().
 */
typedef struct _RunnerMessage RunnerMessage;

GType          runner_message_get_type        (void) G_GNUC_CONST;
RunnerMessage *runner_message_new             (const char          *event,
                                               JsonNode            *data);
RunnerMessage *runner_message_new_take_text   (const char          *event,
                                               char                *data_json,
                                               gsize                len);
GString       *runner_message_buffer_new      (const char          *event,
                                               gsize                payload_len_hint);
RunnerMessage *runner_message_new_from_buffer (const char          *event,
                                               GString             *buffer);
RunnerMessage *runner_message_ref             (RunnerMessage       *self);
void           runner_message_unref           (RunnerMessage       *self);
const char    *runner_message_get_event       (RunnerMessage       *self);
GBytes        *runner_message_get_data_text   (RunnerMessage       *self);
GBytes        *runner_message_get_frame       (RunnerMessage       *self,
                                               const RunnerFramer  *framer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunnerMessage, runner_message_unref)

G_END_DECLS
