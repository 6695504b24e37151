#!/usr/bin/env bash
# Boots the guest (QEMU, TCG) and runs JOB_DIR/job.sh inside it as root, in a chroot
# of the host's root; JOB_DIR itself is shared read-write at the same path.
# Usage: guest/run.sh JOB_DIR [TIMEOUT_SECONDS]
# Exit status: the job's own, or 124 on timeout, 125 when the guest crashed or hung.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
job=$(cd "${1:?usage: run.sh JOB_DIR [TIMEOUT]}" && pwd)
timeout=${2:-1800}
# The repository is shared at its own path too: a checkout under /tmp would otherwise be
# hidden by the guest's tmpfs.
repo=$(cd "$here/.." && pwd)
cache=${DMPS_GUEST_CACHE:-$here/../out/guest}
"$here/prepare.sh" "$cache" >/dev/null || exit 125
[ -f "$job/job.sh" ] || { echo "guest: $job/job.sh missing" >&2; exit 2; }

# Boot takes ~1 s alone, but a minute or more when the host is busy (two TCG guests on two CPUs).
silence_limit=${DMPS_GUEST_SILENCE:-120}
memory=${DMPS_GUEST_MEMORY:-3G}
cpus=${DMPS_GUEST_CPUS:-2}

boot() {
  local console=$1
  rm -f "$job/exit-code"
  : > "$console"
  qemu-system-x86_64 \
    -machine microvm,acpi=on,rtc=on -accel tcg,thread=multi -cpu max \
    -smp "$cpus" -m "$memory" -nodefaults -no-user-config -display none -no-reboot \
    -serial "file:$console" \
    -kernel "$cache/vmlinux" -initrd "$cache/initramfs.cpio" \
    -append "console=ttyS0 panic=-1 quiet loglevel=4 rdinit=/init dmps_job=$job dmps_repo=$repo" \
    -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
    -device virtio-9p-device,fsdev=hostroot,mount_tag=hostroot \
    -fsdev "local,id=jobshare,path=$job,security_model=none,multidevs=remap" \
    -device virtio-9p-device,fsdev=jobshare,mount_tag=jobshare \
    -fsdev "local,id=reposhare,path=$repo,security_model=none,readonly=on,multidevs=remap" \
    -device virtio-9p-device,fsdev=reposhare,mount_tag=reposhare \
    -device virtio-rng-device \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 &
  local qemu=$! start=$SECONDS last_size=0 last_change=$SECONDS
  # Stream the guest's console to our output while it runs (DMPS_GUEST_QUIET=1 to silence).
  if [ "${DMPS_GUEST_QUIET:-0}" != 1 ]; then tail -n +1 -F --pid="$qemu" "$console" 2>/dev/null & fi
  while kill -0 "$qemu" 2>/dev/null; do
    sleep 1
    local size
    size=$(stat -c %s "$console" 2>/dev/null || echo 0)
    if [ "$size" -ne "$last_size" ]; then last_size=$size; last_change=$SECONDS; fi
    if [ "$size" -eq 0 ] && [ $((SECONDS - start)) -ge "$silence_limit" ]; then
      echo "guest: no console output in ${silence_limit}s; killing QEMU (pid $qemu)" >&2
      kill -9 "$qemu" 2>/dev/null; wait "$qemu" 2>/dev/null
      return 3
    fi
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
      echo "guest: timed out after ${timeout}s; killing QEMU (pid $qemu)" >&2
      kill -9 "$qemu" 2>/dev/null; wait "$qemu" 2>/dev/null
      return 4
    fi
  done
  wait "$qemu" 2>/dev/null
  return 0
}

console="$job/console.log"
boot "$console"; state=$?
# A boot that stays silent (rare, seen on busy hosts) is retried twice.
for attempt in 2 3; do
  [ "$state" -eq 3 ] || break
  echo "guest: booting once more (attempt $attempt) after a silent guest" >&2
  boot "$console"; state=$?
done
case "$state" in
  3) echo "guest: the guest printed nothing three times; giving up" >&2; exit 125 ;;
  4) tail -n 40 "$console" >&2; exit 124 ;;
esac
if [ ! -f "$job/exit-code" ]; then
  echo "guest: the guest stopped without an exit code (crash?); console tail:" >&2
  tail -n 40 "$console" >&2
  exit 125
fi
exit "$(cat "$job/exit-code")"
