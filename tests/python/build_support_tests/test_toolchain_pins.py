"""Carrying a rebuilt toolchain archive into the files that pin it (sample text, no network)."""

from __future__ import annotations

from dataclasses import replace

import pytest

import toolchain_pins
from wasm_attest_setup.debian_packages import Pin, SetupError
from pin_updates import Change

OLD_SHA = "f667cecfc7583724f66ae36bf4d2d87570055f07ec310e27c3100d288e4c3bc0"
NEW_SHA = "a" * 64
SUBSYSTEM = f'''\
    default_version = "1.96.0"
    default_known_versions = [
        "1.96.0|linux_x86_64|{OLD_SHA}|182301438",
    ]
'''
PANTS_TOML = f'''\
[pex-cli]
version = "v2.1.137"
known_versions = ["v2.1.137|linux_x86_64|{"b" * 64}|3563511"]

[wasm-toolchain]
version = "1.96.0"
known_versions = [
  "1.96.0|linux_x86_64|{OLD_SHA}|182301438",
]
url_template = "file://%(env.WASM_ATTEST_CACHE)s/toolchain/wasm32-wasip2-rust-{{version}}.tar.gz"

[cargo-registry]
source = "directory"
'''
RUSTC = Pin("bookworm-security", "rustc-web", "1.96.0+dfsg1-1~deb12u2", "0" * 64)


def test_rust_release_and_series_from_a_debian_version() -> None:
    assert toolchain_pins.rust_release("1.96.0+dfsg1-1~deb12u2") == "1.96.0"
    assert toolchain_pins.rust_release("1:1.97.1-2") == "1.97.1"
    assert toolchain_pins.rust_series("1.96.0+dfsg1-1~deb12u2") == "1.96"


def test_a_new_rust_series_needs_a_human() -> None:
    same = Change(RUSTC, replace(RUSTC, version="1.96.0+dfsg1-1~deb12u3"), 1)
    assert toolchain_pins.series_problems([same]) == []
    newer = Change(RUSTC, replace(RUSTC, version="1.97.0+dfsg1-1~deb12u1"), 1)
    [problem] = toolchain_pins.series_problems([newer])
    assert "from Rust 1.96 to 1.97" in problem and "libstd-rust-web-1.96" in problem


def test_subsystem_default_gets_the_new_sha256_and_size() -> None:
    entry = toolchain_pins.known_version_entry("1.96.0", NEW_SHA, 123)
    rewritten = toolchain_pins.rewrite_subsystem(SUBSYSTEM, "1.96.0", entry)
    assert f'"1.96.0|linux_x86_64|{NEW_SHA}|123",' in rewritten
    assert OLD_SHA not in rewritten
    old_entry = f"1.96.0|linux_x86_64|{OLD_SHA}|182301438"
    assert toolchain_pins.current_entry(SUBSYSTEM, "1.96.0") == old_entry


def test_subsystem_without_the_entry_is_refused() -> None:
    with pytest.raises(SetupError, match="expected one known_versions entry for 1.95.0, found 0"):
        toolchain_pins.rewrite_subsystem(SUBSYSTEM, "1.95.0", "x")


def test_pants_toml_changes_only_the_wasm_toolchain_table() -> None:
    entry = toolchain_pins.known_version_entry("1.96.1", NEW_SHA, 123)
    rewritten = toolchain_pins.rewrite_pants_toml(PANTS_TOML, "1.96.0", "1.96.1", entry)
    expected = PANTS_TOML.replace(
        f"1.96.0|linux_x86_64|{OLD_SHA}|182301438", f"1.96.1|linux_x86_64|{NEW_SHA}|123"
    ).replace('[wasm-toolchain]\nversion = "1.96.0"', '[wasm-toolchain]\nversion = "1.96.1"')
    assert rewritten == expected
    assert 'version = "v2.1.137"' in rewritten


def test_pants_toml_without_the_table_is_left_alone() -> None:
    text = "[GLOBAL]\npants_version = \"2.17.1\"\n"
    assert toolchain_pins.rewrite_pants_toml(text, "1.96.0", "1.96.1", "x") == text


def test_version_sites_follow_a_new_rust_release() -> None:
    sites = toolchain_pins.VERSION_SITES
    texts = {site.path: f"before\n{site.text('1.96.0')}\nafter\n" for site in sites}
    updated = toolchain_pins.rewrite_version_sites(texts, "1.96.0", "1.96.1")
    assert updated == {path: text.replace("1.96.0", "1.96.1") for path, text in texts.items()}


def test_a_version_site_that_moved_stops_the_rewrite() -> None:
    texts = {site.path: site.text("1.96.0") for site in toolchain_pins.VERSION_SITES}
    texts["pants"] = "readonly SOMETHING_ELSE=1"
    with pytest.raises(SetupError, match="cannot find the toolchain version in pants "):
        toolchain_pins.rewrite_version_sites(texts, "1.96.0", "1.96.1")


def test_build_result_is_read_from_the_last_line() -> None:
    assert toolchain_pins.parse_build_result(f"noise\nsha256={NEW_SHA} size=42\n") == (NEW_SHA, 42)
    with pytest.raises(SetupError):
        toolchain_pins.parse_build_result("")
