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

# For whichever of DATABASE_URL / REDIS_URL is unset: starts the embedded PostgreSQL / Redis
# (ops/embedded.py) and exports the variables that reach them, for this script's children.
embedded_services_start() {
    local exports
    if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
        exports="$(python -m ops.embedded env)"  # on its own line, so that a failure stops the script
        eval "$exports"
    fi
}
