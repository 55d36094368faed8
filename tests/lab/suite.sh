#!/usr/bin/env bash
# `make test`: its stages one after another, each timed, then one table of the stages' and the
# Molecule scenarios' times (run-scenarios.sh appends those to $LAB_DIR/timings.txt), printed
# also when a stage fails: the run stops at the first failure, as make would.
# usage: suite.sh STAGE...   (each a make target)
set -uo pipefail
lab="${LAB_DIR:-.lab}"
mkdir -p "$lab"
lines() { if [ -f "$lab/timings.txt" ]; then wc -l < "$lab/timings.txt"; else echo 0; fi; }
scenario_rows() {  # scenario_rows FROM: the lines of timings.txt after line FROM, as table rows
  local line
  tail -n +"$(( $1 + 1 ))" "$lab/timings.txt" 2>/dev/null | while IFS= read -r line; do
    case "$line" in
      scenario\ *) echo "$line" | sed -E 's/^scenario ([^ ]+) (.*) in ([0-9]+) s$/\1 \3 \2/' \
                     | { read -r name secs result; printf '  %-20s %8d  %s\n' "$name" "$secs" "$result"; } ;;
      steps\ *) printf '      %s\n' "${line#*: }" ;;  # that scenario's steps, in seconds
    esac
  done
}
rows=()
status=0
suite_start=$(date +%s)
for stage in "$@"; do
  start=$(date +%s)
  before=$(lines)
  ${MAKE:-make} --no-print-directory "$stage"; rc=$?
  secs=$(( $(date +%s) - start ))
  if [ "$rc" -eq 0 ]; then result=passed; else result="FAILED (rc $rc)"; fi
  rows+=("$(printf '%-22s %8d  %s' "stage $stage" "$secs" "$result")")
  # The scenarios this stage ran, under it.
  while IFS= read -r line; do rows+=("$line"); done < <(scenario_rows "$before")
  if [ "$rc" -ne 0 ]; then status=$rc; break; fi
done
printf '\n%-22s %8s  %s\n' "make test" seconds result
printf '%s\n' "${rows[@]}"
printf '%-22s %8d  %s\n' total $(( $(date +%s) - suite_start )) "$([ "$status" -eq 0 ] && echo passed || echo FAILED)"
exit "$status"
