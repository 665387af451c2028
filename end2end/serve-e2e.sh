#!/usr/bin/env bash
# Starts the release build on a fresh SQLite database with demo data, for
# the browser tests. The build itself is done by .ci/test beforehand.
set -euo pipefail
cd "$(dirname "$0")"
port="${1:-3100}"
target="${CARGO_TARGET_DIR:-$HOME/.cache/audience/target}"
rm -rf .data && mkdir -p .data
export DATABASE_URL="sqlite://$PWD/.data/e2e.db"
export LEPTOS_SITE_ROOT="$PWD/../target/site"
export LEPTOS_SITE_ADDR="127.0.0.1:$port"
"$target/release/server" demo-data --users 60 >/dev/null
exec "$target/release/server"
