#!/usr/bin/env bash
# coverage.sh: the line coverage of libsmtpkit/ by the test suite.
#
#   bash build-aux/coverage.sh [MESON_TEST_ARGS...]
#
# Builds _build-coverage with gcov instrumentation (-Db_coverage=true),
# runs the test suite in it (all of it, or what MESON_TEST_ARGS select,
# e.g. "scenarios" for the scenario suites alone), and prints gcovr's
# summary of the files in libsmtpkit/, with a report per file in
# _build-coverage/coverage.txt. Installs gcovr (Debian's package) when it
# is missing.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=_build-coverage

if ! command -v gcovr >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "coverage: gcovr is missing: apt-get install gcovr" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gcovr >/dev/null
fi

if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" -Db_coverage=true -Dbuildtype=debug -Dintrospection=disabled \
    -Dbenchmarks=false >/dev/null
fi
ninja -C "$dir" >/dev/null
find "$dir" -name '*.gcda' -delete
meson test -C "$dir" --num-processes 2 --print-errorlogs "$@" >"$dir/coverage-tests.log" 2>&1 ||
  { echo "coverage: tests failed, see $dir/coverage-tests.log" >&2; exit 1; }
gcovr --root . --filter 'libsmtpkit/' --object-directory "$dir" --print-summary \
  --txt "$dir/coverage.txt" "$dir" | tail -3
echo "coverage: per file in $dir/coverage.txt"
