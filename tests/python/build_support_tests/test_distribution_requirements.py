"""The wheel's requirement ranges hold the versions this repository pins for Pants' venv.

Why: a consuming repository resolves the plugin's requirements from its ranges, while this
repository tests with the exact pins of build-support/pants-requirements.in. If a pin moves
outside a range (or a requirement is added without a pin), what consumers get is no longer
what was tested; this fails first.
"""

from __future__ import annotations

import os
from pathlib import Path

import tomli
from packaging.requirements import Requirement  # pants: no-infer-dep (comes with Pants, see BUILD)
from packaging.utils import canonicalize_name  # pants: no-infer-dep

REPOSITORY = Path(os.environ["WASM_ATTEST_BUILDROOT"])


def pinned_versions() -> dict[str, str]:
    pins = {}
    for line in (REPOSITORY / "build-support" / "pants-requirements.in").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"{line}: pants-requirements.in pins exact versions"
            pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def distribution_requirements() -> list[Requirement]:
    project = tomli.loads((REPOSITORY / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [Requirement(text) for text in [*project["dependencies"], *extras["run"], *extras["pants"]]]


def test_every_requirement_of_the_wheel_holds_the_version_pinned_for_pants() -> None:
    pins = pinned_versions()
    for requirement in distribution_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not pinned in build-support/pants-requirements.in"
        assert requirement.specifier.contains(pins[name]), f"{requirement} excludes the pinned {name}=={pins[name]}"


def test_the_plugin_requires_the_pants_minor_version_it_is_written_for() -> None:
    (pants,) = [r for r in distribution_requirements() if canonicalize_name(r.name) == "pantsbuild-pants"]
    assert pants.specifier.contains("2.17.1")
    assert not pants.specifier.contains("2.18.0") and not pants.specifier.contains("2.16.0")
