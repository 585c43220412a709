"""Where the set-up keeps what it builds when no other place is configured.

Why this exists: this repository's ./pants launcher builds the toolchain archive
and bubblewrap into this folder and its pants.toml reads them from there
(url_template), and fetch_cargo_auditable.py and repin.py write into it as well;
all must agree on the same environment variables and default. Standard library only.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Return ${WASM_ATTEST_CACHE:-${XDG_CACHE_HOME:-~/.cache}/wasm-attest}, as ./pants does."""
    configured = os.environ.get("WASM_ATTEST_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wasm-attest"
