/* smtpkit-version-macros.h: export and availability macros
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__SMTPKIT_INSIDE__) && !defined(SMTPKIT_COMPILATION)
#error "Only <smtpkit.h> can be included directly."
#endif

#include <glib.h>

#if defined(_WIN32) && !defined(__GNUC__)
#define _SMTPKIT_EXPORT __declspec (dllexport)
#else
#define _SMTPKIT_EXPORT __attribute__ ((visibility ("default")))
#endif

#ifdef SMTPKIT_COMPILATION
#define _SMTPKIT_EXTERN _SMTPKIT_EXPORT extern
#else
#define _SMTPKIT_EXTERN extern
#endif

/**
 * SMTPKIT_AVAILABLE_IN_ALL:
 *
 * Marks a symbol that has been part of the API since the first release.
 */
#define SMTPKIT_AVAILABLE_IN_ALL _SMTPKIT_EXTERN

/**
 * SMTPKIT_AVAILABLE_IN_1_0:
 *
 * Marks a symbol available since libsmtpkit 1.0.
 */
#define SMTPKIT_AVAILABLE_IN_1_0 _SMTPKIT_EXTERN
