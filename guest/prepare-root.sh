#!/usr/bin/env bash
# The Debian 13 lane's root: a trixie userland made by debootstrap from Debian's trixie suite
# (the host's packages untouched), with what the module and its tests run: trixie's lvm2,
# dmsetup, libdevmapper 1.02.205, thin-provisioning-tools 1.1.0, e2fsprogs, xfsprogs, systemd,
# udev, and the libraries .NET needs. The host's dotnet and the repository are bind-mounted in
# by the guest's init (run.sh's dmps_binds), so the module and its tests run unchanged.
# Usage: guest/prepare-root.sh ROOT APT_DIR   (called by prepare.sh, under its lock)
set -euo pipefail
root=$1 aptdir=$2
command -v debootstrap >/dev/null || { echo "guest: missing debootstrap (run tools/setup.sh)" >&2; exit 1; }
mirror=$(cat "$aptdir/mirror")
packages=(lvm2 dmsetup libdevmapper1.02.1 thin-provisioning-tools e2fsprogs xfsprogs util-linux kmod procps
  findutils systemd udev libicu76 libssl3t64 zlib1g libstdc++6 iproute2)
rm -rf "$root"
started=$SECONDS
debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" trixie "$root" "$mirror" >"$root.log" 2>&1 \
  || { tail -n 30 "$root.log" >&2; echo "guest: debootstrap of trixie failed (log: $root.log)" >&2; exit 1; }
# dotnet as the host's PATH has it; /usr/share/dotnet itself is the host's, bound at boot.
ln -sf /usr/share/dotnet/dotnet "$root/usr/bin/dotnet"
rm -f "$root"/var/cache/apt/archives/*.deb
echo "trixie: $(chroot "$root" dpkg-query -W -f='${Package} ${Version}\n' thin-provisioning-tools libdevmapper1.02.1 lvm2 | tr '\n' ';')" > "$root.versions"
echo "guest: Debian 13 root ready in $root ($((SECONDS - started)) s; $(cat "$root.versions"))" >&2
