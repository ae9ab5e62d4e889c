#!/usr/bin/env bash
# Builds the images of the functions (functions/<name>/) and of the local Lambda service from the ONE
# Dockerfile, tagged <PROJECT>/<name>:latest and :<git sha>. `make build [FUNCTION=name] [ARCH=arm64]`.
set -euo pipefail
cd "$(dirname "$0")/.."
PROJECT=${PROJECT:-lambda-pipelines}
ARCH=${ARCH:-x86_64}
# The base images: present, pulled, or built by the offline kit (scripts/base-images.sh).
images=$(scripts/base-images.sh) || exit 1
eval "$images"
export NODE_BUILD_IMAGE NODE_RUNTIME_IMAGE LOCALSTACK_IMAGE
RIC_VERSION=$(node -p "require('./package-lock.json').packages['node_modules/aws-lambda-ric'].version")

sha=$(git rev-parse --short=12 HEAD 2>/dev/null || echo nogit)
[ -z "$(git status --porcelain 2>/dev/null)" ] || sha="$sha-dirty"

case "$ARCH" in
  x86_64|amd64) platform=linux/amd64 ;;
  arm64|aarch64) platform=linux/arm64 ;;
  *) echo "build: ARCH must be x86_64 or arm64, not '$ARCH'" >&2; exit 2 ;;
esac
host_platform=$(docker version -f '{{.Server.Os}}/{{.Server.Arch}}' 2>/dev/null || echo linux/amd64)
platform_args=()
# Cross-building needs base images of the target architecture (and binfmt/qemu for RUN steps).
[ "$platform" = "$host_platform" ] || platform_args=(--platform "$platform")

# Every folder under functions/ with a handler.ts is a function image; then the local Lambda service.
if [ -n "${FUNCTION:-}" ]; then targets=("$FUNCTION"); else
  targets=(); for handler in functions/*/handler.ts; do targets+=("$(basename "$(dirname "$handler")")"); done
  targets+=(local-lambda)
fi

for name in "${targets[@]}"; do
  target=function; [ "$name" = local-lambda ] && target=local-lambda
  [ "$name" = local-lambda ] || [ -f "functions/$name/handler.ts" ] || { echo "build: FUNCTION=$name is not a folder under functions/ with a handler.ts" >&2; exit 2; }
  echo "==> building $PROJECT/$name ($ARCH, tag $sha)"
  start=$SECONDS
  log=$(mktemp)
  if ! DOCKER_BUILDKIT=0 docker build -f docker/Dockerfile --target "$target" "${platform_args[@]}" \
      --build-arg FUNCTION="$name" --build-arg ARCH="$ARCH" --build-arg RIC_VERSION="$RIC_VERSION" --build-arg SOURCEMAPS="${SOURCEMAPS:-0}" \
      --build-arg NODE_BUILD_IMAGE="$NODE_BUILD_IMAGE" --build-arg NODE_RUNTIME_IMAGE="$NODE_RUNTIME_IMAGE" \
      --label "org.opencontainers.image.revision=$sha" \
      -t "$PROJECT/$name:latest" -t "$PROJECT/$name:$sha" . >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "build: $PROJECT/$name failed (full log: $log)" >&2
    exit 1
  fi
  grep -E '^(bundled|rootfs:)' "$log" | sed 's/^/    /' || true
  rm -f "$log"
  size=$(docker image inspect -f '{{.Size}}' "$PROJECT/$name:latest" | awk '{printf "%.1f MB", $1/1e6}')
  echo "    $PROJECT/$name:latest  $size  built in $((SECONDS - start))s"
done
