#!/usr/bin/env python3
# compare-clients.py: the table of how clients fare on the scenario suites.
#
#   compare-clients.py LIBSMTPKIT.outcomes NAME=FILE.outcomes... > docs/client-comparison.md
#
# Each FILE is what `smtpkit-harness run --outcomes FILE` wrote
# ("pass|fail|skip<TAB>SUITE/NAME/MODE" lines). libsmtpkit's sync cases
# are compared with the other clients' (which have one mode).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import collections
import sys


def read(path):
    outcomes = {}
    with open(path) as f:
        for line in f:
            status, case = line.rstrip("\n").split("\t")
            if case.endswith("/sync"):
                outcomes[case[: -len("/sync")]] = status
    return outcomes


def main():
    columns = [("libsmtpkit", read(sys.argv[1]))]
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        columns.append((name, read(path)))
    cases = sorted(set().union(*(c for _, c in columns)))
    suites = collections.OrderedDict()
    for case in cases:
        suites.setdefault(case.split("/")[0], []).append(case)

    out = sys.stdout
    out.write("Title: Clients compared\n\n# Clients compared\n\n")
    out.write("The scenario suites of `harness/scenarios/`, played by `smtpkit-harness run`\n"
              "against libsmtpkit and, through the adapters of `harness/adapters/`, against\n"
              "other clients (see [The conformance harness](harness.html)). A case passes\n"
              "when the client sent exactly what the scenario expects and got the outcome it\n"
              "expects; a case is skipped when the client has no way to do one of its steps\n"
              "(never counted as a pass). Made by `bash harness/adapters/update-comparison.sh`.\n\n")
    out.write("## By suite\n\npassed / failed / skipped\n\n")
    out.write("| suite | " + " | ".join(name for name, _ in columns) + " |\n")
    out.write("|---|" + "---|" * len(columns) + "\n")
    for suite, members in suites.items():
        cells = []
        for _, outcomes in columns:
            counts = collections.Counter(outcomes.get(c, "-") for c in members)
            cells.append("%d / %d / %d" % (counts["pass"], counts["fail"], counts["skip"]))
        out.write("| %s | %s |\n" % (suite, " | ".join(cells)))
    out.write("\n## Case by case, where they differ\n\n")
    out.write("| case | " + " | ".join(name for name, _ in columns) + " |\n")
    out.write("|---|" + "---|" * len(columns) + "\n")
    for case in cases:
        statuses = [outcomes.get(case, "-") for _, outcomes in columns]
        if len(set(statuses)) > 1:
            out.write("| %s | %s |\n" % (case, " | ".join(statuses)))


if __name__ == "__main__":
    main()
