/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-terminal-manager"

#include "config.h"

#include "runner-terminal-manager.h"

#include <glib/gi18n.h>

#include "runner-error.h"
#include "runner-reaper.h"
#include "runner-request.h"

/*
 * Who gets a terminal's output:
 *  - the default terminal ("default", the old service's one shell, made on
 *    first use by terminal:write/resize/attach without an id): every
 *    connected client, as the old service's io.emit() did;
 *  - a terminal made by terminal:create: its creator and whoever attached
 *    to it (terminal:attach), until they detach or disconnect.
 * Terminals outlive their clients: a front end that reconnects attaches
 * again, with the last `seq` it saw, and gets what it missed.
 */

struct _RunnerTerminalManager
{
  GObject       parent_instance;

  RunnerBroadcaster *broadcaster; /* owned: the clients, followed */
  RunnerWorkspace *workspace;  /* owned: where shells start */
  RunnerConfig *config;        /* unowned: outlives the manager */
  GPtrArray    *terminals;     /* owned, RunnerTerminal in creation order */
  GPtrArray    *closing;       /* owned, RunnerTerminal whose session is ending */
  guint64       next_id;
  guint64       default_seq;   /* where a new default terminal's stream starts */
  gulong        client_added_id;
  gulong        client_removed_id;
  gboolean      shutting_down;
};

G_DEFINE_FINAL_TYPE (RunnerTerminalManager, runner_terminal_manager, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_N_TERMINALS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

#define DEFAULT_COLS 120
#define DEFAULT_ROWS 40

static RunnerTerminal *
find (RunnerTerminalManager *self,
      const char            *id)
{
  for (guint i = 0; i < self->terminals->len; i++)
    {
      RunnerTerminal *terminal = g_ptr_array_index (self->terminals, i);

      if (g_str_equal (runner_terminal_get_id (terminal), id))
        return terminal;
    }
  return NULL;
}

static void
on_terminal_closed (RunnerTerminal        *terminal,
                    RunnerTerminalManager *self)
{
  g_signal_handlers_disconnect_by_data (terminal, self);
  g_ptr_array_remove (self->closing, terminal);
}

/* Takes @terminal out of the table and ends it. */
static void
retire (RunnerTerminalManager *self,
        RunnerTerminal        *terminal)
{
  g_autoptr(RunnerTerminal) owned = NULL;
  guint index;

  if (!g_ptr_array_find (self->terminals, terminal, &index))
    return;

  owned = g_ptr_array_steal_index (self->terminals, index);
  g_signal_handlers_disconnect_by_data (owned, self);
  runner_terminal_close (owned);
  if (!runner_terminal_is_closed (owned))
    {
      g_signal_connect (owned, "closed", G_CALLBACK (on_terminal_closed), self);
      g_ptr_array_add (self->closing, g_object_ref (owned));
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_TERMINALS]);
}

static void
on_terminal_exited (RunnerTerminal        *terminal,
                    int                    code,
                    int                    signum,
                    RunnerTerminalManager *self)
{
  if (signum != 0)
    g_message ("Terminal %s: the shell was killed by signal %d",
               runner_terminal_get_id (terminal), signum);
  else
    g_debug ("Terminal %s: the shell exited with %d", runner_terminal_get_id (terminal), code);
}

static RunnerTerminal *
spawn_terminal (RunnerTerminalManager  *self,
                const char             *id,
                guint                   cols,
                guint                   rows,
                guint64                 start_seq,
                GError                **error)
{
  RunnerWorkspace *workspace = self->workspace;
  RunnerTerminalOptions options;
  RunnerTerminal *terminal;

  if (self->shutting_down)
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_BUSY, _("Runner is shutting down"));
      return NULL;
    }

  runner_terminal_options_init (&options, self->config, runner_workspace_get_root (workspace));
  options.cols = cols;
  options.rows = rows;
  options.start_seq = start_seq;

  terminal = runner_terminal_new (id, &options, error);
  if (terminal == NULL)
    return NULL;

  g_signal_connect (terminal, "exited", G_CALLBACK (on_terminal_exited), self);
  g_ptr_array_add (self->terminals, terminal);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_TERMINALS]);
  return terminal;
}

/* The default terminal, made (or made again, after its shell exited) with
 * @cols × @rows when needed. Every client follows it. */
static RunnerTerminal *
ensure_default (RunnerTerminalManager  *self,
                guint                   cols,
                guint                   rows,
                GError                **error)
{
  RunnerTerminal *terminal = find (self, RUNNER_TERMINAL_DEFAULT_ID);
  g_autoptr(GPtrArray) clients = NULL;

  if (terminal != NULL && runner_terminal_is_alive (terminal))
    return terminal;

  if (terminal != NULL)
    {
      /* A new shell in its place; its stream goes on from the old one's end,
       * so that a `since` from before cannot match the new output. */
      self->default_seq = runner_terminal_get_seq (terminal);
      retire (self, terminal);
    }

  terminal = spawn_terminal (self, RUNNER_TERMINAL_DEFAULT_ID, cols, rows, self->default_seq,
                             error);
  if (terminal == NULL)
    return NULL;

  clients = runner_broadcaster_list_clients (self->broadcaster);
  for (guint i = 0; i < clients->len; i++)
    runner_terminal_follow (terminal, g_ptr_array_index (clients, i));
  return terminal;
}

static guint
count_created (RunnerTerminalManager *self)
{
  guint n = 0;

  for (guint i = 0; i < self->terminals->len; i++)
    if (!g_str_equal (runner_terminal_get_id (g_ptr_array_index (self->terminals, i)),
                      RUNNER_TERMINAL_DEFAULT_ID))
      n++;
  return n;
}

/* Room for one more: at the limit, the oldest terminal whose shell has
 * exited gives way; if all run, ELIMIT. */
static gboolean
make_room (RunnerTerminalManager  *self,
           GError                **error)
{
  if (count_created (self) < self->config->max_terminals)
    return TRUE;

  for (guint i = 0; i < self->terminals->len; i++)
    {
      RunnerTerminal *terminal = g_ptr_array_index (self->terminals, i);

      if (!runner_terminal_is_alive (terminal) &&
          !g_str_equal (runner_terminal_get_id (terminal), RUNNER_TERMINAL_DEFAULT_ID))
        {
          retire (self, terminal);
          return TRUE;
        }
    }

  g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_LIMIT,
               _("At most %u terminals may be open"), self->config->max_terminals);
  return FALSE;
}

static RunnerTerminal *
open_terminal (RunnerTerminalManager  *self,
               guint                   cols,
               guint                   rows,
               GError                **error)
{
  g_autofree char *id = NULL;

  if (!make_room (self, error))
    return NULL;

  id = g_strdup_printf ("%" G_GUINT64_FORMAT, ++self->next_id);
  return spawn_terminal (self, id, cols, rows, 0, error);
}

/* ---------------------------------------------------------------------- */
/* Events */

static gboolean
is_default_id (const char *id)
{
  return id == NULL || g_str_equal (id, RUNNER_TERMINAL_DEFAULT_ID);
}

/* The terminal a request names with `id`; none, or "default", means the
 * default one, made if needed. */
static RunnerTerminal *
request_terminal (RunnerTerminalManager  *self,
                  RunnerRequest          *request,
                  guint                   cols,
                  guint                   rows,
                  GError                **error)
{
  const char *id = runner_request_get_string (request, "id", FALSE, error);

  if (id == NULL && error != NULL && *error != NULL)
    return NULL;
  if (is_default_id (id))
    return ensure_default (self, cols, rows, error);
  return runner_terminal_manager_lookup (self, id, error);
}

static gboolean
get_size (RunnerRequest  *request,
          gboolean        required,
          gint64         *cols,
          gint64         *rows,
          GError        **error)
{
  if (required && (!runner_request_has_member (request, "cols") ||
                   !runner_request_has_member (request, "rows")))
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                           _("“cols” and “rows” are required"));
      return FALSE;
    }

  return runner_request_get_int (request, "cols", RUNNER_TERMINAL_MIN_SIZE,
                                 RUNNER_TERMINAL_MAX_SIZE, cols, error) &&
         runner_request_get_int (request, "rows", RUNNER_TERMINAL_MIN_SIZE,
                                 RUNNER_TERMINAL_MAX_SIZE, rows, error);
}

static void
handle_write (RunnerRequest *request,
              gpointer       user_data)
{
  RunnerTerminalManager *self = user_data;
  g_autoptr(GError) error = NULL;
  RunnerTerminal *terminal;
  g_autofree char *data = NULL;
  gsize len;

  /* Keys such as Ctrl-Space send NUL: kept. */
  data = runner_request_get_data (request, "data", &len, &error);
  if (data == NULL)
    {
      runner_request_fail (request, error);
      return;
    }

  if (len > self->config->max_write)
    {
      g_set_error (&error, RUNNER_ERROR, RUNNER_ERROR_TOO_BIG,
                   _("A write is at most %zu bytes"), self->config->max_write);
      runner_request_fail (request, error);
      return;
    }

  terminal = request_terminal (self, request, DEFAULT_COLS, DEFAULT_ROWS, &error);
  if (terminal == NULL || !runner_terminal_write (terminal, data, len, &error))
    runner_request_fail (request, error);
  else
    runner_request_reply_ok (request);
}

static void
handle_resize (RunnerRequest *request,
               gpointer       user_data)
{
  RunnerTerminalManager *self = user_data;
  g_autoptr(GError) error = NULL;
  RunnerTerminal *terminal;
  gint64 cols = 0, rows = 0;

  if (!get_size (request, TRUE, &cols, &rows, &error) ||
      (terminal = request_terminal (self, request, cols, rows, &error)) == NULL ||
      !runner_terminal_resize (terminal, cols, rows, &error))
    runner_request_fail (request, error);
  else
    runner_request_reply (request, runner_terminal_describe (terminal));
}

static void
handle_create (RunnerRequest *request,
               gpointer       user_data)
{
  RunnerTerminalManager *self = user_data;
  g_autoptr(GError) error = NULL;
  RunnerTerminal *terminal;
  gint64 cols = DEFAULT_COLS, rows = DEFAULT_ROWS;

  if (!get_size (request, FALSE, &cols, &rows, &error) ||
      (terminal = open_terminal (self, cols, rows, &error)) == NULL)
    {
      runner_request_fail (request, error);
      return;
    }

  /* the creator sees it all, from the first prompt */
  runner_terminal_attach (terminal, runner_request_get_client (request), -1, NULL, NULL, NULL);
  runner_request_reply (request, runner_terminal_describe (terminal));
}

static void
handle_close (RunnerRequest *request,
              gpointer       user_data)
{
  RunnerTerminalManager *self = user_data;
  g_autoptr(GError) error = NULL;
  const char *id;

  id = runner_request_get_string (request, "id", TRUE, &error);
  if (id == NULL || !runner_terminal_manager_close (self, id, &error))
    runner_request_fail (request, error);
  else
    runner_request_reply_ok (request);
}

static void
handle_list (RunnerRequest *request,
             gpointer       user_data)
{
  RunnerTerminalManager *self = user_data;
  JsonArray *array = json_array_sized_new (self->terminals->len);

  for (guint i = 0; i < self->terminals->len; i++)
    json_array_add_element (array, runner_terminal_describe (g_ptr_array_index (self->terminals,
                                                                                i)));
  runner_request_reply (request, json_node_init_array (json_node_alloc (), array));
  json_array_unref (array);
}

static void
handle_attach (RunnerRequest *request,
               gpointer       user_data)
{
  RunnerTerminalManager *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = NULL;
  RunnerTerminal *terminal;
  gint64 since = -1;
  guint64 from, missed;
  JsonObject *object;

  if (!runner_request_get_int (request, "since", 0, G_MAXINT64, &since, &error) ||
      (terminal = request_terminal (self, request, DEFAULT_COLS, DEFAULT_ROWS, &error)) == NULL)
    {
      runner_request_fail (request, error);
      return;
    }

  if (!runner_terminal_attach (terminal, runner_request_get_client (request), since, &from,
                               &missed, &error))
    {
      runner_request_fail (request, error);
      return;
    }

  reply = runner_terminal_describe (terminal);
  object = json_node_get_object (reply);
  json_object_set_int_member (object, "from", from);
  json_object_set_int_member (object, "missed", missed);
  runner_request_reply (request, g_steal_pointer (&reply));
}

static void
handle_detach (RunnerRequest *request,
               gpointer       user_data)
{
  RunnerTerminalManager *self = user_data;
  g_autoptr(GError) error = NULL;
  RunnerTerminal *terminal;
  const char *id;

  id = runner_request_get_string (request, "id", TRUE, &error);
  if (id == NULL || (terminal = runner_terminal_manager_lookup (self, id, &error)) == NULL)
    {
      runner_request_fail (request, error);
      return;
    }

  runner_terminal_detach (terminal, runner_request_get_client (request));
  runner_request_reply_ok (request);
}

static void
on_client_added (RunnerBroadcaster     *broadcaster,
                 RunnerClient          *client,
                 RunnerTerminalManager *self)
{
  RunnerTerminal *terminal = find (self, RUNNER_TERMINAL_DEFAULT_ID);

  if (terminal != NULL)
    runner_terminal_follow (terminal, client);
}

static void
on_client_removed (RunnerBroadcaster     *broadcaster,
                   RunnerClient          *client,
                   RunnerTerminalManager *self)
{
  for (guint i = 0; i < self->terminals->len; i++)
    runner_terminal_detach (g_ptr_array_index (self->terminals, i), client);
}

/* ---------------------------------------------------------------------- */
/* GObject */

static void
kill_all (RunnerTerminalManager *self,
          GPtrArray             *terminals)
{
  for (guint i = 0; i < terminals->len; i++)
    {
      RunnerTerminal *terminal = g_ptr_array_index (terminals, i);

      g_signal_handlers_disconnect_by_data (terminal, self);
      runner_terminal_kill (terminal);
    }
}

static void
runner_terminal_manager_dispose (GObject *object)
{
  RunnerTerminalManager *self = RUNNER_TERMINAL_MANAGER (object);

  if (self->broadcaster != NULL)
    {
      g_clear_signal_handler (&self->client_added_id, self->broadcaster);
      g_clear_signal_handler (&self->client_removed_id, self->broadcaster);
      g_clear_object (&self->broadcaster);
    }
  g_clear_object (&self->workspace);

  /* No time left for a grace period. */
  if (self->terminals != NULL)
    {
      g_autoptr(GPtrArray) terminals = g_steal_pointer (&self->terminals);
      g_autoptr(GPtrArray) closing = g_steal_pointer (&self->closing);

      kill_all (self, terminals);
      kill_all (self, closing);
    }

  G_OBJECT_CLASS (runner_terminal_manager_parent_class)->dispose (object);
}

static void
runner_terminal_manager_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  RunnerTerminalManager *self = RUNNER_TERMINAL_MANAGER (object);

  switch (prop_id)
    {
    case PROP_N_TERMINALS:
      g_value_set_uint (value, runner_terminal_manager_get_n_terminals (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
runner_terminal_manager_class_init (RunnerTerminalManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = runner_terminal_manager_dispose;
  object_class->get_property = runner_terminal_manager_get_property;

  properties[PROP_N_TERMINALS] =
    g_param_spec_uint ("n-terminals", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
runner_terminal_manager_init (RunnerTerminalManager *self)
{
  self->terminals = g_ptr_array_new_with_free_func (g_object_unref);
  self->closing = g_ptr_array_new_with_free_func (g_object_unref);
}

/* ---------------------------------------------------------------------- */
/* Public API */

static const RunnerEventEntry events[] = {
  { "terminal:write", handle_write, "id?:string data:string", RUNNER_EVENT_FLAGS_NONE },
  { "terminal:resize", handle_resize, "id?:string cols:int rows:int", RUNNER_EVENT_FLAGS_NONE },
  { "terminal:create", handle_create, "cols?:int rows?:int", RUNNER_EVENT_FLAGS_NONE },
  { "terminal:close", handle_close, "id:string", RUNNER_EVENT_FLAGS_NONE },
  { "terminal:list", handle_list, NULL, RUNNER_EVENT_FLAGS_NONE },
  { "terminal:attach", handle_attach, "id?:string since?:int", RUNNER_EVENT_FLAGS_NONE },
  { "terminal:detach", handle_detach, "id:string", RUNNER_EVENT_FLAGS_NONE },
};

/**
 * runner_terminal_manager_new:
 * @config: the shell, sizes and limits; must outlive the manager
 * @workspace: where shells start
 * @broadcaster: the clients; each follows the default terminal
 * @registry: gets the `terminal:*` events
 *
 * Makes the manager of all terminals. Also makes Runner a child subreaper
 * (see runner_reaper_init()), so that what shells leave behind is reaped.
 */
RunnerTerminalManager *
runner_terminal_manager_new (RunnerConfig      *config,
                             RunnerWorkspace   *workspace,
                             RunnerBroadcaster *broadcaster,
                             RunnerRegistry    *registry)
{
  RunnerTerminalManager *self;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (RUNNER_IS_WORKSPACE (workspace), NULL);
  g_return_val_if_fail (RUNNER_IS_BROADCASTER (broadcaster), NULL);
  g_return_val_if_fail (RUNNER_IS_REGISTRY (registry), NULL);

  runner_reaper_init ();

  self = g_object_new (RUNNER_TYPE_TERMINAL_MANAGER, NULL);
  self->config = config;
  self->workspace = g_object_ref (workspace);
  self->broadcaster = g_object_ref (broadcaster);
  runner_registry_add_events (registry, events, G_N_ELEMENTS (events), self);

  self->client_added_id = g_signal_connect (broadcaster, "client-added",
                                            G_CALLBACK (on_client_added), self);
  self->client_removed_id = g_signal_connect (broadcaster, "client-removed",
                                              G_CALLBACK (on_client_removed), self);
  return self;
}

/**
 * runner_terminal_manager_open:
 * @cols: columns, 1 to %RUNNER_TERMINAL_MAX_SIZE
 * @rows: rows, likewise
 *
 * Starts a new terminal that no client follows yet (for D-Bus).
 *
 * Returns: (transfer full): its id, or %NULL: %RUNNER_ERROR_LIMIT when
 *   `max_terminals` run, %RUNNER_ERROR_INVALID for a bad size,
 *   %RUNNER_ERROR_UNAVAILABLE without a shell or bubblewrap
 */
char *
runner_terminal_manager_open (RunnerTerminalManager  *self,
                              guint                   cols,
                              guint                   rows,
                              GError                **error)
{
  RunnerTerminal *terminal;

  g_return_val_if_fail (RUNNER_IS_TERMINAL_MANAGER (self), NULL);

  terminal = open_terminal (self, cols, rows, error);
  return terminal != NULL ? g_strdup (runner_terminal_get_id (terminal)) : NULL;
}

/**
 * runner_terminal_manager_close:
 * @id: a terminal id
 *
 * Ends a terminal (see runner_terminal_close()) and forgets it. Closing the
 * default terminal is allowed: the next write without an id makes a new one.
 *
 * Returns: %FALSE with %RUNNER_ERROR_NOT_FOUND for an unknown id
 */
gboolean
runner_terminal_manager_close (RunnerTerminalManager  *self,
                               const char             *id,
                               GError                **error)
{
  RunnerTerminal *terminal;

  g_return_val_if_fail (RUNNER_IS_TERMINAL_MANAGER (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  terminal = runner_terminal_manager_lookup (self, id, error);
  if (terminal == NULL)
    return FALSE;

  if (g_str_equal (id, RUNNER_TERMINAL_DEFAULT_ID))
    self->default_seq = runner_terminal_get_seq (terminal);
  retire (self, terminal);
  return TRUE;
}

/**
 * runner_terminal_manager_lookup:
 * @id: a terminal id
 *
 * Returns: (transfer none): the terminal, or %NULL with %RUNNER_ERROR_NOT_FOUND
 */
RunnerTerminal *
runner_terminal_manager_lookup (RunnerTerminalManager  *self,
                                const char             *id,
                                GError                **error)
{
  RunnerTerminal *terminal;

  g_return_val_if_fail (RUNNER_IS_TERMINAL_MANAGER (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  terminal = find (self, id);
  if (terminal == NULL)
    g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_NOT_FOUND, _("No terminal “%s”"), id);
  return terminal;
}

/**
 * runner_terminal_manager_get_default:
 *
 * Returns: (transfer none): the default terminal, started (again) if needed
 */
RunnerTerminal *
runner_terminal_manager_get_default (RunnerTerminalManager  *self,
                                     GError                **error)
{
  g_return_val_if_fail (RUNNER_IS_TERMINAL_MANAGER (self), NULL);
  return ensure_default (self, DEFAULT_COLS, DEFAULT_ROWS, error);
}

/**
 * runner_terminal_manager_list:
 *
 * Returns: (transfer container) (element-type RunnerTerminal): the terminals,
 *   oldest first
 */
GPtrArray *
runner_terminal_manager_list (RunnerTerminalManager *self)
{
  GPtrArray *ret;

  g_return_val_if_fail (RUNNER_IS_TERMINAL_MANAGER (self), NULL);

  ret = g_ptr_array_new_full (self->terminals->len, g_object_unref);
  for (guint i = 0; i < self->terminals->len; i++)
    g_ptr_array_add (ret, g_object_ref (g_ptr_array_index (self->terminals, i)));
  return ret;
}

/* Terminals listed (running or exited, not yet closed). */
guint
runner_terminal_manager_get_n_terminals (RunnerTerminalManager *self)
{
  g_return_val_if_fail (RUNNER_IS_TERMINAL_MANAGER (self), 0);
  return self->terminals != NULL ? self->terminals->len : 0;
}

/* Terminals whose shell runs, or whose session is still being ended. */
guint
runner_terminal_manager_get_n_running (RunnerTerminalManager *self)
{
  guint n;

  g_return_val_if_fail (RUNNER_IS_TERMINAL_MANAGER (self), 0);

  if (self->terminals == NULL)
    return 0;

  n = self->closing->len;
  for (guint i = 0; i < self->terminals->len; i++)
    if (runner_terminal_is_alive (g_ptr_array_index (self->terminals, i)))
      n++;
  return n;
}

/**
 * runner_terminal_manager_shutdown:
 *
 * Closes every terminal (SIGHUP, then SIGKILL after a grace) and refuses new
 * ones. Wait for runner_terminal_manager_get_n_running() to reach 0.
 */
void
runner_terminal_manager_shutdown (RunnerTerminalManager *self)
{
  g_return_if_fail (RUNNER_IS_TERMINAL_MANAGER (self));

  self->shutting_down = TRUE;
  while (self->terminals != NULL && self->terminals->len > 0)
    retire (self, g_ptr_array_index (self->terminals, 0));
}
