/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-sandbox"

#include "config.h"

#include "runner-sandbox.h"

#include <glib/gi18n.h>

#include "runner-error.h"

/* What a shell and the usual tools need from /etc: users and groups for
 * prompts and `ls -l`, name resolution, the dynamic linker's cache, the
 * Debian alternatives many /usr/bin names point through, TLS roots, shell and
 * terminal setup. No shadow, no ssh, no credentials. */
static const char * const etc_files[] = {
  "alternatives",
  "bash.bashrc",
  "ca-certificates",
  "ca-certificates.conf",
  "debian_version",
  "gai.conf",
  "group",
  "host.conf",
  "hostname",
  "hosts",
  "inputrc",
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "locale.alias",
  "localtime",
  "mime.types",
  "nsswitch.conf",
  "os-release",
  "passwd",
  "profile",
  "profile.d",
  "protocols",
  "resolv.conf",
  "services",
  "ssl",
  "terminfo",
  "timezone",
};

/* Top-level directories that merged-/usr systems make symlinks into /usr. */
static const char * const usr_links[] = {
  "bin", "sbin", "lib", "lib32", "lib64", "libx32",
};

/**
 * runner_sandbox_find_bwrap:
 *
 * Finds bubblewrap: `RUNNER_BWRAP` when set (a path or a name), else `bwrap`
 * on `PATH`.
 *
 * Returns: (transfer full): its path, or %NULL with %RUNNER_ERROR_UNAVAILABLE
 */
char *
runner_sandbox_find_bwrap (GError **error)
{
  const char *name = g_getenv ("RUNNER_BWRAP");
  char *path;

  if (name == NULL || *name == '\0')
    name = "bwrap";

  path = g_find_program_in_path (name);
  if (path == NULL)
    g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_UNAVAILABLE,
                 _("The sandbox needs bubblewrap, but “%s” was not found"), name);
  return path;
}

static void
add (GPtrArray  *args,
     const char *arg)
{
  g_ptr_array_add (args, g_strdup (arg));
}

static void
add3 (GPtrArray  *args,
      const char *option,
      const char *a,
      const char *b)
{
  add (args, option);
  add (args, a);
  if (b != NULL)
    add (args, b);
}

/**
 * runner_sandbox_wrap_argv:
 * @options: what to allow
 * @argv: the command to confine
 *
 * Builds a bubblewrap command line that runs @argv with: /usr (and the
 * merged-/usr links) and a short list of /etc files read-only, the workspace
 * read-write at its own path and as the working directory, private /tmp,
 * /var/tmp and /home (HOME=/home/USER, empty), its own /proc and a minimal
 * /dev, every namespace unshared (the network too unless @options allows it),
 * and death with its parent. Nothing else of the host is visible: not the
 * user's home, not /root, not /run, not other processes.
 *
 * Returns: (transfer full): the new argv, or %NULL with
 *   %RUNNER_ERROR_UNAVAILABLE when bubblewrap is missing
 */
char **
runner_sandbox_wrap_argv (const RunnerSandboxOptions  *options,
                          const char * const          *argv,
                          GError                     **error)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *bwrap = NULL;
  g_autofree char *home = NULL;

  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (options->workspace != NULL, NULL);
  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);

  if (!g_path_is_absolute (options->workspace))
    {
      g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                   _("The sandbox needs an absolute workspace path, not “%s”"),
                   options->workspace);
      return NULL;
    }

  bwrap = runner_sandbox_find_bwrap (error);
  if (bwrap == NULL)
    return NULL;

  add (args, bwrap);
  add (args, "--unshare-all");
  if (options->network)
    add (args, "--share-net");
  add (args, "--die-with-parent");
  if (options->new_session)
    add (args, "--new-session");

  add3 (args, "--ro-bind", "/usr", "/usr");
  for (guint i = 0; i < G_N_ELEMENTS (usr_links); i++)
    {
      g_autofree char *path = g_build_filename ("/", usr_links[i], NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      if (target != NULL)
        add3 (args, "--symlink", target, path);
      else if (g_file_test (path, G_FILE_TEST_IS_DIR))
        add3 (args, "--ro-bind", path, path);
    }

  for (guint i = 0; i < G_N_ELEMENTS (etc_files); i++)
    {
      g_autofree char *path = g_build_filename ("/etc", etc_files[i], NULL);

      add3 (args, "--ro-bind-try", path, path);
    }

  add3 (args, "--proc", "/proc", NULL);
  add3 (args, "--dev", "/dev", NULL);
  add3 (args, "--tmpfs", "/tmp", NULL);
  add3 (args, "--tmpfs", "/var/tmp", NULL);
  add3 (args, "--tmpfs", "/home", NULL);
  home = g_build_filename ("/home", g_get_user_name (), NULL);
  add3 (args, "--dir", home, NULL);
  add3 (args, "--setenv", "HOME", home);
  add3 (args, "--unsetenv", "TMPDIR", NULL);

  /* Last, so that a workspace below /tmp or /home lands on the new tmpfs. */
  add3 (args, "--bind", options->workspace, options->workspace);
  add3 (args, "--chdir", options->workspace, NULL);
  add3 (args, "--setenv", "PWD", options->workspace);

  add (args, "--");
  for (guint i = 0; argv[i] != NULL; i++)
    add (args, argv[i]);
  g_ptr_array_add (args, NULL);

  return (char **) g_ptr_array_steal (args, NULL);
}
