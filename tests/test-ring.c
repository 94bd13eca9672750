/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "runner-ring.h"
#include "runner-json.h"
#include "runner-utf8.h"

static void
append_str (RunnerRing *ring,
            const char *str)
{
  runner_ring_append (ring, (const guint8 *) str, strlen (str));
}

static char *
read_all (RunnerRing *ring,
          guint64     from)
{
  guint64 head = runner_ring_get_head (ring);
  char *buffer = g_malloc0 (head - from + 1);

  g_assert_cmpuint (runner_ring_read (ring, from, (guint8 *) buffer, head - from), ==, head - from);
  return buffer;
}

static void
test_ring_wrap (void)
{
  g_autoptr(RunnerRing) ring = runner_ring_new (16, 0);
  g_autofree char *all = NULL;
  g_autofree char *part = NULL;
  guint8 buffer[32];
  gsize len;

  g_assert_cmpuint (runner_ring_get_head (ring), ==, 0);
  g_assert_cmpuint (runner_ring_get_tail (ring), ==, 0);
  g_assert_cmpuint (runner_ring_get_allocated (ring), ==, 0);
  g_assert_cmpuint (runner_ring_read (ring, 0, buffer, sizeof buffer), ==, 0);

  append_str (ring, "0123456789");
  g_assert_cmpuint (runner_ring_get_head (ring), ==, 10);
  g_assert_cmpuint (runner_ring_get_tail (ring), ==, 0);
  all = read_all (ring, 0);
  g_assert_cmpstr (all, ==, "0123456789");

  /* 10 + 10 = 20 bytes in a ring of 16: the first 4 are gone */
  append_str (ring, "abcdefghij");
  g_assert_cmpuint (runner_ring_get_head (ring), ==, 20);
  g_assert_cmpuint (runner_ring_get_tail (ring), ==, 4);
  g_clear_pointer (&all, g_free);
  all = read_all (ring, 4);
  g_assert_cmpstr (all, ==, "456789abcdefghij");
  part = read_all (ring, 13);
  g_assert_cmpstr (part, ==, "defghij");

  /* a peek stops at the wrap point */
  len = 100;
  g_assert_nonnull (runner_ring_peek (ring, 4, &len));
  g_assert_cmpuint (len, ==, 12);
  len = 3;
  g_assert_true (memcmp (runner_ring_peek (ring, 16, &len), "ghi", 3) == 0);
  g_assert_cmpuint (len, ==, 3);

  /* a read shorter than what is there */
  g_assert_cmpuint (runner_ring_read (ring, 6, buffer, 5), ==, 5);
  g_assert_true (memcmp (buffer, "6789a", 5) == 0);
}

static void
test_ring_big_append (void)
{
  g_autoptr(RunnerRing) ring = runner_ring_new (8, 0);
  g_autofree char *all = NULL;

  append_str (ring, "ab");
  append_str (ring, "0123456789ABCDEFGHIJ");
  g_assert_cmpuint (runner_ring_get_head (ring), ==, 22);
  g_assert_cmpuint (runner_ring_get_tail (ring), ==, 14);
  all = read_all (ring, 14);
  g_assert_cmpstr (all, ==, "CDEFGHIJ");
  g_assert_cmpuint (runner_ring_get_allocated (ring), ==, 8);
}

static void
test_ring_grows_lazily (void)
{
  g_autoptr(RunnerRing) ring = runner_ring_new (1024 * 1024, 0);
  guint8 block[5000];

  memset (block, 'x', sizeof block);
  runner_ring_append (ring, block, 10);
  g_assert_cmpuint (runner_ring_get_allocated (ring), <=, 4096);
  for (guint i = 0; i < 10; i++)
    runner_ring_append (ring, block, sizeof block);
  g_assert_cmpuint (runner_ring_get_allocated (ring), <, 128 * 1024);
  for (guint i = 0; i < 400; i++)
    runner_ring_append (ring, block, sizeof block);
  g_assert_cmpuint (runner_ring_get_allocated (ring), ==, 1024 * 1024);
  g_assert_cmpuint (runner_ring_get_head (ring) - runner_ring_get_tail (ring), ==, 1024 * 1024);
}

static void
test_ring_start_offset (void)
{
  g_autoptr(RunnerRing) ring = runner_ring_new (8, 1000);
  g_autofree char *all = NULL;

  g_assert_cmpuint (runner_ring_get_head (ring), ==, 1000);
  g_assert_cmpuint (runner_ring_get_tail (ring), ==, 1000);
  g_assert_cmpuint (runner_ring_find_safe_cut (ring, 0), ==, 1000);
  append_str (ring, "hello world");
  g_assert_cmpuint (runner_ring_get_head (ring), ==, 1011);
  g_assert_cmpuint (runner_ring_get_tail (ring), ==, 1003);
  all = read_all (ring, 1003);
  g_assert_cmpstr (all, ==, "lo world");
}

static void
test_ring_clip_utf8 (void)
{
  g_autoptr(RunnerRing) ring = runner_ring_new (64, 0);
  /* "aé€😀" = 61 | c3 a9 | e2 82 ac | f0 9f 98 80 */
  const char *text = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";

  append_str (ring, text);
  g_assert_cmpuint (runner_ring_clip_utf8 (ring, 0, 10), ==, 10);
  g_assert_cmpuint (runner_ring_clip_utf8 (ring, 0, 9), ==, 6);
  g_assert_cmpuint (runner_ring_clip_utf8 (ring, 0, 8), ==, 6);
  g_assert_cmpuint (runner_ring_clip_utf8 (ring, 0, 7), ==, 6);
  g_assert_cmpuint (runner_ring_clip_utf8 (ring, 0, 5), ==, 3);
  g_assert_cmpuint (runner_ring_clip_utf8 (ring, 0, 2), ==, 1);
  g_assert_cmpuint (runner_ring_clip_utf8 (ring, 6, 8), ==, 6);
  g_assert_cmpuint (runner_ring_clip_utf8 (ring, 0, 0), ==, 0);

  /* bytes that can never complete are not held back */
  runner_ring_append (ring, (const guint8 *) "\xff", 1);
  g_assert_cmpuint (runner_ring_clip_utf8 (ring, 0, 11), ==, 11);
  runner_ring_append (ring, (const guint8 *) "\xe0\x80", 2);
  g_assert_cmpuint (runner_ring_clip_utf8 (ring, 0, 13), ==, 13);
  runner_ring_append (ring, (const guint8 *) "\xed\x9f", 2);
  g_assert_cmpuint (runner_ring_clip_utf8 (ring, 0, 15), ==, 13);
}

static guint64
cut_in (const char *stream,
        guint64     from)
{
  g_autoptr(RunnerRing) ring = runner_ring_new (4096, 0);

  append_str (ring, stream);
  return runner_ring_find_safe_cut (ring, from);
}

static void
test_ring_cut_utf8 (void)
{
  const char *text = "ab\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";

  g_assert_cmpuint (cut_in (text, 0), ==, 0);
  g_assert_cmpuint (cut_in (text, 2), ==, 2);
  g_assert_cmpuint (cut_in (text, 3), ==, 4);
  g_assert_cmpuint (cut_in (text, 5), ==, 7);
  g_assert_cmpuint (cut_in (text, 6), ==, 7);
  g_assert_cmpuint (cut_in (text, 8), ==, 11);
  g_assert_cmpuint (cut_in (text, 10), ==, 11);
  g_assert_cmpuint (cut_in (text, 12), ==, 12);
  g_assert_cmpuint (cut_in (text, 500), ==, 12);
}

static void
test_ring_cut_escapes (void)
{
  /* CSI: "ab" ESC [ 3 8 ; 5 ; 1 9 6 m "cd": ESC at 2, 'm' at 12 */
  const char *csi = "ab\033[38;5;196mcd";
  /* OSC ended by BEL, then by ST */
  const char *osc = "x\033]0;title \xc3\xa9\007y\033]8;;http://a/\033\\z";
  /* DCS with ST; a private CSI with intermediates; ESC ( B charset */
  const char *dcs = "\033P1$r0m\033\\\033[?25h\033(Bq";

  g_assert_cmpuint (cut_in (csi, 0), ==, 0);
  g_assert_cmpuint (cut_in (csi, 2), ==, 2);
  for (guint i = 3; i <= 13; i++)
    g_assert_cmpuint (cut_in (csi, i), ==, 13);
  g_assert_cmpuint (cut_in (csi, 14), ==, 14);

  /* "x" 0, ESC 1 ... BEL at 13, "y" 14, ESC 15 ... ESC 29 '\' 30, "z" 31 */
  g_assert_cmpuint (strlen (osc), ==, 32);
  g_assert_cmpuint (cut_in (osc, 1), ==, 1);
  for (guint i = 2; i <= 14; i++)
    g_assert_cmpuint (cut_in (osc, i), ==, 14);
  g_assert_cmpuint (cut_in (osc, 15), ==, 15);
  for (guint i = 16; i <= 31; i++)
    g_assert_cmpuint (cut_in (osc, i), ==, 31);

  /* DCS 0..8, CSI 9..14, ESC ( B 15..17, "q" 18 */
  for (guint i = 1; i <= 9; i++)
    g_assert_cmpuint (cut_in (dcs, i), ==, 9);
  for (guint i = 10; i <= 15; i++)
    g_assert_cmpuint (cut_in (dcs, i), ==, 15);
  for (guint i = 16; i <= 18; i++)
    g_assert_cmpuint (cut_in (dcs, i), ==, 18);

  /* CAN aborts a sequence; an unfinished one leaves only the head */
  g_assert_cmpuint (cut_in ("\033[12\030ab", 1), ==, 5);
  g_assert_cmpuint (cut_in ("ab\033]0;never ends", 3), ==, 16);
}

/* The reference: the state before each byte of a whole stream. */
static gboolean *
reference_safe (const guint8 *stream,
                gsize         len)
{
  gboolean *safe = g_new0 (gboolean, len + 1);
  enum { G, E, EI, C, S, SE } st = G;

  for (gsize i = 0; i < len; i++)
    {
      guint8 c = stream[i];

      safe[i] = st == G && (c & 0xc0) != 0x80;
      if (c == 0x1b)
        st = st == S ? SE : E;
      else if (c == 0x18 || c == 0x1a)
        st = G;
      else if (st == SE && c == '\\')
        st = G;
      else if (st == E || st == SE)
        st = c == '[' ? C : strchr ("]PX^_", c) && c ? S : (c >= 0x20 && c < 0x30) ? EI :
             (c < 0x20 || c == 0x7f) ? E : G;
      else if (st == EI)
        st = (c < 0x30 || c == 0x7f) ? EI : G;
      else if (st == C)
        st = (c < 0x40 || c == 0x7f) ? C : G;
      else if (st == S)
        st = c == 0x07 ? G : S;
    }
  safe[len] = TRUE;
  return safe;
}

static void
test_ring_cut_random (void)
{
  static const char *pieces[] = {
    "plain text ", "\r\n", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\033[0m",
    "\033[38;2;10;20;30m", "\033]0;a title\007", "\033]8;;file:///x\033\\", "\033P+q544e\033\\",
    "\033(B", "\033[?1049h", "\t", "\033", "[", "\xff",
  };
  g_autoptr(GByteArray) stream = g_byte_array_new ();
  g_autoptr(RunnerRing) ring = runner_ring_new (2048, 0);
  g_autofree gboolean *safe = NULL;
  GRand *rand = g_rand_new_with_seed (42);
  gsize fed = 0;

  while (stream->len < 20000)
    {
      const char *piece = pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))];

      g_byte_array_append (stream, (const guint8 *) piece, strlen (piece));
    }
  safe = reference_safe (stream->data, stream->len);

  while (fed < stream->len)
    {
      gsize n = MIN ((gsize) g_rand_int_range (rand, 1, 700), stream->len - fed);
      guint64 tail;

      runner_ring_append (ring, stream->data + fed, n);
      fed += n;
      tail = runner_ring_get_tail (ring);

      for (guint k = 0; k < 20; k++)
        {
          /* past the first mark the answer is exact */
          guint64 from = g_rand_int_range (rand, MIN (tail + 64, fed), fed + 1);
          guint64 expected = from;
          guint64 cut = runner_ring_find_safe_cut (ring, from);

          while (expected < fed && !safe[expected])
            expected++;
          g_assert_cmpuint (cut, ==, expected);
        }

      /* from before the tail: a safe point, within the first mark interval */
      {
        guint64 cut = runner_ring_find_safe_cut (ring, 0);

        g_assert_cmpuint (cut, >=, tail);
        g_assert_cmpuint (cut, <=, fed);
        g_assert_true (safe[cut]);
      }
    }

  g_rand_free (rand);
}

static char *
escape (const char *data,
        gsize       len)
{
  char *out = g_malloc (len * RUNNER_JSON_ESCAPE_EXPANSION + 1);
  gsize n = runner_json_escape ((const guint8 *) data, len, out);

  out[n] = '\0';
  return out;
}

static void
assert_escape (const char *data,
               gsize       len,
               const char *expected)
{
  g_autofree char *got = escape (data, len);
  g_autofree char *doc = g_strdup_printf ("[\"%s\"]", got);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (got, ==, expected);
  g_assert_true (g_utf8_validate (got, -1, NULL));
  json_parser_load_from_data (parser, doc, -1, &error);
  g_assert_no_error (error);
}

static void
test_utf8_escape_json (void)
{
  g_autofree char *all = NULL;
  guint8 bytes[256];

  assert_escape ("", 0, "");
  assert_escape ("hello", 5, "hello");
  assert_escape ("a\"b\\c/", 6, "a\\\"b\\\\c/");
  assert_escape ("\r\n\t\b\f", 5, "\\r\\n\\t\\b\\f");
  assert_escape ("\033[0m\x01\x1f\x7f", 7, "\\u001b[0m\\u0001\\u001f\x7f");
  assert_escape ("\0x", 2, "\\u0000x");
  assert_escape ("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  /* invalid: lone bytes, overlong, surrogate, past U+10FFFF, truncated */
  assert_escape ("a\xff" "b", 3, "a\xef\xbf\xbd" "b");
  assert_escape ("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd");
  assert_escape ("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  assert_escape ("\xf4\x90\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  assert_escape ("\xe2\x82" "a", 3, "\xef\xbf\xbd" "a");
  assert_escape ("\xf0\x9f\x98", 3, "\xef\xbf\xbd");

  /* every byte value, the worst expansion stays within the bound */
  for (guint i = 0; i < 256; i++)
    bytes[i] = i;
  all = escape ((const char *) bytes, sizeof bytes);
  g_assert_true (g_utf8_validate (all, -1, NULL));
  g_assert_cmpuint (strlen (all), <=, sizeof bytes * RUNNER_JSON_ESCAPE_EXPANSION);
}

static void
test_utf8_incomplete_tail (void)
{
  g_assert_cmpuint (runner_utf8_incomplete_tail ((const guint8 *) "", 0), ==, 0);
  g_assert_cmpuint (runner_utf8_incomplete_tail ((const guint8 *) "ab", 2), ==, 0);
  g_assert_cmpuint (runner_utf8_incomplete_tail ((const guint8 *) "a\xc3", 2), ==, 1);
  g_assert_cmpuint (runner_utf8_incomplete_tail ((const guint8 *) "a\xc3\xa9", 3), ==, 0);
  g_assert_cmpuint (runner_utf8_incomplete_tail ((const guint8 *) "\xe2\x82", 2), ==, 2);
  g_assert_cmpuint (runner_utf8_incomplete_tail ((const guint8 *) "\xf0\x9f\x98", 3), ==, 3);
  g_assert_cmpuint (runner_utf8_incomplete_tail ((const guint8 *) "\xf0\x9f\x98\x80", 4), ==, 0);
  g_assert_cmpuint (runner_utf8_incomplete_tail ((const guint8 *) "\x80\x80\x80", 3), ==, 0);
  g_assert_cmpuint (runner_utf8_incomplete_tail ((const guint8 *) "\xf8", 1), ==, 0);
  g_assert_cmpuint (runner_utf8_incomplete_tail ((const guint8 *) "\xed\xa0", 2), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/runner/ring/wrap", test_ring_wrap);
  g_test_add_func ("/runner/ring/big-append", test_ring_big_append);
  g_test_add_func ("/runner/ring/grows-lazily", test_ring_grows_lazily);
  g_test_add_func ("/runner/ring/start-offset", test_ring_start_offset);
  g_test_add_func ("/runner/ring/clip-utf8", test_ring_clip_utf8);
  g_test_add_func ("/runner/ring/cut/utf8", test_ring_cut_utf8);
  g_test_add_func ("/runner/ring/cut/escapes", test_ring_cut_escapes);
  g_test_add_func ("/runner/ring/cut/random", test_ring_cut_random);
  g_test_add_func ("/runner/utf8/escape-json", test_utf8_escape_json);
  g_test_add_func ("/runner/utf8/incomplete-tail", test_utf8_incomplete_tail);

  return g_test_run ();
}
