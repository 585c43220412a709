"""The provenance a component build gets: every crate the SBOM lists, URIs that are URIs, real build times.

Built from real cargo output (testdata/cargo, captured from the testprojects),
through the same functions the Pants plugin calls.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from wasm_attest_tests.test_sbom import FIXTURES, inputs

from wasm_attest.component_pipeline import (
    LOCKFILE,
    BuildParameters,
    ComponentFiles,
    component_provenance,
    lockfile_descriptor,
    source_descriptor,
    toolchain_descriptor,
)
from wasm_attest.isolation import no_isolation
from wasm_attest.provenance import NO_DIGEST_ANNOTATION
from wasm_attest.sbom import build_sbom
from wasm_attest.source.checkout import Checkout

SOURCE_DATE = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
STARTED = datetime(2026, 11, 22, 9, 30, 1, tzinfo=timezone.utc)
FINISHED = STARTED + timedelta(seconds=42)
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def statement(fixture: str) -> tuple[dict, dict]:
    """The provenance statement of the fixture's component, and its SBOM document."""
    sbom = build_sbom(inputs(fixture))
    files = ComponentFiles(f"{FIXTURES[fixture]}.wasm")
    delivered = {files.component: "0f" * 32, LOCKFILE: "1e" * 32, files.sbom: "2d" * 32}
    checkout = Checkout(COMMIT, None)
    provenance = component_provenance(
        files=files,
        parameters=BuildParameters(f"testprojects/{fixture}:{FIXTURES[fixture]}", FIXTURES[fixture], FIXTURES[fixture], (), False, "release"),
        sbom=sbom,
        delivered=delivered,
        lockfile=lockfile_descriptor(checkout, f"testprojects/{fixture}/Cargo.lock", delivered[LOCKFILE]),
        source=source_descriptor(checkout, f"testprojects/{fixture}", {"src/main.rs": "3c" * 32}),
        toolchain=toolchain_descriptor("1.96.0", "4b" * 32, "rustc 1.96.0"),
        builder_id="https://wasm-attest.dev/builders/pants",
        source_date=SOURCE_DATE,
        started_on=STARTED,
        finished_on=FINISHED,
        isolation=no_isolation(),
    )
    return json.loads(provenance.payload()), json.loads(sbom.json_bytes)


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_provenance_lists_every_crate_the_sbom_lists(fixture: str) -> None:
    provenance, sbom = statement(fixture)
    dependencies = provenance["predicate"]["buildDefinition"]["resolvedDependencies"]
    crates = {dependency["uri"]: dependency for dependency in dependencies if dependency["uri"].startswith("pkg:cargo/")}
    sbom_purls = {component["purl"] for component in sbom["components"] if "purl" in component}
    assert set(crates) == sbom_purls
    for component in sbom["components"]:
        if "purl" not in component:
            continue
        hashes = [entry["content"] for entry in component.get("hashes", []) if entry["alg"] == "SHA-256"]
        descriptor = crates[component["purl"]]
        if hashes:
            assert descriptor["digest"] == {"sha256": hashes[0]}
        else:
            assert "digest" not in descriptor
            assert "no SHA-256" in descriptor["annotations"][NO_DIGEST_ANNOTATION]


def test_crates_whose_lockfile_checksum_is_not_a_sha256_are_listed_without_a_digest() -> None:
    provenance, _ = statement("exclusions")
    dependencies = {d["uri"]: d for d in provenance["predicate"]["buildDefinition"]["resolvedDependencies"]}
    for purl in ("pkg:cargo/syn@1.0.107", "pkg:cargo/cfg-if@1.0.0"):  # "Could not get crate checksum" in Cargo.lock
        assert "digest" not in dependencies[purl] and NO_DIGEST_ANNOTATION in dependencies[purl]["annotations"]


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_every_resolved_dependency_has_an_absolute_uri(fixture: str) -> None:
    provenance, _ = statement(fixture)
    uris = [dependency["uri"] for dependency in provenance["predicate"]["buildDefinition"]["resolvedDependencies"]]
    assert uris[:3] == [
        f"wasm-attest-repo:testprojects/{fixture}",
        f"wasm-attest-repo:testprojects/{fixture}/Cargo.lock",
        "pkg:generic/wasm32-wasip2-rust@1.96.0",
    ]


def test_build_times_are_the_real_ones_and_the_source_date_is_recorded() -> None:
    provenance, sbom = statement("exclusions")
    assert provenance["predicate"]["runDetails"]["metadata"] == {
        "startedOn": "2026-11-22T09:30:01Z",
        "finishedOn": "2026-11-22T09:30:43Z",
    }
    internal = provenance["predicate"]["buildDefinition"]["internalParameters"]
    assert internal["sourceDateEpoch"] == int(SOURCE_DATE.timestamp())
    assert sbom["metadata"]["timestamp"] == "2024-05-01T12:00:00+00:00"  # the reproducible files keep the source date
