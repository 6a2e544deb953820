# send-common.sh: what the smtpkit-send test scripts share, sourced by
# them after tap.sh:
#
#   $send, $server        the programs: the script's first two arguments
#   $wrapper              SMTPKIT_TEST_WRAPPER as words (valgrind under
#                         meson test --setup valgrind), for both programs
#   $tmp                  a folder of the script's own, removed at exit
#                         with the fake server still running
#   start_server ARGS...  the fake server on a free port (or on --unix
#                         PATH); sets $port and $ca from what it prints
#   stop_server [sink]    stops it (a scenario is first given 5 s to end
#                         by itself); sets $server_status
#   stored, envelope      the file and the envelope of the last message
#                         of the sink's "message N: … file=PATH" lines
#
# SPDX-License-Identifier: LGPL-2.1-or-later

# The mailer runs with GIO's default proxy resolver, as it does for its
# users (the other tests use the dummy one).
unset GIO_USE_PROXY_RESOLVER

send=$1
server=$2
read -r -a wrapper <<<"${SMTPKIT_TEST_WRAPPER:-}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-send.XXXXXX")
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

start_server ()
{
  local listen=(--listen 127.0.0.1:0 --port-file "$tmp/port")

  [[ " $* " = *" --unix "* ]] && listen=()
  rm -f "$tmp/port" "$tmp/server.out"
  "${wrapper[@]}" "$server" "${listen[@]}" "$@" >"$tmp/server.out" 2>&1 &
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
  server_status=0
  [ -n "$server_pid" ] || return
  if [ "${1:-}" != sink ]; then
    for _ in $(seq 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  kill -TERM "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null || server_status=$?
  server_pid=
}

stored () { sed -n 's/^message [0-9]*: .* file=//p' "$tmp/server.out" | tail -n 1; }
envelope () { sed -n 's/^message [0-9]*: \(from=.* to=[^ ]*\) size=.*/\1/p' "$tmp/server.out" | tail -n 1; }
