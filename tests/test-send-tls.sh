#!/usr/bin/env bash
# test-send-tls.sh: smtpkit-send over TLS to the fake server's sink (TAP).
#
#   test-send-tls.sh SMTPKIT_SEND SMTPKIT_FAKE_SERVER
#
# --tls starttls and --tls implicit with --ca-file naming the fake
# server's CA deliver the message; without --ca-file the certificate is
# refused (EX_NOPERM, 77), and the error names the host and the failed
# check. The sink's "message N: … file=PATH" line names the stored
# message.
#
# Under meson test --setup valgrind, SMTPKIT_TEST_WRAPPER holds valgrind's
# command line (words separated by spaces): both programs run under it,
# and exit with status 99 when valgrind finds an error.

set -u

# shellcheck source=tests/tap.sh
source "$(dirname "$0")/tap.sh"
# shellcheck source=tests/send-common.sh
source "$(dirname "$0")/send-common.sh"

# run_send ARGS...: smtpkit-send, bounded in time; sets $status.
run_send ()
{
  status=0
  timeout 60 "${wrapper[@]}" "$send" --timeout 10 --server "smtp://127.0.0.1:$port" \
    --from alice@example.org --subject "over TLS" --body "hello" "$@" bob@example.net \
    >"$tmp/out" 2>"$tmp/err" || status=$?
}

delivered ()
{
  local file

  file=$(stored)
  [ "$status" -eq 0 ] && [ "$(grep -c '^message ' "$tmp/server.out")" -eq 1 ] &&
    grep -q '^hello' "$file"
}

refused_certificate ()
{
  [ "$status" -eq 77 ] &&
    grep -q "TLS certificate of 127.0.0.1:$port failed verification (unknown issuer" "$tmp/err" &&
    grep -q "set tls-ca-file" "$tmp/err"
}

for mode in starttls implicit-tls; do
  tls=${mode%-tls}
  rm -rf "$tmp/spool"
  mkdir -p "$tmp/spool"
  start_server --sink "$tmp/spool" "--$mode"

  run_send --tls "$tls" --ca-file "$ca"
  check "--tls $tls --ca-file: delivered" delivered

  run_send --tls "$tls"
  check "--tls $tls without --ca-file: refused (77), naming host and check" refused_certificate

  run_send --tls "$tls" --ca-file "$tmp/nonexistent.pem"
  check "--tls $tls --ca-file MISSING: a usage error (64) naming the file" \
    eval '[ "$status" -eq 64 ] && grep -q "ca-file: .*nonexistent.pem" "$tmp/err"'

  stop_server sink
  cp "$tmp/server.out" "$tmp/err"
  check "fake server --$mode: exits cleanly on SIGTERM" eval '[ "$server_status" -eq 0 ]'
done

run_send --tls bogus
check "--tls bogus: a usage error (64)" \
  eval '[ "$status" -eq 64 ] && grep -q -- "tls: \"bogus\"" "$tmp/err"'

tap_end
