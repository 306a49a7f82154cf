#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing.
# Idempotent, and quick (a few dpkg queries) when everything is present.
# Each package that needs something appends to PACKAGES with a comment saying why.
set -euo pipefail

PACKAGES=(
  chromium # apps/docs browser tests drive Debian's chromium through playwright-core (never `playwright install`)
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "ensure-system-deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
