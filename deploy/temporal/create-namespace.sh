#!/bin/sh
# One-shot `temporal-namespace` service (temporalio/admin-tools): wait until the Temporal server answers, then
# create the namespace the workers use (auto-setup used to do this; temporalio/server does not) and register the
# custom search attributes every run sets: the worker refuses to start without them. Idempotent.
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
# The list in src/workflows/search-attributes.ts (SEARCH_ATTRIBUTES), as NAME=Type; test/unit/compose.test.ts keeps
# the two equal, and npm run rehearse fails when one is missing (the workers then refuse to start).
SEARCH_ATTRIBUTES="SendonceJob=Keyword SendonceWindow=Keyword SendonceOutcome=Keyword SendonceReason=Keyword SendonceSent=Int SendonceDead=Int SendonceUnknown=Int"
# A namespace just created reaches every frontend's cache within seconds: until then it is "not found".
tries=0
until existing="$(temporal operator search-attribute list --namespace "$NAMESPACE" --address "$TEMPORAL_ADDRESS" 2>&1)"; do
  tries=$((tries + 1))
  [ "$tries" -lt 30 ] || { echo "cannot list the search attributes of $NAMESPACE: $existing" >&2; exit 1; }
  sleep 1
done
for attribute in $SEARCH_ATTRIBUTES; do
  name="${attribute%%=*}"
  if printf '%s\n' "$existing" | grep -qw -- "$name"; then
    echo "search attribute $name exists"
  else
    temporal operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "${attribute#*=}" \
      --address "$TEMPORAL_ADDRESS"
    echo "search attribute $name created"
  fi
done
