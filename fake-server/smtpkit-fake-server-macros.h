/* smtpkit-fake-server-macros.h: the export macro of the fake server library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__SMTPKIT_FAKE_SERVER_INSIDE__) && !defined(SMTPKIT_FAKE_SERVER_COMPILATION)
#error "Only <smtpkit-fake-server.h> can be included directly."
#endif

#include <glib.h>

#if defined(SMTPKIT_FAKE_SERVER_COMPILATION) && defined(__GNUC__)
#define _SMTPKIT_FAKE_SERVER_EXTERN __attribute__ ((visibility ("default"))) extern
#else
#define _SMTPKIT_FAKE_SERVER_EXTERN extern
#endif

/**
 * SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL:
 *
 * Marks a symbol of the fake server library's API, exported from
 * libsmtpkit-fake-server-1. Everything not marked stays inside it.
 */
#define SMTPKIT_FAKE_SERVER_AVAILABLE_IN_ALL _SMTPKIT_FAKE_SERVER_EXTERN
