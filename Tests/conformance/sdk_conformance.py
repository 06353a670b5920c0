#!/usr/bin/env python3
"""Runs the official Cloudflare Python SDK (cloudflare==5.9.0) against an Images API emulator.

Usage:
    sdk_conformance.py base_url=http://127.0.0.1:PORT/client/v4 [token=T] [account_id=ID]

The emulator must accept only `token` (default `conformance-token`), e.g.
`imagedrop-emulator --port 0 --token conformance-token`. Every JSON reply the SDK receives is captured with an
httpx event hook and validated against the OpenAPI schemas copied beside this script
(cloudflare-images-schemas.json). Prints one line per check and `N passed, N failed`; exits 1 on any failure.
"""
from __future__ import annotations

import copy
import json
import os
import re
import struct
import sys
import zlib
from typing import Any, Callable

try:
    import cloudflare
    import httpx
    import jsonschema
except ImportError as error:  # the Swift test reports this line verbatim
    print(f"missing Python package: {error.name} (pip install cloudflare==5.9.0 jsonschema)")
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
ISO_MILLIS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def parse_args(argv: list[str]) -> dict[str, str]:
    options = {"token": "conformance-token", "account_id": "023e105f4ecef8ad9ca31a8372d0c353"}
    for arg in argv:
        key, sep, value = arg.lstrip("-").partition("=")
        if not sep:
            key, value = "base_url", arg
        options[key.replace("-", "_")] = value
    if "base_url" not in options:
        sys.exit(__doc__)
    return options


# --- schemas ---------------------------------------------------------------------------------------------

def load_schemas() -> dict[str, Any]:
    with open(os.path.join(HERE, "cloudflare-images-schemas.json")) as handle:
        schemas = json.load(handle)["components"]["schemas"]
    # Known spec inconsistency: `images_image_identifier` says maxLength 32, but the ids Cloudflare chooses are
    # 36-character UUIDs (every docs example, e.g. 083eb7b2-5392-4565-b69e-aff66acddd00) and custom ids may
    # have up to 1024 characters. The bound is dropped; everything else is validated as written.
    schemas["images_image_identifier"].pop("maxLength", None)
    return schemas


def to_json_schema(node: Any, schemas: dict[str, Any], depth: int = 0) -> Any:
    """Inlines `$ref`s and turns OpenAPI 3.0 `nullable: true` into a JSON Schema type union."""
    if depth > 50:
        raise ValueError("schema nesting too deep (cyclic $ref?)")
    if isinstance(node, list):
        return [to_json_schema(item, schemas, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return to_json_schema(copy.deepcopy(schemas[name]), schemas, depth + 1)
    out = {key: to_json_schema(value, schemas, depth + 1) for key, value in node.items()
           if not key.startswith("x-") and key not in ("example", "readOnly")}
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else out["type"] + ["null"]
    return out


# The 200 schema of each operation, as the spec's paths name them. Error replies are validated against the
# newer `images_api-response-common-failure` alone: the spec's 4XX schemas are allOf(success, failure), and the
# success half requires `result` to be an object or string, which no failure (result: null) can satisfy.
OPERATIONS: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"/accounts/[^/]+/images/v1$"), "images_image_response_single"),
    ("GET", re.compile(r"/accounts/[^/]+/images/v1$"), "images_images_list_response"),
    ("GET", re.compile(r"/accounts/[^/]+/images/v1/stats$"), "images_images_stats_response"),
    ("GET", re.compile(r"/accounts/[^/]+/images/v2$"), "images_images_list_response_v2"),
    ("GET", re.compile(r"/accounts/[^/]+/images/v1/.+"), "images_image_response_single"),
    ("PATCH", re.compile(r"/accounts/[^/]+/images/v1/.+"), "images_image_response_single"),
    ("DELETE", re.compile(r"/accounts/[^/]+/images/v1/.+"), "images_deleted_response"),
]
FAILURE_SCHEMA = "images_api-response-common-failure"


def schema_for(method: str, path: str, status: int) -> str | None:
    if status >= 400:
        return FAILURE_SCHEMA
    for op_method, pattern, name in OPERATIONS:
        if op_method == method and pattern.search(path):
            return name
    return None


# --- test data -------------------------------------------------------------------------------------------

def png(width: int, height: int, seed: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + bytes((seed + x + y) % 256 for x in range(width * 3)) for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def start_origin(files: dict[str, bytes]) -> str:
    """A loopback HTTP origin serving `files` by path (404 otherwise), on a daemon thread; returns its URL."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


# --- runner ----------------------------------------------------------------------------------------------

class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, condition: bool, detail: str = "") -> None:
        if condition:
            self.passed += 1
            print(f"PASS {name}")
        else:
            self.failed += 1
            print(f"FAIL {name}" + (f": {detail}" if detail else ""))

    def run(self, name: str, body: Callable[[], Any]) -> Any:
        try:
            return body()
        except Exception as error:  # one broken step should not hide the others
            self.check(name, False, f"{type(error).__name__}: {error}")
            return None


def main() -> int:
    options = parse_args(sys.argv[1:])
    base_url, token, account = options["base_url"], options["token"], options["account_id"]
    schemas = load_schemas()
    captured: list[tuple[str, str, int, Any]] = []

    def capture(response: httpx.Response) -> None:
        response.read()
        body = None
        if response.headers.get("content-type", "").startswith("application/json"):
            body = json.loads(response.content)
        path = response.request.url.raw_path.decode().split("?", 1)[0]  # raw: keeps %2F inside ids
        captured.append((response.request.method, path, response.status_code, body))

    def make_client(api_token: str) -> cloudflare.Cloudflare:
        return cloudflare.Cloudflare(
            api_token=api_token, base_url=base_url, max_retries=0,
            http_client=httpx.Client(event_hooks={"response": [capture]}, timeout=30))

    checks = Checks()
    client = make_client(token)
    image_id = "conformance/cat.png"  # a slash: the SDK sends it %2F-encoded
    metadata = {"source": "conformance", "n": 1}
    image_bytes = png(12, 8, seed=3)

    # Upload with metadata as a JSON string (one `metadata` part) and a custom id containing a slash.
    image = checks.run("upload", lambda: client.images.v1.create(
        account_id=account, file=("cat.png", image_bytes, "image/png"), id=image_id, metadata=json.dumps(metadata)))
    if image is not None:
        checks.check("upload returns the custom id", image.id == image_id, repr(image.id))
        checks.check("upload returns the filename", image.filename == "cat.png", repr(image.filename))
        checks.check("upload echoes metadata under meta", image.meta == metadata, repr(image.meta))
        checks.check("upload is not signed", image.require_signed_urls is False)
        checks.check("upload has one variant URL per variant",
                     bool(image.variants) and all(
                         str(v).startswith("https://imagedelivery.net/") and f"/{image_id}/" in str(v)
                         for v in image.variants), repr(image.variants))
        checks.check("upload time has millisecond precision", image.uploaded is not None
                     and image.uploaded.microsecond % 1000 == 0)

    # The SDK's own encoding of an object `metadata` (metadata.<k> parts) and a Cloudflare-chosen id.
    nested = checks.run("upload with object metadata", lambda: client.images.v1.create(
        account_id=account, file=("dog.png", png(4, 4, seed=9), "image/png"), metadata={"kind": "nested"}))
    if nested is not None:
        checks.check("object metadata arrives as an object", nested.meta == {"kind": "nested"}, repr(nested.meta))

    fetched = checks.run("get", lambda: client.images.v1.get(image_id, account_id=account))
    if fetched is not None:
        checks.check("get returns the uploaded image", fetched.id == image_id and fetched.meta == metadata)

    listed = checks.run("list v2", lambda: client.images.v2.list(account_id=account, per_page=10))
    if listed is not None:
        checks.check("list v2 contains the image", image_id in [i.id for i in listed.images or []])
    filtered = checks.run("list v2 with a metadata filter", lambda: client.images.v2.list(
        account_id=account, extra_query={"meta.source[eq]": "conformance"}))
    if filtered is not None:
        checks.check("metadata filter selects only the image", [i.id for i in filtered.images or []] == [image_id])

    stats = checks.run("stats", lambda: client.images.v1.stats.get(account_id=account))
    if stats is not None:
        checks.check("stats counts both images", stats.count is not None and stats.count.current == 2)

    def duplicate() -> None:
        try:
            client.images.v1.create(account_id=account, file=("cat.png", image_bytes, "image/png"), id=image_id)
            checks.check("duplicate id raises ConflictError", False, "no exception")
        except cloudflare.ConflictError as error:
            checks.check("duplicate id raises ConflictError", error.status_code == 409)
            checks.check("duplicate id carries code 5409", "5409" in str(error.body), repr(error.body))
    checks.run("duplicate id raises ConflictError", duplicate)

    def wrong_token() -> None:
        try:
            make_client("not-the-token").images.v1.get(image_id, account_id=account)
            checks.check("wrong token raises AuthenticationError", False, "no exception")
        except cloudflare.AuthenticationError as error:
            checks.check("wrong token raises AuthenticationError", error.status_code == 401)
    checks.run("wrong token raises AuthenticationError", wrong_token)

    # Upload by URL: the emulator fetches the image from a loopback origin served by this script.
    origin = start_origin({"/origin/bird.png": png(6, 5, seed=4)})
    by_url = checks.run("upload by url", lambda: client.images.v1.create(
        account_id=account, url=f"{origin}/origin/bird.png", metadata=json.dumps({"via": "url"})))
    if by_url is not None:
        checks.check("url upload takes its filename from the URL", by_url.filename == "bird.png", repr(by_url.filename))
        checks.check("url upload echoes metadata", by_url.meta == {"via": "url"}, repr(by_url.meta))
        checks.check("url upload has variant URLs", bool(by_url.variants))

    def unreachable_url() -> None:
        try:
            client.images.v1.create(account_id=account, url=f"{origin}/origin/missing.png")
            checks.check("url upload of a missing image is refused", False, "no exception")
        except cloudflare.APIStatusError as error:
            checks.check("url upload of a missing image is refused with 5454", "5454" in str(error.body), repr(error.body))
    checks.run("url upload of a missing image is refused", unreachable_url)

    deleted = checks.run("delete", lambda: client.images.v1.delete(image_id, account_id=account))
    checks.check("delete succeeds", deleted is not None)

    def gone() -> None:
        try:
            client.images.v1.get(image_id, account_id=account)
            checks.check("deleted image is gone", False, "still there")
        except cloudflare.NotFoundError:
            checks.check("deleted image is gone", True)
    checks.run("deleted image is gone", gone)

    # Every JSON reply against its schema.
    validated = 0
    for method, path, status, body in captured:
        name = schema_for(method, path, status)
        label = f"schema {method} {path} {status}"
        if body is None or name is None:
            checks.check(label, False, "no JSON body or no schema for this operation")
            continue
        schema = to_json_schema(schemas[name], schemas)
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(body), key=str)
        checks.check(f"{label} ({name})", not errors, "; ".join(e.message for e in errors[:3]))
        result = body.get("result") if isinstance(body, dict) else None
        if isinstance(result, dict) and "uploaded" in result:
            checks.check(f"{label} uploaded is ISO-8601 with ms", bool(ISO_MILLIS.match(result["uploaded"])))
        validated += 1
    checks.check("replies were captured and validated", validated >= 10, f"{validated} replies")

    print(f"{checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
