"""`wasm-attest inspect`, run in-process on real components, embedded ones and hostile files."""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from wasm_attest import cli
from wasm_attest.component_metadata import ComponentMetadata
from wasm_attest.dep_v0 import decode_dep_v0, encode_dep_v0
from wasm_attest.embedding import embed_attestable_sections
from wasm_attest.wasm_binary import COMPONENT_HEADER, CORE_MODULE_HEADER
from wasm_attest.wasm_sections import with_custom_sections

COMPONENTS = Path(__file__).parent / "testdata" / "components"
HELLO = (COMPONENTS / "hello.wasm").read_bytes()
SMALL = (COMPONENTS / "small.wasm").read_bytes()
CARGO_AUDITABLE_PAYLOAD = (COMPONENTS / "exclusions-by-cargo-auditable.dep-v0").read_bytes()
METADATA = ComponentMetadata(name="hello", version="0.1.0", licenses="MIT", revision="0123abc")
EMBEDDED = embed_attestable_sections(HELLO, decode_dep_v0(CARGO_AUDITABLE_PAYLOAD), METADATA)


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def report(self) -> dict:
        return json.loads(self.out)


def inspect(capsys: pytest.CaptureFixture[str], path: Path, *options: str) -> Outcome:
    code = cli.main(["inspect", str(path), *options])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return Outcome(code, captured.out, captured.err)


def file_with(tmp_path: Path, data: bytes, name: str = "file.wasm") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_the_text_report_shows_what_the_component_carries(capsys, tmp_path: Path) -> None:
    outcome = inspect(capsys, file_with(tmp_path, EMBEDDED, "hello.wasm"))
    assert outcome.code == 0, outcome.err
    lines = outcome.out.splitlines()
    assert lines[0] == f"{tmp_path / 'hello.wasm'}: WebAssembly component, {len(EMBEDDED)} bytes, sha256 {hashlib.sha256(EMBEDDED).hexdigest()}"
    assert "  target_features                132 bytes  nested, depth 1" in lines
    assert "  name: hello" in lines and "  revision: 0123abc" in lines and "  licenses: MIT" in lines
    assert "Dependencies (.dep-v0, top level, format 1): 12 packages" in lines
    assert "  exclusions 0.1.0 local runtime (root)" in lines
    assert "  serde_json 1.0.87 crates.io runtime" in lines
    assert lines[-2:] == ["Exports (1):", "  wasi:cli/run@0.2.0"]
    assert "Imports (17):" in lines


def test_the_json_report(capsys, tmp_path: Path) -> None:
    outcome = inspect(capsys, file_with(tmp_path, EMBEDDED), "--format", "json")
    assert outcome.code == 0, outcome.err
    report = outcome.report
    assert (report["kind"], report["size"], report["error"]) == ("component", len(EMBEDDED), None)
    assert report["sha256"] == hashlib.sha256(EMBEDDED).hexdigest()
    assert {"name": ".dep-v0", "size": len(encode_dep_v0(decode_dep_v0(CARGO_AUDITABLE_PAYLOAD))), "depth": 0} in report[
        "custom_sections"
    ]
    assert report["metadata"] == METADATA.to_json()
    (deps,) = report["dependency_lists"]
    assert deps["depth"] == 0 and deps["format"] == 1
    assert deps["packages"][2] == {
        "name": "exclusions", "version": "0.1.0", "source": "local", "kind": "runtime", "root": True, "dependencies": [0, 1, 7, 8, 9]
    }
    assert report["exports"] == ["wasi:cli/run@0.2.0"]
    assert "wasi:filesystem/preopens@0.2.6" in report["imports"]


def test_a_plain_build_carries_no_records(capsys, tmp_path: Path) -> None:
    outcome = inspect(capsys, file_with(tmp_path, HELLO))
    assert outcome.code == 0
    assert "Metadata: none (no name or metadata sections at the top level)" in outcome.out
    assert "Dependencies: none (no .dep-v0 section)" in outcome.out


def test_a_cargo_auditable_list_in_the_core_module_is_shown_with_its_depth(capsys, tmp_path: Path) -> None:
    module = with_custom_sections(CORE_MODULE_HEADER, [(".dep-v0", CARGO_AUDITABLE_PAYLOAD)])
    component = COMPONENT_HEADER + bytes([1, len(module) & 0x7F | 0x80, len(module) >> 7]) + module
    outcome = inspect(capsys, file_with(tmp_path, component), "--format", "json")
    assert outcome.code == 0, outcome.out
    assert [(deps["depth"], len(deps["packages"])) for deps in outcome.report["dependency_lists"]] == [(1, 12)]


def test_a_core_module_has_no_component_imports_or_exports(capsys, tmp_path: Path) -> None:
    outcome = inspect(capsys, file_with(tmp_path, CORE_MODULE_HEADER), "--format", "json")
    assert outcome.code == 0
    assert (outcome.report["kind"], outcome.report["imports"], outcome.report["exports"]) == ("module", None, None)
    assert "Imports" not in inspect(capsys, file_with(tmp_path, CORE_MODULE_HEADER)).out


@pytest.mark.parametrize(
    "data, message",
    [
        (SMALL[:100], "not a well-formed WebAssembly file: section 1 claims 78 bytes but only 57 remain at byte offset 43"),
        (b"GIF89a..", "the magic number \\0asm is missing at byte offset 0"),
        (with_custom_sections(SMALL, [(".dep-v0", zlib.compress(bytes(9 << 20)))]), "decompression bomb"),
        (with_custom_sections(SMALL, [(".dep-v0", b"garbage")]), "not zlib data"),
        (with_custom_sections(SMALL, [("version", b"\xff")]), "'version' metadata section is not UTF-8"),
    ],
)
def test_a_hostile_file_fails_with_a_clear_message(capsys, tmp_path: Path, data: bytes, message: str) -> None:
    path = file_with(tmp_path, data)
    outcome = inspect(capsys, path)
    assert (outcome.code, outcome.out) == (1, "")
    assert outcome.err.startswith("wasm-attest: error: ") and message in outcome.err
    outcome = inspect(capsys, path, "--format", "json")
    assert outcome.code == 1
    assert outcome.report["file"] == str(path) and message in outcome.report["error"]["message"]


def test_the_json_error_gives_the_offset(capsys, tmp_path: Path) -> None:
    outcome = inspect(capsys, file_with(tmp_path, SMALL[:100]), "--format", "json")
    assert outcome.report["error"]["offset"] == 43


def test_a_missing_file_or_a_folder_is_a_usage_error(capsys, tmp_path: Path) -> None:
    missing = inspect(capsys, tmp_path / "absent.wasm")
    assert missing.code == 2 and "absent.wasm does not exist" in missing.err
    assert inspect(capsys, tmp_path).code == 2
    assert cli.main(["inspect"]) == 2


def test_text_from_the_file_cannot_drive_the_terminal(capsys, tmp_path: Path) -> None:
    hostile = with_custom_sections(SMALL, [("\x1b]0;owned\x07", b""), ("version", b"1.0\x1b[2J")])
    outcome = inspect(capsys, file_with(tmp_path, hostile))
    assert outcome.code == 0
    assert "\x1b" not in outcome.out
    assert "\\x1b]0;owned\\x07" in outcome.out and "  version: 1.0\\x1b[2J" in outcome.out
