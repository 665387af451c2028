#!/usr/bin/env bash
# Starts the release build on a fresh SQLite database with demo data and two
# known accounts, for the browser tests. .ci/test builds beforehand.
set -euo pipefail
cd "$(dirname "$0")"
port="${1:-3100}"
target="${CARGO_TARGET_DIR:-$HOME/.cache/audience/target}"
server="$target/release/server"
rm -rf .data && mkdir -p .data
export DATABASE_URL="sqlite://$PWD/.data/e2e.db"
export LEPTOS_SITE_ROOT="$PWD/../target/site"
export LEPTOS_SITE_ADDR="127.0.0.1:$port"
# Tiles that cannot load (this server answers 404), as on a machine without
# internet: the maps must still show markers, circles and trails.
export MAP_TILE_URL="http://127.0.0.1:$port/no-tiles/{z}/{x}/{y}.png"
# No SMTP listener: the default port may belong to a console being served.
export SMTP_PORT=0
# The demo app's API key, for tests that feed data through the ingest API.
"$server" demo-data --users 60 | tail -n 1 > .data/api-key
# A second, empty app for the app switcher.
"$server" app create --name "Second" >/dev/null
ADMIN_PASSWORD="tall admin stairs 42" "$server" admin create --email admin@e2e.test --role admin
ADMIN_PASSWORD="quiet viewer lamp 7" "$server" admin create --email viewer@e2e.test --role viewer
exec "$server"
