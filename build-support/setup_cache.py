"""Where ./pants keeps what it sets up, for the scripts that put files there too.

Why this exists: the launcher builds the toolchain archive into this folder
and Pants reads it from there (pants.toml's url_template), and
fetch_cargo_auditable.py and repin.py write into it as well; all must agree on
the same environment variables and default. Standard library only.
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
