/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Test helpers: the real `runner` binary, and a libsoup WebSocket client. */

typedef gboolean (*RunnerTestCondition) (gpointer user_data);

gboolean runner_test_wait       (RunnerTestCondition condition,
                                 gpointer            user_data,
                                 guint               timeout_ms);
void     runner_test_wait_or_fail (RunnerTestCondition condition,
                                 gpointer            user_data,
                                 guint               timeout_ms,
                                 const char         *what);
char    *runner_test_make_tmpdir (void);
void     runner_test_rm_rf      (const char         *path);

typedef struct
{
  GSubprocess *process;
  char        *dir;        /* owned temp dir holding the workspace */
  char        *workspace;  /* dir/workspace */
  char        *token;
  guint        port;
  GString     *output;     /* stdout so far */
  GString     *errors;     /* stderr so far */
  gboolean     exited;
  int          exit_status;
  GCancellable *cancellable;
  guint        fd_limit;   /* RLIMIT_NOFILE (soft and hard) for the runner; 0 leaves it */
  guint        uid;        /* uid and gid the runner runs as (the test is root); 0 leaves them */
} RunnerTestServer;

RunnerTestServer *runner_test_server_new       (void);
gboolean          runner_test_server_start     (RunnerTestServer   *server,
                                                const char * const *args,
                                                const char * const *env,
                                                GError            **error);
RunnerTestServer *runner_test_server_start_default (const char * const *args,
                                                    const char * const *env);
void              runner_test_server_stop      (RunnerTestServer   *server);
void              runner_test_server_kill      (RunnerTestServer   *server);
void              runner_test_server_free      (RunnerTestServer   *server);
char             *runner_test_server_url       (RunnerTestServer   *server,
                                                const char         *path);
guint             runner_test_http_get         (RunnerTestServer   *server,
                                                const char         *path,
                                                const char         *bearer,
                                                char              **body);

GSocketConnection *runner_test_raw_websocket    (RunnerTestServer  *server);
GSocketConnection *runner_test_raw_websocket_at (RunnerTestServer  *server,
                                                 const char        *path);
gboolean           runner_test_ws_send_frame    (GSocketConnection *conn,
                                                 guint8             first,
                                                 const void        *payload,
                                                 gsize              len);
GBytes            *runner_test_ws_read_frame    (GSocketConnection *conn,
                                                 guint8            *first);

typedef struct
{
  SoupSession             *session;
  SoupWebsocketConnection *conn;
  GQueue                   messages;  /* JsonNode*, each a whole envelope */
  gint64                   next_id;
  gboolean                 closed;
  gushort                  close_code;
  gsize                    bytes_received;
  gboolean                 paused;
} RunnerTestClient;

RunnerTestClient *runner_test_client_connect   (RunnerTestServer   *server,
                                                const char         *path,
                                                const char         *token,
                                                const char         *origin,
                                                GError            **error);
RunnerTestClient *runner_test_client_new       (RunnerTestServer   *server);
void              runner_test_client_send      (RunnerTestClient   *client,
                                                const char         *text);
JsonNode         *runner_test_client_request   (RunnerTestClient   *client,
                                                const char         *event,
                                                const char         *data_json);
JsonNode         *runner_test_client_wait_event (RunnerTestClient  *client,
                                                 const char        *event);
JsonNode         *runner_test_client_wait_id   (RunnerTestClient   *client,
                                                gint64              id);
void              runner_test_client_wait_closed (RunnerTestClient *client);
void              runner_test_client_free      (RunnerTestClient   *client);

const char       *runner_test_error_code       (JsonNode           *envelope);
void              runner_test_assert_ok        (JsonNode           *reply);
JsonObject       *runner_test_find_object      (JsonArray          *array,
                                                const char         *member,
                                                const char         *value);
GPid              runner_test_server_get_pid   (RunnerTestServer   *server);
gint64            runner_test_rss_kb           (GPid                pid);
JsonObject       *runner_test_data             (JsonNode           *envelope);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunnerTestServer, runner_test_server_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunnerTestClient, runner_test_client_free)

G_END_DECLS
