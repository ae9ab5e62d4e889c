#!/usr/bin/env python3
"""Sums the test reports of a run into the final `N passed, N failed` line.

Reads .reports/*.json (jest --json) and .reports/steps.txt (lines `passed <name>` / `failed <name>`
for non-jest steps such as `make up && make demo && make down`). A suite that failed to run counts
as failed; a skipped test counts as failed when CI=true (a skipped integration suite hides a gap).
Also prints the slowest suites of each report, so that a slow run says where its time went.
Exit status: 0 when something ran and nothing failed.
"""
import glob
import json
import os
import sys

passed = failed = skipped = 0
for path in sorted(glob.glob(".reports/*.json")):
    with open(path) as f:
        report = json.load(f)
    passed += report.get("numPassedTests", 0)
    failed += report.get("numFailedTests", 0) + report.get("numRuntimeErrorTestSuites", 0)
    skipped += report.get("numPendingTests", 0) + report.get("numTodoTests", 0)
    print(f"  {os.path.basename(path)}: {report.get('numPassedTests', 0)} passed, "
          f"{report.get('numFailedTests', 0)} failed, {report.get('numRuntimeErrorTestSuites', 0)} suites broken, "
          f"{report.get('numPendingTests', 0)} skipped")
    suites = [(r.get("endTime", 0) - r.get("startTime", 0), os.path.basename(r.get("name", "?")), r.get("status", "?"))
              for r in report.get("testResults", [])]
    slow = sorted(suites, reverse=True)[:8]
    if slow and slow[0][0] >= 30_000:
        total = sum(ms for ms, _, _ in suites) / 1000
        print(f"    slowest suites (all {len(suites)}: {total:.0f} s): " + ", ".join(f"{name} {ms / 1000:.0f} s{'' if status == 'passed' else ' ' + status}" for ms, name, status in slow))
if os.path.exists(".reports/steps.txt"):
    for line in open(".reports/steps.txt"):
        status, _, name = line.strip().partition(" ")
        if status == "passed":
            passed += 1
        elif status == "failed":
            failed += 1
        print(f"  step {name}: {status}")
if os.environ.get("CI") == "true" and skipped:
    print(f"  {skipped} skipped tests count as failed in CI")
    failed += skipped
print(f"{passed} passed, {failed} failed")
sys.exit(0 if passed > 0 and failed == 0 else 1)
