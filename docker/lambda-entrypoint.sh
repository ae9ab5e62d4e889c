#!/bin/sh
# The entrypoint of every function image, after AWS's own base images: on AWS Lambda (and behind the
# local Lambda service) AWS_LAMBDA_RUNTIME_API is set and the runtime client starts at once; without
# it (`docker run -p 9000:8080`, MiniStack) the Runtime Interface Emulator serves the Invoke API on
# 8080 in front of the same runtime client. Under `sam local`, SAM's own emulator starts this script
# with AWS_LAMBDA_RUNTIME_API set.
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  exec /usr/local/bin/aws-lambda-rie /usr/local/bin/node /opt/ric/index.mjs "$@"
fi
exec /usr/local/bin/node /opt/ric/index.mjs "$@"
