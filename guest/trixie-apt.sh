#!/usr/bin/env bash
# apt options that read Debian 13 (trixie) in lists of their own under DIR, leaving the host's
# apt configuration and lists untouched; prints them on one line for apt-get and apt-cache.
# The mirror is the one the host's apt sources already name (deb.debian.org when none).
# Usage: guest/trixie-apt.sh DIR
set -euo pipefail
dir=$(mkdir -p "$1" && cd "$1" && pwd)
mirror=$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
  | grep -v security | head -n1 | tr -d ' ' || true)
mirror=${mirror:-http://deb.debian.org/debian}
mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror%/} trixie main" > "$dir/sources.list"
opts="-o Dir::Etc::SourceList=$dir/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$dir/lists -o Dir::Cache=$dir/cache"
# Lists younger than a day are reused (prepare.sh runs this once per cache build).
if [ -z "$(find "$dir/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n1)" ]; then
  # shellcheck disable=SC2086
  apt-get $opts update -qq >&2
fi
echo "${mirror%/}" > "$dir/mirror"   # for debootstrap (prepare-root.sh)
echo "$opts"
