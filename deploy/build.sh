#!/bin/sh
# Compile what the runtime image runs (Dockerfile build stage, `npm run build`, test/integration/compiled-worker.test.ts):
#   OUT/src/**.js               TypeScript compiled by tsc (tsconfig.build.json: src/ without the local stack)
#   OUT/src/db/migrations, OUT/src/lock/lua, OUT/src/templates/builtin   the SQL, Lua and template files the
#                                                                        compiled code reads at run time
#   OUT/workflow-bundle.js      the workflow bundle, prebuilt (WORKFLOW_BUNDLE_PATH): no webpack at worker start
# With a jobs module of your own (JOBS_MODULE, a .ts file in this repository, e.g. examples/weekly-report.ts):
#   OUT/<its folder>/**         the module's folder compiled with src/ (its imports of src/ keep working), and every
#                               file there that is not TypeScript (its templates) copied as it is
#   OUT/jobs.js                 re-exports the module: the image sets SENDONCE_JOBS_MODULE=/app/dist/jobs.js
# Needs the dev dependencies (typescript, tsx); the result needs only the production ones.
# Usage: sh deploy/build.sh [OUT] [JOBS_MODULE]   (default dist, no jobs module: the built-in jobs)
set -eu
cd "$(dirname "$0")/.."
OUT="${1:-dist}"
JOBS_MODULE="${2:-}"
rm -rf "$OUT"
if [ -n "$JOBS_MODULE" ]; then
  case "$JOBS_MODULE" in
    /*|../*) echo "deploy/build.sh: JOBS_MODULE must be a path inside the repository (the build context), got '$JOBS_MODULE'" >&2; exit 2 ;;
    *.ts) ;;
    *) echo "deploy/build.sh: JOBS_MODULE must name a TypeScript file (e.g. examples/weekly-report.ts), got '$JOBS_MODULE'" >&2; exit 2 ;;
  esac
  [ -f "$JOBS_MODULE" ] || { echo "deploy/build.sh: JOBS_MODULE '$JOBS_MODULE' does not exist" >&2; exit 2; }
  JOBS_DIR=$(dirname "$JOBS_MODULE")
  # tsc takes extra files only through a project file: one next to tsconfig.build.json, removed on exit.
  PROJECT=".tsconfig.jobs-$$.json"
  trap 'rm -f "$PROJECT"' EXIT
  printf '{ "extends": "./tsconfig.build.json", "include": ["src/**/*.ts", "%s/**/*.ts"] }\n' "$JOBS_DIR" > "$PROJECT"
  npx tsc -p "$PROJECT" --outDir "$OUT"
  (cd "$JOBS_DIR" && find . -type f ! -name '*.ts') | while IFS= read -r f; do
    mkdir -p "$OUT/$JOBS_DIR/$(dirname "$f")"
    cp "$JOBS_DIR/$f" "$OUT/$JOBS_DIR/$f"
  done
  printf "// The jobs module built into this image (deploy/build.sh JOBS_MODULE=%s).\nmodule.exports = require('./%s.js');\n" "$JOBS_MODULE" "${JOBS_MODULE%.ts}" > "$OUT/jobs.js"
else
  npx tsc -p tsconfig.build.json --outDir "$OUT"
fi
cp -R src/db/migrations "$OUT/src/db/migrations"
cp -R src/lock/lua "$OUT/src/lock/lua"
cp -R src/templates/builtin "$OUT/src/templates/builtin"
node --import tsx scripts/bundle-workflows.ts "$OUT/workflow-bundle.js"
