"""End to end: what each packaged component carries inside it, read back by the reference tool.

`wasm-tools metadata show` (the Bytecode Alliance's reader, which parses
`.dep-v0` with cargo-auditable's own code) must see the dependency list the
SBOM describes, and the metadata of the package's Cargo.toml; `wasm-attest
inspect` must show the same; and the revision must be the git commit the
component was built from.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from e2e.repository import copy_repository, pants

from wasm_attest.cli import main as wasm_attest
from wasm_attest.sbom_crates import read_sbom_crates


def components(dist: Path) -> list[Path]:
    return sorted(dist.rglob("*.wasm"))


def metadata_show(wasm_tools: Path, component: Path) -> dict:
    shown = subprocess.run(
        [str(wasm_tools), "metadata", "show", "--json", str(component)], capture_output=True, text=True, check=True
    )
    return json.loads(shown.stdout)["component"]["metadata"]


def sbom_crates(component: Path) -> dict[tuple[str, str], str]:
    sbom = component.with_name(component.name[: -len(".wasm")] + ".cdx.json")
    return {(crate.name, crate.version): crate.scope for crate in read_sbom_crates(sbom.read_bytes())}


def test_every_component_carries_the_crates_its_sbom_lists(dist: Path, wasm_tools: Path) -> None:
    assert components(dist)
    for component in components(dist):
        listed = json.loads(metadata_show(wasm_tools, component)["dependencies"])["packages"]
        root = [package for package in listed if package.get("root")]
        runtime = {
            (package["name"], package["version"])
            for package in listed
            if package.get("kind", "runtime") == "runtime" and not package.get("root")
        }
        build = {(package["name"], package["version"]) for package in listed if package.get("kind") == "build"}
        in_sbom = sbom_crates(component)
        assert len(root) == 1, component
        assert runtime == {crate for crate, scope in in_sbom.items() if scope == "required"}, component
        assert build == {crate for crate, scope in in_sbom.items() if scope == "excluded"}, component


def test_build_only_crates_are_marked_build(dist: Path, wasm_tools: Path) -> None:
    """The exclusions project compiles a build script and a proc-macro for the host: listed, as `build`."""
    (component,) = (path for path in components(dist) if path.name == "exclusions.wasm")
    listed = json.loads(metadata_show(wasm_tools, component)["dependencies"])["packages"]
    kinds = {package["name"]: package.get("kind", "runtime") for package in listed}
    assert kinds["serde_derive"] == "build" and kinds["syn"] == "build"
    assert kinds["serde"] == "runtime"


def test_metadata_comes_from_cargo_toml(dist: Path, wasm_tools: Path) -> None:
    (hello,) = (path for path in components(dist) if path.name == "hello.wasm")
    shown = metadata_show(wasm_tools, hello)
    assert {key: shown[key] for key in ("name", "version", "licenses", "source", "homepage", "authors", "description")} == {
        "name": "hello",
        "version": "0.1.0",
        "licenses": "MIT OR Apache-2.0",
        "source": "https://github.com/wasm-attest/wasm-attest",
        "homepage": "https://wasm-attest.dev/",
        "authors": "wasm-attest developers <dev@wasm-attest.dev>",
        "description": "Greets, and echoes its arguments",
    }


def test_workspace_inherited_metadata_is_resolved(dist: Path, wasm_tools: Path) -> None:
    (app_one,) = (path for path in components(dist) if path.name == "app-one.wasm")
    shown = metadata_show(wasm_tools, app_one)
    assert (shown["licenses"], shown["source"]) == ("Apache-2.0", "https://github.com/wasm-attest/wasm-attest")


def test_inspect_shows_the_embedded_list(dist: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (hello,) = (path for path in components(dist) if path.name == "hello.wasm")
    assert wasm_attest(["inspect", str(hello), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "component"
    assert report["metadata"]["name"] == "hello"
    assert "wasi:cli/run@0.2.0" in report["exports"]


def test_the_revision_is_the_git_commit_built(tmp_path: Path, wasm_tools: Path) -> None:
    repository = copy_repository(tmp_path / "repository")
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "snapshot"],
    ):
        subprocess.run(command, cwd=repository, check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repository, capture_output=True, text=True, check=True
    ).stdout.strip()
    result = pants(repository, "package", "testprojects/hello:hello")
    assert result.returncode == 0, result.stderr
    (hello,) = components(repository / "dist")
    assert metadata_show(wasm_tools, hello)["revision"] == commit
