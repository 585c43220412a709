#!/usr/bin/env python3
"""Install BuildGrid (REAPI server) for the remote-cache test and benchmark; print its `bgd`.

The code is build-support/remote_cache/buildgrid.py; this file is its command line. Standard
library only, runs on any Python (it finds a Python >= 3.13 for BuildGrid itself). --help says more.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from buildgrid import main  # noqa: E402 (needs the sys.path entry above)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
