#!/bin/sh
# Compile what the runtime image runs (Dockerfile build stage, `npm run build`, test/integration/compiled-worker.test.ts):
#   OUT/src/**.js               TypeScript compiled by tsc (tsconfig.build.json: src/ without the local stack)
#   OUT/src/db/migrations, OUT/src/lock/lua, OUT/src/templates/builtin   the SQL, Lua and template files the
#                                                                        compiled code reads at run time
#   OUT/workflow-bundle.js      the workflow bundle, prebuilt (WORKFLOW_BUNDLE_PATH): no webpack at worker start
# Needs the dev dependencies (typescript, tsx); the result needs only the production ones.
# Usage: sh deploy/build.sh [OUT]   (default dist)
set -eu
cd "$(dirname "$0")/.."
OUT="${1:-dist}"
rm -rf "$OUT"
npx tsc -p tsconfig.build.json --outDir "$OUT"
cp -R src/db/migrations "$OUT/src/db/migrations"
cp -R src/lock/lua "$OUT/src/lock/lua"
cp -R src/templates/builtin "$OUT/src/templates/builtin"
node --import tsx scripts/bundle-workflows.ts "$OUT/workflow-bundle.js"
