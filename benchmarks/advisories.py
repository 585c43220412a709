"""What the advisory gate costs per component against a database of RustSec's real size.

RustSec's advisory-db holds about 1,000 advisories. This script writes a
synthetic database of that size (`--advisories N`, default 1,000) in the same
layout, spread over about 600 crates, with the crates of the testprojects'
SBOMs among them (so matching really finds and rejects advisories: patched and
unaffected requirements of several comparators, CVSS vectors, informational
and withdrawn ones), then measures, median of `--runs` (default 20):

- reading the database (every file and the digest), paid once per `pants
  package` / `pants verify-layout` run, not per component; and, for
  comparison, parsing every advisory, which no run needs (advisories are
  parsed per crate, for the crates a component has);
- the gate per component: parsing the advisories of its crates, matching and
  the policy's decision (`evaluate`), then writing and signing the findings
  attestation; target under 100 ms. `match` is the matching alone, once parsed.

The SBOMs are those of `dist/` (run `./pants package ::` first) or, with none
there, the fixture SBOMs of this script's own making for 88 crates. Nothing is
written outside a temporary folder. Run from the repository root:

    PYTHONPATH=src/python \\
      ~/.cache/wasm-attest/venv-$(sha256sum build-support/pants-requirements.txt | cut -c1-16)/bin/python \\
      benchmarks/advisories.py
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from wasm_attest.advisories.attestation import findings_attestation
from wasm_attest.advisories.database import AdvisoryDatabase, load_database
from wasm_attest.advisories.gate import evaluate, policy_from_options
from wasm_attest.keys import load_signing_key
from wasm_attest.sbom_crates import SbomCrate, read_sbom_crates

TARGET_SECONDS = 0.100
VECTORS = (
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
)


def write_database(folder: Path, count: int, real_crates: Sequence[str], rng: random.Random) -> None:
    crates = [*real_crates, *(f"synthetic-crate-{index}" for index in range(max(0, 600 - len(real_crates))))]
    for index in range(count):
        crate = crates[index % len(crates)]
        major, minor = rng.randint(0, 3), rng.randint(0, 40)
        extra = ""
        kind = index % 10
        if kind == 0:
            extra = 'informational = "unmaintained"\n'
        elif kind == 1:
            extra = 'withdrawn = "2024-02-01"\n'
        elif kind < 6:
            extra = f'cvss = "{VECTORS[index % len(VECTORS)]}"\n'
        text = (
            "```toml\n[advisory]\n"
            f'id = "RUSTSEC-{2016 + index % 10}-{index:04d}"\npackage = "{crate}"\ndate = "2024-01-{1 + index % 28:02d}"\n'
            f'aliases = ["CVE-{2016 + index % 10}-{10000 + index}"]\n{extra}\n'
            f'[versions]\npatched = [">= {major}.{minor + 1}.0, < {major + 1}.0.0", ">= {major + 1}.2.0"]\n'
            f'unaffected = ["< {major}.{max(0, minor - 5)}.0"]\n```\n\n# Synthetic advisory {index} against {crate}\n\nGenerated.\n'
        )
        path = folder / "crates" / crate / f"RUSTSEC-{2016 + index % 10}-{index:04d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def synthetic_sbom(count: int) -> list[SbomCrate]:
    return [
        SbomCrate(f"synthetic-crate-{index}", f"{index % 4}.{index % 37}.{index % 5}", "required", f"pkg:cargo/synthetic-crate-{index}", None)
        for index in range(count)
    ]


def median(runs: int, action: Callable[[], object]) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--advisories", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--dist", type=Path, default=Path("dist"))
    args = parser.parse_args(argv)

    sboms = {path.name[: -len(".cdx.json")]: read_sbom_crates(path.read_bytes()) for path in sorted(args.dist.glob("*/**/*.cdx.json"))}
    if not sboms:
        print(f"no SBOMs under {args.dist}: using a synthetic SBOM of 88 crates")
        sboms = {"synthetic-88": synthetic_sbom(88)}
    real_crates = sorted({crate.name for crates in sboms.values() for crate in crates})
    policy = policy_from_options(severity_threshold="low", informational={}, host_only="warn", exceptions={}, origin="benchmark")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        write_database(folder / "db", args.advisories, real_crates, random.Random(15))
        key_path = folder / "functionary.pem"
        key_path.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        signer = load_signing_key(key_path).signer
        database = load_database(folder / "db")
        load_time = median(max(3, args.runs // 4), lambda: load_database(folder / "db"))
        def parse_all_advisories() -> None:
            fresh = AdvisoryDatabase(database.location, database.digest, database.files_by_crate)
            for crate in fresh.files_by_crate:
                fresh.advisories_for(crate)

        parse_all = median(3, parse_all_advisories)
        print(f"database: {len(database)} advisories over {len(database.files_by_crate)} crates, digest {database.digest}")
        print(f"read the database and its digest (once per run): {load_time * 1000:.1f} ms")
        print(f"parse every advisory (never needed by one run; for comparison): {parse_all * 1000:.1f} ms")
        print(f"{'component':<16} {'crates':>6} {'findings':>8} {'match':>9} {'match+sign':>11}  target < {TARGET_SECONDS * 1000:.0f} ms")
        worst = 0.0
        for name, crates in sboms.items():
            today = date.today()
            result = evaluate(crates, f"{name}.wasm", database, policy, today)

            def gate() -> None:
                # A fresh parse cache, as in a new run: this component's advisories are parsed within the figure.
                fresh = AdvisoryDatabase(database.location, database.digest, database.files_by_crate)
                outcome = evaluate(crates, f"{name}.wasm", fresh, policy, today)
                findings_attestation(
                    outcome, fresh, component=f"{name}.wasm", component_sha256="0" * 64, timestamp=datetime.now(timezone.utc), signer=signer
                )

            match = median(args.runs, lambda: evaluate(crates, f"{name}.wasm", database, policy, today))  # parsed already
            total = median(args.runs, gate)
            worst = max(worst, total)
            verdict = "ok" if total < TARGET_SECONDS else "FAIL"
            print(f"{name:<16} {len(crates):>6} {len(result.findings):>8} {match * 1000:>7.2f}ms {total * 1000:>9.2f}ms  {verdict}")
        print(f"SUMMARY: slowest component {worst * 1000:.2f} ms per gate ({'ok' if worst < TARGET_SECONDS else 'FAIL'}); "
              f"database load {load_time * 1000:.1f} ms per run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
