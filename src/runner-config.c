/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-config"

#include "config.h"

#include <errno.h>
#include <sys/random.h>
#include <glib/gi18n.h>

#include "runner-config.h"
#include "runner-error.h"

/* Values read from the .env file; the environment wins over them. */
static GHashTable *dotenv;

/**
 * runner_config_getenv:
 * @key: a variable name
 *
 * Returns: (nullable): the variable from the environment, else from the
 *   `.env` file loaded by runner_config_apply_env()
 */
const char *
runner_config_getenv (const char *key)
{
  const char *value = g_getenv (key);

  if (value == NULL && dotenv != NULL)
    value = g_hash_table_lookup (dotenv, key);
  return value;
}

RunnerConfig *
runner_config_new_defaults (void)
{
  RunnerConfig *self = g_new0 (RunnerConfig, 1);

  self->bind = g_strdup ("127.0.0.1");
  self->port = 3001;
  self->user_port = 3000;
  self->workspace = g_strdup ("workspace");
  self->max_frame = 1000000;
  self->max_file_size = 10 * 1024 * 1024;
  self->max_connections = 4096;
  self->max_queued = 8 * 1024 * 1024;
  self->ping_interval = 25000;
  self->ping_timeout = 20000;
  self->request_timeout = 15;
  self->max_unauthenticated = 256;
  self->auth_timeout = 10;
  self->excluded = g_strsplit ("node_modules,.git", ",", -1);
  self->max_entries = 100000;
  self->scrollback = 1024 * 1024;
  self->max_terminals = 32;
  self->max_write = 64 * 1024;
  self->s3_region = g_strdup ("us-east-1");
  self->s3_root = g_strdup ("code/");
  self->dbus = RUNNER_DBUS_AUTO;
  self->sandbox = RUNNER_SANDBOX_NONE;
  self->sandbox_network = TRUE;
  return self;
}

void
runner_config_free (RunnerConfig *self)
{
  if (self == NULL)
    return;

  g_free (self->bind);
  g_free (self->workspace);
  g_free (self->token);
  g_strfreev (self->allowed_origins);
  g_strfreev (self->allowed_hosts);
  g_strfreev (self->excluded);
  g_free (self->shell);
  g_free (self->app_command);
  g_free (self->s3_bucket);
  g_free (self->s3_prefix);
  g_free (self->s3_endpoint);
  g_free (self->s3_region);
  g_free (self->state_dir);
  g_free (self->s3_root);
  g_clear_pointer (&self->user, runner_user_free);
  g_free (self);
}

static char *
unquote (const char *value)
{
  gsize len = strlen (value);

  if (len >= 2 && ((value[0] == '"' && value[len - 1] == '"') ||
                   (value[0] == '\'' && value[len - 1] == '\'')))
    {
      if (value[0] == '"')
        {
          g_autofree char *inner = g_strndup (value + 1, len - 2);
          return g_strcompress (inner);
        }
      return g_strndup (value + 1, len - 2);
    }
  return g_strdup (value);
}

static gboolean
load_dotenv (const char  *path,
             gboolean     required,
             GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) lines = NULL;

  g_clear_pointer (&dotenv, g_hash_table_unref);

  if (!g_file_get_contents (path, &contents, NULL, &local_error))
    {
      if (!required && g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  _("Could not read %s: "), path);
      return FALSE;
    }

  dotenv = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      char *eq;

      if (*line == '\0' || *line == '#')
        continue;
      if (g_str_has_prefix (line, "export "))
        line = g_strchug (line + 7);
      eq = strchr (line, '=');
      if (eq == NULL || eq == line)
        {
          g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                       _("%s:%u: expected KEY=VALUE"), path, i + 1);
          return FALSE;
        }
      *eq = '\0';
      g_hash_table_replace (dotenv, g_strdup (g_strstrip (line)),
                            unquote (g_strstrip (eq + 1)));
    }

  return TRUE;
}

static gboolean
parse_uint (const char  *key,
            const char  *value,
            guint64      min,
            guint64      max,
            guint64     *out,
            GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  guint64 v;
  char *end = NULL;
  guint64 mult = 1;

  if (value == NULL)
    return TRUE;

  /* Sizes may carry a K, M or G suffix (powers of 1024). */
  errno = 0;
  v = g_ascii_strtoull (value, &end, 10);
  if (end != NULL && end != value && *end != '\0' && end[1] == '\0')
    {
      switch (g_ascii_toupper (*end))
        {
        case 'K': mult = 1024; end++; break;
        case 'M': mult = 1024 * 1024; end++; break;
        case 'G': mult = 1024 * 1024 * 1024; end++; break;
        default: break;
        }
    }

  if (errno != 0 || end == value || *end != '\0' || v > max / mult || v * mult < min)
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("%s must be a number from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT ", not “%s”"),
                   key, min, max, value);
      return FALSE;
    }

  *out = v * mult;
  return TRUE;
}

static gboolean
parse_bool (const char  *key,
            const char  *value,
            gboolean    *out,
            GError     **error)
{
  if (value == NULL)
    return TRUE;

  if (g_ascii_strcasecmp (value, "1") == 0 || g_ascii_strcasecmp (value, "true") == 0 ||
      g_ascii_strcasecmp (value, "yes") == 0 || g_ascii_strcasecmp (value, "on") == 0)
    *out = TRUE;
  else if (g_ascii_strcasecmp (value, "0") == 0 || g_ascii_strcasecmp (value, "false") == 0 ||
           g_ascii_strcasecmp (value, "no") == 0 || g_ascii_strcasecmp (value, "off") == 0 ||
           *value == '\0')
    *out = FALSE;
  else
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("%s must be true or false, not “%s”"), key, value);
      return FALSE;
    }
  return TRUE;
}

static void
set_string (char       **field,
            const char  *value)
{
  if (value == NULL)
    return;
  g_free (*field);
  *field = g_strdup (value);
}

static char **
split_list (const char *value)
{
  g_auto(GStrv) parts = g_strsplit (value, ",", -1);
  GStrvBuilder *builder = g_strv_builder_new ();
  char **ret;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *part = g_strstrip (parts[i]);

      if (*part != '\0')
        g_strv_builder_add (builder, part);
    }
  ret = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return ret;
}

static void
set_list (char       ***field,
          const char   *value)
{
  if (value == NULL)
    return;
  g_strfreev (*field);
  *field = split_list (value);
}

static gboolean
parse_dbus (const char      *value,
            RunnerDbusMode  *out,
            GError         **error)
{
  if (value == NULL)
    return TRUE;
  if (g_str_equal (value, "auto"))
    *out = RUNNER_DBUS_AUTO;
  else if (g_str_equal (value, "session"))
    *out = RUNNER_DBUS_SESSION;
  else if (g_str_equal (value, "system"))
    *out = RUNNER_DBUS_SYSTEM;
  else if (g_str_equal (value, "none"))
    *out = RUNNER_DBUS_NONE;
  else
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("--dbus must be session, system, none or auto, not “%s”"), value);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_sandbox (const char         *value,
               RunnerSandboxMode  *out,
               GError            **error)
{
  if (value == NULL)
    return TRUE;
  if (g_str_equal (value, "none"))
    *out = RUNNER_SANDBOX_NONE;
  else if (g_str_equal (value, "bwrap"))
    *out = RUNNER_SANDBOX_BWRAP;
  else
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("--sandbox must be none or bwrap, not “%s”"), value);
      return FALSE;
    }
  return TRUE;
}

#define SIZE_MAX_SETTING ((guint64) G_MAXSIZE)

static gboolean
apply_size (const char  *key,
            const char  *value,
            guint64      min,
            guint64      max,
            gsize       *field,
            GError     **error)
{
  guint64 v = *field;

  if (!parse_uint (key, value, min, max, &v, error))
    return FALSE;
  *field = v;
  return TRUE;
}

static gboolean
apply_count (const char  *key,
             const char  *value,
             guint64      min,
             guint64      max,
             guint       *field,
             GError     **error)
{
  guint64 v = *field;

  if (!parse_uint (key, value, min, max, &v, error))
    return FALSE;
  *field = v;
  return TRUE;
}

/**
 * runner_config_apply_env:
 * @env_file: (nullable): a `.env` file; %NULL for `./.env` if it exists
 *
 * Applies the environment (and, under it, the `.env` file) over the current
 * values.
 */
gboolean
runner_config_apply_env (RunnerConfig  *self,
                         const char    *env_file,
                         GError       **error)
{
  const char *value;

  if (!load_dotenv (env_file != NULL ? env_file : ".env", env_file != NULL, error))
    return FALSE;

  set_string (&self->bind, runner_config_getenv ("RUNNER_BIND"));
  set_string (&self->bind, runner_config_getenv ("BIND"));
  if (!apply_count ("PORT", runner_config_getenv ("PORT"), 0, 65535, &self->port, error) ||
      !apply_count ("USER_PORT", runner_config_getenv ("USER_PORT"), 1, 65535, &self->user_port, error))
    return FALSE;
  set_string (&self->workspace, runner_config_getenv ("WORKSPACE"));
  set_string (&self->token, runner_config_getenv ("RUNNER_TOKEN"));
  if (!parse_bool ("RUNNER_NO_AUTH", runner_config_getenv ("RUNNER_NO_AUTH"), &self->no_auth, error))
    return FALSE;
  set_list (&self->allowed_origins, runner_config_getenv ("RUNNER_ALLOWED_ORIGINS"));
  set_list (&self->allowed_hosts, runner_config_getenv ("RUNNER_ALLOWED_HOSTS"));
  if (!apply_size ("RUNNER_MAX_FRAME", runner_config_getenv ("RUNNER_MAX_FRAME"), 1024, 1024 * 1024 * 1024, &self->max_frame, error) ||
      !apply_size ("RUNNER_MAX_FILE_SIZE", runner_config_getenv ("RUNNER_MAX_FILE_SIZE"), 0, SIZE_MAX_SETTING, &self->max_file_size, error) ||
      !apply_count ("RUNNER_MAX_CONNECTIONS", runner_config_getenv ("RUNNER_MAX_CONNECTIONS"), 1, 1000000, &self->max_connections, error) ||
      !apply_size ("RUNNER_MAX_QUEUED", runner_config_getenv ("RUNNER_MAX_QUEUED"), 4096, SIZE_MAX_SETTING, &self->max_queued, error) ||
      !apply_count ("RUNNER_PING_INTERVAL", runner_config_getenv ("RUNNER_PING_INTERVAL"), 10, 3600000, &self->ping_interval, error) ||
      !apply_count ("RUNNER_PING_TIMEOUT", runner_config_getenv ("RUNNER_PING_TIMEOUT"), 10, 3600000, &self->ping_timeout, error) ||
      !apply_count ("RUNNER_REQUEST_TIMEOUT", runner_config_getenv ("RUNNER_REQUEST_TIMEOUT"), 1, 3600, &self->request_timeout, error) ||
      !apply_count ("RUNNER_MAX_UNAUTHENTICATED", runner_config_getenv ("RUNNER_MAX_UNAUTHENTICATED"), 1, 1000000, &self->max_unauthenticated, error) ||
      !apply_count ("RUNNER_AUTH_TIMEOUT", runner_config_getenv ("RUNNER_AUTH_TIMEOUT"), 1, 3600, &self->auth_timeout, error) ||
      !apply_count ("RUNNER_MAX_ENTRIES", runner_config_getenv ("RUNNER_MAX_ENTRIES"), 1, G_MAXUINT, &self->max_entries, error) ||
      !apply_size ("RUNNER_SCROLLBACK", runner_config_getenv ("RUNNER_SCROLLBACK"), 4096, 1024 * 1024 * 1024, &self->scrollback, error) ||
      !apply_count ("RUNNER_MAX_TERMINALS", runner_config_getenv ("RUNNER_MAX_TERMINALS"), 1, 10000, &self->max_terminals, error) ||
      !apply_size ("RUNNER_MAX_WRITE", runner_config_getenv ("RUNNER_MAX_WRITE"), 1, 64 * 1024 * 1024, &self->max_write, error))
    return FALSE;
  set_list (&self->excluded, runner_config_getenv ("RUNNER_EXCLUDE"));

  value = runner_config_getenv ("RUNNER_SHELL");
  if (value == NULL)
    value = g_getenv ("SHELL");
  set_string (&self->shell, value);
  set_string (&self->app_command, runner_config_getenv ("RUNNER_APP_COMMAND"));

  set_string (&self->s3_bucket, runner_config_getenv ("S3_BUCKET"));
  set_string (&self->s3_prefix, runner_config_getenv ("S3_PREFIX"));
  set_string (&self->s3_endpoint, runner_config_getenv ("S3_ENDPOINT"));
  set_string (&self->s3_region, runner_config_getenv ("AWS_DEFAULT_REGION"));
  set_string (&self->s3_region, runner_config_getenv ("AWS_REGION"));
  set_string (&self->state_dir, runner_config_getenv ("RUNNER_STATE_DIR"));
  set_string (&self->s3_root, runner_config_getenv ("RUNNER_S3_ROOT"));
  value = runner_config_getenv ("RUNNER_S3");
  if (value != NULL && !g_str_equal (value, "off") && !g_str_equal (value, "auto"))
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("RUNNER_S3 must be auto or off, not “%s”"), value);
      return FALSE;
    }
  self->s3_off = value != NULL && g_str_equal (value, "off");
  if (self->s3_off)
    g_clear_pointer (&self->s3_bucket, g_free);
  if (self->s3_prefix == NULL && runner_config_getenv ("REPL_ID") != NULL)
    self->s3_prefix = g_strdup_printf ("code/%s/", runner_config_getenv ("REPL_ID"));

  if (!parse_dbus (runner_config_getenv ("RUNNER_DBUS"), &self->dbus, error) ||
      !parse_sandbox (runner_config_getenv ("RUNNER_SANDBOX"), &self->sandbox, error) ||
      !parse_bool ("RUNNER_SANDBOX_NETWORK", runner_config_getenv ("RUNNER_SANDBOX_NETWORK"),
                   &self->sandbox_network, error) ||
      !parse_bool ("RUNNER_VERBOSE", runner_config_getenv ("RUNNER_VERBOSE"), &self->verbose, error))
    return FALSE;

  return TRUE;
}

/**
 * runner_config_load:
 *
 * Parses the command line, then resolves every setting: flags win over the
 * environment, the environment over the `.env` file (`--env-file`,
 * RUNNER_ENV_FILE, else `./.env`), that over the defaults.
 */
gboolean
runner_config_load (RunnerConfig   *self,
                    int            *argc,
                    char         ***argv,
                    GError        **error)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autofree char *bind = NULL, *workspace = NULL, *token = NULL, *origins = NULL, *hosts = NULL;
  g_autofree char *request_timeout = NULL, *max_unauthenticated = NULL, *auth_timeout = NULL;
  g_autofree char *dbus = NULL, *sandbox = NULL, *env_file = NULL, *shell = NULL;
  g_autofree char *max_frame = NULL, *max_file_size = NULL, *max_queued = NULL;
  g_autofree char *user = NULL;
  int port = -1, max_connections = -1, max_terminals = -1;
  gboolean no_auth = FALSE, verbose = FALSE, version = FALSE, no_network = FALSE;
  const GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, N_("Port to serve (PORT, default 3001; 0 picks one)"), N_("PORT") },
    { "bind", 'b', 0, G_OPTION_ARG_STRING, &bind, N_("Address to bind (RUNNER_BIND, default 127.0.0.1)"), N_("ADDRESS") },
    { "workspace", 'w', 0, G_OPTION_ARG_FILENAME, &workspace, N_("Workspace folder (WORKSPACE, default ./workspace)"), N_("DIR") },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token, N_("Access token (RUNNER_TOKEN; generated if unset)"), N_("TOKEN") },
    { "no-auth", 0, 0, G_OPTION_ARG_NONE, &no_auth, N_("Accept clients without a token (RUNNER_NO_AUTH)"), NULL },
    { "allowed-origins", 0, 0, G_OPTION_ARG_STRING, &origins, N_("Comma-separated browser origins to accept (RUNNER_ALLOWED_ORIGINS)"), N_("LIST") },
    { "allowed-hosts", 0, 0, G_OPTION_ARG_STRING, &hosts, N_("Comma-separated Host names to accept with --no-auth besides loopback ones (RUNNER_ALLOWED_HOSTS)"), N_("LIST") },
    { "max-frame", 0, 0, G_OPTION_ARG_STRING, &max_frame, N_("Largest message from a client (RUNNER_MAX_FRAME, default 1000000)"), N_("BYTES") },
    { "max-file-size", 0, 0, G_OPTION_ARG_STRING, &max_file_size, N_("Largest file read or written over the socket (RUNNER_MAX_FILE_SIZE, default 10M)"), N_("BYTES") },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &max_connections, N_("Most clients at once (RUNNER_MAX_CONNECTIONS, default 4096)"), N_("N") },
    { "max-unauthenticated", 0, 0, G_OPTION_ARG_STRING, &max_unauthenticated, N_("Most Socket.IO sessions waiting for their CONNECT (RUNNER_MAX_UNAUTHENTICATED, default 256)"), N_("N") },
    { "auth-timeout", 0, 0, G_OPTION_ARG_STRING, &auth_timeout, N_("Seconds a Socket.IO session has to connect with the token (RUNNER_AUTH_TIMEOUT, default 10)"), N_("SECONDS") },
    { "request-timeout", 0, 0, G_OPTION_ARG_STRING, &request_timeout, N_("Seconds a connection has to send a whole request (RUNNER_REQUEST_TIMEOUT, default 15)"), N_("SECONDS") },
    { "max-queued", 0, 0, G_OPTION_ARG_STRING, &max_queued, N_("Most bytes queued for one client (RUNNER_MAX_QUEUED, default 8M)"), N_("BYTES") },
    { "max-terminals", 0, 0, G_OPTION_ARG_INT, &max_terminals, N_("Most terminals at once (RUNNER_MAX_TERMINALS, default 32)"), N_("N") },
    { "shell", 0, 0, G_OPTION_ARG_FILENAME, &shell, N_("Shell for terminals (RUNNER_SHELL, else $SHELL, bash, sh)"), N_("PATH") },
    { "dbus", 0, 0, G_OPTION_ARG_STRING, &dbus, N_("D-Bus: session, system, none or auto (RUNNER_DBUS)"), N_("BUS") },
    { "sandbox", 0, 0, G_OPTION_ARG_STRING, &sandbox, N_("Sandbox for shells and the app: none or bwrap (RUNNER_SANDBOX)"), N_("KIND") },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, N_("Run shells and the app as this user, NAME or UID[:GID] (RUNNER_USER; needs root or CAP_SETUID and CAP_SETGID)"), N_("USER") },
    { "sandbox-no-network", 0, 0, G_OPTION_ARG_NONE, &no_network, N_("Cut the network inside the sandbox (RUNNER_SANDBOX_NETWORK=false)"), NULL },
    { "env-file", 0, 0, G_OPTION_ARG_FILENAME, &env_file, N_("Read settings from this file (RUNNER_ENV_FILE, default ./.env)"), N_("FILE") },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_("Print debug output"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), NULL },
    { NULL }
  };

  context = g_option_context_new (_("[serve|sync-down|sync-up|status] — the workspace runner"));
  g_option_context_set_summary (context,
                                _("Serves a shell, the workspace's files and the user's app to a "
                                  "browser IDE over Socket.IO and WebSocket."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (version)
    {
      g_print ("runner %s\n", PACKAGE_VERSION);
      exit (EXIT_SUCCESS);
    }

  if (env_file == NULL && g_getenv ("RUNNER_ENV_FILE") != NULL)
    env_file = g_strdup (g_getenv ("RUNNER_ENV_FILE"));
  if (!runner_config_apply_env (self, env_file, error))
    return FALSE;

  /* Flags last: they win. */
  if (port >= 0)
    {
      if (port > 65535)
        {
          g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID, _("--port must be 0 to 65535"));
          return FALSE;
        }
      self->port = port;
    }
  set_string (&self->bind, bind);
  set_string (&self->workspace, workspace);
  set_string (&self->token, token);
  set_list (&self->allowed_origins, origins);
  set_list (&self->allowed_hosts, hosts);
  set_string (&self->shell, shell);
  if (no_auth)
    self->no_auth = TRUE;
  if (no_network)
    self->sandbox_network = FALSE;
  if (verbose)
    self->verbose = TRUE;
  if (max_connections > 0)
    self->max_connections = max_connections;
  if (max_terminals > 0)
    self->max_terminals = max_terminals;
  if (!apply_size ("--max-frame", max_frame, 1024, 1024 * 1024 * 1024, &self->max_frame, error) ||
      !apply_size ("--max-file-size", max_file_size, 0, SIZE_MAX_SETTING, &self->max_file_size, error) ||
      !apply_size ("--max-queued", max_queued, 4096, SIZE_MAX_SETTING, &self->max_queued, error) ||
      !apply_count ("--request-timeout", request_timeout, 1, 3600, &self->request_timeout, error) ||
      !apply_count ("--max-unauthenticated", max_unauthenticated, 1, 1000000, &self->max_unauthenticated, error) ||
      !apply_count ("--auth-timeout", auth_timeout, 1, 3600, &self->auth_timeout, error) ||
      !parse_dbus (dbus, &self->dbus, error) ||
      !parse_sandbox (sandbox, &self->sandbox, error))
    return FALSE;

  if (user == NULL)
    user = g_strdup (runner_config_getenv ("RUNNER_USER"));
  if (user != NULL && *user != '\0')
    {
      g_clear_pointer (&self->user, runner_user_free);
      self->user = runner_user_lookup (user, error);
      if (self->user == NULL)
        return FALSE;
    }

  if (!self->no_auth && (self->token == NULL || *self->token == '\0'))
    {
      guint8 raw[24];
      GString *hex = g_string_new (NULL);

      /* Like Jupyter: a fresh token each start, printed with the URL. */
      if (getrandom (raw, sizeof raw, 0) != sizeof raw)
        {
          g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_FAILED,
                               _("Could not make a random token"));
          g_string_free (hex, TRUE);
          return FALSE;
        }
      for (guint i = 0; i < G_N_ELEMENTS (raw); i++)
        g_string_append_printf (hex, "%02x", raw[i]);
      g_free (self->token);
      self->token = g_string_free (hex, FALSE);
      self->token_generated = TRUE;
    }

  return TRUE;
}

/**
 * runner_config_child_environ:
 *
 * Returns: (transfer full): Runner's environment without what must not reach
 *   the shell or the user's app: AWS credentials, S3 settings and Runner's own
 *   settings (its token among them)
 */
char **
runner_config_child_environ (void)
{
  g_auto(GStrv) env = g_get_environ ();
  GStrvBuilder *builder = g_strv_builder_new ();
  char **ret;

  for (guint i = 0; env[i] != NULL; i++)
    {
      if (g_str_has_prefix (env[i], "AWS_") || g_str_has_prefix (env[i], "S3_") ||
          g_str_has_prefix (env[i], "RUNNER_") || g_str_has_prefix (env[i], "G_MESSAGES_"))
        continue;
      g_strv_builder_add (builder, env[i]);
    }
  ret = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return ret;
}
