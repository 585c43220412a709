"""The `wasm_component` target: a Rust crate compiled to a wasm32-wasip2 component."""

from __future__ import annotations

from pants.core.goals.package import OutputPathField
from pants.engine.target import (
    COMMON_TARGET_FIELDS,
    BoolField,
    Dependencies,
    MultipleSourcesField,
    OptionalSingleSourceField,
    StringField,
    StringSequenceField,
    Target,
)
from pants.util.strutil import help_text


class WasmComponentSourcesField(MultipleSourcesField):
    default = ("Cargo.toml", "Cargo.lock", "**/Cargo.toml", "**/*.rs", "**/*.wit")
    expected_file_extensions = None
    help = help_text(
        """
        The files cargo reads to build the crate, relative to the target's directory, which must
        be the cargo root: the folder that holds `Cargo.lock` (the crate's own folder, or the
        workspace root for a workspace member).

        The default takes every `Cargo.toml`, `*.rs` and `*.wit` file below it. Add globs for
        anything else the crate reads at compile time (`include_str!` data, for example): the
        build sandbox holds only these files.
        """
    )


class WasmComponentCargoPackageField(StringField):
    alias = "cargo_package"
    help = help_text(
        """
        The cargo package to build (`cargo build -p`). Defaults to `[package].name` of the
        `Cargo.toml` in the target's directory; required when that directory is a workspace root
        without a `[package]`.
        """
    )


class WasmComponentBinField(StringField):
    alias = "bin"
    help = help_text(
        """
        The binary target of the package to build (`cargo build --bin`). Defaults to the package
        name, which is cargo's name for `src/main.rs`.
        """
    )


class WasmComponentFeaturesField(StringSequenceField):
    alias = "features"
    default = ()
    help = "Cargo features to enable (`cargo build --features`)."


class WasmComponentNoDefaultFeaturesField(BoolField):
    alias = "no_default_features"
    default = False
    help = "Whether to disable the package's default features (`cargo build --no-default-features`)."


class WasmComponentProfileField(StringField):
    alias = "profile"
    default = "release"
    help = help_text(
        """
        The cargo profile to build with (`cargo build --profile`): `release`, `dev`, or a custom
        profile from `Cargo.toml`.
        """
    )


class WasmComponentOutputPathField(OutputPathField):
    help = help_text(
        """
        The folder under `dist/` that receives the component (`<bin>.wasm`).

        Defaults to the target's directory with `.` for `/`, then the target name, e.g.
        `testprojects.hello/hello` for `testprojects/hello:hello`.
        """
    )


class WasmComponentSignedLayoutField(OptionalSingleSourceField):
    alias = "signed_layout"
    expected_file_extensions = None
    help = help_text(
        """
        The owner-signed in-toto layout this component must be built by (release mode), relative
        to the target's directory, e.g. `"hello.root.layout"`.

        `pants package` then ships this file as `root.layout` instead of deriving and signing a
        layout, signs only the links and provenance (with the functionary keys), and verifies the
        bundle against `[wasm-attest].trusted_owner_keys`: a build that no longer matches the
        layout fails. Make it with `pants generate-layout`, review and commit the JSON, and sign
        it offline with `wasm-attest sign-layout`.
        """
    )


class WasmComponentTarget(Target):
    alias = "wasm_component"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        Dependencies,
        WasmComponentSourcesField,
        WasmComponentCargoPackageField,
        WasmComponentBinField,
        WasmComponentFeaturesField,
        WasmComponentNoDefaultFeaturesField,
        WasmComponentProfileField,
        WasmComponentOutputPathField,
        WasmComponentSignedLayoutField,
    )
    help = help_text(
        """
        A Rust crate compiled to a WebAssembly component for `wasm32-wasip2`.

        `pants package` builds it in a hermetic sandbox (the pinned toolchain from
        `[wasm-toolchain]`, the locked crates vendored from `[cargo-registry]`, no network, no
        host environment) and writes `<bin>.wasm` under `dist/`. `pants run` runs it with
        wasmtime, passing the arguments after `--`.

        Declare the target in the cargo root (the folder with `Cargo.lock`); for a workspace
        member, declare it in the workspace root and set `cargo_package`.
        """
    )
