#!/usr/bin/env bash
# test-fake-server-cli.sh: the smtpkit-fake-server program as a sink (TAP).
#
#   test-fake-server-cli.sh SMTPKIT_FAKE_SERVER
#
# The client is bash itself (/dev/tcp): it pipelines a whole session,
# which the sink answers in order, and the checks read the replies, the
# program's output and the Maildir. Under meson test --setup valgrind,
# SMTPKIT_TEST_WRAPPER holds valgrind's command line.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -u

server=$1
read -r -a wrapper <<<"${SMTPKIT_TEST_WRAPPER:-}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-fake-cli.XXXXXX")
server_pid=

cleanup ()
{
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf -- "$tmp"
}
trap cleanup EXIT

. "$(dirname "$0")/tap.sh"

# start_sink ARGS...: the sink on $tmp/spool, its output in $tmp/out;
# sets $port.
start_sink ()
{
  rm -f "$tmp/port"
  "${wrapper[@]}" "$server" --sink "$tmp/spool" --listen 127.0.0.1:0 --port-file "$tmp/port" "$@" \
    >"$tmp/out" 2>"$tmp/err" &
  server_pid=$!
  for _ in $(seq 200); do
    [ -s "$tmp/port" ] && grep -q '^listening on' "$tmp/out" && break
    sleep 0.1
  done
  port=$(cat "$tmp/port")
}

stop_sink ()
{
  kill -TERM "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=
}

# session LINE...: one connection that sends the lines (CRLF added) at
# once and reads every reply into $tmp/replies, CRs removed, until the
# sink closes.
session ()
{
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf '%s\r\n' "$@" >&3
  timeout 20 cat <&3 | tr -d '\r' >"$tmp/replies"
  exec 3<&-
}

# replied TEXT: a reply line of the last session is TEXT.
replied ()
{
  grep -qxF -- "$1" "$tmp/replies"
}

message=(HELO client.test "MAIL FROM:<a@x>" "RCPT TO:<b@y>" DATA "Subject: t" "" hello . QUIT)

# ---- the Maildir ---------------------------------------------------------

restart_keeps_both ()
{
  local files
  for run in 1 2; do
    start_sink --max-messages 1
    session "${message[@]}"
    wait "$server_pid" || return 1
    server_pid=
    grep -q '^message 1: from=<a@x> to=<b@y> size=21 file='"$tmp/spool/new/" "$tmp/out" || return 1
    files=$(sed -n 's/^message 1: .* file=//p' "$tmp/out")
    [ -f "$files" ] || return 1
  done
  [ "$(ls "$tmp/spool/new" | wc -l)" -eq 2 ] &&
    [ "$(ls "$tmp/spool/envelopes" | wc -l)" -eq 2 ] &&
    [ -z "$(ls "$tmp/spool/tmp")" ] && [ -d "$tmp/spool/cur" ]
}
check "restarted on the same folder, the sink keeps both messages in new/" restart_keeps_both

# ---- UTF-8 ------------------------------------------------------------------

utf8_printed ()
{
  rm -rf "$tmp/spool"
  start_sink --extension SMTPUTF8
  session HELO client.test "MAIL FROM:<jösé@exämple.test> SMTPUTF8" "RCPT TO:<ünï@例え.jp>" DATA hi . QUIT
  stop_sink
  grep -qF 'message 1: from=<jösé@exämple.test> to=<ünï@例え.jp> size=4 file=' "$tmp/out" &&
    grep -qF '"sender" : "jösé@exämple.test"' "$tmp/spool/envelopes/"*.json
}
LC_ALL=C check "UTF-8 addresses printed as UTF-8 in the C locale" utf8_printed

# ---- faults ------------------------------------------------------------------

refused_recipients ()
{
  start_sink --refuse-rcpt '*@bad.test' --refuse-rcpt 'gone@*=551 5.1.6 Moved' \
    --tempfail-rcpt 'later@*' --reply 'mail:spam@*=553 5.7.1 Not you'
  session HELO client.test "MAIL FROM:<spam@x>" "MAIL FROM:<a@x>" "RCPT TO:<u@BAD.test>" \
    "RCPT TO:<gone@y>" "RCPT TO:<later@y>" "RCPT TO:<ok@y>" QUIT
  stop_sink
  replied "553 5.7.1 Not you" && replied "550 5.1.1 No such user" && replied "551 5.1.6 Moved" &&
    replied "450 4.2.0 Try again later" && replied "250 2.1.5 Ok"
}
check "--refuse-rcpt, --tempfail-rcpt and --reply answer on the wire" refused_recipients

close_after_mail ()
{
  start_sink --close-after mail
  session HELO client.test "MAIL FROM:<a@x>" "RCPT TO:<b@y>" QUIT
  stop_sink
  [ "$(tail -n 1 "$tmp/replies")" = "250 2.1.0 Ok" ] && ! replied "221 2.0.0 Bye"
}
check "--close-after mail closes after the reply to MAIL" close_after_mail

# ---- AUTH ---------------------------------------------------------------------

auth_required ()
{
  rm -rf "$tmp/spool"
  start_sink --auth PLAIN,LOGIN --user alice --password s3cret --require-auth
  # alice/wrong, then alice/s3cret
  session "EHLO client.test" "MAIL FROM:<a@x>" "AUTH PLAIN AGFsaWNlAHdyb25n" \
    "AUTH PLAIN AGFsaWNlAHMzY3JldA==" "${message[@]:1}"
  stop_sink
  replied "250 AUTH PLAIN LOGIN" && replied "530 5.7.0 Authentication required" &&
    replied "535 5.7.8 Error: authentication failed: wrong password for 'alice'" &&
    replied "235 2.7.0 Authentication successful" && replied "250 2.0.0 Ok: queued as 000001" &&
    grep -qF '"auth_user" : "alice"' "$tmp/spool/envelopes/"*.json
}
check "--auth with --require-auth: 530, 535 for a wrong password, 235, and the user in the envelope" \
  auth_required

auth_extension ()
{
  start_sink --extension "AUTH PLAIN"
  session "EHLO client.test" "AUTH PLAIN AGJvYgB4" QUIT
  stop_sink
  replied "250 AUTH PLAIN" && replied "235 2.7.0 Authentication successful"
}
check "--extension \"AUTH PLAIN\" answers AUTH" auth_extension

# ---- usage errors -----------------------------------------------------------

usage_error ()
{
  local status=0
  "${wrapper[@]}" "$server" "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
  [ "$status" -eq 2 ] && grep -q "^Try '" "$tmp/err"
}
check "--user without --password is a usage error" \
  usage_error --sink "$tmp/spool" --auth PLAIN --user alice
check "--refuse-rcpt without --sink is a usage error" \
  usage_error --scenario /dev/null --refuse-rcpt '*'
check "--reply with an unknown step is a usage error" \
  usage_error --sink "$tmp/spool" --reply 'quit=550 No'
check "--close-after with an unknown step is a usage error" \
  usage_error --sink "$tmp/spool" --close-after quit
check "--require-tls without TLS is a usage error" \
  usage_error --sink "$tmp/spool" --require-tls

tap_end
