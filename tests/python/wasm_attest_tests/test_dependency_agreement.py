"""The three-way check: SBOM, embedded `.dep-v0` and Cargo.lock, from one real build, then tampered with."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path

import pytest

from wasm_attest.cargo_lock import CargoLock, parse_cargo_lock
from wasm_attest.crate_inventory import crate_inventory
from wasm_attest.dep_v0 import BUILD, AuditablePackage, DependencyList, dependency_list
from wasm_attest.dependency_agreement import (
    CrateDisagreement,
    DependencyMismatch,
    check_dependency_agreement,
    dependency_disagreements,
)
from wasm_attest.sbom import SbomInputs, build_sbom
from wasm_attest.sbom_crates import SbomCrate, read_sbom_crates

# Captured by testdata/cargo/capture.sh from testprojects/exclusions: real cargo 1.96 output.
FOLDER = Path(__file__).parent / "testdata" / "cargo" / "exclusions"
LOCKFILE = parse_cargo_lock((FOLDER / "Cargo.lock").read_text())
METADATA = (FOLDER / "metadata.json").read_bytes()
MESSAGES = (FOLDER / "build-messages.jsonl").read_bytes()


def sbom_crates() -> list[SbomCrate]:
    sbom = build_sbom(
        SbomInputs(
            component_name="exclusions",
            component_sha256="0f" * 32,
            lockfile=LOCKFILE,
            metadata_json=METADATA,
            build_messages=MESSAGES,
            features=(),
            profile="release",
            target_triple="wasm32-wasip2",
            rustc_version="1.96.0",
            cargo_version="1.96.0",
            timestamp=datetime(2024, 5, 1, tzinfo=timezone.utc),
        )
    )
    return list(read_sbom_crates(sbom.json_bytes))


def embedded() -> DependencyList:
    inventory = crate_inventory(
        metadata_json=METADATA, build_messages=MESSAGES, lockfile=LOCKFILE, package="exclusions", target_triple="wasm32-wasip2"
    )
    return dependency_list(inventory)


def messages(*, sbom: list[SbomCrate] | None = None, deps: DependencyList | None = None, lockfile: CargoLock = LOCKFILE) -> list[str]:
    found = dependency_disagreements(
        sbom_crates=sbom if sbom is not None else sbom_crates(), embedded=deps or embedded(), lockfile=lockfile
    )
    return [disagreement.message for disagreement in found]


def without(deps: DependencyList, name: str) -> DependencyList:
    """The list less one package; the indices of the others are not fixed up, which the check does not read."""
    return DependencyList(tuple(package for package in deps.packages if package.name != name), deps.format)


def replaced(deps: DependencyList, name: str, **changes) -> DependencyList:
    return DependencyList(
        tuple(dataclasses.replace(package, **changes) if package.name == name else package for package in deps.packages),
        deps.format,
    )


def relocked(name: str, version: str) -> CargoLock:
    return CargoLock(
        LOCKFILE.version,
        tuple(dataclasses.replace(package, version=version) if package.name == name else package for package in LOCKFILE.packages),
    )


def test_records_of_one_build_agree() -> None:
    check_dependency_agreement(sbom_crates=sbom_crates(), embedded=embedded(), lockfile=LOCKFILE)


def test_the_sbom_lists_build_only_crates_the_dep_v0_lists_as_build_and_neither_is_compared() -> None:
    excluded = {crate.name for crate in sbom_crates() if crate.scope == "excluded"}
    built = {package.name for package in embedded().packages if package.kind == BUILD}
    assert excluded == built == {"autocfg", "proc-macro2", "quote", "serde_derive", "syn", "unicode-ident"}
    assert messages(sbom=[crate for crate in sbom_crates() if crate.scope != "excluded"]) == []


def test_a_crate_missing_from_the_dep_v0() -> None:
    assert messages(deps=without(embedded(), "serde")) == ["serde 1.0.152: in the SBOM, not in the component's .dep-v0"]


def test_a_crate_missing_from_the_sbom() -> None:
    sbom = [crate for crate in sbom_crates() if crate.name != "itoa"]
    assert messages(sbom=sbom) == ["itoa 1.0.1: in the component's .dep-v0, not in the SBOM"]


def test_a_linked_crate_the_dep_v0_calls_a_build_dependency() -> None:
    assert messages(deps=replaced(embedded(), "ryu", kind=BUILD)) == [
        "ryu 1.0.2: linked in the SBOM, a build dependency in the component's .dep-v0"
    ]


def test_a_version_that_differs_from_cargo_lock() -> None:
    assert messages(lockfile=relocked("itoa", "1.0.3")) == [
        "itoa 1.0.1: version differs: SBOM and .dep-v0 1.0.1, Cargo.lock 1.0.3"
    ]


def test_a_dep_v0_version_that_differs_from_the_sbom_and_cargo_lock() -> None:
    assert messages(deps=replaced(embedded(), "itoa", version="1.0.0")) == [
        "itoa 1.0.0: in the component's .dep-v0, not in the SBOM; version differs: .dep-v0 1.0.0, Cargo.lock 1.0.1",
        "itoa 1.0.1: in the SBOM, not in the component's .dep-v0",
    ]


def test_a_crate_cargo_lock_does_not_have_at_all() -> None:
    extra = AuditablePackage("left-pad", "1.0.0", "crates.io")
    deps = embedded()
    sbom = [*sbom_crates(), SbomCrate("left-pad", "1.0.0", "required", "pkg:cargo/left-pad@1.0.0", None)]
    assert messages(sbom=sbom, deps=DependencyList((*deps.packages, extra), deps.format)) == [
        "left-pad 1.0.0: in the SBOM and .dep-v0, not in Cargo.lock"
    ]


def test_build_packages_and_the_root_are_checked_against_cargo_lock() -> None:
    assert messages(lockfile=relocked("syn", "1.0.109")) == [
        "syn 1.0.107: version differs: .dep-v0 1.0.107, Cargo.lock 1.0.109"
    ]
    assert messages(lockfile=relocked("exclusions", "0.2.0")) == [
        "exclusions 0.1.0: version differs: .dep-v0 0.1.0, Cargo.lock 0.2.0"
    ]


def test_the_root_is_not_expected_in_the_sbom_crate_list() -> None:
    assert embedded().root.name == "exclusions"
    assert "exclusions" not in {crate.name for crate in sbom_crates()}


def test_the_error_lists_every_disagreement_and_keeps_them_for_machines() -> None:
    with pytest.raises(DependencyMismatch) as raised:
        check_dependency_agreement(
            sbom_crates=[crate for crate in sbom_crates() if crate.name != "ryu"],
            embedded=without(embedded(), "serde"),
            lockfile=LOCKFILE,
        )
    error = raised.value
    assert str(error).splitlines() == [
        "the SBOM, the component's embedded .dep-v0 and Cargo.lock disagree on 2 crate version(s):",
        "  ryu 1.0.2: in the component's .dep-v0, not in the SBOM",
        "  serde 1.0.152: in the SBOM, not in the component's .dep-v0",
        "They must come from one build: rebuild the component, or find which file was replaced.",
    ]
    assert error.disagreements == (
        CrateDisagreement("ryu", "1.0.2", in_sbom=False, dep_v0_kind="runtime", lockfile_versions=("1.0.2",)),
        CrateDisagreement("serde", "1.0.152", in_sbom=True, dep_v0_kind=None, lockfile_versions=("1.0.152",)),
    )
    assert error.disagreements[1].to_json() == {
        "name": "serde",
        "version": "1.0.152",
        "in_sbom": True,
        "dep_v0_kind": None,
        "lockfile_versions": ["1.0.152"],
        "message": "serde 1.0.152: in the SBOM, not in the component's .dep-v0",
    }
