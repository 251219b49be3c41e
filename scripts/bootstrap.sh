#!/usr/bin/env bash
# Installs everything the build and the tests need: Debian packages, the wasm32
# target, trunk, wasm-bindgen-cli (same version as Cargo.lock) and tauri-driver.
# Idempotent: each step checks first and skips what is already there, so a
# second run takes seconds. Nothing is downloaded outside the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
TAURI_DRIVER_VERSION=2.1.0
APT_PACKAGES=(
  build-essential pkg-config libssl-dev
  libwebkit2gtk-4.1-dev libjavascriptcoregtk-4.1-dev libsoup-3.0-dev
  libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  xvfb xauth dbus-x11 webkit2gtk-driver imagemagick gnome-keyring
  xdotool dunst dbus-bin procps dpkg-dev file
)

log() { printf 'bootstrap: %s\n' "$*" >&2; }
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo_if_needed apt-get -o DPkg::Lock::Timeout=900 update -qq
  sudo_if_needed apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# Tools are built without LTO: about twice as fast to build, no difference for us.
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16

# A tool counts as installed when cargo installed that exact version and the binary is on disk.
have_version() { command -v "$1" >/dev/null 2>&1 && cargo install --list 2>/dev/null | grep -q "^$3 v$2:"; }

if ! have_version trunk "$TRUNK_VERSION" trunk; then
  log "building trunk $TRUNK_VERSION (several minutes, once)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# wasm-bindgen-cli must equal the wasm-bindgen the workspace resolves, or
# trunk tries to download one. Read it from Cargo.lock.
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock 2>/dev/null || true)
WB_VERSION=${WB_VERSION:-0.2.130}
if ! have_version wasm-bindgen "$WB_VERSION" wasm-bindgen-cli; then
  log "building wasm-bindgen-cli $WB_VERSION (several minutes, once)"
  # Not --locked: its lockfile names a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "=$WB_VERSION"
fi

if ! have_version tauri-driver "$TAURI_DRIVER_VERSION" tauri-driver; then
  log "building tauri-driver $TAURI_DRIVER_VERSION"
  cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" --locked
fi

# Prometheus, Alertmanager and node_exporter for the live-source tests.
scripts/stack.sh install

log "ok"
