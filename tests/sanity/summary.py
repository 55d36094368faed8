"""Summarise a sanity run: ansible-test's JUnit results (tests/output/junit) and its output.

usage: summary.py JUNIT_DIR LOG

Prints one line per sanity test and a closing count. ansible-test reports a test it skipped for
a missing tool (shellcheck, say) like one with nothing to check, only warning about it, so
every warning but the locale one fails the run too: each sanity test that applies must run.
"""
from __future__ import annotations

import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

NOT_APPLICABLE = 'No tests applicable.'
# Expected wherever en_US.UTF-8 is not generated (as in Debian's images); harmless.
HARMLESS = re.compile(r'^WARNING: (Using locale "C\.UTF-8" instead of|Reviewing previous \d+ warning)')


def main():
    """Print the results found under the directory given and exit non-zero on any failure."""
    paths = sorted(glob.glob(os.path.join(sys.argv[1], 'ansible-test-sanity-*.xml')))
    passed, failed, not_applicable = [], [], []
    for path in paths:
        name = os.path.basename(path)[len('ansible-test-sanity-'):-len('.xml')]
        for case in ET.parse(path).getroot().iter('testcase'):
            skipped = case.find('skipped')
            if case.find('failure') is not None or case.find('error') is not None:
                failed.append(name)
                print(f'  {name:32s} failed')
            elif skipped is not None:
                reason = skipped.get('message') or skipped.text or 'skipped'
                if reason.strip() == NOT_APPLICABLE:
                    not_applicable.append(name)
                    print(f'  {name:32s} skipped ({NOT_APPLICABLE})')
                else:
                    failed.append(name)
                    print(f'  {name:32s} failed: skipped ({reason.strip()})')
            else:
                passed.append(name)
                print(f'  {name:32s} passed')
    if not paths:
        failed.append('(no results)')
    with open(sys.argv[2], encoding='utf-8', errors='replace') as handle:
        warnings = sorted(set(line.rstrip() for line in handle if line.startswith('WARNING: ') and not HARMLESS.match(line)))
    for warning in warnings:
        print(f'  {warning} (fails the run)')
    if warnings:
        failed.append('(warnings)')
    print(f'sanity: {len(passed)} passed, {len(failed)} failed, {len(not_applicable)} skipped')
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
