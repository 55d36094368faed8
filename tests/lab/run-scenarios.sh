#!/usr/bin/env bash
# Run Molecule scenarios one after another and print a table of their times at the end,
# also when one fails (the run stops at the first failure).
# usage: run-scenarios.sh SCENARIO...
set -uo pipefail
table=()
status=0
lab="${LAB_DIR:-.lab}"
mkdir -p "$lab"
for s in "$@"; do
  # A stale copy of the collection under ~/.ansible shadows this checkout (ansible-compat).
  rm -rf "$HOME/.ansible/collections/ansible_collections/inferops/inference"
  start=$(date +%s)
  # Each step's seconds go to timings.txt too (step_times.py), under the scenario's line.
  molecule test -s "$s" 2>&1 | python3 "$(dirname "$0")/step_times.py" "$s" "$lab/steps.tmp"
  rc=${PIPESTATUS[0]}
  secs=$(( $(date +%s) - start ))
  if [ "$rc" -eq 0 ]; then result=passed; else result="FAILED (rc $rc)"; fi
  table+=("$(printf '%-16s %8d  %s' "$s" "$secs" "$result")")
  echo "scenario $s $result in $secs s" >> "$lab/timings.txt"
  steps=""
  if [ -f "$lab/steps.tmp" ]; then steps="$(cat "$lab/steps.tmp")"; rm -f "$lab/steps.tmp"; fi
  if [ -n "$steps" ]; then
    echo "$steps" >> "$lab/timings.txt"
    table+=("$(printf '  %s' "${steps#steps "$s": }")")
  fi
  if [ "$rc" -ne 0 ]; then status=$rc; break; fi
done
printf '\n%-16s %8s  %s\n' scenario seconds result
printf '%s\n' "${table[@]}"
exit "$status"
