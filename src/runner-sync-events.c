/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-sync"

#include "config.h"

#include "runner-sync-private.h"

#include <glib/gi18n.h>

#include "runner-error.h"
#include "runner-message.h"
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

  if (self->broadcaster == NULL)
    return;
  message = runner_message_new ("sync:state", runner_sync_to_json (self));
  runner_broadcaster_broadcast (self->broadcaster, message);
}

/* GET /sync; the server checked the token. */
static void
handle_http (SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  RunnerSync *self = user_data;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET &&
      soup_server_message_get_method (msg) != SOUP_METHOD_HEAD)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }
  node = runner_sync_to_json (self);
  text = runner_json_to_string (node, &len);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&text), len);
}

static const RunnerEventEntry events[] = {
  { "sync:status", handle_status, NULL, RUNNER_EVENT_FLAGS_NONE },
  { "sync:flush", handle_flush, "timeout?:int", RUNNER_EVENT_FLAGS_NONE },
};

static const RunnerRouteEntry routes[] = {
  { "/sync", handle_http, RUNNER_ROUTE_AUTH },
};

/**
 * runner_sync_attach:
 * @self: a #RunnerSync
 * @broadcaster: the clients, told of state changes
 * @registry: gets the events and the route
 *
 * Serves the sync state: the `sync:status` event (ack: the state),
 * `sync:flush {timeout?}` (sends what is pending now, acks with the state or
 * EBUSY), the `sync:state` push to every client when it changes (at most
 * every 200 ms), and `GET /sync` (JSON, token required).
 */
void
runner_sync_attach (RunnerSync        *self,
                    RunnerBroadcaster *broadcaster,
                    RunnerRegistry    *registry)
{
  g_return_if_fail (RUNNER_IS_SYNC (self));
  g_return_if_fail (RUNNER_IS_BROADCASTER (broadcaster));
  g_return_if_fail (RUNNER_IS_REGISTRY (registry));
  g_return_if_fail (self->broadcaster == NULL);

  g_set_weak_pointer (&self->broadcaster, broadcaster);
  runner_registry_add_events (registry, events, G_N_ELEMENTS (events), self);
  runner_registry_add_routes (registry, routes, G_N_ELEMENTS (routes), self);
  self->broadcast_id = g_signal_connect (self, "state-changed", G_CALLBACK (broadcast_state), NULL);
}

/* Undoes runner_sync_attach()'s push; from dispose. */
void
runner_sync_detach (RunnerSync *self)
{
  g_clear_weak_pointer (&self->broadcaster);
  g_clear_signal_handler (&self->broadcast_id, self);
}

/* Without S3: the same events and route, answering that sync is off. */

static void
fail_unavailable (RunnerRequest *request,
                  gpointer       user_data)
{
  runner_request_fail_literal (request, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE,
                               _("S3 sync is off: no bucket is configured"));
}

static void
handle_http_unavailable (SoupServerMessage *msg,
                         const char        *path,
                         GHashTable        *query,
                         gpointer           user_data)
{
  g_autoptr(GError) error = g_error_new_literal (RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE,
                                                 _("S3 sync is off: no bucket is configured"));
  g_autoptr(JsonNode) node = runner_json_error_new (error);
  gsize len = 0;
  char *text = runner_json_to_string (node, &len);

  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, len);
}

static const RunnerEventEntry unavailable_events[] = {
  { "sync:status", fail_unavailable, NULL, RUNNER_EVENT_FLAGS_NONE },
  { "sync:flush", fail_unavailable, NULL, RUNNER_EVENT_FLAGS_NONE },
};

static const RunnerRouteEntry unavailable_routes[] = {
  { "/sync", handle_http_unavailable, RUNNER_ROUTE_AUTH },
};

/**
 * runner_sync_add_unavailable:
 * @registry: gets the sync events and route
 *
 * For a Runner without a bucket: `sync:status` and `sync:flush` answer
 * ENOTSUP, and `GET /sync` 404 with that error.
 */
void
runner_sync_add_unavailable (RunnerRegistry *registry)
{
  g_return_if_fail (RUNNER_IS_REGISTRY (registry));

  runner_registry_add_events (registry, unavailable_events, G_N_ELEMENTS (unavailable_events),
                              NULL);
  runner_registry_add_routes (registry, unavailable_routes, G_N_ELEMENTS (unavailable_routes),
                              NULL);
}
