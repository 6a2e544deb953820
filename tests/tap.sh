# tap.sh: TAP for the test scripts, sourced by them.
#
#   check WHAT COMMAND...   runs COMMAND: "ok N - WHAT", or "not ok N - WHAT"
#                           followed by $tmp/out and $tmp/err as comments
#   tap_end                 prints the plan and exits 1 when a check failed
#
# The script sets $tmp, a folder of its own, before its first check.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

n=0
failed=0

check ()
{
  local what=$1
  shift
  n=$((n + 1))
  if "$@"; then
    echo "ok $n - $what"
  else
    failed=1
    echo "not ok $n - $what"
    sed 's/^/# /' "$tmp/out" "$tmp/err" 2>/dev/null | head -40
  fi
}

tap_end ()
{
  echo "1..$n"
  exit "$failed"
}
