"""Carrying a re-pinned bubblewrap into the files that pin its bwrap (sample text, no network)."""

from __future__ import annotations

import pytest

import sandbox_pins
from wasm_attest_setup.debian_packages import SetupError

OLD = "0.8.0-2"
NEW = "0.8.0-2+deb12u1"
OLD_SHA = "b" * 64
NEW_ENTRY = f"{NEW}|linux_x86_64|{'a' * 64}|72080"
SUBSYSTEM = f'''\
    default_version = "{OLD}"
    default_known_versions = [
        "{OLD}|linux_x86_64|{OLD_SHA}|71000",
    ]
    default_url_template = "file:///opt/wasm-attest/bwrap-{{version}}"
'''
LAUNCHER = f'''\
readonly TOOLCHAIN_ARCHIVE="wasm32-wasip2-rust-1.96.0.tar.gz"
readonly BUBBLEWRAP_VERSION="{OLD}"  # as pinned in src/python/wasm_attest_setup/pins/sandbox.txt
'''
PANTS_TOML_DEFAULTS = '''\
[wasm-toolchain]
version = "1.96.0"

[wasm-sandbox]
url_template = "file://%(env.WASM_ATTEST_CACHE)s/sandbox/bwrap-{version}"
'''
PANTS_TOML_PINNED = f'''\
[wasm-toolchain]
version = "1.96.0"

[wasm-sandbox]
version = "{OLD}"
known_versions = ["{OLD}|linux_x86_64|{OLD_SHA}|71000"]
url_template = "file://%(env.WASM_ATTEST_CACHE)s/sandbox/bwrap-{{version}}"
'''


def test_subsystem_gets_the_new_version_and_binary_pin() -> None:
    rewritten = sandbox_pins.rewrite_subsystem(SUBSYSTEM, OLD, NEW, NEW_ENTRY)
    assert rewritten == (
        SUBSYSTEM.replace(f'"{OLD}"', f'"{NEW}"')
        .replace(f"{OLD}|linux_x86_64|{OLD_SHA}|71000", NEW_ENTRY)
    )


def test_launcher_fetches_the_new_version() -> None:
    rewritten = sandbox_pins.rewrite_launcher(LAUNCHER, OLD, NEW)
    assert f'readonly BUBBLEWRAP_VERSION="{NEW}"  # as pinned' in rewritten
    assert "wasm32-wasip2-rust-1.96.0.tar.gz" in rewritten


def test_pants_toml_that_leaves_the_defaults_is_unchanged() -> None:
    assert sandbox_pins.rewrite_pants_toml(PANTS_TOML_DEFAULTS, OLD, NEW, NEW_ENTRY) == (
        PANTS_TOML_DEFAULTS
    )
    text = '[GLOBAL]\npants_version = "2.17.1"\n'
    assert sandbox_pins.rewrite_pants_toml(text, OLD, NEW, NEW_ENTRY) == text


def test_pants_toml_that_sets_the_pin_follows_it() -> None:
    rewritten = sandbox_pins.rewrite_pants_toml(PANTS_TOML_PINNED, OLD, NEW, NEW_ENTRY)
    assert rewritten == PANTS_TOML_PINNED.replace(
        f'version = "{OLD}"', f'version = "{NEW}"'
    ).replace(f"{OLD}|linux_x86_64|{OLD_SHA}|71000", NEW_ENTRY)
    assert '[wasm-toolchain]\nversion = "1.96.0"' in rewritten


def test_rewrite_files_changes_all_three() -> None:
    texts = {
        sandbox_pins.SUBSYSTEM_FILE: SUBSYSTEM,
        sandbox_pins.LAUNCHER: LAUNCHER,
        sandbox_pins.PANTS_TOML: PANTS_TOML_PINNED,
    }
    updated = sandbox_pins.rewrite_files(texts, OLD, NEW, NEW_ENTRY)
    assert set(updated) == set(sandbox_pins.PATHS)
    assert all(f'"{OLD}"' not in text and OLD_SHA not in text for text in updated.values())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SUBSYSTEM.replace(f'default_version = "{OLD}"', 'default_version = "0.7.0-1"'),
         'expected `default_version = "0.8.0-2"` once, found it 0 times'),
        (SUBSYSTEM.replace(f'"{OLD}|linux_x86_64', '"0.7.0-1|linux_x86_64'),
         "expected one known_versions entry for 0.8.0-2, found 0"),
    ],
)
def test_subsystem_without_the_old_pin_is_refused(text: str, message: str) -> None:
    with pytest.raises(SetupError, match=f"{sandbox_pins.SUBSYSTEM_FILE}: {message}"):
        sandbox_pins.rewrite_subsystem(text, OLD, NEW, NEW_ENTRY)


def test_launcher_without_the_version_line_is_refused() -> None:
    moved = LAUNCHER.replace("readonly BUBBLEWRAP_VERSION", "readonly BWRAP_VERSION")
    with pytest.raises(SetupError, match="pants: expected `readonly BUBBLEWRAP_VERSION="):
        sandbox_pins.rewrite_launcher(moved, OLD, NEW)


def test_pants_toml_pinning_another_version_is_refused() -> None:
    other = PANTS_TOML_PINNED.replace(f'version = "{OLD}"', 'version = "0.7.0-1"')
    with pytest.raises(SetupError, match=r"\[wasm-sandbox\]: `version` is not the pinned 0.8.0-2"):
        sandbox_pins.rewrite_pants_toml(other, OLD, NEW, NEW_ENTRY)
    unlisted = PANTS_TOML_PINNED.replace(f'["{OLD}|linux_x86_64|{OLD_SHA}|71000"]', "[]")
    with pytest.raises(SetupError, match="expected one known_versions entry for 0.8.0-2, found 0"):
        sandbox_pins.rewrite_pants_toml(unlisted, OLD, NEW, NEW_ENTRY)
