#!/usr/bin/env bash
# Boots the guest (QEMU, TCG) and runs JOB_DIR/job.sh inside it as root, in a chroot
# of the host's root; JOB_DIR itself is shared read-write at the same path.
# Usage: guest/run.sh JOB_DIR [TIMEOUT_SECONDS]
# Exit status: the job's own, or 124 on timeout, 125 when the guest crashed or hung.
set -uo pipefail
# DMPS_GUEST_LABEL: prefix for every line this prints (two guests side by side in one log).
label=${DMPS_GUEST_LABEL:-}
prefix() { if [ -n "$label" ]; then sed -u "s/^/[$label] /"; else cat; fi; }
[ -n "$label" ] && exec 2> >(prefix >&2)

here=$(cd "$(dirname "$0")" && pwd)
job=$(cd "${1:?usage: run.sh JOB_DIR [TIMEOUT]}" && pwd)
timeout=${2:-1800}
# The repository is shared at its own path too: a checkout under /tmp would otherwise be
# hidden by the guest's tmpfs.
repo=$(cd "$here/.." && pwd)
# DMPS_GUEST_LANE: debian12 (the host's own root, as it is) or debian13 (trixie's kernel and a
# trixie root, prepare-root.sh, with the host's dotnet and NuGet packages bound in at their paths).
lane=${DMPS_GUEST_LANE:-debian12}
default_cache=$here/../out/guest
[ "$lane" = debian12 ] || default_cache=$here/../out/guest-$lane
cache=${DMPS_GUEST_CACHE:-$default_cache}
export DMPS_GUEST_LANE=$lane
"$here/prepare.sh" "$cache" >/dev/null || exit 125
cache=$(cd "$cache" && pwd)
root_path=/ binds='' host_args=()
if [ "$lane" = debian13 ]; then
  root_path=$cache/root
  dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
  nuget=${NUGET_PACKAGES:-$HOME/.nuget/packages}
  binds="$dotnet_root,$nuget"
  # Mount points of the binds, the repository and the job in the (otherwise read-only) root.
  mkdir -p "$root_path$dotnet_root" "$root_path$nuget" "$root_path$repo" "$root_path$job"
  host_args=(-fsdev local,id=hostshare,path=/,security_model=none,readonly=on,multidevs=remap
    -device virtio-9p-device,fsdev=hostshare,mount_tag=hostshare)
fi
[ -f "$job/job.sh" ] || { echo "guest: $job/job.sh missing" >&2; exit 2; }

# A boot reaches the init's first line in ~1-3 s alone; a boot that has not printed it after
# DMPS_GUEST_BOOT_LIMIT seconds has hung (see below) and is killed and booted again.
boot_limit=${DMPS_GUEST_BOOT_LIMIT:-60}
boot_tries=${DMPS_GUEST_BOOT_TRIES:-3}
memory=${DMPS_GUEST_MEMORY:-3G}
cpus=${DMPS_GUEST_CPUS:-2}
# microvm has no HPET or PM timer: the kernel calibrates the TSC against the PIT, which fails
# under TCG whenever the host is slow for a moment, and the boot then hangs before init.
# Giving the rate (the host's, which TCG's TSC follows) skips that calibration.
tsc_khz=${DMPS_GUEST_TSC_KHZ:-$(awk -F: '/^cpu MHz/ {printf "%d", $2 * 1000; exit}' /proc/cpuinfo)}
[ "$tsc_khz" = off ] && tsc_khz=''   # DMPS_GUEST_TSC_KHZ=off: calibrate as the kernel would
tsc_arg=${tsc_khz:+tsc_early_khz=$tsc_khz}
# DMPS_GUEST_INIT=systemd: systemd is PID 1 (guest/init), on an overlay root whose upper layer
# is the ext4 image DMPS_GUEST_DISK; a reboot in the guest resets the machine and boots again
# on the same disk (reboot=t: a triple fault, as microvm has no reset register QEMU honours).
init_args='' disk_args=() reboot_arg=-no-reboot
if [ "${DMPS_GUEST_INIT:-}" = systemd ]; then
  disk=${DMPS_GUEST_DISK:?DMPS_GUEST_INIT=systemd needs DMPS_GUEST_DISK, an ext4 image}
  init_args='dmps_init=systemd reboot=t systemd.getty_auto=0'
  disk_args=(-drive "file=$disk,if=none,id=state,format=raw" -device virtio-blk-device,drive=state)
  reboot_arg=''
fi

boot() {
  local console=$1
  rm -f "$job/exit-code"
  : > "$console"
  qemu-system-x86_64 \
    -machine microvm,acpi=on,rtc=on -accel tcg,thread=multi -cpu max \
    -smp "$cpus" -m "$memory" -nodefaults -no-user-config -display none $reboot_arg \
    -serial "file:$console" \
    -kernel "$cache/vmlinux" -initrd "$cache/initramfs.cpio" \
    -append "console=ttyS0 panic=-1 quiet loglevel=4 $tsc_arg rdinit=/init dmps_job=$job dmps_repo=$repo ${binds:+dmps_binds=$binds} $init_args" \
    -fsdev "local,id=hostroot,path=$root_path,security_model=none,readonly=on,multidevs=remap" \
    -device virtio-9p-device,fsdev=hostroot,mount_tag=hostroot \
    -fsdev "local,id=jobshare,path=$job,security_model=none,multidevs=remap" \
    -device virtio-9p-device,fsdev=jobshare,mount_tag=jobshare \
    -fsdev "local,id=reposhare,path=$repo,security_model=none,readonly=on,multidevs=remap" \
    -device virtio-9p-device,fsdev=reposhare,mount_tag=reposhare \
    "${host_args[@]}" -device virtio-rng-device "${disk_args[@]}" \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 &
  local qemu=$! start=$SECONDS booted='' running=''
  # Stream the guest's console to our output while it runs (DMPS_GUEST_QUIET=1 to silence).
  if [ "${DMPS_GUEST_QUIET:-0}" != 1 ]; then tail -n +1 -F --pid="$qemu" "$console" 2>/dev/null | prefix & fi
  while kill -0 "$qemu" 2>/dev/null; do
    sleep 1
    if [ -z "$booted" ]; then
      # The init's own first line, not any output: a hung kernel may still print.
      if grep -q '^dmps-guest: kernel .* up' "$console" 2>/dev/null; then
        booted=$SECONDS
        echo "guest: booted to init in $((booted - start)) s (limit ${boot_limit} s)" >&2
      elif [ $((SECONDS - start)) -ge "$boot_limit" ]; then
        echo "guest: no init after ${boot_limit} s: the boot hung; killing QEMU (pid $qemu)" >&2
        kill -9 "$qemu" 2>/dev/null; wait "$qemu" 2>/dev/null
        return 3
      fi
    fi
    if [ -z "$running" ] && grep -q '^dmps-guest: running' "$console" 2>/dev/null; then running=$SECONDS; fi
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
      echo "guest: timed out after ${timeout} s; killing QEMU (pid $qemu)" >&2
      kill -9 "$qemu" 2>/dev/null; wait "$qemu" 2>/dev/null
      return 4
    fi
  done
  wait "$qemu" 2>/dev/null
  echo "guest: job ran $((SECONDS - ${running:-$start})) s; the guest $((SECONDS - start)) s in all (limit ${timeout} s)" >&2
  return 0
}

console="$job/console.log"
for attempt in $(seq 1 "$boot_tries"); do
  [ "$attempt" -gt 1 ] && echo "guest: booting again (attempt $attempt of $boot_tries)" >&2
  boot "$console"; state=$?
  [ "$state" -eq 3 ] || break
done
case "$state" in
  3) echo "guest: the boot hung $boot_tries times; giving up" >&2; exit 125 ;;
  4) tail -n 40 "$console" >&2; exit 124 ;;
esac
if [ ! -f "$job/exit-code" ]; then
  echo "guest: the guest stopped without an exit code (crash?); console tail:" >&2
  tail -n 40 "$console" >&2
  exit 125
fi
exit "$(cat "$job/exit-code")"
