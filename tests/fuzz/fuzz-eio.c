/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#include "config.h"

#include <string.h>

#include "runner-eio-codec.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static gboolean
has_double (JsonNode *node)
{
  if (node == NULL)
    return FALSE;

  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        if (has_double (json_array_get_element (array, i)))
          return TRUE;
      return FALSE;
    }

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObjectIter iter;
      JsonNode *member;

      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, NULL, &member))
        if (has_double (member))
          return TRUE;
      return FALSE;
    }

  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_DOUBLE;
}

/* Whatever a decoder accepts must encode back to something it accepts again.
 * (json-glib 1.6 writes large round doubles as "1e+20.0", which is not JSON:
 * those are left out of the check.) */
static void
check_sio_round_trip (const RunnerSioPacket *packet)
{
  g_autoptr(RunnerSioPacket) again = NULL;
  g_autofree char *text = NULL;
  gsize len;

  if (has_double (packet->data))
    return;

  text = runner_sio_packet_encode (packet, &len);
  again = runner_sio_packet_decode (text, len, NULL);
  g_assert_nonnull (again);
  g_assert_cmpint (again->type, ==, packet->type);
  g_assert_cmpint (again->id, ==, packet->id);
  g_assert_cmpuint (again->attachments, ==, packet->attachments);
}

static void
check_payload_round_trip (GPtrArray *packets)
{
  g_autoptr(GString) payload = g_string_new (NULL);
  g_autoptr(GPtrArray) again = NULL;

  for (guint i = 0; i < packets->len; i++)
    runner_eio_payload_append (payload, g_ptr_array_index (packets, i));

  again = runner_eio_payload_decode ((const guint8 *) payload->str, payload->len, G_MAXUINT, NULL);
  g_assert_nonnull (again);
  g_assert_cmpuint (again->len, ==, packets->len);
  for (guint i = 0; i < packets->len; i++)
    {
      RunnerEioPacket *a = g_ptr_array_index (packets, i);
      RunnerEioPacket *b = g_ptr_array_index (again, i);

      g_assert_cmpint (a->type, ==, b->type);
      g_assert_true (g_bytes_equal (a->data, b->data));
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(GPtrArray) packets = NULL;
  g_autoptr(RunnerEioPacket) eio = NULL;
  g_autoptr(RunnerSioPacket) sio = NULL;

  packets = runner_eio_payload_decode (data, size, 1024, NULL);
  if (packets != NULL)
    {
      check_payload_round_trip (packets);
      for (guint i = 0; i < packets->len; i++)
        {
          RunnerEioPacket *p = g_ptr_array_index (packets, i);
          g_autoptr(RunnerSioPacket) inner = NULL;
          gsize len;
          const char *text = g_bytes_get_data (p->data, &len);

          if (p->type != RUNNER_EIO_PACKET_MESSAGE || p->binary)
            continue;
          inner = runner_sio_packet_decode (text, len, NULL);
          if (inner != NULL)
            check_sio_round_trip (inner);
        }
    }

  eio = runner_eio_packet_decode (data, size, FALSE, NULL);

  sio = runner_sio_packet_decode ((const char *) data, size, NULL);
  if (sio != NULL)
    check_sio_round_trip (sio);

  return 0;
}
