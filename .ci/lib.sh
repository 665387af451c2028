# Shared helpers for .ci/serve, .ci/test and .ci/run. Source, don't run.
# Every slow install is skipped when the right version is already present.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${AUDIENCE_CACHE:-$HOME/.cache/audience}"
# Build outside the work tree so later builds and CI reuse it.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
export PATH="$HOME/.cargo/bin:$CACHE/tools/node_modules/.bin:$PATH"

# Incremental artifacts only pay off while editing; in CI they fill the disk.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi

# A shared target dir grows with every checkout built into it (CI clones,
# worktrees): past 40 GB its debug builds are dropped and rebuilt.
if [ -d "$CARGO_TARGET_DIR/debug" ] && [ "$(du -s --block-size=1G "$CARGO_TARGET_DIR" 2>/dev/null | cut -f1)" -gt 40 ]; then
    echo "target dir over 40 GB: removing $CARGO_TARGET_DIR/debug" >&2
    rm -rf "$CARGO_TARGET_DIR/debug"
fi

CARGO_LEPTOS_VERSION=0.3.10
BINARYEN_VERSION=132.0.0

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

# The wasm-bindgen version the workspace pins (Cargo.lock); the CLI must match it.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_build_tools() {
    step "Build tools"
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        rustup target add wasm32-unknown-unknown
    fi
    choose_wasm_toolchain
    # The tools are build tools: built without LTO, with 16 codegen units and
    # opt-level 0 they compile in about half the time (LTO made cargo-leptos
    # alone take 19 minutes on 2 cores); their run time here is seconds.
    local fast=(env CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=0)
    if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION" ||
        ! wasm-bindgen --version 2>/dev/null | grep -q "$(wasm_bindgen_version)"; then
        tool_build_helpers
        # The system's OpenSSL instead of compiling the one cargo-leptos
        # vendors (minutes of C on 2 cores); mold links the tools faster.
        if pkg-config --exists openssl 2>/dev/null; then fast+=(OPENSSL_NO_VENDOR=1); fi
        if command -v mold >/dev/null 2>&1; then fast+=(RUSTFLAGS="-C link-arg=-fuse-ld=mold"); fi
    fi
    local pids=()
    local t0=$SECONDS
    if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
        echo "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 10 minutes on 2 cores, once)" >&2
        "${fast[@]}" cargo install -q cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION" --features no_downloads &
        pids+=($!)
    fi
    local wbg
    wbg="$(wasm_bindgen_version)"
    if ! wasm-bindgen --version 2>/dev/null | grep -q "$wbg"; then
        echo "installing wasm-bindgen-cli $wbg (about 3 minutes, once)" >&2
        # Not --locked: its pinned webpki-roots is gone from the registry.
        "${fast[@]}" cargo install -q wasm-bindgen-cli --version "$wbg" &
        pids+=($!)
    fi
    if [ "${#pids[@]}" -gt 0 ]; then
        # While the tools build, the project's own crates build too: the
        # tools' builds leave a core idle in their serial stretches.
        prebuild_project &
        pids+=($!)
    fi
    local pid
    for pid in "${pids[@]}"; do wait "$pid" || die "installing the build tools failed"; done
    if [ "${#pids[@]}" -gt 0 ]; then echo "build tools ready after $((SECONDS - t0)) s" >&2; fi
    # Debian's binaryen is too old (its output breaks hydration); use npm's.
    if ! wasm-opt --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
        mkdir -p "$CACHE/tools"
        npm install --prefix "$CACHE/tools" --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >&2
    fi
    echo "cargo-leptos $(cargo leptos --version | awk '{print $2}'), $(wasm-bindgen --version), $(wasm-opt --version)" >&2
}

# Debian's OpenSSL headers and mold, when this user can install packages;
# without them the tools still build, only slower.
tool_build_helpers() {
    if pkg-config --exists openssl 2>/dev/null && command -v mold >/dev/null 2>&1; then return 0; fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing libssl-dev, pkg-config and mold from Debian (seconds)" >&2
        { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libssl-dev pkg-config mold; } >/dev/null 2>&1 ||
            echo "could not install them; building the tools without" >&2
    fi
}

# The wasm is built with one pinned nightly compiler, the same on every
# machine (installed here when missing): std rebuilt optimised for size,
# panics that abort without formatting a message, no panic locations,
# `{:?}` formatting compiled out. The first visit to Users then loads about
# 15 % less wasm (docs/BENCHMARKS.md). AUDIENCE_STABLE_WASM=1 builds the wasm
# with the stable toolchain instead (larger; the size budget test in
# end2end/tests/transfer.spec.ts then fails). The server always builds with
# the stable toolchain.
WASM_NIGHTLY=nightly-2026-05-20
NIGHTLY_WASM_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none"
NIGHTLY_WASM_CARGO_ARGS=(-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size)
WASM_TOOLCHAIN=stable

choose_wasm_toolchain() {
    WASM_TOOLCHAIN=stable
    if [ "${AUDIENCE_STABLE_WASM:-}" = 1 ]; then
        echo "wasm: stable toolchain (AUDIENCE_STABLE_WASM=1)" >&2
        return 0
    fi
    if ! rustup toolchain list | grep -q "^$WASM_NIGHTLY-"; then
        echo "installing the wasm's pinned toolchain $WASM_NIGHTLY (about a minute, once)" >&2
        rustup toolchain install "$WASM_NIGHTLY" --profile minimal >&2 ||
            die "cannot install $WASM_NIGHTLY; AUDIENCE_STABLE_WASM=1 builds the wasm with the stable toolchain"
    fi
    if ! rustup target list --installed --toolchain "$WASM_NIGHTLY" | grep -qx wasm32-unknown-unknown; then
        rustup target add --toolchain "$WASM_NIGHTLY" wasm32-unknown-unknown >&2
    fi
    if ! rustup component list --installed --toolchain "$WASM_NIGHTLY" | grep -q '^rust-src'; then
        rustup component add --toolchain "$WASM_NIGHTLY" rust-src >&2
    fi
    WASM_TOOLCHAIN="$WASM_NIGHTLY"
    echo "wasm: $(rustc "+$WASM_NIGHTLY" --version) with std rebuilt for size" >&2
}

# The same two cargo builds `cargo leptos build` (build_release) runs (its
# compile-time env, its RUSTFLAGS for `--split` and `always-erase-components`
# in its order, and its separate target dir for the wasm included), so that
# build later only runs wasm-split, wasm-bindgen and wasm-opt.
prebuild_project() {
    echo "building the project's crates alongside (about 12 minutes)" >&2
    local front=(cargo) front_args=()
    local flags="-Clink-args=--emit-relocs --cfg erase_components"
    if [ "$WASM_TOOLCHAIN" != stable ]; then
        front=(cargo "+$WASM_TOOLCHAIN")
        flags="$NIGHTLY_WASM_RUSTFLAGS $flags"
        front_args=("${NIGHTLY_WASM_CARGO_ARGS[@]}")
    fi
    (cd "$ROOT" && export LEPTOS_OUTPUT_NAME=audience RUSTFLAGS="--cfg erase_components" &&
        cargo build -q --release --package=server --bin=server --no-default-features &&
        RUSTFLAGS="$flags" "${front[@]}" build -q --package=frontend --lib --target-dir="$CARGO_TARGET_DIR/front" \
            --target=wasm32-unknown-unknown --no-default-features --profile=wasm-release ${front_args[@]+"${front_args[@]}"})
}

# Builds the server and the size-optimised wasm bundle split by route
# (app/src/routes.rs: each page's code is a chunk loaded with the page),
# and writes a brotli and a gzip copy of every static file beside it
# (`--precompress`), served as they are.
build_release() {
    step "cargo leptos build --release --split --precompress (wasm: $WASM_TOOLCHAIN toolchain)"
    local args=(--release --split --precompress "$@")
    (
        cd "$ROOT"
        local default_toolchain
        default_toolchain="$(rustup default | awk '{print $1}')"
        if [ "$WASM_TOOLCHAIN" != stable ]; then
            # cargo-leptos runs one toolchain for both builds: the pinned
            # nightly for the wasm, the default one named for the server's cargo.
            export RUSTUP_TOOLCHAIN="$WASM_TOOLCHAIN"
            export LEPTOS_BIN_CARGO_COMMAND="cargo +$default_toolchain"
            export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$NIGHTLY_WASM_RUSTFLAGS"
            local arg
            for arg in "${NIGHTLY_WASM_CARGO_ARGS[@]}"; do args+=("--lib-cargo-args=$arg"); done
        fi
        cargo leptos build "${args[@]}"
    )
    # cargo-leptos' gzip encoder (libflate) leaves the wasm about a sixth
    # larger than `gzip -9`: the gzip copies, for browsers without brotli,
    # are written again with zopfli (gzip's format, about 5 % smaller than
    # `gzip -9`; about 20 s), or with gzip itself where zopfli cannot be had.
    ensure_zopfli
    find "$ROOT/target/site" -type f -name '*.gz' | while read -r copy; do
        if command -v zopfli >/dev/null 2>&1; then
            zopfli --gzip -c "${copy%.gz}" > "$copy"
        else
            gzip -9 -n -c "${copy%.gz}" > "$copy"
        fi
    done
}

ensure_zopfli() {
    command -v zopfli >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing zopfli from Debian (seconds)" >&2
        { DEBIAN_FRONTEND=noninteractive apt-get install -y -q zopfli ||
            { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q zopfli; }; } >/dev/null 2>&1 ||
            echo "could not install zopfli; gzip copies with gzip -9" >&2
    fi
}

ensure_chromium() {
    if ! command -v chromium >/dev/null 2>&1; then
        step "Installing Debian's chromium"
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
    fi
}

# nginx, the load balancer in front of two instances in
# server/tests/load_balanced.rs (Debian's smallest build is enough).
ensure_nginx() {
    if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
        step "Installing Debian's nginx-light"
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light
        # Only the binary is wanted: no system-wide server left running.
        if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
        if [ -f /run/nginx.pid ]; then kill "$(cat /run/nginx.pid)" 2>/dev/null || true; fi
    fi
}

ensure_end2end_packages() {
    step "end2end npm packages"
    (cd "$ROOT/end2end" && if [ ! -d node_modules/@playwright/test ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        npm ci --no-audit --no-fund
    fi)
}

# openapi-spec-validator (a stock OpenAPI 2.0/3.0/3.1 validator), in a venv
# under the cache: CI lints the document `GET /api/v1/openapi.json` serves
# with it. Exports OPENAPI_VALIDATOR, the path of its command.
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0

ensure_openapi_validator() {
    local venv="$CACHE/tools/openapi-venv"
    export OPENAPI_VALIDATOR="$venv/bin/openapi-spec-validator"
    if [ -x "$OPENAPI_VALIDATOR" ] &&
        "$venv/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("openapi-spec-validator") != sys.argv[1])' \
            "$OPENAPI_SPEC_VALIDATOR_VERSION" 2>/dev/null; then
        return 0
    fi
    step "Installing openapi-spec-validator $OPENAPI_SPEC_VALIDATOR_VERSION (seconds, once)"
    if ! python3 -m venv --help >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
    fi
    rm -rf "$venv"
    python3 -m venv "$venv" || die "cannot create a Python venv for openapi-spec-validator"
    "$venv/bin/pip" install -q --disable-pip-version-check "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION" ||
        die "cannot install openapi-spec-validator"
}

# Exports TEST_DATABASE_URL: the given one, or a fresh database on this
# machine's PostgreSQL (started when it is not running). Under CI=true a
# missing Postgres is a failure; elsewhere a loud warning.
ensure_postgres() {
    step "PostgreSQL for tests"
    if [ -n "${TEST_DATABASE_URL:-}" ]; then
        echo "using the given TEST_DATABASE_URL" >&2
        return 0
    fi
    if ! command -v pg_ctlcluster >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql || true
    fi
    if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        local cluster
        cluster="$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1" "$2}')"
        if [ -n "$cluster" ]; then
            # shellcheck disable=SC2086
            pg_ctlcluster --skip-systemctl-redirect $cluster start || true
            for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
        fi
    fi
    if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && [ "$(id -u)" = 0 ]; then
        su postgres -c "psql -q -v ON_ERROR_STOP=1" <<'SQL' >&2
SELECT 'CREATE ROLE audience LOGIN PASSWORD ''audience'' CREATEDB'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'audience') \gexec
DROP DATABASE IF EXISTS audience_test WITH (FORCE);
CREATE DATABASE audience_test OWNER audience;
SQL
        export TEST_DATABASE_URL="postgres://audience:audience@127.0.0.1:5432/audience_test"
        echo "PostgreSQL ready: fresh database audience_test" >&2
        return 0
    fi
    printf '\n\033[31m!!!!!!!! NO POSTGRESQL: the PostgreSQL half of the store tests will be SKIPPED !!!!!!!!\033[0m\n' >&2
    printf 'Set TEST_DATABASE_URL=postgres://user:pass@host/db or install PostgreSQL.\n\n' >&2
    if [ "${CI:-}" = "true" ]; then die "CI needs PostgreSQL"; fi
}
