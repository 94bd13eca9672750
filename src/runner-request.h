/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _RunnerClient RunnerClient;
typedef struct _RunnerRequest RunnerRequest;

/**
 * RunnerRequest:
 *
 * One event from a client: its name, its arguments and, when the client asked
 * for an answer (Socket.IO ack id, plain-WebSocket `id`), the way back.
 * Handlers may keep a reference and answer later; an answer to a client that
 * has gone away is dropped. Exactly one of runner_request_reply() or
 * runner_request_fail() should be called; an unanswered request is answered
 * with an error when its last reference goes.
 */
#define RUNNER_REQUEST_NO_ID ((gint64) -1)
#define RUNNER_TYPE_REQUEST (runner_request_get_type ())

/**
 * RunnerRequestSink:
 * @is_closed: whether the client has gone away
 * @reply: hand the client the answer (JSON text; @is_error for errors)
 * @done: a dispatched request went away (the client's in-flight count)
 *
 * The way back to the client a request came from; #RunnerClient provides it
 * (runner_client_new_request()), so that requests need not know clients.
 */
typedef struct
{
  gboolean (*is_closed) (RunnerClient  *client);
  void     (*reply)     (RunnerClient  *client,
                         RunnerRequest *request,
                         GBytes        *result_json,
                         gboolean       is_error);
  void     (*done)      (RunnerClient  *client);
} RunnerRequestSink;

GType          runner_request_get_type        (void) G_GNUC_CONST;
RunnerRequest *runner_request_new             (RunnerClient            *client,
                                               const RunnerRequestSink *sink,
                                               const char              *event,
                                               JsonNode                *args,
                                               gint64                   id);
RunnerRequest *runner_request_ref             (RunnerRequest  *self);
void           runner_request_unref           (RunnerRequest  *self);
RunnerClient  *runner_request_get_client      (RunnerRequest  *self);
const char    *runner_request_get_event       (RunnerRequest  *self);
gint64         runner_request_get_id          (RunnerRequest  *self);
gboolean       runner_request_wants_reply     (RunnerRequest  *self);
JsonNode      *runner_request_get_args        (RunnerRequest  *self);
JsonObject    *runner_request_get_object      (RunnerRequest  *self);
void           runner_request_set_bytes       (RunnerRequest  *self,
                                               const char     *member,
                                               GBytes         *bytes);
gboolean       runner_request_is_answered     (RunnerRequest  *self);
void           runner_request_reply           (RunnerRequest  *self,
                                               JsonNode       *result);
void           runner_request_reply_ok        (RunnerRequest  *self);
void           runner_request_reply_text      (RunnerRequest  *self,
                                               GBytes         *result_json);
void           runner_request_fail            (RunnerRequest  *self,
                                               const GError   *error);
void           runner_request_fail_literal    (RunnerRequest  *self,
                                               GQuark          domain,
                                               int             code,
                                               const char     *message);

/* Argument checks: each fills @error with EINVAL naming the member. */
const char    *runner_request_get_string      (RunnerRequest  *self,
                                               const char     *member,
                                               gboolean        required,
                                               GError        **error);
gboolean       runner_request_get_int         (RunnerRequest  *self,
                                               const char     *member,
                                               gint64          min,
                                               gint64          max,
                                               gint64         *value,
                                               GError        **error);
gboolean       runner_request_get_bool        (RunnerRequest  *self,
                                               const char     *member,
                                               gboolean       *value,
                                               GError        **error);
gboolean       runner_request_has_member      (RunnerRequest  *self,
                                               const char     *member);
char          *runner_request_get_data        (RunnerRequest  *self,
                                               const char     *member,
                                               gsize          *len,
                                               GError        **error);
char          *runner_request_get_path        (RunnerRequest  *self,
                                               const char     *member,
                                               gboolean        required,
                                               GError        **error);
gboolean       runner_request_check_text      (RunnerRequest  *self,
                                               GError        **error);
GBytes        *runner_request_get_bytes       (RunnerRequest  *self,
                                               const char     *member,
                                               gsize           max_size,
                                               GError        **error);

void           runner_request_set_in_flight   (RunnerRequest  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunnerRequest, runner_request_unref)

G_END_DECLS
