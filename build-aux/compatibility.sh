#!/usr/bin/env bash
# compatibility.sh: runs smtpkit-harness probe against the private Postfix
# and Dovecot of the interop tests and writes docs/compatibility.md, the
# table of every check against each server, with the replies judged.
#
#   bash build-aux/compatibility.sh [BUILD_DIR]   (default _build)
#
# The servers are started as the interop tests start them (see
# docs/interop.md: Postfix and Dovecot installed, run as root), by the
# interop test program in its --compatibility mode, which runs the three
# probes of the test suite and keeps their TAP.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-_build}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-compatibility.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" >/dev/null
fi
ninja -C "$build" harness/smtpkit-harness tests/interop/test-probe >/dev/null

SMTPKIT_PLUGIN_PATH="$PWD/$build/plugins" GIO_USE_TLS=gnutls \
  G_TEST_SRCDIR="$PWD/tests" G_TEST_BUILDDIR="$PWD/$build/tests" \
  "$build/tests/interop/test-probe" --harness "$PWD/$build/harness/smtpkit-harness" \
  --compatibility "$tmp" >"$tmp/log" 2>&1 ||
  { cat "$tmp/log" >&2; echo "compatibility: the probes did not run" >&2; exit 1; }

postfix_version=$(postconf -d -h mail_version 2>/dev/null || echo '?')
dovecot_version=$(dovecot --version 2>/dev/null | cut -d' ' -f1 || echo '?')

"$build/harness/smtpkit-harness" probe --list >"$tmp/checks"

python3 - "$tmp" "$postfix_version" "$dovecot_version" >docs/compatibility.md <<'PY'
import re, sys

tmp, postfix, dovecot = sys.argv[1:4]
titles = dict(line.rstrip("\n").split("\t", 1) for line in open(f"{tmp}/checks", encoding="utf-8"))
servers = [
    ("postfix-starttls", f"Postfix {postfix}, STARTTLS"),
    ("postfix-smtps", f"Postfix {postfix}, smtps"),
    ("dovecot", f"Dovecot {dovecot} LMTP"),
]

def read_tap(path):
    """check -> (verdict, title, [diagnostic lines])"""
    checks, order, current = {}, [], None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        m = re.match(r"^(not ok|ok) \d+ - (\S+)(?: # SKIP (.*))?$", line)
        if m:
            verdict = "fail" if m.group(1) == "not ok" else ("skip" if m.group(3) is not None else "pass")
            current = m.group(2)
            order.append(current)
            checks[current] = [verdict, None, [m.group(3)] if m.group(3) else []]
        elif current and line.startswith("# ") and not line.startswith("#   "):
            text = line[2:]
            if text.startswith("the conversation, as") or re.match(r"^\d+ passed, \d+ failed", text):
                current = None
            elif checks[current][1] is None and text == titles.get(current):
                checks[current][1] = text
            else:
                checks[current][2].append(text)
    return checks, order

results = {}
order = []
for key, _ in servers:
    results[key], order = read_tap(f"{tmp}/{key}.tap")

def cell(verdict, lines):
    # The replies judged: each "X answered REPLY" line but RSET's, or
    # the reason for a skip or a failure.
    shown = [l for l in lines if not l.startswith("RSET answered")] or lines
    if verdict == "pass":
        shown = [l for l in shown if " answered " in l or "nothing" in l] or shown
    text = "<br>".join(s.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;") for s in shown)
    return f"**{verdict}**" + (f": {text}" if text else "")

out = []
out.append("Title: Compatibility of real servers\n")
out.append("# Compatibility of real servers\n")
out.append("What `smtpkit-harness probe` (see [The conformance harness](harness.html)) finds")
out.append("on the private servers of the interop tests ([Interop tests](interop.html)):")
out.append("Postfix over STARTTLS with AUTH and `--send` to two users, Postfix on its")
out.append("implicit-TLS port without `--send`, and Dovecot's LMTP socket with `--send` to")
out.append("bob, carol and dave (whose 1 KB quota fills up). Each cell is the")
out.append("check's verdict and the replies it judged, as the server sent them (RSET's left")
out.append("out), or why it was skipped. The test suite runs the same three probes")
out.append("(`interop-probe`) and requires every check to pass or be skipped.\n")
out.append("Made by `bash build-aux/compatibility.sh`; do not edit by hand.\n")
out.append("## Summary\n")
out.append("| server | passed | failed | skipped |")
out.append("|---|---|---|---|")
for key, name in servers:
    counts = {v: sum(1 for c in results[key].values() if c[0] == v) for v in ("pass", "fail", "skip")}
    out.append(f"| {name} | {counts['pass']} | {counts['fail']} | {counts['skip']} |")
out.append("")
out.append("## Check by check\n")
out.append("| check | " + " | ".join(name for _, name in servers) + " |")
out.append("|---|" + "---|" * len(servers))
for check in order:
    title = titles[check]
    row = [f"`{check}`<br>{title}"]
    for key, _ in servers:
        verdict, _, lines = results[key][check]
        row.append(cell(verdict, lines))
    out.append("| " + " | ".join(row) + " |")
print("\n".join(out))
PY
echo "compatibility: wrote docs/compatibility.md"
