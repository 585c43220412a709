"""End to end: what `./pants package` writes next to each component, checked with the reference tools.

The bundle must verify with the reference in-toto verifier (and stop verifying
when a delivered file changes), the SBOM must be schema-valid and list exactly
the crates cargo itself says are linked or build-only, and the attestations
must not depend on where the repository was cloned.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from e2e.repository import REPOSITORY
from cryptography.hazmat.primitives import serialization
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from wasm_attest.sbom_crates import read_sbom_crates

# dist/ folder of each component -> (cargo root in the repository, cargo package).
TARGETS = {
    "testprojects.hello/hello": ("testprojects/hello", "hello"),
    "testprojects.serde-json/serde-json": ("testprojects/serde-json", "serde-json"),
    "testprojects.workspace.app-one/app-one": ("testprojects/workspace", "app-one"),
    "testprojects.workspace.app-two/app-two": ("testprojects/workspace", "app-two"),
    "testprojects.exclusions/exclusions": ("testprojects/exclusions", "exclusions"),
    "testprojects.many-deps/many-deps": ("testprojects/many-deps", "many-deps"),
    "testprojects.http-hello/http-hello": ("testprojects/http-hello", "http-hello"),
}
# Library components are named as cargo names the cdylib (`-` becomes `_`), not after the folder.
STEMS = {"testprojects.http-hello/http-hello": "http_hello"}
STEPS = ("vendor", "dependencies", "build", "embed", "sbom", "package")


def owner_public_key(tmp_path: Path) -> Path:
    """The development owner key's public half: zero-configuration builds sign with it."""
    private = Path(os.environ["HOME"], ".config", "wasm-attest", "dev-keys", "owner.pem").read_bytes()
    public = serialization.load_pem_private_key(private, None).public_key()
    path = tmp_path / "owner.pub"
    path.write_bytes(public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def in_toto_verify(bundle: Path, owner_pub: Path) -> subprocess.CompletedProcess[str]:
    executable = Path(sys.executable).parent / "in-toto-verify"
    assert executable.exists(), f"the reference verifier is not installed next to {sys.executable}"
    return subprocess.run(
        [str(executable), "--layout", "root.layout", "--verification-keys", str(owner_pub), "--link-dir", "."],
        cwd=bundle,
        capture_output=True,
        text=True,
    )


def dsse_payload(path: Path) -> dict:
    return json.loads(base64.b64decode(json.loads(path.read_text())["payload"]))


def stem(folder: str) -> str:
    return STEMS.get(folder, folder.rsplit("/", 1)[1])


@pytest.mark.parametrize("folder", sorted(TARGETS))
def test_dist_holds_the_component_lockfile_sbom_links_provenance_and_layout(dist: Path, folder: str) -> None:
    names = {path.name for path in (dist / folder).iterdir()}
    name = stem(folder)
    assert {f"{name}.wasm", "Cargo.lock", f"{name}.cdx.json", f"{name}.intoto.jsonl", "root.layout"} <= names
    links = sorted(n for n in names if n.endswith(".link"))
    assert [link.split(".")[0] for link in links] == sorted(STEPS)
    assert any(n.endswith(".pub") for n in names)
    root, _ = TARGETS[folder]
    assert (dist / folder / "Cargo.lock").read_bytes() == (REPOSITORY / root / "Cargo.lock").read_bytes()


@pytest.mark.parametrize("folder", sorted(TARGETS))
def test_reference_verifier_accepts_the_bundle_and_rejects_a_modified_product(
    dist: Path, folder: str, tmp_path: Path
) -> None:
    owner_pub = owner_public_key(tmp_path)
    bundle = shutil.copytree(dist / folder, tmp_path / "bundle")
    accepted = in_toto_verify(bundle, owner_pub)
    assert accepted.returncode == 0, accepted.stderr

    (bundle / "final-products-on-disk.link").unlink()
    with open(bundle / f"{stem(folder)}.wasm", "ab") as component:
        component.write(b"\0")
    rejected = in_toto_verify(bundle, owner_pub)
    assert rejected.returncode != 0
    assert f"{stem(folder)}.wasm" in rejected.stdout + rejected.stderr


@pytest.mark.parametrize("folder", sorted(TARGETS))
def test_sbom_is_valid_cyclonedx_1_6_about_the_exact_component(dist: Path, folder: str) -> None:
    sbom_text = (dist / folder / f"{stem(folder)}.cdx.json").read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(sbom_text) is None
    sbom = json.loads(sbom_text)
    component_sha256 = hashlib.sha256((dist / folder / f"{stem(folder)}.wasm").read_bytes()).hexdigest()
    assert sbom["metadata"]["component"]["name"] == TARGETS[folder][1]
    assert sbom["metadata"]["component"]["hashes"] == [{"alg": "SHA-256", "content": component_sha256}]


def cargo_tree(toolchain: Path, repository: Path, folder: str, edges: str) -> set[tuple[str, str]]:
    """`cargo tree` with the pinned toolchain: the crates (name, version) cargo resolves for wasm32-wasip2."""
    root, package = TARGETS[folder]
    registry = repository / "build-support" / "registry" / "crates"
    result = subprocess.run(
        [
            str(toolchain / "bin" / "cargo"),
            "--config",
            'source.crates-io.replace-with="registry"',
            "--config",
            f'source.registry.directory="{registry}"',
            "tree",
            "--locked",
            "--offline",
            "--target=wasm32-wasip2",
            f"--edges={edges}",
            "--prefix=none",
            f"--package={package}",
        ],
        cwd=repository / root,
        env={"CARGO_HOME": str(repository / ".cargo-home"), "RUSTC": str(toolchain / "bin" / "rustc")},
        capture_output=True,
        text=True,
        check=True,
    )
    crates = set()
    for line in result.stdout.splitlines()[1:]:  # the first line is the package itself
        name, version = line.split()[:2]
        crates.add((name, version.lstrip("v")))
    return crates


@pytest.mark.parametrize("folder", sorted(TARGETS))
def test_sbom_lists_exactly_the_crates_cargo_links_and_builds_for_the_host(
    dist: Path, toolchain: Path, folder: str
) -> None:
    """Ground truth: `cargo tree` without proc-macros is what is linked; with build edges, what runs on the host."""
    crates = read_sbom_crates((dist / folder / f"{stem(folder)}.cdx.json").read_bytes())
    linked = {(crate.name, crate.version) for crate in crates if crate.scope == "required"}
    excluded = {(crate.name, crate.version) for crate in crates if crate.scope == "excluded"}
    cargo_linked = cargo_tree(toolchain, dist.parent, folder, "normal,no-proc-macro")
    cargo_compiled = cargo_tree(toolchain, dist.parent, folder, "normal,build")
    assert linked == cargo_linked
    assert excluded == cargo_compiled - cargo_linked


@pytest.mark.parametrize("folder", sorted(TARGETS))
def test_provenance_is_slsa_v1_about_the_component(dist: Path, folder: str) -> None:
    envelope_line = (dist / folder / f"{stem(folder)}.intoto.jsonl").read_text().strip()
    statement = json.loads(base64.b64decode(json.loads(envelope_line)["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    component_sha256 = hashlib.sha256((dist / folder / f"{stem(folder)}.wasm").read_bytes()).hexdigest()
    assert statement["subject"] == [{"name": f"{stem(folder)}.wasm", "digest": {"sha256": component_sha256}}]
    dependencies = {dependency["name"]: dependency for dependency in statement["predicate"]["buildDefinition"]["resolvedDependencies"]}
    lock_sha256 = hashlib.sha256((dist / folder / "Cargo.lock").read_bytes()).hexdigest()
    assert dependencies["Cargo.lock"]["digest"] == {"sha256": lock_sha256}
    assert "toolchain" in dependencies and "source" in dependencies
    # The copy has no .git, so its files are named by repository path; every URI is absolute.
    cargo_root = TARGETS[folder][0]
    assert dependencies["source"]["uri"] == f"wasm-attest-repo:{cargo_root}"
    assert dependencies["Cargo.lock"]["uri"] == f"wasm-attest-repo:{cargo_root}/Cargo.lock"
    times = statement["predicate"]["runDetails"]["metadata"]
    assert "1970-01-01T00:00:00Z" < times["startedOn"] <= times["finishedOn"], "the real build times, not the epoch"


@pytest.mark.parametrize("folder", sorted(TARGETS))
def test_attestations_do_not_depend_on_the_clone_path(dist: Path, dist_elsewhere: Path, folder: str) -> None:
    sbom = f"{stem(folder)}.cdx.json"
    assert (dist_elsewhere / folder / sbom).read_bytes() == (dist / folder / sbom).read_bytes()
    for step in STEPS:
        (here,) = (dist / folder).glob(f"{step}.*.link")
        (there,) = (dist_elsewhere / folder).glob(f"{step}.*.link")
        here_link, there_link = dsse_payload(here), dsse_payload(there)
        assert here_link["materials"] == there_link["materials"], step
        assert here_link["products"] == there_link["products"], step
    # The provenance is the one file that differs between rebuilds, by design: startedOn and finishedOn are when
    # each build really ran. Everything else in it (subject, dependencies, parameters) must be identical.
    provenance = f"{stem(folder)}.intoto.jsonl"
    here_statement, there_statement = dsse_payload(dist / folder / provenance), dsse_payload(dist_elsewhere / folder / provenance)
    for statement in (here_statement, there_statement):
        assert set(statement["predicate"]["runDetails"].pop("metadata")) == {"startedOn", "finishedOn"}
    assert here_statement == there_statement
