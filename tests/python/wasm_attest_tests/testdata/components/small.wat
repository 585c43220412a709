;; A tiny component with the structure the section reader walks: an import, a
;; nested core module and a nested component (each with a custom section of
;; its own), a lifted function, an export and top-level custom sections.
;; small.wasm is `wasm-tools parse small.wat` (wasm-tools 1.262.0).
(component
  (import "wasi:cli/stdout@0.2.0" (instance))
  (core module $m
    (func (export "run"))
    (@custom "core-note" "inside the core module")
  )
  (core instance $i (instantiate $m))
  (type $run (func))
  (func $run (type $run) (canon lift (core func $i "run")))
  (export "run" (func $run))
  (component
    (@custom "inner-note" "inside the nested component")
  )
  (@producers (processed-by "hand" "1.0"))
)
