#!/usr/bin/env bash
# `make up` after the images are built: start the compose stack, wait until healthy, create the
# stack's resources (scripts/bootstrap.ts) and say what to try next. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."
COMPOSE=${COMPOSE:-docker compose}
DEADLINE_S=${UP_DEADLINE_S:-180}
# LocalStack's image as the build chose it (public, or built offline once): compose reads it.
images=$(scripts/base-images.sh) || exit 1
eval "$images"
export NODE_BUILD_IMAGE NODE_RUNTIME_IMAGE LOCALSTACK_IMAGE

echo "==> starting LocalStack ($LOCALSTACK_IMAGE), the local Lambda service and the functions"
$COMPOSE up -d --remove-orphans

# Poll the health endpoints with a deadline, one dot per second as progress.
wait_for() {
  local name=$1 url=$2 start=$SECONDS
  printf '==> waiting for %s ' "$name"
  until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
    if (( SECONDS - start > DEADLINE_S )); then
      echo
      echo "make up: $name is not healthy after ${DEADLINE_S}s: its last log lines follow; see 'make logs'." >&2
      $COMPOSE logs --tail=30 "$3" >&2 || true
      exit 1
    fi
    printf '.'; sleep 1
  done
  echo " ready ($(( SECONDS - start ))s)"
}
wait_for LocalStack http://127.0.0.1:4566/_localstack/health localstack
wait_for "the local Lambda service" http://127.0.0.1:9001/health bridge

echo "==> creating buckets, tables, topics, queues and notifications from stack/stack.ts"
AWS_ENDPOINT_URL=http://127.0.0.1:4566 npx tsx scripts/bootstrap.ts

cat <<'NEXT'

The stack is up. Try:
  open http://127.0.0.1:9080/                                                # the dashboard: drop photos and CSV files
  awslocal s3 cp samples/photo.jpg s3://uploads/images/photo.jpg             # thumbnail + notify
  awslocal s3 cp samples/people.csv s3://uploads/imports/people/people.csv   # csv-import + notify
  awslocal s3 ls --recursive s3://thumbnails/
  awslocal dynamodb scan --table-name processing-log
  make invoke FUNCTION=report   # the daily report, now (it also runs every day at 06:00 UTC)
  make demo     # uploads the samples and prints what came out
  make logs     # follow the containers' logs
  make down     # stop everything
The Lambda API is at http://127.0.0.1:9001 (aws lambda invoke --endpoint-url ...), the api
function's URL at http://127.0.0.1:9010/ (AWS_IAM: requests must be SigV4-signed; the dashboard
address above signs them for the browser).
NEXT
