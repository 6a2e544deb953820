#!/usr/bin/env bash
# run-installed-overrides.sh MESON BUILD_DIR PREFIX OVERRIDES_SUBDIR PROGRAM [ARGS...]
#
# Runs PROGRAM with the Python overrides as `meson install` installs them:
# the build is staged into a temporary folder (meson install --destdir),
# and PYTHONPATH names the site folder that holds the staged
# gi/overrides/Smtpkit.py. SMTPKIT_TEST_OVERRIDES_DIR tells
# tests/test-python.py where the module must come from, so a module found
# anywhere else (the source tree, an older install) fails the test.
# The staging folder is removed whatever happens; PROGRAM's exit status
# is this script's.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -u

meson=$1 build=$2 prefix=$3 subdir=$4
shift 4

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-overrides.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

if ! "$meson" install -C "$build" --no-rebuild --quiet --destdir "$tmp/dest" >"$tmp/log" 2>&1; then
  echo "Bail out! meson install --destdir failed"
  sed 's/^/# /' "$tmp/log"
  exit 1
fi
overrides=$tmp/dest$prefix/$subdir
if [ ! -f "$overrides/Smtpkit.py" ]; then
  echo "Bail out! meson install did not install $prefix/$subdir/Smtpkit.py"
  exit 1
fi

# PyGObject extends gi.overrides over every gi/overrides on sys.path.
export PYTHONPATH=${overrides%/gi/overrides}
export SMTPKIT_TEST_OVERRIDES_DIR=$overrides
"$@"
