#!/usr/bin/env bash
# `make up` after the images are built: synthesize the CDK app (cdk.out/<stack>.template.json, the
# file `cdk deploy` sends to AWS), start LocalStack, the local Lambda service and its Docker proxy,
# and wait until the service has deployed that template (LocalStack's CloudFormation creates its
# half, the service starts the functions). Then say what runs and what to try. Safe to run twice: an
# unchanged template changes nothing, a changed one is deployed as an update.
set -euo pipefail
cd "$(dirname "$0")/.."
COMPOSE=${COMPOSE:-docker compose}
STACK_NAME=${STACK_NAME:-LambdaPipelines}
DEADLINE_S=${UP_DEADLINE_S:-240}
# LocalStack's image as the build chose it (public, or built offline once): compose reads it.
images=$(scripts/base-images.sh) || exit 1
eval "$images"
export NODE_BUILD_IMAGE NODE_RUNTIME_IMAGE LOCALSTACK_IMAGE

echo "==> synthesizing the CDK app (infra/)"
npx tsx infra/app.ts
template="cdk.out/$STACK_NAME.template.json"
[ -f "$template" ] || { echo "make up: $template was not written (is STACK_NAME right?)" >&2; exit 1; }
# A new template recreates the service container, which deploys it.
STACK_TEMPLATE_SHA=$(sha256sum "$template" | cut -c1-16)
export STACK_NAME STACK_TEMPLATE_SHA

echo "==> starting LocalStack ($LOCALSTACK_IMAGE), the local Lambda service and its Docker proxy"
$COMPOSE up -d --remove-orphans

# Poll with a deadline, one dot per second as progress; the service's /health says why it failed.
start=$SECONDS
printf '==> waiting for LocalStack '
until curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:4566/_localstack/health 2>/dev/null; do
  if (( SECONDS - start > DEADLINE_S )); then
    echo; echo "make up: LocalStack is not healthy after ${DEADLINE_S}s; its last log lines:" >&2
    $COMPOSE logs --tail=30 localstack >&2 || true
    exit 1
  fi
  printf '.'; sleep 1
done
echo " ready ($(( SECONDS - start ))s)"
start=$SECONDS
printf '==> deploying %s (LocalStack creates its half, the local Lambda service runs the functions) ' "$template"
for (( ; ; )); do
  health=$(curl -fsS --max-time 2 http://127.0.0.1:9001/health 2>/dev/null || true)
  status=$(printf '%s' "$health" | python3 -c 'import json,sys
try: print(json.load(sys.stdin).get("status",""))
except Exception: print("")')
  [ "$status" = ok ] && break
  if [ "$status" = failed ] || (( SECONDS - start > DEADLINE_S )); then
    echo
    if [ "$status" = failed ]; then
      echo "make up: the local Lambda service could not deploy the stack:" >&2
      printf '%s' "$health" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("error",""))' >&2
    else
      echo "make up: the local Lambda service did not get ready within ${DEADLINE_S}s; its last log lines:" >&2
      $COMPOSE logs --tail=40 local-lambda >&2 || true
    fi
    exit 1
  fi
  printf '.'; sleep 1
done
echo " ready ($(( SECONDS - start ))s)"
npx tsx scripts/stack-summary.ts
