/* faults-common.h: what the fault tests share
 *
 * The outcome of a message as an application sees it (delivered, refused
 * temporarily or permanently, unknown), the conversation of the fault
 * matrix and the torture test (STARTTLS, AUTH PLAIN, three recipients) as
 * a fake-server scenario with a fault at any step, and the client side of
 * that conversation.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <smtpkit.h>

#include "smtpkit-fake-server.h"

G_BEGIN_DECLS

/* ---- outcomes ------------------------------------------------------------ */

typedef enum
{
  OUTCOME_DELIVERED,      /* to every recipient not in the refused map */
  OUTCOME_REFUSED_TEMP,   /* not delivered; worth trying again later */
  OUTCOME_REFUSED_PERM,   /* not delivered; trying again will not help */
  OUTCOME_UNKNOWN,        /* the message may have been delivered */
} Outcome;

const char *outcome_name (Outcome outcome);
Outcome outcome_classify (GHashTable   *refused,
                          const GError *error);

/* ---- the conversation ------------------------------------------------------ */

#define FAULTS_SENDER "alice@example.org"
#define FAULTS_USER "alice"
#define FAULTS_PASSWORD "s3cret"
#define FAULTS_N_RECIPIENTS 3

extern const char *const faults_recipients[FAULTS_N_RECIPIENTS + 1];

typedef enum
{
  COMBO_PIPELINING = 1 << 0,
  COMBO_CHUNKING = 1 << 1,
} Combo;

const char *combo_name (Combo combo);

typedef enum
{
  STEP_GREETING,
  STEP_EHLO,
  STEP_STARTTLS,
  STEP_EHLO_TLS,
  STEP_AUTH,
  STEP_MAIL,
  STEP_RCPT1,
  STEP_RCPT2,
  STEP_RCPT3,
  STEP_DATA,   /* the DATA command; not with CHUNKING */
  STEP_END,    /* the end of data: "." or BDAT ... LAST */
  N_STEPS,
  STEP_NONE = N_STEPS,
} Step;

const char *step_name (Step step,
                       Combo combo);

typedef enum
{
  FAULT_4XX,
  FAULT_5XX,
  FAULT_421,
  FAULT_CLOSE,
  FAULT_PARTIAL,  /* part of a reply line, then close */
  FAULT_GARBAGE,  /* bytes that are not SMTP */
  FAULT_STALL,    /* no reply until the client gives up */
  N_FAULTS,
} Fault;

const char *fault_name (Fault fault);

/* The reply a server gives for @fault (4xx, 5xx or 421) at @step. */
guint fault_reply_code (Step  step,
                        Fault fault);

/* The server side: the whole conversation, with @fault at @step (none
 * when @step is STEP_NONE), and after it what a correct client does. */
char *faults_scenario_text (Combo combo,
                            Step  step,
                            Fault fault);
GBytes *faults_message (void);

/* ---- the client side ------------------------------------------------------- */

typedef enum
{
  CALL_CONNECT,
  CALL_LOGIN,
  CALL_SENDMAIL,
  CALL_QUIT,
} Call;

typedef struct
{
  Call failed_call;          /* the call that failed, or CALL_QUIT */
  GHashTable *refused;       /* sendmail()'s map when it succeeded */
  GError *error;             /* the error of connect, login or sendmail */
  GError *quit_error;        /* QUIT's, after the message was sent */
  gboolean connected_after;  /* is_connected() right after that call */
  double call_seconds;       /* how long the call that failed took */
  double total_seconds;
} Run;

void run_clear (Run *run);

SmtpkitFakeServer *faults_server_new (const char *scenario_text);
SmtpkitClient *faults_client_new (double timeout);
/* connect (tls-mode starttls), login, sendmail, quit, stopping at the
 * first failure; QUIT after a failed login or sendmail when the client is
 * still connected, as an application would. */
void faults_run (SmtpkitClient     *client,
                 SmtpkitFakeServer *server,
                 Run               *run);

G_END_DECLS
