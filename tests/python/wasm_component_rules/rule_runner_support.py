"""Helpers of the rule tests: options for the real toolchain and crates, copying testprojects in, packaging."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from pants.core.goals.package import BuiltPackage
from pants.core.util_rules import archive, distdir, external_tool, source_files, system_binaries
from pants.engine.addresses import Address
from pants.engine.internals.scheduler import ExecutionError
from pants.engine.rules import QueryRule
from pants.engine.target import Target
from pants.testutil.rule_runner import RuleRunner

from wasm_component import register
from wasm_component.goals.package import WasmComponentFieldSet

REGISTRY = Path(os.environ["WASM_ATTEST_BUILDROOT"], "build-support", "registry", "crates")
TOOLCHAIN_URL = f"file://{os.environ['WASM_ATTEST_CACHE']}/toolchain/wasm32-wasip2-rust-{{version}}.tar.gz"
BWRAP_URL = f"file://{os.environ['WASM_ATTEST_CACHE']}/sandbox/bwrap-{{version}}"


def new_rule_runner(*queries: QueryRule, target_types: tuple[type[Target], ...] = ()) -> RuleRunner:
    """A RuleRunner with every rule of the backend (and the core rules they need), answering `queries`."""
    return RuleRunner(
        rules=[
            *register.rules(),
            *archive.rules(),
            *distdir.rules(),
            *external_tool.rules(),
            *source_files.rules(),
            *system_binaries.rules(),
            *queries,
        ],
        target_types=[*register.target_types(), *target_types],
    )


def configure(runner: RuleRunner, *options: str, env: dict[str, str] | None = None) -> None:
    """Sets the options every test needs (toolchain, registry, throwaway development keys), plus `options`."""
    runner.set_options(
        [
            f"--wasm-toolchain-url-template={TOOLCHAIN_URL}",
            f"--wasm-sandbox-url-template={BWRAP_URL}",
            "--cargo-registry-source=directory",
            "--cargo-registry-directory=registry",
            f"--wasm-attest-development-keys-dir={runner.build_root}/.dev-keys",
            *options,
        ],
        env=env,
        env_inherit={"PATH", "HOME"},
    )


def add_testproject(rule_runner: RuleRunner, name: str) -> None:
    """Copies testprojects/<name> (a dependency of these tests) into the build root."""
    shutil.copytree(Path("testprojects", name), Path(rule_runner.build_root, name))


def add_registry_crates(rule_runner: RuleRunner, *crates: str) -> None:
    for crate in crates:
        shutil.copytree(REGISTRY / crate, Path(rule_runner.build_root, "registry", crate))


def build_package(rule_runner: RuleRunner, address: Address) -> BuiltPackage:
    target = rule_runner.get_target(address)
    return rule_runner.request(BuiltPackage, [WasmComponentFieldSet.create(target)])


def package(rule_runner: RuleRunner, address: Address) -> dict[str, bytes]:
    """Packages one wasm_component; returns the files of its folder under dist/, by path from dist/."""
    build_package(rule_runner, address)
    return dist_files(rule_runner, address)


def dist_files(rule_runner: RuleRunner, address: Address) -> dict[str, bytes]:
    """The files in the target's output folder under dist/ (none if it has no folder), by path from dist/."""
    dist = Path(rule_runner.build_root, "dist")
    folder = dist / WasmComponentFieldSet.create(rule_runner.get_target(address)).output_folder
    return {path.relative_to(dist).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def write_bundle(outputs: dict[str, bytes], folder: str, destination: Path) -> Path:
    """Writes the files of `outputs` (`package`'s result) under `folder` (the target's, from dist/) into `destination`,
    keeping their paths below it (`oci/blobs/…`); returns `destination`."""
    for path, content in outputs.items():
        file = destination / Path(path).relative_to(folder)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(content)
    return destination


def package_error(rule_runner: RuleRunner, address: Address) -> str:
    """The message of the error that packaging raises (what `pants package` prints)."""
    with pytest.raises(ExecutionError) as failure:
        package(rule_runner, address)
    (error,) = failure.value.wrapped_exceptions
    return str(error)


def write_key(folder: Path, name: str, private_key, password: str | None = None) -> tuple[Path, Path]:
    """Writes a PKCS#8 private key (encrypted if `password`) and its public key; returns both paths."""
    encryption = (
        serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    )
    private_path = folder / f"{name}.pem"
    private_path.write_bytes(
        private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    public_path = folder / f"{name}.pub"
    public_path.write_bytes(
        private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path
