#!/usr/bin/env bash
# Builds the Leptos UI into ui/dist with trunk, offline. The Tauri app embeds
# ui/dist at compile time, so this runs before any build of src-tauri.
set -euo pipefail
cd "$(dirname "$0")/../ui"
# trunk would try to download wasm-opt for release builds: it is disabled in
# index.html (data-wasm-opt="0"), and wasm-bindgen comes from PATH.
export TRUNK_SKIP_VERSION_CHECK=true
exec trunk build --release --locked "$@"
