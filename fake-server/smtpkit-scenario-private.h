/* smtpkit-scenario-private.h: the parsed server side of a scenario
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "smtpkit-scenario.h"

G_BEGIN_DECLS

typedef enum
{
  SMTPKIT_STEP_SEND,             /* send, send-raw: @bytes in one write */
  SMTPKIT_STEP_SEND_BYTEWISE,    /* @bytes, one write per byte */
  SMTPKIT_STEP_EXPECT,           /* one CRLF line matching the pattern @arg */
  SMTPKIT_STEP_EXPECT_RAW,       /* exactly @bytes */
  SMTPKIT_STEP_EXPECT_DATA,      /* a DATA body equal to @bytes */
  SMTPKIT_STEP_EXPECT_DATA_SIZE, /* a DATA body of @number bytes */
  SMTPKIT_STEP_EXPECT_CLOSE,     /* EOF from the client */
  SMTPKIT_STEP_CLOSE,            /* the server closes */
  SMTPKIT_STEP_DELAY,            /* sleep @number ms */
} SmtpkitStepKind;

typedef struct
{
  SmtpkitStepKind kind;
  guint lineno;
  const char *keyword; /* as written: "send-raw", "expect", ... */
  char *arg;           /* the rest of the line, for messages */
  GBytes *bytes;
  guint64 number;
} SmtpkitScenarioStep;

/* (element-type SmtpkitScenarioStep) (transfer none) */
GPtrArray *smtpkit_scenario_get_server_steps (SmtpkitScenario *scenario);

G_END_DECLS
