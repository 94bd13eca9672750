/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-utf8"

#include "config.h"

#include "runner-utf8.h"

#include <string.h>

/* Bytes a lead byte announces; 0 when it cannot start a sequence. */
static inline guint
utf8_lead_length (guint8 c)
{
  if (c < 0x80)
    return 1;
  if (c < 0xc2)
    return 0;
  if (c < 0xe0)
    return 2;
  if (c < 0xf0)
    return 3;
  if (c < 0xf5)
    return 4;
  return 0;
}

/* Whether @c may follow @lead (RFC 3629: no overlongs, surrogates or
 * code points past U+10FFFF). */
static inline gboolean
utf8_second_ok (guint8 lead,
                guint8 c)
{
  switch (lead)
    {
    case 0xe0:
      return c >= 0xa0 && c <= 0xbf;
    case 0xed:
      return c >= 0x80 && c <= 0x9f;
    case 0xf0:
      return c >= 0x90 && c <= 0xbf;
    case 0xf4:
      return c >= 0x80 && c <= 0x8f;
    default:
      return c >= 0x80 && c <= 0xbf;
    }
}

/* Scans the sequence at @p: returns how many bytes (of at most @avail) form
 * a valid prefix of it and sets @need to the length the lead announces (0 for
 * a byte that cannot start one). Complete when the result equals @need. */
static inline guint
utf8_scan (const guint8 *p,
           gsize         avail,
           guint        *need)
{
  guint n = utf8_lead_length (p[0]);
  guint i;

  *need = n;
  if (n <= 1)
    return n;

  for (i = 1; i < n && i < avail; i++)
    {
      guint8 c = p[i];

      if (i == 1 ? !utf8_second_ok (p[0], c) : (c & 0xc0) != 0x80)
        break;
    }

  return i;
}

/**
 * runner_utf8_incomplete_tail:
 * @data: bytes
 * @len: their length
 *
 * Tells how many bytes at the end of @data start a valid UTF-8 character
 * that is not complete yet: a sender holds them back until the rest arrives,
 * so a character is never split across two messages.
 *
 * Returns: 0 to 3
 */
gsize
runner_utf8_incomplete_tail (const guint8 *data,
                             gsize         len)
{
  for (gsize k = 1; k <= 3 && k <= len; k++)
    {
      const guint8 *p = data + len - k;
      guint need;

      if ((*p & 0xc0) == 0x80)
        continue;

      if (utf8_scan (p, k, &need) == k && k < need)
        return k;
      return 0;
    }

  return 0;
}

/* 0: copy as is; 1: needs a JSON escape; 2: not ASCII. */
static const guint8 json_class[256] = {
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* Whether any of the 8 bytes in @v needs a look: not ASCII, a control
 * character, '"' or '\\'. Each test is the "has a byte below N" trick,
 * exact as a whole: nonzero only when some byte really matches. */
static inline gboolean
word_needs_care (guint64 v)
{
  const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
  const guint64 highs = G_GUINT64_CONSTANT (0x8080808080808080);
  guint64 quote = v ^ (ones * '"');
  guint64 backslash = v ^ (ones * '\\');
  guint64 hits = v |
                 ((v - ones * 0x20) & ~v) |
                 ((quote - ones) & ~quote) |
                 ((backslash - ones) & ~backslash);

  return (hits & highs) != 0;
}

/* The body of both escapers: with @strict, returns G_MAXSIZE at the first
 * invalid sequence or NUL instead of replacing or escaping it. */
static inline gsize
escape_json (const guint8 *data,
             gsize         len,
             char         *out,
             gboolean      strict)
{
  static const char hex[] = "0123456789abcdef";
  const guint8 *p = data;
  const guint8 *end = data + len;
  char *o = out;

  while (p < end)
    {
      guint need;
      guint n;

      /* Plain ASCII eight bytes at a time, then byte by byte. */
      while (end - p >= 8)
        {
          guint64 v;

          memcpy (&v, p, 8);
          if (word_needs_care (v))
            break;
          memcpy (o, p, 8);
          o += 8;
          p += 8;
        }
      while (p < end && json_class[*p] == 0)
        *o++ = (char) *p++;
      if (p == end)
        break;

      if (*p < 0x80)
        {
          guint8 c = *p++;

          if (strict && c == 0)
            return G_MAXSIZE;

          *o++ = '\\';
          switch (c)
            {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '\n': *o++ = 'n'; break;
            case '\r': *o++ = 'r'; break;
            case '\t': *o++ = 't'; break;
            case '\b': *o++ = 'b'; break;
            case '\f': *o++ = 'f'; break;
            default:
              *o++ = 'u';
              *o++ = '0';
              *o++ = '0';
              *o++ = hex[c >> 4];
              *o++ = hex[c & 0xf];
              break;
            }
          continue;
        }

      n = utf8_scan (p, end - p, &need);
      if (need != 0 && n == need)
        {
          memcpy (o, p, n);
          o += n;
          p += n;
        }
      else if (strict)
        return G_MAXSIZE;
      else
        {
          /* U+FFFD for the maximal subpart (at least one byte) */
          *o++ = (char) 0xef;
          *o++ = (char) 0xbf;
          *o++ = (char) 0xbd;
          p += MAX (n, 1);
        }
    }

  return o - out;
}

/**
 * runner_utf8_escape_json:
 * @data: bytes, any
 * @len: their length
 * @out: room for @len * %RUNNER_UTF8_JSON_EXPANSION bytes
 *
 * Writes the body of a JSON string (without the quotes) for @data: control
 * characters, quotes and backslashes escaped, valid UTF-8 copied, and each
 * maximal invalid subpart (as the WHATWG decoder does) replaced by U+FFFD.
 *
 * Returns: the number of bytes written
 */
gsize
runner_utf8_escape_json (const guint8 *data,
                         gsize         len,
                         char         *out)
{
  return escape_json (data, len, out, FALSE);
}

/**
 * runner_utf8_escape_json_strict:
 * @data: bytes, any
 * @len: their length
 * @out: room for @len * %RUNNER_UTF8_JSON_EXPANSION bytes
 * @out_len: (out): the number of bytes written
 *
 * Validates and escapes in one pass: like runner_utf8_escape_json(), but
 * fails instead of replacing invalid UTF-8, and on NUL bytes. For valid
 * input the output is that of runner_json_append_string() without the
 * quotes. @out holds garbage after a failure.
 *
 * Returns: %TRUE if @data was valid UTF-8 without NUL
 */
gboolean
runner_utf8_escape_json_strict (const guint8 *data,
                                gsize         len,
                                char         *out,
                                gsize        *out_len)
{
  gsize n = escape_json (data, len, out, TRUE);

  *out_len = n == G_MAXSIZE ? 0 : n;
  return n != G_MAXSIZE;
}

/**
 * runner_utf8_validate:
 * @data: bytes
 * @len: their length
 *
 * Like g_utf8_validate_len(), with plain ASCII checked eight bytes at a time.
 *
 * Returns: %TRUE if @data is valid UTF-8 (NUL bytes included)
 */
gboolean
runner_utf8_validate (const guint8 *data,
                      gsize         len)
{
  const guint64 highs = G_GUINT64_CONSTANT (0x8080808080808080);
  const guint8 *p = data;
  const guint8 *end = data + len;

  while (p < end)
    {
      guint need;

      while (end - p >= 8)
        {
          guint64 v;

          memcpy (&v, p, 8);
          if ((v & highs) != 0)
            break;
          p += 8;
        }
      while (p < end && *p < 0x80)
        p++;
      if (p == end)
        break;
      if (utf8_scan (p, end - p, &need) != need || need == 0)
        return FALSE;
      p += need;
    }

  return TRUE;
}

/**
 * runner_utf8_make_valid_bytes:
 * @text: bytes meant to be UTF-8
 *
 * For senders that must never hand invalid text to a peer.
 *
 * Returns: (transfer full): @text itself when it is valid UTF-8, else a copy
 *   with each maximal invalid subpart replaced by U+FFFD
 */
GBytes *
runner_utf8_make_valid_bytes (GBytes *text)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (text, &len);
  GString *out;
  const guint8 *p, *end;

  if (runner_utf8_validate (data, len))
    return g_bytes_ref (text);

  out = g_string_sized_new (len + 16);
  for (p = data, end = data + len; p < end;)
    {
      guint need;
      guint n = utf8_scan (p, end - p, &need);

      if (need != 0 && n == need)
        {
          g_string_append_len (out, (const char *) p, n);
          p += n;
        }
      else
        {
          g_string_append_len (out, "\xef\xbf\xbd", 3);
          p += MAX (n, 1);
        }
    }
  return g_string_free_to_bytes (out);
}

/**
 * runner_utf8_has_json_nul:
 * @str: a string from runner_sio_json_parse()
 *
 * The parser keeps a JSON `\u0000` as the bytes C0 80, which valid UTF-8
 * never holds.
 *
 * Returns: whether @str held U+0000
 */
gboolean
runner_utf8_has_json_nul (const char *str)
{
  return strchr (str, (char) 0xc0) != NULL;
}

/**
 * runner_utf8_has_json_surrogate:
 * @str: a string from runner_sio_json_parse()
 *
 * The parser keeps a lone surrogate escape (`\ud800`) as its three-byte
 * form, ED A0 80 to ED BF BF, which valid UTF-8 never holds.
 *
 * Returns: whether @str held a lone surrogate
 */
gboolean
runner_utf8_has_json_surrogate (const char *str)
{
  for (const char *p = strchr (str, (char) 0xed); p != NULL; p = strchr (p + 1, (char) 0xed))
    if ((guint8) p[1] >= 0xa0 && (guint8) p[1] <= 0xbf)
      return TRUE;
  return FALSE;
}

/**
 * runner_utf8_decode_json_nul:
 * @str: a string from runner_sio_json_parse()
 * @len: (out): the length of the result
 *
 * Returns: (transfer full): @str with each U+0000 it held as a NUL byte
 */
char *
runner_utf8_decode_json_nul (const char *str,
                             gsize      *len)
{
  const char *first = strchr (str, (char) 0xc0);
  char *out;
  char *o;

  if (first == NULL)
    {
      *len = strlen (str);
      return g_memdup2 (str, *len + 1);
    }

  out = g_strdup (str);
  o = out + (first - str);
  for (const char *p = first; *p != '\0'; p++)
    {
      if ((guint8) p[0] == 0xc0 && (guint8) p[1] == 0x80)
        {
          *o++ = '\0';
          p++;
        }
      else
        *o++ = *p;
    }
  *o = '\0';
  *len = o - out;
  return out;
}
