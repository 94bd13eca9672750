/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <json-glib/json-glib.h>

#include "runner-message.h"
#include "runner-request.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_CLIENT (runner_client_get_type ())

G_DECLARE_DERIVABLE_TYPE (RunnerClient, runner_client, RUNNER, CLIENT, GObject)

/**
 * RunnerClientClass:
 * @send_message: queue a server event for this client
 * @send_reply: answer @request (a Socket.IO ack or a plain-WebSocket reply);
 *   @result_json is the result (or `{"error":{...}}`) as JSON text
 * @get_queued_bytes: bytes accepted but not yet handed to the kernel
 * @close: close the transport; must end with runner_client_notify_closed()
 *
 * One connection, whatever its transport. Transports subclass it; everything
 * above (protocol, workspace, terminals) only sees this class.
 */
struct _RunnerClientClass
{
  GObjectClass parent_class;

  void   (*send_message)     (RunnerClient  *self,
                              RunnerMessage *message);
  void   (*send_reply)       (RunnerClient  *self,
                              RunnerRequest *request,
                              GBytes        *result_json,
                              gboolean       is_error);
  gsize  (*get_queued_bytes) (RunnerClient  *self);
  void   (*close)            (RunnerClient  *self,
                              const char    *reason);

  gpointer padding[8];
};

const char *runner_client_get_id            (RunnerClient  *self);
const char *runner_client_get_transport     (RunnerClient  *self);
const char *runner_client_get_remote        (RunnerClient  *self);
gboolean    runner_client_is_closed         (RunnerClient  *self);
gsize       runner_client_get_queued_bytes  (RunnerClient  *self);
gsize       runner_client_get_max_queued    (RunnerClient  *self);
void        runner_client_set_max_queued    (RunnerClient  *self,
                                             gsize          max_queued);
gboolean    runner_client_is_writable       (RunnerClient  *self);
gboolean    runner_client_send              (RunnerClient  *self,
                                             RunnerMessage *message);
gboolean    runner_client_send_must         (RunnerClient  *self,
                                             RunnerMessage *message);
void        runner_client_close             (RunnerClient  *self,
                                             const char    *reason);

/* For transports */
RunnerRequest *runner_client_new_request    (RunnerClient  *self,
                                             const char    *event,
                                             JsonNode      *args,
                                             gint64         id);
void        runner_client_dispatch          (RunnerClient  *self,
                                             RunnerRequest *request);
void        runner_client_notify_drained    (RunnerClient  *self);
void        runner_client_notify_closed     (RunnerClient  *self);

G_END_DECLS
