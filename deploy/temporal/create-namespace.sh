#!/bin/sh
# One-shot `temporal-namespace` service (temporalio/admin-tools): wait until the Temporal server answers, then
# create the namespace the workers use (auto-setup used to do this; temporalio/server does not). Idempotent.
# Environment: TEMPORAL_ADDRESS, NAMESPACE, RETENTION (how long closed runs stay visible in the UI).
set -eu
: "${TEMPORAL_ADDRESS:?}" "${NAMESPACE:?}"
tries=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "Temporal at $TEMPORAL_ADDRESS is not healthy after $tries tries" >&2; exit 1; }
  sleep 2
done
if temporal operator namespace describe --namespace "$NAMESPACE" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal operator namespace create --namespace "$NAMESPACE" --retention "${RETENTION:-7d}" --address "$TEMPORAL_ADDRESS"
  echo "namespace $NAMESPACE created"
fi
