import pytest

from wasm_attest.cargo_lock import CargoLockError, parse_cargo_lock

LOCKFILE = """
version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["cfg-if", "serde"]

[[package]]
name = "cfg-if"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "Could not get crate checksum"

[[package]]
name = "serde"
version = "1.0.152"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "bb7d1f0d3021d347a83e556fc4683dea2ea09d87bccdf88ff5c12545d89d5efb"
"""


def test_registry_packages_exclude_path_crates() -> None:
    lock = parse_cargo_lock(LOCKFILE)
    assert lock.version == 4
    assert [p.directory_name for p in lock.registry_packages] == ["cfg-if-1.0.0", "serde-1.0.152"]
    assert lock.packages[0].dependencies == ("cfg-if", "serde")


def test_a_checksum_that_is_not_sha256_is_not_reported_as_one() -> None:
    cfg_if, serde = parse_cargo_lock(LOCKFILE).registry_packages
    assert cfg_if.checksum == "Could not get crate checksum"
    assert cfg_if.sha256 is None
    assert serde.sha256 == "bb7d1f0d3021d347a83e556fc4683dea2ea09d87bccdf88ff5c12545d89d5efb"


def test_invalid_toml_names_the_file_and_the_fix() -> None:
    with pytest.raises(CargoLockError, match=r"app/Cargo.lock is not valid TOML .*cargo generate-lockfile"):
        parse_cargo_lock("[[package]\nname=", origin="app/Cargo.lock")


def test_package_without_version_is_rejected() -> None:
    with pytest.raises(CargoLockError, match="without a name and version"):
        parse_cargo_lock('[[package]]\nname = "x"\n')
