/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include <glib.h>

#include "runner-user.h"

G_BEGIN_DECLS

typedef enum
{
  RUNNER_DBUS_AUTO,
  RUNNER_DBUS_SESSION,
  RUNNER_DBUS_SYSTEM,
  RUNNER_DBUS_NONE,
} RunnerDbusMode;

typedef enum
{
  RUNNER_SANDBOX_NONE,
  RUNNER_SANDBOX_BWRAP,
} RunnerSandboxMode;

/**
 * RunnerConfig:
 *
 * Everything Runner is told at start, resolved once by runner_config_load():
 * flags win over the environment, the environment over the `.env` file,
 * that over the defaults. Plain data, read-only after loading.
 */
typedef struct
{
  /* server */
  char      *bind;                /* RUNNER_BIND, --bind; 127.0.0.1 */
  guint      port;                /* PORT, --port; 3001 */
  guint      user_port;           /* USER_PORT; 3000 */
  char      *workspace;           /* WORKSPACE, --workspace; ./workspace when unset */
  char      *token;               /* RUNNER_TOKEN; generated when unset */
  gboolean   token_generated;
  gboolean   no_auth;             /* RUNNER_NO_AUTH, --no-auth */
  char     **allowed_origins;     /* RUNNER_ALLOWED_ORIGINS, comma separated; "*" for any */
  gsize      max_frame;           /* RUNNER_MAX_FRAME; 1 MiB, also Socket.IO maxPayload */
  gsize      max_file_size;       /* RUNNER_MAX_FILE_SIZE; 10 MiB */
  guint      max_connections;     /* RUNNER_MAX_CONNECTIONS; 4096 */
  gsize      max_queued;          /* RUNNER_MAX_QUEUED; 8 MiB per client */
  guint      ping_interval;       /* RUNNER_PING_INTERVAL ms; 25000 */
  guint      ping_timeout;        /* RUNNER_PING_TIMEOUT ms; 20000 */
  guint      request_timeout;     /* RUNNER_REQUEST_TIMEOUT s; 15: a request's head (and body) */
  guint      max_unauthenticated; /* RUNNER_MAX_UNAUTHENTICATED; 256 Socket.IO sessions before CONNECT */
  guint      auth_timeout;        /* RUNNER_AUTH_TIMEOUT s; 10: from handshake to an accepted CONNECT */
  char     **allowed_hosts;       /* RUNNER_ALLOWED_HOSTS, comma separated: Host names --no-auth accepts */

  /* workspace */
  char     **excluded;            /* RUNNER_EXCLUDE, comma separated; node_modules,.git */
  guint      max_entries;         /* RUNNER_MAX_ENTRIES; 100000 */

  /* terminals */
  char      *shell;               /* RUNNER_SHELL, $SHELL, bash, sh */
  gsize      scrollback;          /* RUNNER_SCROLLBACK; 1 MiB */
  guint      max_terminals;       /* RUNNER_MAX_TERMINALS; 32 */
  gsize      max_write;           /* RUNNER_MAX_WRITE; 64 KiB per terminal:write */

  /* app */
  char      *app_command;         /* RUNNER_APP_COMMAND; none */

  /* S3 */
  char      *s3_bucket;           /* S3_BUCKET */
  char      *s3_prefix;           /* S3_PREFIX; code/$REPL_ID/ */
  char      *s3_endpoint;         /* S3_ENDPOINT */
  char      *s3_region;           /* AWS_REGION, AWS_DEFAULT_REGION; us-east-1 */
  char      *state_dir;           /* RUNNER_STATE_DIR; <workspace>/../.runner-state */
  char      *s3_root;             /* RUNNER_S3_ROOT; code/: a prefix names a workspace under it */
  gboolean   s3_off;              /* RUNNER_S3=off: no sync, on purpose (no bucket then) */

  /* user code */
  RunnerUser *user;               /* RUNNER_USER, --user; NULL: Runner's own */

  /* desktop */
  RunnerDbusMode    dbus;         /* RUNNER_DBUS, --dbus; auto */
  RunnerSandboxMode sandbox;      /* RUNNER_SANDBOX, --sandbox; none */
  gboolean          sandbox_network; /* RUNNER_SANDBOX_NETWORK; TRUE */

  gboolean   verbose;
  gboolean   open_browser;
} RunnerConfig;

RunnerConfig *runner_config_new_defaults (void);
gboolean      runner_config_load         (RunnerConfig  *self,
                                          int           *argc,
                                          char        ***argv,
                                          GError       **error);
gboolean      runner_config_apply_env    (RunnerConfig  *self,
                                          const char    *env_file,
                                          GError       **error);
const char   *runner_config_getenv       (const char    *key);
char        **runner_config_child_environ (void);
void          runner_config_free         (RunnerConfig  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunnerConfig, runner_config_free)

G_END_DECLS
