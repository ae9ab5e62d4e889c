#!/usr/bin/env bash
# A Python tool the Makefile, the suites or the bench run, installed once from PyPI (pinned) into
# a virtualenv of its own (.cache/tools/<tool>/: their dependencies disagree), so a fresh clone
# needs nothing but python3. Prints the tool's bin directory.
#   bin=$(scripts/python-tools.sh cfn-lint)    # or sam, ministack
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tool=${1:?usage: python-tools.sh cfn-lint|sam|ministack}
declare -A PINS=([cfn-lint]="cfn-lint==1.58.0" [sam]="aws-sam-cli==1.170.0" [ministack]="ministack[full]==1.5.33")
spec=${PINS[$tool]:-}
[ -n "$spec" ] || { echo "python-tools: unknown tool $tool (known: ${!PINS[*]})" >&2; exit 2; }
venv="$root/.cache/tools/$tool"
package=${spec%%==*}
package=${package%%[*}
if [ "$("$venv/bin/pip" show "$package" 2>/dev/null | awk '/^Version:/{print $2}')" != "${spec##*==}" ]; then
  echo "python-tools: installing $spec into .cache/tools/$tool" >&2
  python3 -m venv "$venv" >&2 || { echo "python-tools: python3 -m venv failed: install python3-venv (sudo apt-get install -y python3-venv)" >&2; exit 1; }
  "$venv/bin/pip" install -q --disable-pip-version-check "$spec" >&2
fi
echo "$venv/bin"
