from wasm_attest.wasm_binary import describe_wasm_header, is_component


def test_component_header() -> None:
    component = bytes.fromhex("0061736d0d000100") + b"rest"
    assert is_component(component)
    assert describe_wasm_header(component) == "component"


def test_core_module_is_not_a_component() -> None:
    module = bytes.fromhex("0061736d01000000")
    assert not is_component(module)
    assert describe_wasm_header(module) == "core module"


def test_other_bytes() -> None:
    assert describe_wasm_header(b"\x7fELF....") == "not WebAssembly"
    assert not is_component(b"")
