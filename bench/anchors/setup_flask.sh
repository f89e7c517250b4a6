#!/bin/bash
# Sets up the Flask seed anchor (diegorhcp89/API_FLASK_Websockets) OUTSIDE the repo, for
# bench/charges.py --anchor-dir. Nothing of the seed is copied into PagTracker.
#
# Usage: bench/anchors/setup_flask.sh <fetched-repo-git-dir-or-checkout> [ANCHOR_DIR=/tmp/anchors]
#   <fetched-repo>: a bare git dir (e.g. what the `fetch` tool returned,
#   /work/.mirror/diegorhcp89+API_FLASK_Websockets/repo) or a plain checkout of the repo.
# Result:
#   $ANCHOR_DIR/flask        the seed's files (git archive HEAD), unmodified
#   $ANCHOR_DIR/venv-flask   a Python 3.11 venv with the seed's requirements.txt from PyPI
# The seed is run unmodified by /work/shared/anchor-harness/anchors/run_flask_seed.py.
set -euo pipefail
SRC=${1:?usage: setup_flask.sh <fetched-repo> [anchor-dir]}
A=${2:-/tmp/anchors}
case "$(realpath -m "$A")" in /work/main|/work/main/*) echo "refusing: anchor dir inside the repo" >&2; exit 2;; esac
mkdir -p "$A"
rm -rf "$A/flask"; mkdir -p "$A/flask"
if git --git-dir="$SRC" rev-parse --verify -q HEAD >/dev/null 2>&1 && [ ! -d "$SRC/.git" ]; then
  git --git-dir="$SRC" archive HEAD | tar -x -C "$A/flask"
  git --git-dir="$SRC" rev-parse HEAD > "$A/flask/.anchor-commit"
elif [ -d "$SRC/.git" ]; then
  git -C "$SRC" archive HEAD | tar -x -C "$A/flask"
  git -C "$SRC" rev-parse HEAD > "$A/flask/.anchor-commit"
else
  cp -a "$SRC/." "$A/flask/"
fi
test -f "$A/flask/app.py" -a -f "$A/flask/payments/pix.py" || { echo "not the Flask seed: $SRC" >&2; exit 2; }
mkdir -p "$A/flask/static/img" "$A/flask/instance"
# A Python 3.11 (the seed's era; pillow 10.2 has no 3.12+ wheels for every platform).
PY=${PYTHON_FLASK:-}
if [ -z "$PY" ]; then
  for c in "$HOME"/.pyenv/versions/3.11*/bin/python3 python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then PY=$(command -v "$c"); break; fi
  done
fi
[ -n "$PY" ] || { echo "need a Python 3.11 (set PYTHON_FLASK=)" >&2; exit 2; }
if [ ! -x "$A/venv-flask/bin/python" ]; then "$PY" -m venv "$A/venv-flask"; fi
"$A/venv-flask/bin/pip" install --quiet --disable-pip-version-check -r "$A/flask/requirements.txt"
# Flask 2.3.0 declares Werkzeug>=2.3 with no upper bound; pin the 2.3 line it was released with
# if a newer Werkzeug breaks the import.
if ! (cd "$A/flask" && "$A/venv-flask/bin/python" -c 'import app' >/dev/null 2>&1); then
  "$A/venv-flask/bin/pip" install --quiet --disable-pip-version-check 'Werkzeug>=2.3,<3'
fi
(cd "$A/flask" && "$A/venv-flask/bin/python" -c 'import app; print("flask seed imports OK")')
"$A/venv-flask/bin/pip" freeze > "$A/venv-flask.freeze.txt"
echo "anchor ready: $A/flask (commit $(cat "$A/flask/.anchor-commit" 2>/dev/null || echo '?')), venv $A/venv-flask"
