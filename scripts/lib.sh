# Shared by scripts/run and scripts/test: check the toolchains, install what is missing, build
# the UI when its sources changed. Every step is a no-op when its result is already there.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

say() { printf '\033[1;36m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# What building and running the desktop app needs (Tauri 2 on Debian/Ubuntu, protoc for gRPC,
# Mesa's Vulkan drivers so wgpu can enumerate adapters even without a GPU).
RUN_PACKAGES=(build-essential pkg-config curl file libssl-dev libwebkit2gtk-4.1-dev libxdo-dev
  librsvg2-dev protobuf-compiler mesa-vulkan-drivers)
# What the tests add: a virtual display, a browser, the WebDriver for the desktop window, and
# iproute2 (network namespaces for the network-culprit test; perl is part of Debian).
TEST_PACKAGES=(xvfb xauth chromium webkit2gtk-driver iproute2 python3-venv)

check_toolchains() {
  command -v cargo >/dev/null || die "Rust is missing: install stable Rust from https://rustup.rs, then rerun"
  command -v node >/dev/null || die "Node.js ≥ 20 is missing: install it (e.g. from your distribution or nodejs.org), then rerun"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js ≥ 20 is needed, found $(node --version)"
}

apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing system packages (${missing[*]}) and no apt-get: install them by hand"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  say "installing system packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_tauri_driver() {
  command -v tauri-driver >/dev/null && return 0
  say "installing tauri-driver (WebDriver for the desktop window)"
  cargo install tauri-driver --version '^2' --locked --quiet
}

# npm packages: reinstall only when package-lock.json changed since the last install.
npm_install() {
  if [ ! -f ui/node_modules/.package-lock.json ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    say "installing UI packages (npm ci)"
    (cd ui && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# The Python module client's packages (grpcio), in a venv under target/: reinstall only when
# clients/python/requirements.txt changed since the last install.
PYTHON_VENV=target/python-venv
pip_install() {
  local stamp=$PYTHON_VENV/.requirements.txt
  if [ ! -f "$stamp" ] || ! cmp -s clients/python/requirements.txt "$stamp"; then
    say "installing the Python client's packages (pip, into $PYTHON_VENV)"
    python3 -m venv "$PYTHON_VENV"
    "$PYTHON_VENV/bin/pip" install --quiet --disable-pip-version-check -r clients/python/requirements.txt
    cp clients/python/requirements.txt "$stamp"
  fi
}

# The UI build: redo it only when a source is newer than the last build.
build_ui() {
  local stamp=ui/dist/index.html
  if [ ! -f "$stamp" ] || [ -n "$(find ui/src ui/index.html ui/package.json ui/vite.config.ts -newer "$stamp" -print -quit 2>/dev/null)" ]; then
    say "building the UI"
    (cd ui && npm run --silent build)
  fi
}

has_display() {
  [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]
}
