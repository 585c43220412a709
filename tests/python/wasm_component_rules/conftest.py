"""The rule tests' fixture: a RuleRunner with the wasm_component rules, set up for the real toolchain and crates."""

from __future__ import annotations

import pytest
from pants.core.goals.package import BuiltPackage
from pants.engine.fs import Digest, DigestContents
from pants.engine.rules import QueryRule
from pants.testutil.rule_runner import RuleRunner
from wasm_component_rules.rule_runner_support import configure, new_rule_runner

from wasm_component.goals.package import WasmComponentFieldSet


@pytest.fixture
def rule_runner() -> RuleRunner:
    runner = new_rule_runner(QueryRule(BuiltPackage, [WasmComponentFieldSet]), QueryRule(DigestContents, [Digest]))
    configure(runner)
    return runner
