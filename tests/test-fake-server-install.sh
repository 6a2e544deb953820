#!/usr/bin/env bash
# test-fake-server-install.sh: the installed fake server library, as an
# application's test suite uses it (TAP).
#
#   test-fake-server-install.sh MESON BUILD_DIR EXAMPLE PREFIX LIBDIR SANITIZE CC...
#
# Installs the build into a staging folder (meson install --destdir),
# compiles docs/examples/test-app-sends-mail.c with nothing but what
# pkg-config says of the staged smtpkit-fake-server-1.pc, and runs it
# against the staged shared library. In a sanitized build (SANITIZE is
# meson's b_sanitize, such as address,undefined) the example is compiled
# with the same -fsanitize flags, as the library needs their runtime.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -u

meson=$1
build=$2
example=$3
prefix=$4
libdir=$5
sanitize=$6
shift 6
cc=("$@")
read -r -a wrapper <<<"${SMTPKIT_TEST_WRAPPER:-}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-fake-install.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

. "$(dirname "$0")/tap.sh"

case $libdir in
  /*) ;;
  *) libdir=$prefix/$libdir ;;
esac
dest=$tmp/dest
staged_pc=$dest$libdir/pkgconfig/smtpkit-fake-server-1.pc
# The staged .pc, with its prefix moved to the staging folder; the
# packages it requires (GLib) are found where they are.
export PKG_CONFIG_PATH=$tmp/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}

installed ()
{
  "$meson" install -C "$build" --no-rebuild --quiet --destdir "$dest" >"$tmp/out" 2>"$tmp/err" &&
    [ -f "$staged_pc" ] && mkdir -p "$tmp/pkgconfig" &&
    sed "s|^prefix=.*|prefix=$dest$prefix|" "$staged_pc" >"$tmp/pkgconfig/smtpkit-fake-server-1.pc" &&
    [ -f "$dest$prefix/include/smtpkit-fake-server-1/smtpkit-fake-server.h" ] &&
    ! ls "$dest$prefix/include/smtpkit-fake-server-1/" | grep -q private
}
check "meson install stages smtpkit-fake-server-1.pc and the public headers only" installed

# Only the public API is exported.
exports_public_only ()
{
  local lib
  lib=$(ls "$dest$libdir"/libsmtpkit-fake-server-1.so.0) || return 1
  nm -D --defined-only "$lib" | awk '{ print $3 }' >"$tmp/out"
  grep -q '^smtpkit_fake_server_new_sink$' "$tmp/out" &&
    ! grep -v -e '^smtpkit_fake_server_' -e '^smtpkit_fake_mail_' -e '^smtpkit_scenario_' \
      -e '^_init$' -e '^_fini$' "$tmp/out" >"$tmp/err" &&
    ! grep -q -e '^smtpkit_fake_conn_' -e '^smtpkit_fake_sink_' -e '^smtpkit_fake_auth_' "$tmp/out"
}
check "the shared library exports the public API only" exports_public_only

compiled ()
{
  local flags=()
  if [ "$sanitize" != none ]; then
    flags+=("-fsanitize=$sanitize")
  fi
  # shellcheck disable=SC2046 # pkg-config's words are separate arguments
  "${cc[@]}" -Wall -Werror=implicit-function-declaration "${flags[@]}" -o "$tmp/example" "$example" \
    $(pkg-config --cflags --libs smtpkit-fake-server-1) >"$tmp/out" 2>"$tmp/err"
}
check "the example compiles against the staged smtpkit-fake-server-1.pc" compiled

passes ()
{
  LD_LIBRARY_PATH=$dest$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    "${wrapper[@]}" "$tmp/example" --tap >"$tmp/out" 2>"$tmp/err" &&
    [ "$(grep -c '^ok ' "$tmp/out")" -eq 3 ] && ! grep -q '^not ok' "$tmp/out"
}
check "the example's tests pass with the staged library" passes

tap_end
