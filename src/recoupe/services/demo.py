"""The demo: generate a scenario, ingest every mapping, and say what to try next."""

from __future__ import annotations

import json
import secrets
import shlex
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recoupe import territories
from recoupe.config import Settings, make_workspace
from recoupe.scenario.truth import telecom_people
from recoupe.security.reader import Reader
from recoupe.security.secret import ensure_secret
from recoupe.services.accounts import open_identities
from recoupe.services.ingest import ingest_mapping
from recoupe.services.runtime import Runtime
from recoupe.services.workspace import open_workspace
from recoupe.store.base import Progress, Run


@dataclass(frozen=True)
class DemoAccount:
    login: str
    password: str
    role: str
    clearance: str
    sees: str


#: (login, role, clearance, compartments, what the account sees of the scenario)
DEMO_ACCOUNTS = (
    ("analyste", "analyst", "TS", ("FININT", "SANTE"), "every dataset"),
    ("enqueteur", "viewer", "DR", (), "no call records, no bank data"),
    ("auditeur", "auditor", "NP", (), "no data; the audit log"),
)


def demo_accounts(settings: Settings) -> list[DemoAccount]:
    """The demo's accounts, made (or given a new password) for browser login."""
    made = []
    with closing(open_identities(settings)) as ids:
        known = {u.login for u in ids.users()}
        for login, role, clearance, compartments, sees in DEMO_ACCOUNTS:
            password = secrets.token_urlsafe(12)
            if login in known:
                ids.set_password(login, password)
            else:
                ids.add_user(
                    login,
                    roles=[role],
                    clearance=clearance,
                    compartments=compartments,
                    password=password,
                )
            shown = "//".join([clearance, "/".join(compartments)]) if compartments else clearance
            made.append(DemoAccount(login, password, role, shown, sees))
    return made


@dataclass(frozen=True)
class DemoReport:
    workspace: Path
    scenario: Path
    runs: list[Run]
    counts: dict[str, int]
    examples: list[str] = field(default_factory=list)
    accounts: list[DemoAccount] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "workspace": str(self.workspace),
            "scenario": str(self.scenario),
            "runs": [r.summary() for r in self.runs],
            "counts": self.counts,
            "examples": self.examples,
            "accounts": [a.__dict__ for a in self.accounts],
        }

    def text(self) -> str:
        lines = [
            f"Demo workspace: {self.workspace}",
            f"Scenario (CSV sources, mappings, truth.json): {self.scenario}",
            "",
            f"{'dataset':<18}{'read':>10}{'loaded':>10}{'rejected':>10}{'statements':>12}  run",
        ]
        for run in self.runs:
            lines.append(
                f"{run.dataset:<18}{run.rows_read:>10,}{run.rows_loaded:>10,}"
                f"{run.rows_rejected:>10,}{run.statements:>12,}  {run.run_id}"
            )
        c = self.counts
        lines += [
            "",
            f"In all: {c['entities']:,} entities, {c['statements']:,} statements, "
            f"{c['edges']:,} edges.",
            "",
            "Try:",
            *[f"  {example}" for example in self.examples],
        ]
        if self.accounts:
            lines += ["", "Demo accounts (log in to the server; new passwords at each demo):"]
            lines += [
                f"  {a.login:<10} password {a.password}  ({a.role}, {a.clearance}: {a.sees})"
                for a in self.accounts
            ]
        return "\n".join(lines)


def run_demo(
    settings: Settings,
    scale: int = 20_000,
    out: Path | None = None,
    progress: Progress | None = None,
    command: str = "recoupe",
    resolve: bool = True,
) -> DemoReport:
    """Generate the scenario at ``scale`` and ingest it into the configured workspace;
    ``resolve`` then scores the candidate pairs, so the review queue is ready."""
    from recoupe.scenario import generate
    from recoupe.scenario.health import generate_health

    make_workspace(settings.workspace)  # before the scenario's folder is made inside it
    scenario = out or settings.workspace / "scenario"
    summary = generate(scenario, scale=scale, progress=progress)
    health = generate_health(scenario / "sante")
    reader = Reader.system()
    runs: list[Run] = []
    with open_workspace(settings, create=True) as store:
        for mapping in [territories.mapping_path(), *summary.mappings, *health.mappings]:
            runs.append(ingest_mapping(store, Path(mapping), progress=progress))
        counts = store.counts(reader)
        sample = store.entity_ids(reader, schema="Person", limit=1)
    with Runtime(settings) as runtime:
        runtime.refresh(progress)
    if resolve:
        from recoupe.services import resolve as resolution

        with open_workspace(settings) as store:
            resolution.run(
                store,
                settings.resolve_spec(),
                progress=progress,
                threads=settings.threads,
                memory_limit=settings.memory_limit,
            )
    ensure_secret(settings.workspace)
    accounts = demo_accounts(settings)
    truth = json.loads(summary.truth.read_text(encoding="utf-8"))
    members = [(name, eid) for _, name, eid, cell in telecom_people(truth) if cell]
    ws = f"--workspace {settings.workspace}"
    recoupe = command
    rejected = next((r for r in runs if r.rows_rejected), runs[0])
    examples = [
        f"{recoupe} {ws} datasets",
        f"{recoupe} {ws} runs",
        f"{recoupe} {ws} rejected {rejected.run_id}",
        f"{recoupe} {ws} ontology PhoneCall",
        f"{recoupe} {ws} export --format gexf --out links.gexf",
    ]
    if sample:
        examples.insert(3, f"{recoupe} {ws} entity {sample[0]}")
    if len(members) >= 2:
        (name_a, id_a), (_, id_b) = members[0], members[1]
        examples += [
            f"{recoupe} {ws} search {shlex.quote(name_a)}",
            f"{recoupe} {ws} graph expand {id_a} --depth 2",
            f"{recoupe} {ws} graph path {id_a} {id_b}",
            f"{recoupe} {ws} timeline {id_a}",
            f"{recoupe} {ws} near {id_a} --metres 500 --minutes 30",
        ]
    if resolve:
        examples += [
            f"{recoupe} {ws} resolve queue   # the same person in several sources? you judge",
            f"{recoupe} {ws} resolve judge ID1 ID2 same --reason 'same birth date and name'",
        ]
    examples += [
        f"{recoupe} {ws} health forecast --chart rea.png   # hospital load, 14 days, 90 % bands",
        f"{recoupe} {ws} health alerts   # shortages of equipment and beds, most urgent first",
        f"{recoupe} {ws} health transfers   # TGV transfers between hospitals at the peak",
        f"{recoupe} {ws} health scenarios --chart scenarios.png   # lockdown exit side by side",
        f"{recoupe} {ws} health trace   # the traced cluster: chains and super-spreaders",
        f"{recoupe} {ws} health rt-place 68 --si-mean 6.5 --si-sd 4   # Rt in Haut-Rhin",
    ]
    examples.append(f"{recoupe} {ws} serve   # then open http://localhost:8000/ (API: /docs)")
    return DemoReport(
        workspace=settings.workspace.resolve(),
        scenario=scenario.resolve(),
        runs=runs,
        counts=counts,
        examples=examples,
        accounts=accounts,
    )
