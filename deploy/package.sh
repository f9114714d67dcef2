#!/usr/bin/env bash
# Builds what a server runs and packs it: target/zhicha-<version>.tar.gz holding
#   bin/zhicha-server  (cargo build --release: fast code, a panic fails one request only)
#   dist/              (the release PWA with its brotli and gzip copies)
#   deploy/            (systemd unit, configuration, nginx example)
# Installs the build tools it lacks first (scripts/setup.sh). See docs/deploy.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/setup.sh"
cd "$ROOT"

ensure_rust
ensure_trunk
ensure_wasm_bindgen
ensure_node
build_pwa
say "building the server (release)"
cargo build --locked --release -p zhicha-server

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
version="$(git describe --always --dirty 2>/dev/null || date -u +%Y%m%d%H%M)"
stage="$TARGET_DIR/package/zhicha-$version"
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/deploy"
install -m 0755 "$TARGET_DIR/release/zhicha-server" "$stage/bin/"
cp -a "$ROOT/dist" "$stage/dist"
cp "$ROOT"/deploy/zhicha.service "$ROOT"/deploy/zhicha.env "$ROOT"/deploy/nginx.conf "$stage/deploy/"
tar -C "$TARGET_DIR/package" -czf "$TARGET_DIR/zhicha-$version.tar.gz" "zhicha-$version"
say "packed $TARGET_DIR/zhicha-$version.tar.gz"
