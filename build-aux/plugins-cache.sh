#!/bin/sh
# plugins-cache.sh GIO_QUERYMODULES PLUGINDIR LIBDIR: run by `meson install`
# to write giomodule.cache in the installed plugin folder (see
# plugins/meson.build). The plugins link libsmtpkit, which is looked for
# where it was just installed (a staged DESTDIR included).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -eu

querymodules=$1
plugindir=${DESTDIR:-}$2
libdir=${DESTDIR:-}$3

LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$querymodules" "$plugindir"
