"""Which processes a Pants run ran itself and which it took from a cache, from Pants' own workunits.

Why workunits: `--stats-log` counters say how many processes hit the remote cache, not which ones;
a test that must prove "no compile ran here" needs the process's description. Pants 2.17's
workunit logger backend writes every completed workunit of a run to a JSON file; the workunit of
each process carries its description and a `source` metadata field: `Ran` (executed here),
`HitLocally` or `HitRemotely`. A local attempt Pants starts speculatively while the remote lookup
is in flight and then cancels never completes, so it is not counted as run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

WORKUNIT_LOGGER_BACKEND = "pants.backend.experimental.tools.workunit_logger"
# Every process that compiles Rust is described "Compile ..." (a convention of the build rules).
COMPILE_PREFIX = "Compile "
_SCHEDULING = "Scheduling: "


def pants_options(log_dir: Path) -> list[str]:
    """Options that make one Pants run write its workunits to a JSON file in `log_dir` (created here)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    return [
        f"--backend-packages=+['{WORKUNIT_LOGGER_BACKEND}']",
        "--workunit-logger-enabled",
        f"--workunit-logger-logdir={log_dir}",
    ]


@dataclass(frozen=True)
class ProcessRecord:
    description: str
    source: str
    """`Ran`, `HitLocally` or `HitRemotely`."""
    definition: str
    """The process as Pants keys it (argv, env, input digests), JSON text."""

    @property
    def shareable(self) -> bool:
        """Whether a remote cache may store this process's result (its key then must not depend on the machine).

        Processes scoped to one Pants run or restart (probes, reading the checkout's git commit) are never cached.
        """
        return json.loads(self.definition).get("cache_scope") in ("Always", "Successful") if self.definition else False


def processes(log_dir: Path) -> list[ProcessRecord]:
    """The processes of the one run whose workunits `log_dir` holds."""
    logs = sorted(log_dir.glob("*.json"))
    if len(logs) != 1:
        raise ValueError(f"expected one workunit log in {log_dir}, found {len(logs)}")
    records = []
    for workunit in json.loads(logs[0].read_text()):
        metadata = workunit.get("metadata") or {}
        if workunit.get("name") != "process" or "source" not in metadata:
            continue
        description = workunit.get("description") or ""
        if description.startswith(_SCHEDULING):
            description = description[len(_SCHEDULING):]
        records.append(ProcessRecord(description, metadata["source"], metadata.get("definition", "")))
    return records


def compiles(records: list[ProcessRecord], source: str) -> list[str]:
    """Descriptions of the compile processes with this `source`."""
    return [record.description for record in records if record.description.startswith(COMPILE_PREFIX) and record.source == source]
