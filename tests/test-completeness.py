#!/usr/bin/env python3
# test-completeness.py: every error code and every public method of the
# client classes is exercised by at least one scenario (TAP).
#
#   test-completeness.py LIBSMTPKIT.so ERROR_HEADER HARNESS_STEPS.c SCENARIO_DIR
#
# The error codes are read from the SmtpkitError enum of ERROR_HEADER; a
# code counts as exercised when some scenario expects it ("=> error NICK").
# The methods are the library's exported symbols of SmtpkitClient,
# SmtpkitLmtpClient and smtpkit_ssl_client_new (GType functions aside); a
# method counts as exercised when the harness's client steps
# (HARNESS_STEPS.c) call it in the branch of a step that some scenario
# uses. A step's sync and async forms are both played by every scenario.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import re
import subprocess
import sys

library, error_header, steps_source, scenario_dir = sys.argv[1:5]


def scenario_steps():
    """Every client step used, as "call" and "call ARG" (set/get NAME),
    and every error nick expected."""
    used, errors = set(), set()
    for root, _, files in os.walk(scenario_dir):
        for name in files:
            if not name.endswith(".scenario"):
                continue
            section = None
            with open(os.path.join(root, name), encoding="utf-8") as f:
                for line in f:
                    if re.match(r"^(client|server):", line):
                        section = line.split(":")[0]
                        continue
                    text = line.strip()
                    if section != "client" or not text or text.startswith("#"):
                        continue
                    words = text.split()
                    used.add(words[0])
                    if len(words) > 1:
                        used.add(words[0] + " " + words[1])
                    m = re.search(r"=>\s+error\s+(\S+)", text)
                    if m:
                        errors.add(m.group(1))
    return used, errors


def error_nicks():
    with open(error_header) as f:
        text = f.read()
    enum = text[text.index("typedef enum"):text.index("} SmtpkitError;")]
    return [n[len("SMTPKIT_ERROR_"):].lower().replace("_", "-")
            for n in re.findall(r"\b(SMTPKIT_ERROR_[A-Z_]+)\b", enum)]


def exported_methods():
    out = subprocess.run(["nm", "-D", "--defined-only", library], stdout=subprocess.PIPE,
                         check=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        symbol = line.split()[-1]
        if re.match(r"^smtpkit_(client|lmtp_client|ssl_client)_", symbol) and \
                not symbol.endswith("_get_type"):
            names.add(symbol)
    return sorted(names)


def called(text):
    """The library functions a piece of code calls: smtpkit_client_X
    directly, through CALL (run, error, X, ...), which is X, X_async
    and X_finish, and through CALL_RESULT."""
    names = set(re.findall(r"\b(smtpkit_(?:lmtp_|ssl_)?client_[a-z_0-9]+)\s*\(", text))
    for m in re.findall(r"\bCALL0?\s*\(\s*\w+\s*,\s*\w+\s*,\s*(\w+)", text):
        names |= {"smtpkit_client_" + m, "smtpkit_client_%s_async" % m,
                  "smtpkit_client_%s_finish" % m}
    # CALL_RESULT (run, error, X, ...): X_result, X_async, X_result_finish
    for m in re.findall(r"\bCALL_RESULT\s*\(\s*\w+\s*,\s*\w+\s*,\s*(\w+)", text):
        names |= {"smtpkit_client_%s_result" % m, "smtpkit_client_%s_async" % m,
                  "smtpkit_client_%s_result_finish" % m}
    return names


def step_branches():
    """{step key: functions called} from the perform() branches and the
    "get NAME" branches; and what is called whatever the steps."""
    with open(steps_source) as f:
        text = f.read()
    branches = {}
    conditions = list(re.finditer(r'g_str_equal \(call, "([^"]+)"\)', text))
    i = 0
    while i < len(conditions):
        m = conditions[i]
        # The condition runs on while its lines end in || or &&; the calls
        # it names share one branch.
        eol = text.index("\n", m.end())
        while re.search(r"(\|\||&&)\s*$", text[m.end():eol]):
            eol = text.index("\n", eol + 1)
        calls = [m.group(1)]
        while i + 1 < len(conditions) and conditions[i + 1].start() < eol:
            i += 1
            calls.append(conditions[i].group(1))
        end = conditions[i + 1].start() if i + 1 < len(conditions) else len(text)
        condition, body = text[m.end():eol], text[m.end():end]
        args = re.findall(r'g_str_equal \(a1, "([^"]+)"\)', condition)
        for call in calls:
            for key in ([call + " " + a for a in args] or [call]):
                branches.setdefault(key, set()).update(called(body))
        i += 1
    getters = list(re.finditer(r'g_strcmp0 \(name, "([^"]+)"\) == 0', text))
    for i, m in enumerate(getters):
        end = getters[i + 1].start() if i + 1 < len(getters) else text.index("\n}\n", m.end())
        branches.setdefault("get " + m.group(1), set()).update(called(text[m.end():end]))
    # Outside perform(): what every case calls (the client's creation).
    start = text.index("smtpkit_harness_libsmtpkit_new (")
    always = called(text[start:])
    return branches, always


def main():
    used, expected_errors = scenario_steps()
    branches, always = step_branches()
    exercised = set(always)
    for key, names in branches.items():
        if key in used:
            exercised |= names

    n = 0
    failed = False
    for nick in error_nicks():
        n += 1
        if nick in expected_errors:
            print("ok %d - SMTPKIT_ERROR %s is expected by a scenario" % (n, nick))
        else:
            failed = True
            print("not ok %d - SMTPKIT_ERROR %s is expected by no scenario" % (n, nick))
    for method in exported_methods():
        n += 1
        if method in exercised:
            print("ok %d - %s is called by a step a scenario uses" % (n, method))
        else:
            failed = True
            print("not ok %d - %s is called by no step a scenario uses" % (n, method))
    print("1..%d" % n)
    sys.exit(1 if failed else 0)


main()
