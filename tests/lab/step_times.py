#!/usr/bin/env python
"""Pass Molecule's output through unchanged and time its steps: each "[SCENARIO > STEP]
Executing" line starts a step, which lasts until the next one or the end. Appends one line
"steps SCENARIO: create 21, converge 198, ..." (seconds) to FILE, for the suite's table; where
a scenario's minutes go is what decides how to make the suite faster.

usage: molecule test -s NAME 2>&1 | step_times.py NAME FILE
"""
import re
import sys
import time

STEP = re.compile(r"\[(?P<scenario>[^ \]]+) > (?P<step>[a-z_]+)\] Executing\s*$")


def timed_steps(lines, out, clock=time.monotonic):
    """out(line) for each line; return [(step, seconds)] in the order the steps ran."""
    steps = []
    current, began = None, None
    for line in lines:
        match = STEP.search(line)
        if match:
            now = clock()
            if current is not None:
                steps.append((current, now - began))
            current, began = match["step"], now
        out(line)
    if current is not None:
        steps.append((current, clock() - began))
    return steps


def main():
    scenario, path = sys.argv[1:3]

    def out(line):
        sys.stdout.write(line)
        sys.stdout.flush()

    steps = timed_steps(sys.stdin, out)
    if steps:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"steps {scenario}: " + ", ".join(f"{name} {secs:.0f}" for name, secs in steps) + "\n")


if __name__ == "__main__":
    main()
