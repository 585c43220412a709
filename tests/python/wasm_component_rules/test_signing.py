"""Signing a package with configured keys, and what the user sees when a key cannot be used.

Real keys, generated here with `cryptography`, sign a real build; the bundle
must then verify against the configured owner key, and every key error must
say what to fix without printing key material or passwords.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from pants.engine.addresses import Address
from pants.testutil.rule_runner import RuleRunner
from wasm_component_rules.rule_runner_support import (
    add_testproject,
    build_package,
    configure,
    package,
    package_error,
    write_bundle,
    write_key,
)

from wasm_attest.keys import load_public_key
from wasm_attest.verification import verify_attestations

HELLO = Address("hello", target_name="hello")
PASSWORD = "correct horse battery staple"


@pytest.fixture
def keys(rule_runner: RuleRunner) -> dict[str, Path]:
    folder = Path(rule_runner.build_root, "keys")
    folder.mkdir()
    owner, owner_pub = write_key(folder, "owner", ec.generate_private_key(ec.SECP256R1()), PASSWORD)
    functionary, _ = write_key(folder, "functionary", ed25519.Ed25519PrivateKey.generate())
    return {"owner": owner, "owner_pub": owner_pub, "functionary": functionary}


def configure_keys(rule_runner: RuleRunner, keys: dict[str, Path], password: str | None = PASSWORD) -> None:
    configure(
        rule_runner,
        "--wasm-attest-owner-key=keys/owner.pem",
        "--wasm-attest-owner-key-password-env=HELLO_OWNER_PASSWORD",
        f"--wasm-attest-default-functionary-key={keys['functionary']}",
        env={"HELLO_OWNER_PASSWORD": password} if password is not None else {},
    )


def test_configured_keys_sign_and_the_owner_key_verifies(rule_runner: RuleRunner, keys: dict[str, Path]) -> None:
    add_testproject(rule_runner, "hello")
    configure_keys(rule_runner, keys)
    built = build_package(rule_runner, HELLO)
    assert not any("development keys" in line for line in built.artifacts[0].extra_log_lines)

    outputs = package(rule_runner, HELLO)
    with tempfile.TemporaryDirectory() as bundle:
        write_bundle(outputs, "hello/hello", Path(bundle))
        report = verify_attestations(Path(bundle), trusted_owner_keys=[load_public_key(keys["owner_pub"])])
    assert {passed.item for passed in report.items} >= {"layout", "vendor", "build", "embed", "sbom", "package"}
    assert report.owner_keyids == (load_public_key(keys["owner_pub"]).keyid,)


def test_replacing_a_key_file_re_signs_instead_of_reusing_old_signatures(
    rule_runner: RuleRunner, keys: dict[str, Path]
) -> None:
    """Key files are read outside the engine, so a new key at the same path must still reach the signatures."""
    add_testproject(rule_runner, "hello")
    configure_keys(rule_runner, keys)
    first = package(rule_runner, HELLO)

    folder = keys["owner"].parent
    write_key(folder, "owner", ec.generate_private_key(ec.SECP256R1()), PASSWORD)
    write_key(folder, "functionary", ed25519.Ed25519PrivateKey.generate())
    rule_runner.set_session_values(rule_runner.extra_session_values)  # the next run of the same pantsd
    second = package(rule_runner, HELLO)

    assert {Path(path).name for path in first if path.endswith(".link")}.isdisjoint(
        Path(path).name for path in second if path.endswith(".link")
    ), "link file names carry the signer's keyid, so new keys must give new names"
    with tempfile.TemporaryDirectory() as bundle:
        write_bundle(second, "hello/hello", Path(bundle))
        report = verify_attestations(Path(bundle), trusted_owner_keys=[load_public_key(keys["owner_pub"])])
    assert report.owner_keyids == (load_public_key(keys["owner_pub"]).keyid,)


def test_links_of_an_earlier_build_are_cleared_from_dist(rule_runner: RuleRunner, keys: dict[str, Path]) -> None:
    """After re-keying, dist/ must not keep the links the old keys signed next to the new bundle."""
    add_testproject(rule_runner, "hello")
    configure_keys(rule_runner, keys)
    first = package(rule_runner, HELLO)

    write_key(keys["owner"].parent, "functionary", ed25519.Ed25519PrivateKey.generate())
    rule_runner.set_session_values(rule_runner.extra_session_values)
    second = package(rule_runner, HELLO)

    old_links = [path for path in first if path.endswith(".link") and path not in second]
    assert old_links and not any(Path(rule_runner.build_root, "dist", path).exists() for path in old_links)


def test_development_keys_are_announced_on_every_package(rule_runner: RuleRunner) -> None:
    add_testproject(rule_runner, "hello")
    built = build_package(rule_runner, HELLO)
    assert any("development keys" in line for line in built.artifacts[0].extra_log_lines)


def test_wrong_password_is_a_clear_error_without_secrets(rule_runner: RuleRunner, keys: dict[str, Path]) -> None:
    add_testproject(rule_runner, "hello")
    configure_keys(rule_runner, keys, password="not the password")
    message = package_error(rule_runner, HELLO)
    assert "owner.pem" in message and "HELLO_OWNER_PASSWORD" in message
    assert "not the password" not in message and PASSWORD not in message
    assert "PRIVATE KEY" not in message


def test_unset_password_variable_is_a_clear_error(rule_runner: RuleRunner, keys: dict[str, Path]) -> None:
    add_testproject(rule_runner, "hello")
    configure_keys(rule_runner, keys, password=None)
    message = package_error(rule_runner, HELLO)
    assert "HELLO_OWNER_PASSWORD" in message


def test_missing_key_file_is_a_clear_error(rule_runner: RuleRunner) -> None:
    add_testproject(rule_runner, "hello")
    configure(
        rule_runner,
        "--wasm-attest-owner-key=keys/absent.pem",
        "--wasm-attest-default-functionary-key=keys/absent.pem",
    )
    message = package_error(rule_runner, HELLO)
    assert "keys/absent.pem" in message


def test_key_errors_come_before_the_build(rule_runner: RuleRunner) -> None:
    """A missing key is reported before anything is read or compiled (a release build can take minutes).

    The crate has no Cargo.lock, which the build would reject first if it ran first.
    """
    add_testproject(rule_runner, "hello")
    Path(rule_runner.build_root, "hello", "Cargo.lock").unlink()
    configure(
        rule_runner,
        "--wasm-attest-owner-key=keys/absent.pem",
        "--wasm-attest-default-functionary-key=keys/absent.pem",
    )
    message = package_error(rule_runner, HELLO)
    assert "keys/absent.pem" in message and "Cargo.lock" not in message


def test_functionary_keys_without_an_owner_key_are_rejected(rule_runner: RuleRunner, keys: dict[str, Path]) -> None:
    add_testproject(rule_runner, "hello")
    configure(rule_runner, f"--wasm-attest-default-functionary-key={keys['functionary']}")
    assert "no `owner_key`" in package_error(rule_runner, HELLO)


def test_a_key_path_linked_to_a_device_is_refused_unread(rule_runner: RuleRunner) -> None:
    """A key linked to /dev/zero was read until Pants was killed for running out of memory."""
    add_testproject(rule_runner, "hello")
    with tempfile.TemporaryDirectory() as outside:  # keys live outside the repository
        key = Path(outside, "owner.pem")
        key.symlink_to("/dev/zero")
        configure(rule_runner, f"--wasm-attest-owner-key={key}", f"--wasm-attest-default-functionary-key={key}")
        message = package_error(rule_runner, HELLO)
    assert f"[wasm-attest].owner_key: The private key file {key} is a character device, not a regular file" in message


def test_a_development_keys_dir_that_is_a_file_says_so(rule_runner: RuleRunner) -> None:
    add_testproject(rule_runner, "hello")
    Path(rule_runner.build_root, ".dev-keys").write_text("a file\n")  # where the fixture points development_keys_dir
    message = package_error(rule_runner, HELLO)
    assert "[wasm-attest].development_keys_dir: " in message and ".dev-keys is a file, not a folder" in message
    assert "writable" not in message
