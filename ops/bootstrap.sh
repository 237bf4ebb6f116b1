# Sourced by ops/run, ops/test and ops/bench: makes .venv from the pinned lock file when it is
# missing or stale, then puts it first on PATH. Safe to source repeatedly; a no-op when current.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"
LOCK="$REPO_ROOT/requirements.lock"
STAMP="$VENV/.installed-from"

pick_python() {
    for candidate in "${PYTHON:-}" python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "ops: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2
    return 1
}

wanted="$(cat "$LOCK" "$REPO_ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$wanted" ]; then
    py="$(pick_python)"
    echo "ops: preparing $VENV from requirements.lock ..." >&2
    [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$LOCK"
    # The editable build warns that platform/config is mapped to a top-level package: by design.
    PYTHONWARNINGS=ignore "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
        --no-build-isolation -e "$REPO_ROOT"
    echo "$wanted" > "$STAMP"
    echo "ops: virtualenv ready" >&2
fi

export PATH="$VENV/bin:$PATH"
export PYTHONPATH="$REPO_ROOT/platform:$REPO_ROOT${PYTHONPATH:+:$PYTHONPATH}"
cd "$REPO_ROOT"

# The browser tests' own JavaScript (axe-core, pinned with its integrity hash in
# tests/browser/package-lock.json), installed by `npm ci` into tests/browser/node_modules (ignored by
# git) when the lock changed; ops/test calls it. Without npm, or when the install fails, the
# accessibility tests are skipped, saying why (tests/browser/axe.py); nothing is loaded from a CDN.
browser_js_install() {
    local dir="$REPO_ROOT/tests/browser" js_wanted
    [ -f "$dir/package-lock.json" ] || return 0
    if ! command -v npm >/dev/null 2>&1; then
        echo "ops: no npm on this machine; the accessibility tests will be skipped" >&2
        return 0
    fi
    js_wanted="$(sha256sum < "$dir/package-lock.json" | cut -d' ' -f1)"
    [ "$(cat "$dir/node_modules/.installed-from" 2>/dev/null)" != "$js_wanted" ] || return 0
    echo "ops: installing the browser tests' JavaScript (npm ci in tests/browser) ..." >&2
    if (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2); then
        echo "$js_wanted" > "$dir/node_modules/.installed-from"
    else
        echo "ops: npm ci failed; the accessibility tests will be skipped" >&2
    fi
}

# For whichever of DATABASE_URL / REDIS_URL is unset: starts the embedded PostgreSQL / Redis
# (ops/embedded.py) and exports the variables that reach them, for this script's children.
embedded_services_start() {
    local exports
    if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
        exports="$(python -m ops.embedded env)"  # on its own line, so that a failure stops the script
        eval "$exports"
    fi
}
