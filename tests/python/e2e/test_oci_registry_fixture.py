"""The OCI registry fixture and its clients do what the issue-14 tests rely on.

Why this exists: the publishing tests judge our output with a real registry and
real clients; if the fixture itself were wrong (a registry that never started, one
that has a Referrers API after all, a client that reads the host's credentials, a
server that outlives its test), those tests would prove nothing. Here the pinned
oras round-trips a Wasm artifact of the CNCF shape through the pinned Distribution
2.8, and the fixture's own guarantees (loopback only, gone after stop, clear
start-up failure) are attacked.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
from pathlib import Path
from typing import Mapping

import pytest
from e2e.oci_registry import Client, OciRegistry, RegistryStartError, start_registry

WASM_CONFIG_MEDIA_TYPE = "application/vnd.wasm.config.v0+json"
WASM_LAYER_MEDIA_TYPE = "application/wasm"
CREATED = "org.opencontainers.image.created=2026-01-01T00:00:00Z"
SBOM_TYPE = "application/vnd.cyclonedx+json"


def tiny_component() -> bytes:
    """A valid Wasm binary: the module header and one custom section, so its bytes are not trivial."""
    name, payload = b"oci-fixture", bytes(range(256)) * 4
    content = bytes([len(name)]) + name + payload
    size = len(content)
    leb128 = bytearray()
    while True:
        byte, size = size & 0x7F, size >> 7
        leb128.append(byte | (0x80 if size else 0))
        if not size:
            break
    return b"\0asm\x01\0\0\0" + b"\x00" + bytes(leb128) + content


def http_get(registry: OciRegistry, path: str, accept: str = "application/vnd.oci.image.index.v1+json") -> tuple[int, bytes]:
    host, port = registry.address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", path, headers={"Accept": accept})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def push_component(oras: Client, registry: OciRegistry, folder: Path, reference: str) -> str:
    """`oras push` the tiny component in the CNCF Wasm artifact shape; return the manifest digest."""
    wasm = folder / "component.wasm"
    wasm.write_bytes(tiny_component())
    layer_digest = "sha256:" + hashlib.sha256(wasm.read_bytes()).hexdigest()
    config = {"architecture": "wasm", "os": "wasip2", "layerDigests": [layer_digest]}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    pushed = oras(
        "push", "--plain-http", "--format", "json",
        "--config", f"config.json:{WASM_CONFIG_MEDIA_TYPE}",
        "--annotation", CREATED,
        f"{registry.address}/{reference}", f"component.wasm:{WASM_LAYER_MEDIA_TYPE}",
        cwd=folder,
    )
    return json.loads(pushed.stdout)["digest"]


def test_oras_round_trip_with_referrer_through_tag_fallback(oci_registry: OciRegistry, oras: Client, tmp_path: Path) -> None:
    digest = push_component(oras, oci_registry, tmp_path, "smoke/component:v1")
    artifact = f"{oci_registry.address}/smoke/component@{digest}"

    # The manifest has the CNCF Wasm shape, and the pinned `created` makes a re-push identical.
    manifest = json.loads(oras("manifest", "fetch", "--plain-http", artifact).stdout)
    assert manifest["config"]["mediaType"] == WASM_CONFIG_MEDIA_TYPE
    assert [layer["mediaType"] for layer in manifest["layers"]] == [WASM_LAYER_MEDIA_TYPE]
    assert manifest["annotations"]["org.opencontainers.image.created"] == "2026-01-01T00:00:00Z"
    assert push_component(oras, oci_registry, tmp_path, "smoke/component:v1") == digest

    (tmp_path / "sbom.json").write_text('{"bomFormat": "CycloneDX", "specVersion": "1.6"}', encoding="utf-8")
    attached = oras(
        "attach", "--plain-http", "--format", "json", "--artifact-type", SBOM_TYPE, "--annotation", CREATED,
        artifact, f"sbom.json:{SBOM_TYPE}", cwd=tmp_path,
    )
    referrer = json.loads(attached.stdout)["digest"]

    discovered = json.loads(oras("discover", "--plain-http", "--format", "json", artifact).stdout)
    assert [(r["digest"], r["artifactType"]) for r in discovered["referrers"]] == [(referrer, SBOM_TYPE)]

    # Distribution 2.8 has no Referrers API, so the referrer can only have come through
    # the `sha256-<hex>` tag, an index naming it.
    status, _ = http_get(oci_registry, f"/v2/smoke/component/referrers/{digest}")
    assert status == 404
    fallback_tag = digest.replace(":", "-")
    assert fallback_tag in oras("repo", "tags", "--plain-http", f"{oci_registry.address}/smoke/component").stdout.split()
    status, body = http_get(oci_registry, f"/v2/smoke/component/manifests/{fallback_tag}")
    assert status == 200
    assert [entry["digest"] for entry in json.loads(body)["manifests"]] == [referrer]

    pulled = tmp_path / "pulled"
    oras("pull", "--plain-http", "-o", pulled, f"{oci_registry.address}/smoke/component:v1")
    assert (pulled / "component.wasm").read_bytes() == tiny_component()


def test_a_blob_replaced_in_storage_is_what_the_registry_serves(oci_registry: OciRegistry, oras: Client, tmp_path: Path) -> None:
    """Tamper tests edit the storage; no cache may hide the edit, and oras must notice it."""
    push_component(oras, oci_registry, tmp_path, "smoke/tampered:v1")
    layer = "sha256:" + hashlib.sha256(tiny_component()).hexdigest()
    blob = oci_registry.blob_path(layer)
    assert blob.read_bytes() == tiny_component()
    blob.write_bytes(tiny_component()[:-1] + b"X")
    status, body = http_get(oci_registry, f"/v2/smoke/tampered/blobs/{layer}", accept="*/*")
    assert (status, body) == (200, tiny_component()[:-1] + b"X")
    pulled = oras("pull", "--plain-http", "-o", tmp_path / "pulled", f"{oci_registry.address}/smoke/tampered:v1", check=False)
    assert pulled.returncode != 0
    assert "digest" in (pulled.stdout + pulled.stderr).lower()


def test_session_registry_serves_every_test(oci_registry_session: OciRegistry, oci_registry: OciRegistry, oras: Client) -> None:
    assert oci_registry_session.address != oci_registry.address
    assert oci_registry_session.storage != oci_registry.storage
    listed = oras("repo", "ls", "--plain-http", oci_registry_session.address)
    assert listed.returncode == 0


def test_clients_see_no_host_credentials(oras: Client, cosign: Client) -> None:
    for client in (oras, cosign):
        assert client.env["HOME"] == str(client.home)
        assert json.loads(Path(client.env["DOCKER_CONFIG"], "config.json").read_text(encoding="utf-8")) == {"auths": {}}
        assert not {"DOCKER_AUTH_CONFIG", "REGISTRY_AUTH_FILE"} & set(client.env)
    assert "Version:" in oras("version").stdout
    assert "GitVersion:" in cosign("version").stdout


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "localhost", "::1", ""])
def test_refuses_non_loopback_addresses(reference_verifiers: Mapping[str, Path], tmp_path: Path, host: str) -> None:
    try:
        started = start_registry(reference_verifiers["docker-registry"], tmp_path, host=host)
    except ValueError as error:
        assert "loopback" in str(error)
    else:
        started.stop()  # even when the guard is broken, leave nothing running
        pytest.fail(f"a registry was started on {host!r}")
    assert not any(tmp_path.iterdir()), "nothing may be started or written before the address is refused"


def test_registry_is_gone_after_stop(oci_registry: OciRegistry) -> None:
    assert http_get(oci_registry, "/v2/")[0] == 200
    oci_registry.stop()
    assert oci_registry.process.returncode is not None
    host, port = oci_registry.address.rsplit(":", 1)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=5)
    oci_registry.stop()  # a second stop (the fixture's teardown) does nothing


def test_start_failure_shows_the_registry_log(reference_verifiers: Mapping[str, Path], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RegistryStartError, match="address already in use"):
            start_registry(reference_verifiers["docker-registry"], tmp_path, port=port)
