"""Schemathesis against a running cloud, from each service's own OpenAPI description.

Each operation is sent ``examples`` cases drawn from its description (bodies that fit its schema and
bodies that do not), each case as one of the callers; a response fails when its status is 5xx, its
body shows the server's insides (a traceback, a source file, a path on the server's disk), or it is a
success whose body does not fit the schema the description declares for its status (Schemathesis's
``response_schema_conformance``, for the operations that declare one), or an error (4xx) whose body is
not in the service's fault format.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import hypothesis
import hypothesis.strategies as st
import requests
import schemathesis
from hypothesis.errors import HypothesisException
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

import onestack

SOURCE_ROOT = str(Path(onestack.__file__).resolve().parent.parent)
# What a body must never show: Python's traceback, a source file's name, this checkout's or the data dir's path.
_INSIDES = [re.compile(p) for p in (r"Traceback \(most recent call last\)", r'File "[^"]+\.py"', r"\.py\"",
                                     r"\bsite-packages/", re.escape(SOURCE_ROOT + "/"))]


@dataclasses.dataclass
class Finding:
    operation: str
    caller: str
    status: int
    why: str
    reproduce: str


@dataclasses.dataclass
class Report:
    operations: int = 0
    cases: int = 0
    statuses: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    skipped: list[str] = dataclasses.field(default_factory=list)
    findings: list[Finding] = dataclasses.field(default_factory=list)
    # operations whose description declares a success body, and successes checked against it
    described: int = 0
    conforming: int = 0
    # 4xx answers checked against the service's declared fault body
    faults: int = 0

    def add(self, other: Report) -> None:
        self.operations += other.operations
        self.cases += other.cases
        self.described += other.described
        self.conforming += other.conforming
        self.faults += other.faults
        self.statuses.update(other.statuses)
        self.skipped += other.skipped
        self.findings += other.findings


def insides(text: str, data_dir: str, echoed: tuple[str, ...] = ()) -> str | None:
    """What of the server's insides ``text`` shows, if anything; the client's own ``echoed`` values (an id the
    answer repeats: "No image found with ID x.py") are not the server's."""
    for value in echoed:
        text = text.replace(value, "")
    for pattern in _INSIDES:
        found = pattern.search(text)
        if found:
            return found.group(0)
    if data_dir in _without_connection_info(text):
        return data_dir
    return None


def _sent_values(case) -> tuple[str, ...]:
    """The path parameters and query values the case sent (at least 3 characters: shorter ones would blank
    out too much of an answer)."""
    values = [*(case.path_parameters or {}).values(), *(case.query or {}).values()]
    return tuple(v for v in (str(value) for value in values if isinstance(value, (str, int))) if len(v) >= 3)


def _without_connection_info(text: str) -> str:
    """The body less any ``connection_info``: a volume attachment's tells the compute host where the volume
    is (for a file-backed volume its path, as Cinder's NFS driver says its export), which is its purpose."""
    try:
        body = json.loads(text)
    except ValueError:
        return text

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "connection_info"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(body))


def fuzz_service(base: str, prefix: str, callers: dict[str, str], examples: int, data_dir: str,
                 known: Callable[[str, str], str | None] = lambda before, param: None,
                 skip: Iterable[str] = (), session: requests.Session | None = None) -> Report:
    """Fuzz every operation of the service served at ``base + prefix`` (its description read from there).
    ``known(segment before the parameter, parameter)`` names a real object for a path parameter: half the
    cases of an operation whose every parameter is known go to those objects, so the handlers behind the
    lookup get the fuzzed bodies too."""
    schema = schemathesis.openapi.from_url(f"{base}{prefix}/openapi.json")
    session = session or requests.Session()
    report = Report()
    skip = tuple(skip)
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {prefix}{operation.path}"
        if any(re.search(pattern, label) for pattern in skip):
            report.skipped.append(label)
            continue
        report.operations += 1
        report.described += declares_a_body(operation)
        try:
            _fuzz_operation(operation, label, _known_path(operation.path, known), base + prefix, callers, examples,
                            data_dir, session, report)
        except HypothesisException as exc:
            # a schema Hypothesis cannot draw from (it says which); the operation counts as skipped
            report.skipped.append(f"{label}: {exc}")
    return report


def declares_a_body(operation) -> bool:
    """Whether the operation's description declares its success body (a JSON schema for a 2xx)."""
    return any(str(status).startswith("2") and "content" in answer
               for status, answer in operation.definition.raw.get("responses", {}).items())


def _nonconforming(case, response: requests.Response) -> str | None:
    """Why a success does not fit the body the description declares for its status (None: it fits, or none
    is declared: Schemathesis checks a status against its own entry, else ``default``, which has none)."""
    try:
        case.validate_response(response, checks=[response_schema_conformance])
    except FailureGroup as failures:
        return "; ".join(f"{f.title}: {f.message}"[:600] for f in failures.exceptions)
    return None


def _known_path(path: str, known: Callable[[str, str], str | None]) -> dict[str, str] | None:
    segments = path.split("/")
    found = {}
    for i, segment in enumerate(segments):
        if segment.startswith("{"):
            value = known(segments[i - 1], segment[1:-1])
            if value is None:
                return None
            found[segment[1:-1]] = value
    return found or None


def _fuzz_operation(operation, label: str, known: dict[str, str] | None, base: str, callers: dict[str, str],
                    examples: int, data_dir: str, session: requests.Session, report: Report) -> None:
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    declared = declares_a_body(operation)
    strategies = [operation.as_strategy(mode) for mode in modes]
    if known:
        strategies += [operation.as_strategy(mode, path_parameters=known) for mode in modes]

    @hypothesis.settings(max_examples=examples, deadline=None, database=None, phases=[hypothesis.Phase.generate],
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(case=st.one_of(strategies), caller=st.sampled_from(sorted(callers)))
    def send(case, caller):
        # sent as drawn, but always with the caller's token (a negative case may drop the header)
        request = case.as_transport_kwargs(base_url=base)
        request["headers"]["X-Auth-Token"] = callers[caller]
        response = session.request(**request, timeout=60, allow_redirects=False)
        report.cases += 1
        report.statuses[response.status_code] += 1
        why = f"status {response.status_code}" if response.status_code >= 500 else insides(
            response.text, data_dir, _sent_values(case))
        # Neutron's ``fields=`` narrows each resource to the fields asked (none known: ``{}``), as Neutron's
        # own ``fields`` does: such a body holds fewer keys than its schema requires, and is not checked
        narrowed = bool((case.query or {}).get("fields"))
        if not why and 200 <= response.status_code < 300 and declared and not narrowed:
            why = _nonconforming(case, response)
            report.conforming += why is None
        elif not why and 400 <= response.status_code < 500:
            # every operation declares its service's fault body for 4XX (onestack.http.openapi._faults)
            why = _nonconforming(case, response)
            report.faults += why is None
        if why:
            report.findings.append(Finding(label, caller, response.status_code, f"{why}: {response.text[:300]}",
                                           case.as_curl_command(headers={"X-Auth-Token": caller})))

    send()
