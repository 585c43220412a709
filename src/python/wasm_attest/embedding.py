"""Making a component describe itself: its dependency list and metadata, inside the `.wasm`.

The SBOM travels next to a component and gets separated from it; what is in
the component's own bytes goes wherever it goes. So the `embed` step writes
cargo-auditable's `.dep-v0` (which scanners read) and the standard metadata
sections (which `wasm-tools metadata show` and registries read) into the
component's top level. Only custom sections change: the code, and so what the
component does, is untouched, and embedding the same records again gives the
same bytes.
"""

from __future__ import annotations

from wasm_attest.component_metadata import ComponentMetadata, metadata_sections, with_name
from wasm_attest.dep_v0 import SECTION_NAME, DepV0Error, DependencyList, decode_dep_v0, encode_dep_v0
from wasm_attest.wasm_sections import custom_sections, with_custom_sections


def embed_attestable_sections(component: bytes, deps: DependencyList, metadata: ComponentMetadata) -> bytes:
    """`component` with `deps` as its top-level `.dep-v0` and `metadata` in its name and metadata sections.

    Sections of these names already at the top level are replaced; those of
    nested core modules (where cargo auditable puts its `.dep-v0`) are kept.
    The `.dep-v0` goes first, right after the header: auditable-extract (what
    `cargo audit bin` uses) stops at the first end of a module, so a section
    after the nested core module is missed by a reader that descends into
    modules, and one inside it by a reader that does not; only the start of
    the top level is found by both.
    """
    described = with_custom_sections(with_name(component, metadata), metadata_sections(metadata))
    return with_custom_sections(described, ((SECTION_NAME, encode_dep_v0(deps)),), first=True)


def embedded_dependencies(component: bytes) -> DependencyList | None:
    """The dependency list in the component's top-level `.dep-v0` section; None when it has none."""
    sections = custom_sections(component, name=SECTION_NAME, nested=False)
    if not sections:
        return None
    if len(sections) > 1:
        raise DepV0Error(
            f"the component has {len(sections)} top-level .dep-v0 sections, so which one describes it is ambiguous; "
            "rebuild it (wasm-attest writes exactly one)."
        )
    return decode_dep_v0(sections[0].payload)
