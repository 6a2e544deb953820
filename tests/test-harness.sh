#!/usr/bin/env bash
# test-harness.sh: the smtpkit-harness program (TAP).
#
#   test-harness.sh SMTPKIT_HARNESS
#
# Listing and selecting cases, TAP and JUnit output, and the exit status:
# 0 all passed, 1 one failed, 2 bad usage or an unreadable scenario.
# SMTPKIT_SCENARIO_DIR and SMTPKIT_PLUGIN_PATH come from the test setup.
#
# Under meson test --setup valgrind, SMTPKIT_TEST_WRAPPER holds valgrind's
# command line (words separated by spaces): the program runs under it, and
# exits with status 99 when valgrind finds an error.

set -u

harness=$1
read -r -a wrapper <<<"${SMTPKIT_TEST_WRAPPER:-}"
data=$(dirname "$0")/data/harness
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-harness-test.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

# shellcheck source=tests/tap.sh
source "$(dirname "$0")/tap.sh"

# harness ARGS...: runs the program, bounded in time; sets $status. Not
# every check looks at the status: a valgrind error is a failure of its own.
harness ()
{
  status=0
  timeout 300 "${wrapper[@]}" "$harness" "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
  if [ "$status" -eq 99 ]; then
    n=$((n + 1))
    failed=1
    echo "not ok $n - valgrind found errors in: smtpkit-harness $*"
    sed 's/^/# /' "$tmp/err"
  fi
}

files=$(find "$SMTPKIT_SCENARIO_DIR" -name '*.scenario' | wc -l)

harness run --list
check "--list: two cases (sync, async) per scenario file" \
  test "$status" -eq 0 -a "$(wc -l <"$tmp/out")" -eq $((2 * files))

harness run --list --mode sync rfc1870
check "--mode sync with a suite: only that suite's sync cases" \
  test "$status" -eq 0 -a "$(grep -c '^rfc1870/.*/sync	' "$tmp/out")" -eq "$(wc -l <"$tmp/out")" \
       -a "$(wc -l <"$tmp/out")" -eq "$(ls "$SMTPKIT_SCENARIO_DIR"/rfc1870/*.scenario | wc -l)"

harness run --list --rfc 1870
check "--rfc 1870: the cases of its suite or whose title names it" \
  bash -c '[ -s "$1" ] && ! grep -v -e "^rfc1870/" -e "	RFC[^—]*1870" "$1"' _ "$tmp/out"

harness run --list -k 'rfc5321/*-421/*'
check "-k with a glob: the whole name matched" \
  bash -c '[ -s "$1" ] && ! grep -v "^rfc5321/[^/]*-421/" "$1"' _ "$tmp/out"

harness run --format tap rfc1870
check "run a suite: TAP, every case ok, exit 0" \
  bash -c '[ "$1" -eq 0 ] && grep -q "^1\.\.$2$" "$3" && [ "$(grep -c "^ok " "$3")" -eq "$2" ] &&
           grep -q "^# $2 passed, 0 failed, 0 skipped$" "$3"' _ "$status" \
       "$((2 * $(ls "$SMTPKIT_SCENARIO_DIR"/rfc1870/*.scenario | wc -l)))" "$tmp/out"

harness run --format tap --mode sync --junit "$tmp/results.xml" "$data/fails.scenario"
check "a failing case: exit 1" test "$status" -eq 1
check "a failing case: the title, the file and line, both sides and the conversation" \
  bash -c 'grep -q "^not ok 1 - harness/fails/sync$" "$1" &&
           grep -q "^# RFC 5321 §4.1.1.1 — a deliberately wrong expectation$" "$1" &&
           grep -q "fails.scenario:4: expected ehlo .*=> 250, got error server-disconnected" "$1" &&
           grep -q "fails.scenario:8: expected '"'"'HELO client.test'"'"', client sent '"'"'EHLO client.test'"'"'" "$1" &&
           grep -q "^#   C: EHLO client.test$" "$1"' _ "$tmp/out"
check "--junit: XML with the suite, the case and its failure" \
  python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root.find("testsuite")
case = suite.find("testcase")
assert root.get("tests") == "1" and root.get("failures") == "1", root.attrib
assert suite.get("name") == "harness" and case.get("name") == "fails/sync", case.attrib
assert "fails.scenario:4:" in case.find("failure").get("message")
' "$tmp/results.xml"

harness run --format summary --mode sync "$data/fails.scenario"
check "--format summary: the failure and the counts" \
  bash -c '[ "$1" -eq 1 ] && grep -q "^FAIL harness/fails/sync$" "$2" &&
           grep -q "^0 passed, 1 failed, 0 skipped$" "$2"' _ "$status" "$tmp/out"

harness run "$data/broken.scenario"
check "an unreadable scenario: exit 2, naming file and line" \
  bash -c '[ "$1" -eq 2 ] && grep -q "broken.scenario:5: unknown server step" "$2"' _ "$status" "$tmp/err"

harness run no-such-suite
check "a suite that does not exist: exit 2" \
  bash -c '[ "$1" -eq 2 ] && grep -q "no-such-suite" "$2"' _ "$status" "$tmp/err"

harness run --no-such-option
check "an unknown option: exit 2" test "$status" -eq 2

harness run --mode sideways
check "a bad --mode: exit 2" test "$status" -eq 2

harness frobnicate
check "an unknown command: exit 2" test "$status" -eq 2

# serve: the server side for a client driven from outside, here smtplib,
# which connects once the scenario's "# listening on" line is out.
serve_check ()
{
  python3 - "$@" <<'PY'
import re, smtplib, subprocess, sys
wrapper, harness, scenario_dir, second_fails = sys.argv[1:5]
argv = (wrapper.split() if wrapper else []) + [harness, "serve", "--listen", "127.0.0.1:0",
        "--wait", "30", "--scenario-dir", scenario_dir,
        "rfc5321/connect-greeting", "rfc5321/connect-multiline-greeting"]
serve = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
n = 0
out = []
for line in serve.stdout:
    out.append(line)
    m = re.match(r"# listening on 127\.0\.0\.1:(\d+);", line)
    if m:
        n += 1
        s = smtplib.SMTP("127.0.0.1", int(m.group(1)), local_hostname="client.test")
        if n == 1:
            s.quit()                 # what connect-greeting expects
        elif second_fails == "yes":
            # connect-multiline-greeting expects NOOP first: the server
            # closes at the mismatch.
            try:
                s.quit()
            except smtplib.SMTPServerDisconnected:
                pass
        else:
            s.noop()
            s.close()
status = serve.wait()
text = "".join(out)
sys.stdout.write(text)
ok = ("ok 1 - rfc5321/connect-greeting/sync" in text and
      (("not ok 2 - rfc5321/connect-multiline-greeting/sync" in text and status == 1)
       if second_fails == "yes" else
       ("\nok 2 - rfc5321/connect-multiline-greeting/sync" in text and status == 0)))
sys.exit(0 if ok else 1)
PY
}
serve_check "${wrapper[*]:-}" "$harness" "$SMTPKIT_SCENARIO_DIR" no >"$tmp/out" 2>"$tmp/err"
check "serve: a client that matches both scenarios, exit 0" test $? -eq 0
serve_check "${wrapper[*]:-}" "$harness" "$SMTPKIT_SCENARIO_DIR" yes >"$tmp/out" 2>"$tmp/err"
check "serve: a client that does not match the second, not ok and exit 1" test $? -eq 0

harness --version
check "--version" grep -q "^smtpkit-harness [0-9]" "$tmp/out"

tap_end
