#!/usr/bin/env bash
# Installs what building and testing DmPowerShell needs on Debian 12 (run as root):
# the guest lanes' QEMU, busybox and debootstrap, thin-provisioning-tools, dmsetup, file-system tools;
# then pwsh (dotnet local tool, pinned in .config/dotnet-tools.json) and Pester (NuGet).
# Needs the .NET 10 SDK on PATH. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(qemu-system-x86 busybox-static thin-provisioning-tools kmod cpio xz-utils
  dmsetup libdevmapper1.02.1 e2fsprogs xfsprogs util-linux systemd lvm2 openssh-server openssh-client
  gcc libc6-dev libdevmapper-dev    # these three build the benchmark's C floor
  prometheus prometheus-node-exporter    # promtool and node_exporter read the pool metrics
  docker.io containerd                    # container runtimes as clients of the module's pools
  udev                                    # the systemd guest's device units and /dev/mapper nodes
  debootstrap debian-archive-keyring)     # the Debian 13 guest lane's trixie root (guest/prepare-root.sh)
command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 POWERSHELL_UPDATECHECK=Off

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# apt (mostly download and unpacking) runs beside the .NET restore (mostly CPU): on a fresh
# machine that saves the shorter of the two. Nothing the restore does needs these packages.
apt_pid=
apt_log=$(mktemp)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  ( apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" ) >"$apt_log" 2>&1 &
  apt_pid=$!
fi

dotnet tool restore >/dev/null
dotnet pwsh -NoProfile -File build.ps1 -Task Restore

if [ -n "$apt_pid" ] && ! wait "$apt_pid"; then
  cat "$apt_log" >&2
  echo "setup: installing ${missing[*]} failed" >&2
  exit 1
fi
rm -f "$apt_log"
# The guest lane downloads linux-image-amd64's kernel package: apt needs current lists.
if ! apt-cache depends linux-image-amd64 2>/dev/null | grep -q 'Depends: linux-image-[0-9]'; then
  apt-get update -qq
fi
echo "setup: ready"
