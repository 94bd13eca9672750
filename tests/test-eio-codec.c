/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <string.h>

#include "runner-eio-codec.h"
#include "runner-error.h"
#include "runner-json.h"
#include "runner-message.h"

#define RS "\x1e"

static RunnerEioPacket *
eio_decode (const char *text,
            gboolean    allow_base64,
            GError    **error)
{
  return runner_eio_packet_decode ((const guint8 *) text, strlen (text), allow_base64, error);
}

static void
assert_bytes_equal (GBytes     *bytes,
                    const void *expected,
                    gsize       expected_len)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  g_assert_cmpmem (data, len, expected, expected_len);
}

static void
assert_bytes_str (GBytes     *bytes,
                  const char *expected)
{
  assert_bytes_equal (bytes, expected, strlen (expected));
}

static void
test_eio_packet_types (void)
{
  static const struct
  {
    const char *wire;
    RunnerEioPacketType type;
    const char *data;
  } cases[] = {
    { "0{\"sid\":\"x\"}", RUNNER_EIO_PACKET_OPEN, "{\"sid\":\"x\"}" },
    { "1", RUNNER_EIO_PACKET_CLOSE, "" },
    { "2", RUNNER_EIO_PACKET_PING, "" },
    { "2probe", RUNNER_EIO_PACKET_PING, "probe" },
    { "3", RUNNER_EIO_PACKET_PONG, "" },
    { "3probe", RUNNER_EIO_PACKET_PONG, "probe" },
    { "42[\"a\",1]", RUNNER_EIO_PACKET_MESSAGE, "2[\"a\",1]" },
    { "4h\xc3\xa9llo", RUNNER_EIO_PACKET_MESSAGE, "h\xc3\xa9llo" },
    { "5", RUNNER_EIO_PACKET_UPGRADE, "" },
    { "6", RUNNER_EIO_PACKET_NOOP, "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RunnerEioPacket) packet = eio_decode (cases[i].wire, FALSE, &error);

      g_assert_no_error (error);
      g_assert_nonnull (packet);
      g_assert_cmpint (packet->type, ==, cases[i].type);
      g_assert_false (packet->binary);
      assert_bytes_str (packet->data, cases[i].data);
    }
}

static void
test_eio_packet_malformed (void)
{
  static const char * const bad[] = {
    "", "7", "9", "x", "/", " 4", "b", "bAQID", "4\xff", "4\xc3", "2\xed\xa0\x80",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RunnerEioPacket) packet = eio_decode (bad[i], FALSE, &error);

      g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID);
      g_assert_null (packet);
    }

  /* A NUL inside a text packet is not UTF-8 text */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(RunnerEioPacket) packet
      = runner_eio_packet_decode ((const guint8 *) "4a\0b", 4, FALSE, &error);

    g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID);
    g_assert_null (packet);
  }
}

static void
test_eio_packet_base64 (void)
{
  static const guint8 bytes[] = { 1, 2, 3 };
  static const char * const bad[] = {
    "bAQI", "bAQ=I", "bA=QI", "b!!!!", "bAQ==A==", "bA===", "bAQ I", "b====",
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(RunnerEioPacket) packet = eio_decode ("bAQID", TRUE, &error);
  g_autoptr(RunnerEioPacket) one = eio_decode ("bAQ==", TRUE, &error);
  g_autoptr(RunnerEioPacket) empty = eio_decode ("b", TRUE, &error);

  g_assert_no_error (error);
  g_assert_cmpint (packet->type, ==, RUNNER_EIO_PACKET_MESSAGE);
  g_assert_true (packet->binary);
  assert_bytes_equal (packet->data, bytes, sizeof bytes);
  g_assert_cmpuint (runner_eio_packet_get_polling_size (packet), ==, strlen ("bAQID"));

  assert_bytes_equal (one->data, bytes, 1);
  g_assert_cmpuint (runner_eio_packet_get_polling_size (one), ==, strlen ("bAQ=="));
  g_assert_cmpuint (g_bytes_get_size (empty->data), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(RunnerEioPacket) p = eio_decode (bad[i], TRUE, &local_error);

      g_assert_error (local_error, RUNNER_ERROR, RUNNER_ERROR_INVALID);
      g_assert_null (p);
    }
}

static void
test_eio_payload_decode (void)
{
  const char *wire = "40" RS "42[\"a\"]" RS "bAQID" RS "3";
  static const guint8 bytes[] = { 1, 2, 3 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) packets
    = runner_eio_payload_decode ((const guint8 *) wire, strlen (wire), 16, &error);
  RunnerEioPacket *p;

  g_assert_no_error (error);
  g_assert_cmpuint (packets->len, ==, 4);

  p = g_ptr_array_index (packets, 0);
  g_assert_cmpint (p->type, ==, RUNNER_EIO_PACKET_MESSAGE);
  assert_bytes_str (p->data, "0");
  p = g_ptr_array_index (packets, 1);
  assert_bytes_str (p->data, "2[\"a\"]");
  p = g_ptr_array_index (packets, 2);
  g_assert_true (p->binary);
  assert_bytes_equal (p->data, bytes, sizeof bytes);
  p = g_ptr_array_index (packets, 3);
  g_assert_cmpint (p->type, ==, RUNNER_EIO_PACKET_PONG);
}

static void
test_eio_payload_malformed (void)
{
  static const char * const bad[] = {
    "", RS, "40" RS, RS "40", "40" RS RS "3", "40" RS "8", "40" RS "bA", "3" RS "3" RS "3" RS "3" RS "3",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) packets
        = runner_eio_payload_decode ((const guint8 *) bad[i], strlen (bad[i]), 4, &error);

      g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID);
      g_assert_null (packets);
    }
}

static void
test_eio_payload_encode (void)
{
  static const guint8 bytes[] = { 1, 2, 3 };
  g_autoptr(GString) payload = g_string_new (NULL);
  g_autoptr(GBytes) frame = g_bytes_new_static ("2[\"x\",{}]", 9);
  g_autoptr(GBytes) binary = g_bytes_new_static (bytes, sizeof bytes);
  g_autoptr(RunnerEioPacket) open = runner_eio_packet_new_text (RUNNER_EIO_PACKET_OPEN, "{}");
  g_autoptr(RunnerEioPacket) message = runner_eio_packet_new (RUNNER_EIO_PACKET_MESSAGE, FALSE, frame);
  g_autoptr(RunnerEioPacket) attachment = runner_eio_packet_new (RUNNER_EIO_PACKET_MESSAGE, TRUE, binary);
  g_autoptr(RunnerEioPacket) noop = runner_eio_packet_new_text (RUNNER_EIO_PACKET_NOOP, NULL);
  g_autoptr(GPtrArray) decoded = NULL;
  g_autoptr(GError) error = NULL;

  runner_eio_payload_append (payload, open);
  g_assert_cmpstr (payload->str, ==, "0{}");
  runner_eio_payload_append (payload, message);
  runner_eio_payload_append (payload, attachment);
  runner_eio_payload_append (payload, noop);
  g_assert_cmpstr (payload->str, ==, "0{}" RS "42[\"x\",{}]" RS "bAQID" RS "6");
  g_assert_cmpuint (payload->len, ==,
                    runner_eio_packet_get_polling_size (open) + runner_eio_packet_get_polling_size (message)
                    + runner_eio_packet_get_polling_size (attachment)
                    + runner_eio_packet_get_polling_size (noop) + 3);

  /* The message holds the shared frame, not a copy */
  g_assert_true (message->data == frame);

  decoded = runner_eio_payload_decode ((const guint8 *) payload->str, payload->len, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (decoded->len, ==, 4);
  g_assert_true (g_bytes_equal (((RunnerEioPacket *) g_ptr_array_index (decoded, 2))->data, binary));
}

static RunnerSioPacket *
sio_decode (const char *text,
            GError    **error)
{
  return runner_sio_packet_decode (text, strlen (text), error);
}

static void
assert_sio_invalid (const char *text,
                    gsize       len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RunnerSioPacket) packet = runner_sio_packet_decode (text, len, &error);

  g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID);
  g_assert_null (packet);
}

static char *
json_text (JsonNode *node)
{
  return node != NULL ? runner_json_to_string (node, NULL) : NULL;
}

static void
test_sio_decode (void)
{
  static const struct
  {
    const char *wire;
    RunnerSioPacketType type;
    const char *nsp;
    gint64 id;
    guint attachments;
    const char *data;
  } cases[] = {
    { "0", RUNNER_SIO_PACKET_CONNECT, "/", -1, 0, NULL },
    { "0{\"token\":\"abc\"}", RUNNER_SIO_PACKET_CONNECT, "/", -1, 0, "{\"token\":\"abc\"}" },
    { "0/term,", RUNNER_SIO_PACKET_CONNECT, "/term", -1, 0, NULL },
    { "0/term", RUNNER_SIO_PACKET_CONNECT, "/term", -1, 0, NULL },
    { "0/term,{\"token\":1}", RUNNER_SIO_PACKET_CONNECT, "/term", -1, 0, "{\"token\":1}" },
    { "1", RUNNER_SIO_PACKET_DISCONNECT, "/", -1, 0, NULL },
    { "1/term,", RUNNER_SIO_PACKET_DISCONNECT, "/term", -1, 0, NULL },
    { "2[\"hello\",{\"a\":1}]", RUNNER_SIO_PACKET_EVENT, "/", -1, 0, "[\"hello\",{\"a\":1}]" },
    { "20[\"hello\"]", RUNNER_SIO_PACKET_EVENT, "/", 0, 0, "[\"hello\"]" },
    { "212345[\"hello\"]", RUNNER_SIO_PACKET_EVENT, "/", 12345, 0, "[\"hello\"]" },
    { "29007199254740991[\"a\"]", RUNNER_SIO_PACKET_EVENT, "/", RUNNER_SIO_MAX_ACK_ID, 0, "[\"a\"]" },
    { "2/term,7[\"x\",1,2]", RUNNER_SIO_PACKET_EVENT, "/term", 7, 0, "[\"x\",1,2]" },
    { "30[{\"ok\":true}]", RUNNER_SIO_PACKET_ACK, "/", 0, 0, "[{\"ok\":true}]" },
    { "3/a,5[]", RUNNER_SIO_PACKET_ACK, "/a", 5, 0, "[]" },
    { "4{\"message\":\"not authorized\"}", RUNNER_SIO_PACKET_CONNECT_ERROR, "/", -1, 0,
      "{\"message\":\"not authorized\"}" },
    { "4/ns,\"nope\"", RUNNER_SIO_PACKET_CONNECT_ERROR, "/ns", -1, 0, "\"nope\"" },
    { "51-[\"upload\",{\"_placeholder\":true,\"num\":0}]", RUNNER_SIO_PACKET_BINARY_EVENT, "/", -1, 1,
      "[\"upload\",{\"_placeholder\":true,\"num\":0}]" },
    { "51-1[\"upload\",{\"_placeholder\":true,\"num\":0}]", RUNNER_SIO_PACKET_BINARY_EVENT, "/", 1, 1,
      "[\"upload\",{\"_placeholder\":true,\"num\":0}]" },
    { "52-/t,9[\"u\",{\"b\":[{\"_placeholder\":true,\"num\":1}]},{\"_placeholder\":true,\"num\":0}]",
      RUNNER_SIO_PACKET_BINARY_EVENT, "/t", 9, 2,
      "[\"u\",{\"b\":[{\"_placeholder\":true,\"num\":1}]},{\"_placeholder\":true,\"num\":0}]" },
    { "50-[\"nothing\"]", RUNNER_SIO_PACKET_BINARY_EVENT, "/", -1, 0, "[\"nothing\"]" },
    { "61-3[{\"_placeholder\":true,\"num\":0}]", RUNNER_SIO_PACKET_BINARY_ACK, "/", 3, 1,
      "[{\"_placeholder\":true,\"num\":0}]" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RunnerSioPacket) packet = sio_decode (cases[i].wire, &error);
      g_autofree char *data = NULL;
      g_autofree char *again = NULL;

      g_test_message ("%s", cases[i].wire);
      g_assert_no_error (error);
      g_assert_cmpint (packet->type, ==, cases[i].type);
      g_assert_cmpstr (packet->nsp, ==, cases[i].nsp);
      g_assert_cmpint (packet->id, ==, cases[i].id);
      g_assert_cmpuint (packet->attachments, ==, cases[i].attachments);
      data = json_text (packet->data);
      g_assert_cmpstr (data, ==, cases[i].data);

      /* Encoding gives back the canonical wire form */
      again = runner_sio_packet_encode (packet, NULL);
      if (!g_str_equal (cases[i].wire, "0/term"))
        g_assert_cmpstr (again, ==, cases[i].wire);
    }
}

static void
test_sio_decode_malformed (void)
{
  g_autoptr(GString) deep = g_string_new ("2[\"x\",");
  g_autoptr(GString) long_nsp = g_string_new ("0/");
  static const char * const bad[] = {
    /* types */
    "", "7", "9", "x", "-", " 2[\"a\"]",
    /* payload does not fit the type */
    "2", "2{}", "2[]", "2[1]", "2[null]", "2[\"connect\"]", "2[\"disconnect\",1]", "2\"a\"",
    "1{}", "1[]", "0[]", "0\"s\"", "4", "4[]", "4 ", "3", "3{}", "30", "5-[\"x\"]",
    /* bad JSON */
    "2[bad", "2[\"a\"", "2[\"a\"]]", "2[\"a\"] x", "2[\"a\",]", "0{\"a\":}", "2['a']",
    "2[\"a\",/*c*/1]", "2[\"a\",0x10]", "2[\"a\",01]", "2[\"a\",1.]", "2[\"a\",.5]", "2[\"a\",+1]",
    "2[\"a\tb\"]", "2[\"a\\x\"]", "2[\"a\\u12\"]", "2[\"a\",tru]", "2[\"a\",NaN]", "0{\"a\" 1}",
    "0{1:1}", "0{\"a\":1,}", "0{\"a\":1]", "2[\"a\"}", "2[\"a\",1 2]", "2[\"a\",-]", "2[\"a\",1e]",
    "2[\"a\",1234567890123456789]", "2[\"a\",-1234567890123456789]",
    "2[\"\xff\"]", "2/\xff,[\"a\"]",
    /* ack ids */
    "2-1[\"a\"]", "29007199254740992[\"a\"]", "299999999999999999999999[\"a\"]", "2 1[\"a\"]",
    "21.5[\"a\"]", "2/ns,-3[\"a\"]",
    /* attachment counts */
    "5[\"x\"]", "5-[\"x\"]", "51[\"x\"]", "5x-[\"x\"]", "565-[\"x\"]", "5999999999999-[\"x\"]",
    "51-[\"x\"]", "51-[\"x\",{\"_placeholder\":true,\"num\":1}]",
    "52-[\"x\",{\"_placeholder\":true,\"num\":0}]",
    "52-[\"x\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":0}]",
    "51-[\"x\",{\"_placeholder\":true,\"num\":-1}]", "51-[\"x\",{\"_placeholder\":true,\"num\":\"0\"}]",
    "51-[\"x\",{\"_placeholder\":true,\"num\":0.0}]", "51-[\"x\",{\"_placeholder\":false,\"num\":0}]",
    "51-[\"x\",{\"_placeholder\":true,\"num\":0,\"extra\":1}]", "51-[\"x\",{\"_placeholder\":true}]",
    "61-[]", "61-",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *escaped = g_strescape (bad[i], NULL);

      g_test_message ("%s", escaped);
      assert_sio_invalid (bad[i], strlen (bad[i]));
    }

  /* Nesting deep enough to overflow json-glib's recursion is refused early */
  for (guint i = 0; i < 200000; i++)
    g_string_append_c (deep, '[');
  for (guint i = 0; i < 200000; i++)
    g_string_append_c (deep, ']');
  g_string_append_c (deep, ']');
  assert_sio_invalid (deep->str, deep->len);

  for (guint i = 0; i < RUNNER_SIO_MAX_NSP_LENGTH; i++)
    g_string_append_c (long_nsp, 'n');
  g_string_append_c (long_nsp, ',');
  assert_sio_invalid (long_nsp->str, long_nsp->len);

  /* A NUL in the text */
  assert_sio_invalid ("2[\"a\0\"]", 7);
}

static void
test_sio_json_valid (void)
{
  static const char * const good[] = {
    "2[\"a\",{\"k\":[1,-0.5e+10,0,-0,1E3,2e-2,true,false,null,\"\\u00e9\\n\\\"\\/\"]}]",
    "2 [ \"a\" , { } , [ ] , { \"x\" : [ { } ] } ]\r\n",
    "2[\"caf\xc3\xa9\",\"\xf0\x9f\x98\x80\"]",
    "0{}",
    "2[\"big\",123456789012345678,-123456789012345678,1234567890123456789.5,1234567890123456789e3]",
    "4\"reason\"",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RunnerSioPacket) packet = sio_decode (good[i], &error);

      g_assert_no_error (error);
      g_assert_nonnull (packet->data);
    }
}

/* The parser builds what json-glib builds from the same text, and keeps
 * what json-glib loses: NUL, and lone surrogates (recognizably). */
static void
test_sio_json_strings (void)
{
  static const char * const same[] = {
    "[\"a\",{\"k\":[1,-0.5e+10,0,-0,1E3,2e-2,true,false,null,\"\\u00e9\\n\\\"\\/\\b\\f\\r\\t\\\\\"]}]",
    "{\"a\":1,\"b\":{\"c\":[[],{}]},\"a\":2}",
    "\"\\ud83d\\ude00 caf\xc3\xa9 \\u4e16\"",
    "[123456789012345678,-123456789012345678,1.5,1e3]",
    " { \"x\" : [ { } ] } ",
  };
  static const struct { const char *json; const char *bytes; gsize len; } kept[] = {
    { "\"abc\\u0000def\"", "abc\xc0\x80" "def", 8 },
    { "\"x\\ud800y\"", "x\xed\xa0\x80y", 5 },
    { "\"x\\ud800\"", "x\xed\xa0\x80", 4 },
    { "\"a\\udc00b\"", "a\xed\xb0\x80" "b", 5 },
    { "\"\\udbff\\udbff\\udfff\"", "\xed\xaf\xbf\xf4\x8f\xbf\xbf", 7 },
    { "\"\\ud800\\u0041\"", "\xed\xa0\x80" "A", 4 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (same); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) ours = runner_json_parse (same[i], strlen (same[i]), 8, &error);
      g_autoptr(JsonNode) theirs = json_from_string (same[i], NULL);
      g_autofree char *a = NULL;
      g_autofree char *b = NULL;

      g_assert_no_error (error);
      g_assert_true (json_node_equal (ours, theirs));
      a = json_to_string (ours, FALSE);
      b = json_to_string (theirs, FALSE);
      g_assert_cmpstr (a, ==, b);
    }

  for (guint i = 0; i < G_N_ELEMENTS (kept); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = runner_json_parse (kept[i].json, strlen (kept[i].json), 8, &error);
      const char *str;

      g_assert_no_error (error);
      str = json_node_get_string (node);
      g_assert_cmpmem (str, strlen (str), kept[i].bytes, kept[i].len);
    }
}

static void
test_sio_json_depth (void)
{
  g_autoptr(GString) text = g_string_new ("2[\"x\",");
  g_autoptr(GError) error = NULL;
  g_autoptr(RunnerSioPacket) packet = NULL;
  g_autoptr(JsonNode) node = NULL;

  /* Brackets inside strings, and escaped quotes, do not count */
  for (guint i = 0; i < 1000; i++)
    g_string_append (text, "\"[\\\"[{\",");
  for (guint i = 0; i < RUNNER_JSON_MAX_DEPTH - 1; i++)
    g_string_append_c (text, '[');
  for (guint i = 0; i < RUNNER_JSON_MAX_DEPTH - 1; i++)
    g_string_append_c (text, ']');
  g_string_append_c (text, ']');

  packet = runner_sio_packet_decode (text->str, text->len, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (runner_sio_packet_get_event (packet), ==, "x");
  g_assert_cmpstr (json_node_get_string (runner_sio_packet_get_arg (packet, 0)), ==, "[\"[{");

  node = runner_json_parse ("[[[1]]]", 7, 2, &error);
  g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID);
  g_assert_null (node);
  g_clear_error (&error);

  node = runner_json_parse ("[[[1]]]", 7, 3, &error);
  g_assert_no_error (error);
  g_assert_nonnull (node);
  g_clear_pointer (&node, json_node_unref);

  node = runner_json_parse ("", 0, 3, &error);
  g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID);
  g_assert_null (node);
}

/* What the parser accepts comes back out as the same JSON: the marks it
 * keeps for \u0000 and lone surrogates are escaped again, never written as
 * bytes that are not UTF-8 (found by the fuzzer: 42["\ude1009"]). */
static void
test_json_marks_round_trip (void)
{
  static const char *texts[] = {
    "[\"a\\u0000b\"]",
    "[\"\\ude1009\"]",
    "{\"x\\ud800\":\"\\udfff\\u0000\"}",
    "[\"pla\u00efn\"]",
  };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = runner_json_parse (texts[i], strlen (texts[i]), 8, &error);
      g_autofree char *out = NULL;
      gsize len = 0;

      g_assert_no_error (error);
      out = runner_json_to_string (node, &len);
      g_assert_cmpuint (len, ==, strlen (out));
      g_assert_true (g_utf8_validate (out, len, NULL));
      g_assert_cmpstr (out, ==, texts[i]);
    }
}

static void
test_sio_encode (void)
{
  g_autoptr(RunnerSioPacket) connect = NULL;
  g_autoptr(RunnerSioPacket) refused = NULL;
  g_autoptr(RunnerSioPacket) ack = NULL;
  g_autoptr(RunnerSioPacket) binary = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) parsed = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  JsonArray *array;
  gsize len;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "sid");
  json_builder_add_string_value (builder, "abc");
  json_builder_end_object (builder);
  connect = runner_sio_packet_new (RUNNER_SIO_PACKET_CONNECT, NULL, RUNNER_SIO_NO_ACK_ID,
                                   json_builder_get_root (builder));
  text = runner_sio_packet_encode (connect, &len);
  g_assert_cmpstr (text, ==, "0{\"sid\":\"abc\"}");
  g_assert_cmpuint (len, ==, strlen (text));
  g_clear_pointer (&text, g_free);

  parsed = runner_json_parse ("{\"message\":\"Invalid namespace\"}", 31, 4, &error);
  g_assert_no_error (error);
  refused = runner_sio_packet_new (RUNNER_SIO_PACKET_CONNECT_ERROR, "/ns", RUNNER_SIO_NO_ACK_ID,
                                   g_steal_pointer (&parsed));
  text = runner_sio_packet_encode (refused, NULL);
  g_assert_cmpstr (text, ==, "4/ns,{\"message\":\"Invalid namespace\"}");
  g_clear_pointer (&text, g_free);

  ack = runner_sio_packet_new (RUNNER_SIO_PACKET_ACK, "/", 42, json_node_new (JSON_NODE_ARRAY));
  array = json_array_new ();
  json_array_add_boolean_element (array, TRUE);
  json_node_take_array (ack->data, array);
  text = runner_sio_packet_encode (ack, NULL);
  g_assert_cmpstr (text, ==, "342[true]");
  g_clear_pointer (&text, g_free);

  binary = runner_sio_packet_new (RUNNER_SIO_PACKET_BINARY_EVENT, "/", RUNNER_SIO_NO_ACK_ID,
                                  json_node_new (JSON_NODE_ARRAY));
  array = json_array_new ();
  json_array_add_string_element (array, "file");
  json_array_add_element (array, runner_sio_placeholder_new (0));
  json_node_take_array (binary->data, array);
  binary->attachments = 1;
  text = runner_sio_packet_encode (binary, NULL);
  g_assert_cmpstr (text, ==, "51-[\"file\",{\"_placeholder\":true,\"num\":0}]");
  g_clear_pointer (&text, g_free);

  text = runner_sio_connect_error_new (NULL, "not authorized");
  g_assert_cmpstr (text, ==, "4{\"message\":\"not authorized\"}");
  g_clear_pointer (&text, g_free);
  text = runner_sio_connect_error_new ("/term", "Invalid \"namespace\"");
  g_assert_cmpstr (text, ==, "4/term,{\"message\":\"Invalid \\\"namespace\\\"\"}");
}

static void
test_sio_placeholders (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RunnerSioPacket) packet
    = sio_decode ("52-[\"u\",{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0},"
                  "{\"_placeholder\":true}]",
                  &error);
  g_autoptr(GPtrArray) attachments = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(RunnerSioPacket) lone = NULL;

  /* A malformed placeholder among good ones fails the packet */
  g_assert_error (error, RUNNER_ERROR, RUNNER_ERROR_INVALID);
  g_assert_null (packet);
  g_clear_error (&error);

  packet = sio_decode ("52-[\"u\",{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0},7]",
                       &error);
  g_assert_no_error (error);
  g_ptr_array_add (attachments, g_bytes_new_static ("zero", 4));
  g_ptr_array_add (attachments, g_bytes_new_static ("one", 3));

  g_assert_cmpint (runner_sio_placeholder_get_num (runner_sio_packet_get_arg (packet, 0)), ==, 1);
  assert_bytes_str (runner_sio_placeholder_resolve (runner_sio_packet_get_arg (packet, 0), attachments),
                    "one");
  assert_bytes_str (runner_sio_placeholder_resolve (runner_sio_packet_get_arg (packet, 1), attachments),
                    "zero");
  g_assert_null (runner_sio_placeholder_resolve (runner_sio_packet_get_arg (packet, 2), attachments));
  g_assert_null (runner_sio_packet_get_arg (packet, 3));
  g_assert_null (runner_sio_placeholder_resolve (NULL, attachments));
  g_assert_null (runner_sio_placeholder_resolve (runner_sio_packet_get_arg (packet, 0), NULL));

  /* In a plain EVENT a placeholder is just an object, and refers to nothing */
  lone = sio_decode ("2[\"u\",{\"_placeholder\":true,\"num\":3}]", &error);
  g_assert_no_error (error);
  g_assert_cmpint (runner_sio_placeholder_get_num (runner_sio_packet_get_arg (lone, 0)), ==, 3);
  g_assert_null (runner_sio_placeholder_resolve (runner_sio_packet_get_arg (lone, 0), attachments));
  g_assert_cmpstr (runner_sio_packet_get_event (packet), ==, "u");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/runner/eio-codec/eio/types", test_eio_packet_types);
  g_test_add_func ("/runner/eio-codec/eio/malformed", test_eio_packet_malformed);
  g_test_add_func ("/runner/eio-codec/eio/base64", test_eio_packet_base64);
  g_test_add_func ("/runner/eio-codec/eio/payload-decode", test_eio_payload_decode);
  g_test_add_func ("/runner/eio-codec/eio/payload-malformed", test_eio_payload_malformed);
  g_test_add_func ("/runner/eio-codec/eio/payload-encode", test_eio_payload_encode);
  g_test_add_func ("/runner/eio-codec/sio/decode", test_sio_decode);
  g_test_add_func ("/runner/eio-codec/sio/malformed", test_sio_decode_malformed);
  g_test_add_func ("/runner/eio-codec/sio/json-valid", test_sio_json_valid);
  g_test_add_func ("/runner/eio-codec/sio/json-strings", test_sio_json_strings);
  g_test_add_func ("/runner/eio-codec/sio/json-depth", test_sio_json_depth);
  g_test_add_func ("/runner/eio-codec/sio/encode", test_sio_encode);
  g_test_add_func ("/runner/eio-codec/json/marks-round-trip", test_json_marks_round_trip);
  g_test_add_func ("/runner/eio-codec/sio/placeholders", test_sio_placeholders);

  return g_test_run ();
}
