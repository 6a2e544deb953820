#!/usr/bin/env bash
# test-send.sh: smtpkit-send as a mailer, against the fake server (TAP).
#
#   test-send.sh SMTPKIT_SEND SMTPKIT_FAKE_SERVER DATA_DIR MAN_PAGE
#
# Every case checks what can be seen from outside: the bytes on the wire
# (a scenario of DATA_DIR, which the fake server plays byte for byte and
# fails on any difference), the message the sink stored (found through
# its "message N: … file=PATH" line), the exit status and the reason on
# stderr.
#
# Under meson test --setup valgrind, SMTPKIT_TEST_WRAPPER holds valgrind's
# command line: both programs run under it.

set -u

# shellcheck source=tests/tap.sh
source "$(dirname "$0")/tap.sh"
# shellcheck source=tests/send-common.sh
source "$(dirname "$0")/send-common.sh"
data=$3
man_page=$4

start_sink () { rm -rf "$tmp/spool"; mkdir -p "$tmp/spool"; start_server --sink "$tmp/spool" "$@"; }
start_scenario () { start_server --scenario "$data/$1.scenario" "${@:2}"; }

# run PROGRAM ARGS... <INPUT: bounded in time; sets $status.
run ()
{
  status=0
  timeout 60 "${wrapper[@]}" "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
}
# mailer ARGS...: smtpkit-send to the server started last.
mailer () { run "$send" --timeout 10 --local-hostname client.test --server "smtp://127.0.0.1:$port" "$@"; }

has () { grep -q -- "$1" "$2"; }
lacks () { ! grep -q -- "$1" "$2"; }
exited () { [ "$status" -eq "$1" ]; }

# ---- the Secret Service -----------------------------------------------------------
#
# Under tests/run-with-keyring.sh (SMTPKIT_TEST_SECRET_SERVICE=1: a
# gnome-keyring of its own on a private session bus) only these cases run:
# --store-password, then a submission that takes the password from there.

if [ "${SMTPKIT_TEST_SECRET_SERVICE:-}" = 1 ]; then
  start_scenario submission
  printf '%s\n' "[work]" "server=smtp://127.0.0.1:$port" "tls=starttls" "ca-file=$ca" \
    "user=alice" "helo=client.test" "from=alice@example.org" >"$tmp/keyring.conf"
  status=0
  printf 's3cret-p4ss\n' | timeout 60 "${wrapper[@]}" "$send" --config "$tmp/keyring.conf" \
    --store-password work >"$tmp/out" 2>"$tmp/err" || status=$?
  check "--store-password ACCOUNT: the password from stdin into the Secret Service" \
    eval '[ "$status" -eq 0 ] && [ "$(secret-tool lookup xdg:schema org.gnome.Smtpkit.Account server "smtp://127.0.0.1:$port" user alice)" = s3cret-p4ss ]'
  timeout 60 "${wrapper[@]}" "$send" --config "$tmp/keyring.conf" bob@example.net \
    <"$data/plain.eml" >"$tmp/out" 2>"$tmp/err" || status=$?
  stop_server
  check "an account with a user and no password source: the Secret Service's password" \
    eval '[ "$status" -eq 0 ] && [ "$server_status" -eq 0 ]'
  tap_end
fi

# ---- plain options -------------------------------------------------------------

run "$send" --version
check "--version prints the version" \
  eval 'exited 0 && grep -Eq "^smtpkit-send [0-9]+\.[0-9]+\.[0-9]+" "$tmp/out"'

run "$send" --no-such-option
check "an unknown option: exit 64 with a hint" \
  eval 'exited 64 && has "Try" "$tmp/err"'

run "$send" -oQ/var/spool bob@example.net </dev/null
check "an unsupported sendmail -o option: exit 64 naming it" \
  eval 'exited 64 && has "sendmail.s -oQ/var/spool is not supported" "$tmp/err"'

run "$send" --server smtp://127.0.0.1:1 -N sometimes bob@example.net <"$data/plain.eml"
check "-N with a bad value: exit 64" eval 'exited 64 && has "sometimes" "$tmp/err"'

run "$send" --server smtp://127.0.0.1:1 -R body bob@example.net <"$data/plain.eml"
check "-R with a bad value: exit 64" eval 'exited 64 && has "body" "$tmp/err"'

# ---- the sink: what is sent ------------------------------------------------------

start_sink --extension 8BITMIME

printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.net>\nCc: carol@example.net\nBcc: Dave <dave@example.net>\nSubject: -t\n\nHi.\n' \
  >"$tmp/bcc.eml"
mailer -t <"$tmp/bcc.eml"
check "-t: To, Cc and Bcc addresses are the recipients" \
  eval 'exited 0 && [ "$(envelope)" = "from=<alice@example.org> to=<bob@example.net>,<carol@example.net>,<dave@example.net>" ]'
check "-t: no Bcc header leaves the machine" \
  eval 'lacks "^Bcc:" "$(stored)" && lacks "dave" "$(stored)" && has "^Cc: carol@example.net" "$(stored)"'

mailer -t erin@example.net <"$tmp/bcc.eml"
check "-t with arguments: the arguments are added to the header recipients (msmtp)" \
  eval 'exited 0 && [ "$(envelope)" = "from=<alice@example.org> to=<bob@example.net>,<carol@example.net>,<dave@example.net>,<erin@example.net>" ]'

mailer erin@example.net <"$tmp/bcc.eml"
check "without -t: only the arguments, and Bcc is still stripped" \
  eval 'exited 0 && [ "$(envelope)" = "from=<alice@example.org> to=<erin@example.net>" ] && lacks "^Bcc:" "$(stored)"'

printf 'From: Alice <alice@example.org>\nTo: bob@example.net\nSubject: resent\nResent-Date: Tue, 01 Dec 2026 12:00:00 +0000\nResent-From: carol@example.net\nResent-To: erin@example.net\nResent-Bcc: frank@example.net\n\nHi.\n' \
  >"$tmp/resent.eml"
mailer erin@example.net frank@example.net <"$tmp/resent.eml"
check "Resent-Bcc does not leave the machine either; Resent-To stays" \
  eval 'exited 0 && [ "$(envelope)" = "from=<alice@example.org> to=<erin@example.net>,<frank@example.net>" ] && lacks "^Resent-Bcc:" "$(stored)" && lacks "frank" "$(stored)" && has "^Resent-To: erin@example.net" "$(stored)"'

printf 'To: bob@example.net\nSubject: no From\n\nHi.\n' >"$tmp/nofrom.eml"
mailer -f alice@example.org -F "Alice Liddell" bob@example.net <"$tmp/nofrom.eml"
check "-f and -F: the envelope sender, and a From header with the full name" \
  eval 'exited 0 && [ "$(envelope)" = "from=<alice@example.org> to=<bob@example.net>" ] && has "^From: Alice Liddell <alice@example.org>" "$(stored)"'
check "a missing Date and Message-ID are added" \
  eval 'grep -Eq "^Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [-+][0-9]{4}" "$(stored)" && grep -Eqi "^Message-Id: <[^@>]+@example\.org>" "$(stored)"'

mailer -f bounce@example.org bob@example.net <"$data/plain.eml"
check "-f with a From header: the envelope changes, the header stays" \
  eval 'exited 0 && [ "$(envelope)" = "from=<bounce@example.org> to=<bob@example.net>" ] && has "^From: Alice <alice@example.org>" "$(stored)"'
check "an existing Date and Message-ID are kept" \
  eval 'has "^Date: Tue, 01 Dec 2026 12:00:00 +0000" "$(stored)" && has "^Message-ID: <plain@example.org>" "$(stored)" && [ "$(grep -ci "^Message-Id:" "$(stored)")" -eq 1 ]'

printf 'From: alice@example.org\nSubject: dots\n\nbefore\n.\nafter\n' >"$tmp/dot.eml"
for flag in -i -oi -odi -oem -bm; do
  mailer "$flag" bob@example.net <"$tmp/dot.eml"
  check "$flag is accepted, and a lone dot does not end the message" \
    eval 'exited 0 && has "^after" "$(stored)"'
done

mailer --file "$data/plain.eml" carol@example.net </dev/null
check "--file: the message from a file" \
  eval 'exited 0 && [ "$(envelope)" = "from=<alice@example.org> to=<carol@example.net>" ] && has "^Hello Bob" "$(stored)"'

mailer -f alice@example.org --subject "Grüße aus Köln" --body "Hallo Bob, schöne Grüße." bob@example.net </dev/null
check "--subject/--body: a MIME message, the subject RFC 2047-encoded" \
  eval 'exited 0 && grep -qi "^Subject: =?utf-8?" "$(stored)" && has "^To: bob@example.net" "$(stored)" && grep -qi "^Content-Type: text/plain; charset=utf-8" "$(stored)" && has "schöne" "$(stored)"'

mailer -v -f alice@example.org bob@example.net <"$data/eightbit.eml"
check "-v: the transcript on stderr, BODY=8BITMIME for an 8-bit body" \
  eval 'exited 0 && has "^C: MAIL FROM:<alice@example.org> BODY=8BITMIME" "$tmp/err" && has "^S: 250" "$tmp/err"'

# The progress bar: nothing when stderr is not a terminal.
{ cat "$data/plain.eml"; head -c 1500000 /dev/zero | tr '\0' 'x' | fold -w 70; } >"$tmp/big.eml"
mailer bob@example.net <"$tmp/big.eml"
# (Not an empty stderr: valgrind writes there under --setup valgrind.)
check "a 1.5 MB message, stderr not a terminal: no progress bar" \
  eval 'exited 0 && lacks "%)" "$tmp/err" && lacks "MB/s" "$tmp/err" && lacks "smtpkit-send:" "$tmp/err"'
if command -v script >/dev/null; then
  status=0
  timeout 60 script -qec "$(printf '%q ' "$send" --timeout 10 --server "smtp://127.0.0.1:$port" \
    --file "$tmp/big.eml" bob@example.net)" /dev/null >"$tmp/err" 2>&1 </dev/null || status=$?
  check "a 1.5 MB message on a terminal: a progress bar with bytes, percentage and rate" \
    eval 'exited 0 && grep -aq "of 1\.5.\{1,2\}MB (100%), [0-9.]*.\{1,2\}[kMG]\{0,1\}B/s" "$tmp/err"'
else
  skip "script (util-linux) is not installed: no terminal for the progress bar"
fi
stop_server sink

# ---- sendmail's name -------------------------------------------------------------

ln -s "$(realpath "$(command -v "$send")")" "$tmp/sendmail"
start_sink
mailer_as_sendmail () { run "$tmp/sendmail" --timeout 10 --server "smtp://127.0.0.1:$port" "$@"; }
mailer_as_sendmail -t -i <"$tmp/bcc.eml"
check "invoked as sendmail: the same mailer" \
  eval 'exited 0 && [ "$(envelope)" = "from=<alice@example.org> to=<bob@example.net>,<carol@example.net>,<dave@example.net>" ]'
mailer_as_sendmail -oQ/x bob@example.net </dev/null
check "invoked as sendmail: messages say sendmail" eval 'exited 64 && has "^sendmail: " "$tmp/err"'
stop_server sink

# ---- exit statuses ---------------------------------------------------------------

printf 'From: alice@example.org\nTo: bob@example.net\nSub ject: bad\n\nbody\n' >"$tmp/bad.eml"
run "$send" --server smtp://127.0.0.1:1 bob@example.net <"$tmp/bad.eml"
check "a malformed message: exit 65" eval 'exited 65 && has "malformed" "$tmp/err"'

run "$send" --server smtp://127.0.0.1:1 "bob@example.net, carol@example.net" <"$data/plain.eml"
check "an argument that is not one address: exit 65" \
  eval 'exited 65 && has "is not one mail address" "$tmp/err"'

run "$send" --server smtp://127.0.0.1:1 <"$data/plain.eml"
check "no recipients: exit 64" eval 'exited 64 && has "no recipients" "$tmp/err"'

run "$send" --timeout 10 --server smtp://nonexistent.invalid bob@example.net <"$data/plain.eml"
check "an unknown host: exit 68" eval 'exited 68 && has "nonexistent.invalid" "$tmp/err"'

# A port nobody listens on: the one a stopped server had.
start_sink
closed_port=$port
stop_server sink
run "$send" --timeout 10 --server "smtp://127.0.0.1:$closed_port" bob@example.net <"$data/plain.eml"
check "connection refused: exit 75" eval 'exited 75'

run "$send" --config "$tmp/no-such-accounts.conf" bob@example.net <"$data/plain.eml"
check "a missing --config file: exit 78" eval 'exited 78 && has "no-such-accounts.conf" "$tmp/err"'

# scenario NAME ARGS...: the mailer against a scenario; sets $status and
# $server_status (0 when the fake server played the scenario to its end
# without a mismatch).
scenario ()
{
  start_scenario "$1"
  shift
  mailer "$@"
  stop_server
}
# played STATUS: the mailer exited with STATUS, and the scenario was
# played; when not, what the fake server said goes with the failure.
played ()
{
  exited "$1" && [ "$server_status" -eq 0 ] && return 0
  echo "expected exit $1, got $status; the fake server's exit: $server_status" >>"$tmp/err"
  cat "$tmp/server.out" >>"$tmp/err"
  return 1
}

scenario rcpt-550 -f alice@example.org bob@example.net <"$data/plain.eml"
check "every recipient refused (550): exit 69, naming the recipient and its reply" \
  eval 'played 69 && has "refused bob@example.net: 550 5.1.1 <bob@example.net>: no such user" "$tmp/err"'

scenario mail-451 -f alice@example.org bob@example.net <"$data/plain.eml"
check "the sender refused for now (451): exit 75 with the reply" \
  eval 'played 75 && has "451 4.3.0 try again later" "$tmp/err"'

scenario greeting-554 bob@example.net <"$data/plain.eml"
check "a 554 greeting: exit 69" eval 'played 69 && has "554" "$tmp/err"'

scenario protocol bob@example.net <"$data/plain.eml"
check "a greeting that is not SMTP: exit 76" eval 'played 76'

scenario delivery-unknown bob@example.net <"$data/plain.eml"
check "the connection lost after the final dot: exit 75, may have been delivered" \
  eval 'played 75 && has "may have been delivered" "$tmp/err"'

scenario partial-550 bob@example.net carol@example.net <"$data/plain.eml"
check "one refused for good, one accepted: exit 69, naming the refused one" \
  eval 'played 69 && has "refused carol@example.net: 550 5.1.1" "$tmp/err" && lacks "refused bob" "$tmp/err" && has "delivered to 1 of 2 recipients" "$tmp/err"'

scenario partial-450 bob@example.net carol@example.net <"$data/plain.eml"
check "one refused for now, one accepted, no queue: exit 75" \
  eval 'played 75 && has "refused carol@example.net: 450 4.2.1" "$tmp/err"'

start_server --scenario "$data/greeting-slow.scenario"
run "$send" --timeout 0.5 --server "smtp://127.0.0.1:$port" bob@example.net <"$data/plain.eml"
stop_server
check "a server slower than --timeout: exit 75" eval 'exited 75'

# ---- DSN -----------------------------------------------------------------------------

scenario dsn -N success,delay -R full bob@example.net carol@example.net <"$data/plain.eml"
check "-N success,delay -R full: NOTIFY= on each RCPT, RET= on MAIL" eval 'played 0'

scenario dsn-not-offered -N never bob@example.net <"$data/plain.eml"
check "-N never to a server without DSN: no parameter sent" eval 'played 0'

# ---- 8BITMIME, SMTPUTF8, A-labels ------------------------------------------------------

scenario utf8 "bøb@exämple.net" <"$data/eightbit.eml"
check "a non-ASCII recipient where SMTPUTF8 is offered: SMTPUTF8 and BODY=8BITMIME" eval 'played 0'

scenario eightbit bob@example.net <"$data/eightbit.eml"
check "an 8-bit body where 8BITMIME is offered: BODY=8BITMIME, no SMTPUTF8" eval 'played 0'

scenario idn "bob@exämple.net" <"$data/eightbit.eml"
check "no SMTPUTF8 nor 8BITMIME: the domain as A-labels, the body in 7 bits" eval 'played 0'

# ---- TLS, AUTH, LMTP -------------------------------------------------------------------

printf 's3cret-p4ss\n' >"$tmp/password"
chmod 600 "$tmp/password"

start_scenario submission
mailer -v --tls starttls --ca-file "$ca" --user alice --password-file "$tmp/password" \
  -f alice@example.org bob@example.net <"$data/plain.eml"
stop_server
check "STARTTLS then AUTH PLAIN to a submission server" \
  eval 'exited 0 && [ "$server_status" -eq 0 ] && has "^C: AUTH PLAIN" "$tmp/err"'
check "-v: the transcript shows no password" \
  eval 'lacks "s3cret-p4ss" "$tmp/err" && lacks "$(printf "\0alice\0s3cret-p4ss" | base64)" "$tmp/err" && lacks "AGFsaWNlAHMzY3JldC1wNHNz" "$tmp/err"'

start_scenario auth-535
mailer --user alice --password-file "$tmp/password" -f alice@example.org bob@example.net \
  <"$data/plain.eml"
stop_server
check "credentials refused (535): exit 77" \
  eval 'exited 77 && [ "$server_status" -eq 0 ] && has "535" "$tmp/err"'

start_scenario implicit-tls
run "$send" --timeout 10 --local-hostname client.test --server "smtps://127.0.0.1:$port" \
  --ca-file "$ca" bob@example.net <"$data/plain.eml"
stop_server
check "smtps://: implicit TLS" eval 'exited 0 && [ "$server_status" -eq 0 ]'

start_scenario implicit-tls
run "$send" --timeout 10 --local-hostname client.test --server "smtps://127.0.0.1:$port" \
  bob@example.net <"$data/plain.eml"
stop_server
check "smtps:// with a certificate nobody vouches for: exit 77, naming the check" \
  eval 'exited 77 && has "failed verification" "$tmp/err"'

start_scenario lmtp
run "$send" --timeout 10 --local-hostname client.test --server "lmtp://127.0.0.1:$port" \
  bob@example.net carol@example.net <"$data/plain.eml"
stop_server
check "lmtp://: LHLO, and each recipient's own reply after the data" \
  eval 'exited 69 && [ "$server_status" -eq 0 ] && has "refused carol@example.net: 552 5.2.2 carol over quota" "$tmp/err" && has "delivered to 1 of 2" "$tmp/err"'

start_server --scenario "$data/lmtp.scenario" --unix "$tmp/lmtp.sock"
run "$send" --timeout 10 --local-hostname client.test --server "lmtp://$tmp/lmtp.sock" \
  bob@example.net carol@example.net <"$data/plain.eml"
stop_server
check "lmtp:///SOCKET: LMTP over a unix socket" \
  eval 'exited 69 && [ "$server_status" -eq 0 ] && has "delivered to 1 of 2" "$tmp/err"'

start_scenario auth-login
mailer --user alice --password-file "$tmp/password" --auth LOGIN bob@example.net <"$data/plain.eml"
stop_server
check "--auth LOGIN: that mechanism, though the server offers stronger ones" eval 'played 0'

start_scenario auth-none-allowed
mailer --user alice --password-file "$tmp/password" --auth SCRAM-SHA-256 bob@example.net \
  <"$data/plain.eml"
stop_server
check "--auth with no mechanism the server offers: exit 77, nothing sent" \
  eval 'played 77 && has "AUTH PLAIN" "$tmp/err"'

# ---- accounts.conf ---------------------------------------------------------------------

conf=$tmp/accounts.conf
# account FILE-TEXT: writes the accounts file.
account () { printf '%s\n' "$@" >"$conf"; }

start_sink
account "[defaults]" "account=work" "helo=client.test" "" \
  "[work]" "server=smtp://127.0.0.1:$port" "from=work@example.org" "" \
  "[home]" "server=smtp://127.0.0.1:$port" "from=home@example.net"
run "$send" --config "$conf" bob@example.net <"$tmp/nofrom.eml"
check "accounts.conf: the [defaults] account, its server and its from" \
  eval 'exited 0 && [ "$(envelope)" = "from=<work@example.org> to=<bob@example.net>" ] && has "^From: work@example.org" "$(stored)"'
run "$send" --config "$conf" --account home bob@example.net <"$tmp/nofrom.eml"
check "--account: another group of the file" \
  eval 'exited 0 && [ "$(envelope)" = "from=<home@example.net> to=<bob@example.net>" ]'
run "$send" --config "$conf" --account home -f cli@example.org bob@example.net <"$tmp/nofrom.eml"
check "the command line over the account: -f wins over from=" \
  eval 'exited 0 && [ "$(envelope)" = "from=<cli@example.org> to=<bob@example.net>" ]'
stop_server sink

account "[work]" "server=smtp://127.0.0.1:1" "servr=smtp://typo"
run "$send" --config "$conf" bob@example.net <"$data/plain.eml"
check "accounts.conf: an unknown key is exit 78, naming FILE:LINE" \
  eval 'exited 78 && has "$conf:3" "$tmp/err"'

account "[work]" "server=smtp://127.0.0.1:1" "timeout=soon"
run "$send" --config "$conf" bob@example.net <"$data/plain.eml"
check "accounts.conf: a bad value is exit 78, naming FILE:LINE" \
  eval 'exited 78 && has "$conf:3" "$tmp/err"'

run "$send" --config "$conf" --account nosuch bob@example.net <"$data/plain.eml"
check "--account naming no group: a usage error, exit 64" eval 'exited 64 && has "nosuch" "$tmp/err"'

printf 's3cret-p4ss\n' >"$tmp/open-password"
chmod 644 "$tmp/open-password"
account "[work]" "server=smtp://127.0.0.1:1" "user=alice" "password-file=$tmp/open-password"
run "$send" --config "$conf" bob@example.net <"$data/plain.eml"
check "a password file others can read is refused: exit 78, saying why" \
  eval 'exited 78 && has "open-password" "$tmp/err" && lacks "s3cret-p4ss" "$tmp/err"'

start_scenario submission
account "[submission]" "server=smtp://127.0.0.1:$port" "tls=starttls" "ca-file=$ca" \
  "user=alice" "password-command=printf s3cret-p4ss" "auth=PLAIN" "helo=client.test" \
  "from=alice@example.org"
run "$send" --config "$conf" bob@example.net <"$data/plain.eml"
stop_server
check "an msmtp-like submission account: STARTTLS, password-command, auth=PLAIN" eval 'played 0'

start_scenario mail-451
account "[work]" "server=smtp://127.0.0.1:$port" "helo=client.test" "queue=$tmp/account-queue"
run "$send" --config "$conf" -f alice@example.org bob@example.net <"$data/plain.eml"
stop_server
check "the account's queue= keeps a temporary failure: exit 0" \
  eval 'played 0 && has "queued" "$tmp/err" && [ -n "$(find "$tmp/account-queue" -type f)" ]'

# ---- the queue -------------------------------------------------------------------------

queue=$tmp/queue
# The entries of the queue and of its dead.letter/ (the layout of
# send-queue.c: one directory per entry, holding "message").
queued ()
{
  find "$queue" \( -path "$queue/dead.letter" -o -path "$queue/tmp" \) -prune -o \
    -type f -name message -print 2>/dev/null | grep -c .
}
buried () { find "$queue/dead.letter" -type f -name message 2>/dev/null | grep -c . ; }

scenario mail-451 --queue "$queue" -t <"$tmp/bcc.eml"
check "--queue, a temporary failure: exit 0, queued" \
  eval 'played 0 && has "queued" "$tmp/err" && [ "$(queued)" -ge 1 ]'
check "--queue: the queued message has no Bcc header" \
  eval '! grep -rq "^Bcc:" "$queue" && grep -rq "^Subject: -t" "$queue"'

start_sink
run "$send" --timeout 10 --local-hostname client.test --server "smtp://127.0.0.1:$port" \
  --queue "$queue" --flush
stop_server sink
check "--flush: the queued message is delivered to all its recipients, the queue empty" \
  eval 'exited 0 && [ "$(envelope)" = "from=<alice@example.org> to=<bob@example.net>,<carol@example.net>,<dave@example.net>" ] && lacks "^Bcc:" "$(stored)" && [ "$(queued)" -eq 0 ]'

scenario partial-450 --queue "$queue" bob@example.net carol@example.net <"$data/plain.eml"
check "--queue, one recipient refused for now: only that one queued, exit 0" \
  eval 'played 0 && has "refused carol@example.net: 450" "$tmp/err" && [ "$(queued)" -ge 1 ]'
scenario delivery-unknown --queue "$queue" bob@example.net <"$data/plain.eml"
check "--queue, the outcome unknown after the final dot: queued (a duplicate before a loss)" \
  eval 'played 0 && has "may have been delivered" "$tmp/err" && [ "$(queued)" -eq 2 ]'

start_sink
run "$send" --timeout 10 --server "smtp://127.0.0.1:$port" --queue "$queue" --flush
stop_server sink
check "--flush: the one recipient left gets it, not the one who had it; the other queued one too" \
  eval 'exited 0 && grep -q "to=<carol@example.net> size" "$tmp/server.out" && grep -q "to=<bob@example.net> size" "$tmp/server.out" && [ "$(grep -c "^message " "$tmp/server.out")" -eq 2 ] && [ "$(queued)" -eq 0 ]'

scenario partial-550 --queue "$queue" bob@example.net carol@example.net <"$data/plain.eml"
check "--queue, one recipient refused for good: only that one buried, with its reply, exit 69" \
  eval 'played 69 && [ "$(buried)" -eq 1 ] && grep -rq "carol@example.net: 550 5.1.1" "$queue/dead.letter" && [ "$(queued)" -eq 0 ]'
rm -rf "$queue/dead.letter"

scenario mail-550 --queue "$queue" bob@example.net <"$data/plain.eml"
check "--queue, a permanent failure: exit 69, buried in dead.letter/ with the reason" \
  eval 'played 69 && [ "$(buried)" -ge 1 ] && grep -rq "sender rejected" "$queue/dead.letter" && [ "$(queued)" -eq 0 ]'

queue=$tmp/queue2
scenario mail-451 --queue "$queue" bob@example.net carol@example.net <"$data/plain.eml"
start_scenario partial-550
run "$send" --timeout 10 --local-hostname client.test --server "smtp://127.0.0.1:$port" \
  --queue "$queue" --flush
stop_server
check "--flush, one recipient refused for good: it alone is buried, with its reply; exit 69" \
  eval 'played 69 && [ "$(queued)" -eq 0 ] && [ "$(buried)" -eq 1 ] && grep -rq "carol@example.net: 550 5.1.1" "$queue/dead.letter" && grep -rq "^recipients=carol@example.net;\?$" "$queue/dead.letter"'

run "$send" --server smtp://127.0.0.1:1 --flush
check "--flush without a queue: exit 64" eval 'exited 64'

# ---- the man page -------------------------------------------------------------------------

"$send" --help >"$tmp/help"
check_man_page "$man_page" "$tmp/help" SYNOPSIS OPTIONS "SENDMAIL COMPATIBILITY" "EXIT STATUS" \
  ACCOUNTS QUEUE FILES EXAMPLES

tap_end
