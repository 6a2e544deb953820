#!/usr/bin/env bash
# test-probe.sh: smtpkit-harness probe against scripted servers (TAP).
#
#   test-probe.sh SMTPKIT_HARNESS SMTPKIT_FAKE_SERVER
#
# A server that breaks a rule must fail the check of that rule, by name,
# and the probe must exit 1; a conformant one passes it (exit 0); bad
# usage is exit 2. Each server is the fake server's binary playing one
# scenario of tests/data/probe/ on one connection: the probe runs one
# check (-k), which opens one connection.

set -u

harness=$1
fake_server=$2
data=$(dirname "$0")/data/probe
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-probe-test.XXXXXX")
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf -- "$tmp"' EXIT

# shellcheck source=tests/tap.sh
source "$(dirname "$0")/tap.sh"

# serve SCENARIO: the fake server plays it on a free port; sets $port,
# and $ca to the file of the CA of its certificates.
serve ()
{
  rm -f "$tmp/port"
  "$fake_server" --scenario "$data/$1" --listen 127.0.0.1:0 --port-file "$tmp/port" \
    >"$tmp/server.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    [ -s "$tmp/port" ] && grep -q '^listening on' "$tmp/server.out" && break
    sleep 0.1
  done
  port=$(cat "$tmp/port")
  ca=$(sed -n 's/^ca-file: //p' "$tmp/server.out")
}

# probe ARGS...: runs the probe, bounded in time; sets $status.
probe ()
{
  status=0
  timeout 60 "$harness" probe --format tap --timeout 10 "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
}

stop ()
{
  kill "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=
}

serve rcpt-before-mail.scenario
probe -k rcpt-before-mail "smtp://127.0.0.1:$port"
stop
check "RCPT before MAIL answered 250: that check not ok, exit 1" \
  bash -c '[ "$1" -eq 1 ] && grep -q "^1\.\.1$" "$2" &&
           grep -q "^not ok 1 - rfc5321/rcpt-before-mail$" "$2" &&
           grep -q "^# RFC 5321 §3.3, §4.1.4 — RCPT before MAIL answered 503$" "$2" &&
           grep -q "^# RCPT TO:<postmaster> answered 250 2.1.5 Ok; expected 503$" "$2" &&
           grep -q "^#   C: RCPT TO:<postmaster>$" "$2"' _ "$status" "$tmp/out"

serve long-line.scenario
probe -k long-line "smtp://127.0.0.1:$port"
stop
check "an over-long line split in two: that check not ok, exit 1" \
  bash -c '[ "$1" -eq 1 ] && grep -q "^not ok 1 - rfc5321/long-line$" "$2" &&
           grep -q "more replies than commands after the over-long line" "$2"' _ "$status" "$tmp/out"

serve starttls-injection.scenario
probe -k starttls-injection --ca-file "$ca" "smtp://127.0.0.1:$port"
stop
check "a NOOP pipelined after STARTTLS answered inside TLS: that check not ok, exit 1" \
  bash -c '[ "$1" -eq 1 ] && grep -q "^not ok 1 - rfc3207/starttls-injection$" "$2" &&
           grep -q "^# inside TLS, the server answered the NOOP sent before the handshake (CVE-2011-0411)" "$2" &&
           grep -q "^#   (TLS handshake done)$" "$2"' _ "$status" "$tmp/out"

serve conformant.scenario
probe -k rcpt-before-mail --junit "$tmp/probe.xml" "smtp://127.0.0.1:$port"
stop
check "RCPT before MAIL answered 503: ok, the reply shown, exit 0" \
  bash -c '[ "$1" -eq 0 ] && grep -q "^ok 1 - rfc5321/rcpt-before-mail$" "$2" &&
           grep -q "^# RCPT TO:<postmaster> answered 503 5.5.1 Error: need MAIL command$" "$2" &&
           grep -q "^# 1 passed, 0 failed, 0 skipped$" "$2"' _ "$status" "$tmp/out"
check "--junit: the check, in its RFC's suite" \
  python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root.find("testsuite")
assert root.get("tests") == "1" and root.get("failures") == "0", root.attrib
assert suite.get("name") == "rfc5321" and suite.find("testcase").get("name") == "rcpt-before-mail"
' "$tmp/probe.xml"

probe --list
check "--list: every check with its RFC section" \
  bash -c '[ "$1" -eq 0 ] && grep -q "^rfc3207/starttls-injection	RFC 3207 §4.2" "$2" &&
           ! grep -v "	RFC [0-9]* §" "$2"' _ "$status" "$tmp/out"

probe "http://example.org"
check "a URI of another scheme: exit 2" \
  bash -c '[ "$1" -eq 2 ] && grep -q "smtp, smtps or lmtp" "$2"' _ "$status" "$tmp/err"

probe "smtp://[broken"
check "a URI that does not parse: exit 2" test "$status" -eq 2

probe "lmtp://127.0.0.1"
check "lmtp://host without a port: exit 2" test "$status" -eq 2

probe
check "no URI: exit 2" test "$status" -eq 2

probe --send "smtp://127.0.0.1:1"
check "--send without --to: exit 2, nothing sent" \
  bash -c '[ "$1" -eq 2 ] && grep -q "needs --to" "$2"' _ "$status" "$tmp/err"

probe --user alice "smtp://127.0.0.1:1"
check "--user without --password-file: exit 2" test "$status" -eq 2

probe -k rfc5321/noop "smtp://127.0.0.1:1"
check "a server that is not there: the check not ok, exit 1" \
  bash -c '[ "$1" -eq 1 ] && grep -q "^not ok 1 - rfc5321/noop$" "$2"' _ "$status" "$tmp/out"

tap_end
