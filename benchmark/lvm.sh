#!/usr/bin/env bash
# The benchmark's LVM contender: the same operations through LVM2's commands, with the
# benchmark's own lvm.conf (LVM_SYSTEM_DIR in <dir>, on the guest's tmpfs; udev and dmeventd off),
# never the machine's /etc/lvm.
#   lvm.sh setup <dir> <device>             PV, VG dmpsbench, thin pool, a 16 MiB origin
#   lvm.sh create|snapshot|remove <dir> <count> <first>
#   lvm.sh fill <dir> <count> <first>       thin volumes, untimed (to reach a population)
#   lvm.sh unsnap <dir> <count> <first>     removes the snapshots, untimed
#   lvm.sh list <dir> <count>               lvs of the VG, <count> times
#   lvm.sh teardown <dir> <device>
# Timed operations print the mean milliseconds per operation.
set -euo pipefail
op=$1 dir=$2
export LVM_SYSTEM_DIR=$dir LVM_SUPPRESS_FD_WARNINGS=1 DM_DISABLE_UDEV=1
vg=dmpsbench
now() { date +%s%N; }
mean() { awk -v t="$(( $(now) - $1 ))" -v n="$2" 'BEGIN { printf "%.3f\n", t / 1e6 / n }'; }
case $op in
  setup)
    mkdir -p "$dir/backup" "$dir/archive" /run/lock/lvm
    cat > "$dir/lvm.conf" <<CONF
devices {
    filter = [ "a|^/dev/loop|", "r|.*|" ]
    obtain_device_list_from_udev = 0
    external_device_info_source = "none"
    use_devicesfile = 0
    scan_lvs = 0
}
global {
    event_activation = 0
    use_lvmpolld = 0
}
activation {
    udev_sync = 0
    udev_rules = 0
    verify_udev_operations = 1
    monitoring = 0
}
backup {
    backup_dir = "$dir/backup"
    archive_dir = "$dir/archive"
}
CONF
    pvcreate -q "$3" >/dev/null
    vgcreate -q "$vg" "$3" >/dev/null
    lvcreate -q -T -L 1G -c 64K --poolmetadatasize 64M -n pool "$vg" >/dev/null
    lvcreate -q -V 16M -T "$vg/pool" -n origin >/dev/null ;;
  create|snapshot|remove|fill|unsnap)
    count=$3 first=$4 start=$(now)
    for ((i = first; i < first + count; i++)); do
      case $op in
        create) lvcreate -q -V 16M -T "$vg/pool" -n "c$i" >/dev/null ;;
        fill) lvcreate -q -V 16M -T "$vg/pool" -n "f$i" >/dev/null ;;
        snapshot) lvcreate -q -s -kn -n "s$i" "$vg/origin" >/dev/null ;;
        remove) lvremove -q -f "$vg/c$i" >/dev/null ;;
        unsnap) lvremove -q -f "$vg/s$i" >/dev/null ;;
      esac
    done
    case $op in fill|unsnap) ;; *) mean "$start" "$count" ;; esac ;;
  list)
    count=$3 start=$(now)
    for ((i = 0; i < count; i++)); do lvs "$vg" >/dev/null; done
    mean "$start" "$count" ;;
  teardown)
    vgremove -q -f "$vg" >/dev/null || true
    pvremove -q "$3" >/dev/null || true ;;
  *) echo "lvm.sh: unknown operation $op" >&2; exit 2 ;;
esac
