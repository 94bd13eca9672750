/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-json"

#include "config.h"

#include "runner-json.h"

#include <string.h>

#include "runner-error.h"
#include "runner-utf8.h"

/*
 * All of Runner's JSON that is not plain json-glib: the strict parser for
 * what peers send, the escapers for what Runner sends (hand-built text on the
 * hot paths), and two builder helpers.
 */

/* ---- Parsing ------------------------------------------------------------ */

/*
 * json-glib is lenient (single quotes, comments, hex numbers, raw control
 * characters) and recurses once per nesting level, parsing and freeing: a
 * deep `[[[[...` from a peer would overflow the stack. So untrusted text is
 * first checked against RFC 8259, without recursion and with bounded depth,
 * and only then handed to json-glib.
 */
typedef enum
{
  JSON_EXPECT_VALUE,
  JSON_EXPECT_VALUE_OR_CLOSE,
  JSON_EXPECT_KEY,
  JSON_EXPECT_KEY_OR_CLOSE,
  JSON_EXPECT_COLON,
  JSON_EXPECT_NEXT,
} JsonExpect;

static gboolean
json_skip_string (const char *text,
                  gsize       len,
                  gsize      *pos)
{
  for ((*pos)++; *pos < len; (*pos)++)
    {
      guchar c = (guchar) text[*pos];

      if (c == '"')
        {
          (*pos)++;
          return TRUE;
        }
      if (c < 0x20)
        return FALSE;
      if (c != '\\')
        continue;

      if (++(*pos) >= len)
        return FALSE;
      c = (guchar) text[*pos];
      if (c == 'u')
        {
          for (guint i = 0; i < 4; i++)
            if (++(*pos) >= len || !g_ascii_isxdigit (text[*pos]))
              return FALSE;
        }
      else if (c == '\0' || strchr ("\"\\/bfnrt", c) == NULL)
        return FALSE;
    }

  return FALSE;
}

static gboolean
json_skip_digits (const char *text,
                  gsize       len,
                  gsize      *pos)
{
  gsize start = *pos;

  while (*pos < len && g_ascii_isdigit (text[*pos]))
    (*pos)++;
  return *pos > start;
}

static gboolean
json_skip_number (const char *text,
                  gsize       len,
                  gsize      *pos)
{
  gsize start;

  if (text[*pos] == '-')
    (*pos)++;
  start = *pos;
  if (*pos < len && text[*pos] == '0')
    (*pos)++;
  else if (!json_skip_digits (text, len, pos))
    return FALSE;

  /* json-glib turns an integer past 64 bits into -1 without a word */
  if (*pos - start > 18 && (*pos == len || (text[*pos] != '.' && text[*pos] != 'e'
                                             && text[*pos] != 'E')))
    return FALSE;

  if (*pos < len && text[*pos] == '.')
    {
      (*pos)++;
      if (!json_skip_digits (text, len, pos))
        return FALSE;
    }

  if (*pos < len && (text[*pos] == 'e' || text[*pos] == 'E'))
    {
      (*pos)++;
      if (*pos < len && (text[*pos] == '+' || text[*pos] == '-'))
        (*pos)++;
      if (!json_skip_digits (text, len, pos))
        return FALSE;
    }

  return TRUE;
}

static gboolean
json_skip_literal (const char *text,
                   gsize       len,
                   gsize      *pos)
{
  static const char * const literals[] = { "true", "false", "null" };

  for (guint i = 0; i < G_N_ELEMENTS (literals); i++)
    {
      gsize n = strlen (literals[i]);

      if (len - *pos >= n && memcmp (text + *pos, literals[i], n) == 0)
        {
          *pos += n;
          return TRUE;
        }
    }

  return FALSE;
}

static gboolean
json_skip_scalar (const char *text,
                  gsize       len,
                  gsize      *pos)
{
  char c = text[*pos];

  if (c == '"')
    return json_skip_string (text, len, pos);
  if (c == '-' || g_ascii_isdigit (c))
    return json_skip_number (text, len, pos);
  return json_skip_literal (text, len, pos);
}

static gboolean
json_is_strict (const char *text,
                gsize       len,
                guint       max_depth)
{
  g_autofree char *stack = g_malloc (MAX (max_depth, 1));
  JsonExpect expect = JSON_EXPECT_VALUE;
  guint depth = 0;
  gsize pos = 0;

  for (;;)
    {
      char c;

      while (pos < len
             && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r'))
        pos++;
      if (pos == len)
        return expect == JSON_EXPECT_NEXT && depth == 0;
      c = text[pos];

      switch (expect)
        {
        case JSON_EXPECT_VALUE_OR_CLOSE:
        case JSON_EXPECT_VALUE:
          if (c == ']' && expect == JSON_EXPECT_VALUE_OR_CLOSE)
            {
              depth--;
              pos++;
              expect = JSON_EXPECT_NEXT;
            }
          else if (c == '[' || c == '{')
            {
              if (depth == max_depth)
                return FALSE;
              stack[depth++] = c;
              pos++;
              expect = c == '[' ? JSON_EXPECT_VALUE_OR_CLOSE : JSON_EXPECT_KEY_OR_CLOSE;
            }
          else if (json_skip_scalar (text, len, &pos))
            expect = JSON_EXPECT_NEXT;
          else
            return FALSE;
          break;

        case JSON_EXPECT_KEY_OR_CLOSE:
        case JSON_EXPECT_KEY:
          if (c == '}' && expect == JSON_EXPECT_KEY_OR_CLOSE)
            {
              depth--;
              pos++;
              expect = JSON_EXPECT_NEXT;
            }
          else if (c == '"' && json_skip_string (text, len, &pos))
            expect = JSON_EXPECT_COLON;
          else
            return FALSE;
          break;

        case JSON_EXPECT_COLON:
          if (c != ':')
            return FALSE;
          pos++;
          expect = JSON_EXPECT_VALUE;
          break;

        case JSON_EXPECT_NEXT:
        default:
          if (depth == 0)
            return FALSE;
          if (c == ',')
            expect = stack[depth - 1] == '[' ? JSON_EXPECT_VALUE : JSON_EXPECT_KEY;
          else if ((c == ']' && stack[depth - 1] == '[') || (c == '}' && stack[depth - 1] == '{'))
            depth--;
          else
            return FALSE;
          pos++;
          break;
        }
    }
}

static guint
json_hex4 (const char *p)
{
  guint v = 0;

  for (guint i = 0; i < 4; i++)
    v = v << 4 | (guint) g_ascii_xdigit_value (p[i]);
  return v;
}

static void
json_append_3 (GString *out,
               guint    u)
{
  char b[3] = { (char) (0xe0 | u >> 12), (char) (0x80 | ((u >> 6) & 0x3f)),
                (char) (0x80 | (u & 0x3f)) };

  g_string_append_len (out, b, 3);
}

/* Decodes the string at text[*pos] (its opening quote), which
 * json_skip_string() accepted. \u0000 becomes the bytes C0 80 (as in
 * modified UTF-8) and a lone surrogate its three-byte form (ED A0 80 to
 * ED BF BF): neither can come from valid input, so NUL survives C strings
 * and both stay recognizable (runner_json_string_has_nul() and
 * runner_json_string_has_surrogate()). */
static char *
json_read_string (const char *text,
                  gsize      *pos)
{
  GString *out = g_string_new (NULL);
  gsize p = *pos + 1;

  for (;;)
    {
      gsize run = p;
      guint u;

      while (text[p] != '"' && text[p] != '\\')
        p++;
      g_string_append_len (out, text + run, p - run);
      if (text[p] == '"')
        break;

      p++;
      switch (text[p++])
        {
        case 'b': g_string_append_c (out, '\b'); break;
        case 'f': g_string_append_c (out, '\f'); break;
        case 'n': g_string_append_c (out, '\n'); break;
        case 'r': g_string_append_c (out, '\r'); break;
        case 't': g_string_append_c (out, '\t'); break;
        case 'u':
          u = json_hex4 (text + p);
          p += 4;
          if (u >= 0xd800 && u < 0xdc00 && text[p] == '\\' && text[p + 1] == 'u')
            {
              guint lo = json_hex4 (text + p + 2);

              if (lo >= 0xdc00 && lo < 0xe000)
                {
                  g_string_append_unichar (out, 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00));
                  p += 6;
                  break;
                }
            }
          if (u == 0)
            g_string_append_len (out, "\xc0\x80", 2);
          else if (u >= 0xd800 && u < 0xe000)
            json_append_3 (out, u);
          else
            g_string_append_unichar (out, u);
          break;
        default:
          /* '"', '\\' and '/' stand for themselves */
          g_string_append_c (out, text[p - 1]);
          break;
        }
    }

  *pos = p + 1;
  return g_string_free (out, FALSE);
}

static JsonNode *
json_read_scalar (const char *text,
                  gsize       len,
                  gsize      *pos)
{
  JsonNode *node = json_node_alloc ();
  gsize start = *pos;
  char c = text[start];

  if (c == '"')
    {
      g_autofree char *str = json_read_string (text, pos);

      return json_node_init_string (node, str);
    }
  if (c == 't' || c == 'f' || c == 'n')
    {
      json_skip_literal (text, len, pos);
      return c == 'n' ? json_node_init_null (node) : json_node_init_boolean (node, c == 't');
    }

  /* As json-glib: a fraction or an exponent makes a double. */
  json_skip_number (text, len, pos);
  {
    g_autofree char *number = g_strndup (text + start, *pos - start);

    if (strpbrk (number, ".eE") != NULL)
      return json_node_init_double (node, g_ascii_strtod (number, NULL));
    return json_node_init_int (node, g_ascii_strtoll (number, NULL, 10));
  }
}

typedef struct
{
  JsonNode *container; /* unowned: its parent or the root holds it */
  char     *key;       /* owned: the member name awaiting its value */
} JsonLevel;

/* Builds the value of @text, which json_is_strict() accepted, without
 * recursion. */
static JsonNode *
json_build (const char *text,
            gsize       len)
{
  g_autoptr(GArray) stack = g_array_new (FALSE, FALSE, sizeof (JsonLevel));
  JsonNode *root = NULL;
  gsize pos = 0;

  while (pos < len)
    {
      char c = text[pos];
      JsonLevel *top = stack->len > 0 ? &g_array_index (stack, JsonLevel, stack->len - 1) : NULL;
      JsonNode *node;

      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ':')
        {
          pos++;
          continue;
        }
      if (c == '}' || c == ']')
        {
          g_array_set_size (stack, stack->len - 1);
          pos++;
          continue;
        }
      if (c == '"' && top != NULL && JSON_NODE_HOLDS_OBJECT (top->container) && top->key == NULL)
        {
          top->key = json_read_string (text, &pos);
          continue;
        }

      if (c == '{')
        {
          g_autoptr(JsonObject) object = json_object_new ();

          node = json_node_init_object (json_node_alloc (), object);
        }
      else if (c == '[')
        {
          g_autoptr(JsonArray) array = json_array_new ();

          node = json_node_init_array (json_node_alloc (), array);
        }
      else
        node = json_read_scalar (text, len, &pos);

      if (top == NULL)
        root = node;
      else if (JSON_NODE_HOLDS_ARRAY (top->container))
        json_array_add_element (json_node_get_array (top->container), node);
      else
        {
          json_object_set_member (json_node_get_object (top->container), top->key, node);
          g_clear_pointer (&top->key, g_free);
        }

      if (c == '{' || c == '[')
        {
          JsonLevel level = { node, NULL };

          g_array_append_val (stack, level);
          pos++;
        }
    }

  return root;
}

/**
 * runner_json_parse:
 * @text: JSON text from a peer
 * @len: its length
 * @max_depth: the deepest nesting of arrays and objects accepted
 * @error: return location for a %RUNNER_ERROR_INVALID error
 *
 * Parses untrusted JSON safely: valid UTF-8, strict RFC 8259 syntax (as
 * JavaScript's JSON.parse), bounded nesting, one value. Strings keep what
 * JSON can say and C strings cannot: see json_read_string() for NUL and
 * lone surrogates.
 *
 * Returns: (transfer full) (nullable): the value
 */
JsonNode *
runner_json_parse (const char  *text,
                   gsize        len,
                   guint        max_depth,
                   GError     **error)
{
  g_return_val_if_fail (text != NULL || len == 0, NULL);

  if (len == 0 || !g_utf8_validate_len (text, len, NULL))
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_INVALID, "Invalid JSON");
      return NULL;
    }

  if (!json_is_strict (text, len, max_depth))
    {
      g_set_error_literal (error, RUNNER_ERROR, RUNNER_ERROR_INVALID,
                           "Invalid JSON, or nested too deeply");
      return NULL;
    }

  return json_build (text, len);
}

/* C0 80 and lone surrogates, as the parser keeps them */

/**
 * runner_json_string_has_nul:
 * @str: a string from runner_json_parse()
 *
 * The parser keeps a JSON `\u0000` as the bytes C0 80, which valid UTF-8
 * never holds.
 *
 * Returns: whether @str held U+0000
 */
gboolean
runner_json_string_has_nul (const char *str)
{
  return strchr (str, (char) 0xc0) != NULL;
}

/**
 * runner_json_string_has_surrogate:
 * @str: a string from runner_json_parse()
 *
 * The parser keeps a lone surrogate escape (`\ud800`) as its three-byte
 * form, ED A0 80 to ED BF BF, which valid UTF-8 never holds.
 *
 * Returns: whether @str held a lone surrogate
 */
gboolean
runner_json_string_has_surrogate (const char *str)
{
  for (const char *p = strchr (str, (char) 0xed); p != NULL; p = strchr (p + 1, (char) 0xed))
    if ((guint8) p[1] >= 0xa0 && (guint8) p[1] <= 0xbf)
      return TRUE;
  return FALSE;
}

/**
 * runner_json_string_decode_nul:
 * @str: a string from runner_json_parse()
 * @len: (out): the length of the result
 *
 * Returns: (transfer full): @str with each U+0000 it held as a NUL byte
 */
char *
runner_json_string_decode_nul (const char *str,
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

/* ---- Escaping ----------------------------------------------------------- */

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

      n = runner_utf8_scan (p, end - p, &need);
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
 * runner_json_escape:
 * @data: bytes, any
 * @len: their length
 * @out: room for @len * %RUNNER_JSON_ESCAPE_EXPANSION bytes
 *
 * Writes the body of a JSON string (without the quotes) for @data: control
 * characters, quotes and backslashes escaped, valid UTF-8 copied, and each
 * maximal invalid subpart (as the WHATWG decoder does) replaced by U+FFFD.
 *
 * Returns: the number of bytes written
 */
gsize
runner_json_escape (const guint8 *data,
                    gsize         len,
                    char         *out)
{
  return escape_json (data, len, out, FALSE);
}

/**
 * runner_json_escape_strict:
 * @data: bytes, any
 * @len: their length
 * @out: room for @len * %RUNNER_JSON_ESCAPE_EXPANSION bytes
 * @out_len: (out): the number of bytes written
 *
 * Validates and escapes in one pass: like runner_json_escape(), but
 * fails instead of replacing invalid UTF-8, and on NUL bytes. For valid
 * input the output is that of runner_json_escape(). @out holds garbage after a failure.
 *
 * Returns: %TRUE if @data was valid UTF-8 without NUL
 */
gboolean
runner_json_escape_strict (const guint8 *data,
                           gsize         len,
                           char         *out,
                           gsize        *out_len)
{
  gsize n = escape_json (data, len, out, TRUE);

  *out_len = n == G_MAXSIZE ? 0 : n;
  return n != G_MAXSIZE;
}

/* Appends @data quoted, escaped in slices straight into @out (no scratch
 * copy): the room for the worst case of a slice is reserved, then given back.
 * A character cut by a slice goes whole into the next one. With @strict,
 * fails (and leaves @out as it was) on invalid UTF-8 or NUL. */
static gboolean
append_quoted (GString      *out,
               const guint8 *data,
               gsize         len,
               gboolean      strict)
{
  enum { SLICE = 64 * 1024 };
  gsize start = out->len;
  gsize done = 0;

  g_string_append_c (out, '"');
  while (done < len)
    {
      gsize n = MIN (SLICE, len - done);
      gsize at = out->len;
      gsize escaped;

      if (done + n < len)
        n -= runner_utf8_incomplete_tail (data + done, n);
      g_string_set_size (out, at + n * RUNNER_JSON_ESCAPE_EXPANSION);
      escaped = escape_json (data + done, n, out->str + at, strict);
      if (escaped == G_MAXSIZE)
        {
          g_string_truncate (out, start);
          return FALSE;
        }
      g_string_truncate (out, at + escaped);
      done += n;
    }
  g_string_append_c (out, '"');
  return TRUE;
}

/**
 * runner_json_append_string:
 * @out: where to append
 * @str: UTF-8
 * @len: its length, or -1 if NUL-terminated
 *
 * Appends @str as a quoted JSON string, plain ASCII eight bytes at a time:
 * several times faster than json-glib's generator on large text (file
 * contents, terminal output). Invalid UTF-8 in @str shows as U+FFFD: what
 * Runner sends is always valid text.
 */
void
runner_json_append_string (GString    *out,
                           const char *str,
                           gssize      len)
{
  g_return_if_fail (out != NULL);
  g_return_if_fail (str != NULL || len == 0);

  append_quoted (out, (const guint8 *) str, len < 0 ? strlen (str) : (gsize) len, FALSE);
}

/**
 * runner_json_append_text:
 * @out: where to append
 * @data: bytes
 * @len: their length
 *
 * Validates and escapes in one pass: appends @data as a quoted JSON string
 * if it is valid UTF-8 without NUL, else appends nothing.
 *
 * Returns: whether @data was appended
 */
gboolean
runner_json_append_text (GString      *out,
                         const guint8 *data,
                         gsize         len)
{
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  return append_quoted (out, data, len, TRUE);
}

/* ---- Building ----------------------------------------------------------- */

/* json-glib writes a string's bytes as they are: the marks the parser left
 * for `\u0000` (C0 80) and for a lone surrogate (ED A0..BF xx) would come out
 * as bytes that are not UTF-8. Neither can stand anywhere else in its output,
 * so they go back to the escapes they came from. */
static char *
json_unmark (char  *text,
             gsize *length)
{
  GString *out;
  const char *p = text;
  gsize len = strlen (text);

  if (memchr (text, 0xc0, len) == NULL && memchr (text, 0xed, len) == NULL)
    {
      if (length != NULL)
        *length = len;
      return text;
    }

  out = g_string_sized_new (len + 16);
  for (gsize i = 0; i < len; i++)
    {
      guint8 c = (guint8) p[i];

      if (c == 0xc0 && i + 1 < len && (guint8) p[i + 1] == 0x80)
        {
          g_string_append (out, "\\u0000");
          i++;
        }
      else if (c == 0xed && i + 2 < len && (guint8) p[i + 1] >= 0xa0 && (guint8) p[i + 1] <= 0xbf)
        {
          guint unit = 0xd000 | (((guint8) p[i + 1] & 0x3f) << 6) | ((guint8) p[i + 2] & 0x3f);

          g_string_append_printf (out, "\\u%04x", unit);
          i += 2;
        }
      else
        g_string_append_c (out, (char) c);
    }
  g_free (text);
  if (length != NULL)
    *length = out->len;
  return g_string_free (out, FALSE);
}

/**
 * runner_json_to_string:
 * @node: a #JsonNode
 * @length: (out) (optional): the length of the text
 *
 * Serializes @node compactly. A string holding the parser's marks for
 * `\u0000` or a lone surrogate is written with those escapes again, so what
 * runner_json_parse() accepted comes back out as the same JSON.
 *
 * Returns: (transfer full): JSON text
 */
char *
runner_json_to_string (JsonNode *node,
                       gsize    *length)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, node);
  return json_unmark (json_generator_to_data (generator, NULL), length);
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
