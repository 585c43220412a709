"""BuildGrid, a real REAPI server, on 127.0.0.1: installed from pinned wheels, configured, started, stopped.

Why this exists: the remote-cache test and benchmark must prove cache keys and cache contents against
a server nobody here wrote. BuildGrid 0.9.1 (PyPI) needs Python >= 3.13 while Pants runs on 3.9, so
it gets a venv of its own under the set-up cache, installed with --require-hashes from
buildgrid-requirements.txt beside this file. Standard library only: the test (Python 3.9) and the
benchmark import this module without BuildGrid's dependencies.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "buildgrid-requirements.txt"
MINIMUM_PYTHON = (3, 13)
# Pants opens up to 128 concurrent RPCs; BuildGrid's default pool (30) answers the rest with
# "ResourceExhausted: Concurrent RPC limit exceeded".
THREAD_POOL_SIZE = 200
START_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 20
INSTALL_TIMEOUT_SECONDS = 900


class BuildGridError(Exception):
    """BuildGrid could not be installed or started; the message says what to do."""


def default_cache() -> Path:
    """The launcher's set-up cache (./pants exports WASM_ATTEST_CACHE)."""
    configured = os.environ.get("WASM_ATTEST_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wasm-attest"


def _python_candidates() -> Iterator[str]:
    explicit = os.environ.get("WASM_ATTEST_BUILDGRID_PYTHON")
    if explicit:
        yield explicit
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    for folder in sorted(pyenv.glob("3.1[3-9]*"), reverse=True):
        yield str(folder / "bin" / "python3")
    for name in ("python3.14", "python3.13", "python3"):
        found = shutil.which(name)
        if found:
            yield found


def find_python() -> str:
    """A CPython >= 3.13 interpreter, or a BuildGridError that says what to install."""
    for candidate in _python_candidates():
        if not os.access(candidate, os.X_OK):
            continue
        probe = subprocess.run(
            [candidate, "-c", f"import sys; sys.exit(sys.version_info[:2] < {MINIMUM_PYTHON!r})"],
            capture_output=True,
            timeout=30,
        )
        if probe.returncode == 0:
            return candidate
    raise BuildGridError(
        "BuildGrid 0.9.1 needs Python >= 3.13 and none was found (looked at $WASM_ATTEST_BUILDGRID_PYTHON, "
        "${PYENV_ROOT:-~/.pyenv}/versions/3.13+, python3.14/python3.13/python3 on PATH). Install one "
        "(e.g. `pyenv install 3.13.0`) or set WASM_ATTEST_BUILDGRID_PYTHON to its path."
    )


def ensure_installed(cache: Path, requirements: Path = REQUIREMENTS) -> Path:
    """The `bgd` of a venv made from the pinned requirements (reused while they are unchanged).

    `requirements` is for callers that run this module away from its folder (a Pants test sandbox).
    """
    requirements_id = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    venv = cache / f"buildgrid-{requirements_id}"
    bgd = venv / "bin" / "bgd"
    if (venv / ".complete").exists():
        return bgd
    python = find_python()
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    # No pip configuration file or find-links folder may change what the hashes pin.
    env = {**os.environ, "PIP_CONFIG_FILE": "/dev/null", "PIP_FIND_LINKS": ""}
    steps = (
        [python, "-m", "venv", str(venv)],
        [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--require-hashes", "--only-binary=:all:", "-r", str(requirements)],
    )
    for step in steps:
        result = subprocess.run(step, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS)
        if result.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise BuildGridError(f"Installing BuildGrid from {requirements} failed:\n{result.stderr.strip()}")
    (venv / ".complete").touch()
    return bgd


@dataclass(frozen=True)
class CasStorage:
    """Where the server keeps blobs: in memory with LRU eviction (`lru_size`, e.g. "2G"), or in a folder."""

    lru_size: str | None = None
    disk_path: Path | None = None

    def __post_init__(self) -> None:
        if (self.lru_size is None) == (self.disk_path is None):
            raise ValueError("CasStorage takes exactly one of lru_size and disk_path")

    def yaml(self) -> str:
        if self.lru_size is not None:
            return f"!lru-storage\n    size: {self.lru_size}"
        return f"!disk-storage\n    path: {self.disk_path}"


def config_text(port: int, storage: CasStorage) -> str:
    """A BuildGrid configuration: one unnamed instance with a CAS and an action cache on 127.0.0.1 only."""
    return f"""\
# Written by build-support/remote_cache/buildgrid.py: a loopback-only REAPI cache, no execution.
server:
  - !channel
    address: "127.0.0.1:{port}"
    insecure-mode: true

thread-pool-size: {THREAD_POOL_SIZE}

storages:
  - &cas-storage
    {storage.yaml()}

caches:
  - &action-cache
    !lru-action-cache
    storage: *cas-storage
    max-cached-refs: 1000000
    allow-updates: true
    cache-failed-actions: false

instances:
  - name: ""
    services:
      - !action-cache
        cache: *action-cache
      - !cas
        storage: *cas-storage
      - !bytestream
        storage: *cas-storage
"""


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class BuildGridServer:
    """`bgd server start` on 127.0.0.1, as a context manager that waits until it listens and stops it after."""

    def __init__(self, bgd: Path, work: Path, storage: CasStorage) -> None:
        self.bgd = bgd
        self.work = work
        self.storage = storage
        self.port = free_port()
        self.log = work / "buildgrid.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"grpc://127.0.0.1:{self.port}"

    def pants_options(self, *, write: bool) -> list[str]:
        """The Pants 2.17 flags that use this server as a remote cache (read, and write when asked)."""
        return [
            "--remote-cache-read",
            f"--{'' if write else 'no-'}remote-cache-write",
            f"--remote-store-address={self.address}",
            "--remote-instance-name=",
            "--remote-store-rpc-concurrency=16",
            "--remote-cache-rpc-concurrency=16",
        ]

    def cas_bytes(self) -> int:
        """Bytes of blobs the CAS holds (disk storage only: an in-memory LRU does not say)."""
        if self.storage.disk_path is None:
            raise BuildGridError("cas_bytes needs a disk-backed CAS (CasStorage(disk_path=...))")
        return sum(path.stat().st_size for path in self.storage.disk_path.rglob("*") if path.is_file())

    def __enter__(self) -> "BuildGridServer":
        self.work.mkdir(parents=True, exist_ok=True)
        if self.storage.disk_path is not None:
            self.storage.disk_path.mkdir(parents=True, exist_ok=True)
        config = self.work / "buildgrid.yml"
        config.write_text(config_text(self.port, self.storage))
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                [str(self.bgd), "server", "start", str(config)], stdout=log, stderr=subprocess.STDOUT, cwd=self.work
            )
        try:
            self._wait_until_listening()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _wait_until_listening(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BuildGridError(f"BuildGrid exited with {self._process.returncode}; its log:\n{self.log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise BuildGridError(f"BuildGrid did not listen on 127.0.0.1:{self.port} within {START_TIMEOUT_SECONDS} s; log: {self.log}")

    def stop(self) -> None:
        """Stops the server (SIGTERM, then SIGKILL after a bounded wait)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_SECONDS)


def main(argv: list[str]) -> int:
    """fetch_buildgrid.py's command line."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="fetch_buildgrid.py",
        description=(
            "Install BuildGrid 0.9.1 (a REAPI server) from hash-pinned wheels into a venv under the set-up cache "
            "and print its `bgd`; with --write-config, also write a loopback-only cache configuration. "
            "Needs Python >= 3.13 (WASM_ATTEST_BUILDGRID_PYTHON, ~/.pyenv/versions/3.13*, or on PATH)."
        ),
    )
    parser.add_argument("--cache", type=Path, default=default_cache(), help="set-up cache (default: %(default)s)")
    parser.add_argument("--write-config", type=Path, metavar="FILE", help="write a server configuration to FILE")
    parser.add_argument("--port", type=int, default=50051, help="port on 127.0.0.1 (default: %(default)s)")
    storage = parser.add_mutually_exclusive_group()
    storage.add_argument("--lru-size", default="2G", help="in-memory LRU CAS of this size (default: %(default)s)")
    storage.add_argument("--disk", type=Path, metavar="DIR", help="keep the CAS in DIR instead (no eviction)")
    args = parser.parse_args(argv)
    try:
        bgd = ensure_installed(args.cache)
    except BuildGridError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.write_config:
        cas = CasStorage(disk_path=args.disk.resolve()) if args.disk else CasStorage(lru_size=args.lru_size)
        args.write_config.write_text(config_text(args.port, cas))
    print(bgd)
    return 0
