#!/usr/bin/env bash
# quickstart.sh: the two commands of the README.
#
#   bash build-aux/quickstart.sh demo   build, then send one message to the
#                                       fake server and show both sides
#   bash build-aux/quickstart.sh test   build twice (normal, ASan+UBSan) and
#                                       run the whole test suite in each,
#                                       then each fuzz target for 30 s
#   bash build-aux/quickstart.sh valgrind
#                                       build for valgrind and run the whole
#                                       test suite under memcheck
#
# Both first install the Debian packages the build needs, when some are
# missing (as root, or through sudo). Works from any checkout, with or
# without a terminal (CI).

set -euo pipefail

# Debian 12 package names. gcc's AddressSanitizer and UBSan runtimes
# (libasan8, libubsan1) come with gcc-12 through libgcc-12-dev; they are
# listed so that the sanitizer build says what it relies on. clang and
# its runtimes (libclang-rt-14-dev: libFuzzer) build the fuzz targets
# that `test` runs through build-aux/fuzz.sh.
PACKAGES=(
  meson ninja-build pkg-config gcc libasan8 libubsan1
  clang libclang-rt-14-dev
  # gio-querymodules (libglib2.0-bin) writes the plugins' giomodule.cache.
  libglib2.0-dev libglib2.0-bin glib-networking
  libgnutls28-dev gnutls-bin
  libsasl2-dev libsasl2-modules libsasl2-modules-db sasl2-bin
  libgmime-3.0-dev
  gobject-introspection libgirepository1.0-dev gi-docgen
  libjson-glib-dev
  # smtpkit-send keeps passwords in the Secret Service; its test runs a
  # private gnome-keyring on a private session bus and checks the stored
  # item with secret-tool (tests/run-with-keyring.sh).
  libsecret-1-dev gnome-keyring libsecret-tools dbus-daemon
  python3 curl
  # The bindings' tests: PyGObject (with the GMime typelib, for
  # send_message) and GJS (tests/test-python.py, tests/test-gjs.js).
  python3-gi gir1.2-gmime-3.0 gjs
  # The Vala binding (smtpkit-1.vapi) and examples/send-async.vala.
  valac
  valgrind
  # bench/run's libcurl anchor (bench/curl-send.c); benchmarks only.
  libcurl4-gnutls-dev
  # The interop tests (tests/interop/) start private instances of these
  # servers; the install neither configures nor starts the system's.
  postfix dovecot-core dovecot-lmtpd
)

BUILD_DIR=_build
ASAN_BUILD_DIR=_build-asan
# shellcheck disable=SC2054 # the commas belong to b_sanitize's value
ASAN_SETUP_OPTIONS=(
  -Db_sanitize=address,undefined
  -Db_lundef=false
  -Dintrospection=disabled
  -Dbuildtype=debug
)

# A plain debug build: valgrind and the sanitizers do not mix.
VALGRIND_BUILD_DIR=_build-vg
VALGRIND_SETUP_OPTIONS=(
  -Db_sanitize=none
  -Dbuildtype=debug
)

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

say () { printf 'quickstart: %s\n' "$*" >&2; }
die () { printf 'quickstart: error: %s\n' "$*" >&2; exit 1; }

usage ()
{
  cat >&2 <<EOF
usage: bash build-aux/quickstart.sh demo|test|valgrind

  demo   build into $BUILD_DIR, send a message to the fake SMTP server with
         smtpkit-send, and print the SMTP transcript and the message received
  test   build into $BUILD_DIR and $ASAN_BUILD_DIR (AddressSanitizer +
         UndefinedBehaviorSanitizer) and run the test suite in both, then
         run each fuzz target for 30 s (build-aux/fuzz.sh; FUZZ_SECONDS=N
         for another time)
  valgrind
         build into $VALGRIND_BUILD_DIR and run the test suite under
         valgrind's memcheck (meson test --setup valgrind)
EOF
  exit 2
}

# ---- packages --------------------------------------------------------------

install_packages ()
{
  local missing=() pkg sudo=()

  if ! command -v dpkg-query >/dev/null 2>&1; then
    say "not a Debian system: make sure these (or your distribution's equivalents) are installed:"
    say "  ${PACKAGES[*]}"
    return 0
  fi

  for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi

  say "installing missing packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      die "packages missing (${missing[*]}) and this is neither root nor has sudo: run as root, or install them with: apt-get install ${missing[*]}"
    fi
    # Without a terminal sudo cannot ask for a password: fail rather than hang.
    if [ -t 0 ]; then
      sudo=(sudo)
    else
      sudo=(sudo -n)
    fi
  fi

  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q \
    || die "apt-get update failed (is the Debian mirror reachable? are you root or allowed to sudo?)"

  # Postfix asks what kind of mail system this is: none. The tests write
  # their own main.cf; the system's stays unconfigured.
  printf '%s\n' \
    'postfix postfix/main_mailer_type select No configuration' \
    'postfix postfix/mailname string localhost' \
    | "${sudo[@]}" debconf-set-selections \
    || die "debconf-set-selections failed: cannot preseed postfix's questions"

  no_service_starts "${sudo[@]}"
  local status=0
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" || status=$?
  allow_service_starts "${sudo[@]}"
  [ "$status" -eq 0 ] || die "apt-get install ${missing[*]} failed"
}

# Installing postfix and dovecot-core would start their system services
# (and fail the install where none can run). A policy-rc.d that exits 101
# forbids every start for the time of the install (invoke-rc.d and
# deb-systemd-invoke ask it); one the machine already has is left alone.
policy_rc_d=/usr/sbin/policy-rc.d
policy_rc_d_ours=

no_service_starts ()
{
  if [ -e "$policy_rc_d" ]; then
    return 0
  fi
  policy_rc_d_ours=1
  trap 'allow_service_starts '"$*" EXIT
  if ! printf '#!/bin/sh\n# quickstart.sh: no service starts while packages install\nexit 101\n' \
      | "$@" tee "$policy_rc_d" >/dev/null \
    || ! "$@" chmod 755 "$policy_rc_d"; then
    die "cannot write $policy_rc_d to keep services from starting during the install"
  fi
}

allow_service_starts ()
{
  if [ -n "$policy_rc_d_ours" ]; then
    "$@" rm -f -- "$policy_rc_d"
    policy_rc_d_ours=
  fi
  trap - EXIT
}

# ---- building --------------------------------------------------------------

# stale_options BUILD_DIR -Dname=value...: print the options whose value in
# BUILD_DIR differs from the one given.
stale_options ()
{
  local dir=$1
  shift

  meson introspect --buildoptions "$dir" | python3 -c '
import json, sys
current = {o["name"]: o["value"] for o in json.load(sys.stdin)}
for arg in sys.argv[1:]:
    name, value = arg[2:].split("=", 1)
    have = current.get(name)
    have = ",".join(have) if isinstance(have, list) else str(have).lower()
    if have != value:
        print(arg)
' "$@"
}

# configure BUILD_DIR [meson setup options...]: set up a build directory
# unless it is already configured (then ninja alone updates it).
configure ()
{
  local dir=$1 stale
  shift

  if [ -f "$dir/build.ninja" ]; then
    if [ $# -gt 0 ]; then
      # Configured by hand with other options? Put ours back.
      stale=$(stale_options "$dir" "$@") || return 1
      if [ -n "$stale" ]; then
        say "$dir was configured differently; setting $(echo "$stale" | tr '\n' ' ')"
        meson configure "$dir" "$@" >/dev/null || return 1
      fi
    fi
    return 0
  fi
  if [ -f "$dir/meson-private/coredata.dat" ]; then
    # A setup that was interrupted: finish it.
    meson setup --reconfigure "$dir" "$@"
  else
    meson setup "$dir" "$@"
  fi
}

build ()
{
  local dir=$1
  shift

  say "building in $dir"
  configure "$dir" "$@" && ninja -C "$dir"
}

# ---- demo ------------------------------------------------------------------

demo_tmp=
server_pid=

demo_cleanup ()
{
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$demo_tmp" ]; then
    rm -rf -- "$demo_tmp"
  fi
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s for at most SECONDS.
wait_for ()
{
  local tries=$(($1 * 10))
  shift

  while [ "$tries" -gt 0 ]; do
    if "$@"; then
      return 0
    fi
    sleep 0.1
    tries=$((tries - 1))
  done
  return 1
}

port_file_ready () { [ -s "$demo_tmp/port" ] || ! kill -0 "$server_pid" 2>/dev/null; }
server_exited () { ! kill -0 "$server_pid" 2>/dev/null; }

show_server_log ()
{
  say "fake server output:"
  sed 's/^/  /' "$demo_tmp/server.log" >&2 || true
}

demo ()
{
  local server=$BUILD_DIR/fake-server/smtpkit-fake-server
  local send=$BUILD_DIR/tools/smtpkit-send
  local port send_status=0 server_status=0 status=0
  local messages=()

  install_packages
  build "$BUILD_DIR" || die "the build in $BUILD_DIR failed"
  [ -x "$server" ] || die "$server was not built"
  [ -x "$send" ] || die "$send was not built"

  demo_tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-demo.XXXXXX")
  trap demo_cleanup EXIT
  mkdir -p "$demo_tmp/spool"

  "$server" --sink "$demo_tmp/spool" \
    --extension "SIZE 10485760" --extension 8BITMIME --extension PIPELINING \
    --listen 127.0.0.1:0 --port-file "$demo_tmp/port" --max-messages 1 \
    >"$demo_tmp/server.log" 2>&1 &
  server_pid=$!

  if ! wait_for 10 port_file_ready; then
    show_server_log
    die "the fake server did not write its port to $demo_tmp/port within 10 seconds"
  fi
  if [ ! -s "$demo_tmp/port" ]; then
    wait "$server_pid" || server_status=$?
    server_pid=
    show_server_log
    die "the fake server exited (status $server_status) before writing its port"
  fi
  port=$(cat "$demo_tmp/port")
  case $port in
    '' | *[!0-9]*) die "the fake server's port file holds '$port', not a port number" ;;
  esac

  # --timeout bounds each wait for the server; timeout(1) bounds the whole
  # run, so that the demo ends whatever happens.
  SMTPKIT_PLUGIN_PATH="$REPO_ROOT/$BUILD_DIR/plugins" \
    timeout 120 "$send" -v --timeout 30 --server "smtp://127.0.0.1:$port" \
      --from alice@example.org \
      --subject "Hello from libsmtpkit" \
      --body "Hi Bob, hi Carol,

this message went through libsmtpkit's smtpkit-send to its fake server.
.
(The line above is a lone dot: it travels dot-stuffed.)
" \
      bob@example.net carol@example.net \
      >"$demo_tmp/send.out" 2>"$demo_tmp/transcript" || send_status=$?

  echo "== SMTP transcript =="
  cat "$demo_tmp/transcript"
  cat "$demo_tmp/send.out"
  if [ "$send_status" -eq 124 ]; then
    say "smtpkit-send did not finish within 120 seconds"
    status=1
  elif [ "$send_status" -ne 0 ]; then
    say "smtpkit-send failed (exit status $send_status)"
    status=1
  fi

  if ! wait_for 10 server_exited; then
    say "the fake server is still running 10 seconds after the client left; stopping it"
    kill -TERM "$server_pid" 2>/dev/null || true
    if ! wait_for 5 server_exited; then
      kill -KILL "$server_pid" 2>/dev/null || true
    fi
  fi
  wait "$server_pid" || server_status=$?
  server_pid=
  if [ "$server_status" -ne 0 ]; then
    show_server_log
    say "the fake server failed (exit status $server_status)"
    status=1
  fi

  echo
  echo "== message as the server received it =="
  # The sink names the file of each message it stored on a line of its
  # own: "message N: from=<…> to=<…> size=S file=PATH".
  mapfile -t messages < <(sed -n 's/^message [0-9]*: .* file=//p' "$demo_tmp/server.log")
  if [ ${#messages[@]} -eq 1 ] && [ -f "${messages[0]}" ]; then
    cat "${messages[0]}"
  else
    show_server_log
    say "expected one message in the fake server's spool, found ${#messages[@]}"
    status=1
  fi

  return "$status"
}

# ---- test ------------------------------------------------------------------

total_passed=0
total_failed=0
total_skipped=0
failures=()

# run_suite BUILD_DIR [meson test options...]: run the test suite and add
# meson's summary counts to the totals.
run_suite ()
{
  local dir=$1 log status=0 ok fail xfail xpass skipped timeout
  shift

  log=$(mktemp "${TMPDIR:-/tmp}/smtpkit-test.XXXXXX")
  say "running the test suite in $dir"
  meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" 2>&1 | tee "$log" || status=$?

  # meson's closing summary: "Ok: N", "Expected Fail: N", "Fail: N",
  # "Unexpected Pass: N", "Skipped: N", "Timeout: N".
  read -r ok xfail fail xpass skipped timeout < <(awk '
    /^Ok:/              { ok = $2 }
    /^Expected Fail:/   { xfail = $3 }
    /^Fail:/            { fail = $2 }
    /^Unexpected Pass:/ { xpass = $3 }
    /^Skipped:/         { skipped = $2 }
    /^Timeout:/         { timeout = $2 }
    END { printf "%d %d %d %d %d %d\n", ok, xfail, fail, xpass, skipped, timeout }
  ' "$log")
  rm -f -- "$log"

  total_passed=$((total_passed + ok + xfail))
  total_failed=$((total_failed + fail + xpass + timeout))
  total_skipped=$((total_skipped + skipped))

  if [ "$status" -ne 0 ] && [ $((fail + xpass + timeout)) -eq 0 ]; then
    # meson failed without a failing test to show for it (no summary, a
    # crash of the runner): count it so the totals cannot read as success.
    failures+=("meson test in $dir exited with status $status (counted as 1 failure)")
    total_failed=$((total_failed + 1))
  elif [ "$status" -ne 0 ]; then
    failures+=("tests failed in $dir")
  fi
}

# run_fuzz: every fuzz target for FUZZ_SECONDS (30 s) when clang is there
# (it is among PACKAGES): one pass per target that ran clean, one
# failure per target with a finding (build-aux/fuzz.sh's PASS and FAIL
# lines).
run_fuzz ()
{
  local seconds=${FUZZ_SECONDS:-30} log status=0 passed failed

  if ! command -v clang >/dev/null 2>&1; then
    say "clang is not installed: the fuzz targets are skipped (counted as 1 skipped)"
    total_skipped=$((total_skipped + 1))
    return 0
  fi

  log=$(mktemp "${TMPDIR:-/tmp}/smtpkit-fuzz.XXXXXX")
  say "running each fuzz target for $seconds s"
  bash build-aux/fuzz.sh "$seconds" 2>&1 | tee "$log" || status=$?
  passed=$(grep -c '^fuzz: PASS ' "$log" || true)
  failed=$(grep -c '^fuzz: FAIL ' "$log" || true)
  rm -f -- "$log"

  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failures+=("build-aux/fuzz.sh exited with status $status (counted as 1 failure)")
    total_failed=$((total_failed + 1))
  elif [ "$failed" -ne 0 ]; then
    failures+=("fuzz targets found something: see the FAIL lines above and _build-fuzz/fuzz/findings")
  fi
}

# report_totals: print the failures and the totals; fail if any failed.
report_totals ()
{
  local failure

  echo
  for failure in "${failures[@]}"; do
    say "$failure"
  done
  echo "$total_passed passed, $total_failed failed, $total_skipped skipped"

  [ "$total_failed" -eq 0 ] && [ ${#failures[@]} -eq 0 ]
}

build_failed ()
{
  failures+=("the build in $1 failed (counted as 1 failure)")
  total_failed=$((total_failed + 1))
}

run_tests ()
{
  install_packages

  if build "$BUILD_DIR"; then
    run_suite "$BUILD_DIR"
  else
    build_failed "$BUILD_DIR"
  fi

  # The sanitizers' runtime options; tests/meson.build sets the same
  # ASAN_OPTIONS and LSAN_OPTIONS on each test (and says why
  # intercept_tls_get_addr=0), these cover anything else that runs. G_SLICE=always-malloc makes GLib 2.74's slice allocator
  # plain malloc, so that LeakSanitizer sees every block.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS="suppressions=$REPO_ROOT/tests/lsan.supp:print_suppressions=0"
  export G_SLICE=always-malloc
  # Sanitized code runs a few times slower: give each test more time.
  if build "$ASAN_BUILD_DIR" "${ASAN_SETUP_OPTIONS[@]}"; then
    run_suite "$ASAN_BUILD_DIR" --timeout-multiplier 3
  else
    build_failed "$ASAN_BUILD_DIR"
  fi

  run_fuzz
  report_totals
}

# The valgrind test setup (tests/meson.build) sets the options and the
# suppression files; it exists only where valgrind was found at setup.
run_valgrind_tests ()
{
  install_packages

  if build "$VALGRIND_BUILD_DIR" "${VALGRIND_SETUP_OPTIONS[@]}"; then
    run_suite "$VALGRIND_BUILD_DIR" --setup valgrind
  else
    build_failed "$VALGRIND_BUILD_DIR"
  fi

  report_totals
}

# build-aux/fuzz.sh sources this file for its packages and build helpers.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case ${1:-} in
    demo) demo ;;
    test) run_tests ;;
    valgrind) run_valgrind_tests ;;
    *) usage ;;
  esac
fi
