import pytest

from wasm_attest.cargo_manifest import (
    CargoManifestError,
    ancestor_directories,
    find_workspace_root,
    parse_cargo_manifest,
    path_dependencies,
    workspace_member_directories,
)


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


def test_path_dependencies_of_every_table_kind_platform_and_rename() -> None:
    manifest = parse_cargo_manifest(
        """
[package]
name = "app"
version = "0.1.0"

[dependencies]
serde = "1"
util = { path = "../util" }
renamed = { package = "real-name", path = "../real", version = "0.1" }

[build-dependencies]
codegen = { path = "../codegen" }

[dev-dependencies]
fixtures = { path = "fixtures" }

[target.'cfg(target_os = "wasi")'.dependencies]
wasi-shim = { path = "../../shims/wasi" }

[target.'cfg(unix)'.build-dependencies.probe]
path = "../probe"

[patch.crates-io]
itoa = { path = "../../forks/itoa" }
"""
    )
    found = path_dependencies(manifest, directory="apps/app")
    assert [(dependency.name, dependency.table, dependency.directory) for dependency in found] == [
        ("util", "dependencies", "apps/util"),
        ("renamed", "dependencies", "apps/real"),
        ("codegen", "build-dependencies", "apps/codegen"),
        ("fixtures", "dev-dependencies", "apps/app/fixtures"),
        ("wasi-shim", "target.'cfg(target_os = \"wasi\")'.dependencies", "shims/wasi"),
        ("probe", "target.'cfg(unix)'.build-dependencies", "apps/probe"),
        ("itoa", "patch.crates-io", "forks/itoa"),
    ]
    assert {dependency.manifest_path for dependency in found} == {"apps/app/Cargo.toml"}


def test_workspace_inheritance_resolves_paths_from_the_root() -> None:
    root = parse_cargo_manifest(
        """
[workspace]
members = ["crates/*"]

[workspace.dependencies]
shared = { path = "libs/shared" }
serde = "1"
"""
    )
    member = parse_cargo_manifest(
        """
[package]
name = "app"
version = "0.1.0"

[dependencies]
shared = { workspace = true, features = ["x"] }
serde.workspace = true
"""
    )
    found = path_dependencies(member, directory="ws/crates/app", workspace_root="ws", workspace_manifest=root)
    assert [(dependency.name, dependency.directory) for dependency in found] == [("shared", "ws/libs/shared")]


def test_inheriting_what_the_workspace_does_not_declare_is_an_error() -> None:
    root = parse_cargo_manifest("[workspace]\n")
    member = parse_cargo_manifest('[package]\nname = "a"\n[dependencies]\nshared.workspace = true\n')
    with pytest.raises(CargoManifestError, match=r"ws/a/Cargo.toml: `shared` in \[dependencies\] is inherited .* "
                       r"\[workspace.dependencies\] of ws/Cargo.toml has no `shared`"):
        path_dependencies(member, directory="ws/a", workspace_root="ws", workspace_manifest=root)
    with pytest.raises(CargoManifestError, match="the crate belongs to no workspace"):
        path_dependencies(member, directory="a")


@pytest.mark.parametrize("path", ["../../../elsewhere", "/opt/crates/elsewhere"])
def test_a_path_outside_the_repository_is_an_error_naming_manifest_and_dependency(path: str) -> None:
    manifest = parse_cargo_manifest(f'[package]\nname = "a"\n[dependencies]\nfar = {{ path = "{path}" }}\n')
    with pytest.raises(
        CargoManifestError,
        match=r"the path dependency `far` in \[dependencies\] of apps/a/Cargo.toml is .* outside the repository.*"
        r"cargo_crate\(\)",
    ):
        path_dependencies(manifest, directory="apps/a")


def test_an_inherited_path_outside_the_repository_names_the_workspace_root() -> None:
    root = parse_cargo_manifest('[workspace]\n[workspace.dependencies]\nfar = { path = "../../far" }\n')
    member = parse_cargo_manifest('[package]\nname = "a"\n[dependencies]\nfar.workspace = true\n')
    with pytest.raises(CargoManifestError, match=r"inherited from \[workspace.dependencies\] of ws/Cargo.toml\) is"):
        path_dependencies(member, directory="ws/a", workspace_root="ws", workspace_manifest=root)


def test_workspace_root_is_the_nearest_ancestor_workspace_that_does_not_exclude_the_crate() -> None:
    package = parse_cargo_manifest('[package]\nname = "a"\n')
    manifests = {
        "ws/inner/a": package,
        "ws/inner": parse_cargo_manifest('[workspace]\nexclude = ["a"]\n'),
        "ws": parse_cargo_manifest('[workspace]\nmembers = ["inner/a"]\n'),
    }
    assert find_workspace_root("ws/inner/a", manifests) == "ws"
    assert find_workspace_root("ws/inner/a", {**manifests, "ws/inner": parse_cargo_manifest("[workspace]\n")}) == "ws/inner"
    assert find_workspace_root("solo", {"solo": package}) is None
    own_root = parse_cargo_manifest('[package]\nname = "a"\n[workspace]\n')
    assert find_workspace_root("ws/inner/a", {**manifests, "ws/inner/a": own_root}) == "ws/inner/a"
    explicit = parse_cargo_manifest('[package]\nname = "a"\nworkspace = "../../other"\n')
    assert find_workspace_root("ws/inner/a", {**manifests, "ws/inner/a": explicit}) == "ws/other"


def test_an_explicit_member_is_not_excluded() -> None:
    root = parse_cargo_manifest('[workspace]\nmembers = ["vendor/kept"]\nexclude = ["vendor"]\n')
    assert root.excludes("vendor/other")
    assert not root.excludes("vendor/kept")
    assert not root.excludes("vendored")


def test_workspace_members_and_ancestors_are_repository_relative() -> None:
    root = parse_cargo_manifest('[workspace]\nmembers = ["crates/*", "./app"]\n')
    assert workspace_member_directories("ws", root) == ("ws/crates/*", "ws/app")
    assert workspace_member_directories("", root) == ("crates/*", "app")
    assert ancestor_directories("a/b/c") == ("a/b", "a", "")
    assert ancestor_directories("") == ()


def test_named_targets_without_a_path_are_where_cargo_looks_for_them() -> None:
    manifest = parse_cargo_manifest(
        """
[package]
name = "app"

[[bin]]
name = "tool"

[[bin]]
name = "other"
path = "tools/other.rs"

[[example]]
name = "demo"

[[test]]
name = "integration"
harness = false

[[bench]]
name = "speed"
harness = false
"""
    )
    assert manifest.named_target_files == ("src/bin/tool.rs", "examples/demo.rs", "tests/integration.rs", "benches/speed.rs")


@pytest.mark.parametrize(
    "text, message",
    [
        ("[package]\nname = 42\n", "crate/Cargo.toml: [package].name is an integer (42), but it must be a string"),
        ('package = "x"\n', "crate/Cargo.toml: `package` is a string ('x'), but it must be a table"),
        ("[package]\nversion = \"1.0.0\"\n", "crate/Cargo.toml: [package].name is missing, but it must be a string"),
        ("[package]\nname = [\"a\"]\n", "[package].name is an array (['a'])"),
    ],
)
def test_a_package_that_is_not_a_table_or_has_no_string_name_says_what_is_wrong(text: str, message: str) -> None:
    """Such a manifest used to be taken for a workspace root ("has no [package]")."""
    with pytest.raises(CargoManifestError) as caught:
        parse_cargo_manifest(text, origin="crate/Cargo.toml")
    assert message in str(caught.value)
