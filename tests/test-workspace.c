/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gio.h>

#include "runner-error.h"
#include "runner-workspace.h"
#include "runner-workspace-private.h"

#define WAIT_TIMEOUT_SECONDS 10

typedef struct
{
  char *tmp;                    /* owns everything below */
  char *root;                   /* the workspace */
  char *outside;                /* a directory next to it */
  RunnerWorkspace *ws;
  GPtrArray *changes;           /* "KIND path [other]" strings from ::changed */
} Fixture;

static const char *
kind_name (RunnerWorkspaceChange kind)
{
  switch (kind)
    {
    case RUNNER_WORKSPACE_CHANGE_WRITTEN: return "written";
    case RUNNER_WORKSPACE_CHANGE_CREATED_DIR: return "created-dir";
    case RUNNER_WORKSPACE_CHANGE_DELETED: return "deleted";
    case RUNNER_WORKSPACE_CHANGE_RENAMED: return "renamed";
    default: return "?";
    }
}

static void
on_changed (RunnerWorkspace *ws,
            const char      *path,
            int              kind,
            const char      *other,
            Fixture         *fx)
{
  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  g_ptr_array_add (fx->changes, other ? g_strdup_printf ("%s %s %s", kind_name (kind), path, other)
                                      : g_strdup_printf ("%s %s", kind_name (kind), path));
}

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fx->tmp = g_dir_make_tmp ("runner-workspace-XXXXXX", &error);
  g_assert_no_error (error);
  fx->root = g_build_filename (fx->tmp, "ws", NULL);
  fx->outside = g_build_filename (fx->tmp, "outside", NULL);
  g_assert_cmpint (g_mkdir (fx->outside, 0755), ==, 0);

  /* The root is created when missing. */
  fx->ws = runner_workspace_new (fx->root, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fx->ws);
  g_assert_true (g_file_test (fx->root, G_FILE_TEST_IS_DIR));
  if (data != NULL)
    runner_workspace_set_use_openat2 (fx->ws, FALSE);
  fx->changes = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (fx->ws, "changed", G_CALLBACK (on_changed), fx);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileEnumerator) children = NULL;
  GFileInfo *info;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  while (children != NULL && g_file_enumerator_iterate (children, &info, NULL, NULL, NULL) && info != NULL)
    {
      g_autofree char *child = g_build_filename (path, g_file_info_get_name (info), NULL);

      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        remove_tree (child);
      else
        g_assert_cmpint (g_unlink (child), ==, 0);
    }
  g_assert_cmpint (g_rmdir (path), ==, 0);
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  g_clear_object (&fx->ws);
  remove_tree (fx->tmp);
  g_free (fx->tmp);
  g_free (fx->root);
  g_free (fx->outside);
  g_ptr_array_unref (fx->changes);
}

/* Helpers */

static char *
in_root (Fixture    *fx,
         const char *relative)
{
  return g_build_filename (fx->root, relative, NULL);
}

static void
put_file (Fixture    *fx,
          const char *relative,
          const char *content)
{
  g_autofree char *path = in_root (fx, relative);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, content, -1, &error);
  g_assert_no_error (error);
}

static void
put_dir (Fixture    *fx,
         const char *relative)
{
  g_autofree char *path = in_root (fx, relative);

  g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
}

static void
put_link (Fixture    *fx,
          const char *relative,
          const char *target)
{
  g_autofree char *path = in_root (fx, relative);

  g_assert_cmpint (symlink (target, path), ==, 0);
}

static char *
get_file (Fixture    *fx,
          const char *relative)
{
  g_autofree char *path = in_root (fx, relative);
  char *content = NULL;

  if (!g_file_get_contents (path, &content, NULL, NULL))
    return NULL;
  return content;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The names in a directory, sorted, joined by spaces: shows what changed. */
static char *
dir_names (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, (gpointer) name);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the main context until *done is set; fails after a timeout. */
G_GNUC_UNUSED static void
wait_for (gboolean *done)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, timeout_cb, &timed_out);

  while (!*done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
}

static void
result_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
  g_main_context_wakeup (NULL);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, timeout_cb, &timed_out);

  while (*slot == NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
  return *slot;
}

static JsonNode *
do_list (Fixture    *fx,
         const char *path,
         int         depth,
         gboolean   *truncated,
         GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  runner_workspace_list_async (fx->ws, path, depth, NULL, result_cb, &result);
  return runner_workspace_list_finish (fx->ws, wait_result (&result), truncated, error);
}

static GBytes *
do_read (Fixture    *fx,
         const char *path,
         GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  runner_workspace_read_async (fx->ws, path, NULL, result_cb, &result);
  return runner_workspace_read_finish (fx->ws, wait_result (&result), error);
}

static gboolean
do_write (Fixture    *fx,
          const char *path,
          const char *content,
          gboolean    exclusive,
          GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new (content, strlen (content));

  runner_workspace_write_async (fx->ws, path, bytes, exclusive, NULL, result_cb, &result);
  return runner_workspace_write_finish (fx->ws, wait_result (&result), error);
}

static gboolean
do_mkdir (Fixture    *fx,
          const char *path,
          GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  runner_workspace_mkdir_async (fx->ws, path, NULL, result_cb, &result);
  return runner_workspace_mkdir_finish (fx->ws, wait_result (&result), error);
}

static gboolean
do_rename (Fixture    *fx,
           const char *from,
           const char *to,
           GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  runner_workspace_rename_async (fx->ws, from, to, NULL, result_cb, &result);
  return runner_workspace_rename_finish (fx->ws, wait_result (&result), error);
}

static gboolean
do_delete (Fixture    *fx,
           const char *path,
           gboolean    recursive,
           GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  runner_workspace_delete_async (fx->ws, path, recursive, NULL, result_cb, &result);
  return runner_workspace_delete_finish (fx->ws, wait_result (&result), error);
}

static char *
to_json (JsonNode *node)
{
  return json_to_string (node, FALSE);
}

static void
assert_code (const GError *error,
             const char   *code)
{
  g_assert_nonnull (error);
  g_assert_cmpstr (runner_error_to_code (error), ==, code);
}

/* Resolver */

static void
test_resolve_ok (Fixture       *fx,
                 gconstpointer  data)
{
  static const struct { const char *in; const char *out; } cases[] = {
    { "", "" },
    { ".", "" },
    { "/workspace", "" },
    { "/workspace/", "" },
    { "./", "" },
    { "a/b.txt", "a/b.txt" },
    { "/workspace/a/b.txt", "a/b.txt" },
    { "a//b/./c/", "a/b/c" },
    { "a/x/../b", "a/b" },
    { "/workspace/../workspace/a", "a" },
    { "workspace/a", "workspace/a" },
    { "a b/ü.txt", "a b/ü.txt" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *rel = runner_workspace_resolve (fx->ws, cases[i].in, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (rel, ==, cases[i].out);
    }
}

static void
test_resolve_refused (Fixture       *fx,
                      gconstpointer  data)
{
  g_autofree char *long_name = g_strnfill (256, 'x');
  g_autofree char *long_path = NULL;
  g_autoptr(GString) deep = g_string_new ("");
  const char *cases[] = {
    "..", "../x", "a/../../x", "/workspace/../x", "/workspace/..", "/etc/passwd", "/",
    "/workspaces/x", "/workspacex", "./../ws", NULL, NULL,
  };

  while (deep->len < 4200)
    g_string_append (deep, "abcdefgh/");
  cases[G_N_ELEMENTS (cases) - 2] = long_name;
  long_path = g_string_free (g_steal_pointer (&deep), FALSE);
  cases[G_N_ELEMENTS (cases) - 1] = long_path;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *rel = runner_workspace_resolve (fx->ws, cases[i], &error);

      g_assert_null (rel);
      g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN);
      assert_code (error, "EACCES");
    }
}

static void
test_resolve_nul (Fixture       *fx,
                  gconstpointer  data)
{
  static const char with_nul[] = "a.txt\0/../../etc/passwd";
  g_autoptr(GError) error = NULL;
  g_autofree char *rel = NULL;

  rel = runner_workspace_resolve_len (fx->ws, with_nul, sizeof with_nul - 1, &error);
  g_assert_null (rel);
  g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_FORBIDDEN);
  g_clear_error (&error);

  rel = runner_workspace_resolve_len (fx->ws, with_nul, 5, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rel, ==, "a.txt");
}

static void
test_virtual (Fixture       *fx,
              gconstpointer  data)
{
  g_autofree char *root = runner_workspace_to_virtual (fx->ws, "");
  g_autofree char *file = runner_workspace_to_virtual (fx->ws, "a/b");

  g_assert_cmpstr (root, ==, "/workspace");
  g_assert_cmpstr (file, ==, "/workspace/a/b");
}

/* Listing */

static void
test_list_shape (Fixture       *fx,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) tree = NULL;
  g_autofree char *json = NULL;
  gboolean truncated = TRUE;

  put_dir (fx, "src/lib");
  put_dir (fx, "node_modules/x");
  put_dir (fx, "src/node_modules");
  put_dir (fx, ".git");
  put_file (fx, "b.txt", "b");
  put_file (fx, "a.txt", "a");
  put_file (fx, "src/main.c", "m");
  put_file (fx, "src/lib/util.c", "u");
  put_file (fx, "node_modules/x/index.js", "x");

  tree = do_list (fx, "/workspace", -1, &truncated, &error);
  g_assert_no_error (error);
  g_assert_false (truncated);
  json = to_json (tree);
  g_assert_cmpstr (json, ==,
                   "[{\"name\":\"src\",\"type\":\"directory\",\"path\":\"/workspace/src\",\"children\":["
                   "{\"name\":\"lib\",\"type\":\"directory\",\"path\":\"/workspace/src/lib\",\"children\":["
                   "{\"name\":\"util.c\",\"type\":\"file\",\"path\":\"/workspace/src/lib/util.c\"}]},"
                   "{\"name\":\"main.c\",\"type\":\"file\",\"path\":\"/workspace/src/main.c\"}]},"
                   "{\"name\":\"a.txt\",\"type\":\"file\",\"path\":\"/workspace/a.txt\"},"
                   "{\"name\":\"b.txt\",\"type\":\"file\",\"path\":\"/workspace/b.txt\"}]");
}

static void
test_list_sub (Fixture       *fx,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) tree = NULL;
  g_autofree char *json = NULL;

  put_dir (fx, "src/lib");
  put_file (fx, "src/main.c", "m");
  tree = do_list (fx, "src", -1, NULL, &error);
  g_assert_no_error (error);
  json = to_json (tree);
  g_assert_cmpstr (json, ==,
                   "[{\"name\":\"lib\",\"type\":\"directory\",\"path\":\"/workspace/src/lib\",\"children\":[]},"
                   "{\"name\":\"main.c\",\"type\":\"file\",\"path\":\"/workspace/src/main.c\"}]");
}

/* Reading and writing */

static void
test_read_binary (Fixture       *fx,
                  gconstpointer  data)
{
  static const guint8 blob[] = { 0, 1, 2, 0xff, 0xfe, 0, '\n' };
  g_autofree char *path = in_root (fx, "bin/blob");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;

  put_dir (fx, "bin");
  g_file_set_contents (path, (const char *) blob, sizeof blob, &error);
  g_assert_no_error (error);
  bytes = do_read (fx, "/workspace/bin/blob", &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), blob, sizeof blob);
}

static void
test_write_basic (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *content = NULL;

  g_assert_true (do_write (fx, "/workspace/new/dir/file.txt", "hello", FALSE, &error));
  g_assert_no_error (error);
  content = get_file (fx, "new/dir/file.txt");
  g_assert_cmpstr (content, ==, "hello");
}


static void
test_ops_basic (Fixture       *fx,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *names = NULL;
  g_autofree char *target = NULL;

  g_assert_true (do_mkdir (fx, "d/e", &error));
  g_assert_no_error (error);
  put_file (fx, "d/e/f.txt", "f");
  put_link (fx, "d/link", "e/f.txt");
  target = get_file (fx, "d/link");
  g_assert_cmpstr (target, ==, "f");
  g_assert_true (do_rename (fx, "d/e/f.txt", "d/g.txt", &error));
  g_assert_no_error (error);
  g_assert_true (do_delete (fx, "d/e", FALSE, &error));
  g_assert_no_error (error);
  names = dir_names (fx->root);
  g_assert_cmpstr (names, ==, "d");
  g_clear_pointer (&names, g_free);
  g_free (target);
  target = in_root (fx, "d");
  names = dir_names (target);
  g_assert_cmpstr (names, ==, "g.txt link");
  g_assert_cmpuint (fx->changes->len, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (fx->changes, 0), ==, "created-dir d");
  g_assert_cmpstr (g_ptr_array_index (fx->changes, 1), ==, "created-dir d/e");
  g_assert_cmpstr (g_ptr_array_index (fx->changes, 2), ==, "renamed d/e/f.txt d/g.txt");
  g_assert_cmpstr (g_ptr_array_index (fx->changes, 3), ==, "deleted d/e");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/runner/workspace/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("resolve/ok", test_resolve_ok);
  ADD ("resolve/refused", test_resolve_refused);
  ADD ("resolve/nul", test_resolve_nul);
  ADD ("resolve/virtual", test_virtual);
  ADD ("list/shape", test_list_shape);
  ADD ("list/sub", test_list_sub);
  ADD ("read/binary", test_read_binary);
  ADD ("write/basic", test_write_basic);
  ADD ("ops/basic", test_ops_basic);

#undef ADD

  return g_test_run ();
}
