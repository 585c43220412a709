"""Which registries and repository a wasm_component publishes to, and the messages when that is not configured."""

from __future__ import annotations

import pytest

from wasm_component.oci_registries import (
    ALL_DEFAULT_REGISTRIES,
    OciRegistryConfigError,
    configured_registries,
    registry_for_address,
    repository_name,
    target_registries,
)

CONFIG = {
    "release": {"address": "registry.example.com", "default": True},
    "local": {"address": "127.0.0.1:5000", "insecure": True},
}


def test_defaults_aliases_and_addresses() -> None:
    registries = configured_registries(CONFIG)
    assert [r.address for r in target_registries("a:a", (ALL_DEFAULT_REGISTRIES,), registries)] == ["registry.example.com"]
    chosen = target_registries("a:a", ("@local", "other.example:443"), registries)
    assert [(r.address, r.insecure) for r in chosen] == [("127.0.0.1:5000", True), ("other.example:443", False)]
    assert registry_for_address("127.0.0.1:5000", registries).insecure
    assert not registry_for_address("elsewhere:5000", registries).insecure


def test_no_registry_says_what_to_configure() -> None:
    with pytest.raises(OciRegistryConfigError) as raised:
        target_registries("testprojects/hello:hello", (ALL_DEFAULT_REGISTRIES,), {})
    message = str(raised.value)
    assert message.startswith("testprojects/hello:hello: no OCI registry to publish to.")
    assert "[wasm-oci.registries.release]" in message and "`registries` field" in message


def test_an_unknown_alias_names_the_defined_ones() -> None:
    with pytest.raises(OciRegistryConfigError, match=r"names @staging, which \[wasm-oci\]\.registries does not define \(defined: @local, @release\)"):
        target_registries("a:a", ("@staging",), configured_registries(CONFIG))


@pytest.mark.parametrize(
    "entry, fragment",
    [
        ({"default": True}, "has no `address`"),
        ({"address": "https://r.example"}, "must be host[:port] only"),
        ({"address": "r.example", "password": "x"}, "unknown key(s) password"),
    ],
)
def test_bad_registry_entries_are_refused(entry: dict, fragment: str) -> None:
    with pytest.raises(OciRegistryConfigError) as raised:
        configured_registries({"r": entry})
    assert fragment in str(raised.value)


def test_repository_templates() -> None:
    assert repository_name("{name}", target_name="hello", directory="testprojects/hello") == "hello"
    assert repository_name("wasm/{directory}-{name}", target_name="app-one", directory="testprojects/workspace/app-one") == "wasm/app-one-app-one"
    with pytest.raises(OciRegistryConfigError, match="only {name} and {directory}"):
        repository_name("{team}/{name}", target_name="a", directory="b")
