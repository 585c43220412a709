"""Where the locked crates come from when a component's dependencies are vendored."""

from __future__ import annotations

from enum import Enum

from pants.option.option_types import EnumOption, StrOption
from pants.option.subsystem import Subsystem
from pants.util.strutil import softwrap


class CrateSource(Enum):
    CRATES_IO = "crates-io"
    DIRECTORY = "directory"


class CargoRegistrySubsystem(Subsystem):
    options_scope = "cargo-registry"
    help = "The source of the crates that `Cargo.lock` names, read only by the vendor step."

    source = EnumOption(
        default=CrateSource.CRATES_IO,
        help=softwrap(
            """
            `crates-io`: the vendor step downloads the locked crates from crates.io (it needs
            network access; the build step never does). `directory`: the locked crates are taken
            from a cargo directory source (one `<name>-<version>/` folder per crate with its
            `.cargo-checksum.json`) inside the repository, see `directory`.
            """
        ),
    )
    directory = StrOption(
        default="",
        help=softwrap(
            """
            With `source = "directory"`: the directory source's path relative to the build root.
            It may be git-ignored, but it must not be in `pants_ignore`.
            """
        ),
    )
