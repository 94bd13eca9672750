/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <glib/gstdio.h>

#include "runner-config.h"
#include "runner-error.h"

/* Settings: flags win over the environment, the environment over .env. */

typedef struct
{
  char *dir;
  char *env_file;
} Fixture;

static const char *variables[] = {
  "PORT", "WORKSPACE", "RUNNER_TOKEN", "RUNNER_NO_AUTH", "RUNNER_BIND", "BIND",
  "RUNNER_MAX_FILE_SIZE", "RUNNER_ALLOWED_ORIGINS", "RUNNER_EXCLUDE", "S3_PREFIX", "REPL_ID",
  "RUNNER_SANDBOX", "RUNNER_DBUS", "RUNNER_ENV_FILE", "RUNNER_MAX_QUEUED", NULL
};

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  for (guint i = 0; variables[i] != NULL; i++)
    g_unsetenv (variables[i]);
  fixture->dir = g_dir_make_tmp ("runner-config-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->env_file = g_build_filename (fixture->dir, "settings.env", NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_unlink (fixture->env_file);
  g_rmdir (fixture->dir);
  g_free (fixture->env_file);
  g_free (fixture->dir);
  for (guint i = 0; variables[i] != NULL; i++)
    g_unsetenv (variables[i]);
}

static RunnerConfig *
load (const char * const *args,
      GError            **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  RunnerConfig *config = runner_config_new_defaults ();
  char **argvp;
  int argc;

  g_ptr_array_add (argv, (gpointer) "runner");
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  argc = argv->len - 1;
  argvp = (char **) argv->pdata;

  if (!runner_config_load (config, &argc, &argvp, error))
    {
      runner_config_free (config);
      return NULL;
    }
  return config;
}

static void
test_defaults (Fixture       *fixture,
               gconstpointer  data)
{
  const char *args[] = { "--env-file", fixture->env_file, NULL };
  g_autoptr(RunnerConfig) config = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (fixture->env_file, "", -1, NULL));
  config = load (args, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (config->port, ==, 3001);
  g_assert_cmpuint (config->user_port, ==, 3000);
  g_assert_cmpstr (config->bind, ==, "127.0.0.1");
  g_assert_cmpstr (config->workspace, ==, "workspace");
  g_assert_cmpstrv (config->excluded, ((const char *[]) { "node_modules", ".git", NULL }));
  g_assert_false (config->no_auth);
  /* No token given: one is made, long and random. */
  g_assert_true (config->token_generated);
  g_assert_cmpuint (strlen (config->token), ==, 48);
  g_assert_cmpuint (config->sandbox, ==, RUNNER_SANDBOX_NONE);
}

static void
test_precedence (Fixture       *fixture,
                 gconstpointer  data)
{
  const char *args[] = { "--env-file", fixture->env_file, "--port", "4444", NULL };
  g_autoptr(RunnerConfig) config = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (fixture->env_file,
                                      "# a comment\n"
                                      "PORT=1111\n"
                                      "export WORKSPACE=/from/dotenv\n"
                                      "RUNNER_TOKEN=\"dotenv-token\"\n"
                                      "RUNNER_MAX_FILE_SIZE=2M\n"
                                      "REPL_ID=abc123\n"
                                      "RUNNER_EXCLUDE=node_modules, .git , dist\n",
                                      -1, NULL));
  g_setenv ("PORT", "2222", TRUE);
  g_setenv ("WORKSPACE", "/from/env", TRUE);

  config = load (args, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (config->port, ==, 4444);                 /* flag > env > .env */
  g_assert_cmpstr (config->workspace, ==, "/from/env");      /* env > .env */
  g_assert_cmpstr (config->token, ==, "dotenv-token");       /* .env > default */
  g_assert_false (config->token_generated);
  g_assert_cmpuint (config->max_file_size, ==, 2 * 1024 * 1024);
  g_assert_cmpstr (config->s3_prefix, ==, "code/abc123/");
  g_assert_cmpstrv (config->excluded, ((const char *[]) { "node_modules", ".git", "dist", NULL }));
}

static void
test_bad_values (Fixture       *fixture,
                 gconstpointer  data)
{
  static const char *bad_env[][2] = {
    { "PORT", "70000" },
    { "PORT", "12ab" },
    { "RUNNER_NO_AUTH", "maybe" },
    { "RUNNER_MAX_QUEUED", "1" },
    { "RUNNER_SANDBOX", "docker" },
    { "RUNNER_DBUS", "bus" },
  };
  const char *args[] = { "--env-file", fixture->env_file, NULL };

  g_assert_true (g_file_set_contents (fixture->env_file, "", -1, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (bad_env); i++)
    {
      g_autoptr(RunnerConfig) config = NULL;
      g_autoptr(GError) error = NULL;

      g_setenv (bad_env[i][0], bad_env[i][1], TRUE);
      config = load (args, &error);
      g_assert_null (config);
      g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID);
      /* The message names the setting (or its flag). */
      g_assert_true (strstr (error->message, bad_env[i][0]) != NULL || strstr (error->message, "--") != NULL);
      g_unsetenv (bad_env[i][0]);
    }

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(RunnerConfig) config = NULL;

    g_assert_true (g_file_set_contents (fixture->env_file, "this line has no equals sign\n", -1, NULL));
    config = load (args, &error);
    g_assert_null (config);
    g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID);
  }

  {
    const char *missing[] = { "--env-file", "/nonexistent/runner.env", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(RunnerConfig) config = load (missing, &error);

    g_assert_null (config);
    g_assert_nonnull (error);
  }
}

static void
test_no_auth_and_flags (Fixture       *fixture,
                        gconstpointer  data)
{
  const char *args[] = { "--env-file", fixture->env_file, "--no-auth", "--bind=0.0.0.0",
                         "--sandbox=bwrap", "--sandbox-no-network", "--dbus=none",
                         "--allowed-origins=https://a.example,https://b.example", NULL };
  g_autoptr(RunnerConfig) config = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (fixture->env_file, "", -1, NULL));
  config = load (args, &error);
  g_assert_no_error (error);
  g_assert_true (config->no_auth);
  g_assert_null (config->token);
  g_assert_cmpstr (config->bind, ==, "0.0.0.0");
  g_assert_cmpuint (config->sandbox, ==, RUNNER_SANDBOX_BWRAP);
  g_assert_false (config->sandbox_network);
  g_assert_cmpuint (config->dbus, ==, RUNNER_DBUS_NONE);
  g_assert_cmpstrv (config->allowed_origins,
                    ((const char *[]) { "https://a.example", "https://b.example", NULL }));
}

static void
test_child_environ (Fixture       *fixture,
                    gconstpointer  data)
{
  g_auto(GStrv) env = NULL;

  g_setenv ("AWS_SECRET_ACCESS_KEY", "secret", TRUE);
  g_setenv ("S3_BUCKET", "bucket", TRUE);
  g_setenv ("RUNNER_TOKEN", "token", TRUE);
  g_setenv ("HARMLESS_VARIABLE", "kept", TRUE);

  env = runner_config_child_environ ();
  g_assert_null (g_environ_getenv (env, "AWS_SECRET_ACCESS_KEY"));
  g_assert_null (g_environ_getenv (env, "S3_BUCKET"));
  g_assert_null (g_environ_getenv (env, "RUNNER_TOKEN"));
  g_assert_cmpstr (g_environ_getenv (env, "HARMLESS_VARIABLE"), ==, "kept");

  g_unsetenv ("AWS_SECRET_ACCESS_KEY");
  g_unsetenv ("S3_BUCKET");
  g_unsetenv ("HARMLESS_VARIABLE");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/runner/config/defaults", Fixture, NULL, fixture_set_up, test_defaults, fixture_tear_down);
  g_test_add ("/runner/config/precedence", Fixture, NULL, fixture_set_up, test_precedence, fixture_tear_down);
  g_test_add ("/runner/config/bad-values", Fixture, NULL, fixture_set_up, test_bad_values, fixture_tear_down);
  g_test_add ("/runner/config/flags", Fixture, NULL, fixture_set_up, test_no_auth_and_flags, fixture_tear_down);
  g_test_add ("/runner/config/child-environ", Fixture, NULL, fixture_set_up, test_child_environ, fixture_tear_down);

  return g_test_run ();
}
