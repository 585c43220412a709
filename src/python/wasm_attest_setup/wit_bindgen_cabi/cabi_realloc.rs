// The object inside wit-bindgen 0.45.1's `src/rt/libwit_bindgen_cabi.a`, which Debian strips from
// the crate (build-support/registry/wit_bindgen_cabi.py compiles this file and archives it).
//
// The component model's canonical ABI calls an export named `cabi_realloc` to allocate memory
// for the strings and lists it passes into a component. wit-bindgen defines the allocator itself
// as `cabi_realloc_wit_bindgen_0_45_1` (a versioned name, so that several wit-bindgen versions can
// be linked together); this object adds the unversioned, exported entry point that forwards to it.
// It is weak, so that another definition (wasi-libc's on wasm32-wasip2) wins, and it lives in an
// archive so that the linker takes it only when nothing else defines `cabi_realloc`.
#![no_std]
#![feature(linkage, asm_experimental_arch)]

extern "C" {
    fn cabi_realloc_wit_bindgen_0_45_1(old_ptr: *mut u8, old_len: usize, align: usize, new_len: usize) -> *mut u8;
}

#[no_mangle]
#[linkage = "weak"]
pub unsafe extern "C" fn cabi_realloc(old_ptr: *mut u8, old_len: usize, align: usize, new_len: usize) -> *mut u8 {
    cabi_realloc_wit_bindgen_0_45_1(old_ptr, old_len, align, new_len)
}

// Mark the symbol as a WebAssembly export named `cabi_realloc`, as C's
// `__attribute__((export_name("cabi_realloc")))` does: Rust has no attribute for it.
core::arch::global_asm!(".export_name cabi_realloc, cabi_realloc");
