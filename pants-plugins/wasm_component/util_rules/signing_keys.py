"""Reads the keys `[wasm-attest]` names, in-process, at the moment of signing (or verifying).

Keys are never turned into digests or Process inputs: they are read here,
used to sign, and dropped, so they cannot reach Pants' store, cache or
`dist/`. With no keys configured, development keys are generated (once, in a
user-level folder) and the build says so.

Because key files are read outside the engine, Pants cannot see them change.
`SigningIdentity` is therefore computed by an uncacheable rule, afresh on every
run: it loads the keys (so a bad key fails before a long build starts) and
keeps only their public key ids, which rules that sign take as an input. A new
key, or a re-keyed step, changes the identity and so re-signs; an unchanged one
lets Pants reuse what it signed before.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

from pants.base.build_root import BuildRoot
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.rules import Get, _uncacheable_rule, collect_rules
from securesystemslib.signer import SSlibKey

from wasm_attest.component_pipeline import STEPS, Signers
from wasm_attest.errors import WasmAttestError
from wasm_attest.keys import (
    DevelopmentKeys,
    KeyLoadError,
    SigningKey,
    default_development_keys_folder,
    development_keys,
    load_public_key,
    load_signing_key,
)
from wasm_component.subsystems.attestation import AttestationSubsystem


class SigningConfigurationError(WasmAttestError):
    """`[wasm-attest]` names keys in a way that cannot sign a build."""


@dataclass(frozen=True)
class LoadedSigners:
    signers: Signers
    notice: str | None
    """What every package run must print about these keys (development keys), if anything."""


@dataclass(frozen=True)
class LoadedFunctionaries:
    keys: Mapping[str, SigningKey]
    """The private key of each step's functionary, by step name."""
    notice: str | None


@dataclass(frozen=True)
class SigningIdentityRequest:
    release_mode: bool
    """True when the owner signed the layout offline: then only functionary keys and trusted owner keys are read."""


@dataclass(frozen=True)
class SigningIdentity:
    """Which keys sign (and which owner keys are trusted) on this run, by public key id only."""

    keyids: tuple[tuple[str, str], ...]
    """(role, keyid) pairs: `owner`, `trusted-owner`, and each step's name."""


@_uncacheable_rule(desc="Check the signing keys")
async def signing_identity(request: SigningIdentityRequest, options: AttestationSubsystem) -> SigningIdentity:
    options.layout_expiry_days  # checked here, before any build, as the keys are
    env = await Get(EnvironmentVars, EnvironmentVarsRequest(password_variables(options)))
    if request.release_mode:
        functionaries = load_functionaries(options, env).keys
        roles = [("trusted-owner", key.keyid) for key in trusted_owner_keys(options)]
    else:
        signers = load_signers(options, env).signers
        functionaries = signers.functionaries
        roles = [("owner", signers.owner.public_key.keyid)]
    roles += [(step, functionaries[step].public_key.keyid) for step in STEPS]
    return SigningIdentity(tuple(roles))


def password_variables(options: AttestationSubsystem) -> tuple[str, ...]:
    """The environment variables (names from configuration) that may hold key passwords."""
    return tuple(name for name in (options.owner_key_password_env, options.functionary_key_password_env) if name)


def load_signers(options: AttestationSubsystem, env: EnvironmentVars) -> LoadedSigners:
    """The owner and per-step functionary keys from configuration, or development keys."""
    if not options.owner_key:
        if options.functionary_keys or options.default_functionary_key:
            raise SigningConfigurationError(
                "[wasm-attest] names functionary keys but no `owner_key`: set the layout owner's key too, "
                "or give the target an owner-signed layout (`signed_layout`), which needs no owner key."
            )
        keys = _development_keys(options, env)
        return LoadedSigners(Signers(keys.owner, {step: keys.functionary for step in STEPS}), keys.warning)
    return LoadedSigners(Signers(_load_owner(options, env), load_functionaries(options, env).keys), None)


def owner_public_key(options: AttestationSubsystem, env: EnvironmentVars) -> SSlibKey:
    """The public half of the configured (or development) owner key, reading no functionary key.

    A verify-only job may hold the owner key without any functionary key.
    """
    if options.owner_key:
        return _load_owner(options, env).public_key
    return _development_keys(options, env).owner.public_key


def load_functionaries(options: AttestationSubsystem, env: EnvironmentVars) -> LoadedFunctionaries:
    """The per-step functionary keys alone: all a builder holds when the owner signed the layout offline.

    With no keys configured at all, the development functionary key.
    """
    if not (options.owner_key or options.functionary_keys or options.default_functionary_key):
        keys = _development_keys(options, env)
        return LoadedFunctionaries({step: keys.functionary for step in STEPS}, keys.warning)
    unknown = sorted(set(options.functionary_keys) - set(STEPS))
    if unknown:
        raise SigningConfigurationError(
            f"[wasm-attest].functionary_keys names unknown steps {unknown}; the steps are {list(STEPS)}."
        )
    functionaries = {}
    for step in STEPS:
        path = options.functionary_keys.get(step) or options.default_functionary_key
        if not path:
            raise SigningConfigurationError(
                f"[wasm-attest] has no key for step '{step}': add it to `functionary_keys` or set "
                "`default_functionary_key`."
            )
        option = f"functionary_keys[{step!r}]" if step in options.functionary_keys else "default_functionary_key"
        with _naming(option):
            functionaries[step] = load_signing_key(
                key_path(path), password_env_var=options.functionary_key_password_env, environ=env
            )
    return LoadedFunctionaries(functionaries, None)


def trusted_owner_keys(options: AttestationSubsystem) -> tuple[SSlibKey, ...]:
    """The public keys of `[wasm-attest].trusted_owner_keys`: the only trust root for an owner-signed layout."""
    with _naming("trusted_owner_keys"):
        return tuple(load_public_key(key_path(path)) for path in options.trusted_owner_keys)


def _load_owner(options: AttestationSubsystem, env: EnvironmentVars) -> SigningKey:
    with _naming("owner_key"):
        return load_signing_key(key_path(options.owner_key), password_env_var=options.owner_key_password_env, environ=env)


def _development_keys(options: AttestationSubsystem, env: EnvironmentVars) -> DevelopmentKeys:
    folder = Path(os.path.expanduser(options.development_keys_dir)) if options.development_keys_dir else None
    with _naming("development_keys_dir" if folder else "development_keys_dir (its default)"):
        return development_keys(folder or default_development_keys_folder(env))


@contextmanager
def _naming(option: str) -> Iterator[None]:
    """Prefixes a key error with the `[wasm-attest]` option that named the file, so the user knows what to change.

    Key errors carry only paths and names (see `wasm_attest.keys`), so the
    message can be repeated; the original is not chained.
    """
    try:
        yield
    except KeyLoadError as error:
        raise SigningConfigurationError(f"[wasm-attest].{option}: {error}") from None


def key_path(configured: str) -> Path:
    """Key paths in pants.toml are relative to the build root, or absolute (`~` allowed)."""
    path = Path(os.path.expanduser(configured))
    return path if path.is_absolute() else Path(BuildRoot().path, path)


def rules():
    return collect_rules()
