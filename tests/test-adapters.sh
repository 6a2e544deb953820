#!/usr/bin/env bash
# test-adapters.sh: every suite against Python's smtplib and curl (TAP).
#
#   test-adapters.sh SMTPKIT_HARNESS ADAPTERS_DIR
#
# Each adapter's outcomes, case by case, must be those committed in
# ADAPTERS_DIR/NAME.expected: any change in what the harness, the
# scenarios, the fake server or the other client do shows here. After an
# intended change, bash harness/adapters/update-comparison.sh writes them
# anew, with docs/client-comparison.md.

set -u

harness=$1
adapters=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-adapters.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

n=0
failed=0
for name in smtplib curl; do
  n=$((n + 1))
  status=0
  # Not under SMTPKIT_TEST_WRAPPER (valgrind): a slower harness would
  # change what times out, and so the outcomes compared.
  timeout 900 "$harness" run --format tap --outcomes "$tmp/$name.outcomes" \
    --client "python3 $adapters/$name-adapter.py" >"$tmp/$name.tap" 2>&1 || status=$?
  if [ "$status" -gt 1 ]; then
    failed=1
    echo "not ok $n - $name: smtpkit-harness exited with status $status"
    tail -20 "$tmp/$name.tap" | sed 's/^/# /'
  elif ! diff -u "$adapters/$name.expected" "$tmp/$name.outcomes" >"$tmp/$name.diff"; then
    failed=1
    echo "not ok $n - $name: the outcomes differ from $name.expected"
    sed 's/^/# /' "$tmp/$name.diff"
    # The failures behind the difference.
    for c in $(sed -n 's/^+[a-z]*\t//p' "$tmp/$name.diff"); do
      grep -A12 -- "- $c\$" "$tmp/$name.tap" | sed 's/^/#   /'
    done
  else
    echo "ok $n - $name: $(grep -c '^pass' "$tmp/$name.outcomes") passed," \
      "$(grep -c '^fail' "$tmp/$name.outcomes") failed," \
      "$(grep -c '^skip' "$tmp/$name.outcomes") skipped, as expected"
  fi
done
echo "1..$n"
exit "$failed"
