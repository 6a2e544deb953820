# tap.sh: TAP for the test scripts, sourced by them.
#
#   check WHAT COMMAND...   runs COMMAND: "ok N - WHAT", or "not ok N - WHAT"
#                           followed by $tmp/out and $tmp/err as comments
#   skip WHY                "ok N # SKIP WHY"
#   check_man_page MAN_PAGE HELP_FILE SECTION...
#                           every long option of HELP_FILE (a program's
#                           --help) is in MAN_PAGE, which renders without a
#                           warning and has each SECTION
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

skip ()
{
  n=$((n + 1))
  echo "ok $n # SKIP $1"
}

check_man_page ()
{
  local man_page=$1 help=$2 missing= option section
  shift 2

  # Written \-\-name in the page.
  for option in $(grep -o -- '--[a-z][a-z-]*' "$help" | sort -u); do
    grep -qF -- "$(printf '%s' "$option" | sed 's/-/\\-/g')" "$man_page" || missing="$missing $option"
  done
  echo "missing from the man page:$missing" >"$tmp/err"
  check "the man page documents every option of --help" eval '[ -z "$missing" ]'
  if ! command -v groff >/dev/null; then
    skip "groff is not installed: the man page is not rendered"
    return
  fi
  check "the man page renders without warnings" \
    eval 'LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$man_page" >"$tmp/out" 2>"$tmp/err" && [ ! -s "$tmp/err" ]'
  for section in "$@"; do
    check "the man page has $section" grep -q "^\.SH \"\?$section" "$man_page"
  done
}

tap_end ()
{
  echo "1..$n"
  exit "$failed"
}
