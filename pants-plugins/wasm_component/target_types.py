"""The targets: `wasm_component`, a Rust crate compiled to a wasm32-wasip2 component, and `cargo_crate`, a crate
it builds from (a library, a workspace root)."""

from __future__ import annotations

import os

from pants.core.goals.package import OutputPathField
from pants.engine.addresses import Address
from pants.engine.target import (
    COMMON_TARGET_FIELDS,
    AsyncFieldMixin,
    BoolField,
    Dependencies,
    InvalidFieldException,
    MultipleSourcesField,
    StringField,
    StringSequenceField,
    Target,
)
from pants.util.strutil import help_text

from wasm_component.oci_registries import ALL_DEFAULT_REGISTRIES
from wasm_component.output_folders import output_path_message, output_path_problem


class CargoCrateSourcesField(MultipleSourcesField):
    """The files of one Cargo package (or workspace root) that cargo reads to build it.

    Per crate, not per Cargo root, so that a change to one crate invalidates
    only the builds that link it: a build's sandbox is the union of the
    sources of the crates it depends on (found by dependency inference).
    """

    default = ("Cargo.toml", "Cargo.lock", "build.rs", "src/**/*", "wit/**/*")
    expected_file_extensions = None
    help = help_text(
        """
        The crate's files that cargo reads to build it, relative to the folder of its `Cargo.toml`.

        The default is what a build needs: `Cargo.toml`, `Cargo.lock`, `build.rs`, everything under
        `src/` and `wit/`. Tests, benches and examples are left out (a build does not compile them).
        Add globs for anything else read at compile time (`include_str!` of a file outside `src/`,
        for example): the build sandbox holds only the sources of the crates it depends on.
        """
    )


class WasmComponentSourcesField(CargoCrateSourcesField):
    """A component's crate sources: its own type, so that `package` and `run` apply to components only."""


class WasmComponentCargoPackageField(StringField):
    alias = "cargo_package"
    help = help_text(
        """
        The cargo package to build (`cargo build -p`): `[package].name` of the `Cargo.toml` in the
        target's directory, which is the default. If set, it must be that name (a check that the
        target sits in the crate it means).
        """
    )


class WasmComponentBinField(StringField):
    alias = "bin"
    help = help_text(
        """
        For a command component: the binary target of the package to build (`cargo build --bin`).
        Defaults to the package name, which is cargo's name for `src/main.rs`. Not allowed with
        `kind="library"`.
        """
    )


COMMAND = "command"
LIBRARY = "library"


class WasmComponentKindField(StringField):
    alias = "kind"
    valid_choices = (COMMAND, LIBRARY)
    help = help_text(
        f"""
        What to build the component from: `"{COMMAND}"`, a binary (`cargo build --bin`), which
        exports `wasi:cli/run`; or `"{LIBRARY}"`, the library built as a `cdylib`
        (`cargo build --lib`), which exports the interfaces its code implements, e.g.
        `wasi:http/incoming-handler` (an HTTP handler for `wasmtime serve`, Spin or wasmCloud).

        Defaults to what `Cargo.toml` says: a crate whose `[lib] crate-type` contains `"cdylib"`
        is a library component, any other crate a command. A crate with both a cdylib and
        binaries must say which, with this field (or with `bin`, which means a command).
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


class WasmComponentAllowedImportsField(StringSequenceField):
    alias = "allowed_imports"
    help = help_text(
        """
        The capability policy: the WIT interfaces the component may import, as patterns such as
        `"wasi:cli/*"`, `"wasi:http/types"` or `"wasi:io/*@0.2.*"` (a pattern without `@` matches
        every version). Its imports are what the host lets it do: a new `wasi:sockets/*` or
        `wasi:http/outgoing-handler` import is new network access. `package` fails, naming each
        import no pattern matches; the policy is signed into the layout, so `verify-layout` and
        `wasm-attest verify` enforce it on the bundle. Defaults to
        `[wasm-attest].default_allowed_imports`.
        """
    )


class WasmComponentRequiredExportsField(StringSequenceField):
    alias = "required_exports"
    help = help_text(
        """
        The capability policy: patterns each of which an export of the component must match,
        e.g. `["wasi:http/incoming-handler"]` for an HTTP handler. Enforced like
        `allowed_imports`. Defaults to `[wasm-attest].default_required_exports`.
        """
    )


class WasmComponentOutputPathField(OutputPathField):
    """Checked when the BUILD file is read: packaging replaces (or removes) this folder as a whole."""

    help = help_text(
        """
        The folder under `dist/` that receives the component (`<bin>.wasm`) and its attestations.
        Packaging replaces this folder as a whole, so it must be the target's alone: a normalised
        relative path inside `dist/` (no `..`, not absolute, not `.`), neither inside nor around
        another `wasm_component`'s folder.

        Defaults to the target's directory with `.` for `/`, then the target name, e.g.
        `testprojects.hello/hello` for `testprojects/hello:hello`.
        """
    )

    @classmethod
    def compute_value(cls, raw_value: str | None, address: Address) -> str | None:
        value = super().compute_value(raw_value, address)
        if value is not None:
            problem = output_path_problem(value)
            if problem:
                raise InvalidFieldException(output_path_message(str(address), value, problem))
        return value


class WasmComponentSignedLayoutField(AsyncFieldMixin, StringField):
    """A file path, deliberately not a second sources field.

    Pants finds a target's files (for `--changed-since`, file arguments and
    dependency inference) through the first sources field by alias, and
    `signed_layout` sorts before `sources`: as a sources field it hid the
    crate's files from all of those.
    """

    alias = "signed_layout"
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

    @classmethod
    def compute_value(cls, raw_value: str | None, address: Address) -> str | None:
        value = super().compute_value(raw_value, address)
        if value is not None:
            problem = signed_layout_problem(value, address.spec_path)
            if problem:
                raise InvalidFieldException(
                    f"{address}: `signed_layout` {value!r} {problem}. Name the committed signed layout file relative "
                    'to the target\'s directory, e.g. `signed_layout="hello.root.layout"`.'
                )
        return value

    @property
    def file_path(self) -> str | None:
        """The layout's path from the build root."""
        return None if self.value is None else os.path.normpath(os.path.join(self.address.spec_path, self.value))


def signed_layout_problem(value: str, directory: str) -> str | None:
    """Why `value` (relative to the BUILD file's `directory`) cannot name a file in the repository, or None."""
    if not value or value.startswith("/"):
        return "is empty or absolute"
    path = os.path.normpath(os.path.join(directory, value))
    if path == ".." or path.startswith("../") or path == ".":
        return "leads out of the repository" if path != "." else "names a folder"
    return None


class WasmComponentRegistriesField(StringSequenceField):
    alias = "registries"
    default = (ALL_DEFAULT_REGISTRIES,)
    help = help_text(
        """
        The OCI registries `pants publish` pushes this component to: `@alias` of a registry in
        `[wasm-oci].registries`, or an address (`host[:port]`). By default, every registry
        configured with `default = true`.
        """
    )


class WasmComponentRepositoryField(StringField):
    alias = "repository"
    help = help_text(
        """
        The repository in each registry (e.g. `team/hello`); `{name}` is the target's name and
        `{directory}` its folder's name. Default: `[wasm-oci].default_repository` (`{name}`).
        """
    )


class WasmComponentImageTagsField(StringSequenceField):
    alias = "image_tags"
    default = ("latest",)
    help = help_text(
        """
        Tags `pants publish` sets on the pushed component. The component is pushed by digest
        first; verify by that digest (`wasm-attest verify oci://…@sha256:…`) to pin the exact build.
        """
    )


class WasmComponentSkipPushField(BoolField):
    alias = "skip_push"
    default = False
    help = "If true, `pants publish` skips this component (it is still packaged and verified)."


class WasmComponentTarget(Target):
    alias = "wasm_component"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        Dependencies,
        WasmComponentSourcesField,
        WasmComponentCargoPackageField,
        WasmComponentBinField,
        WasmComponentKindField,
        WasmComponentFeaturesField,
        WasmComponentNoDefaultFeaturesField,
        WasmComponentProfileField,
        WasmComponentAllowedImportsField,
        WasmComponentRequiredExportsField,
        WasmComponentOutputPathField,
        WasmComponentSignedLayoutField,
        WasmComponentRegistriesField,
        WasmComponentRepositoryField,
        WasmComponentImageTagsField,
        WasmComponentSkipPushField,
    )
    help = help_text(
        """
        A Rust crate compiled to a WebAssembly component for `wasm32-wasip2`.

        `pants package` builds it in a hermetic sandbox (the pinned toolchain from
        `[wasm-toolchain]`, the locked crates vendored from `[cargo-registry]`, no network, no
        host environment) and writes the component under `dist/`: `<bin>.wasm` for a command,
        `<lib name>.wasm` (cargo's name: `-` becomes `_`) for a library component (`kind`).
        `pants run` runs a command with wasmtime, passing the arguments after `--`, and serves
        an HTTP component (one exporting `wasi:http/incoming-handler`) with `wasmtime serve` on
        127.0.0.1. `pants publish` pushes the packaged component to OCI registries
        (`[wasm-oci]`) with its signed SBOM, provenance and in-toto evidence as referrers.

        Declare the target in the crate's own folder (the folder of its `Cargo.toml` with
        `[package]`). It builds from the Cargo root: the root of the crate's workspace (where
        `Cargo.lock` is), or the crate's own folder if it is in no workspace. The in-repo crates it
        uses (path dependencies, also through `workspace = true`) and the workspace root are
        inferred from the Cargo.toml files: they need a `cargo_crate` target each.
        """
    )


class CargoCrateTarget(Target):
    alias = "cargo_crate"
    core_fields = (*COMMON_TARGET_FIELDS, Dependencies, CargoCrateSourcesField)
    help = help_text(
        """
        A Cargo package or workspace root of the repository that `wasm_component` targets build
        from but that is not a component itself: a library crate, or the root of a (virtual or
        not) cargo workspace, whose sources are its `Cargo.toml` and `Cargo.lock`.

        Declare one in the folder of each such `Cargo.toml`. Components depend on them by
        dependency inference: a crate's path dependencies (in any dependency table, renamed, per
        target platform, or inherited with `workspace = true`) and its workspace root become
        dependencies of its target, so a change to a crate rebuilds exactly the components that
        use it, and `pants dependents` and `--changed-since` know which.
        """
    )
