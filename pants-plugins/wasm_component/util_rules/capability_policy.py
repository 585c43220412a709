"""The capability policy of a `wasm_component`: its own fields, else the repository-wide default in pants.toml.

Enforcement and the policy's formats are the core library's
(`wasm_attest.capabilities`); this module only says where each list came from,
so that a violation names the place to change it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pants.engine.addresses import Address
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import WrappedTarget, WrappedTargetRequest

from wasm_attest.capabilities.interface import ComponentInterface
from wasm_attest.capabilities.policy import CapabilityPolicy, CapabilityPolicyFormatError, check_patterns
from wasm_component.subsystems.attestation import AttestationSubsystem
from wasm_component.target_types import WasmComponentAllowedImportsField, WasmComponentRequiredExportsField
from wasm_component.util_rules.cargo_project import WasmComponentTargetError


class CapabilityPolicyViolation(WasmComponentTargetError):
    """A component imports or exports what its capability policy does not allow."""


@dataclass(frozen=True)
class CapabilityPolicyRequest:
    address: Address


@dataclass(frozen=True)
class TargetCapabilityPolicy:
    address: Address
    policy: CapabilityPolicy
    allowed_imports_from: str
    """Where the allowed imports are set, as a user would look for it."""
    required_exports_from: str

    def enforce(self, interface: ComponentInterface) -> None:
        """Fails, naming each unexpected import and missing export, the policy and where to change it."""
        violations = self.policy.violations(interface)
        if not violations:
            return
        raise CapabilityPolicyViolation(
            f"{self.address}: the component breaks its capability policy:\n"
            + "\n".join(violations.lines())
            + f"\nThe policy: {self.policy.describe()}.\n"
            f"If the new capability is intended, change the allowed imports in {self.allowed_imports_from} "
            f"(required exports: {self.required_exports_from}); otherwise find the dependency that brought it in "
            "(`wasm-attest inspect` lists the component's imports)."
        )


@rule(desc="Read a wasm_component's capability policy")
async def capability_policy(request: CapabilityPolicyRequest, options: AttestationSubsystem) -> TargetCapabilityPolicy:
    wrapped = await Get(WrappedTarget, WrappedTargetRequest(request.address, description_of_origin="a capability policy"))
    target, address = wrapped.target, request.address
    build_file = f"{address.spec_path or '.'}/BUILD"
    allowed = target[WasmComponentAllowedImportsField].value
    required = target[WasmComponentRequiredExportsField].value
    allowed_from = (
        f"`allowed_imports` of {address} ({build_file})"
        if allowed is not None
        else "[wasm-attest].default_allowed_imports (pants.toml), or `allowed_imports` on the target"
    )
    required_from = (
        f"`required_exports` of {address} ({build_file})"
        if required is not None
        else "[wasm-attest].default_required_exports (pants.toml), or `required_exports` on the target"
    )
    try:
        policy = CapabilityPolicy(
            allowed_imports=check_patterns(allowed if allowed is not None else options.default_allowed_imports, allowed_from),
            required_exports=check_patterns(required if required is not None else options.default_required_exports, required_from),
        )
    except CapabilityPolicyFormatError as error:
        raise WasmComponentTargetError(str(error)) from None
    return TargetCapabilityPolicy(address, policy, allowed_from, required_from)


def rules():
    return collect_rules()
