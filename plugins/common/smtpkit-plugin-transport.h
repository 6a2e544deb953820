/* smtpkit-plugin-transport.h: the module a transport plugin is
 *
 * A transport module defines its connect functions and then states
 *
 *   SMTPKIT_PLUGIN_TRANSPORT (SmtpkitTcpTransport, smtpkit_tcp_transport, tcp, "tcp",
 *                             tcp_connect_async, tcp_connect_finish)
 *
 * which defines the final dynamic type TypeName implementing SmtpkitTransport with
 * them, and the three functions GIO looks for in libsmtpkit-MODULE.so:
 * g_io_smtpkit_MODULE_load() (registers the type and the extension),
 * _unload() and _query(). Nothing else is exported (plugin.map).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <smtpkit.h>

#define SMTPKIT_PLUGIN_TRANSPORT(TypeName, type_name, module, name, connect_async_func, connect_finish_func) \
  typedef struct                                                                            \
  {                                                                                         \
    GObject parent_instance;                                                                \
  } TypeName;                                                                               \
  typedef struct                                                                            \
  {                                                                                         \
    GObjectClass parent_class;                                                              \
  } TypeName##Class;                                                                        \
                                                                                            \
  GType type_name##_get_type (void);                                                        \
                                                                                            \
  static void                                                                               \
  type_name##_iface_init (SmtpkitTransportInterface *iface)                                 \
  {                                                                                         \
    iface->connect_async = connect_async_func;                                              \
    iface->connect_finish = connect_finish_func;                                            \
  }                                                                                         \
                                                                                            \
  G_DEFINE_DYNAMIC_TYPE_EXTENDED (TypeName, type_name,                                      \
                                  G_TYPE_OBJECT, G_TYPE_FLAG_FINAL,                         \
                                  G_IMPLEMENT_INTERFACE_DYNAMIC (SMTPKIT_TYPE_TRANSPORT,    \
                                                                 type_name##_iface_init))   \
                                                                                            \
  static void                                                                               \
  type_name##_class_init (TypeName##Class *klass)                                           \
  {                                                                                         \
  }                                                                                         \
                                                                                            \
  static void                                                                               \
  type_name##_class_finalize (TypeName##Class *klass)                                       \
  {                                                                                         \
  }                                                                                         \
                                                                                            \
  static void                                                                               \
  type_name##_init (TypeName *self)                                                         \
  {                                                                                         \
  }                                                                                         \
                                                                                            \
  G_MODULE_EXPORT void g_io_smtpkit_##module##_load (GIOModule *gio_module);                \
  G_MODULE_EXPORT void g_io_smtpkit_##module##_unload (GIOModule *gio_module);              \
  G_MODULE_EXPORT char **g_io_smtpkit_##module##_query (void);                              \
                                                                                            \
  void                                                                                      \
  g_io_smtpkit_##module##_load (GIOModule *gio_module)                                      \
  {                                                                                         \
    /* Types registered in a module cannot be unregistered. */                              \
    g_type_module_use (G_TYPE_MODULE (gio_module));                                         \
    type_name##_register_type (G_TYPE_MODULE (gio_module));                                 \
    g_io_extension_point_implement (SMTPKIT_TRANSPORT_EXTENSION_POINT_NAME,                 \
                                    type_name##_get_type (), name, 0);                      \
  }                                                                                         \
                                                                                            \
  void                                                                                      \
  g_io_smtpkit_##module##_unload (GIOModule *gio_module)                                    \
  {                                                                                         \
  }                                                                                         \
                                                                                            \
  char **                                                                                   \
  g_io_smtpkit_##module##_query (void)                                                      \
  {                                                                                         \
    char *points[] = { (char *) SMTPKIT_TRANSPORT_EXTENSION_POINT_NAME, NULL };             \
                                                                                            \
    return g_strdupv (points);                                                              \
  }
