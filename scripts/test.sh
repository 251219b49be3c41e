#!/usr/bin/env bash
# Every test, from a clean clone: formatting, lints, architecture guards,
# unit and integration tests, the end-to-end test in the real webview under
# Xvfb, and the .deb packaging. CI runs this through .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }

step bootstrap
scripts/bootstrap.sh
# A clean build and test run needs about 4 GB; say so before cargo runs out.
avail_kb=$(df -Pk . | awk 'NR==2 {print $4}')
if [ "$avail_kb" -lt 8000000 ]; then
  echo "warning: only $((avail_kb / 1024 / 1024)) GiB free for the build" >&2
fi

step fmt
cargo fmt --all -- --check

step "build ui"
scripts/build-ui.sh

step clippy
cargo clippy --locked --workspace --exclude sentinel-ui --all-targets -- -D warnings
cargo clippy --locked -p sentinel-ui --target wasm32-unknown-unknown -- -D warnings

step guards
scripts/guards.sh

step build
cargo build --locked --workspace --exclude sentinel-ui --all-targets

step test
# One session bus and one X display for the whole run; the E2E tier is on.
export SENTINEL_E2E=1
xvfb-run -a -s "-screen 0 1440x900x24 -nolisten tcp" \
  dbus-run-session -- cargo test --locked --workspace --exclude sentinel-ui -- --test-threads=2

step package
rm -rf target/package-test
deb=$(scripts/package.sh --debug --out target/package-test)
# Read whole listings first: `grep -q` would close the pipe early under pipefail.
info=$(dpkg-deb --info "$deb")
contents=$(dpkg-deb --contents "$deb")
for want in "Package: sentinel-console" "Depends: libwebkit2gtk-4.1-0"; do
  grep -qF "$want" <<<"$info" || { echo "package: control lacks '$want'" >&2; exit 1; }
done
for want in usr/bin/sentinel-console usr/bin/sentinel usr/share/applications/sentinel-console.desktop \
  usr/share/icons/hicolor/128x128/apps/sentinel-console.png; do
  grep -qF "./$want" <<<"$contents" || { echo "package: $want missing" >&2; exit 1; }
done
echo "package: $deb ok"

step done
