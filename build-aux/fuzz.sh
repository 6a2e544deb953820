#!/usr/bin/env bash
# fuzz.sh: build the libFuzzer targets of tests/fuzz and run them
#
#   bash build-aux/fuzz.sh [SECONDS_PER_TARGET]   run each target in turn
#                                                 (default 60 s), one at a
#                                                 time; exit 1 on a finding
#   bash build-aux/fuzz.sh --coverage             report the coverage of the
#                                                 parsers reached by the
#                                                 corpora gathered so far
#
# FUZZ_TARGETS="reply-parser sasl" limits the run to those targets. The
# build is _build-fuzz (clang, -Dfuzzing=true); corpora, logs and
# findings are kept below _build-fuzz/fuzz/. See docs/fuzzing.md.

set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# PACKAGES, install_packages and configure; quickstart.sh does nothing
# else when sourced.
# shellcheck source=build-aux/quickstart.sh
source "$REPO_ROOT/build-aux/quickstart.sh"
cd "$REPO_ROOT"

say () { printf 'fuzz: %s\n' "$*" >&2; }
die () { printf 'fuzz: error: %s\n' "$*" >&2; exit 1; }

ALL_TARGETS=(reply-parser ehlo-parser data-encoder command sasl session scenario fake-sink)
read -r -a TARGETS <<<"${FUZZ_TARGETS:-${ALL_TARGETS[*]}}"

FUZZ_BUILD_DIR=_build-fuzz
COVERAGE_BUILD_DIR=_build-fuzz-cov
# shellcheck disable=SC2054 # the commas belong to the option values
FUZZ_SETUP_OPTIONS=(
  -Dfuzzing=true
  -Db_lundef=false
  -Dintrospection=disabled
  -Dtests=false
  -Dbenchmarks=false
)
COVERAGE_FLAGS="-fprofile-instr-generate -fcoverage-mapping"

# The files whose coverage --coverage reports: the parsers and what the
# session target drives.
COVERED_SOURCES=(
  libsmtpkit/smtpkit-codec.c
  libsmtpkit/smtpkit-reply.c
  libsmtpkit/smtpkit-engine.c
  libsmtpkit/smtpkit-client.c
  libsmtpkit/smtpkit-client-connect.c
  libsmtpkit/smtpkit-client-mail.c
  libsmtpkit/smtpkit-client-auth.c
  plugins/auth-basic/smtpkit-auth-basic.c
  plugins/cyrus-sasl/smtpkit-auth-cyrus.c
  fake-server/smtpkit-scenario.c
  fake-server/smtpkit-fake-sink.c
  fake-server/smtpkit-fake-conn.c
)

usage ()
{
  sed -n '2,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

# build DIR [meson options...]: configure with clang and build.
build_fuzz ()
{
  local dir=$1
  shift

  say "building in $dir"
  CC=clang configure "$dir" "${FUZZ_SETUP_OPTIONS[@]}" "$@" && ninja -C "$dir" >/dev/null
}

# The run-time options of the sanitizers; the suppressions are those of
# the test suite and the fuzz targets' own.
sanitizer_environment ()
{
  local dir=$1

  mkdir -p "$dir/fuzz"
  cat tests/lsan.supp tests/fuzz/lsan.supp >"$dir/fuzz/lsan.supp"
  # intercept_tls_get_addr=0: as tests/meson.build says.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS="suppressions=$REPO_ROOT/$dir/fuzz/lsan.supp:print_suppressions=0"
  export G_SLICE=always-malloc
  export SMTPKIT_PLUGIN_PATH="$REPO_ROOT/$dir/plugins"
}

# Seeds from the scenario suites, regenerated at each run.
generate_seeds ()
{
  local dir=$1

  rm -rf "$dir/fuzz/seeds"
  # (In the coverage build it too writes a profile; not in the work tree.)
  LLVM_PROFILE_FILE="$dir/fuzz/fuzz-seeds.profraw" \
    "$dir/tests/fuzz/fuzz-seeds" harness/scenarios "$dir/fuzz/seeds" >/dev/null
}

# corpus_dirs DIR TARGET: the corpus (where new inputs go), then the seeds.
corpus_dirs ()
{
  local dir=$1 target=$2 d

  mkdir -p "$dir/fuzz/corpus/$target"
  echo "$dir/fuzz/corpus/$target"
  for d in "$dir/fuzz/seeds/$target" "tests/fuzz/seeds/$target"; do
    if [ -d "$d" ]; then
      echo "$d"
    fi
  done
}

# libFuzzer's figures from a log: "EXECUTIONS COV FT CORPUS".
final_stats ()
{
  awk '
    /^stat::number_of_executed_units:/ { runs = $2 }
    / cov: [0-9]+ ft: [0-9]+/ {
      for (i = 1; i < NF; i++) {
        if ($i == "cov:") cov = $(i + 1)
        if ($i == "ft:") ft = $(i + 1)
        if ($i == "corp:") { corp = $(i + 1); sub(/\/.*/, "", corp) }
      }
      if ($1 ~ /^#[0-9]+$/) last = substr($1, 2)
    }
    END {
      if (runs == "") runs = last
      printf "%s %s %s %s\n", runs + 0, cov + 0, ft + 0, corp + 0
    }
  ' "$1"
}

# run_target TARGET SECONDS FINDINGS_DIR: fuzz one target, print its line.
run_target ()
{
  local target=$1 seconds=$2 findings=$3 status=0 runs cov ft corp artifacts
  local exe=$FUZZ_BUILD_DIR/tests/fuzz/fuzz-$target
  local log=$FUZZ_BUILD_DIR/fuzz/logs/$target.log
  local dirs=()

  mkdir -p "$findings" "$(dirname "$log")"
  mapfile -t dirs < <(corpus_dirs "$FUZZ_BUILD_DIR" "$target")
  # -timeout: an input that takes longer is a finding (a hang); the
  # client's own timeouts are far shorter. -max_len: the reply parser
  # needs inputs past its 64 KiB limit; for the others 8 KiB is plenty,
  # and keeps them fast.
  "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 -print_final_stats=1 \
    -max_len="$(if [ "$target" = reply-parser ]; then echo 70000; else echo 8192; fi)" \
    -dict=tests/fuzz/smtp.dict -artifact_prefix="$findings/$target-" \
    "${dirs[@]}" >"$log" 2>&1 || status=$?

  read -r runs cov ft corp < <(final_stats "$log")
  artifacts=$(find "$findings" -maxdepth 1 -name "$target-*" -printf '%p ' 2>/dev/null)
  if [ "$status" -eq 0 ] && [ -z "$artifacts" ]; then
    printf 'fuzz: PASS %-13s %4d s, %9d executions, cov: %5d, ft: %6d, corpus: %d\n' \
      "$target" "$seconds" "$runs" "$cov" "$ft" "$corp"
    return 0
  fi
  printf 'fuzz: FAIL %-13s %4d s, %9d executions, cov: %5d, ft: %6d, exit status %d, finding: %s(log: %s)\n' \
    "$target" "$seconds" "$runs" "$cov" "$ft" "$status" "${artifacts:-none }" "$log"
  grep -m 5 -E '^==[0-9]+==ERROR|^SUMMARY|check failed|disagree|differ' "$log" | sed 's/^/fuzz:   /' || true
  return 1
}

run_all ()
{
  local seconds=$1 failed=0 passed=0 target findings

  case $seconds in
    '' | *[!0-9]*) die "SECONDS_PER_TARGET must be a number, not '$seconds'" ;;
  esac
  install_packages
  build_fuzz "$FUZZ_BUILD_DIR" || die "the build in $FUZZ_BUILD_DIR failed"
  sanitizer_environment "$FUZZ_BUILD_DIR"
  generate_seeds "$FUZZ_BUILD_DIR"

  findings=$FUZZ_BUILD_DIR/fuzz/findings/$(date -u +%Y%m%dT%H%M%SZ)
  for target in "${TARGETS[@]}"; do
    [ -x "$FUZZ_BUILD_DIR/tests/fuzz/fuzz-$target" ] || die "no fuzz target '$target'"
    if run_target "$target" "$seconds" "$findings"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
    fi
  done
  rmdir "$findings" 2>/dev/null || say "findings are in $findings"
  say "$passed targets clean, $failed with findings"
  [ "$failed" -eq 0 ]
}

# Runs every corpus once through targets built for source coverage and
# prints llvm-cov's report of COVERED_SOURCES.
report_coverage ()
{
  local dir=$COVERAGE_BUILD_DIR profiles target objects=() dirs=() module

  PACKAGES+=(llvm-14)
  install_packages
  build_fuzz "$dir" -Dc_args="$COVERAGE_FLAGS" -Dc_link_args=-fprofile-instr-generate \
    || die "the build in $dir failed"
  sanitizer_environment "$dir"
  generate_seeds "$dir"

  profiles=$dir/fuzz/profiles
  rm -rf "$profiles"
  mkdir -p "$profiles"
  for target in "${TARGETS[@]}"; do
    mapfile -t dirs < <(corpus_dirs "$FUZZ_BUILD_DIR" "$target")
    dirs+=("$dir/fuzz/seeds/$target")
    say "running the corpus of $target"
    LLVM_PROFILE_FILE="$profiles/$target-%p.profraw" "$dir/tests/fuzz/fuzz-$target" -runs=0 \
      "${dirs[@]}" >"$profiles/$target.log" 2>&1 \
      || die "fuzz-$target failed on its corpus (see $profiles/$target.log)"
    objects+=(-object "$dir/tests/fuzz/fuzz-$target")
  done
  for module in "$dir"/libsmtpkit/libsmtpkit-1.so "$dir"/plugins/libsmtpkit-auth-*.so; do
    objects+=(-object "$module")
  done

  llvm-profdata-14 merge -sparse "$profiles"/*.profraw -o "$profiles/fuzz.profdata"
  # The first -object is the main one; llvm-cov wants it without -object.
  # llvm-cov's own SOURCE filter does not match the build's "../" paths:
  # the summary of every file, then only ours.
  llvm-cov-14 export -summary-only "${objects[@]:1}" -instr-profile="$profiles/fuzz.profdata" \
    >"$profiles/summary.json"
  python3 - "$REPO_ROOT" "$profiles/summary.json" "${COVERED_SOURCES[@]}" <<'PYTHON'
import json, os, sys

root, summary, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
files = {}
for data in json.load(open(summary))["data"]:
    for f in data["files"]:
        files[os.path.relpath(os.path.normpath(f["filename"]), root)] = f["summary"]
kinds = ("lines", "branches", "functions", "regions")
print("%-42s" % "file" + "".join("%20s" % k for k in kinds))
for name in wanted:
    s = files.get(name)
    if s is None:
        print("%-42s  (not reached by any target)" % name)
        continue
    print("%-42s" % name + "".join(
        "%20s" % ("%d/%d %5.1f%%" % (s[k]["covered"], s[k]["count"], s[k]["percent"]))
        for k in kinds))
PYTHON
  say "line by line: llvm-cov-14 show ${objects[*]:1} -instr-profile=$profiles/fuzz.profdata FILE"
}

case ${1:-60} in
  --coverage) report_coverage ;;
  -h | --help) usage ;;
  *) run_all "${1:-60}" ;;
esac
