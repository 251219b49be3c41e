#!/usr/bin/env bash
# Installs what is missing, builds the UI and the app, and opens Sentinel
# Console on the embedded demo cluster. Extra arguments go to the app
# (e.g. `--pods 10000`, `--seed 7`, `--interval-ms 1000`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/build-ui.sh
cargo build --locked -p sentinel-app
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display. Start one (e.g. Xvfb :99 & export DISPLAY=:99) or use the headless CLI: cargo run -p sentinel-cli -- demo" >&2
  exit 1
fi
# Tray, notifications and single-instance talk over the session bus.
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  exec dbus-run-session -- target/debug/sentinel-console "$@"
fi
exec target/debug/sentinel-console "$@"
