#!/usr/bin/env bash
# Builds what the guest lane boots: Debian's kernel (downloaded, never installed),
# an uncompressed vmlinux, and a busybox initramfs with the modules the tests need.
# Usage: guest/prepare.sh [CACHE_DIR]   (default: out/guest under the repository)
# DMPS_GUEST_LANE=debian13: trixie's kernel instead of the host's suite's (6.12, from a private
# apt configuration: the host's package lists stay untouched), and its root (prepare-root.sh).
# Idempotent: a finished cache (marked by CACHE_DIR/ready) is reused.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-$here/../out/guest}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# The cache is keyed by this script and the init it packs: edit either and it is rebuilt.
lane=${DMPS_GUEST_LANE:-debian12}
case "$lane" in debian12|debian13) ;; *) echo "guest: unknown lane '$lane' (debian12, debian13)" >&2; exit 1 ;; esac
stamp=$( (cat "$here/prepare.sh" "$here/init"; echo "$lane") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$cache/ready" 2>/dev/null)" = "$stamp" ]; then
  echo "guest: using cached kernel and initramfs in $cache"
  exit 0
fi
# Two guests started side by side (GuestTest) prepare the same cache: one builds it, the other
# waits for it here and then finds it ready.
exec 9>"$cache/.lock"
flock 9
if [ "$(cat "$cache/ready" 2>/dev/null)" = "$stamp" ]; then
  echo "guest: using cached kernel and initramfs in $cache"
  exit 0
fi

need() { command -v "$1" >/dev/null 2>&1; }
for tool in qemu-system-x86_64 busybox depmod modprobe cpio xz dpkg-deb apt-get; do
  need "$tool" || { echo "guest: missing $tool (run tools/setup.sh)" >&2; exit 1; }
done

aptopts=()
if [ "$lane" = debian13 ]; then
  # trixie from the mirror the host's own apt sources name, in lists of its own.
  read -r -a aptopts < <("$here/trixie-apt.sh" "$cache/apt")
  [ "${#aptopts[@]}" -gt 0 ] || { echo "guest: trixie's package lists could not be read" >&2; exit 1; }
fi
# The image package that linux-image-amd64 points at (6.1.x on Debian 12, 6.12.x on 13).
pkg=$(apt-cache "${aptopts[@]}" depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$pkg" ] || { echo "guest: cannot resolve linux-image-amd64 (apt-get update?)" >&2; exit 1; }
version=${pkg#linux-image-}

work="$cache/build"
rm -rf "$work" "$cache/kernel" && mkdir -p "$work"
(cd "$work" && apt-get "${aptopts[@]}" download "$pkg" 2>&1 >/dev/null | grep -v "unsandboxed as root" >&2 || true)
dpkg-deb -x "$work"/"$pkg"_*.deb "$cache/kernel"
# Debian 13's package is merged-/usr (usr/lib/modules); depmod and modprobe -d look in lib/modules.
[ -e "$cache/kernel/lib" ] || ln -s usr/lib "$cache/kernel/lib"
depmod -b "$cache/kernel" "$version"

# Booting the uncompressed ELF saves ~2 s of decompression under TCG. Debian 13's bzImage carries
# no xz stream (another compression): it boots as it is.
bz="$cache/kernel/boot/vmlinuz-$version"
offset=$(LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "$bz" | head -n1 | cut -d: -f1 || true)
if [ -n "$offset" ]; then
  tail -c +$((offset + 1)) "$bz" 2>/dev/null | xz -dc --single-stream > "$cache/vmlinux" 2>/dev/null || true
  head -c 4 "$cache/vmlinux" | grep -q 'ELF' || { echo "guest: vmlinux extraction failed" >&2; exit 1; }
elif [ "$lane" = debian13 ]; then
  cp "$bz" "$cache/vmlinux"
else
  echo "guest: no xz stream in $bz" >&2; exit 1
fi

# The initramfs: busybox, an init, and the modules in load order.
root="$work/initramfs"
mkdir -p "$root"/{bin,dev,proc,sys,newroot,lib/modules}
cp "$(command -v busybox)" "$root/bin/busybox"
modules="crc32c_generic crc32c_intel virtio_mmio virtio_pci virtio_rng 9pnet_virtio 9p loop
dm_mod dm_thin_pool dm_snapshot dm_zero dm_flakey dm_delay dm_log_writes ext4 xfs
virtio_blk overlay autofs4"
: > "$root/modules.order"
for m in $modules; do
  modprobe -d "$cache/kernel" -S "$version" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
  name=$(basename "$ko")
  case "$name" in
    *.ko.xz) xz -dc "$ko" > "$root/lib/modules/${name%.xz}"; name=${name%.xz} ;;
    *) cp "$ko" "$root/lib/modules/$name" ;;
  esac
  echo "$name" >> "$root/modules.order"
done
cp "$here/init" "$root/init"
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) > "$cache/initramfs.cpio"

echo "$version" > "$cache/kernel-version"
[ "$lane" = debian13 ] && "$here/prepare-root.sh" "$cache/root" "$cache/apt"
count=$(wc -l < "$root/modules.order")
rm -rf "$work"
echo "$stamp" > "$cache/ready"
echo "guest: kernel $version and initramfs ready in $cache ($count modules)"
