"""A real OCI registry on 127.0.0.1 and the real clients that judge what is published to it.

Why this exists: `pants publish` and verification from a registry (issue 14) are only
worth something if a registry nobody here wrote stores what we push and clients nobody
here wrote read it back. The registry is Distribution 2.8 (Debian's `docker-registry`),
which has no OCI 1.1 Referrers API, so clients must fall back to the `sha256-<digest>`
tag, the case most registries in the field still need. The binaries come from
build-support/verifiers/fetch_verifiers.py (pinned .debs), through the `reference_verifiers`
session fixture of conftest.py.

Fixtures (conftest.py imports them):
- `oci_registry` / `oci_registry_session`: a started registry (`OciRegistry`), stopped at
  teardown; function-scoped for tests that tamper with its storage, session-scoped to share.
- `oras`, `cosign`: `Client`s, callables `client(*args, check=True, cwd=None, timeout=..., input=None, env={})`
  returning the CompletedProcess, run with a private HOME and Docker config so no host
  credential reaches them and nothing they store (logins, TUF roots) leaks out.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator, Mapping, Optional, Sequence, Union

import pytest

LOOPBACK = "127.0.0.1"
START_TIMEOUT_SECONDS = 30.0
POLL_INTERVAL_SECONDS = 0.1
STOP_TIMEOUT_SECONDS = 10.0
CLIENT_TIMEOUT_SECONDS = 120.0
LOG_TAIL_LINES = 40
# A free port is found by binding port 0 and closing it; another process may take it
# before the registry binds it, so start-up retries on a fresh port this many times.
START_ATTEMPTS = 3


class RegistryStartError(RuntimeError):
    """The registry did not answer `GET /v2/` in time or exited; the message holds its log's tail."""


class ClientFailed(subprocess.CalledProcessError):
    """A client exited non-zero; unlike CalledProcessError, the message shows its output."""

    def __str__(self) -> str:
        return f"{super().__str__()}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"


def loopback_host(host: str) -> str:
    """Return host if it is a literal IPv4 loopback address; refuse anything else.

    A test registry takes pushes without authentication: listening anywhere but on
    loopback would expose it (and what tests push) to the network. Names such as
    `localhost` are refused too, since what they resolve to is the host's business.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"the test registry listens on a literal loopback address such as {LOOPBACK}, not {host!r}") from None
    if address.version != 4 or not address.is_loopback:
        raise ValueError(f"the test registry listens on IPv4 loopback only (such as {LOOPBACK}), not {host}")
    return host


def free_port(host: str) -> int:
    """A port nothing listens on at the moment (the kernel's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def registry_config(storage: Path, address: str) -> str:
    """Distribution's configuration: filesystem storage, HTTP on address, no debug port.

    JSON is YAML, so no YAML library is needed. Deletes are enabled so tests can remove
    what they pushed; no blob descriptor cache is configured, so a blob a test replaces
    on disk is what the registry serves next (the tamper tests rely on that).
    """
    config = {
        "version": "0.1",
        "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": False}},
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
        "http": {"addr": address},
    }
    return json.dumps(config, indent=2) + "\n"


def answers(address: str) -> bool:
    """Whether a registry answers `GET /v2/` at address with 200 (the API's version check)."""
    host, port = address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=2)
    try:
        connection.request("GET", "/v2/")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log, for error messages."""
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(no log: {error})"


class OciRegistry:
    """A running `docker-registry serve` on loopback, with its storage and log in a folder.

    `address` is `127.0.0.1:PORT` (what `oras ... --plain-http` and image references
    take), `url` is `http://` + address, `storage` the filesystem driver's root
    (`docker/registry/v2/...` under it once something is pushed; `blob_path(digest)`
    finds a blob there), `log` its output.
    """

    def __init__(self, process: "subprocess.Popen[bytes]", address: str, storage: Path, log: Path) -> None:
        self.process = process
        self.address = address
        self.storage = storage
        self.log = log

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def blob_path(self, digest: str) -> Path:
        """Where the filesystem driver keeps a blob's bytes, for tests that tamper with it.

        Distribution's layout: docker/registry/v2/blobs/<algorithm>/<first two hex>/<hex>/data.
        """
        algorithm, _, encoded = digest.partition(":")
        path = self.storage / "docker" / "registry" / "v2" / "blobs" / algorithm / encoded[:2] / encoded / "data"
        if not path.is_file():
            raise FileNotFoundError(f"the registry at {self.address} stores no blob {digest} (looked for {path})")
        return path

    def stop(self) -> None:
        """Terminate, wait (bounded), then kill; calling it again does nothing."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def __repr__(self) -> str:
        return f"OciRegistry(address={self.address!r}, storage={str(self.storage)!r})"


def start_registry(binary: Path, folder: Path, *, host: str = LOOPBACK, port: Optional[int] = None) -> OciRegistry:
    """Start a registry storing under folder/storage; return once `GET /v2/` answers.

    With no port, a free one is chosen (and another one if it was taken meanwhile).
    Raises ValueError for a non-loopback host, RegistryStartError (with the log's tail)
    if the registry exits or does not answer within START_TIMEOUT_SECONDS.
    """
    loopback_host(host)
    attempts = 1 if port is not None else START_ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            return _start_once(binary, folder / f"attempt-{attempt}", f"{host}:{port or free_port(host)}")
        except RegistryStartError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable: the last attempt raises")


def _start_once(binary: Path, folder: Path, address: str) -> OciRegistry:
    folder.mkdir(parents=True)
    storage = folder / "storage"
    storage.mkdir()
    config = folder / "config.yml"
    config.write_text(registry_config(storage, address), encoding="utf-8")
    log = folder / "registry.log"
    with open(log, "wb") as log_file:
        # A clean environment: Distribution reads REGISTRY_* variables over its configuration.
        process = subprocess.Popen(
            [str(binary), "serve", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={"PATH": "/usr/bin:/bin", "HOME": str(folder)},
            cwd=folder,
        )
    registry = OciRegistry(process, address, storage, log)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RegistryStartError(f"docker-registry exited with status {process.returncode} before answering on {address}; its log ({log}) ends:\n{tail(log)}")
        if answers(address):
            return registry
        time.sleep(POLL_INTERVAL_SECONDS)
    registry.stop()
    raise RegistryStartError(f"docker-registry did not answer GET http://{address}/v2/ within {START_TIMEOUT_SECONDS:.0f} s; its log ({log}) ends:\n{tail(log)}")


class Client:
    """A pinned client binary run with a private HOME and Docker config.

    Calling it runs `binary *args` and returns the CompletedProcess (text); with
    check=True a non-zero exit raises ClientFailed, whose message shows the output.
    """

    def __init__(self, binary: Path, home: Path, extra_env: Mapping[str, str] = {}) -> None:
        self.binary = binary
        self.home = home
        docker_config = home / ".docker"
        docker_config.mkdir(parents=True, exist_ok=True)
        (docker_config / "config.json").write_text('{"auths": {}}\n', encoding="utf-8")
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "DOCKER_CONFIG": str(docker_config),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "TMPDIR": str(home / "tmp"),
            **extra_env,
        }
        (home / "tmp").mkdir(exist_ok=True)

    def __call__(
        self,
        *args: Union[str, Path],
        check: bool = True,
        cwd: Optional[Path] = None,
        timeout: float = CLIENT_TIMEOUT_SECONDS,
        input: Optional[str] = None,
        env: Mapping[str, str] = {},
    ) -> "subprocess.CompletedProcess[str]":
        """Run the client; env adds variables for this call only (e.g. COSIGN_PASSWORD)."""
        command: Sequence[str] = [str(self.binary), *map(str, args)]
        result = subprocess.run(
            command,
            cwd=cwd or self.home,
            env={**self.env, **env},
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise ClientFailed(result.returncode, command, result.stdout, result.stderr)
        return result

    def __repr__(self) -> str:
        return f"Client({str(self.binary)!r})"


def _registry(reference_verifiers: Mapping[str, Path], folder: Path) -> Iterator[OciRegistry]:
    registry = start_registry(reference_verifiers["docker-registry"], folder)
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture
def oci_registry(reference_verifiers: Mapping[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[OciRegistry]:
    """A registry of this test's own, empty, stopped after it (tamper tests may edit its storage)."""
    yield from _registry(reference_verifiers, tmp_path_factory.mktemp("oci-registry"))


@pytest.fixture(scope="session")
def oci_registry_session(reference_verifiers: Mapping[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[OciRegistry]:
    """One registry shared by the session's tests (use distinct repository names)."""
    yield from _registry(reference_verifiers, tmp_path_factory.mktemp("oci-registry-session"))


@pytest.fixture(scope="session")
def oras(reference_verifiers: Mapping[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Client:
    """The pinned `oras`; pass `--plain-http` for the test registry, which speaks HTTP."""
    return Client(reference_verifiers["oras"], tmp_path_factory.mktemp("oras-home"))


@pytest.fixture(scope="session")
def cosign(reference_verifiers: Mapping[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Client:
    """The pinned `cosign`; against the test registry pass `--allow-http-registry --allow-insecure-registry`."""
    return Client(reference_verifiers["cosign"], tmp_path_factory.mktemp("cosign-home"))
