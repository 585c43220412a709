"""Reading and writing the section structure of WebAssembly modules and components.

A `.wasm` found on a device is untrusted input, and the records wasm-attest
embeds (`.dep-v0`, the metadata sections) live in its custom sections. This
reader walks only the structure: the 8-byte header, then sections of one id
byte, a u32 LEB128 length and that many bytes; components nest core modules
(section 1) and components (section 4) as whole binaries. It does not check
that the code is valid (`wasm-tools validate` does that), but it bounds every
read: a LEB128 number takes at most 5 bytes, every length is checked against
the bytes that remain before anything is sliced, and nesting is cut off at
`MAX_NESTING_DEPTH`, so a damaged or hostile file is refused with the byte
offset of the problem and never makes it hang or allocate more than its own size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from wasm_attest.errors import WasmAttestError
from wasm_attest.wasm_binary import COMPONENT_HEADER, CORE_MODULE_HEADER

CUSTOM_SECTION_ID = 0
CORE_MODULE_SECTION_ID = 1
"""In a component: a nested core module, as a whole module binary."""
COMPONENT_SECTION_ID = 4
"""In a component: a nested component, as a whole component binary."""
COMPONENT_IMPORT_SECTION_ID = 10
COMPONENT_EXPORT_SECTION_ID = 11
NAME_SECTIONS = {"component": "component-name", "module": "name"}
"""The custom section that names a binary and its parts (subsection 0 holds the binary's own name)."""
MAX_NESTING_DEPTH = 16
"""How deep components may nest before the file is refused; toolchains nest one or two levels."""

_HEADER_SIZE = len(COMPONENT_HEADER)
_MAX_U32_BYTES = 5


class WasmFormatError(WasmAttestError):
    """The bytes are not a well-formed WebAssembly binary; `offset` is where reading failed."""

    def __init__(self, problem: str, offset: int) -> None:
        super().__init__(
            f"not a well-formed WebAssembly file: {problem} at byte offset {offset}; "
            "the file is damaged or is not a module or component (check it with `wasm-tools validate`)."
        )
        self.offset = offset


@dataclass(frozen=True)
class CustomSection:
    """A custom section: a name and bytes that runtimes ignore and tools read."""

    name: str
    payload: bytes
    depth: int
    """0 for the binary's own sections, 1 inside a nested core module or component, and so on."""


@dataclass(frozen=True)
class ComponentExterns:
    """The names a component imports and exports at its top level, in file order."""

    imports: tuple[str, ...]
    exports: tuple[str, ...]


@dataclass(frozen=True)
class _Section:
    id: int
    start: int
    """Where the section's id byte is."""
    payload_start: int
    end: int
    """Just past the section's last byte."""


class _Reader:
    """Reads forwards through `data[position:end]`, never past `end`."""

    def __init__(self, data: bytes, position: int, end: int) -> None:
        self.data = data
        self.position = position
        self.end = end

    @property
    def at_end(self) -> bool:
        return self.position >= self.end

    def byte(self, what: str) -> int:
        if self.position >= self.end:
            raise WasmFormatError(f"{what} is cut short", self.position)
        value = self.data[self.position]
        self.position += 1
        return value

    def u32(self, what: str) -> int:
        """An unsigned LEB128 number of at most 32 bits, in at most 5 bytes."""
        start = self.position
        value = 0
        for index in range(_MAX_U32_BYTES):
            byte = self.byte(what)
            value |= (byte & 0x7F) << (7 * index)
            if not byte & 0x80:
                if value > 0xFFFFFFFF:
                    raise WasmFormatError(f"{what} does not fit in 32 bits", start)
                return value
        raise WasmFormatError(f"{what} is a LEB128 number longer than {_MAX_U32_BYTES} bytes", start)

    def skip_s33(self, what: str) -> None:
        """Skips a signed LEB128 number of at most 33 bits (5 bytes), as value types are written."""
        start = self.position
        for _ in range(_MAX_U32_BYTES):
            if not self.byte(what) & 0x80:
                return
        raise WasmFormatError(f"{what} is a LEB128 number longer than {_MAX_U32_BYTES} bytes", start)

    def take(self, size: int, what: str) -> int:
        """Skips `size` bytes and returns where they start, after checking that they exist."""
        start = self.position
        if size > self.end - start:
            raise WasmFormatError(f"{what} claims {size} bytes but only {self.end - start} remain", start)
        self.position += size
        return start

    def name(self, what: str) -> str:
        """A length-prefixed UTF-8 name."""
        size = self.u32(f"the length of {what}")
        start = self.take(size, what)
        try:
            return self.data[start : start + size].decode("utf-8")
        except UnicodeDecodeError:
            raise WasmFormatError(f"{what} is not UTF-8", start) from None


def binary_kind(data: bytes) -> str:
    """'component' or 'module', from the header; anything else is a WasmFormatError."""
    return _kind(data, 0, len(data))


def custom_sections(data: bytes, *, name: str | None = None, nested: bool = True) -> tuple[CustomSection, ...]:
    """The custom sections of a module or component, in file order; only those called `name` if given.

    With `nested`, the sections of the core modules and components nested in a
    component follow their parent's earlier sections, at their depth.
    """
    return tuple(
        section for section in _custom_sections(data, 0, len(data), 0, nested) if name is None or section.name == name
    )


def with_custom_sections(data: bytes, sections: Sequence[tuple[str, bytes]], *, first: bool = False) -> bytes:
    """`data` with the given custom sections at its top level, in the order given: appended, or
    right after the header with `first`.

    Any top-level custom section already called one of those names is removed
    first, so adding the same sections again gives the same bytes.
    """
    names = [name for name, _ in sections]
    if len(set(names)) != len(names):
        raise ValueError(f"custom section names must be unique, got {names}")
    end = len(data)
    _kind(data, 0, end)
    kept = [
        data[section.start : section.end]
        for section in _sections(data, _HEADER_SIZE, end)
        if not (section.id == CUSTOM_SECTION_ID and _custom_name(data, section) in names)
    ]
    added = [_custom_section_bytes(name, payload) for name, payload in sections]
    return b"".join([data[:_HEADER_SIZE], *added, *kept] if first else [data[:_HEADER_SIZE], *kept, *added])


def binary_name(data: bytes) -> str | None:
    """The module's or component's own name, from subsection 0 of its top-level names section; None when unnamed."""
    section = _names_section(data)
    if section is None:
        return None
    for subsection in _name_subsections(data, section):
        if subsection.id == 0:
            reader = _Reader(data, subsection.payload_start, subsection.end)
            name = reader.name("the binary's name")
            if not reader.at_end:
                raise WasmFormatError("the binary's name has bytes after it", reader.position)
            return name
    return None


def with_binary_name(data: bytes, name: str) -> bytes:
    """`data` named `name`, keeping the names section's other subsections (the debug names of its parts).

    The names section moves to the end of the binary, which is a valid place
    for it in a module (after the data section) and in a component.
    """
    section = _names_section(data)
    others = [] if section is None else [
        data[subsection.start : subsection.end] for subsection in _name_subsections(data, section) if subsection.id != 0
    ]
    encoded = name.encode("utf-8")
    own_name = _u32_bytes(len(encoded)) + encoded
    payload = b"".join([b"\x00", _u32_bytes(len(own_name)), own_name, *others])
    return with_custom_sections(data, [(NAME_SECTIONS[binary_kind(data)], payload)])


def component_externs(data: bytes) -> ComponentExterns:
    """The names in a component's top-level import and export sections (not those of nested components)."""
    end = len(data)
    if _kind(data, 0, end) != "component":
        raise WasmFormatError("imports and exports are read from components only, and this is a core module", 0)
    imports: list[str] = []
    exports: list[str] = []
    for section in _sections(data, _HEADER_SIZE, end):
        if section.id == COMPONENT_IMPORT_SECTION_ID:
            imports.extend(_extern_names(data, section, _skip_extern_type))
        elif section.id == COMPONENT_EXPORT_SECTION_ID:
            exports.extend(_extern_names(data, section, _skip_export_rest))
    return ComponentExterns(imports=tuple(imports), exports=tuple(exports))


def _kind(data: bytes, start: int, end: int) -> str:
    header = data[start : min(start + _HEADER_SIZE, end)]
    if header == COMPONENT_HEADER:
        return "component"
    if header == CORE_MODULE_HEADER:
        return "module"
    if len(header) < _HEADER_SIZE:
        raise WasmFormatError(f"the {_HEADER_SIZE}-byte header is cut short", start)
    if header[:4] != COMPONENT_HEADER[:4]:
        raise WasmFormatError("the magic number \\0asm is missing", start)
    raise WasmFormatError(f"the version/layer bytes {header[4:].hex(' ')} are neither a module's nor a component's", start + 4)


def _sections(data: bytes, start: int, end: int) -> Iterator[_Section]:
    reader = _Reader(data, start, end)
    while not reader.at_end:
        section_start = reader.position
        section_id = reader.byte("a section id")
        size = reader.u32(f"the length of section {section_id}")
        payload_start = reader.take(size, f"section {section_id}")
        yield _Section(id=section_id, start=section_start, payload_start=payload_start, end=reader.position)


def _custom_sections(data: bytes, start: int, end: int, depth: int, nested: bool) -> Iterator[CustomSection]:
    kind = _kind(data, start, end)
    for section in _sections(data, start + _HEADER_SIZE, end):
        if section.id == CUSTOM_SECTION_ID:
            reader = _Reader(data, section.payload_start, section.end)
            name = reader.name("a custom section name")
            yield CustomSection(name=name, payload=data[reader.position : section.end], depth=depth)
        elif nested and kind == "component" and section.id in (CORE_MODULE_SECTION_ID, COMPONENT_SECTION_ID):
            if depth + 1 > MAX_NESTING_DEPTH:
                raise WasmFormatError(f"components nest deeper than {MAX_NESTING_DEPTH} levels", section.start)
            expected = "module" if section.id == CORE_MODULE_SECTION_ID else "component"
            if _kind(data, section.payload_start, section.end) != expected:
                raise WasmFormatError(f"section {section.id} does not hold a {expected}", section.payload_start)
            yield from _custom_sections(data, section.payload_start, section.end, depth + 1, nested)


def _custom_name(data: bytes, section: _Section) -> str:
    return _Reader(data, section.payload_start, section.end).name("a custom section name")


def _names_section(data: bytes) -> _Section | None:
    """The first top-level names section; tools read only the first."""
    end = len(data)
    section_name = NAME_SECTIONS[_kind(data, 0, end)]
    return next(
        (
            section
            for section in _sections(data, _HEADER_SIZE, end)
            if section.id == CUSTOM_SECTION_ID and _custom_name(data, section) == section_name
        ),
        None,
    )


def _name_subsections(data: bytes, section: _Section) -> Iterator[_Section]:
    """The subsections of a names section, which are laid out like sections."""
    reader = _Reader(data, section.payload_start, section.end)
    reader.name("a custom section name")
    yield from _sections(data, reader.position, section.end)


def _custom_section_bytes(name: str, payload: bytes) -> bytes:
    encoded_name = name.encode("utf-8")
    content = _u32_bytes(len(encoded_name)) + encoded_name + payload
    return bytes([CUSTOM_SECTION_ID]) + _u32_bytes(len(content)) + content


def _u32_bytes(value: int) -> bytes:
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"{value} does not fit in a WebAssembly u32")
    encoded = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        encoded.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(encoded)


def _extern_names(data: bytes, section: _Section, skip_rest: Callable[[_Reader], None]) -> Iterator[str]:
    reader = _Reader(data, section.payload_start, section.end)
    for _ in range(reader.u32("the number of imports or exports")):
        yield _extern_name(reader)
        skip_rest(reader)
    if not reader.at_end:
        raise WasmFormatError(f"section {section.id} has bytes after its last entry", reader.position)


def _extern_name(reader: _Reader) -> str:
    """An import or export name, skipping the attributes (implements, version suffix) newer encoders add."""
    form_offset = reader.position
    form = reader.byte("an import or export name")
    if form not in (0x00, 0x01, 0x02):
        raise WasmFormatError(f"the import or export name form {form:#04x} is unknown", form_offset)
    name = reader.name("an import or export name")
    if form == 0x02:
        for _ in range(reader.u32("the number of name attributes")):
            attribute_offset = reader.position
            if reader.byte("a name attribute") not in (0x00, 0x01, 0x02):
                raise WasmFormatError("the name attribute kind is unknown", attribute_offset)
            reader.name("a name attribute")
    return name


def _skip_export_rest(reader: _Reader) -> None:
    """Skips an export's sort and index, and its optional type ascription."""
    sort_offset = reader.position
    sort = reader.byte("an export's sort")
    if sort == 0x00:
        reader.byte("an export's core sort")
    elif sort > 0x05:
        raise WasmFormatError(f"the export sort {sort:#04x} is unknown", sort_offset)
    reader.u32("an export's index")
    flag = reader.byte("an export's type flag")
    if flag == 0x01:
        _skip_extern_type(reader)
    elif flag != 0x00:
        raise WasmFormatError(f"the export type flag {flag:#04x} is neither 0 nor 1", reader.position - 1)


def _skip_extern_type(reader: _Reader) -> None:
    tag_offset = reader.position
    tag = reader.byte("an extern type")
    if tag == 0x00:  # core module: 0x11, then a core type index
        reader.byte("a core module type")
        reader.u32("a core type index")
    elif tag in (0x01, 0x04, 0x05):  # func, component, instance: a type index
        reader.u32("a type index")
    elif tag in (0x02, 0x03):  # value or type: a bound
        bound_offset = reader.position
        bound = reader.byte("a value or type bound")
        if bound == 0x00:  # eq: an index
            reader.u32("a bound index")
        elif bound == 0x01 and tag == 0x02:  # a value type: a primitive opcode or a type index
            reader.skip_s33("a value type")
        elif bound != 0x01:  # 0x01 of a type is `sub resource`, with nothing after it
            raise WasmFormatError(f"the bound {bound:#04x} is unknown", bound_offset)
    else:
        raise WasmFormatError(f"the extern type kind {tag:#04x} is unknown", tag_offset)
