/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-message"

#include "config.h"

#include "runner-message.h"

#include <string.h>

/*
 * A message keeps its payload in one block with room on both sides. The first
 * framer writes its header and trailer into that room, so the frame of the
 * transport most clients use (and of big payloads: terminal output, file
 * content) costs no copy; any other framer gets a copy. Frames are cached per
 * framer.
 */
typedef struct
{
  const RunnerFramer *framer;
  GBytes             *frame;  /* owned */
} CachedFrame;

struct _RunnerMessage
{
  gatomicrefcount  ref_count;
  char            *event;       /* owned */
  char            *event_json;  /* owned: @event as a quoted JSON string */
  GBytes          *block;       /* owned: headroom, payload, tailroom */
  gsize            offset;      /* of the payload in @block */
  GBytes          *data;        /* owned: the payload, a view of @block */
  gboolean         room_used;   /* a framer wrote around the payload */
  CachedFrame      frames[RUNNER_MESSAGE_MAX_FRAMERS];
};

G_DEFINE_BOXED_TYPE (RunnerMessage, runner_message, runner_message_ref, runner_message_unref)

static char *
quote_event (const char *event)
{
  GString *out = g_string_sized_new (strlen (event) + 2);

  runner_json_append_string (out, event, -1);
  return g_string_free (out, FALSE);
}

static RunnerMessage *
message_new (const char *event,
             char       *event_json,
             GBytes     *block,
             gsize       offset,
             gsize       len)
{
  RunnerMessage *self = g_new0 (RunnerMessage, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->event = g_strdup (event);
  self->event_json = event_json;
  self->block = block;
  self->offset = offset;
  self->data = g_bytes_new_from_bytes (block, offset, len);
  return self;
}

/**
 * runner_message_buffer_new:
 * @event: the event name
 * @payload_len_hint: about how long the payload will be
 *
 * For producers of big payloads, in any thread: append the payload JSON text
 * to the result (never touching what it holds already), then make the message
 * with runner_message_new_from_buffer(). The payload is then framed in place,
 * not copied.
 *
 * Returns: (transfer full): the buffer, holding the room for a header
 */
GString *
runner_message_buffer_new (const char *event,
                           gsize       payload_len_hint)
{
  g_autofree char *event_json = NULL;
  gsize headroom;
  GString *buffer;

  g_return_val_if_fail (event != NULL, NULL);

  event_json = quote_event (event);
  headroom = strlen (event_json) + RUNNER_MESSAGE_HEADROOM;
  buffer = g_string_sized_new (headroom + payload_len_hint + RUNNER_MESSAGE_TAILROOM);
  g_string_set_size (buffer, headroom);
  return buffer;
}

/**
 * runner_message_new_from_buffer:
 * @event: as given to runner_message_buffer_new()
 * @buffer: (transfer full): from runner_message_buffer_new(), with the
 *   payload JSON text appended
 *
 * Returns: (transfer full): the message
 */
RunnerMessage *
runner_message_new_from_buffer (const char *event,
                                GString    *buffer)
{
  char *event_json;
  gsize headroom, len;
  char *block;

  g_return_val_if_fail (event != NULL, NULL);
  g_return_val_if_fail (buffer != NULL, NULL);

  event_json = quote_event (event);
  headroom = strlen (event_json) + RUNNER_MESSAGE_HEADROOM;
  g_return_val_if_fail (buffer->len >= headroom, NULL);

  /* Exactly the tailroom: GString rounds its block up to a power of two, and
   * frames may sit in send queues for a while. */
  len = buffer->len - headroom;
  block = g_realloc (g_string_free (buffer, FALSE), headroom + len + RUNNER_MESSAGE_TAILROOM);
  return message_new (event, event_json,
                      g_bytes_new_take (block, headroom + len + RUNNER_MESSAGE_TAILROOM),
                      headroom, len);
}

/**
 * runner_message_new:
 * @event: the event name
 * @data: (transfer full) (nullable): the payload; %NULL for none
 */
RunnerMessage *
runner_message_new (const char *event,
                    JsonNode   *data)
{
  g_autoptr(JsonNode) owned = data;
  g_autoptr(JsonGenerator) generator = NULL;
  GString *buffer;

  g_return_val_if_fail (event != NULL, NULL);

  buffer = runner_message_buffer_new (event, 256);
  if (owned == NULL)
    g_string_append (buffer, "null");
  else
    {
      generator = json_generator_new ();
      json_generator_set_root (generator, owned);
      json_generator_to_gstring (generator, buffer);
    }
  return runner_message_new_from_buffer (event, buffer);
}

/**
 * runner_message_new_take_text:
 * @event: the event name
 * @data_json: (transfer full): the payload, already valid JSON text
 * @len: its length
 *
 * For small payloads built by hand; big ones are better written into a
 * runner_message_buffer_new().
 */
RunnerMessage *
runner_message_new_take_text (const char *event,
                              char       *data_json,
                              gsize       len)
{
  g_return_val_if_fail (event != NULL, NULL);
  g_return_val_if_fail (data_json != NULL, NULL);

  return message_new (event, quote_event (event), g_bytes_new_take (data_json, len), 0, len);
}

RunnerMessage *
runner_message_ref (RunnerMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
runner_message_unref (RunnerMessage *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  for (guint i = 0; i < RUNNER_MESSAGE_MAX_FRAMERS; i++)
    g_clear_pointer (&self->frames[i].frame, g_bytes_unref);
  g_clear_pointer (&self->data, g_bytes_unref);
  g_clear_pointer (&self->block, g_bytes_unref);
  g_free (self->event_json);
  g_free (self->event);
  g_free (self);
}

const char *
runner_message_get_event (RunnerMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->event;
}

/**
 * runner_message_get_data_text:
 *
 * Returns: (transfer none): the payload as JSON text (not NUL-terminated)
 */
GBytes *
runner_message_get_data_text (RunnerMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->data;
}

static GBytes *
frame (RunnerMessage      *self,
       const RunnerFramer *framer)
{
  g_autoptr(GString) header = g_string_sized_new (strlen (self->event_json) + RUNNER_MESSAGE_HEADROOM);
  gsize trailer_len = strlen (framer->trailer);
  gsize block_len, len;
  const char *data = g_bytes_get_data (self->data, &len);
  GString *out;

  framer->write_header (header, self->event_json);
  g_bytes_get_data (self->block, &block_len);

  if (!self->room_used && header->len <= self->offset &&
      trailer_len <= block_len - self->offset - len)
    {
      /* In place: no one holds a view of the room yet. */
      char *block = (char *) g_bytes_get_data (self->block, NULL);
      gsize start = self->offset - header->len;

      memcpy (block + start, header->str, header->len);
      memcpy (block + self->offset + len, framer->trailer, trailer_len);
      self->room_used = TRUE;
      return g_bytes_new_from_bytes (self->block, start, header->len + len + trailer_len);
    }

  out = g_string_sized_new (header->len + len + trailer_len);
  g_string_append_len (out, header->str, header->len);
  g_string_append_len (out, data, len);
  g_string_append_len (out, framer->trailer, trailer_len);
  return g_string_free_to_bytes (out);
}

/**
 * runner_message_get_frame:
 * @framer: the transport's framer
 *
 * Returns: (transfer none): the message framed for one transport; built once
 *   and cached. Only the main thread may call this.
 */
GBytes *
runner_message_get_frame (RunnerMessage      *self,
                          const RunnerFramer *framer)
{
  guint i;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (framer != NULL, NULL);

  for (i = 0; i < RUNNER_MESSAGE_MAX_FRAMERS && self->frames[i].framer != NULL; i++)
    if (self->frames[i].framer == framer)
      return self->frames[i].frame;

  g_return_val_if_fail (i < RUNNER_MESSAGE_MAX_FRAMERS, NULL);
  self->frames[i].framer = framer;
  self->frames[i].frame = frame (self, framer);
  return self->frames[i].frame;
}
