#!/usr/bin/env bash
# test-docs.sh: the API reference is complete (TAP).
#
#   test-docs.sh GI_DOCGEN SMTPKIT_GIR DOCS_DIR
#
# gi-docgen check reports no undocumented public symbol of the GIR (and
# no other warning); gi-docgen generate, as docs/meson.build runs it
# (with DOCS_DIR/smtpkit.toml.in and every page of DOCS_DIR), prints no
# warning either: a link in a doc comment or a page to a symbol it cannot
# find (which check does not resolve); and every Markdown page of
# DOCS_DIR starts with the "Title:" header gi-docgen takes the page's
# name from (without it, the page is an "Unknown document" in the index).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -u

gidocgen=$1
gir=$2
docs=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-docs-test.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

. "$(dirname "$0")/tap.sh"

gidocgen_check ()
{
  # gi-docgen prints its warnings and still exits 0 unless they are fatal;
  # any output beyond its INFO lines counts too.
  "$gidocgen" check --fatal-warnings --quiet "$gir" >"$tmp/out" 2>"$tmp/err" &&
    ! cat "$tmp/out" "$tmp/err" | grep -v 'INFO' | grep -q .
}

gidocgen_generate ()
{
  # The configuration docs/meson.build writes, with every page of docs/.
  local pages
  pages=$(cd "$docs" && printf '"%s", ' *.md)
  sed -e 's/@VERSION@/0/' -e "s/@CONTENT_FILES@/${pages%, }/" \
    "$docs/smtpkit.toml.in" >"$tmp/smtpkit.toml" &&
    "$gidocgen" generate --fatal-warnings --quiet --config="$tmp/smtpkit.toml" \
      --output-dir="$tmp/html" --no-namespace-dir --content-dir="$docs" "$gir" \
      >"$tmp/out" 2>"$tmp/err" &&
    ! cat "$tmp/out" "$tmp/err" | grep -v 'INFO' | grep -q .
}

has_title ()
{
  head -n 1 "$1" | grep -q '^Title: [^ ]' >"$tmp/out" 2>"$tmp/err" ||
    { echo "$1: the first line is not a Title: header" >"$tmp/err"; return 1; }
}

check "gi-docgen check $(basename "$gir")" gidocgen_check
check "gi-docgen generate $(basename "$gir") warns of nothing" gidocgen_generate
for page in "$docs"/*.md; do
  check "$(basename "$page") has a title" has_title "$page"
done

tap_end
