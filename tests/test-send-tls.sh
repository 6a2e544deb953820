#!/usr/bin/env bash
# test-send-tls.sh: smtpkit-send over TLS to the fake server's sink (TAP).
#
#   test-send-tls.sh SMTPKIT_SEND SMTPKIT_FAKE_SERVER
#
# --tls starttls and --tls implicit with --ca-file naming the fake
# server's CA deliver the message; without --ca-file the certificate is
# refused, and the error names the host and the failed check.
#
# Under meson test --setup valgrind, SMTPKIT_TEST_WRAPPER holds valgrind's
# command line (words separated by spaces): both programs run under it,
# and exit with status 99 when valgrind finds an error.

set -u

# GIO's dummy proxy resolver, which the other tests use, makes
# LeakSanitizer's thread-stopping tracer crash at this program's exit
# ("Tracer caught signal 11"; valgrind finds nothing wrong): the mailer
# runs with GIO's default resolver, as it does for its users.
unset GIO_USE_PROXY_RESOLVER

send=$1
server=$2
read -r -a wrapper <<<"${SMTPKIT_TEST_WRAPPER:-}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-send-tls.XXXXXX")
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

n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=1; echo "not ok $n - $1"; sed 's/^/# /' "$tmp/err" 2>/dev/null; }

# start_server MODE: a sink with --starttls or --implicit-tls; sets $port
# and $ca from what it prints.
start_server ()
{
  rm -rf "$tmp/spool" "$tmp/port" "$tmp/server.out"
  mkdir -p "$tmp/spool"
  "${wrapper[@]}" "$server" --sink "$tmp/spool" "--$1" --listen 127.0.0.1:0 --port-file "$tmp/port" \
    >"$tmp/server.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    [ -s "$tmp/port" ] && grep -q '^listening on' "$tmp/server.out" && break
    sleep 0.1
  done
  port=$(cat "$tmp/port")
  ca=$(sed -n 's/^ca-file: //p' "$tmp/server.out")
}

# stop_server: SIGTERM, to which the fake server answers by exiting; sets
# $server_status.
stop_server ()
{
  server_status=0
  kill -TERM "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null || server_status=$?
  server_pid=
}

# run_send ARGS...: smtpkit-send, bounded in time; sets $status.
run_send ()
{
  status=0
  timeout 60 "${wrapper[@]}" "$send" --timeout 10 --server "127.0.0.1:$port" --from alice@example.org \
    --subject "over TLS" --body "hello" "$@" bob@example.net >"$tmp/out" 2>"$tmp/err" \
    || status=$?
}

for mode in starttls implicit-tls; do
  tls=${mode%-tls}
  start_server "$mode"

  run_send --tls "$tls" --ca-file "$ca"
  if [ "$status" -eq 0 ] && [ "$(ls "$tmp"/spool/new/* | wc -l)" -eq 1 ] &&
     grep -q '^hello' "$tmp"/spool/new/*; then
    ok "--tls $tls --ca-file: delivered"
  else
    not_ok "--tls $tls --ca-file: delivered (exit $status)"
  fi

  run_send --tls "$tls"
  if [ "$status" -eq 1 ] &&
     grep -q "TLS certificate of 127.0.0.1:$port failed verification (unknown issuer" "$tmp/err" &&
     grep -q "set tls-ca-file" "$tmp/err"; then
    ok "--tls $tls without --ca-file: refused, naming host and check"
  else
    not_ok "--tls $tls without --ca-file: refused, naming host and check (exit $status)"
  fi

  run_send --tls "$tls" --ca-file "$tmp/nonexistent.pem"
  if [ "$status" -eq 1 ] && grep -q "tls-ca-file .*nonexistent.pem" "$tmp/err"; then
    ok "--tls $tls --ca-file MISSING: fails naming the file"
  else
    not_ok "--tls $tls --ca-file MISSING: fails naming the file (exit $status)"
  fi
  stop_server
  if [ "$server_status" -eq 0 ]; then
    ok "fake server --$mode: exits cleanly on SIGTERM"
  else
    cp "$tmp/server.out" "$tmp/err"
    not_ok "fake server --$mode: exits cleanly on SIGTERM (exit $server_status)"
  fi
done

run_send --tls bogus
if [ "$status" -eq 1 ] && grep -q -- "--tls bogus" "$tmp/err"; then
  ok "--tls bogus: a usage error"
else
  not_ok "--tls bogus: a usage error (exit $status)"
fi

echo "1..$n"
exit "$failed"
