"""The rule tests' fixture: a RuleRunner with the wasm_component rules, set up for the real toolchain and crates."""

from __future__ import annotations

import pytest
from pants.core.goals.package import BuiltPackage
from pants.core.util_rules import archive, distdir, external_tool, source_files, system_binaries
from pants.engine.fs import Digest, DigestContents
from pants.engine.rules import QueryRule
from pants.testutil.rule_runner import RuleRunner
from wasm_component_rules.rule_runner_support import configure

from wasm_component import register
from wasm_component.goals.package import WasmComponentFieldSet


@pytest.fixture
def rule_runner() -> RuleRunner:
    runner = RuleRunner(
        rules=[
            *register.rules(),
            *archive.rules(),
            *distdir.rules(),
            *external_tool.rules(),
            *source_files.rules(),
            *system_binaries.rules(),
            QueryRule(BuiltPackage, [WasmComponentFieldSet]),
            QueryRule(DigestContents, [Digest]),
        ],
        target_types=register.target_types(),
    )
    configure(runner)
    return runner
