#!/usr/bin/env bash
# Run Molecule scenarios one after another and print a table of their times at the end,
# also when one fails (the run stops at the first failure).
# usage: run-scenarios.sh SCENARIO...
set -uo pipefail
table=()
status=0
for s in "$@"; do
  # A stale copy of the collection under ~/.ansible shadows this checkout (ansible-compat).
  rm -rf "$HOME/.ansible/collections/ansible_collections/inferops/inference"
  start=$(date +%s)
  molecule test -s "$s"; rc=$?
  secs=$(( $(date +%s) - start ))
  if [ "$rc" -eq 0 ]; then result=passed; else result="FAILED (rc $rc)"; fi
  table+=("$(printf '%-16s %8d  %s' "$s" "$secs" "$result")")
  echo "scenario $s $result in $secs s" >> "${LAB_DIR:-.lab}/timings.txt"
  if [ "$rc" -ne 0 ]; then status=$rc; break; fi
done
printf '\n%-16s %8s  %s\n' scenario seconds result
printf '%s\n' "${table[@]}"
exit "$status"
