#!/usr/bin/env bash
# Installs and checks the system packages the build and the tests need (listed, with why, in
# scripts/system-deps.txt), and builds the optional `gl` package (headless-gl) from source.
#
#   ensure-system-deps.sh            install what is missing, build gl, then --check
#   ensure-system-deps.sh --packages install what is missing (root package.json runs this as
#                                    pnpm:devPreinstall, so gl finds libxi-dev when pnpm builds it)
#   ensure-system-deps.sh --check    install nothing; exit 1 naming each missing package
#
# Idempotent and quick (a few dpkg/pkg-config queries) when everything is present. Any step that
# fails stops the script with a message naming the step: never a warning and a failed test later.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# SYSTEM_DEPS_MANIFEST: another list, for the tests of this script.
manifest="${SYSTEM_DEPS_MANIFEST:-$repo_root/scripts/system-deps.txt}"
mode="${1:-all}"
case "$mode" in all | --packages | --check) ;; *)
  echo "usage: $0 [--packages|--check]" >&2
  exit 2
  ;;
esac

say() { echo "ensure-system-deps: $*"; }
fail() {
  echo "ensure-system-deps: FAILED: $*" >&2
  exit 1
}

# has KIND:TARGET — succeeds when the thing a package provides is present.
has() {
  local kind="${1%%:*}" target="${1#*:}"
  case "$kind" in
    bin) command -v "$target" >/dev/null 2>&1 ;;
    pc) command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$target" ;;
    lib) ldconfig -p 2>/dev/null | grep -qF "$target " ;;
    file) compgen -G "$target" >/dev/null ;;
    *) fail "$manifest: unknown check kind '$kind' in '$1'" ;;
  esac
}

packages=() checks=() whys=()
while read -r pkg check why; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  packages+=("$pkg") checks+=("$check") whys+=("$why")
done <"$manifest"

missing_packages() {
  local i
  for i in "${!packages[@]}"; do
    has "${checks[$i]}" || echo "${packages[$i]}"
  done
}

install_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  ((${#missing[@]})) || return 0
  say "installing ${missing[*]} (Debian packages; see scripts/system-deps.txt for why)"
  local sudo= why_not=
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    why_not="installing them needs root: run 'sudo bash scripts/ensure-system-deps.sh' once"
  elif [ "$(id -u)" -ne 0 ]; then
    sudo=sudo
  fi
  command -v apt-get >/dev/null 2>&1 || why_not="there is no apt-get here: install them (or your system's equivalents) by hand"
  if [ -n "$why_not" ]; then
    # During `pnpm install` (--packages) this is not fatal: the library installs and trains without
    # them; only the build of the optional gl and the test suite need them, and `pnpm test` stops
    # at its --check naming each one.
    [ "$mode" = --packages ] && { say "not installing ${missing[*]}: $why_not"; return 0; }
    fail "missing ${missing[*]}; $why_not"
  fi
  $sudo apt-get update -qq || fail "step 'apt-get update' failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    fail "step 'apt-get install ${missing[*]}' failed"
}

# gl (headless-gl, a dependency of gpu.js) has no prebuilt binary it can download here, so pnpm
# builds it from source; that build fails, and pnpm drops the optional package silently, when
# libxi-dev was missing at install time. Rebuild it once, offline: node-gyp is pointed at the
# headers of the Node that runs it (Debian's nodejs ships them) instead of downloading them.
gl_dirs() { compgen -G "$repo_root/node_modules/.pnpm/gl@*/node_modules/gl" || true; }
gl_loads() { (cd "$1" && node -e "require('./build/Release/webgl.node')" >/dev/null 2>&1); }

build_gl() {
  local gl_dir node_gyp nodedir log
  for gl_dir in $(gl_dirs); do
    gl_loads "$gl_dir" && continue
    node_gyp="$(compgen -G "$repo_root/node_modules/.pnpm/node-gyp@*/node_modules/node-gyp/bin/node-gyp.js" | sort -V | tail -1 || true)"
    [ -n "$node_gyp" ] || fail "step 'build gl': node-gyp is not in node_modules (run pnpm install)"
    nodedir="$(node -p 'require("path").resolve(process.execPath, "../..")')"
    [ -f "$nodedir/include/node/node.h" ] || fail "step 'build gl': no Node headers in $nodedir/include/node (Debian: they come with the nodejs package; elsewhere install Node's headers)"
    log="$(mktemp -t gl-build.XXXXXX.log)"
    say "building gl (headless-gl) from source in $gl_dir (a few minutes; log: $log)"
    rm -rf "$gl_dir/build"
    if ! (cd "$gl_dir" && node "$node_gyp" rebuild --nodedir="$nodedir" >"$log" 2>&1); then
      tail -n 20 "$log" >&2
      fail "step 'build gl' (node-gyp rebuild in $gl_dir) failed; full log: $log"
    fi
    gl_loads "$gl_dir" || fail "step 'build gl': $gl_dir/build/Release/webgl.node was built but does not load"
    rm -f "$log"
  done
}

check() {
  local i bad=0 gl_dir
  for i in "${!packages[@]}"; do
    if ! has "${checks[$i]}"; then
      echo "ensure-system-deps: missing ${checks[$i]} (Debian package ${packages[$i]}; needed for: ${whys[$i]}): run bash scripts/ensure-system-deps.sh" >&2
      bad=1
    fi
  done
  for gl_dir in $(gl_dirs); do
    gl_loads "$gl_dir" || {
      echo "ensure-system-deps: gl (headless-gl) in $gl_dir is not built: run bash scripts/ensure-system-deps.sh" >&2
      bad=1
    }
  done
  ((bad == 0)) || fail "system dependencies are missing (listed above; scripts/system-deps.txt says why each is needed)"
}

case "$mode" in
  --packages) install_packages ;;
  --check) check ;;
  all)
    install_packages
    build_gl
    check
    ;;
esac
