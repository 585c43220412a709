"""Fail clearly when a pinned `file://` input that `pants wasm-setup` makes is not there yet.

Pants would report a missing `file://` download as a failed download of that URL; a
repository that has just enabled the plugin needs to hear which command creates the file.
"""

from __future__ import annotations

from pants.core.util_rules.external_tool import ExternalToolRequest

from wasm_attest.errors import WasmAttestError
from wasm_attest_setup.pinned_inputs import missing_file_message


class SetUpMissingError(WasmAttestError):
    """A pinned input is configured at a local path where nothing is."""


def raise_if_set_up_missing(scope: str, request: ExternalToolRequest) -> None:
    message = missing_file_message(scope, request.download_file_request.url)
    if message:
        raise SetUpMissingError(message)
