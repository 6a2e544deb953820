/* smtpkit-plugins-private.h: extension points and plugin loading
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Registers the extension points and scans the plugin directories, once:
 * each directory of $SMTPKIT_PLUGIN_PATH, then the installed one. */
void smtpkit_plugins_ensure_loaded (void);

/* The directories scanned, for error messages ("a, b"). */
const char *smtpkit_plugins_get_search_path (void);

G_END_DECLS
