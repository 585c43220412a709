#!/usr/bin/env python3
"""Build the cargo directory source of Debian crate packages (this repository's entry point).

The code is wasm_attest_setup.registry, which ships in the wasm-attest distribution so that
`pants wasm-setup` runs it in any repository; ./pants runs this file, before anything is
installed, so it finds the package in src/python. Standard library only. --help says more.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src" / "python"))

from wasm_attest_setup.registry import main  # noqa: E402 (needs the sys.path entry above)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
