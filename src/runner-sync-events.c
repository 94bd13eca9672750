/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-sync"

#include "config.h"

#include "runner-sync-private.h"

#include <glib/gi18n.h>

#include "runner-error.h"
#include "runner-message.h"
#include "runner-protocol.h"
#include "runner-request.h"

/* The protocol edge: the sync:status and sync:flush events, the sync:state
 * push and GET /sync. */

static void
handle_status (RunnerRequest *request,
               gpointer       user_data)
{
  runner_request_reply (request, runner_sync_to_json (RUNNER_SYNC (user_data)));
}

static void
flush_replied (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(RunnerRequest) request = user_data;
  g_autoptr(GError) error = NULL;

  if (runner_sync_flush_finish (RUNNER_SYNC (source), result, &error))
    runner_request_reply (request, runner_sync_to_json (RUNNER_SYNC (source)));
  else
    runner_request_fail (request, error);
}

static void
handle_flush (RunnerRequest *request,
              gpointer       user_data)
{
  gint64 timeout = 30000;

  if (runner_request_has_member (request, "timeout"))
    {
      g_autoptr(GError) error = NULL;

      if (!runner_request_get_int (request, "timeout", 0, 600000, &timeout, &error))
        {
          runner_request_fail (request, error);
          return;
        }
    }
  runner_sync_flush_async (RUNNER_SYNC (user_data), (guint) timeout, NULL, flush_replied,
                           runner_request_ref (request));
}

static void
broadcast_state (RunnerSync *self)
{
  g_autoptr(RunnerMessage) message = NULL;

  if (self->server == NULL)
    return;
  message = runner_message_new ("sync:state", runner_sync_to_json (self));
  runner_server_broadcast (self->server, message);
}

static void
handle_http (SoupServer        *soup,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  RunnerSync *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  guint status = SOUP_STATUS_OK;

  if (self->server == NULL)
    return;
  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET &&
      soup_server_message_get_method (msg) != SOUP_METHOD_HEAD)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }
  if (!runner_server_authorize (self->server, msg, NULL, &error))
    {
      status = runner_error_to_http_status (error);
      node = runner_json_error_new (error);
    }
  else
    node = runner_sync_to_json (self);
  text = runner_json_to_string (node, &len);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&text), len);
}

/**
 * runner_sync_attach:
 * @self: a #RunnerSync
 * @server: the server
 *
 * Serves the sync state: the `sync:status` event (ack: the state),
 * `sync:flush {timeout?}` (sends what is pending now, acks with the state or
 * EBUSY), the `sync:state` push to every client when it changes (at most
 * every 200 ms), and `GET /sync` (JSON, token required). Undone when @self
 * goes away.
 */
void
runner_sync_attach (RunnerSync   *self,
                    RunnerServer *server)
{
  RunnerProtocol *protocol;

  g_return_if_fail (RUNNER_IS_SYNC (self));
  g_return_if_fail (RUNNER_IS_SERVER (server));
  g_return_if_fail (self->server == NULL);

  self->server = server;
  g_object_add_weak_pointer (G_OBJECT (server), (gpointer *) &self->server);
  protocol = runner_server_get_protocol (server);
  runner_protocol_add (protocol, "sync:status", handle_status, self);
  runner_protocol_add (protocol, "sync:flush", handle_flush, self);
  soup_server_add_handler (runner_server_get_soup_server (server), "/sync", handle_http, self, NULL);
  self->broadcast_id = g_signal_connect (self, "state-changed", G_CALLBACK (broadcast_state), NULL);
}

/* Undoes runner_sync_attach(); from dispose. */
void
runner_sync_detach_server (RunnerSync *self)
{
  if (self->server != NULL)
    {
      runner_protocol_remove_by_data (runner_server_get_protocol (self->server), self);
      soup_server_remove_handler (runner_server_get_soup_server (self->server), "/sync");
      g_object_remove_weak_pointer (G_OBJECT (self->server), (gpointer *) &self->server);
      self->server = NULL;
    }
  g_clear_signal_handler (&self->broadcast_id, self);
}

static void
handle_off (RunnerRequest *request,
            gpointer       user_data)
{
  runner_request_fail_literal (request, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE,
                               _("S3 sync is off: no bucket is configured"));
}

/**
 * runner_sync_attach_off:
 * @server: the server of a Runner without S3 sync
 *
 * Answers the `sync:*` events with ENOTSUP, as any feature that is off,
 * rather than as unknown events.
 */
void
runner_sync_attach_off (RunnerServer *server)
{
  RunnerProtocol *protocol;

  g_return_if_fail (RUNNER_IS_SERVER (server));

  protocol = runner_server_get_protocol (server);
  runner_protocol_add (protocol, "sync:status", handle_off, NULL);
  runner_protocol_add (protocol, "sync:flush", handle_off, NULL);
}
