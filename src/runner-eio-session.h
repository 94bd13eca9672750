/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <libsoup/soup.h>

#include "runner-eio-codec.h"
#include "runner-websocket.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_EIO_SESSION (runner_eio_session_get_type ())

G_DECLARE_FINAL_TYPE (RunnerEioSession, runner_eio_session, RUNNER, EIO_SESSION, GObject)

/* engine.io's default; the client gives up on a probe after this long. */
#define RUNNER_EIO_UPGRADE_TIMEOUT_MS 10000
/* The most packets one polling POST may carry. */
#define RUNNER_EIO_MAX_PACKETS 16384

RunnerEioSession *runner_eio_session_new            (guint              ping_interval,
                                                     guint              ping_timeout,
                                                     gsize              max_payload);
const char       *runner_eio_session_get_sid        (RunnerEioSession  *self);
const char       *runner_eio_session_get_transport  (RunnerEioSession  *self);
gboolean          runner_eio_session_is_closed      (RunnerEioSession  *self);
gboolean          runner_eio_session_is_upgrading   (RunnerEioSession  *self);
char             *runner_eio_session_build_open     (RunnerEioSession  *self,
                                                     gboolean           can_upgrade);

void              runner_eio_session_handle_poll    (RunnerEioSession  *self,
                                                     SoupServerMessage *msg);
gboolean          runner_eio_session_handle_post    (RunnerEioSession  *self,
                                                     SoupServerMessage *msg,
                                                     GError           **error);
void              runner_eio_session_attach_websocket (RunnerEioSession *self,
                                                     RunnerWebsocket   *websocket);
void              runner_eio_session_set_max_message (RunnerEioSession *self,
                                                     gsize              max_message);
gsize             runner_eio_session_get_max_message (RunnerEioSession *self);

void              runner_eio_session_send           (RunnerEioSession  *self,
                                                     RunnerEioPacketType type,
                                                     const char        *text);
void              runner_eio_session_send_frame     (RunnerEioSession  *self,
                                                     GBytes            *frame);
void              runner_eio_session_send_binary    (RunnerEioSession  *self,
                                                     GBytes            *data);
gsize             runner_eio_session_get_queued     (RunnerEioSession  *self);
void              runner_eio_session_close          (RunnerEioSession  *self,
                                                     const char        *reason);

G_END_DECLS
