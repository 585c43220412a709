"""`pants publish` to a real registry, judged by clients nobody here wrote, and verification from the registry under attack.

The registry is Debian's `docker-registry` (Distribution 2.8, no Referrers API,
so referrers go through the `sha256-<digest>` tag) on 127.0.0.1; `oras` and
`cosign` are the pinned Debian builds (fixtures in oci_registry.py). Every
testproject is published with `./pants publish` in a copy of the repository,
then:

- `oras discover` lists the SBOM and provenance referrers (and the in-toto evidence);
- `oras pull` returns the component byte for byte;
- `cosign verify-attestation --key <functionary.pub> --type cyclonedx` and
  `--type slsaprovenance1` accept the artifact;
- `wasm-attest verify oci://…` and `pants verify-layout --from-oci` verify it,
  printing the digest a tag resolved to; publishing again changes nothing;
- attacks fail verification, naming what: a component blob replaced in the
  registry's storage, the SBOM referrer replaced by an unsigned one, the tag
  moved to another build;
- `./pants publish` with no registry configured says what to configure.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from e2e.repository import copy_repository, pants
from e2e.test_attestations import TARGETS, stem

from wasm_attest.cli import main
from wasm_attest.sigstore.bundles import BUNDLE_MEDIA_TYPE, CYCLONEDX_PREDICATE_TYPE

INDEX = "application/vnd.oci.image.index.v1+json"
IN_TOTO = "application/vnd.in-toto+json"


def repository_of(folder: str) -> str:
    """The repository `pants publish` pushes a testproject to: its target name (`[wasm-oci].default_repository`)."""
    return folder.rsplit("/", 1)[1]


def registries_option(address: str) -> str:
    return "--wasm-oci-registries=" + repr({"local": {"address": address, "default": True, "insecure": True}})


def wasm_attest(*args: str) -> subprocess.CompletedProcess[str]:
    """The `wasm-attest` CLI of this checkout (its `main`, in-process), with what it printed and its exit status."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(list(args))
    return subprocess.CompletedProcess(["wasm-attest", *args], status, stdout.getvalue(), stderr.getvalue())


@pytest.fixture(scope="module")
def published(oci_registry_session: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the repository after `./pants publish testprojects::` to the session registry."""
    repository = copy_repository(tmp_path_factory.mktemp("publish"))
    result = pants(repository, registries_option(oci_registry_session.address), "publish", "testprojects::")
    assert result.returncode == 0, result.stdout + result.stderr
    return {"repository": repository, "registry": oci_registry_session, "output": result.stderr}


def digest_of(published: dict[str, Any], folder: str) -> str:
    """The artifact's manifest digest, from the layout `pants package` wrote."""
    index = json.loads((published["repository"] / "dist" / folder / "oci" / "index.json").read_text())
    return index["manifests"][0]["digest"]


@pytest.mark.parametrize("folder", sorted(TARGETS))
def test_publish_reports_every_tag_and_discover_lists_the_referrers(published: dict[str, Any], oras: Any, folder: str) -> None:
    address = published["registry"].address
    assert f"{address}/{repository_of(folder)}:latest published" in published["output"]
    listed = json.loads(oras("discover", "--plain-http", "--format", "json", f"{address}/{repository_of(folder)}:latest").stdout)
    assert listed["digest"] == digest_of(published, folder)
    referrers = listed.get("referrers") or listed.get("manifests") or []
    predicates = sorted((entry.get("annotations") or {}).get("dev.sigstore.bundle.predicateType", entry["artifactType"]) for entry in referrers)
    assert predicates == sorted([CYCLONEDX_PREDICATE_TYPE, "https://slsa.dev/provenance/v1", IN_TOTO])


@pytest.mark.parametrize("folder", sorted(TARGETS))
def test_oras_pull_returns_the_component_byte_for_byte(published: dict[str, Any], oras: Any, folder: str, tmp_path: Path) -> None:
    oras("pull", "--plain-http", "-o", str(tmp_path), f"{published['registry'].address}/{repository_of(folder)}:latest")
    name = f"{stem(folder)}.wasm"
    assert (tmp_path / name).read_bytes() == (published["repository"] / "dist" / folder / name).read_bytes()


@pytest.mark.parametrize("kind", ["cyclonedx", "slsaprovenance1"])
@pytest.mark.parametrize("folder", sorted(TARGETS))
def test_cosign_verify_attestation_accepts(
    published: dict[str, Any], cosign: Any, development_public_keys: dict[str, Path], folder: str, kind: str
) -> None:
    reference = f"{published['registry'].address}/{repository_of(folder)}@{digest_of(published, folder)}"
    result = cosign(
        "verify-attestation", "--key", development_public_keys["functionary"], "--insecure-ignore-tlog", "--type", kind,
        "--allow-http-registry", "--allow-insecure-registry", reference,
    )
    assert result.returncode == 0
    # A key that did not sign is refused: the acceptance above is a verdict, not a formality.
    refused = cosign(
        "verify-attestation", "--key", development_public_keys["owner"], "--insecure-ignore-tlog", "--type", kind,
        "--allow-http-registry", "--allow-insecure-registry", reference, check=False,
    )
    assert refused.returncode != 0


@pytest.mark.parametrize("folder", sorted(TARGETS))
def test_wasm_attest_verifies_from_the_registry_and_prints_the_digest(
    published: dict[str, Any], development_public_keys: dict[str, Path], folder: str
) -> None:
    reference = f"oci://{published['registry'].address}/{repository_of(folder)}:latest"
    result = wasm_attest("verify", reference, "--plain-http", "--owner-key", str(development_public_keys["owner"]))
    assert result.returncode == 0, result.stderr
    assert f"tag latest resolved to {digest_of(published, folder)}" in result.stderr
    assert "OCI layout oci/" in result.stdout and "in-toto evidence referrer" in result.stdout


def test_pants_verify_layout_from_the_registry(published: dict[str, Any]) -> None:
    address = published["registry"].address
    result = pants(
        published["repository"], registries_option(address), "verify-layout", f"--from-oci=oci://{address}/hello:latest",
        "testprojects/hello:hello",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tag latest resolved to" in result.stderr
    assert "its verified provenance names the target testprojects/hello:hello" in result.stdout


def test_publishing_again_is_idempotent_and_a_rebuild_replaces_the_referrers(
    published: dict[str, Any], oras: Any, development_public_keys: dict[str, Path]
) -> None:
    address = published["registry"].address
    index_tag = f"{address}/hello:{referrers_tag(published, 'testprojects.hello/hello')}"
    before = oras("manifest", "fetch", "--plain-http", index_tag).stdout
    bundle = published["repository"] / "dist" / "testprojects.hello" / "hello"
    again = wasm_attest("push", str(bundle), f"oci://{address}/hello", "--tag", "latest", "--plain-http")
    assert again.returncode == 0, again.stderr
    assert oras("manifest", "fetch", "--plain-http", index_tag).stdout == before, "the same build pushed again changes nothing"
    # `pants publish` again (pantsd off): a rebuild, same component and manifest, new provenance times.
    result = pants(published["repository"], registries_option(address), "publish", "testprojects/hello:hello")
    assert result.returncode == 0, result.stderr
    entries = json.loads(oras("manifest", "fetch", "--plain-http", index_tag).stdout)["manifests"]
    kinds = sorted(entry["annotations"]["dev.wasm-attest.referrer"] for entry in entries)
    assert kinds == ["in-toto-evidence", "provenance", "sbom"], "only the newest build's referrers stay attached"
    verified = wasm_attest("verify", f"oci://{address}/hello:latest", "--plain-http", "--owner-key", str(development_public_keys["owner"]))
    assert verified.returncode == 0, verified.stderr


def referrers_tag(published: dict[str, Any], folder: str) -> str:
    return digest_of(published, folder).replace(":", "-")


def test_a_replaced_component_blob_fails_naming_the_blob(
    published: dict[str, Any], oci_registry: Any, oras: Any, development_public_keys: dict[str, Path]
) -> None:
    """Bytes swapped in the registry's own storage (an attacker with write access to it) are caught on arrival."""
    source = f"{published['registry'].address}/hello:latest"
    oras("cp", "-r", "--from-plain-http", "--to-plain-http", source, f"{oci_registry.address}/hello:latest")
    component = (published["repository"] / "dist" / "testprojects.hello/hello" / "hello.wasm").read_bytes()
    hex_digest = hashlib.sha256(component).hexdigest()
    blob = oci_registry.storage / "docker/registry/v2/blobs/sha256" / hex_digest[:2] / hex_digest / "data"
    blob.write_bytes(component[:-1] + bytes([component[-1] ^ 1]))
    result = wasm_attest("verify", f"oci://{oci_registry.address}/hello:latest", "--plain-http", "--owner-key", str(development_public_keys["owner"]))
    assert result.returncode == 1
    assert f"blob sha256:{hex_digest}" in result.stderr and "other bytes" in result.stderr


def test_an_sbom_referrer_replaced_by_an_unsigned_one_fails(
    published: dict[str, Any], oras: Any, cosign: Any, development_public_keys: dict[str, Path], tmp_path: Path
) -> None:
    address = published["registry"].address
    oras("cp", "-r", "--from-plain-http", "--to-plain-http", f"{address}/serde-json:latest", f"{address}/sbom-swapped:latest")
    digest = digest_of(published, "testprojects.serde-json/serde-json")
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "serde-json.wasm", "digest": {"sha256": digest.split(":")[1]}}],
        "predicateType": CYCLONEDX_PREDICATE_TYPE,
        "predicate": {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []},
    }
    unsigned = {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": "attacker"}, "tlogEntries": []},
        "dsseEnvelope": {
            "payload": base64.b64encode(json.dumps(statement).encode()).decode(),
            "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": base64.b64encode(b"\0" * 64).decode()}],
        },
    }
    (tmp_path / "sbom.sigstore.json").write_text(json.dumps(unsigned))
    attached = oras(
        "attach", "--plain-http", "--artifact-type", BUNDLE_MEDIA_TYPE, "--format", "json",
        "--annotation", f"dev.sigstore.bundle.predicateType={CYCLONEDX_PREDICATE_TYPE}",
        "--annotation", "dev.sigstore.bundle.content=dsse-envelope",
        "--annotation", "dev.wasm-attest.referrer=sbom",  # posing as ours, so verification reads it
        f"{address}/sbom-swapped@{digest}", f"sbom.sigstore.json:{BUNDLE_MEDIA_TYPE}", cwd=tmp_path,
    )
    forged = json.loads(attached.stdout)["digest"]
    tag = f"{address}/sbom-swapped:{digest.replace(':', '-')}"
    index = json.loads(oras("manifest", "fetch", "--plain-http", tag).stdout)
    index["manifests"] = [
        entry for entry in index["manifests"]
        if entry["digest"] == forged or (entry.get("annotations") or {}).get("dev.sigstore.bundle.predicateType") != CYCLONEDX_PREDICATE_TYPE
    ]
    (tmp_path / "index.json").write_text(json.dumps(index))
    oras("manifest", "push", "--plain-http", "--media-type", INDEX, tag, str(tmp_path / "index.json"))

    result = wasm_attest("verify", f"oci://{address}/sbom-swapped:latest", "--plain-http", "--owner-key", str(development_public_keys["owner"]))
    assert result.returncode == 1
    assert "SBOM attestation is not signed by a functionary" in result.stderr, result.stderr
    rejected = cosign(
        "verify-attestation", "--key", development_public_keys["functionary"], "--insecure-ignore-tlog", "--type", "cyclonedx",
        "--allow-http-registry", "--allow-insecure-registry", f"{address}/sbom-swapped@{digest}", check=False,
    )
    assert rejected.returncode != 0


def test_a_tag_moved_to_another_build_fails(published: dict[str, Any], oras: Any, development_public_keys: dict[str, Path]) -> None:
    address = published["registry"].address
    # To a build pushed without its referrers (an attacker who can push but cannot sign):
    oras("cp", "--from-plain-http", "--to-plain-http", f"{address}/many-deps:latest", f"{address}/moved:latest")
    result = wasm_attest("verify", f"oci://{address}/moved:latest", "--plain-http", "--owner-key", str(development_public_keys["owner"]))
    assert result.returncode == 1
    assert "has no in-toto-evidence, provenance, sbom referrer from wasm-attest" in result.stderr, result.stderr
    # To another component's complete, validly signed build: the target it was built from gives it away.
    oras("cp", "-r", "--from-plain-http", "--to-plain-http", f"{address}/many-deps:latest", f"{address}/hello:moved")
    result = pants(
        published["repository"], registries_option(address), "verify-layout", f"--from-oci=oci://{address}/hello:moved",
        "testprojects/hello:hello",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "holds a verified build of testprojects/many-deps:many-deps, not of testprojects/hello:hello" in result.stdout


def test_publish_without_a_registry_says_what_to_configure(published: dict[str, Any]) -> None:
    result = pants(published["repository"], "publish", "testprojects/hello:hello")
    assert result.returncode != 0
    assert "no OCI registry to publish to" in result.stderr and "[wasm-oci.registries." in result.stderr
