#!/usr/bin/env bash
# local/localstack:4.14.0: LocalStack from PyPI (localstack-core[runtime]==4.14.0) on Debian trixie
# (Python 3.13; LocalStack 4.x needs >= 3.12), with a Debian JRE and DynamoDB Local from Maven
# Central installed where LocalStack looks, so it never downloads anything at start or first use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
TAG=${LOCALSTACK_IMAGE_TAG:-local/localstack:4.14.0}
LOCALSTACK_VERSION=4.14.0
LOCALSTACK_RELEASED=2026-02-27
DDB_LOCAL_VERSION=2.6.1
image_exists "$TAG" && { log "$TAG exists, skipping"; exit 0; }
# DynamoDB Local comes from Maven Central, and a small Java agent is compiled here.
for tool in mvn javac jar python3; do
  command -v "$tool" >/dev/null 2>&1 || { log "the LocalStack image needs $tool: install Maven and a JDK (sudo apt-get install -y maven default-jdk-headless python3), then run the command again"; exit 1; }
done

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
BASE=local/debian:trixie
if ! image_exists "$BASE"; then
  debian_rootfs trixie "$work/rootfs"
  import_rootfs "$work/rootfs" "$BASE" --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  rm -rf "$work/rootfs"
fi

# DynamoDB Local and its dependencies (incl. sqlite4java's native library) from Maven Central.
log "fetching DynamoDB Local $DDB_LOCAL_VERSION from Maven Central"
ctx="$work/ctx"; ddb="$ctx/dynamodb-local"; mkdir -p "$ddb/DynamoDBLocal_lib" "$work/mvn"
cat > "$work/mvn/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>dynamodb-local-kit</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>com.amazonaws</groupId><artifactId>DynamoDBLocal</artifactId><version>$DDB_LOCAL_VERSION</version></dependency>
  </dependencies>
</project>
POM
(cd "$work/mvn" && mvn -q -B dependency:copy-dependencies -DoutputDirectory="$ddb/DynamoDBLocal_lib")
mv "$ddb/DynamoDBLocal_lib/DynamoDBLocal-$DDB_LOCAL_VERSION.jar" "$ddb/DynamoDBLocal.jar"
# `java -jar DynamoDBLocal.jar` finds its libraries through the manifest's Class-Path, whose names
# in the Maven jar are those of the zip distribution: point it at the Maven file names instead.
python3 - "$ddb" <<'PY'
import os, sys
ddb = sys.argv[1]
jars = sorted(f"DynamoDBLocal_lib/{j}" for j in os.listdir(os.path.join(ddb, "DynamoDBLocal_lib")) if j.endswith(".jar"))
line = "Class-Path: " + " ".join([".", *jars])
# Manifest lines are at most 72 bytes; continuation lines start with one space.
chunks = [line[:70]] + [" " + line[i:i + 69] for i in range(70, len(line), 69)]
open(os.path.join(ddb, "manifest.txt"), "w").write("\n".join(chunks) + "\n")
PY
(cd "$ddb" && jar --update --file DynamoDBLocal.jar --manifest manifest.txt 2>/dev/null && rm manifest.txt)
# LocalStack starts DynamoDB Local with -javaagent:<dir>/ddb-local-loader-0.1.jar, a patch it
# downloads from its own artifacts (it lifts the 20-GSI limit). Offline we supply a no-op agent.
mkdir -p "$work/agent"
cat > "$work/agent/NoopAgent.java" <<'JAVA'
public final class NoopAgent {
  public static void premain(String args, java.lang.instrument.Instrumentation inst) {}
}
JAVA
printf 'Premain-Class: NoopAgent\n' > "$work/agent/manifest.txt"
(cd "$work/agent" && javac --release 17 NoopAgent.java && jar --create --file "$ddb/ddb-local-loader-0.1.jar" --manifest manifest.txt NoopAgent.class)

cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM $BASE
RUN apt-get update \\
 && apt-get install -y --no-install-recommends python3 python3-venv openjdk-21-jre-headless curl zip unzip procps \\
 && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*
ENV VIRTUAL_ENV=/opt/code/localstack/.venv
ENV PATH=/opt/code/localstack/.venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# uv (from PyPI) resolves localstack-core[runtime]'s many loose requirements in seconds, where
# pip's resolver was seen backtracking for over ten minutes. --exclude-newer resolves them as of
# the release day of 4.14.0: later majors of its dependencies break it (e.g. cbor2's internals).
RUN python3 -m venv /opt/uv && /opt/uv/bin/pip install -q uv \\
 && python3 -m venv \$VIRTUAL_ENV \\
 && /opt/uv/bin/uv pip install --native-tls --no-cache --exclude-newer $LOCALSTACK_RELEASED \\
      --python \$VIRTUAL_ENV/bin/python "localstack-core[runtime]==$LOCALSTACK_VERSION" \\
 && python3 -m venv /opt/awscli \\
 && /opt/uv/bin/uv pip install --native-tls --no-cache --python /opt/awscli/bin/python awscli awscli-local \\
 && ln -s /opt/awscli/bin/aws /opt/awscli/bin/awslocal /usr/local/bin/ \\
 && rm -rf /opt/uv
# LocalStack's package installers look under /usr/lib/localstack/<package>/<version>: a present
# marker file (bin/java, DynamoDBLocal.jar) means "installed", so nothing is downloaded.
RUN mkdir -p /usr/lib/localstack/java \\
 && ln -s "\$(dirname "\$(dirname "\$(readlink -f "\$(command -v java)")")")" /usr/lib/localstack/java/21
COPY dynamodb-local /usr/lib/localstack/dynamodb-local/2
RUN mkdir -p /etc/localstack/init/boot.d /etc/localstack/init/start.d /etc/localstack/init/ready.d \\
      /etc/localstack/init/shutdown.d /var/lib/localstack /tmp/localstack
ENV GATEWAY_LISTEN=0.0.0.0:4566 \\
    SKIP_SSL_CERT_DOWNLOAD=1 \\
    DISABLE_EVENTS=1 \\
    PROVIDER_OVERRIDE_DYNAMODBSTREAMS=v2 \\
    LOCALSTACK_CLI=0 \\
    PYTHONUNBUFFERED=1
EXPOSE 4566
WORKDIR /opt/code/localstack
HEALTHCHECK --interval=5s --timeout=5s --start-period=10s --retries=30 \\
  CMD curl -fsS http://127.0.0.1:4566/_localstack/health >/dev/null || exit 1
ENTRYPOINT ["python", "-m", "localstack.runtime.main"]
DOCKERFILE
log "building $TAG (pip install localstack-core[runtime]==$LOCALSTACK_VERSION)"
DOCKER_BUILDKIT=0 docker build --network host -t "$TAG" "$ctx" > "$work/build.log" 2>&1 \
  || { tail -n 40 "$work/build.log" >&2; exit 1; }
log "built $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
