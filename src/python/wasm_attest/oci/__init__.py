"""The component and its attestations as an OCI artifact: image layout, referrers, registry I/O.

Runtimes pull Wasm components from OCI registries and admission controllers
look for the SBOM and provenance there, as referrers of the artifact's
manifest digest. This package turns a verified bundle into that shape
(`artifact`, `referrers`, `image_layout`), checks such a layout against the
bundle it came from (`layout_check`, called by `wasm_attest.verification`),
and moves layouts to and from registries (`registry`, `reference`).
"""
