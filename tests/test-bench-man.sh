#!/usr/bin/env bash
# test-bench-man.sh BENCH_RUN MAN_PAGE: bench/run's man page documents
# every option and every workload that its --help lists, and renders
# without a warning (TAP). Nothing is run or built: --help only.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -u

bench_run=$1
man_page=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-bench-man.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

# shellcheck source=tests/tap.sh
source "$(dirname "$0")/tap.sh"

check "bench/run --help" eval 'python3 "$bench_run" --help >"$tmp/help" 2>"$tmp/err"'
check_man_page "$man_page" "$tmp/help" SYNOPSIS DESCRIPTION WORKLOADS OUTPUT OPTIONS \
  "EXIT STATUS" EXAMPLES
for workload in $(sed -n '/^Workloads/,/^$/p' "$tmp/help" | awk '/^  [a-z]/ { print $1 }'); do
  check "the man page describes the workload $workload" \
    grep -qF -- ".B $(printf '%s' "$workload" | sed 's/-/\\-/g')" "$man_page"
done

tap_end
