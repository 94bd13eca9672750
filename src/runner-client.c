/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-client"

#include "config.h"

#include "runner-client.h"
#include "runner-error.h"
#include "runner-request.h"

typedef struct
{
  char     *id;           /* owned */
  char     *transport;    /* owned */
  char     *remote;       /* owned */
  gsize     max_queued;
  gboolean  closed;
  gboolean  was_full;
  guint     in_flight;   /* requests dispatched and not yet done */
  GQueue    waiting;     /* RunnerRequest, owned: over the in-flight cap */
  guint     resume_id;
  guint     drained_id;
} RunnerClientPrivate;

/*
 * A client may pipeline requests, but only so many run at once: each may
 * hold a file's worth of memory until it is answered. The rest wait in
 * order, and past a bound they are refused.
 */
#define MAX_IN_FLIGHT 8
#define MAX_WAITING   1024

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (RunnerClient, runner_client, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_TRANSPORT,
  PROP_REMOTE,
  PROP_MAX_QUEUED,
  N_PROPS
};

enum {
  EVENT,
  DRAINED,
  CLOSED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

#define DEFAULT_MAX_QUEUED (8 * 1024 * 1024)

static void
runner_client_finalize (GObject *object)
{
  RunnerClient *self = RUNNER_CLIENT (object);
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  g_free (priv->id);
  g_free (priv->transport);
  g_free (priv->remote);

  G_OBJECT_CLASS (runner_client_parent_class)->finalize (object);
}

static void
runner_client_dispose (GObject *object)
{
  RunnerClient *self = RUNNER_CLIENT (object);
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  g_clear_handle_id (&priv->resume_id, g_source_remove);
  g_clear_handle_id (&priv->drained_id, g_source_remove);
  g_queue_clear_full (&priv->waiting, (GDestroyNotify) runner_request_unref);

  G_OBJECT_CLASS (runner_client_parent_class)->dispose (object);
}

static void
runner_client_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  RunnerClient *self = RUNNER_CLIENT (object);
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, priv->id);
      break;
    case PROP_TRANSPORT:
      g_value_set_string (value, priv->transport);
      break;
    case PROP_REMOTE:
      g_value_set_string (value, priv->remote);
      break;
    case PROP_MAX_QUEUED:
      g_value_set_uint64 (value, priv->max_queued);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
runner_client_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  RunnerClient *self = RUNNER_CLIENT (object);
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_ID:
      g_free (priv->id);
      priv->id = g_value_dup_string (value);
      if (priv->id == NULL)
        priv->id = g_uuid_string_random ();
      break;
    case PROP_TRANSPORT:
      g_free (priv->transport);
      priv->transport = g_value_dup_string (value);
      break;
    case PROP_REMOTE:
      g_free (priv->remote);
      priv->remote = g_value_dup_string (value);
      break;
    case PROP_MAX_QUEUED:
      runner_client_set_max_queued (self, g_value_get_uint64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
runner_client_class_init (RunnerClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = runner_client_dispose;
  object_class->finalize = runner_client_finalize;
  object_class->get_property = runner_client_get_property;
  object_class->set_property = runner_client_set_property;

  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TRANSPORT] =
    g_param_spec_string ("transport", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REMOTE] =
    g_param_spec_string ("remote", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_QUEUED] =
    g_param_spec_uint64 ("max-queued", NULL, NULL, 1024, G_MAXUINT64, DEFAULT_MAX_QUEUED,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * RunnerClient::event:
   * @request: the decoded event
   *
   * A transport decoded an event from this client. The server dispatches it
   * through the protocol table.
   */
  signals[EVENT] =
    g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, RUNNER_TYPE_REQUEST | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * RunnerClient::drained:
   *
   * Queued bytes fell back under the low-water mark after the client was
   * full: producers (terminals) may send again.
   */
  signals[DRAINED] =
    g_signal_new ("drained", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  /**
   * RunnerClient::closed:
   *
   * The connection is gone. Emitted once.
   */
  signals[CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
runner_client_init (RunnerClient *self)
{
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  priv->id = g_uuid_string_random ();
  priv->max_queued = DEFAULT_MAX_QUEUED;
}

const char *
runner_client_get_id (RunnerClient *self)
{
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  g_return_val_if_fail (RUNNER_IS_CLIENT (self), NULL);
  return priv->id;
}

const char *
runner_client_get_transport (RunnerClient *self)
{
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  g_return_val_if_fail (RUNNER_IS_CLIENT (self), NULL);
  return priv->transport;
}

const char *
runner_client_get_remote (RunnerClient *self)
{
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  g_return_val_if_fail (RUNNER_IS_CLIENT (self), NULL);
  return priv->remote;
}

gboolean
runner_client_is_closed (RunnerClient *self)
{
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  g_return_val_if_fail (RUNNER_IS_CLIENT (self), TRUE);
  return priv->closed;
}

gsize
runner_client_get_queued_bytes (RunnerClient *self)
{
  g_return_val_if_fail (RUNNER_IS_CLIENT (self), 0);

  if (RUNNER_CLIENT_GET_CLASS (self)->get_queued_bytes == NULL)
    return 0;
  return RUNNER_CLIENT_GET_CLASS (self)->get_queued_bytes (self);
}

gsize
runner_client_get_max_queued (RunnerClient *self)
{
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  g_return_val_if_fail (RUNNER_IS_CLIENT (self), 0);
  return priv->max_queued;
}

void
runner_client_set_max_queued (RunnerClient *self,
                              gsize         max_queued)
{
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  g_return_if_fail (RUNNER_IS_CLIENT (self));

  max_queued = MAX (max_queued, 1024);
  if (priv->max_queued == max_queued)
    return;
  priv->max_queued = max_queued;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_QUEUED]);
}

/**
 * runner_client_is_writable:
 *
 * Returns: whether the client's queue is under its low-water mark (half of
 *   max-queued). Streams (terminal output) send only while this holds and
 *   wait for #RunnerClient::drained otherwise.
 */
gboolean
runner_client_is_writable (RunnerClient *self)
{
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);
  gboolean writable;

  g_return_val_if_fail (RUNNER_IS_CLIENT (self), FALSE);

  if (priv->closed)
    return FALSE;

  writable = runner_client_get_queued_bytes (self) < priv->max_queued / 2;
  if (!writable)
    priv->was_full = TRUE;
  return writable;
}

/**
 * runner_client_send:
 * @message: the event
 *
 * Queues @message for the client. A client whose queue is over its cap is too
 * slow to keep: it is closed, so that it cannot grow the server's memory.
 *
 * Returns: %TRUE if the message was queued
 */
gboolean
runner_client_send (RunnerClient  *self,
                    RunnerMessage *message)
{
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);
  gsize size;

  g_return_val_if_fail (RUNNER_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (message != NULL, FALSE);

  if (priv->closed)
    return FALSE;

  size = g_bytes_get_size (runner_message_get_data_text (message));
  if (runner_client_get_queued_bytes (self) + size > priv->max_queued)
    {
      g_message ("Closing client %s: %zu bytes queued, over the cap of %zu",
                 priv->id, runner_client_get_queued_bytes (self), priv->max_queued);
      runner_client_close (self, "too slow: send queue over its cap");
      return FALSE;
    }

  return runner_client_send_must (self, message);
}

/**
 * runner_client_send_must:
 * @message: the event
 *
 * Queues @message without checking the cap: for small control messages that
 * must not be lost (replies, exits).
 */
gboolean
runner_client_send_must (RunnerClient  *self,
                         RunnerMessage *message)
{
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  g_return_val_if_fail (RUNNER_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (message != NULL, FALSE);

  if (priv->closed)
    return FALSE;

  RUNNER_CLIENT_GET_CLASS (self)->send_message (self, message);
  return TRUE;
}

void
runner_client_close (RunnerClient *self,
                     const char   *reason)
{
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  g_return_if_fail (RUNNER_IS_CLIENT (self));

  if (priv->closed)
    return;

  RUNNER_CLIENT_GET_CLASS (self)->close (self, reason);
}

/**
 * runner_client_dispatch:
 * @request: an event the transport decoded
 *
 * For transports: hands @request to whoever handles events (the server).
 */
void
runner_client_dispatch (RunnerClient  *self,
                        RunnerRequest *request)
{
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);
  g_autoptr(GError) error = NULL;

  g_return_if_fail (RUNNER_IS_CLIENT (self));
  g_return_if_fail (request != NULL);

  if (priv->closed)
    return;

  if (!runner_request_check_text (request, &error))
    {
      runner_request_fail (request, error);
      return;
    }

  if (priv->in_flight >= MAX_IN_FLIGHT || priv->waiting.length > 0)
    {
      if (priv->waiting.length >= MAX_WAITING)
        {
          runner_request_fail_literal (request, RUNNER_ERROR, RUNNER_ERROR_BUSY,
                                       "Too many requests waiting");
          return;
        }
      g_queue_push_tail (&priv->waiting, runner_request_ref (request));
      return;
    }

  priv->in_flight++;
  runner_request_set_in_flight (request);
  g_signal_emit (self, signals[EVENT], 0, request);
}

static gboolean
resume_waiting (gpointer user_data)
{
  RunnerClient *self = user_data;
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  priv->resume_id = 0;
  while (!priv->closed && priv->in_flight < MAX_IN_FLIGHT && priv->waiting.length > 0)
    {
      g_autoptr(RunnerRequest) request = g_queue_pop_head (&priv->waiting);

      priv->in_flight++;
      runner_request_set_in_flight (request);
      g_signal_emit (self, signals[EVENT], 0, request);
    }
  return G_SOURCE_REMOVE;
}

/* Called by #RunnerRequest when a dispatched request goes away: lets the
 * next waiting one run. */
static void
request_done (RunnerClient *self)
{
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  g_return_if_fail (RUNNER_IS_CLIENT (self));
  g_return_if_fail (priv->in_flight > 0);

  priv->in_flight--;
  /* From an idle: the request may be going away inside a handler. */
  if (priv->waiting.length > 0 && priv->resume_id == 0 && !priv->closed)
    priv->resume_id = g_idle_add_full (G_PRIORITY_DEFAULT, resume_waiting, g_object_ref (self),
                                       g_object_unref);
}

/* Called by #RunnerRequest: sends the answer through the transport. */
static void
request_reply (RunnerClient  *self,
               RunnerRequest *request,
               GBytes        *result_json,
               gboolean       is_error)
{
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  g_return_if_fail (RUNNER_IS_CLIENT (self));

  if (priv->closed)
    return;

  RUNNER_CLIENT_GET_CLASS (self)->send_reply (self, request, result_json, is_error);
}

static const RunnerRequestSink request_sink = {
  .is_closed = runner_client_is_closed,
  .reply = request_reply,
  .done = request_done,
};

/**
 * runner_client_new_request:
 * @event: the event name
 * @args: (transfer full) (nullable): the first argument of the event
 * @id: the reply id, or %RUNNER_REQUEST_NO_ID
 *
 * For transports: a request from this client, answered through it.
 *
 * Returns: (transfer full): the request
 */
RunnerRequest *
runner_client_new_request (RunnerClient *self,
                           const char   *event,
                           JsonNode     *args,
                           gint64        id)
{
  g_return_val_if_fail (RUNNER_IS_CLIENT (self), NULL);

  return runner_request_new (self, &request_sink, event, args, id);
}

/**
 * runner_client_notify_drained:
 *
 * For transports: call whenever bytes left the queue. Emits
 * #RunnerClient::drained once the queue is under the low-water mark after
 * the client had been found full.
 */
static gboolean
emit_drained (gpointer user_data)
{
  RunnerClient *self = user_data;
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  priv->drained_id = 0;
  if (!priv->closed)
    g_signal_emit (self, signals[DRAINED], 0);
  return G_SOURCE_REMOVE;
}

void
runner_client_notify_drained (RunnerClient *self)
{
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  g_return_if_fail (RUNNER_IS_CLIENT (self));

  if (priv->closed || !priv->was_full)
    return;

  /* Emitted from an idle: transports call this from inside their write
   * path, and a producer that sends again from there would re-enter it. */
  if (runner_client_get_queued_bytes (self) < priv->max_queued / 2)
    {
      priv->was_full = FALSE;
      if (priv->drained_id == 0)
        priv->drained_id = g_idle_add_full (G_PRIORITY_DEFAULT, emit_drained, g_object_ref (self),
                                            g_object_unref);
    }
}

/**
 * runner_client_notify_closed:
 *
 * For transports: the connection is gone. Emits #RunnerClient::closed once.
 */
void
runner_client_notify_closed (RunnerClient *self)
{
  RunnerClientPrivate *priv = runner_client_get_instance_private (self);

  g_return_if_fail (RUNNER_IS_CLIENT (self));

  if (priv->closed)
    return;

  priv->closed = TRUE;
  g_queue_clear_full (&priv->waiting, (GDestroyNotify) runner_request_unref);
  g_object_ref (self);
  g_signal_emit (self, signals[CLOSED], 0);
  g_object_unref (self);
}
