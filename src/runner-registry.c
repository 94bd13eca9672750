/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-registry"

#include "config.h"

#include "runner-registry.h"
#include "runner-error.h"

/* The one table of events and HTTP routes. Features add their static rows;
 * transports dispatch requests through it and install its routes. */

typedef enum
{
  TYPE_STRING,
  TYPE_INT,
  TYPE_BOOL,
  TYPE_OBJECT,
  TYPE_PATH,
  TYPE_ANY,
} MemberType;

typedef struct
{
  char       *name;
  MemberType  type;
  gboolean    required;
} Member;

typedef struct
{
  const RunnerEventEntry *entry;
  gpointer                user_data;
  GArray                 *members; /* owned: Member */
} EventRow;

struct _RunnerRegistry
{
  GObject     parent_instance;
  GHashTable *events; /* owned: name -> owned EventRow */
  GPtrArray  *routes; /* owned: RunnerRoute, in the order added */
};

G_DEFINE_FINAL_TYPE (RunnerRegistry, runner_registry, G_TYPE_OBJECT)

static void
member_clear (Member *member)
{
  g_free (member->name);
}

static void
event_row_free (EventRow *row)
{
  g_clear_pointer (&row->members, g_array_unref);
  g_free (row);
}

static void
runner_registry_finalize (GObject *object)
{
  RunnerRegistry *self = RUNNER_REGISTRY (object);

  g_clear_pointer (&self->events, g_hash_table_unref);
  g_clear_pointer (&self->routes, g_ptr_array_unref);

  G_OBJECT_CLASS (runner_registry_parent_class)->finalize (object);
}

static void
runner_registry_class_init (RunnerRegistryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = runner_registry_finalize;
}

static void
runner_registry_init (RunnerRegistry *self)
{
  self->events = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                        (GDestroyNotify) event_row_free);
  self->routes = g_ptr_array_new_with_free_func (g_free);
}

RunnerRegistry *
runner_registry_new (void)
{
  return g_object_new (RUNNER_TYPE_REGISTRY, NULL);
}

static gboolean
parse_type (const char *text,
            MemberType *type)
{
  static const struct { const char *name; MemberType type; } types[] = {
    { "string", TYPE_STRING }, { "int", TYPE_INT }, { "bool", TYPE_BOOL },
    { "object", TYPE_OBJECT }, { "path", TYPE_PATH }, { "any", TYPE_ANY },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    if (g_str_equal (text, types[i].name))
      {
        *type = types[i].type;
        return TRUE;
      }
  return FALSE;
}

/* A malformed schema is a programming error: NULL, with a critical. */
static GArray *
parse_schema (const char *event,
              const char *schema)
{
  g_autoptr(GArray) members = g_array_new (FALSE, FALSE, sizeof (Member));
  g_auto(GStrv) items = g_strsplit_set (schema != NULL ? schema : "", " ", -1);

  g_array_set_clear_func (members, (GDestroyNotify) member_clear);
  for (guint i = 0; items[i] != NULL; i++)
    {
      const char *colon = strchr (items[i], ':');
      Member member = { 0 };
      gsize len;

      if (items[i][0] == '\0')
        continue;
      if (colon == NULL || colon == items[i] || !parse_type (colon + 1, &member.type))
        {
          g_critical ("Event “%s”: bad schema item “%s”", event, items[i]);
          return NULL;
        }
      len = colon - items[i];
      member.required = items[i][len - 1] != '?';
      if (!member.required)
        len--;
      member.name = g_strndup (items[i], len);
      g_array_append_val (members, member);
    }
  return g_steal_pointer (&members);
}

/**
 * runner_registry_add_events:
 * @entries: (array length=n_entries): static rows; they must outlive @self
 * @user_data: handed to each handler
 *
 * Adds a feature's event table. An event has one handler; adding a name
 * twice is a programming error.
 */
void
runner_registry_add_events (RunnerRegistry         *self,
                            const RunnerEventEntry *entries,
                            gsize                   n_entries,
                            gpointer                user_data)
{
  g_return_if_fail (RUNNER_IS_REGISTRY (self));
  g_return_if_fail (entries != NULL || n_entries == 0);

  for (gsize i = 0; i < n_entries; i++)
    {
      EventRow *row;
      GArray *members;

      g_return_if_fail (entries[i].name != NULL && entries[i].handler != NULL);
      g_return_if_fail (!g_hash_table_contains (self->events, entries[i].name));
      members = parse_schema (entries[i].name, entries[i].schema);
      g_return_if_fail (members != NULL);

      row = g_new0 (EventRow, 1);
      row->entry = &entries[i];
      row->user_data = user_data;
      row->members = members;
      g_hash_table_insert (self->events, (gpointer) entries[i].name, row);
    }
}

/**
 * runner_registry_add_routes:
 * @entries: (array length=n_entries): static rows; they must outlive @self
 * @user_data: handed to each handler
 *
 * Adds a feature's HTTP routes; the server installs them when it is made.
 */
void
runner_registry_add_routes (RunnerRegistry         *self,
                            const RunnerRouteEntry *entries,
                            gsize                   n_entries,
                            gpointer                user_data)
{
  g_return_if_fail (RUNNER_IS_REGISTRY (self));
  g_return_if_fail (entries != NULL || n_entries == 0);

  for (gsize i = 0; i < n_entries; i++)
    {
      RunnerRoute *route;

      g_return_if_fail (entries[i].path != NULL && entries[i].path[0] == '/');
      g_return_if_fail (entries[i].handler != NULL);
      for (guint j = 0; j < self->routes->len; j++)
        {
          RunnerRoute *other = g_ptr_array_index (self->routes, j);

          g_return_if_fail (!g_str_equal (other->entry->path, entries[i].path));
        }

      route = g_new0 (RunnerRoute, 1);
      route->entry = &entries[i];
      route->user_data = user_data;
      g_ptr_array_add (self->routes, route);
    }
}

gboolean
runner_registry_has_event (RunnerRegistry *self,
                           const char     *name)
{
  g_return_val_if_fail (RUNNER_IS_REGISTRY (self), FALSE);

  return g_hash_table_contains (self->events, name);
}

static int
compare_names (const void *a,
               const void *b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static char **
sorted_strv (GPtrArray *names)
{
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

/**
 * runner_registry_list_events:
 *
 * Returns: (transfer full): the sorted event names
 */
char **
runner_registry_list_events (RunnerRegistry *self)
{
  GPtrArray *names;
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (RUNNER_IS_REGISTRY (self), NULL);

  names = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, self->events);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, g_strdup (key));
  return sorted_strv (names);
}

/**
 * runner_registry_list_routes:
 *
 * Returns: (transfer full): the sorted route paths
 */
char **
runner_registry_list_routes (RunnerRegistry *self)
{
  GPtrArray *names;

  g_return_val_if_fail (RUNNER_IS_REGISTRY (self), NULL);

  names = g_ptr_array_new ();
  for (guint i = 0; i < self->routes->len; i++)
    g_ptr_array_add (names, g_strdup (((RunnerRoute *) g_ptr_array_index (self->routes, i))->entry->path));
  return sorted_strv (names);
}

/**
 * runner_registry_get_routes:
 *
 * Returns: (transfer container) (element-type RunnerRoute): the routes; the
 *   registry owns the elements
 */
GPtrArray *
runner_registry_get_routes (RunnerRegistry *self)
{
  GPtrArray *ret;

  g_return_val_if_fail (RUNNER_IS_REGISTRY (self), NULL);

  ret = g_ptr_array_sized_new (self->routes->len);
  for (guint i = 0; i < self->routes->len; i++)
    g_ptr_array_add (ret, g_ptr_array_index (self->routes, i));
  return ret;
}

static gboolean
route_serves (const RunnerRouteEntry *entry,
              const char             *path,
              gsize                  *match_len)
{
  gsize len = strlen (entry->path);

  if (g_str_equal (entry->path, path))
    {
      *match_len = G_MAXSIZE;
      return TRUE;
    }
  if (!(entry->flags & RUNNER_ROUTE_PREFIX) || strncmp (entry->path, path, len) != 0)
    return FALSE;
  /* On a component boundary: /sync does not serve /syncs */
  if (entry->path[len - 1] != '/' && path[len] != '/')
    return FALSE;
  *match_len = len;
  return TRUE;
}

/**
 * runner_registry_match_route:
 * @path: a request's path
 *
 * Returns: (nullable): the route serving @path: the one with that very path,
 *   else the prefix route with the longest path above it
 */
const RunnerRoute *
runner_registry_match_route (RunnerRegistry *self,
                             const char     *path)
{
  const RunnerRoute *best = NULL;
  gsize best_len = 0;

  g_return_val_if_fail (RUNNER_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  for (guint i = 0; i < self->routes->len; i++)
    {
      const RunnerRoute *route = g_ptr_array_index (self->routes, i);
      gsize len;

      if (route_serves (route->entry, path, &len) && (best == NULL || len > best_len))
        {
          best = route;
          best_len = len;
        }
    }
  return best;
}

static gboolean
node_is_integer (JsonNode *node)
{
  double d;

  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return TRUE;
  if (json_node_get_value_type (node) != G_TYPE_DOUBLE)
    return FALSE;
  d = json_node_get_double (node);
  return d >= (double) G_MININT64 && d < (double) G_MAXINT64 && d == (double) (gint64) d;
}

static gboolean
node_has_type (JsonNode   *node,
               MemberType  type)
{
  switch (type)
    {
    case TYPE_STRING:
    case TYPE_PATH:
      return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
    case TYPE_INT:
      return node_is_integer (node);
    case TYPE_BOOL:
      return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN;
    case TYPE_OBJECT:
      return JSON_NODE_HOLDS_OBJECT (node);
    case TYPE_ANY:
    default:
      return TRUE;
    }
}

static const char * const type_names[] = {
  [TYPE_STRING] = "a string",
  [TYPE_INT] = "an integer",
  [TYPE_BOOL] = "true or false",
  [TYPE_OBJECT] = "an object",
  [TYPE_PATH] = "a string",
  [TYPE_ANY] = "a value",
};

static JsonNode *
lookup_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && !JSON_NODE_HOLDS_NULL (node) ? node : NULL;
}

/* The arguments against the event's schema; EINVAL naming the member. */
static gboolean
check_arguments (EventRow       *row,
                 RunnerRequest  *request,
                 GError        **error)
{
  JsonObject *object = runner_request_get_object (request);

  for (guint i = 0; i < row->members->len; i++)
    {
      Member *member = &g_array_index (row->members, Member, i);
      const char *name = member->name;
      g_autofree char *bytes_name = NULL;
      JsonNode *node = lookup_member (object, name);

      /* A path may come as its bytes instead: "pathBytes" */
      if (node == NULL && member->type == TYPE_PATH)
        {
          bytes_name = g_strconcat (name, "Bytes", NULL);
          node = lookup_member (object, bytes_name);
          if (node != NULL)
            name = bytes_name;
        }

      if (node == NULL)
        {
          if (!member->required)
            continue;
          g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID, "“%s” is required", name);
          return FALSE;
        }
      if (!node_has_type (node, member->type))
        {
          g_set_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID, "“%s” must be %s", name,
                       type_names[member->type]);
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * runner_registry_dispatch:
 * @request: an event from a client
 *
 * Checks the request's arguments against its event's schema and runs the
 * event's handler. An unknown event is answered with ENOSYS, arguments that
 * do not fit with EINVAL.
 */
void
runner_registry_dispatch (RunnerRegistry *self,
                          RunnerRequest  *request)
{
  g_autoptr(GError) error = NULL;
  const char *event;
  EventRow *row;

  g_return_if_fail (RUNNER_IS_REGISTRY (self));
  g_return_if_fail (request != NULL);

  event = runner_request_get_event (request);
  row = g_hash_table_lookup (self->events, event);
  if (row == NULL)
    {
      g_set_error (&error, RUNNER_ERROR, RUNNER_ERROR_UNKNOWN_EVENT, "Unknown event “%s”", event);
      runner_request_fail (request, error);
      return;
    }
  if (!check_arguments (row, request, &error))
    {
      runner_request_fail (request, error);
      return;
    }

  row->entry->handler (request, row->user_data);
}
