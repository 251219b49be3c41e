#!/usr/bin/env bash
# Architecture invariants, stated as absences and checked with cargo tree.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
absent() { # crate, forbidden dependency; on any target platform
  local tree
  tree=$(cargo tree --locked --target all -p "$1" -e normal -i "$2" 2>/dev/null || true)
  if [ -n "$tree" ]; then
    echo "guard: $1 must not depend on $2:" >&2
    echo "$tree" | head -5 >&2
    fail=1
  fi
}
for c in sentinel-model sentinel-protocol sentinel-sim sentinel-detect sentinel-explain sentinel-runtime sentinel-service sentinel-cli sentinel-ui sentinel-prom sentinel-kube sentinel-secrets sentinel-store; do
  absent "$c" tauri
done
for dep in tokio reqwest sqlx; do
  absent sentinel-model "$dep"; absent sentinel-protocol "$dep"; absent sentinel-sim "$dep"
  absent sentinel-detect "$dep"
  absent sentinel-explain "$dep"
done
# The engine spawns nothing and does no IO: no async runtime, no HTTP, no files.
for dep in futures mio hyper; do
  absent sentinel-detect "$dep"
  absent sentinel-explain "$dep"
done
# The UI does IO only through Tauri's IPC (leptos pulls tokio on some hosts, so it is not listed).
for dep in reqwest sqlx sentinel-runtime sentinel-sim sentinel-service; do
  absent sentinel-ui "$dep"
done
absent sentinel-runtime sentinel-protocol
# Only the store crate knows SQL: it alone depends on sqlx; the others reach
# history through its API (the runtime, the shells) or not at all.
direct=$(cargo tree --locked --workspace -e normal -i sqlx --depth 1 --prefix none 2>/dev/null \
  | sed 1d | awk '{print $1}' | sort -u | tr '\n' ' ')
if [ "$direct" != "sentinel-store " ]; then
  echo "guard: only sentinel-store may depend on sqlx, found: $direct" >&2
  fail=1
fi
if grep -rln "sqlx" --include=*.rs crates src-tauri ui tests | grep -v "^crates/sentinel-store/"; then
  echo "guard: SQL lives in sentinel-store only" >&2
  fail=1
fi
# Only the source crates speak HTTP to clusters: reqwest is theirs alone
# (tauri pulls its own copy for the shell, which is not ours to use).
direct=$(cargo tree --locked --workspace -e normal -i reqwest --depth 1 --prefix none 2>/dev/null \
  | sed 1d | awk '{print $1}' | grep -v '^tauri$' | sort -u | tr '\n' ' ')
if [ "$direct" != "sentinel-prom " ]; then
  echo "guard: only sentinel-prom may depend on reqwest, found: $direct" >&2
  fail=1
fi
# Only the source crates speak to clusters: kube-rs is sentinel-kube's alone.
direct=$(cargo tree --locked --workspace -e normal -i kube --depth 1 --prefix none 2>/dev/null \
  | sed 1d | awk '{print $1}' | sort -u | tr '\n' ' ')
if [ "$direct" != "sentinel-kube " ]; then
  echo "guard: only sentinel-kube may depend on kube, found: $direct" >&2
  fail=1
fi
for dep in sqlx keyring reqwest; do
  absent sentinel-kube "$dep"
done
# The Kubernetes mapping and mirror are pure: no clock.
if grep -rn "SystemTime::now\|Instant::now" crates/sentinel-kube/src; then
  echo "guard: sentinel-kube takes time as an argument" >&2
  fail=1
fi
# Only the secrets crate talks to the keyring.
direct=$(cargo tree --locked --workspace -e normal -i keyring --depth 1 --prefix none 2>/dev/null \
  | sed 1d | awk '{print $1}' | sort -u | tr '\n' ' ')
if [ "$direct" != "sentinel-secrets " ]; then
  echo "guard: only sentinel-secrets may depend on keyring, found: $direct" >&2
  fail=1
fi
for c in sentinel-model sentinel-protocol sentinel-sim sentinel-detect sentinel-store sentinel-prom; do
  absent "$c" keyring
done
# A credential is a Secret (Debug prints ***) and is never serialisable.
if grep -rn "derive(.*Serialize.*)" crates/sentinel-model/src/secret.rs; then
  echo "guard: Secret must not be serialisable" >&2
  fail=1
fi
# The vocabulary and the contract build for the browser.
cargo check --locked -q -p sentinel-model -p sentinel-protocol --target wasm32-unknown-unknown
# The sim, the model and the engine never read the clock, touch files or spawn.
if grep -rn "SystemTime::now\|Instant::now" crates/sentinel-sim/src crates/sentinel-model/src crates/sentinel-detect/src crates/sentinel-explain/src; then
  echo "guard: the sim, the model and the engine must not read the clock" >&2
  fail=1
fi
if grep -rn "std::fs\|std::net\|std::thread\|std::process\|std::env" crates/sentinel-detect/src crates/sentinel-explain/src; then
  echo "guard: the engine must not do IO, spawn or read the environment" >&2
  fail=1
fi
[ "$fail" -eq 0 ] && echo "guards: ok"
exit "$fail"
