"""End to end: the components of a workspace share its compiled registry crates, in cargo's own words.

A copy of the repository gets a second command component in the serde-json
crate (same package, same lockfile, its own binary). Both components' builds
start from the one compile of the workspace's registry crates: cargo must
report serde, serde_json, itoa and ryu as fresh (`"fresh": true` in its JSON
messages, which the build logs) and compile only the component's own binary.
The bundles must still verify (`package` verifies each before writing it).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from e2e.repository import copy_repository, pants

CRATE = "testprojects/serde-json"
REGISTRY_CRATES = {"serde(lib)", "serde_json(lib)", "itoa(lib)", "ryu(lib)"}
_REPORT = re.compile(
    r"\[INFO\] (?P<address>\S+): cargo compiled (?P<compiled>.*?); "
    r"fresh from the workspace's compiled dependencies: (?P<fresh>.*)$",
    re.MULTILINE,
)
_SECOND = """//! A second component of the serde-json crate: it shares the crate's compiled registry crates.

fn main() {
    let value = serde_json::json!({"component": "second", "args": std::env::args().count()});
    println!("{value}");
}
"""


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The output of packaging both components of the copy's serde-json crate."""
    repository = copy_repository(tmp_path_factory.mktemp("shared-crates"))
    (repository / CRATE / "src" / "bin").mkdir(parents=True)
    (repository / CRATE / "src" / "bin" / "second.rs").write_text(_SECOND)
    (repository / CRATE / "BUILD").write_text(
        'wasm_component(name="serde-json", bin="serde-json")\nwasm_component(name="second", bin="second")\n'
    )
    result = pants(repository, "--no-dynamic-ui", "package", f"{CRATE}::")
    assert result.returncode == 0, result.stderr
    assert (repository / "dist" / "testprojects.serde-json" / "second" / "second.wasm").is_file()
    return result.stderr


def cargo_reports(output: str) -> dict[str, tuple[set[str], set[str]]]:
    """Per component address: the units cargo compiled, and those it found fresh."""
    return {
        match["address"]: (set(match["compiled"].split()), set(match["fresh"].split()))
        for match in _REPORT.finditer(output)
    }


def test_the_registry_crates_compile_once_for_the_workspace(packaged: str) -> None:
    started = re.findall(r"Starting: (Compile dependencies of \S+ \([^)]*\))", packaged)
    assert started == [f"Compile dependencies of {CRATE} (release/default features)"] or not started, started


def test_each_component_compiles_only_its_own_binary(packaged: str) -> None:
    reports = cargo_reports(packaged)
    assert set(reports) == {f"{CRATE}:serde-json", f"{CRATE}:second"}, packaged
    for address, (compiled, fresh) in reports.items():
        binary = address.rsplit(":", 1)[1]
        assert compiled == {f"{binary}(bin)"}, (address, compiled)
        assert REGISTRY_CRATES <= fresh, (address, fresh)
