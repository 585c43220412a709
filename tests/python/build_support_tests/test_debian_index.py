"""Reading what a suite offers, from recorded Packages indexes (no network)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from wasm_attest_setup import debian_index

LISTS = Path(__file__).parent / "testdata" / "lists"
STANZAS = """\
Package: rustc-web
Version: 1.96.0+dfsg1-1~deb12u2
Architecture: amd64
Description: Rust systems programming language
 continued on a second line
Filename: pool/updates/main/r/rustc-web/rustc-web_1.96.0+dfsg1-1~deb12u2_amd64.deb
Size: 4450500
SHA256: 8fefe1d6377fe4082f5a9d2a47e095e2d20319eaab9754bd2f0275155c9adf90

Package: rustc-web
Version: 1.96.0+dfsg1-1~deb12u2
Architecture: arm64
Filename: pool/updates/main/r/rustc-web/rustc-web_1.96.0+dfsg1-1~deb12u2_arm64.deb
Size: 1
SHA256: 0000000000000000000000000000000000000000000000000000000000000000

Package: other
Version: 1
Architecture: all
Filename: pool/o/other_1_all.deb
Size: 2
SHA256: 1111111111111111111111111111111111111111111111111111111111111111
"""


def test_parse_packages_keeps_only_apts_architectures() -> None:
    offers = debian_index.parse_packages(STANZAS)
    assert [offer.architecture for offer in offers["rustc-web"]] == ["amd64"]
    assert offers["rustc-web"][0].size == 4450500
    assert offers["other"][0].architecture == "all"


def test_parse_packages_skips_unwanted_names() -> None:
    assert set(debian_index.parse_packages(STANZAS, {"other"})) == {"other"}


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("1.0~rc1", "1.0"),
        ("1.0", "1.0-1"),
        ("1.0", "1.0a"),
        ("9.9", "1:0.1"),
        ("1.96.0+dfsg1-1~deb12u9", "1.96.0+dfsg1-1~deb12u10"),
        ("2.41-12+deb13u4", "2.41-12+deb13u5"),
        ("0.14.3-1", "0.14.3-1+b1"),
    ],
)
def test_compare_versions_orders_as_dpkg(left: str, right: str) -> None:
    assert debian_index.compare_versions(left, right) < 0
    assert debian_index.compare_versions(right, left) > 0
    assert debian_index.compare_versions(left, left) == 0


def test_read_offers_keeps_suites_apart() -> None:
    offers = debian_index.read_offers(
        LISTS,
        [
            ("bookworm", "patchelf"),
            ("bookworm-security", "rust-web-src"),
            ("bookworm", "rustc-web"),
        ],
    )
    assert [offer.version for offer in offers[("bookworm", "patchelf")]] == ["0.14.3-1+b1"]
    assert offers[("bookworm-security", "rust-web-src")][0].architecture == "all"
    # rustc-web is only in bookworm-security's index: bookworm's must not be mistaken for it.
    assert offers[("bookworm", "rustc-web")] == []


def test_read_offers_refuses_a_suite_without_lists(tmp_path: Path) -> None:
    shutil.copytree(LISTS, tmp_path / "lists")
    with pytest.raises(FileNotFoundError, match="forky"):
        debian_index.read_offers(tmp_path / "lists", [("forky", "wasi-libc")])
