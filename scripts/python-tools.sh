#!/usr/bin/env bash
# Python tools the Makefile runs, installed once into .cache/venv from PyPI (pinned), so a fresh
# clone needs nothing but python3. Prints the venv's bin directory.
#   scripts/python-tools.sh cfn-lint
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.cache/venv"
declare -A PINS=([cfn-lint]="cfn-lint==1.58.0")
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" >&2 || { echo "python-tools: python3 -m venv failed: install python3-venv (apt-get install python3-venv)" >&2; exit 1; }; }
for tool in "$@"; do
  spec=${PINS[$tool]:?unknown tool $tool}
  if ! "$venv/bin/pip" show -q "${spec%%==*}" >/dev/null 2>&1 || [ "$("$venv/bin/pip" show "${spec%%==*}" 2>/dev/null | awk '/^Version:/{print $2}')" != "${spec##*==}" ]; then
    echo "python-tools: installing $spec into .cache/venv" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check "$spec" >&2
  fi
done
echo "$venv/bin"
