#!/usr/bin/env bash
# test-examples.sh: the programs of examples/ against the fake server (TAP).
#
#   test-examples.sh SMTPKIT_FAKE_SERVER SEND_ASYNC_C [--python PYTHON SCRIPT]
#                    [--gjs GJS SCRIPT] [--vala SEND_ASYNC_VALA]
#                    [--side-by-side PYTHON SCRIPT PAGE OVERRIDES_DIR]
#
# Each example sends one message to a fresh sink that requires STARTTLS
# and AUTH: it exits 0, and the sink stores the message from the given
# sender to the given recipient, with its body, over TLS and as user u.
# With a wrong password it exits non-zero with the server's 535 on
# stderr; with too few arguments, 2 and a usage message. The sink refuses
# *@nosuch.test with 550 5.1.1: given one such recipient and another, an
# example exits 3, prints "refused ADDRESS: 550 5.1.1 ..." and the other
# recipient alone gets the message; given only such recipients, it exits
# 1, prints each of them so, and nothing is stored. The bindings'
# examples are given only where the typelib is built; a Python without
# PyGObject skips its checks.
#
# smtplib-side-by-side.py runs, with the overrides of OVERRIDES_DIR,
# against a sink that offers STARTTLS and AUTH without requiring them:
# every pair of smtplib and libsmtpkit programs gives the same result
# (exit 0), the results are the ones PAGE (docs/smtplib-python.md) tells,
# the sink stores the six messages the pairs send; and each Python block
# of PAGE is, indented, the body of one of the script's functions.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -u

# shellcheck source=tests/tap.sh
source "$(dirname "$0")/tap.sh"

# The examples run with GIO's default proxy resolver, as they would for
# their readers.
unset GIO_USE_PROXY_RESOLVER

server=$1
shift
side_by_side=()
examples=(c "$1")
shift
while [ $# -gt 0 ]; do
  case $1 in
    --python) examples+=(python "$2 $3"); shift 3 ;;
    # send-async.js is an ES module.
    --gjs) examples+=(gjs "$2 -m $3"); shift 3 ;;
    --vala) examples+=(vala "$2"); shift 2 ;;
    --side-by-side) side_by_side=("$2" "$3" "$4" "$5"); shift 5 ;;
    *) echo "Bail out! unknown argument $1"; exit 1 ;;
  esac
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-examples.XXXXXX")
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

# start_server [OPTIONS...]: a sink in a fresh $tmp/sink, requiring
# STARTTLS and AUTH unless OPTIONS are given; sets $port and $ca.
start_server ()
{
  rm -rf "$tmp/sink" "$tmp/port" "$tmp/server.out"
  mkdir "$tmp/sink"
  [ $# -gt 0 ] || set -- --require-tls --require-auth
  "$server" --sink "$tmp/sink" --starttls --auth PLAIN --user u --password p \
    "$@" --refuse-rcpt '*@nosuch.test=550 5.1.1 no such user' --listen 127.0.0.1:0 --port-file "$tmp/port" \
    >"$tmp/server.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    grep -q '^listening on' "$tmp/server.out" 2>/dev/null && break
    sleep 0.1
  done
  port=$(cat "$tmp/port" 2>/dev/null)
  ca=$(sed -n 's/^ca-file: //p' "$tmp/server.out")
}

stop_server ()
{
  kill -TERM "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=
}

# run PASSWORD [TO...]: the example of $command (words), bounded in
# time, to bob@example.net by default; sets $status.
run ()
{
  local password=$1
  shift
  [ $# -gt 0 ] || set -- bob@example.net
  status=0
  # shellcheck disable=SC2086 # $command is a program and its script
  timeout 60 $command 127.0.0.1 "$port" "$ca" u "$password" alice@example.org "$@" \
    >"$tmp/out" 2>"$tmp/err" || status=$?
}

delivered ()
{
  local line file json

  line=$(grep '^message ' "$tmp/server.out")
  file=${line##* file=}
  json="$tmp/sink/envelopes/$(basename "$file").json"
  [ "$status" -eq 0 ] && [ "$(grep -c '^message ' "$tmp/server.out")" -eq 1 ] &&
    [[ $line = *" from=<alice@example.org> to=<bob@example.net> "* ]] &&
    grep -q '^Hello from libsmtpkit' "$file" &&
    grep -q '"tls" : true' "$json" && grep -q '"auth_user" : "u"' "$json"
}

refused ()
{
  [ "$status" -ne 0 ] && grep -q '535 5.7.8 Error: authentication failed' "$tmp/err" &&
    ! grep -q '^message ' "$tmp/server.out"
}

# One of bob@example.net and carol@nosuch.test refused: exit 3, carol
# named with her 550 (and nobody else), one message, to bob alone, in
# the Maildir and its envelope.
one_refused ()
{
  local line file json

  line=$(grep '^message ' "$tmp/server.out")
  file=${line##* file=}
  json="$tmp/sink/envelopes/$(basename "$file").json"
  [ "$status" -eq 3 ] &&
    grep -qx 'refused carol@nosuch.test: 550 5.1.1 no such user' "$tmp/out" &&
    [ "$(grep -c '^refused ' "$tmp/out")" -eq 1 ] &&
    [ "$(grep -c '^message ' "$tmp/server.out")" -eq 1 ] &&
    [[ $line = *" from=<alice@example.org> to=<bob@example.net> "* ]] &&
    grep -q '^Hello from libsmtpkit' "$file" &&
    grep -q '"address" : "bob@example.net"' "$json" && ! grep -q 'nosuch' "$json"
}

# Both of carol@nosuch.test and dave@nosuch.test refused: exit 1, the
# error on stderr, each named with the 550 the error carries, nothing
# stored.
all_refused ()
{
  [ "$status" -eq 1 ] && [ -s "$tmp/err" ] &&
    grep -qx 'refused carol@nosuch.test: 550 5.1.1 no such user' "$tmp/out" &&
    grep -qx 'refused dave@nosuch.test: 550 5.1.1 no such user' "$tmp/out" &&
    [ "$(grep -c '^refused ' "$tmp/out")" -eq 2 ] &&
    ! grep -q '^message ' "$tmp/server.out" &&
    [ -z "$(ls "$tmp/sink/new" 2>/dev/null)" ]
}

# What smtplib-side-by-side.py printed, for both sides of each pair, and
# the six messages its pairs sent, to bob alone: the four of the first
# two pairs over TLS as u, the two of send_message in clear.
side_by_side_results ()
{
  local name result side

  [ "$status" -eq 0 ] || return 1
  while IFS='|' read -r name result; do
    for side in smtplib libsmtpkit; do
      grep -qxF "$name: $side $result" "$tmp/out" ||
        { echo "no line: $name: $side $result" >>"$tmp/err"; return 1; }
    done
  done <<'EOF'
sendmail|{'carol@nosuch.test': (550, b'5.1.1 no such user')}
starttls_mode|'sent'
extensions|(250, True, True, ' PLAIN')
send_message|['carol@nosuch.test']
recipients_refused|{'carol@nosuch.test': (550, b'5.1.1 no such user')}
sender_refused|(553, b'5.7.1 sender denied', 'mallory@denied.test')
wrong_password|(535, b"5.7.8 Error: authentication failed: wrong password for 'u'")
commands|[(250, b'2.0.0 Ok'), (250, b'2.0.0 Ok'), (250, b'2.0.0 Ok')]
EOF
  [ "$(grep -c '^message ' "$tmp/server.out")" -eq 6 ] &&
    [ "$(grep -c '^message .* from=<alice@example.org> to=<bob@example.net> ' "$tmp/server.out")" -eq 6 ] &&
    [ "$(grep -l '"tls" : true' "$tmp"/sink/envelopes/*.json |
         xargs grep -l '"auth_user" : "u"' | wc -l)" -eq 4 ]
}

# page_is_script COMMAND...: COMMAND, its output kept for check.
page_is_script ()
{
  "$@" >"$tmp/out" 2>"$tmp/err"
}

set -- "${examples[@]}"
while [ $# -gt 0 ]; do
  lang=$1 command=$2
  shift 2
  if [ "$lang" = python ] && ! ${command%% *} -c 'import gi' 2>/dev/null; then
    echo "ok $((n + 1)) # SKIP python: no PyGObject in ${command%% *}"
    n=$((n + 1))
    continue
  fi

  status=0
  # shellcheck disable=SC2086
  timeout 60 $command 127.0.0.1 >"$tmp/out" 2>"$tmp/err" || status=$?
  check "$lang: too few arguments: a usage message, exit 2" \
    eval '[ "$status" -eq 2 ] && grep -q "^usage: " "$tmp/err"'

  start_server
  run p
  check "$lang: sends over STARTTLS as u" delivered
  stop_server

  start_server
  run wrong
  check "$lang: a wrong password fails with the 535 on stderr" refused
  stop_server

  start_server
  run p bob@example.net carol@nosuch.test
  check "$lang: one of two recipients refused: exit 3, its 550 printed, the other gets the message" \
    one_refused
  stop_server

  start_server
  run p carol@nosuch.test dave@nosuch.test
  check "$lang: every recipient refused: exit 1, each printed with its 550, nothing stored" \
    all_refused
  stop_server
done

if [ ${#side_by_side[@]} -gt 0 ]; then
  python=${side_by_side[0]} script=${side_by_side[1]} page=${side_by_side[2]}
  overrides=${side_by_side[3]}
  if ! "$python" -c 'import gi' 2>/dev/null; then
    echo "ok $((n + 1)) # SKIP smtplib side by side: no PyGObject in $python"
    echo "ok $((n + 2)) # SKIP smtplib side by side: no PyGObject in $python"
    n=$((n + 2))
  else
    start_server --reply 'mail:*@denied.test=553 5.7.1 sender denied'
    status=0
    PYTHONPATH=$overrides timeout 120 "$python" "$script" 127.0.0.1 "$port" "$ca" u p \
      >"$tmp/out" 2>"$tmp/err" || status=$?
    stop_server
    check "smtplib side by side: each pair gives the same result, the one the page tells" \
      side_by_side_results
    check "smtplib side by side: the Python blocks of $(basename "$page") are the script's code" \
      page_is_script "$python" -c '
import re, sys
page, script = (open(path).read() for path in sys.argv[1:3])
blocks = re.findall(r"^```python\n(.*?)^```$", page, re.M | re.S)
missing = [block for block in blocks
           if "".join("    " + line if line.strip() else line
                      for line in block.splitlines(True)) not in script]
for block in missing:
    print("not in the script:\n" + block, file=sys.stderr)
sys.exit(1 if missing or len(blocks) < 16 else 0)' "$page" "$script"
  fi
fi

tap_end
