#!/bin/sh
# One-shot `temporal-schema` service (temporalio/admin-tools): create Temporal's two databases in the Postgres
# service and bring their schemas to the version the server image expects, as Temporal's self-hosting guide does
# with temporal-sql-tool (the replacement for the deprecated temporalio/auto-setup image). Safe to run on every
# `docker compose up`: `create` ignores an existing database, `setup-schema -v 0.0` keeps a newer version, and
# `update-schema` applies only the versions not applied yet.
# Environment: POSTGRES_SEEDS (host), DB_PORT, POSTGRES_USER, SQL_PASSWORD (read by temporal-sql-tool);
# TEMPORAL_SCHEMA_DIR where the image is not the admin-tools one (npm run rehearse: the server module's schema/).
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
SCHEMA_DIR="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"
for db in temporal temporal_visibility; do
  case "$db" in temporal) versions="$SCHEMA_DIR/temporal/versioned" ;; *) versions="$SCHEMA_DIR/visibility/versioned" ;; esac
  sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" --db "$db" "$@"; }
  sql create
  sql setup-schema -v 0.0
  sql update-schema -d "$versions"
  echo "database $db: schema up to date"
done
