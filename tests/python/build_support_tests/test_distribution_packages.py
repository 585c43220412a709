"""The wheel lists every package of the core, the set-up and the backend.

Why: pyproject.toml names its packages one by one, so a new subpackage left off
the list builds a wheel that imports fine here (Pants runs from the sources) and
fails in every consuming repository ("No module named wasm_attest.shared_crates"
was found that way, by the adoption e2e test, 20 minutes into CI). This fails in
a second.
"""

from __future__ import annotations

import os
from pathlib import Path

import tomli

REPOSITORY = Path(os.environ["WASM_ATTEST_BUILDROOT"])


def packages_under(root: Path, top: str) -> set[str]:
    """Every folder below root/top holding an __init__.py, as a dotted package name."""
    return {
        ".".join(init.parent.relative_to(root).parts)
        for init in (root / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }


def test_every_package_is_in_the_wheel() -> None:
    listed = set(tomli.loads((REPOSITORY / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = (
        packages_under(REPOSITORY / "src" / "python", "wasm_attest")
        | packages_under(REPOSITORY / "src" / "python", "wasm_attest_setup")
        | packages_under(REPOSITORY / "pants-plugins", "wasm_component")
    )
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - on_disk == set(), "pyproject.toml lists packages that do not exist"
