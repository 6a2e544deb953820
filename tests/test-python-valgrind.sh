#!/bin/sh
# test-python-valgrind.sh: test-python.py under memcheck (TAP). PyGObject
# reading libsmtpkit's memory after freeing it, as it did with the maps
# of boxed replies sendmail() used to give bindings, is an invalid read.
#
#   test-python-valgrind.sh VALGRIND GLIB_SUPP SUPP PYTHON TEST-PYTHON.PY ARG...
#
# Leaks are not counted: the interpreter keeps much of what it allocates
# until exit. Any other memcheck error fails the second check.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

valgrind=$1 glib_supp=$2 supp=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"

PYTHONMALLOC=malloc G_SLICE=always-malloc "$valgrind" --tool=memcheck --leak-check=no \
  --num-callers=30 --error-exitcode=99 --suppressions="$glib_supp" --suppressions="$supp" \
  --log-file="$tmp/memcheck" "$@" >"$tmp/tap" 2>"$tmp/err"
status=$?
sed 's/^/# /' "$tmp/tap"
if grep -q '^1\.\.0 # SKIP' "$tmp/tap"; then
  sed -n 's/^1\.\.0 # SKIP/1..0 # SKIP/p' "$tmp/tap"
  exit 0
fi
cp "$tmp/tap" "$tmp/out"
# 99 is memcheck's status: the second check tells.
check "the Python tests pass under memcheck" \
  sh -c 'test "$1" -eq 0 -o "$1" -eq 99 && grep -q "^1\.\.[1-9]" "$2" && ! grep -q "^not ok" "$2"' \
  sh "$status" "$tmp/tap"
cp "$tmp/memcheck" "$tmp/out"
: >"$tmp/err"
check "memcheck finds no invalid read or write" \
  grep -q 'ERROR SUMMARY: 0 errors' "$tmp/memcheck"
tap_end
