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

# @backprop/backend-gpujs: if `gl` was installed before libxi-dev existed, its build failed
# and pnpm dropped it silently (it is optional). Build it now, once; a no-op when built.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for gl_dir in "$repo_root"/node_modules/.pnpm/gl@*/node_modules/gl; do
  [ -d "$gl_dir" ] || continue
  if [ ! -f "$gl_dir/build/Release/webgl.node" ]; then
    echo "ensure-system-deps: building gl (headless-gl) from source in $gl_dir (a few minutes)"
    node_gyp="$gl_dir/../node-gyp/bin/node-gyp.js"
    if [ -f "$node_gyp" ]; then
      (cd "$gl_dir" && node "$node_gyp" rebuild >/dev/null) || echo "ensure-system-deps: WARNING: building gl failed; headlessgl tests will fail" >&2
    else
      (cd "$repo_root/packages/backend-gpujs" && pnpm rebuild gl) || echo "ensure-system-deps: WARNING: pnpm rebuild gl failed" >&2
    fi
  fi
done
