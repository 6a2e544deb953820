#!/usr/bin/env bash
# update-comparison.sh: plays the suites against libsmtpkit, smtplib and
# curl, and writes what they do to the files that keep it:
#
#   harness/adapters/smtplib.expected, harness/adapters/curl.expected
#       each case's outcome, which the test suite checks again;
#   docs/client-comparison.md
#       the table of the three, suite by suite and case by case.
#
#   bash harness/adapters/update-comparison.sh [BUILD_DIR]   (default _build)
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build=${1:-_build}
harness="$build/harness/smtpkit-harness"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-compare.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

export SMTPKIT_PLUGIN_PATH="$PWD/$build/plugins"
export SMTPKIT_SCENARIO_DIR="$PWD/harness/scenarios"
export GIO_USE_TLS=gnutls

# Exit status 1 (a case failed) is expected of the other clients.
run () { "$harness" run --format tap --outcomes "$@" >/dev/null || [ $? -eq 1 ]; }

run "$tmp/libsmtpkit.outcomes"
run harness/adapters/smtplib.expected --client "python3 $PWD/harness/adapters/smtplib-adapter.py"
run harness/adapters/curl.expected --client "python3 $PWD/harness/adapters/curl-adapter.py"
python3 harness/adapters/compare-clients.py "$tmp/libsmtpkit.outcomes" \
  "Python smtplib=harness/adapters/smtplib.expected" "curl=harness/adapters/curl.expected" \
  >docs/client-comparison.md
echo "updated harness/adapters/smtplib.expected, harness/adapters/curl.expected and docs/client-comparison.md"
