/* smtpkit-scenario.h: scenario files played by the fake SMTP server
 *
 * The format is described in docs/scenario-format.md.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__SMTPKIT_FAKE_SERVER_INSIDE__) && !defined(SMTPKIT_FAKE_SERVER_COMPILATION)
#error "Only <smtpkit-fake-server.h> can be included directly."
#endif

#include <glib.h>

#include "smtpkit-fake-server-macros.h"

G_BEGIN_DECLS

/**
 * SMTPKIT_FAKE_SERVER_ERROR:
 *
 * The error domain of the fake server and of the scenario parser.
 */
#define SMTPKIT_FAKE_SERVER_ERROR (smtpkit_fake_server_error_quark ())

/**
 * SmtpkitFakeServerError:
 * @SMTPKIT_FAKE_SERVER_ERROR_MISMATCH: the client did not do what the
 *   scenario expects (or its connection failed)
 * @SMTPKIT_FAKE_SERVER_ERROR_TIMEOUT: the client sent nothing within the
 *   step timeout, or the scenario did not finish in time
 * @SMTPKIT_FAKE_SERVER_ERROR_SCRIPT: the scenario itself is wrong: a syntax
 *   error in the file or in a quoted string
 *
 * Error codes of the %SMTPKIT_FAKE_SERVER_ERROR domain.
 */
typedef enum
{
  SMTPKIT_FAKE_SERVER_ERROR_MISMATCH,
  SMTPKIT_FAKE_SERVER_ERROR_TIMEOUT,
  SMTPKIT_FAKE_SERVER_ERROR_SCRIPT,
} SmtpkitFakeServerError;

SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
GQuark smtpkit_fake_server_error_quark (void);

/**
 * SmtpkitScenarioLine:
 * @lineno: the line number in the file, counting from 1
 * @text: the line, without its indentation
 *
 * One step of the `client:` section, handed over uninterpreted.
 */
typedef struct
{
  guint lineno;
  char *text;
} SmtpkitScenarioLine;

typedef struct _SmtpkitScenario SmtpkitScenario;

SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
SmtpkitScenario *smtpkit_scenario_new_from_file (const char  *path,
                                                 GError     **error);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
SmtpkitScenario *smtpkit_scenario_new_from_data (const char  *name,
                                                 const char  *text,
                                                 GError     **error);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
SmtpkitScenario *smtpkit_scenario_ref (SmtpkitScenario *scenario);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
void smtpkit_scenario_unref (SmtpkitScenario *scenario);

SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
const char *smtpkit_scenario_get_name (SmtpkitScenario *scenario);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
const char *smtpkit_scenario_get_path (SmtpkitScenario *scenario);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
const char *smtpkit_scenario_get_title (SmtpkitScenario *scenario);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
GPtrArray *smtpkit_scenario_get_client_steps (SmtpkitScenario *scenario);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
guint smtpkit_scenario_get_n_server_steps (SmtpkitScenario *scenario);

SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
guint8 *smtpkit_scenario_unescape (const char  *quoted,
                                   gsize       *len,
                                   GError     **error);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
char *smtpkit_scenario_escape (const guint8 *data,
                               gsize         len);
SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL
GPtrArray *smtpkit_scenario_split_args (const char  *text,
                                        GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SmtpkitScenario, smtpkit_scenario_unref)

G_END_DECLS
