/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <libsoup/soup.h>

#include "runner-request.h"

G_BEGIN_DECLS

#define RUNNER_TYPE_REGISTRY (runner_registry_get_type ())

G_DECLARE_FINAL_TYPE (RunnerRegistry, runner_registry, RUNNER, REGISTRY, GObject)

/**
 * RunnerEventHandler:
 * @request: the request; the handler answers it now or keeps a reference
 * @user_data: what was given to runner_registry_add_events()
 */
typedef void (*RunnerEventHandler) (RunnerRequest *request,
                                    gpointer       user_data);

typedef enum
{
  RUNNER_EVENT_FLAGS_NONE = 0,
} RunnerEventFlags;

/**
 * RunnerEventEntry:
 * @name: the event name, e.g. "fetchDir"
 * @handler: called for each request of that name whose arguments fit @schema
 * @schema: (nullable): the members of the argument object, checked before
 *   @handler runs: space-separated `NAME:TYPE`, `NAME?:TYPE` when optional.
 *   TYPE is `string`, `int` (an integral number), `bool`, `object`, `any`, or
 *   `path`: a string in NAME, or its bytes as a base64 string in NAMEBytes.
 *   A null member counts as absent; other members are left to the handler.
 *   A missing required member or one of another JSON type is answered with
 *   EINVAL naming it. Ranges and formats stay the handler's to check.
 * @flags: #RunnerEventFlags
 *
 * One row of a feature's event table, declared `static const` as
 * #GActionEntry rows are; the registry keeps pointers to the rows.
 */
typedef struct
{
  const char         *name;
  RunnerEventHandler  handler;
  const char         *schema;
  RunnerEventFlags    flags;
} RunnerEventEntry;

/**
 * RunnerRouteHandler:
 *
 * Answers one HTTP request; what #SoupServerCallback gets, without the server.
 */
typedef void (*RunnerRouteHandler) (SoupServerMessage *msg,
                                    const char        *path,
                                    GHashTable        *query,
                                    gpointer           user_data);

/**
 * RunnerRouteFlags:
 * @RUNNER_ROUTE_AUTH: the server checks the token before the handler runs
 *   (401 with a JSON error otherwise)
 * @RUNNER_ROUTE_BODY: requests may carry a body (others are refused with 413
 *   before it is read)
 * @RUNNER_ROUTE_PREFIX: the route also serves every path below it; otherwise
 *   only its own path (others are 404)
 */
typedef enum
{
  RUNNER_ROUTE_FLAGS_NONE = 0,
  RUNNER_ROUTE_AUTH       = 1 << 0,
  RUNNER_ROUTE_BODY       = 1 << 1,
  RUNNER_ROUTE_PREFIX     = 1 << 2,
} RunnerRouteFlags;

typedef struct
{
  const char         *path;
  RunnerRouteHandler  handler;
  RunnerRouteFlags    flags;
} RunnerRouteEntry;

/* A route and the data it was added with. */
typedef struct
{
  const RunnerRouteEntry *entry;
  gpointer                user_data;
} RunnerRoute;

RunnerRegistry    *runner_registry_new         (void);
void               runner_registry_add_events  (RunnerRegistry         *self,
                                                const RunnerEventEntry *entries,
                                                gsize                   n_entries,
                                                gpointer                user_data);
void               runner_registry_add_routes  (RunnerRegistry         *self,
                                                const RunnerRouteEntry *entries,
                                                gsize                   n_entries,
                                                gpointer                user_data);
gboolean           runner_registry_has_event   (RunnerRegistry         *self,
                                                const char             *name);
char             **runner_registry_list_events (RunnerRegistry         *self);
char             **runner_registry_list_routes (RunnerRegistry         *self);
GPtrArray         *runner_registry_get_routes  (RunnerRegistry         *self);
const RunnerRoute *runner_registry_match_route (RunnerRegistry         *self,
                                                const char             *path);
void               runner_registry_dispatch    (RunnerRegistry         *self,
                                                RunnerRequest          *request);

G_END_DECLS
