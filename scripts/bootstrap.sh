#!/usr/bin/env bash
# Prints the path of a working `uv`, installing it first if needed.
# Needs only Python 3.11 (and, on Debian without python3-venv, apt-get as root).
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v uv >/dev/null 2>&1; then command -v uv; exit 0; fi
TOOLS=.tools
if [ ! -x "$TOOLS/bin/uv" ]; then
  PY=$(command -v python3.11 || command -v python3)
  if ! "$PY" -m venv "$TOOLS" >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      apt-get update -qq >&2 && apt-get install -y -qq python3-venv >&2
      rm -rf "$TOOLS"; "$PY" -m venv "$TOOLS"
    else
      echo "python3 -m venv failed; install python3-venv (Debian) and retry" >&2; exit 1
    fi
  fi
  "$TOOLS/bin/python" -m pip install -q --disable-pip-version-check uv >&2
fi
echo "$PWD/$TOOLS/bin/uv"
