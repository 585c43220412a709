import pytest

from wasm_attest.cargo_manifest import CargoManifestError, parse_cargo_manifest


def test_package_manifest() -> None:
    manifest = parse_cargo_manifest('[package]\nname = "hello"\nversion = "0.1.0"\n')
    assert manifest.package_name == "hello"
    assert manifest.workspace_members == ()


def test_virtual_workspace_has_members_but_no_package() -> None:
    manifest = parse_cargo_manifest('[workspace]\nmembers = ["a", "b"]\n')
    assert manifest.package_name is None
    assert manifest.workspace_members == ("a", "b")


def test_invalid_manifest_names_the_file() -> None:
    with pytest.raises(CargoManifestError, match="crate/Cargo.toml is not valid TOML"):
        parse_cargo_manifest("[package\n", origin="crate/Cargo.toml")
