#!/usr/bin/env bash
# Builds an installable .deb offline with dpkg-deb: the app, the headless
# CLI, a .desktop entry and icons. `--debug` packages the debug build (used
# by the tests); the default is a release build.
#   scripts/package.sh [--debug] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release out=target/package
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) profile=debug ;;
    --out) out=$2; shift ;;
    *) echo "package: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
scripts/bootstrap.sh
if [ "$profile" = release ]; then
  scripts/build-ui.sh
  cargo build --locked --release -p sentinel-app -p sentinel-cli
elif [ ! -x target/debug/sentinel-console ] || [ ! -x target/debug/sentinel ]; then
  scripts/build-ui.sh
  cargo build --locked -p sentinel-app -p sentinel-cli
fi
version=$(awk -F'"' '/^version = /{print $2; exit}' Cargo.toml)
arch=$(dpkg --print-architecture)
root=$(mktemp -d)
chmod 755 "$root"
trap 'rm -rf "$root"' EXIT
install -Dm755 "target/$profile/sentinel-console" "$root/usr/bin/sentinel-console"
install -Dm755 "target/$profile/sentinel" "$root/usr/bin/sentinel"
for size in 32x32 128x128; do
  install -Dm644 "icons/$size.png" "$root/usr/share/icons/hicolor/$size/apps/sentinel-console.png"
done
install -Dm644 "icons/128x128@2x.png" "$root/usr/share/icons/hicolor/256x256/apps/sentinel-console.png"
install -Dm644 /dev/stdin "$root/usr/share/applications/sentinel-console.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=Sentinel Console
Comment=On-call console for Kubernetes, Prometheus and Alertmanager
Exec=sentinel-console
Icon=sentinel-console
Terminal=false
Categories=Development;Monitor;System;
StartupWMClass=sentinel-console
DESKTOP
mkdir -p "$root/DEBIAN"
cat > "$root/DEBIAN/control" <<CONTROL
Package: sentinel-console
Version: $version
Section: devel
Priority: optional
Architecture: $arch
Depends: libwebkit2gtk-4.1-0, libgtk-3-0, libayatana-appindicator3-1
Maintainer: Sentinel Console maintainers <maintainers@sentinel.invalid>
Description: On-call console for Kubernetes, Prometheus and Alertmanager
 Sentinel Console watches clusters from the on-call engineer's desktop,
 explains every alert and ships with an embedded demo cluster.
CONTROL
mkdir -p "$out"
deb="$out/sentinel-console_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
