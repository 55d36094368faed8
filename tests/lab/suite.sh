#!/usr/bin/env bash
# `make test`: its stages, each timed, then one table of the stages' and the Molecule
# scenarios' times (run-scenarios.sh appends those to $LAB_DIR/timings.txt), printed also when
# a stage fails: the run stops at the first failure, as make would.
#
# A stage written &NAME runs beside the stages after it, its output kept in
# $LAB_DIR/stage-NAME.log and printed when it ends. The checks that need no lab container
# (lint, unit, sanity) are mostly one busy core each, while a Molecule scenario spends much of
# its time in one ansible-playbook process or waiting on a container: side by side they use
# the second core. A failed background stage fails the suite after the foreground stage it ran
# beside; the suite waits for every background stage before it ends.
# usage: suite.sh STAGE|&STAGE...   (each a make target)
set -uo pipefail
lab="${LAB_DIR:-.lab}"
mkdir -p "$lab"
lab="$(cd "$lab" && pwd)"
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
row() {  # row LABEL SECONDS RC
  local result=passed
  [ "$3" -eq 0 ] || result="FAILED (rc $3)"
  printf '%-22s %8d  %s' "$1" "$2" "$result"
}

rows=()
background=()  # names of the background stages not yet collected
status=0
suite_start=$(date +%s)

start_background() {  # start_background NAME: make NAME in the background; its rc and time in files
  local name="$1"
  rm -f "$lab/stage-$name".{log,rc,secs}
  (
    start=$(date +%s)
    ${MAKE:-make} --no-print-directory "$name" > "$lab/stage-$name.log" 2>&1
    rc=$?
    echo $(( $(date +%s) - start )) > "$lab/stage-$name.secs"
    echo "$rc" > "$lab/stage-$name.rc"  # written last: its presence means the stage ended
  ) &
  echo "suite: stage $name runs beside the next stages (its output: $lab/stage-$name.log)"
  background+=("$name")
}

collect() {  # collect [wait]: record the background stages that ended (with wait: all of them)
  local name rc left=()
  for name in ${background[@]+"${background[@]}"}; do
    if [ "${1:-}" = wait ]; then
      while [ ! -f "$lab/stage-$name.rc" ]; do sleep 2; done
    fi
    if [ ! -f "$lab/stage-$name.rc" ]; then left+=("$name"); continue; fi
    rc=$(cat "$lab/stage-$name.rc")
    echo "suite: stage $name ended (rc $rc); its output:"
    sed 's/^/  | /' "$lab/stage-$name.log"
    rows+=("$(row "stage $name (beside)" "$(cat "$lab/stage-$name.secs")" "$rc")")
    if [ "$rc" -ne 0 ] && [ "$status" -eq 0 ]; then status=$rc; fi
  done
  background=(${left[@]+"${left[@]}"})
}

for stage in "$@"; do
  if [ "${stage#&}" != "$stage" ]; then
    start_background "${stage#&}"
    continue
  fi
  start=$(date +%s)
  before=$(lines)
  ${MAKE:-make} --no-print-directory "$stage"; rc=$?
  rows+=("$(row "stage $stage" $(( $(date +%s) - start )) "$rc")")
  # The scenarios this stage ran, under it.
  while IFS= read -r line; do rows+=("$line"); done < <(scenario_rows "$before")
  if [ "$rc" -ne 0 ]; then status=$rc; fi
  collect
  if [ "$status" -ne 0 ]; then break; fi
done
collect wait
wait
printf '\n%-22s %8s  %s\n' "make test" seconds result
printf '%s\n' "${rows[@]}"
printf '%-22s %8d  %s\n' total $(( $(date +%s) - suite_start )) "$([ "$status" -eq 0 ] && echo passed || echo FAILED)"
exit "$status"
