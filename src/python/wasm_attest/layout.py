"""The in-toto layout, derived from the step graph of a build.

The layout is the owner's signed statement of how a component must be made:
which steps, who may perform each, and how artifacts flow between them. It is
generated from the same step plans the build runs, never written by hand, so
the two cannot drift apart.

Each step's material rules chain its inputs to what an earlier step recorded
(`MATCH <pattern> WITH PRODUCTS|MATERIALS FROM <step>`), allow the declared
source inputs that no earlier step recorded, and end in `DISALLOW *`; its
product rules allow what it creates, modifies or passes through unchanged from
an earlier step, and end in `DISALLOW *` too.

The reference verifier `in-toto-verify` only sees files on disk through
inspections (an inspection's materials are the files in its working directory,
hashed). So the layout carries one inspection whose command is the no-op
`true` and whose material rules require the final products to be on disk and
MATCH them to the last step's products; our own verification never runs it
and compares the files itself.

For pre-signed layouts the owner reviews the layout before signing it, so it
also has an unsigned form (`unsigned_layout_json`): the in-toto layout
payload as pretty, key-sorted JSON that diffs well, which
`load_unsigned_layout` reads back strictly before anything signs it.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal, Mapping, Sequence

from in_toto.exceptions import InvalidMetadata
from in_toto.models.layout import Inspection, Layout, Step
from in_toto.models.metadata import Envelope, Metadata
from securesystemslib.exceptions import FormatError
from securesystemslib.signer import Signature, Signer

from wasm_attest.errors import WasmAttestError
from wasm_attest.keys import KeyLoadError, PublicKeyLike, as_sslib_key, key_dict, legacy_keyid, public_key_pem

LAYOUT_FILE_NAME = "root.layout"
FINAL_PRODUCTS_INSPECTION = "final-products-on-disk"
NO_OP_COMMAND = ("true",)
# Files of the attestation bundle itself that sit next to the final products on
# disk, so the inspection must let them through. (in-toto excludes `*.link*`
# from recorded artifacts already; it is listed for clarity.) Our verification
# goes further and accounts for each of them (verification._unaccounted_files). The OCI image
# layout (`oci/`) is listed twice: Python's fnmatch lets `*` cross `/`, Go's path.Match (used by
# in-toto-golang) does not, so its blob folder is named too.
ATTESTATION_FILE_PATTERNS = (
    LAYOUT_FILE_NAME, "*.link", "*.pub", "*.intoto.jsonl", "*.sigstore.json", "*.vulns.dsse.json", "oci/*", "oci/blobs/sha256/*",
)


class LayoutError(WasmAttestError):
    """The step graph cannot be turned into a layout."""


@dataclass(frozen=True)
class ArtifactMatch:
    """Artifacts that must equal what an earlier step recorded.

    Becomes `MATCH <pattern> [IN <prefix>] WITH <recorded> [IN <from_prefix>] FROM <from_step>`:
    `prefix` is the folder of the artifacts in this step, `from_prefix` their
    folder in the earlier step (e.g. the `.wasm` under `target/...` in build and
    at the top of `dist/` in package).
    """

    pattern: str
    from_step: str
    recorded: Literal["products", "materials"] = "products"
    prefix: str | None = None
    from_prefix: str | None = None

    def rule(self) -> list[str]:
        rule = ["MATCH", self.pattern]
        if self.prefix:
            rule += ["IN", self.prefix]
        rule += ["WITH", self.recorded.upper()]
        if self.from_prefix:
            rule += ["IN", self.from_prefix]
        return rule + ["FROM", self.from_step]


@dataclass(frozen=True)
class StepPlan:
    """One step of the build as the layout must describe it.

    `consumes`: materials chained to earlier steps; `source_inputs`: patterns of
    materials that come from the repository or toolchain rather than from an
    earlier step (the first step has only these); `creates` / `modifies`:
    patterns of new and changed products; `passes_through`: products that must
    equal an earlier step's artifacts (e.g. package copying the `.wasm`).
    """

    name: str
    expected_command: tuple[str, ...]
    functionary_keys: tuple[PublicKeyLike, ...]
    threshold: int = 1
    consumes: tuple[ArtifactMatch, ...] = ()
    source_inputs: tuple[str, ...] = ()
    creates: tuple[str, ...] = ()
    modifies: tuple[str, ...] = ()
    passes_through: tuple[ArtifactMatch, ...] = ()

    def material_rules(self) -> list[list[str]]:
        rules = [match.rule() for match in self.consumes]
        rules += [["ALLOW", pattern] for pattern in self.source_inputs]
        return rules + [["DISALLOW", "*"]]

    def product_rules(self) -> list[list[str]]:
        rules = [match.rule() for match in self.passes_through]
        rules += [["CREATE", pattern] for pattern in self.creates]
        rules += [["MODIFY", pattern] for pattern in self.modifies]
        return rules + [["DISALLOW", "*"]]


def derive_layout(
    steps: Sequence[StepPlan],
    *,
    final_products: Sequence[str],
    expires: datetime,
    readme: str = "",
    inspect_final_products: bool = True,
) -> Layout:
    """Derives the layout from the step plans, in build order.

    `final_products` are the paths (relative to the output folder) of the files
    the last step delivers; they drive the single no-op inspection (see the
    module docstring), which `inspect_final_products=False` leaves out.
    `expires` must be timezone-aware; it is stored to the second, in UTC.
    """
    _check_graph(steps)
    keys: dict[str, dict] = {}
    in_toto_steps = []
    for plan in steps:
        keyids = []
        for key in plan.functionary_keys:
            data = key_dict(key)
            keys[data["keyid"]] = data
            if data["keyid"] not in keyids:
                keyids.append(data["keyid"])
        if not 1 <= plan.threshold <= len(keyids):
            raise LayoutError(
                f"Step '{plan.name}' has threshold {plan.threshold} but {len(keyids)} distinct functionary key(s); "
                "the threshold must be between 1 and the number of keys."
            )
        in_toto_steps.append(
            Step(
                name=plan.name,
                expected_command=list(plan.expected_command),
                pubkeys=keyids,
                threshold=plan.threshold,
                expected_materials=plan.material_rules(),
                expected_products=plan.product_rules(),
            )
        )
    inspections = []
    if inspect_final_products:
        inspections.append(final_products_inspection(steps[-1].name, final_products))
    return Layout(
        steps=in_toto_steps,
        inspect=inspections,
        keys=dict(sorted(keys.items())),
        expires=_expiry(expires),
        readme=readme,
    )


def final_products_inspection(last_step: str, final_products: Sequence[str]) -> Inspection:
    """The no-op inspection through which `in-toto-verify` compares the files on disk with the last link.

    Its materials are the files of the folder it runs in: each final product is
    REQUIRED (so a deleted file fails) and MATCHed to the last step's products
    (so a changed file is left over), the attestation files are allowed, and
    `DISALLOW *` rejects anything else.
    """
    if not final_products:
        raise LayoutError("The layout needs the final products to inspect; pass the paths the last step delivers.")
    rules = [["REQUIRE", path] for path in final_products]
    rules += [["MATCH", path, "WITH", "PRODUCTS", "FROM", last_step] for path in final_products]
    rules += [["ALLOW", pattern] for pattern in ATTESTATION_FILE_PATTERNS]
    rules.append(["DISALLOW", "*"])
    return Inspection(
        name=FINAL_PRODUCTS_INSPECTION,
        run=list(NO_OP_COMMAND),
        expected_materials=rules,
        expected_products=[["ALLOW", "*"]],
    )


def sign_layout(layout: Layout, owner: Signer) -> bytes:
    """Signs the layout with the owner's signer as a DSSE envelope (what `root.layout` holds).

    The one signature is listed twice: under securesystemslib's keyid, which
    in-toto-verify (Python) derives from the owner's PEM, and under the legacy
    keyid (`keys.legacy_keyid`), which in-toto-golang derives from the same
    PEM. A DSSE signature covers the payload, not the keyid, so both entries
    verify with the owner key; a verifier looks up the entry under the keyid it
    computed and ignores the other. This adds no second signer: each trusted
    owner key must still verify under its own keyid (verifylib checks every
    trusted key, not a count). Links keep one signature: verifiers look their
    keys up by the keyids the layout lists, so they need no second entry.
    """
    envelope = Envelope.from_signable(layout)
    signature = envelope.create_signature(owner)
    legacy = legacy_keyid(owner.public_key)
    if legacy != signature.keyid:
        envelope.signatures[legacy] = Signature(legacy, signature.signature)
    return json.dumps(envelope.to_dict(), sort_keys=True).encode("utf-8")


def unsigned_layout_json(layout: Layout) -> bytes:
    """The layout as the owner reviews it: the in-toto payload with sorted keys, indented by 2, ending in a newline.

    One field per line, in a stable order, so a change of policy shows as a
    small diff in review; `load_unsigned_layout` reads it back.
    """
    return (json.dumps(_payload_dict(layout), sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def load_unsigned_layout(data: bytes, *, origin: str = "the layout") -> Layout:
    """Reads `unsigned_layout_json`'s format back, strictly; `origin` names the file in error messages.

    in-toto's reader silently drops fields it does not know, so a misspelt rule
    list (`expected_product`) would be signed as no rules at all. What is
    signed must be what was reviewed: the file must read back to exactly the
    JSON it holds, and every key must be one wasm-attest can verify.
    """
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        raise LayoutError(f"{origin} is not JSON (truncated or damaged?); regenerate it with `pants generate-layout`.") from None
    if isinstance(document, dict) and ("payload" in document or "signed" in document):
        raise LayoutError(f"{origin} is a signed layout already; give the unsigned layout JSON `pants generate-layout` writes.")
    if not isinstance(document, dict) or document.get("_type") != "layout":
        raise LayoutError(f"{origin} is not an in-toto layout: its JSON object must have \"_type\": \"layout\".")
    missing = sorted(_LAYOUT_FIELDS - set(document))
    if missing:
        raise LayoutError(f"{origin} is not a complete in-toto layout: it has no {', '.join(missing)}.")
    try:
        layout = Layout.read(copy.deepcopy(document))
        difference = _first_difference(document, _payload_dict(layout))
    except (FormatError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        raise LayoutError(f"{origin} is not a valid in-toto layout: {error}") from None
    if difference:
        raise LayoutError(f"{origin} does not read back as written: {difference}. Fix the field, or regenerate the file.")
    for keyid, key in layout.keys.items():
        try:
            checked = as_sslib_key(key)
        except KeyLoadError as error:
            raise LayoutError(f"{origin}: {error}") from None
        if checked.keyid != keyid:
            raise LayoutError(f"{origin} lists key {keyid} under that id, but the key says its id is {checked.keyid}.")
    return layout


_LAYOUT_FIELDS = frozenset({"_type", "expires", "inspect", "keys", "readme", "steps"})


def _payload_dict(layout: Layout) -> dict:
    """The layout as the JSON value that gets signed."""
    return json.loads(layout.signable_bytes)


def _first_difference(given: object, expected: object, where: str = "") -> str | None:
    """Where `given` (the file's JSON) and `expected` (what in-toto made of it) differ first, in words; None if equal."""
    if isinstance(given, dict) and isinstance(expected, dict):
        for key in sorted(set(given) | set(expected)):
            place = f"{where}.{key}" if where else key
            if key not in expected:
                return f"{place} is not a field of an in-toto layout"
            if key not in given:
                return f"{place} is missing"
            found = _first_difference(given[key], expected[key], place)
            if found:
                return found
        return None
    if isinstance(given, list) and isinstance(expected, list) and len(given) == len(expected):
        for index, (item, normalised) in enumerate(zip(given, expected)):
            found = _first_difference(item, normalised, f"{where}[{index}]")
            if found:
                return found
        return None
    if given == expected and type(given) is type(expected):
        return None
    return f"{where} reads as {json.dumps(expected)}, not {json.dumps(given)}"


def layout_files(layout: Layout, owner: Signer) -> dict[str, bytes]:
    """The files to publish: `root.layout` and one `<keyid>.pub` PEM per functionary key it names.

    The public keys are there for people to read and for `in-toto-verify`'s
    convenience; verification trusts only the owner key it is given, and takes
    functionary keys from the signed layout, never from these files.
    """
    return {LAYOUT_FILE_NAME: sign_layout(layout, owner), **_functionary_key_files(layout)}


def presigned_layout_files(signed: bytes, *, origin: str) -> dict[str, bytes]:
    """`layout_files` for a layout the owner signed offline: `signed` as `root.layout`, byte for byte, and its keys' PEMs.

    The signature is not checked here (only the trusted owner keys can do
    that, and verification does); the payload is read just far enough to name
    the functionary keys, so a file that is not a signed layout fails now, with
    a message that says how to make one. `origin` names the file.
    """
    try:
        document = json.loads(signed)
    except (ValueError, RecursionError):
        raise LayoutError(f"{origin} is not JSON (truncated or damaged?); sign the reviewed layout again with `wasm-attest sign-layout`.") from None
    if isinstance(document, dict) and document.get("_type") == "layout":
        raise LayoutError(
            f"{origin} is an unsigned layout; have the owner sign it with "
            f"`wasm-attest sign-layout {origin} --key owner.pem --output <name>.root.layout` and name that file."
        )
    try:
        layout = Metadata.from_dict(document).get_payload()
        if not isinstance(layout, Layout):
            raise TypeError("not a layout")
        key_files = _functionary_key_files(layout)
    except (InvalidMetadata, FormatError, KeyLoadError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise LayoutError(
            f"{origin} is not a signed in-toto layout; it must be what `wasm-attest sign-layout` writes."
        ) from None
    return {LAYOUT_FILE_NAME: signed, **key_files}


def _functionary_key_files(layout: Layout) -> dict[str, bytes]:
    return {f"{keyid}.pub": public_key_pem(as_sslib_key(data)) for keyid, data in sorted(layout.keys.items())}


def write_layout(folder: Path, layout: Layout, owner: Signer) -> Path:
    """Writes `layout_files` into `folder` and returns the path of `root.layout`."""
    folder = Path(folder)
    for name, content in layout_files(layout, owner).items():
        (folder / name).write_bytes(content)
    return folder / LAYOUT_FILE_NAME


def _expiry(expires: datetime) -> str:
    if expires.tzinfo is None or expires.utcoffset() is None:
        raise LayoutError("The layout expiry must be a timezone-aware datetime (e.g. datetime.now(timezone.utc) + 365 days).")
    return expires.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_graph(steps: Sequence[StepPlan]) -> None:
    if not steps:
        raise LayoutError("A layout needs at least one step.")
    seen: set[str] = set()
    for plan in steps:
        if plan.name in seen or plan.name == FINAL_PRODUCTS_INSPECTION:
            raise LayoutError(f"Step name '{plan.name}' is used twice; every step needs its own name.")
        if not plan.functionary_keys:
            raise LayoutError(f"Step '{plan.name}' has no functionary key; name the key(s) allowed to sign its link.")
        for match in plan.consumes + plan.passes_through:
            if match.from_step not in seen:
                raise LayoutError(
                    f"Step '{plan.name}' takes '{match.pattern}' from step '{match.from_step}', which does not run "
                    "before it; artifacts can only flow from earlier steps."
                )
        seen.add(plan.name)
    first = steps[0]
    if first.consumes or first.passes_through:
        raise LayoutError(f"The first step '{first.name}' cannot take artifacts from an earlier step.")


def rules_by_step(layout: Layout) -> Mapping[str, Mapping[str, list[str]]]:
    """`{step or inspection: {"materials": [rule, ...], "products": [...]}}` with rules as strings, for reports and docs."""
    return {
        item.name: {
            "materials": [" ".join(rule) for rule in item.expected_materials],
            "products": [" ".join(rule) for rule in item.expected_products],
        }
        for item in list(layout.steps) + list(layout.inspect)
    }
