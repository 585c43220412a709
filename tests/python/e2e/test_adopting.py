"""A second repository adopts wasm-attest from its wheel, as README.md's "Adopting wasm-attest" says.

The wheel is built by this repository's tooling (./pants package, and pip for comparison) in
copies of the repository; the second repository is examples/adopting, copied alone into a
temporary folder with the wheel beside it and nothing else of this repository. It enables the
plugin through Pants' plugin resolution and runs the README's command block, read from
README.md, so the documentation cannot drift from what is proved here. Pants itself is the
launcher's Pants 2.17.1 venv, run with the example as its build root.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from e2e.repository import CACHE, PASSED_ON, REPOSITORY, copy_repository, pants

EXAMPLE = REPOSITORY / "examples" / "adopting"
COMMANDS_MARKER = "<!-- tests/python/e2e/test_adopting.py runs the next block as it is -->"
SOURCE_DATE_EPOCH = "315532800"  # the value the root BUILD gives the wheel build
# pip fetches the pinned setuptools from PyPI trusting the CA bundle pants.toml names
# (ca_certs_path) for Pants' own downloads.
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def launcher_pants_venv() -> Path:
    """The Pants 2.17.1 venv ./pants made: named after its pinned requirements, as the launcher names it."""
    requirements = (REPOSITORY / "build-support" / "pants-requirements.txt").read_bytes()
    venv = CACHE / f"venv-{hashlib.sha256(requirements).hexdigest()[:16]}"
    assert (venv / ".complete").is_file(), f"{venv} is not a complete venv: ./pants makes it"
    return venv


def readme_commands() -> str:
    """The bash block README.md's adoption section gives a new user, verbatim."""
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    match = re.search(re.escape(COMMANDS_MARKER) + r"\n```bash\n(.*?)\n```", readme, re.DOTALL)
    assert match, f"README.md has no ```bash block after {COMMANDS_MARKER}"
    return match.group(1)


def build_wheel_with_pants(folder: Path, *options: str) -> Path:
    result = pants(copy_repository(folder), *options, "package", "//:wasm-attest-dist")
    assert result.returncode == 0, result.stderr
    (wheel,) = (folder / "dist").glob("wasm_attest-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel_with_pants(tmp_path_factory.mktemp("wheel-build"))


def test_the_wheel_is_reproducible_with_pants_and_with_pip(wheel: Path, tmp_path: Path) -> None:
    other = tmp_path / "another" / "longer" / "checkout"
    again = build_wheel_with_pants(other, "--no-local-cache")
    assert again.read_bytes() == wheel.read_bytes(), "two ./pants package builds differ"
    with_pip = tmp_path / "pip"
    result = subprocess.run(
        [str(launcher_pants_venv() / "bin" / "python"), "-m", "pip", "wheel", "--no-deps", "-w", str(with_pip), "."],
        cwd=other,
        env={
            **os.environ,
            "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_CERT": CA_BUNDLE,
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (with_pip / wheel.name).read_bytes() == wheel.read_bytes(), "pip wheel differs from ./pants package"


def test_the_wheel_ships_the_backend_its_script_and_the_set_up_pins(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in (
        "wasm_component/register.py",
        "wasm_component/cargo_in_sandbox.sh",
        "wasm_component/goals/setup.py",
        "wasm_attest/verification.py",
        "wasm_attest_setup/toolchain.py",
        "wasm_attest_setup/pins/toolchain.txt",
        "wasm_attest_setup/pins/sandbox.txt",
        "wasm_attest_setup/pins/registry.txt",
    ):
        assert shipped in names
    assert not any(name.startswith(("tests/", "testprojects/", "e2e/")) for name in names)


def test_a_second_repository_packages_runs_and_verifies_with_the_plugin_from_its_wheel(
    wheel: Path, tmp_path: Path
) -> None:
    repository = tmp_path / "adopter"
    shutil.copytree(EXAMPLE, repository)
    (repository / "wheels").mkdir()
    shutil.copy2(wheel, repository / "wheels")
    assert not (repository / "pants").exists() and not (repository / "pants-plugins").exists()

    venv_bin = launcher_pants_venv() / "bin"
    # in-toto-verify, the reference verifier, is installed with in-toto next to the test's Python.
    path = os.pathsep.join([str(venv_bin), str(Path(sys.executable).parent), os.environ["PATH"]])
    env = {
        **{name: os.environ[name] for name in PASSED_ON if name in os.environ},
        "PATH": path,
        "NO_SCIE_WARNING": "1",
        "PANTS_PANTSD": "false",
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", readme_commands()],
        cwd=repository,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"

    assert "2 names: Ada, Grace" in result.stdout
    assert "components/hello:hello: verified" in result.stdout
    assert "components/count:count: verified" in result.stdout
    for bundle, wasm in (("components.hello/hello", "hello.wasm"), ("components.count/count", "count.wasm")):
        component = repository / "dist" / bundle / wasm
        assert component.read_bytes()[:8] == bytes.fromhex("0061736d0d000100")
        assert (repository / "dist" / bundle / "root.layout").is_file()
    assert (repository / "third_party" / "crates" / "itoa-1.0.1" / ".cargo-checksum.json").is_file()

    # The plugin's verification in the second repository is not a formality: a component
    # changed after packaging fails it.
    component = repository / "dist" / "components.count" / "count" / "count.wasm"
    component.write_bytes(component.read_bytes() + b"\0")
    tampered = subprocess.run(
        ["pants", "verify-layout", "components/count:count"],
        cwd=repository,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert "count.wasm" in tampered.stdout
