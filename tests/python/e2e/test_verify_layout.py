"""End to end: `pants verify-layout` re-verifies packaged output, in place or from a downloaded copy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from e2e.repository import pants

ADDRESSES = (
    "testprojects/hello:hello",
    "testprojects/serde-json:serde-json",
    "testprojects/workspace/app-one:app-one",
    "testprojects/workspace/app-two:app-two",
    "testprojects/exclusions:exclusions",
    "testprojects/many-deps:many-deps",
)


def test_packaged_output_verifies(dist: Path) -> None:
    result = pants(dist.parent, "verify-layout", "testprojects::")
    assert result.returncode == 0, result.stdout + result.stderr
    for address in ADDRESSES:
        assert f"{address}: verified" in result.stdout


def test_a_modified_sbom_in_a_downloaded_bundle_fails_naming_step_artifact_and_check(
    dist: Path, tmp_path: Path
) -> None:
    bundle = shutil.copytree(dist, tmp_path / "from-ci")
    with open(bundle / "testprojects.hello" / "hello" / "hello.cdx.json", "a") as sbom:
        sbom.write(" ")
    result = pants(
        dist.parent,
        "verify-layout",
        "--verify-layout-format=json",
        f"--verify-layout-from-dir={bundle}",
        "testprojects/hello:hello",
        "testprojects/serde-json:serde-json",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["verified"] is False
    hello, serde_json = report["targets"]
    assert hello["error"]["step"] == "package"
    assert hello["error"]["artifact"] == "hello.cdx.json"
    assert "final product" in hello["error"]["check"]
    assert serde_json["verified"] is True


def test_a_missing_bundle_is_reported(dist: Path, tmp_path: Path) -> None:
    result = pants(dist.parent, "verify-layout", f"--verify-layout-from-dir={tmp_path}", "testprojects/hello:hello")
    assert result.returncode == 1
    assert "does not exist: run `pants package testprojects/hello:hello` first" in result.stdout


def test_an_unknown_target_is_a_clear_error_without_traceback(dist: Path) -> None:
    result = pants(dist.parent, "verify-layout", "testprojects/nosuch:target")
    assert result.returncode != 0
    assert "testprojects/nosuch" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
