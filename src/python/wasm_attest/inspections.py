"""Running one of a layout's inspections, where it can do no harm.

An inspection is a command the layout owner wants run at verification time;
its materials and products are the files of the folder it runs in. Verification
runs one only when the caller's allow-list names its exact argv (docs/design.md: no
command from metadata runs otherwise), and even then not in the bundle folder
or the caller's working directory: in a throwaway folder that holds copies of
the bundle's final products and nothing else, with no shell, no standard
input, an environment of `PATH` alone (a release job's credentials stay out of
it), and a timeout after which the command and everything it started are
killed. The folder is hashed before and after, which is what in-toto records
for an inspection; the rules are checked by the caller.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from wasm_attest.bundle_files import ARTIFACT_SIZE_LIMIT, copy_limited, sha256_limited
from wasm_attest.errors import WasmAttestError

DEFAULT_INSPECTION_TIMEOUT = 60.0
"""Seconds an allowed inspection may run."""

_OUTPUT_TAIL = 2000


class InspectionError(WasmAttestError):
    """An allowed inspection could not run to completion; `check` says what failed."""

    def __init__(self, detail: str, *, check: str):
        self.check = check
        super().__init__(detail)


@dataclass(frozen=True)
class InspectionRun:
    """What one inspection did: its exit status, the files before (materials) and after (products), and its output's end."""

    return_value: int
    materials: Mapping[str, str]
    products: Mapping[str, str]
    output_tail: str


def run_inspection(command: Sequence[str], artifacts: Mapping[str, Path], timeout: float) -> InspectionRun:
    """Runs `command` in a fresh folder holding copies of `artifacts` (`{relative path: file}`); see the module docstring."""
    shown = shlex.join(command)
    with tempfile.TemporaryDirectory(prefix="wasm-attest-inspection-") as scratch, tempfile.TemporaryFile() as output:
        for name, source in sorted(artifacts.items()):
            destination = Path(scratch, *name.split("/"))
            destination.parent.mkdir(parents=True, exist_ok=True)
            copy_limited(source, destination, ARTIFACT_SIZE_LIMIT, name=name)
        materials = _hash_folder(Path(scratch))
        try:
            process = subprocess.Popen(
                list(command),
                cwd=scratch,
                env={"PATH": os.environ.get("PATH", os.defpath)},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a timeout kills what it started too
            )
        except OSError as error:
            raise InspectionError(
                f"`{shown}` could not be started ({error.strerror}); install it on the verifying machine or remove it "
                "from the allow-list.",
                check="inspection started",
            ) from None
        try:
            return_value = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            process.wait()
            raise InspectionError(
                f"`{shown}` did not finish within {timeout:g} s and was killed.", check="inspection finished within the timeout"
            ) from None
        _kill_group(process.pid)  # what it left running in the background must not outlive the folder
        products = _hash_folder(Path(scratch))
        output.seek(0, os.SEEK_END)
        output.seek(max(0, output.tell() - _OUTPUT_TAIL))
        tail = output.read().decode("utf-8", "replace")
    return InspectionRun(return_value=return_value, materials=materials, products=products, output_tail=tail)


def _kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _hash_folder(folder: Path) -> dict[str, str]:
    """`{relative POSIX path: sha256}` of the regular files under `folder` (links the command made are not followed)."""
    found = {}
    for directory, _, names in os.walk(folder):
        for name in names:
            path = Path(directory, name)
            if path.is_file() and not path.is_symlink():
                relative = path.relative_to(folder).as_posix()
                found[relative] = sha256_limited(path, ARTIFACT_SIZE_LIMIT, name=relative)
    return dict(sorted(found.items()))
