#!/usr/bin/env bash
# run-with-keyring.sh PROGRAM [ARGS...]: run PROGRAM against a real Secret
# Service, a gnome-keyring of its own.
#
# A private D-Bus session (dbus-run-session) with HOME and XDG_RUNTIME_DIR
# in a temporary directory, so that neither the user's keyring nor their
# session bus is touched; gnome-keyring-daemon is started in it with its
# login keyring unlocked (it is created on the spot, with a throwaway
# password). PROGRAM runs with SMTPKIT_TEST_SECRET_SERVICE=1, which makes
# test-send-config register its /send-config/secret-service/ cases. The
# daemon exits with the session bus, when PROGRAM has; the directory is
# removed whatever happens. PROGRAM's exit status is this script's.
#
# Under meson test --setup valgrind, SMTPKIT_TEST_WRAPPER holds valgrind's
# command line (words separated by spaces): PROGRAM runs under it.

set -eu

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-keyring.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
trap 'exit 130' INT TERM

mkdir -m 700 "$tmp/home" "$tmp/runtime"
HOME=$tmp/home
XDG_RUNTIME_DIR=$tmp/runtime
XDG_DATA_HOME=$tmp/home/.local/share
XDG_CONFIG_HOME=$tmp/home/.config
SMTPKIT_TEST_SECRET_SERVICE=1
export HOME XDG_RUNTIME_DIR XDG_DATA_HOME XDG_CONFIG_HOME SMTPKIT_TEST_SECRET_SERVICE
# Never the caller's session bus: only the one dbus-run-session starts.
unset DBUS_SESSION_BUS_ADDRESS

status=0
dbus-run-session -- sh -c '
  if ! printf %s throwaway | gnome-keyring-daemon --unlock --components=secrets >/dev/null; then
    echo "Bail out! gnome-keyring-daemon --unlock did not start" 
    exit 1
  fi
  # shellcheck disable=SC2086 # the wrapper is words
  exec ${SMTPKIT_TEST_WRAPPER:-} "$@"
' run-with-keyring "$@" || status=$?
exit "$status"
