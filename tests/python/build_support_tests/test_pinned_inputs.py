"""What `pants wasm-setup` does with each configured input: create it, leave it, or name the pin."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from wasm_attest_setup.pinned_inputs import (
    PinMismatch,
    PinnedInput,
    ensure,
    fetch_bubblewrap_at,
    local_path,
    missing_file_message,
)

CONTENT = b"the pinned file\n"
SHA256 = hashlib.sha256(CONTENT).hexdigest()


def pinned(path: Path, sha256: str = SHA256, size: int = len(CONTENT)) -> PinnedInput:
    return PinnedInput(scope="wasm-sandbox", version="1.0", url=f"file://{path}", sha256=sha256, size=size)


def write_content(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(CONTENT)


def refuse_to_make(path: Path) -> None:
    raise AssertionError(f"{path} is in place: nothing should be made")


def test_local_path_is_the_path_of_a_file_url_only() -> None:
    assert local_path("file:///opt/a%20b/x.tar.gz") == Path("/opt/a b/x.tar.gz")
    assert local_path("https://example.com/x.tar.gz") is None


def test_a_missing_file_is_created_and_checked(tmp_path: Path) -> None:
    target = tmp_path / "sandbox" / "bwrap-1.0"
    line = ensure(pinned(target), write_content)
    assert target.read_bytes() == CONTENT
    assert "created" in line and f"1.0|linux_x86_64|{SHA256}|{len(CONTENT)}" in line


def test_a_file_in_place_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "bwrap-1.0"
    write_content(target)
    assert "in place" in ensure(pinned(target), refuse_to_make)


def test_a_file_that_is_not_the_pinned_one_fails_naming_the_entry_that_pins_it(tmp_path: Path) -> None:
    target = tmp_path / "bwrap-1.0"
    write_content(target)
    with pytest.raises(PinMismatch) as error:
        ensure(pinned(target, sha256="0" * 64), refuse_to_make)
    message = str(error.value)
    assert str(target) in message and "[wasm-sandbox]" in message
    assert f'known_versions = ["1.0|linux_x86_64|{SHA256}|{len(CONTENT)}"]' in message


def test_a_size_mismatch_alone_fails_too(tmp_path: Path) -> None:
    target = tmp_path / "bwrap-1.0"
    write_content(target)
    with pytest.raises(PinMismatch):
        ensure(pinned(target, size=len(CONTENT) + 1), refuse_to_make)


def test_a_remote_url_is_left_to_pants(tmp_path: Path) -> None:
    remote = PinnedInput("wasm-toolchain", "1.96.0", "https://example.com/t.tar.gz", SHA256, 1)
    assert "nothing to set up" in ensure(remote, refuse_to_make)


def test_the_missing_file_error_names_the_option_the_path_and_the_command(tmp_path: Path) -> None:
    missing = tmp_path / "toolchain" / "wasm32-wasip2-rust-1.96.0.tar.gz"
    message = missing_file_message("wasm-toolchain", f"file://{missing}")
    assert message is not None
    assert "[wasm-toolchain].url_template" in message and str(missing) in message
    assert "pants wasm-setup" in message
    write_content(missing)
    assert missing_file_message("wasm-toolchain", f"file://{missing}") is None
    assert missing_file_message("wasm-toolchain", "https://example.com/t.tar.gz") is None


def test_bubblewrap_at_a_path_for_another_version_is_refused_before_fetching(tmp_path: Path) -> None:
    with pytest.raises(PinMismatch, match=r'set \[wasm-sandbox\].version = "0\.8\.0-2\+deb12u1"'):
        fetch_bubblewrap_at(tmp_path / "bwrap-0.9.0")
    assert not (tmp_path / "bwrap-0.9.0").exists()
