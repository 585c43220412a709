"""End to end: a copy of this repository packages and runs every testproject through ./pants.

This is what a user does, so it runs the launcher, the real toolchain archive,
the real crate registry and cargo, and checks the components with the
reference tools (wasm-tools validate, wasmtime).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from e2e.repository import pants

from wasm_attest.runner import run_component
from wasm_attest.wasm_binary import COMPONENT_HEADER

# dist/ path of each testproject's component -> (arguments, expected stdout).
COMPONENTS = {
    "testprojects.hello/hello/hello.wasm": (["alpha", "beta gamma"], "Hello from wasm-attest!\narg: alpha\narg: beta gamma\n"),
    "testprojects.serde-json/serde-json/serde-json.wasm": (
        ["alpha", "beta gamma"],
        '{"program":"serde-json","arg_count":2,"args":["alpha","beta gamma"]}\n',
    ),
    "testprojects.workspace.app-one/app-one/app-one.wasm": (["alpha"], "app-one: Hello, alpha!\n"),
    "testprojects.workspace.app-two/app-two/app-two.wasm": ([], "app-two: Goodbye, world!\n"),
    "testprojects.exclusions/exclusions/exclusions.wasm": (
        ["alpha"],
        '{"platform":"not unix","build_probe_i128":true,"args":["alpha"]}\n',
    ),
    "testprojects.many-deps/many-deps/many-deps.wasm": (
        ["hello", "Grüße, Welt"],
        (Path(__file__).parent / "expected" / "many-deps.txt").read_text(encoding="utf-8"),
    ),
}


# Library components, which export an interface instead of wasi:cli/run (test_http_component.py).
LIBRARY_COMPONENTS = ("testprojects.http-hello/http-hello/http_hello.wasm",)


def test_every_testproject_is_packaged_as_a_component(dist: Path) -> None:
    packaged = sorted(str(path.relative_to(dist)) for path in dist.rglob("*.wasm"))
    assert packaged == sorted([*COMPONENTS, *LIBRARY_COMPONENTS])
    for name in [*COMPONENTS, *LIBRARY_COMPONENTS]:
        assert (dist / name).read_bytes()[:8] == COMPONENT_HEADER, name


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_component_validates_and_exports_the_cli_world(dist: Path, wasm_tools: Path, name: str) -> None:
    component = dist / name
    subprocess.run([str(wasm_tools), "validate", str(component)], check=True)
    wit = subprocess.run([str(wasm_tools), "component", "wit", str(component)], capture_output=True, text=True, check=True)
    assert "export wasi:cli/run@0.2.0;" in wit.stdout


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_component_runs_with_wasmtime(dist: Path, name: str, capfd: pytest.CaptureFixture[str]) -> None:
    args, expected = COMPONENTS[name]
    assert run_component(dist / name, args) == 0
    assert capfd.readouterr().out == expected


def test_pants_run_passes_arguments(dist: Path) -> None:
    packaged = sorted(path.name for path in (dist / "testprojects.hello" / "hello").iterdir())
    result = pants(dist.parent, "run", "testprojects/hello:hello", "--", "one", "two words")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello from wasm-attest!\narg: one\narg: two words\n"
    assert sorted(path.name for path in (dist / "testprojects.hello" / "hello").iterdir()) == packaged, "run must not touch dist/"


def test_builds_from_two_clone_paths_are_bit_identical(dist: Path, dist_elsewhere: Path) -> None:
    for name in [*COMPONENTS, *LIBRARY_COMPONENTS]:
        assert (dist_elsewhere / name).read_bytes() == (dist / name).read_bytes(), name
