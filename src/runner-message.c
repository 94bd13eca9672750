/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-message"

#include "config.h"

#include "runner-message.h"
#include "runner-error.h"
#include "runner-utf8.h"

struct _RunnerMessage
{
  gatomicrefcount  ref_count;
  char            *event;                       /* owned */
  GBytes          *data;                        /* owned, JSON text */
  GBytes          *frames[RUNNER_N_FRAME_KINDS]; /* owned, built on demand */
};

G_DEFINE_BOXED_TYPE (RunnerMessage, runner_message, runner_message_ref, runner_message_unref)

/**
 * runner_json_to_string:
 * @node: a #JsonNode
 * @length: (out) (optional): the length of the text
 *
 * Serializes @node compactly.
 *
 * Returns: (transfer full): JSON text
 */
char *
runner_json_to_string (JsonNode *node,
                       gsize    *length)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, length);
}

/**
 * runner_json_append_string:
 * @out: where to append
 * @str: UTF-8
 * @len: its length, or -1 if NUL-terminated
 *
 * Appends @str as a quoted JSON string. Runs of plain bytes are copied in one
 * go, which makes this several times faster than json-glib's generator on
 * large text (file contents, terminal output). Invalid UTF-8 in @str shows
 * as U+FFFD: what Runner sends is always valid text.
 */
void
runner_json_append_string (GString    *out,
                           const char *str,
                           gssize      len)
{
  static const char hex[] = "0123456789abcdef";
  const guchar *p = (const guchar *) str;
  const guchar *end, *run;

  if (len < 0)
    len = strlen (str);
  end = p + len;

  if (G_UNLIKELY (!runner_utf8_validate (p, len)))
    {
      gsize start = out->len;

      g_string_set_size (out, start + 1 + len * RUNNER_UTF8_JSON_EXPANSION + 1);
      out->str[start] = '"';
      start += 1 + runner_utf8_escape_json (p, len, out->str + start + 1);
      g_string_truncate (out, start);
      g_string_append_c (out, '"');
      return;
    }

  g_string_append_c (out, '"');
  run = p;
  for (; p < end; p++)
    {
      guchar c = *p;

      if (G_LIKELY (c >= 0x20 && c != '"' && c != '\\'))
        continue;

      g_string_append_len (out, (const char *) run, p - run);
      switch (c)
        {
        case '"': g_string_append_len (out, "\\\"", 2); break;
        case '\\': g_string_append_len (out, "\\\\", 2); break;
        case '\n': g_string_append_len (out, "\\n", 2); break;
        case '\r': g_string_append_len (out, "\\r", 2); break;
        case '\t': g_string_append_len (out, "\\t", 2); break;
        case '\b': g_string_append_len (out, "\\b", 2); break;
        case '\f': g_string_append_len (out, "\\f", 2); break;
        default:
          {
            char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] };
            g_string_append_len (out, esc, 6);
          }
        }
      run = p + 1;
    }
  g_string_append_len (out, (const char *) run, p - run);
  g_string_append_c (out, '"');
}

/**
 * runner_json_error_new:
 * @error: a #GError
 *
 * Returns: (transfer full): the wire form of @error,
 *   `{"error":{"code":"ENOENT","message":"..."}}`
 */
JsonNode *
runner_json_error_new (const GError *error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, runner_error_to_code (error));
  json_builder_set_member_name (builder, "message");
  /* A message may quote a name that is not UTF-8. */
  if (g_utf8_validate (error->message, -1, NULL))
    json_builder_add_string_value (builder, error->message);
  else
    {
      g_autofree char *valid = g_utf8_make_valid (error->message, -1);

      json_builder_add_string_value (builder, valid);
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
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
  gsize len = 4;
  char *text;

  g_return_val_if_fail (event != NULL, NULL);

  text = owned != NULL ? runner_json_to_string (owned, &len) : g_strdup ("null");
  return runner_message_new_take_text (event, text, len);
}

/**
 * runner_message_new_take_text:
 * @event: the event name
 * @data_json: (transfer full): the payload, already valid JSON text
 * @len: its length
 *
 * For hot paths (terminal output) that build the JSON text themselves.
 */
RunnerMessage *
runner_message_new_take_text (const char *event,
                              char       *data_json,
                              gsize       len)
{
  RunnerMessage *self;

  g_return_val_if_fail (event != NULL, NULL);
  g_return_val_if_fail (data_json != NULL, NULL);

  self = g_new0 (RunnerMessage, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->event = g_strdup (event);
  self->data = g_bytes_new_take (data_json, len);
  return self;
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

  for (guint i = 0; i < RUNNER_N_FRAME_KINDS; i++)
    g_clear_pointer (&self->frames[i], g_bytes_unref);
  g_clear_pointer (&self->data, g_bytes_unref);
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


/* The wire form up to the data: `{"event":E,"data":` or `42["E",`. */
static GString *
frame_begin (RunnerFrameKind  kind,
             const char      *event,
             gsize            data_len)
{
  GString *out = g_string_sized_new (data_len + strlen (event) + 24);

  switch (kind)
    {
    case RUNNER_FRAME_JSON:
      g_string_append (out, "{\"event\":");
      runner_json_append_string (out, event, -1);
      g_string_append (out, ",\"data\":");
      break;

    case RUNNER_FRAME_SIO:
      g_string_append (out, "42[");
      runner_json_append_string (out, event, -1);
      g_string_append_c (out, ',');
      break;

    case RUNNER_N_FRAME_KINDS:
    default:
      g_assert_not_reached ();
    }

  return out;
}

static GBytes *
frame_end (GString         *out,
           RunnerFrameKind  kind)
{
  gsize len;
  char *text;

  g_string_append_c (out, kind == RUNNER_FRAME_JSON ? '}' : ']');
  /* GString rounds its block up to a power of two: give back the slack of
   * frames that may sit in send queues for a while (shrinking is in place). */
  len = out->len;
  text = g_realloc (g_string_free (out, FALSE), len + 1);
  return g_bytes_new_take (text, len);
}

/**
 * runner_message_frame_begin:
 * @kind: which wire form
 * @event: the event name
 * @data_len: about how long the data will be
 *
 * For hot paths that write their data straight into a wire frame instead of
 * having it copied there: append the data JSON text to the result, then call
 * runner_message_frame_end(). Any thread may call these.
 *
 * Returns: (transfer full): the frame so far
 */
GString *
runner_message_frame_begin (RunnerFrameKind  kind,
                            const char      *event,
                            gsize            data_len)
{
  g_return_val_if_fail (kind < RUNNER_N_FRAME_KINDS, NULL);
  g_return_val_if_fail (event != NULL, NULL);

  return frame_begin (kind, event, data_len);
}

/**
 * runner_message_frame_end:
 * @frame: (transfer full): from runner_message_frame_begin(), with the data
 *   text appended
 * @kind: as given to runner_message_frame_begin()
 * @event: as given to runner_message_frame_begin()
 * @data_offset: the length of @frame before the data was appended
 *
 * Returns: (transfer full): the message, whose @kind frame is @frame and whose
 *   data text shares its memory
 */
RunnerMessage *
runner_message_frame_end (GString         *frame,
                          RunnerFrameKind  kind,
                          const char      *event,
                          gsize            data_offset)
{
  RunnerMessage *self;
  gsize data_len;

  g_return_val_if_fail (frame != NULL, NULL);
  g_return_val_if_fail (kind < RUNNER_N_FRAME_KINDS, NULL);
  g_return_val_if_fail (event != NULL, NULL);
  g_return_val_if_fail (data_offset <= frame->len, NULL);

  data_len = frame->len - data_offset;
  self = g_new0 (RunnerMessage, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->event = g_strdup (event);
  self->frames[kind] = frame_end (frame, kind);
  self->data = g_bytes_new_from_bytes (self->frames[kind], data_offset, data_len);
  return self;
}

/**
 * runner_message_get_frame:
 * @kind: which wire form
 *
 * Returns: (transfer none): the message framed for one transport; built once
 *   and cached. Only the main thread may call this.
 */
GBytes *
runner_message_get_frame (RunnerMessage   *self,
                          RunnerFrameKind  kind)
{
  gsize data_len;
  const char *data;
  GString *out;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (kind < RUNNER_N_FRAME_KINDS, NULL);

  if (self->frames[kind] != NULL)
    return self->frames[kind];

  data = g_bytes_get_data (self->data, &data_len);
  out = frame_begin (kind, self->event, data_len);
  g_string_append_len (out, data, data_len);
  self->frames[kind] = frame_end (out, kind);
  return self->frames[kind];
}
