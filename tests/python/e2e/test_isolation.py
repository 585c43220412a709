"""A dependency's build script attacks the machine that builds it; isolation must stop every attempt.

The fixture crate `hostile/` has a build script that tries what a compromised
dependency would: connect to a server on the host's loopback, list the home
folder, read the owner's private key and a host file, write outside its
sandbox (the host's /tmp and the repository's sources), and find the key's
password in other processes' environments. It compiles what it reached into
the component, as a real attack would ship its loot. The same crate is built
once isolated (the default) and once with isolation turned off, on the same
machine: the unisolated build proves every attack works here, so the isolated
one's "blocked" is not an accident of the machine.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from e2e.repository import copy_repository, pants

from wasm_attest.errors import WasmAttestError
from wasm_attest.keys import load_public_key
from wasm_attest.verification import verify_attestations

FIXTURE = Path(__file__).parent / "hostile"
PASSWORD_VARIABLE = "WASM_ATTEST_HOSTILE_TEST_PASSWORD"
CRATE_SOURCES = '["Cargo.toml", "Cargo.lock", "build.rs", "src/**/*", "attacks.txt"]'
REPORT_LINE = re.compile(rb"HOSTILE-ATTACK ([^\n]*)\n")
LISTEN_SECONDS = 600


class LoopbackListener:
    """A TCP server on 127.0.0.1 that counts the connections it accepts, for a bounded time."""

    def __init__(self) -> None:
        self.connections = 0
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(1.0)
        self.port = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        for _ in range(LISTEN_SECONDS):
            if self._stop.is_set():
                break
            try:
                connection, _ = self._socket.accept()
            except socket.timeout:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()


@dataclass(frozen=True)
class Attack:
    line: str
    leaves: Path | None = None
    """A file the attack creates on the host if it succeeds."""


@dataclass(frozen=True)
class Scene:
    repository: Path
    outside: Path
    owner_key: Path
    owner_pub: Path
    functionary_key: Path
    password: str
    listener: LoopbackListener
    attacks: tuple[Attack, ...]

    def package(self, target: str, *options: str, store: Path | None = None):
        env = {PASSWORD_VARIABLE: self.password}
        if store is not None:
            env["PANTS_LOCAL_STORE_DIR"] = str(store)
        return pants(
            self.repository,
            f"--wasm-attest-owner-key={self.owner_key}",
            f"--wasm-attest-owner-key-password-env={PASSWORD_VARIABLE}",
            f"--wasm-attest-default-functionary-key={self.functionary_key}",
            f"--wasm-attest-functionary-key-password-env={PASSWORD_VARIABLE}",
            f"--wasm-attest-trusted-owner-keys=['{self.owner_pub}']",
            *options,
            "package",
            target,
            env=env,
        )


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory):
    repository = copy_repository(tmp_path_factory.mktemp("hostile-clone"))
    outside = tmp_path_factory.mktemp("outside")
    password = os.urandom(12).hex()
    owner_key, owner_pub, functionary_key = outside / "owner.pem", outside / "owner.pub", outside / "functionary.pem"
    private = ec.generate_private_key(ec.SECP256R1())
    encryption = serialization.BestAvailableEncryption(password.encode())
    owner_key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    functionary_key.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
    )
    owner_pub.write_bytes(
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    listener = LoopbackListener()
    attacks = (
        Attack(f"connect 127.0.0.1:{listener.port}"),
        Attack(f"list {Path.home()}"),
        Attack(f"read {owner_key}"),
        Attack(f"read {functionary_key}"),
        Attack("read /etc/hostname"),
        Attack(f"write {outside / 'written-by-build-script'}", leaves=outside / "written-by-build-script"),
        Attack(f"write {repository / 'src' / 'written-by-build-script'}", leaves=repository / "src" / "written-by-build-script"),
        Attack(f"environ {PASSWORD_VARIABLE}"),
    )
    for name, features in (("hostile", "[]"), ("hostile-include", '["include-host-file"]')):
        crate = repository / "testprojects" / name
        shutil.copytree(FIXTURE, crate)
        (crate / "attacks.txt").write_text("".join(f"{attack.line}\n" for attack in attacks))
        (crate / "BUILD").write_text(f"wasm_component(name={name!r}, features={features}, sources={CRATE_SOURCES})\n")
    yield Scene(repository, outside, owner_key, owner_pub, functionary_key, password, listener, attacks)
    listener.close()


def report_of(component: Path) -> dict[str, str]:
    lines = REPORT_LINE.findall(component.read_bytes())
    assert lines, f"{component} carries no report of its build script"
    outcomes = {}
    for line in lines:
        attack, _, outcome = line.decode().partition(": ")
        outcomes[attack] = outcome
    return outcomes


def files_containing(folder: Path, secret: bytes) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink() and secret in path.read_bytes():
            found.append(path)
    return found


def test_every_attack_of_a_build_script_is_blocked(scene: Scene, tmp_path: Path) -> None:
    store = tmp_path / "pants-store"
    result = scene.package("testprojects/hostile:hostile", store=store)
    assert result.returncode == 0, result.stderr
    bundle = scene.repository / "dist" / "testprojects.hostile" / "hostile"
    outcomes = report_of(bundle / "hostile.wasm")
    assert set(outcomes) == {attack.line for attack in scene.attacks}
    reached = {attack: outcome for attack, outcome in outcomes.items() if not outcome.startswith("blocked")}
    assert not reached, f"the isolated build script reached: {reached}"
    assert scene.listener.connections == 0
    for attack in scene.attacks:
        assert attack.leaves is None or not attack.leaves.exists(), f"{attack.line} left {attack.leaves}"
    # The password was in the ./pants client's environment: it reached no output and nothing Pants stored.
    secret = scene.password.encode()
    assert files_containing(bundle, secret) == []
    assert store.is_dir() and files_containing(store, secret) == []
    # The provenance says how the build was isolated, and verification that requires it passes.
    report = verify_attestations(bundle, trusted_owner_keys=[load_public_key(scene.owner_pub)], require_isolated_build=True)
    assert any("the build ran isolated (bubblewrap)" in check for item in report.items for check in item.checks)


def test_include_str_of_a_host_file_fails_the_build(scene: Scene) -> None:
    result = scene.package("testprojects/hostile-include:hostile-include")
    assert result.returncode != 0
    assert "/etc/hostname" in result.stderr
    assert not (scene.repository / "dist" / "testprojects.hostile-include").exists()


def test_without_isolation_the_same_attacks_succeed_and_the_bundle_says_so(scene: Scene) -> None:
    """The development opt-out: proves the attacks are real on this machine, and that such a build is marked."""
    refused = scene.package("testprojects/hostile:hostile", "--wasm-sandbox-isolation=none")
    assert refused.returncode != 0
    assert "without isolation" in refused.stderr and "require_isolated_builds" in refused.stderr

    result = scene.package(
        "testprojects/hostile:hostile", "--wasm-sandbox-isolation=none", "--no-wasm-attest-require-isolated-builds"
    )
    assert result.returncode == 0, result.stderr
    assert "built WITHOUT isolation" in result.stderr
    bundle = scene.repository / "dist" / "testprojects.hostile" / "hostile"
    outcomes = report_of(bundle / "hostile.wasm")
    blocked = {attack: outcome for attack, outcome in outcomes.items() if not outcome.startswith("REACHED")}
    assert not blocked, f"without isolation these attacks failed, so the test proves nothing about them: {blocked}"
    assert scene.listener.connections >= 1
    with pytest.raises(WasmAttestError, match="says the build ran without isolation"):
        verify_attestations(bundle, trusted_owner_keys=[load_public_key(scene.owner_pub)], require_isolated_build=True)
    for attack in scene.attacks:
        if attack.leaves is not None:
            attack.leaves.unlink()
