"""The Rust toolchain that compiles components: a pinned archive, or a local rustup toolchain."""

from __future__ import annotations

from pants.core.util_rules.external_tool import TemplatedExternalTool
from pants.option.option_types import StrOption
from pants.util.strutil import softwrap


class WasmToolchainSubsystem(TemplatedExternalTool):
    options_scope = "wasm-toolchain"
    name = "wasm32-wasip2 Rust toolchain"
    help = softwrap(
        """
        The Rust toolchain (cargo, rustc, the wasm32-wasip2 standard library and linkers) that
        builds `wasm_component` targets.

        By default it is an archive pinned by sha256 and size in `known_versions`, like every
        Pants external tool, and given to each build as an input digest, so builds are hermetic
        and can run remotely. `pants wasm-setup` builds that archive
        reproducibly from Debian packages to where a `file://` `url_template` points; or host it
        anywhere and set `url_template`.

        Set `rustup_toolchain` to build with a local rustup toolchain instead; it is then
        identified (its `rustc -vV`), not pinned.
        """
    )

    default_version = "1.96.0"
    default_known_versions = [
        "1.96.0|linux_x86_64|f667cecfc7583724f66ae36bf4d2d87570055f07ec310e27c3100d288e4c3bc0|182301438",
    ]
    default_url_template = "file:///opt/wasm-attest/wasm32-wasip2-rust-{version}.tar.gz"

    rustup_toolchain = StrOption(
        default=None,
        help=softwrap(
            """
            The folder of a local rustup toolchain that has the wasm32-wasip2 target
            (e.g. `~/.rustup/toolchains/stable-x86_64-unknown-linux-gnu`). When set, it is used
            instead of the pinned archive: convenient locally, but not hermetic and not usable
            with remote execution.
            """
        ),
        advanced=True,
    )

    def generate_exe(self, _) -> str:
        return "bin/cargo"
