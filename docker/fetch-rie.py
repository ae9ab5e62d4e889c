#!/usr/bin/env python3
"""Fetches AWS's Runtime Interface Emulator for the image, reproducibly and offline-friendly.

AWS ships the RIE binaries inside aws-sam-cli's wheel on PyPI (samcli/local/rapid/). This takes
them from one pinned release, checks the wheel's and the binary's SHA-256, and writes the binary:
    python3 fetch-rie.py <x86_64|arm64> <destination>
Only PyPI (a package registry) is needed, no GitHub download.
"""
import hashlib
import io
import json
import os
import sys
import urllib.parse
import urllib.request
import zipfile

SAM_CLI_VERSION = "1.170.0"
WHEEL_SHA256 = "24ebaf5ecba38dc1758089968cb89ab61e124b84e92a344fc7a2771a47f4d0bf"
RIE_SHA256 = {
    "x86_64": "6b1e686e62ab2baf5759c412c4864276ef2a88b094fca53ec070637ccba9b9a5",
    "arm64": "ec2e5d09633d853834c008b1ef264bf834b258a94d551d2b2074966494b39a21",
}
# The Simple API (PEP 691, JSON form): what pip itself reads; mirrors serve it too.
INDEX = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
WHEEL = f"aws_sam_cli-{SAM_CLI_VERSION}-py3-none-any.whl"


def fail(message: str) -> None:
    print(f"fetch-rie: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in RIE_SHA256:
        fail(f"usage: fetch-rie.py <{'|'.join(RIE_SHA256)}> <destination>")
    arch, destination = sys.argv[1], sys.argv[2]
    request = urllib.request.Request(f"{INDEX}/aws-sam-cli/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        files = json.load(response)["files"]
    found = [f for f in files if f["filename"] == WHEEL]
    if not found:
        fail(f"{WHEEL} is not on the package index {INDEX}")
    with urllib.request.urlopen(urllib.parse.urljoin(f"{INDEX}/aws-sam-cli/", found[0]["url"]), timeout=300) as response:
        wheel = response.read()
    if hashlib.sha256(wheel).hexdigest() != WHEEL_SHA256:
        fail(f"the aws-sam-cli {SAM_CLI_VERSION} wheel does not have the pinned SHA-256")
    binary = zipfile.ZipFile(io.BytesIO(wheel)).read(f"samcli/local/rapid/aws-lambda-rie-{arch}")
    if hashlib.sha256(binary).hexdigest() != RIE_SHA256[arch]:
        fail(f"aws-lambda-rie-{arch} does not have the pinned SHA-256")
    os.makedirs(os.path.dirname(destination) or ".", exist_ok=True)
    with open(destination, "wb") as out:
        out.write(binary)
    os.chmod(destination, 0o755)
    print(f"fetch-rie: aws-lambda-rie-{arch} from aws-sam-cli {SAM_CLI_VERSION} ({len(binary)} bytes, SHA-256 verified)")


if __name__ == "__main__":
    main()
