"""Release mode: a layout generated for review, signed offline by the owner, committed, and enforced by package.

The builder here holds only a functionary key (no owner key), as a CI job in
release mode would; the owner's public key is the configured trust root. The
tests show that the committed layout is what ships, that the builder cannot
loosen or edit it, and that a build that drifted from it fails.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from pants.engine.addresses import Address
from pants.testutil.rule_runner import RuleRunner
from wasm_component_rules.rule_runner_support import (
    BWRAP_URL,
    TOOLCHAIN_URL,
    add_testproject,
    build_package,
    package,
    package_error,
    write_bundle,
    write_key,
)

from wasm_attest import cli
from wasm_attest.keys import load_public_key, load_signing_key
from wasm_attest.layout import load_unsigned_layout, sign_layout
from wasm_attest.verification import verify_attestations
from wasm_component.goals.generate_layout import GenerateLayout
from wasm_component.goals.verify_layout import VerifyLayout

HELLO = Address("hello", target_name="hello")
UNSIGNED = "hello/hello.layout.json"
SIGNED = "hello/hello.root.layout"
RELEASE_BUILD = 'wasm_component(name="hello", signed_layout="hello.root.layout")\n'


@pytest.fixture
def keys(rule_runner: RuleRunner) -> dict[str, Path]:
    folder = Path(rule_runner.build_root, "keys")
    folder.mkdir()
    owner, owner_pub = write_key(folder, "owner", ec.generate_private_key(ec.SECP256R1()))
    functionary, functionary_pub = write_key(folder, "functionary", ed25519.Ed25519PrivateKey.generate())
    return {"owner": owner, "owner_pub": owner_pub, "functionary": functionary, "functionary_pub": functionary_pub}


def builder_options(rule_runner: RuleRunner, keys: dict[str, Path], *extra: str) -> list[str]:
    """What a release-mode builder configures: the toolchain and crates, a functionary key, the owner's public key."""
    return [
        f"--wasm-toolchain-url-template={TOOLCHAIN_URL}",
        f"--wasm-sandbox-url-template={BWRAP_URL}",
        "--cargo-registry-source=directory",
        "--cargo-registry-directory=registry",
        f"--wasm-attest-development-keys-dir={rule_runner.build_root}/.dev-keys",
        f"--wasm-attest-default-functionary-key={keys['functionary']}",
        f"--wasm-attest-trusted-owner-keys={keys['owner_pub']}",
        *extra,
    ]


def configure_builder(rule_runner: RuleRunner, keys: dict[str, Path], *extra: str) -> None:
    rule_runner.set_options(builder_options(rule_runner, keys, *extra), env_inherit={"PATH", "HOME"})


def generate_layout(rule_runner: RuleRunner, keys: dict[str, Path]) -> bytes:
    """Runs `pants generate-layout hello:hello`; returns the unsigned layout it wrote next to the target."""
    result = rule_runner.run_goal_rule(
        GenerateLayout, global_args=builder_options(rule_runner, keys), args=["hello:hello"], env_inherit={"PATH", "HOME"}
    )
    assert result.exit_code == 0, result.stderr
    assert f"Wrote {UNSIGNED}" in result.stdout
    assert f"wasm-attest sign-layout {UNSIGNED} --key owner.pem --output {SIGNED}" in result.stdout
    return Path(rule_runner.build_root, UNSIGNED).read_bytes()


def commit_signed_layout(rule_runner: RuleRunner, signed: bytes) -> None:
    """Commits the signed layout next to the target and names it in the BUILD file."""
    rule_runner.write_files({SIGNED: signed, "hello/BUILD": RELEASE_BUILD})


def sign_offline(unsigned: bytes, key: Path) -> bytes:
    """`wasm-attest sign-layout`, as the owner runs it on their own machine."""
    with tempfile.TemporaryDirectory() as folder:
        unsigned_path, signed_path = Path(folder, "hello.layout.json"), Path(folder, "hello.root.layout")
        unsigned_path.write_bytes(unsigned)
        assert cli.main(["sign-layout", str(unsigned_path), "--key", str(key), "--output", str(signed_path)]) == 0
        return signed_path.read_bytes()


def released(rule_runner: RuleRunner, keys: dict[str, Path]) -> bytes:
    """The whole owner side: generate, review (read back), sign offline, commit. Returns the signed layout."""
    add_testproject(rule_runner, "hello")
    unsigned = generate_layout(rule_runner, keys)
    signed = sign_offline(unsigned, keys["owner"])
    commit_signed_layout(rule_runner, signed)
    configure_builder(rule_runner, keys)
    return signed


def test_generate_layout_writes_the_layout_for_review(rule_runner: RuleRunner, keys: dict[str, Path]) -> None:
    add_testproject(rule_runner, "hello")
    unsigned = generate_layout(rule_runner, keys)
    layout = load_unsigned_layout(unsigned, origin=UNSIGNED)
    assert [step.name for step in layout.steps] == ["vendor", "dependencies", "build", "embed", "sbom", "package"]
    assert set(layout.keys) == {load_public_key(keys["functionary_pub"]).keyid}
    build = next(step for step in layout.steps if step.name == "build")
    assert ["ALLOW", "src/main.rs"] in build.expected_materials
    assert build.expected_materials[-1] == ["DISALLOW", "*"]
    assert unsigned.endswith(b"}\n") and b'\n  "steps": [' in unsigned


def test_the_committed_signed_layout_is_what_package_ships_and_verifies(
    rule_runner: RuleRunner, keys: dict[str, Path]
) -> None:
    signed = released(rule_runner, keys)
    built = build_package(rule_runner, HELLO)
    assert any(f"the owner-signed {SIGNED}" in line for line in built.artifacts[0].extra_log_lines)

    outputs = package(rule_runner, HELLO)
    assert outputs["hello/hello/root.layout"] == signed
    with tempfile.TemporaryDirectory() as bundle:
        write_bundle(outputs, "hello/hello", Path(bundle))
        report = verify_attestations(Path(bundle), trusted_owner_keys=[load_public_key(keys["owner_pub"])])
    assert report.owner_keyids == (load_public_key(keys["owner_pub"]).keyid,)

    # verify-layout checks the bundle in dist/ against the committed file, trusting only the configured owner key.
    dist = Path(rule_runner.build_root, "dist")
    for path, content in outputs.items():
        (dist / path).parent.mkdir(parents=True, exist_ok=True)
        (dist / path).write_bytes(content)
    result = rule_runner.run_goal_rule(
        VerifyLayout, global_args=builder_options(rule_runner, keys), args=["hello:hello"], env_inherit={"PATH", "HOME"}
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"{SIGNED}: verified" in result.stdout


def test_a_builder_with_only_functionary_keys_cannot_loosen_the_policy(
    rule_runner: RuleRunner, keys: dict[str, Path]
) -> None:
    signed = released(rule_runner, keys)
    envelope = json.loads(signed)
    layout = load_unsigned_layout(base64.b64decode(envelope["payload"]))
    for step in layout.steps:
        if step.name == "build":
            step.expected_materials = [["ALLOW", "*"]]
            step.expected_products = [["ALLOW", "*"]]

    # Re-signed with the only key the builder holds.
    commit_signed_layout(rule_runner, sign_layout(layout, load_signing_key(keys["functionary"]).signer))
    message = package_error(rule_runner, HELLO)
    assert "check: layout signature by the trusted owner key" in message
    assert "nothing was written" in message

    # Edited in place, keeping the owner's signature.
    envelope["payload"] = base64.b64encode(layout.signable_bytes).decode()
    commit_signed_layout(rule_runner, json.dumps(envelope).encode())
    assert "check: layout signature by the trusted owner key" in package_error(rule_runner, HELLO)

    # The reviewed JSON committed without signing it.
    commit_signed_layout(rule_runner, Path(rule_runner.build_root, UNSIGNED).read_bytes())
    assert "is an unsigned layout" in package_error(rule_runner, HELLO)


def test_a_build_that_no_longer_matches_the_committed_layout_fails(
    rule_runner: RuleRunner, keys: dict[str, Path]
) -> None:
    released(rule_runner, keys)
    previous = Path(rule_runner.build_root, "dist", "hello", "hello", "hello.wasm")  # an earlier `pants package`
    previous.parent.mkdir(parents=True)
    previous.write_bytes(b"\0asm")
    rule_runner.write_files({"hello/src/extra.rs": "// Added after the layout was reviewed.\n"})
    message = package_error(rule_runner, HELLO)
    assert "step 'build'" in message
    assert "artifact 'src/extra.rs'" in message
    assert "check: expected_materials: DISALLOW *" in message
    assert "dist/hello/hello was removed" in message and not previous.parent.exists(), "nothing unverified may look current"


def test_require_signed_layouts_without_a_signed_layout_is_a_clear_error(
    rule_runner: RuleRunner, keys: dict[str, Path]
) -> None:
    add_testproject(rule_runner, "hello")
    configure_builder(rule_runner, keys, "--wasm-attest-require-signed-layouts")
    message = package_error(rule_runner, HELLO)
    assert "require_signed_layouts" in message and "names no `signed_layout`" in message
    assert "pants generate-layout hello:hello" in message


def test_a_signed_layout_needs_trusted_owner_keys(rule_runner: RuleRunner, keys: dict[str, Path]) -> None:
    add_testproject(rule_runner, "hello")
    rule_runner.write_files({SIGNED: "{}", "hello/BUILD": RELEASE_BUILD})
    configure_builder(rule_runner, keys, "--wasm-attest-trusted-owner-keys=[]")
    message = package_error(rule_runner, HELLO)
    assert SIGNED in message and "[wasm-attest].trusted_owner_keys is empty" in message


def test_a_missing_signed_layout_file_is_a_clear_error(rule_runner: RuleRunner, keys: dict[str, Path]) -> None:
    add_testproject(rule_runner, "hello")
    rule_runner.write_files({"hello/BUILD": RELEASE_BUILD})
    configure_builder(rule_runner, keys)
    assert f"its `signed_layout` {SIGNED} does not exist" in package_error(rule_runner, HELLO)


@pytest.mark.parametrize("value", ["../../etc/passwd", "/etc/passwd"])
def test_a_signed_layout_outside_the_repository_names_the_target_and_field(
    rule_runner: RuleRunner, keys: dict[str, Path], value: str
) -> None:
    add_testproject(rule_runner, "hello")
    rule_runner.write_files({"hello/BUILD": f'wasm_component(name="hello", signed_layout="{value}")'})
    configure_builder(rule_runner, keys)
    message = package_error(rule_runner, HELLO)
    assert f"hello:hello: `signed_layout` {value!r}" in message and "relative to the target's directory" in message


def test_a_signed_layout_that_is_a_fifo_is_refused_unread(rule_runner: RuleRunner, keys: dict[str, Path]) -> None:
    add_testproject(rule_runner, "hello")
    rule_runner.write_files({"hello/BUILD": RELEASE_BUILD})
    os.mkfifo(Path(rule_runner.build_root, SIGNED))
    configure_builder(rule_runner, keys)
    message = package_error(rule_runner, HELLO)
    assert f"hello:hello: its `signed_layout` {SIGNED} is a FIFO, not a regular file" in message


def test_an_oversized_signed_layout_is_refused(rule_runner: RuleRunner, keys: dict[str, Path]) -> None:
    add_testproject(rule_runner, "hello")
    rule_runner.write_files({"hello/BUILD": RELEASE_BUILD, SIGNED: b"{" + b" " * (4 * 1024 * 1024)})
    configure_builder(rule_runner, keys)
    message = package_error(rule_runner, HELLO)
    assert f"hello:hello: its `signed_layout` {SIGNED} is 4194305 bytes, more than the 4 MiB" in message


def test_release_mode_enforces_the_capability_policy_the_owner_signed_not_the_builders(
    rule_runner: RuleRunner, keys: dict[str, Path]
) -> None:
    add_testproject(rule_runner, "hello")
    unsigned = json.loads(generate_layout(rule_runner, keys))
    # The layout carries the policy the build had (the repository default: every import allowed).
    assert unsigned["readme"].endswith('Capability policy (wasm-attest): {"allowedImports": ["*"], "requiredExports": []}')
    # The owner tightens it while reviewing: hello's std imports wasi:filesystem, which the owner does not allow.
    unsigned["readme"] = unsigned["readme"].replace(
        '"allowedImports": ["*"]', '"allowedImports": ["wasi:cli/*", "wasi:io/*", "wasi:clocks/*"]'
    )
    commit_signed_layout(rule_runner, sign_offline(json.dumps(unsigned, indent=2).encode(), keys["owner"]))
    configure_builder(rule_runner, keys)  # the builder's own policy still allows everything
    message = package_error(rule_runner, HELLO)
    assert "check: capability policy" in message
    assert "imports wasi:filesystem/preopens@0.2.6: no allowed-imports pattern matches it" in message
    assert "only a layout they re-sign can change it" in message
