#!/usr/bin/env bash
# Run every Molecule scenario (or the ones named), MOLECULE_JOBS at a time. Scenarios name their
# containers, networks and published ports after themselves, so they can run side by side.
# Each scenario's output goes to .cache/molecule-logs/<scenario>.log; a failed scenario's log
# tail is printed and the script exits 1 once all have ended.
#
#   scripts/molecule-all.sh                 # all scenarios under molecule/
#   scripts/molecule-all.sh nginx_default   # just these
#
# Environment: MOLECULE_JOBS (default 2), WEBSTACK_MOLECULE_CPUS (a CPU per job, e.g. 0,1),
# MOLECULE_EXCLUDE (scenarios left out of a run of all; the Makefile leaves out chat_onprem),
# WEBSTACK_BASE_IMAGE_REF (set by the Makefile).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${MOLECULE_JOBS:-2}
logs="$root/.cache/molecule-logs"
mkdir -p "$logs"

if [ "$#" -gt 0 ]; then
  scenarios=("$@")
else
  mapfile -t found < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort)
  # The longest first, so the last to start is a short one and no job waits alone at the end
  # (measured at 3690614 without Mitogen, two at a time, s: rails_app 400, nginx_default 285,
  # chat_onprem 285 alone, base_default 116, puma_default 80, unicorn_default 77, bastion 67,
  # ruby_default 55). Scenarios not named here follow in name order.
  scenarios=()
  for s in rails_app chat_onprem nginx_default base_default unicorn_default ruby_default bastion puma_default; do
    [[ " ${found[*]} " == *" $s "* ]] && scenarios+=("$s")
  done
  for s in "${found[@]}"; do
    [[ " ${scenarios[*]} " == *" $s "* ]] || scenarios+=("$s")
  done
fi
# MOLECULE_EXCLUDE: scenarios (space-separated) left out of a run of all of them
if [ "$#" -eq 0 ] && [ -n "${MOLECULE_EXCLUDE:-}" ]; then
  kept=()
  for s in "${scenarios[@]}"; do
    [[ " $MOLECULE_EXCLUDE " == *" $s "* ]] || kept+=("$s")
  done
  scenarios=("${kept[@]}")
  echo "molecule-all: left out (MOLECULE_EXCLUDE): $MOLECULE_EXCLUDE"
fi
[ "${#scenarios[@]}" -gt 0 ] || { echo "molecule-all: no scenario found under molecule/" >&2; exit 1; }

run_one() {
  local scenario=$1 log="$logs/$1.log" started rc lane lock cpus
  # A lane of its own (one per job, held for the run): with WEBSTACK_MOLECULE_CPUS (the
  # Makefile's, one CPU per lane), the scenario's playbook runs keep to that CPU (the Makefile's
  # strategy: WEBSTACK_MITOGEN_CPU), so two scenarios use two CPUs instead of sharing one.
  for ((lane = 0; lane < jobs; lane++)); do
    exec {lock}>"$logs/.lane-$lane"
    flock -n "$lock" && break
    exec {lock}>&-
  done
  IFS=, read -r -a cpus <<<"${WEBSTACK_MOLECULE_CPUS:-}"
  if [ "${#cpus[@]}" -gt 0 ]; then
    export WEBSTACK_MITOGEN_CPU=${cpus[$((lane % ${#cpus[@]}))]}
  fi
  started=$(date +%s)
  echo "molecule: $scenario started${WEBSTACK_MITOGEN_CPU:+ (CPU $WEBSTACK_MITOGEN_CPU)}"
  if molecule test -s "$scenario" >"$log" 2>&1; then rc=0; else rc=$?; fi
  echo "$rc $(( $(date +%s) - started ))" >"$log.status"
  if [ "$rc" -eq 0 ]; then
    echo "molecule: $scenario passed in $(( $(date +%s) - started )) s"
  else
    echo "molecule: $scenario FAILED (rc $rc) after $(( $(date +%s) - started )) s; last lines of $log:"
    tail -n 60 "$log" | sed "s/^/  [$scenario] /"
  fi
  return 0
}
export -f run_one
export logs jobs

rm -f "$logs"/*.status
printf '%s\n' "${scenarios[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}

failed=()
for scenario in "${scenarios[@]}"; do
  read -r rc _ <"$logs/$scenario.log.status" || rc=1
  [ "$rc" -eq 0 ] || failed+=("$scenario")
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "molecule-all: failed: ${failed[*]} (logs in $logs)" >&2
  exit 1
fi
echo "molecule-all: ${#scenarios[@]} scenario(s) passed"
