"""What a packaged component says about its sources and its build, under Pants' RuleRunner with the real toolchain:
a modified checkout says so (and release mode refuses it), URIs are absolute, the build times are real, and a
layout expiry outside its range is refused before anything is built or deleted."""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pants.engine.addresses import Address
from pants.testutil.rule_runner import RuleRunner
from cryptography.hazmat.primitives.asymmetric import ec
from wasm_component_rules.rule_runner_support import add_testproject, configure, package, package_error, write_key

from wasm_attest.component_metadata import read_component_metadata

HELLO = Address("hello", target_name="hello")
REMOTE = "https://ci-bot:s3cret-token@example.org/org/repo.git"


def git(rule_runner: RuleRunner, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", rule_runner.build_root, *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def committed_hello(rule_runner: RuleRunner) -> str:
    """hello (copied in unless it is there) in a git repository with a remote, committed; returns the commit."""
    if not Path(rule_runner.build_root, "hello").exists():
        add_testproject(rule_runner, "hello")
    Path(rule_runner.build_root, ".gitignore").write_text("/registry/\n/.dev-keys/\n/owner-keys/\n/dist/\n")
    git(rule_runner, "init", "-q")
    git(rule_runner, "remote", "add", "origin", REMOTE)
    git(rule_runner, "add", "hello", ".gitignore")
    git(rule_runner, "commit", "-q", "-m", "hello")
    return git(rule_runner, "rev-parse", "HEAD")


def provenance(outputs: dict[str, bytes]) -> dict:
    envelope = json.loads(outputs["hello/hello/hello.intoto.jsonl"])
    return json.loads(base64.b64decode(envelope["payload"]))


def dependencies(statement: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in statement["predicate"]["buildDefinition"]["resolvedDependencies"]}


def test_a_clean_checkout_names_its_commit_and_remote_without_credentials(rule_runner: RuleRunner) -> None:
    commit = committed_hello(rule_runner)
    outputs = package(rule_runner, HELLO)
    source = dependencies(provenance(outputs))["source"]
    assert source == {"uri": f"git+https://example.org/org/repo.git@{commit}#hello", "digest": {"gitCommit": commit}, "name": "source"}
    assert dependencies(provenance(outputs))["Cargo.lock"]["uri"] == f"git+https://example.org/org/repo.git@{commit}#hello/Cargo.lock"
    assert read_component_metadata(outputs["hello/hello/hello.wasm"]).revision == commit
    assert not any(b"s3cret" in content for content in outputs.values())


def test_a_modified_checkout_is_never_reported_as_its_commit(rule_runner: RuleRunner) -> None:
    commit = committed_hello(rule_runner)
    main = Path(rule_runner.build_root, "hello/src/main.rs")
    main.write_text(main.read_text().replace("Hello from wasm-attest!", "Hello from a modified tree!"))
    outputs = package(rule_runner, HELLO)
    source = dependencies(provenance(outputs))["source"]
    assert source["uri"] == "git+https://example.org/org/repo.git#hello"
    assert set(source["digest"]) == {"sha256"}
    assert source["annotations"] == {"baseCommit": commit, "modified": True, "modifiedCount": 1, "modifiedPaths": ["hello/src/main.rs"]}
    assert read_component_metadata(outputs["hello/hello/hello.wasm"]).revision == f"{commit}-modified"


RELEASE_BUILD = 'wasm_component(name="hello", signed_layout="hello.root.layout")\n'


@pytest.mark.parametrize(
    "options, release_build, reason",
    [
        (["--wasm-attest-require-clean-tree"], False, "[wasm-attest].require_clean_tree is set"),
        (["--wasm-attest-require-signed-layouts"], True, "[wasm-attest].require_signed_layouts (release mode) is set"),
        ([], True, "the target builds in release mode (signed_layout hello/hello.root.layout)"),
    ],
)
def test_release_mode_refuses_a_modified_checkout_before_building(
    rule_runner: RuleRunner, options: list[str], release_build: bool, reason: str
) -> None:
    add_testproject(rule_runner, "hello")
    if release_build:  # the refusal comes before the layout is looked at, so any committed file will do
        Path(rule_runner.build_root, "hello/BUILD").write_text(RELEASE_BUILD)
        Path(rule_runner.build_root, "hello/hello.root.layout").write_text("{}")
    commit = committed_hello(rule_runner)
    Path(rule_runner.build_root, "hello/src/extra.rs").write_text("// untracked\n")
    if release_build:  # a builder in release mode trusts the owner's public key, which lives outside the repository
        folder = Path(rule_runner.build_root, "owner-keys")  # git-ignored: not a file the build reads
        folder.mkdir()
        _, owner_pub = write_key(folder, "owner", ec.generate_private_key(ec.SECP256R1()))
        options = [*options, f"--wasm-attest-trusted-owner-keys={owner_pub}"]
    configure(rule_runner, *options)
    message = package_error(rule_runner, HELLO)
    assert message.startswith(f"hello:hello: {reason}, but 1 file(s) the build reads differ from commit {commit}")
    assert message.endswith(": hello/src/extra.rs. Commit or stash them (and add untracked files to git), then build again.")
    assert not Path(rule_runner.build_root, "dist").exists()


def test_provenance_carries_the_real_build_times(rule_runner: RuleRunner) -> None:
    add_testproject(rule_runner, "hello")
    before = datetime.now(timezone.utc).replace(microsecond=0)
    outputs = package(rule_runner, HELLO)
    after = datetime.now(timezone.utc)
    statement = provenance(outputs)
    times = statement["predicate"]["runDetails"]["metadata"]
    started, finished = (datetime.strptime(times[key], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) for key in ("startedOn", "finishedOn"))
    assert before <= started <= finished <= after
    assert statement["predicate"]["buildDefinition"]["internalParameters"]["sourceDateEpoch"] == 0  # no git, no SOURCE_DATE_EPOCH
    found = dependencies(statement)
    assert found["source"]["uri"] == "wasm-attest-repo:hello" and found["Cargo.lock"]["uri"] == "wasm-attest-repo:hello/Cargo.lock"
    assert found["toolchain"]["uri"].startswith("pkg:generic/wasm32-wasip2-rust@")


@pytest.mark.parametrize("days", ["0", "-1", "3651"])
def test_layout_expiry_out_of_range_fails_before_building_and_keeps_dist(rule_runner: RuleRunner, days: str) -> None:
    add_testproject(rule_runner, "hello")
    previous = Path(rule_runner.build_root, "dist/hello/hello/hello.wasm")
    previous.parent.mkdir(parents=True)
    previous.write_bytes(b"the previous, verified bundle")
    configure(rule_runner, f"--wasm-attest-layout-expiry-days={days}")
    message = package_error(rule_runner, HELLO)
    assert message == (
        f"[wasm-attest].layout_expiry_days is {days}; set it to a whole number of days from 1 to 3650 "
        "(the layout expires that long after it is signed)."
    )
    assert previous.read_bytes() == b"the previous, verified bundle"
