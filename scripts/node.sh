#!/usr/bin/env bash
# `node "$@"` on the project's one runtime, the Dockerfile's Node major: the machine's `node` when it is that
# major, else the copy scripts/bootstrap.sh caches (fetched from the npm registry the first time). Its bin
# directory goes first on PATH, so whatever the program starts as `node` — child processes, `npx`, npm's
# scripts, `#!/usr/bin/env node` — runs on the same Node. Every npm script that runs node goes through this.
# Usage: bash scripts/node.sh [node options] script.ts|script.js [args…]
set -euo pipefail
bin="$(bash "$(dirname "$0")/bootstrap.sh" --node-bin)"
PATH="$bin:$PATH" exec "$bin/node" "$@"
