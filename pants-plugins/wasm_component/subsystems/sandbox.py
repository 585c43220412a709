"""How builds are isolated from the host: bubblewrap, pinned like the toolchain, or (for development) nothing."""

from __future__ import annotations

from enum import Enum

from pants.core.util_rules.external_tool import TemplatedExternalTool
from pants.option.option_types import EnumOption
from pants.util.strutil import softwrap


class Isolation(Enum):
    BUBBLEWRAP = "bubblewrap"
    NONE = "none"


class WasmSandboxSubsystem(TemplatedExternalTool):
    options_scope = "wasm-sandbox"
    name = "bubblewrap (bwrap)"
    help = softwrap(
        """
        The OS sandbox every cargo process of a `wasm_component` build runs in. Build scripts and
        proc-macros of dependencies are code nobody in the repository wrote, and they run with
        whatever the build process can reach; the signing keys are only as safe as that.

        With `isolation = "bubblewrap"` (the default), cargo runs under `bwrap` in new user, PID,
        network, IPC, UTS and cgroup namespaces. It sees its Pants sandbox (writable, at `/build`),
        the toolchain (read-only, at `/toolchain`), read-only the host folders the C compiler needs
        to link build scripts (`/usr`, `/lib`, `/lib64`, `/bin`), its own `/proc`, a minimal `/dev`
        and an empty `/tmp`: no network, no `/etc`, no home folder, no other process, no key file,
        no other file of the repository. The `bwrap` binary is pinned by sha256 in `known_versions`
        and given to each build as an input digest; `pants wasm-setup` fetches it from Debian's
        `bubblewrap` package to where `url_template` points.

        The provenance of every component records how it was built, and verification fails a build
        that was not isolated unless `[wasm-attest].require_isolated_builds` is turned off.
        """
    )

    default_version = "0.8.0-2+deb12u1"
    default_known_versions = [
        "0.8.0-2+deb12u1|linux_x86_64|85580dd52ed366ece8844e90fa75ac7c4de8802963071344e123221fb9f6f11e|72080",
    ]
    default_url_template = "file:///opt/wasm-attest/bwrap-{version}"

    isolation = EnumOption(
        default=Isolation.BUBBLEWRAP,
        help=softwrap(
            """
            `bubblewrap` isolates every cargo process (see above). `none` runs cargo directly in
            the Pants sandbox, where a dependency's build script can reach the network, read the
            host's files (your keys among them) and other processes' environments (your key
            passwords among them). FOR DEVELOPMENT ONLY, on a host without user namespaces: the
            provenance then says `"isolation": "none"`, every package run warns, and verification
            fails unless `[wasm-attest].require_isolated_builds = false`.
            """
        ),
    )

    def generate_exe(self, _) -> str:
        return f"bwrap-{self.version}"
