/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#pragma once

#include "runner-terminal.h"
#include "runner-test-util.h"

G_BEGIN_DECLS

/* A client whose transport the test controls: "stalled" keeps what is sent
 * queued, as a peer that does not read would. */

#define TEST_TYPE_CLIENT (test_client_get_type ())
G_DECLARE_FINAL_TYPE (TestClient, test_client, TEST, CLIENT, RunnerClient)

struct _TestClient
{
  RunnerClient  parent_instance;
  GString      *output;       /* terminal:data, decoded */
  gsize         received;     /* bytes of terminal:data in UTF-8 */
  guint         n_data;
  guint64       last_seq;
  gsize         queued;
  gsize         max_queued_seen;
  gboolean      stalled;
  guint64       missed;
  guint         n_skipped;
  gboolean      exited;
  gint64        exit_code;
  gint64        exit_signal;
  gboolean      bad_utf8;
  gboolean      seq_went_back;
};

TestClient *test_client_new   (gsize       max_queued);
void        test_client_drain (TestClient *self);

#define WAIT_TIMEOUT_S 30

/* Iterates the main context until @cond holds; fails after WAIT_TIMEOUT_S. */
#define WAIT_UNTIL(cond)                                                      \
  G_STMT_START {                                                              \
    gint64 deadline_ = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC; \
    while (!(cond))                                                           \
      {                                                                       \
        if (g_get_monotonic_time () > deadline_)                              \
          g_error ("Timed out waiting for %s", #cond);                        \
        g_main_context_iteration (NULL, TRUE);                                \
      }                                                                       \
  } G_STMT_END

typedef struct
{
  char                  *dir;
  char                  *workspace;
  RunnerTerminalOptions  options;
  RunnerTerminal        *terminal;
  TestClient            *client;
} Fixture;

void     fixture_set_up     (Fixture       *fixture,
                             gconstpointer  user_data);
void     fixture_tear_down  (Fixture       *fixture,
                             gconstpointer  user_data);
void     fixture_start      (Fixture       *fixture);
void     fixture_type       (Fixture       *fixture,
                             const char    *keys);

char    *terminal_test_init  (void);
gboolean output_has          (TestClient    *client,
                              const char    *needle);
guint    count_occurrences   (const char    *haystack,
                              const char    *needle);
gboolean has_zombie_children (GPid           parent);
GPid     parent_of           (GPid           pid);

G_END_DECLS
