"""A component's capabilities: the WIT interfaces it imports and exports, and the owner's policy over them.

A component can do nothing its host does not hand it through an import, so
its imports are its capabilities: a new `wasi:sockets/*` or
`wasi:http/outgoing-handler` import means new network access, which is what a
compromised dependency would add. The interface is read from the component's
own bytes (`interface`), recorded in the SBOM and provenance, and checked
against a policy of allowed imports and required exports (`policy`) when the
component is packaged and, from the owner-signed layout, whenever its bundle is
verified.
"""
