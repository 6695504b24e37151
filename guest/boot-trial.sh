#!/usr/bin/env bash
# Measures the guest's boots: boots N times a job that only exits, and prints how many
# reached init, how many hung, and the boot times. One try per boot (no retry).
# Usage: guest/boot-trial.sh [N] [BOOT_LIMIT_SECONDS]   (DMPS_GUEST_TSC_KHZ=off: without the TSC rate)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
count=${1:-50}
limit=${2:-60}
job=$(mktemp -d /tmp/dmps-boot-trial.XXXXXX)
trap 'rm -rf "$job"' EXIT
printf '#!/bin/bash\nexit 0\n' > "$job/job.sh"
ok=0 hung=0 other=0 times=()
for i in $(seq 1 "$count"); do
  log=$(DMPS_GUEST_QUIET=1 DMPS_GUEST_BOOT_TRIES=1 DMPS_GUEST_BOOT_LIMIT=$limit "$here/run.sh" "$job" 300 2>&1)
  code=$?
  boot=$(sed -n 's/^guest: booted to init in \([0-9]*\) s.*/\1/p' <<<"$log")
  total=$(sed -n 's/.*the guest \([0-9]*\) s in all.*/\1/p' <<<"$log")
  if [ "$code" -eq 0 ]; then ok=$((ok + 1)); times+=("$total")
  elif grep -q 'boot hung' <<<"$log"; then hung=$((hung + 1))
  else other=$((other + 1)); echo "boot $i: exit $code: $(tail -n 3 <<<"$log")"; fi
  echo "boot $i: exit $code, init after ${boot:-?} s, guest ${total:-?} s"
done
sorted=$(printf '%s\n' "${times[@]:-}" | sort -n)
echo "boots: $count; reached the job and exited: $ok; hung before init: $hung; other failures: $other;" \
  "guest seconds per boot (min/median/max): $(head -n1 <<<"$sorted")/$(sed -n "$(( (ok + 1) / 2 ))p" <<<"$sorted")/$(tail -n1 <<<"$sorted")"
[ "$hung" -eq 0 ] && [ "$other" -eq 0 ]
