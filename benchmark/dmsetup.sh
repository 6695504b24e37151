#!/usr/bin/env bash
# The benchmark's shell contender: the operations as an administrator scripts them with dmsetup
# (Docker's devicemapper guide), one command per step, timed around the whole loop.
#   dmsetup.sh <pool> <pool major:minor> create   <count> <first id> <sectors>
#   dmsetup.sh <pool> <pool major:minor> snapshot <count> <first id> <origin id> <origin device>
#   dmsetup.sh <pool> <pool major:minor> remove   <count> <first id>
#   dmsetup.sh list <count>                       (one `dmsetup status` of every device, <count> times)
#   dmsetup.sh status <count> <pool>              (`dmsetup status <pool>`, <count> times)
# Prints the mean milliseconds per operation. No udev runs in the guest: dmsetup makes the nodes.
set -euo pipefail
export DM_DISABLE_UDEV=1
now() { date +%s%N; }
mean() { awk -v t="$(( $(now) - $1 ))" -v n="$2" 'BEGIN { printf "%.3f\n", t / 1e6 / n }'; }
if [ "$1" = list ]; then
  count=$2; start=$(now)
  for ((i = 0; i < count; i++)); do dmsetup status >/dev/null; done
  mean "$start" "$count"
  exit 0
fi
if [ "$1" = status ]; then
  count=$2 pool=$3; start=$(now)
  for ((i = 0; i < count; i++)); do dmsetup status "$pool" >/dev/null; done
  mean "$start" "$count"
  exit 0
fi
pool=$1 device=$2 op=$3 count=$4 first=$5
start=$(now)
case $op in
  create)
    sectors=$6
    for ((i = first; i < first + count; i++)); do
      dmsetup message "$pool" 0 "create_thin $i"
      dmsetup create "$pool-d$i" --table "0 $sectors thin $device $i"
    done ;;
  snapshot)
    origin=$6 origin_device=$7
    sectors=$(dmsetup table "$origin_device" | cut -d' ' -f2)
    for ((i = first; i < first + count; i++)); do
      dmsetup suspend "$origin_device"
      dmsetup message "$pool" 0 "create_snap $i $origin"
      dmsetup resume "$origin_device"
      dmsetup create "$pool-d$i" --table "0 $sectors thin $device $i"
    done ;;
  remove)
    for ((i = first; i < first + count; i++)); do
      dmsetup remove "$pool-d$i"
      dmsetup message "$pool" 0 "delete $i"
    done ;;
  *) echo "dmsetup.sh: unknown operation $op" >&2; exit 2 ;;
esac
mean "$start" "$count"
