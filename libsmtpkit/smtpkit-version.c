/* smtpkit-version.c: the version of the library at run time
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smtpkit-version.h"

/**
 * smtpkit_get_major_version:
 *
 * The major version of the libsmtpkit the application runs with (0 in
 * 0.1.2), which may differ from the `SMTPKIT_MAJOR_VERSION` of the
 * headers it was compiled against.
 *
 * Returns: the major version number of the library
 */
guint
smtpkit_get_major_version (void)
{
  return SMTPKIT_MAJOR_VERSION;
}

/**
 * smtpkit_get_minor_version:
 *
 * The minor version of the libsmtpkit the application runs with (1 in
 * 0.1.2), which may differ from the `SMTPKIT_MINOR_VERSION` of the
 * headers it was compiled against.
 *
 * Returns: the minor version number of the library
 */
guint
smtpkit_get_minor_version (void)
{
  return SMTPKIT_MINOR_VERSION;
}

/**
 * smtpkit_get_micro_version:
 *
 * The micro version of the libsmtpkit the application runs with (2 in
 * 0.1.2), which may differ from the `SMTPKIT_MICRO_VERSION` of the
 * headers it was compiled against.
 *
 * Returns: the micro version number of the library
 */
guint
smtpkit_get_micro_version (void)
{
  return SMTPKIT_MICRO_VERSION;
}

/**
 * smtpkit_check_version:
 * @required_major: the major version required
 * @required_minor: the minor version required
 * @required_micro: the micro version required
 *
 * Checks that the libsmtpkit the application runs with is compatible
 * with version @required_major.@required_minor.@required_micro: it has
 * the same major version, and its minor and micro versions are the ones
 * given or later. This is the run-time counterpart of
 * `SMTPKIT_CHECK_VERSION`, for code that loads the library it was not
 * compiled against (a plugin, a binding):
 *
 * ```c
 * const char *mismatch = smtpkit_check_version (0, 1, 0);
 *
 * if (mismatch != NULL)
 *   g_error ("libsmtpkit is too old: %s", mismatch);
 * ```
 *
 * Returns: (nullable): %NULL if the library is compatible, else a
 *   statically allocated string saying why not, which must not be
 *   modified or freed
 */
const char *
smtpkit_check_version (guint required_major,
                       guint required_minor,
                       guint required_micro)
{
  if (required_major > SMTPKIT_MAJOR_VERSION)
    return "libsmtpkit version too old (major mismatch)";
  if (required_major != SMTPKIT_MAJOR_VERSION)
    return "libsmtpkit version too new (major mismatch)";
  if (required_minor > SMTPKIT_MINOR_VERSION)
    return "libsmtpkit version too old (minor mismatch)";
  if (required_minor == SMTPKIT_MINOR_VERSION && required_micro > SMTPKIT_MICRO_VERSION)
    return "libsmtpkit version too old (micro mismatch)";
  return NULL;
}
