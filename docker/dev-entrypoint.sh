#!/bin/sh
# Dev target only: make the SoftHSM demo token on first start (TEST CA and TEST seal), then serve.
# The demo token's PIN is a well-known test value: this image must never seal real credentials.
set -eu
if [ ! -f "$SOFTHSM2_CONF" ]; then
    mkdir -p "$(dirname "$SOFTHSM2_CONF")/tokens"
    printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
        "$(dirname "$SOFTHSM2_CONF")" > "$SOFTHSM2_CONF"
fi
edc-hsm demo-token
exec edc-bridge serve --demo --host 0.0.0.0 --port "${EDC_PORT:-8080}"
