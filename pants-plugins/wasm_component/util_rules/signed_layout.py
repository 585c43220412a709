"""Which layout a target's attestations must answer to: one derived at package time, or one the owner signed.

In release mode (a target's `signed_layout`, or `[wasm-attest].require_signed_layouts`)
the policy is a file in the repository, reviewed and signed offline by the
layout owner. It is read through Pants (which watches it), so editing it
invalidates what was packaged against it. Release-mode configuration errors
are raised here, before anything is built.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from pants.base.build_root import BuildRoot
from pants.engine.addresses import Address
from pants.engine.fs import DigestContents, DigestEntries, FileEntry, PathGlobs
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import WrappedTarget, WrappedTargetRequest

from wasm_attest.errors import WasmAttestError
from wasm_attest.file_limits import LAYOUT_SIZE_LIMIT, human_size, kind_of_file
from wasm_component.subsystems.attestation import AttestationSubsystem
from wasm_component.target_types import WasmComponentSignedLayoutField


class SignedLayoutConfigurationError(WasmAttestError):
    """Release mode is asked for, but the target or `[wasm-attest]` cannot provide it."""


@dataclass(frozen=True)
class CommittedLayoutRequest:
    address: Address


@dataclass(frozen=True)
class CommittedLayout:
    """The owner-signed layout a target names, or none (`path` and `content` None): then package derives and signs one."""

    path: str | None
    """The file's path from the build root."""
    content: bytes | None


@rule(desc="Read a wasm_component's signed layout")
async def committed_layout(request: CommittedLayoutRequest, options: AttestationSubsystem) -> CommittedLayout:
    wrapped = await Get(
        WrappedTarget, WrappedTargetRequest(request.address, description_of_origin="a wasm_component's signed layout")
    )
    field = wrapped.target[WasmComponentSignedLayoutField]
    if field.value is None:
        if options.require_signed_layouts:
            raise SignedLayoutConfigurationError(
                f"{request.address}: [wasm-attest].require_signed_layouts is set, but the target names no "
                f"`signed_layout`. Write the layout with `pants generate-layout {request.address}`, have the "
                "owner review and sign it (`wasm-attest sign-layout <name>.layout.json --key owner.pem --output "
                "<name>.root.layout`), commit it, and set `signed_layout=\"<name>.root.layout\"`."
            )
        return CommittedLayout(None, None)
    if not options.trusted_owner_keys:
        raise SignedLayoutConfigurationError(
            f"{request.address}: the target names the signed layout {field.file_path}, but "
            "[wasm-attest].trusted_owner_keys is empty, so nothing could tell the owner's signature from anyone "
            "else's. Set it to the layout owner's public key(s)."
        )
    entries = await Get(DigestEntries, PathGlobs([field.file_path]))
    files = [entry for entry in entries if isinstance(entry, FileEntry)]
    if not files:
        raise SignedLayoutConfigurationError(
            f"{request.address}: its `signed_layout` {field.file_path} {_why_missing(field.file_path)}. Commit the "
            "file `wasm-attest sign-layout` wrote, or fix the path (relative to the target's directory)."
        )
    size = files[0].file_digest.serialized_bytes_length
    if size > LAYOUT_SIZE_LIMIT:
        raise SignedLayoutConfigurationError(
            f"{request.address}: its `signed_layout` {field.file_path} is {size} bytes, more than the "
            f"{human_size(LAYOUT_SIZE_LIMIT)} wasm-attest reads of a layout (a signed layout is kilobytes). Point "
            "`signed_layout` at the file `wasm-attest sign-layout` wrote."
        )
    contents = await Get(DigestContents, PathGlobs([field.file_path]))  # the same snapshot, now known to be small
    return CommittedLayout(field.file_path, contents[0].content)


def _why_missing(path: str) -> str:
    """Why Pants found no file at `path`: absent, or something it does not read (a device, a FIFO, a link out)."""
    full = os.path.join(BuildRoot().path, path)
    if os.path.islink(full):
        return f"is a symbolic link (to {os.readlink(full)}) that does not lead to a regular file in the repository"
    try:
        mode = os.stat(full).st_mode
    except OSError:
        return "does not exist"
    return "cannot be read" if stat.S_ISREG(mode) else f"is {kind_of_file(mode)}, not a regular file"


def rules():
    return collect_rules()
