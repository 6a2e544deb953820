/* smtpkit-plugins.c: extension points and plugin loading
 *
 * Plugins are GIO modules: they export g_io_<name>_load/unload/query and
 * implement one of our extension points with dynamic types. Scanning reads
 * only their query function; a module is loaded when an extension it
 * provides is asked for.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "smtpkit-plugins-private.h"

#include "smtpkit-auth-mechanism.h"
#include "smtpkit-transport.h"

static char *search_path;

static gpointer
load_plugins (gpointer data)
{
  GIOExtensionPoint *point;
  GIOModuleScope *scope;
  const char *env = g_getenv ("SMTPKIT_PLUGIN_PATH");
  g_autoptr (GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);

  point = g_io_extension_point_register (SMTPKIT_TRANSPORT_EXTENSION_POINT_NAME);
  g_io_extension_point_set_required_type (point, SMTPKIT_TYPE_TRANSPORT);
  point = g_io_extension_point_register (SMTPKIT_AUTH_MECHANISM_EXTENSION_POINT_NAME);
  g_io_extension_point_set_required_type (point, SMTPKIT_TYPE_AUTH_MECHANISM);

  if (env != NULL && *env != '\0')
    {
      g_auto (GStrv) parts = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
      for (guint i = 0; parts[i] != NULL; i++)
        if (*parts[i] != '\0')
          g_ptr_array_add (dirs, g_strdup (parts[i]));
    }
  g_ptr_array_add (dirs, g_strdup (SMTPKIT_PLUGIN_DIR));

  /* A module found twice (build tree and installed) is loaded once. */
  scope = g_io_module_scope_new (G_IO_MODULE_SCOPE_BLOCK_DUPLICATES);
  for (guint i = 0; i < dirs->len; i++)
    g_io_modules_scan_all_in_directory_with_scope (g_ptr_array_index (dirs, i), scope);
  g_io_module_scope_free (scope);

  g_ptr_array_add (dirs, NULL);
  search_path = g_strjoinv (", ", (char **) dirs->pdata);

  return NULL;
}

void
smtpkit_plugins_ensure_loaded (void)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, load_plugins, NULL);
}

const char *
smtpkit_plugins_get_search_path (void)
{
  smtpkit_plugins_ensure_loaded ();
  return search_path;
}
