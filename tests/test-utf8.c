/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "runner-message.h"
#include "runner-json.h"
#include "runner-utf8.h"

/* What runner_json_append_string() writes for @data, without the quotes. */
static char *
reference_escape (const char *data,
                  gsize       len)
{
  g_autoptr(GString) out = g_string_new (NULL);

  runner_json_append_string (out, data, len);
  return g_strndup (out->str + 1, out->len - 2);
}

/* Both escapers on @data; returns the strict one's output, or NULL when it
 * refused @data. The lenient one must agree with it on what it accepted. */
static char *
escape_both (const char *data,
             gsize       len)
{
  g_autofree char *lenient = g_malloc (len * RUNNER_JSON_ESCAPE_EXPANSION + 1);
  g_autofree char *strict = g_malloc (len * RUNNER_JSON_ESCAPE_EXPANSION + 1);
  gsize lenient_len, strict_len = 12345;
  gboolean ok;

  lenient_len = runner_json_escape ((const guint8 *) data, len, lenient);
  g_assert_cmpuint (lenient_len, <=, len * RUNNER_JSON_ESCAPE_EXPANSION);
  ok = runner_json_escape_strict ((const guint8 *) data, len, strict, &strict_len);
  g_assert_cmpint (ok, ==, g_utf8_validate_len (data, len, NULL) && memchr (data, 0, len) == NULL);
  if (!ok)
    {
      g_assert_cmpuint (strict_len, ==, 0);
      return NULL;
    }

  g_assert_cmpmem (strict, strict_len, lenient, lenient_len);
  strict[strict_len] = '\0';
  return g_steal_pointer (&strict);
}

/* Valid text: exactly the old output, and JSON that parses back to @text. */
static void
assert_escapes_valid (const char *text,
                      gsize       len)
{
  g_autofree char *escaped = escape_both (text, len);
  g_autofree char *expected = reference_escape (text, len);
  g_autofree char *quoted = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (escaped);
  g_assert_cmpstr (escaped, ==, expected);

  quoted = g_strdup_printf ("\"%s\"", escaped);
  node = json_from_string (quoted, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (json_node_get_string (node), strlen (json_node_get_string (node)), text, len);
}

static void
test_ascii (void)
{
  GString *long_text = g_string_new (NULL);

  assert_escapes_valid ("", 0);
  assert_escapes_valid ("a", 1);
  assert_escapes_valid ("hello, world", 12);
  for (guint i = 0; i < 100; i++)
    g_string_append (long_text, "The quick brown fox ~ jumps {over} the lazy dog. ");
  assert_escapes_valid (long_text->str, long_text->len);
  assert_escapes_valid ("\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f", 9);
  g_string_free (long_text, TRUE);
}

static void
test_controls (void)
{
  g_autofree char *escaped = NULL;
  char all[31];

  for (guint i = 0; i < 31; i++)
    all[i] = (char) (i + 1);
  assert_escapes_valid (all, sizeof all);

  escaped = escape_both ("a\nb\tc\r\b\f\x01\x1f........x", 19);
  g_assert_cmpstr (escaped, ==, "a\\nb\\tc\\r\\b\\f\\u0001\\u001f........x");
}

static void
test_quotes (void)
{
  g_autofree char *escaped = escape_both ("12345678\"x\\\\y\"", 14);

  g_assert_cmpstr (escaped, ==, "12345678\\\"x\\\\\\\\y\\\"");
  assert_escapes_valid ("\"\"\"\"\"\"\"\"\\\\\\\\\\\\\\\\", 16);
  assert_escapes_valid ("abcdefg\"abcdefg\\", 16);
}

static void
test_multibyte (void)
{
  static const char text[] = "Grüße, 世界! 😀 ends with é";
  g_autofree char *escaped = escape_both (text, strlen (text));

  g_assert_cmpstr (escaped, ==, text);
  assert_escapes_valid (text, strlen (text));
  /* noncharacters and the last code point are valid UTF-8 */
  assert_escapes_valid ("\xef\xbf\xbe\xef\xbf\xbf\xf4\x8f\xbf\xbf", 10);
  assert_escapes_valid ("1234567é1234567\xe2\x82\xac", 19);
}

static void
test_invalid (void)
{
  static const struct { const char *in; const char *lenient; } cases[] = {
    { "abc\xff", "abc\xef\xbf\xbd" },
    { "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },                    /* overlong */
    { "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },    /* surrogate */
    { "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
    { "12345678\xe2\x82", "12345678\xef\xbf\xbd" },                 /* truncated */
    { "\xe2\x82x", "\xef\xbf\xbdx" },
    { "\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize len = strlen (cases[i].in);
      g_autofree char *out = g_malloc (len * RUNNER_JSON_ESCAPE_EXPANSION + 1);
      gsize out_len = 0;

      g_assert_null (escape_both (cases[i].in, len));
      g_assert_false (runner_json_escape_strict ((const guint8 *) cases[i].in, len,
                                                      out, &out_len));
      out_len = runner_json_escape ((const guint8 *) cases[i].in, len, out);
      g_assert_cmpmem (out, out_len, cases[i].lenient, strlen (cases[i].lenient));
    }
}

static void
test_nul (void)
{
  char out[64];
  gsize out_len;

  g_assert_null (escape_both ("abc\0def", 7));
  g_assert_null (escape_both ("abcdefgh\0", 9));
  out_len = runner_json_escape ((const guint8 *) "a\0b", 3, out);
  g_assert_cmpmem (out, out_len, "a\\u0000b", 8);
}

/* Random mixes of every kind of byte at every alignment. */
static void
test_random (void)
{
  static const char * const pieces[] = {
    "a", "abcdefgh", "\"", "\\", "\n", "\x01", "\x7f", "é", "世", "😀", "\xff", "\xe2\x82",
    "\x80", "\xed\xa0\x80", "\0",
  };
  GRand *rand = g_rand_new_with_seed (20260101);

  for (guint round = 0; round < 2000; round++)
    {
      g_autoptr(GString) text = g_string_new (NULL);
      guint n = g_rand_int_range (rand, 0, 40);
      g_autofree char *escaped = NULL;

      for (guint i = 0; i < n; i++)
        {
          guint k = g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces));
          guint repeat = g_rand_int_range (rand, 1, 12);

          for (guint r = 0; r < repeat; r++)
            g_string_append_len (text, pieces[k], k == G_N_ELEMENTS (pieces) - 1 ? 1 : strlen (pieces[k]));
        }

      escaped = escape_both (text->str, text->len);
      if (escaped != NULL)
        assert_escapes_valid (text->str, text->len);
    }
  g_rand_free (rand);
}

/* GLib's validator, with NUL bytes allowed as UTF-8 allows them. */
static gboolean
glib_validate (const char *data,
               gsize       len)
{
  for (const char *end = data + len, *nul; data < end; data = nul + 1)
    {
      nul = memchr (data, '\0', end - data);
      if (nul == NULL)
        nul = end;
      if (!g_utf8_validate_len (data, nul - data, NULL))
        return FALSE;
    }
  return TRUE;
}

/* The validator agrees with GLib's; the sanitizer changes only what is
 * invalid, as the lenient escaper does. */
static void
test_validate (void)
{
  static const char * const pieces[] = {
    "a", "abcdefgh", "é", "世", "😀", "\xff", "\xe2\x82", "\x80", "\xed\xa0\x80", "\xc0\x80",
    "\xf4\x90\x80\x80", "\0",
  };
  GRand *rand = g_rand_new_with_seed (20261129);

  for (guint round = 0; round < 2000; round++)
    {
      g_autoptr(GString) text = g_string_new (NULL);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GBytes) valid = NULL;
      guint n = g_rand_int_range (rand, 0, 30);
      g_autofree char *escaped = NULL;
      g_autofree char *escaped_valid = NULL;
      gsize len, escaped_len, escaped_valid_len;
      const char *data;
      gboolean ok;

      for (guint i = 0; i < n; i++)
        {
          guint k = g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces));

          g_string_append_len (text, pieces[k], k == G_N_ELEMENTS (pieces) - 1 ? 1 : strlen (pieces[k]));
        }

      ok = runner_utf8_validate ((const guint8 *) text->str, text->len);
      g_assert_cmpint (ok, ==, glib_validate (text->str, text->len));

      bytes = g_bytes_new (text->str, text->len);
      valid = runner_utf8_make_valid_bytes (bytes);
      g_assert_cmpint (valid == bytes, ==, ok);
      data = g_bytes_get_data (valid, &len);
      g_assert_true (glib_validate (data, len));

      escaped = g_malloc (text->len * RUNNER_JSON_ESCAPE_EXPANSION + 1);
      escaped_len = runner_json_escape ((const guint8 *) text->str, text->len, escaped);
      escaped_valid = g_malloc (len * RUNNER_JSON_ESCAPE_EXPANSION + 1);
      escaped_valid_len = runner_json_escape ((const guint8 *) data, len, escaped_valid);
      g_assert_cmpmem (escaped, escaped_len, escaped_valid, escaped_valid_len);
    }
  g_rand_free (rand);
}

/* Invalid UTF-8 handed to the quoting helper comes out as U+FFFD. */
static void
test_append_invalid (void)
{
  g_autoptr(GString) out = g_string_new ("x");

  runner_json_append_string (out, "bad\xff\"name\xed\xa0\x80", -1);
  /* (a surrogate's three bytes are three maximal invalid subparts) */
  g_assert_cmpstr (out->str, ==, "x\"bad\xef\xbf\xbd\\\"name\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}

/* How the parser's strings mark NUL and lone surrogates. */
static void
test_json_marks (void)
{
  g_autofree char *decoded = NULL;
  gsize len;

  g_assert_false (runner_json_string_has_nul ("plain é"));
  g_assert_true (runner_json_string_has_nul ("a\xc0\x80"));
  g_assert_false (runner_json_string_has_surrogate ("\xed\x9f\xbf \xed\x80\x80"));
  g_assert_true (runner_json_string_has_surrogate ("x\xed\x9f\xbfy\xed\xa0\x80"));
  g_assert_true (runner_json_string_has_surrogate ("\xed\xbf\xbf"));

  decoded = runner_json_string_decode_nul ("abc\xc0\x80" "def\xc0\x80", &len);
  g_assert_cmpmem (decoded, len, "abc\0def\0", 8);
  g_clear_pointer (&decoded, g_free);
  decoded = runner_json_string_decode_nul ("é", &len);
  g_assert_cmpmem (decoded, len, "é", strlen ("é"));
}

static void
write_test_header (GString    *out,
                   const char *event_json)
{
  g_string_append (out, "<");
  g_string_append (out, event_json);
  g_string_append (out, "|");
}

static void
write_long_header (GString    *out,
                   const char *event_json)
{
  g_string_append (out, "a header longer than the room a message keeps: ");
  g_string_append (out, event_json);
}

static const RunnerFramer test_framer = { write_test_header, ">" };
static const RunnerFramer other_framer = { write_test_header, "]]" };
static const RunnerFramer long_framer = { write_long_header, "" };

static void
assert_frame (RunnerMessage      *message,
              const RunnerFramer *framer,
              const char         *expected)
{
  GBytes *frame = runner_message_get_frame (message, framer);

  g_assert_cmpmem (g_bytes_get_data (frame, NULL), g_bytes_get_size (frame),
                   expected, strlen (expected));
  /* cached: built once per framer */
  g_assert_true (runner_message_get_frame (message, framer) == frame);
}

/* The frame written in place around a buffer's payload, the copies made for
 * other framers and those of a message without room are all the same text. */
static void
test_message_frame (void)
{
  static const char data[] = "{\"data\":\"x\\n\",\"id\":\"t1\"}";
  static const char event[] = "terminal:\"data";
  g_autoptr(RunnerMessage) built = NULL;
  g_autoptr(RunnerMessage) plain = NULL;
  g_autoptr(RunnerMessage) node = NULL;
  g_autofree char *expected = g_strdup_printf ("<\"terminal:\\\"data\"|%s>", data);
  g_autofree char *other = g_strdup_printf ("<\"terminal:\\\"data\"|%s]]", data);
  g_autofree char *longer = g_strdup_printf ("a header longer than the room a message keeps: "
                                             "\"terminal:\\\"data\"%s", data);
  GString *buffer = runner_message_buffer_new (event, 4);
  GBytes *text;

  g_string_append (buffer, data);
  built = runner_message_new_from_buffer (event, buffer);
  plain = runner_message_new_take_text (event, g_strdup (data), strlen (data));

  g_assert_cmpstr (runner_message_get_event (built), ==, event);
  text = runner_message_get_data_text (built);
  g_assert_cmpmem (g_bytes_get_data (text, NULL), g_bytes_get_size (text), data, strlen (data));
  assert_frame (built, &test_framer, expected);
  assert_frame (built, &other_framer, other);
  assert_frame (built, &long_framer, longer);
  assert_frame (built, &test_framer, expected);
  text = runner_message_get_data_text (built);
  g_assert_cmpmem (g_bytes_get_data (text, NULL), g_bytes_get_size (text), data, strlen (data));

  assert_frame (plain, &test_framer, expected);
  assert_frame (plain, &other_framer, other);

  /* a header too long for the room is copied even the first time */
  node = runner_message_new (event, json_node_init_string (json_node_alloc (), "x"));
  assert_frame (node, &long_framer,
                "a header longer than the room a message keeps: \"terminal:\\\"data\"\"x\"");
  assert_frame (node, &test_framer, "<\"terminal:\\\"data\"|\"x\">");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/runner/utf8/ascii", test_ascii);
  g_test_add_func ("/runner/utf8/controls", test_controls);
  g_test_add_func ("/runner/utf8/quotes", test_quotes);
  g_test_add_func ("/runner/utf8/multibyte", test_multibyte);
  g_test_add_func ("/runner/utf8/invalid", test_invalid);
  g_test_add_func ("/runner/utf8/nul", test_nul);
  g_test_add_func ("/runner/utf8/random", test_random);
  g_test_add_func ("/runner/utf8/validate", test_validate);
  g_test_add_func ("/runner/utf8/append-invalid", test_append_invalid);
  g_test_add_func ("/runner/utf8/json-marks", test_json_marks);
  g_test_add_func ("/runner/message/prebuilt-frame", test_message_frame);

  return g_test_run ();
}
