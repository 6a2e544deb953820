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

/* The scheme is GLib's (gversionmacros.h): every public symbol is marked
 * with the version that added it, and an application that defines
 * SMTPKIT_VERSION_MAX_ALLOWED (and SMTPKIT_VERSION_MIN_REQUIRED) before
 * including <smtpkit.h> is warned when it uses a symbol newer (or
 * deprecated since an older version) than it allows. A release that adds
 * API adds its SMTPKIT_VERSION_X_Y, SMTPKIT_AVAILABLE_IN_X_Y and
 * SMTPKIT_DEPRECATED_IN_X_Y here and moves SMTPKIT_VERSION_CUR_STABLE;
 * tests/test-version.c checks that it matches the project's version. */

/**
 * SMTPKIT_VERSION_0_1:
 *
 * The version number of libsmtpkit 0.1, encoded with G_ENCODE_VERSION(),
 * for comparisons with `SMTPKIT_VERSION_MIN_REQUIRED` and
 * `SMTPKIT_VERSION_MAX_ALLOWED`.
 */
#define SMTPKIT_VERSION_0_1 (G_ENCODE_VERSION (0, 1))

/**
 * SMTPKIT_VERSION_CUR_STABLE:
 *
 * The encoded version of the current release series of libsmtpkit, the
 * major and minor numbers of `SMTPKIT_MAJOR_VERSION` and
 * `SMTPKIT_MINOR_VERSION`: the default of `SMTPKIT_VERSION_MIN_REQUIRED`
 * and `SMTPKIT_VERSION_MAX_ALLOWED`.
 */
#define SMTPKIT_VERSION_CUR_STABLE SMTPKIT_VERSION_0_1

/**
 * SMTPKIT_VERSION_MIN_REQUIRED:
 *
 * The oldest version of libsmtpkit an application is written for, as
 * `SMTPKIT_VERSION_0_1` or a later `SMTPKIT_VERSION_X_Y`; by default
 * `SMTPKIT_VERSION_CUR_STABLE`.
 *
 * Define it before including `<smtpkit.h>` (`-DSMTPKIT_VERSION_MIN_REQUIRED=SMTPKIT_VERSION_0_1`):
 * using a symbol deprecated in that version or an earlier one then
 * warns at compile time; symbols deprecated only later do not warn.
 */
#ifndef SMTPKIT_VERSION_MIN_REQUIRED
#define SMTPKIT_VERSION_MIN_REQUIRED (SMTPKIT_VERSION_CUR_STABLE)
#endif

/**
 * SMTPKIT_VERSION_MAX_ALLOWED:
 *
 * The newest version of libsmtpkit whose API an application may use, as
 * `SMTPKIT_VERSION_0_1` or a later `SMTPKIT_VERSION_X_Y`; by default
 * `SMTPKIT_VERSION_CUR_STABLE`.
 *
 * Define it before including `<smtpkit.h>`: using a symbol added after
 * that version then warns at compile time, so an application that must
 * run with an older libsmtpkit learns it at build time rather than from a
 * missing symbol.
 */
#ifndef SMTPKIT_VERSION_MAX_ALLOWED
#define SMTPKIT_VERSION_MAX_ALLOWED (SMTPKIT_VERSION_CUR_STABLE)
#endif

#if SMTPKIT_VERSION_MIN_REQUIRED < SMTPKIT_VERSION_0_1
#error "SMTPKIT_VERSION_MIN_REQUIRED must be SMTPKIT_VERSION_0_1 or later"
#endif
#if SMTPKIT_VERSION_MAX_ALLOWED < SMTPKIT_VERSION_MIN_REQUIRED
#error "SMTPKIT_VERSION_MAX_ALLOWED must be >= SMTPKIT_VERSION_MIN_REQUIRED"
#endif

/* The library itself uses what it deprecates without warnings, as may an
 * application that defines SMTPKIT_DISABLE_DEPRECATION_WARNINGS. */
#if defined(SMTPKIT_COMPILATION) || defined(SMTPKIT_DISABLE_DEPRECATION_WARNINGS)
#define _SMTPKIT_DEPRECATED _SMTPKIT_EXTERN
#define _SMTPKIT_DEPRECATED_FOR(f) _SMTPKIT_EXTERN
#define _SMTPKIT_UNAVAILABLE(major, minor) _SMTPKIT_EXTERN
#else
#define _SMTPKIT_DEPRECATED G_DEPRECATED _SMTPKIT_EXTERN
#define _SMTPKIT_DEPRECATED_FOR(f) G_DEPRECATED_FOR (f) _SMTPKIT_EXTERN
#define _SMTPKIT_UNAVAILABLE(major, minor) G_UNAVAILABLE (major, minor) _SMTPKIT_EXTERN
#endif

/**
 * SMTPKIT_AVAILABLE_IN_ALL:
 *
 * Marks a symbol that has been part of the API since the first release,
 * 0.1, whatever `SMTPKIT_VERSION_MAX_ALLOWED` says.
 */
#define SMTPKIT_AVAILABLE_IN_ALL _SMTPKIT_EXTERN

/**
 * SMTPKIT_AVAILABLE_IN_0_1:
 *
 * Marks a symbol available since libsmtpkit 0.1. Using it warns when
 * `SMTPKIT_VERSION_MAX_ALLOWED` is older than 0.1.
 */
#if SMTPKIT_VERSION_MAX_ALLOWED < SMTPKIT_VERSION_0_1
#define SMTPKIT_AVAILABLE_IN_0_1 _SMTPKIT_UNAVAILABLE (0, 1)
#else
#define SMTPKIT_AVAILABLE_IN_0_1 _SMTPKIT_EXTERN
#endif

/**
 * SMTPKIT_DEPRECATED_IN_0_1:
 *
 * Marks a symbol deprecated since libsmtpkit 0.1. Using it warns when
 * `SMTPKIT_VERSION_MIN_REQUIRED` is 0.1 or later.
 */
/**
 * SMTPKIT_DEPRECATED_IN_0_1_FOR:
 * @f: the symbol to use instead
 *
 * Marks a symbol deprecated since libsmtpkit 0.1 in favour of @f. Using
 * it warns when `SMTPKIT_VERSION_MIN_REQUIRED` is 0.1 or later.
 */
#if SMTPKIT_VERSION_MIN_REQUIRED >= SMTPKIT_VERSION_0_1
#define SMTPKIT_DEPRECATED_IN_0_1 _SMTPKIT_DEPRECATED
#define SMTPKIT_DEPRECATED_IN_0_1_FOR(f) _SMTPKIT_DEPRECATED_FOR (f)
#else
#define SMTPKIT_DEPRECATED_IN_0_1 _SMTPKIT_EXTERN
#define SMTPKIT_DEPRECATED_IN_0_1_FOR(f) _SMTPKIT_EXTERN
#endif
