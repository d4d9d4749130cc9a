"""Mappings of answers from one edition of a rule set to another (``criteria/mappings/``).

When a standard is revised, a department wants to know how the units listed under the old edition
would fare under the new one. A mapping file declares which answers of the old edition stand for
which indicators of the new one; everything it does not declare is data the new edition needs and
the old one never asked for. The file reads:

    from: factory-gbt-36132-2018          # the earlier rule set's id (any of its versions)
    to: factory-gbt-36132-2025            # the later rule set's id
    answers:
      V1: V1                              # the same question: the answer is copied
      BR3: {all: [quality_ohs.mandatory, environmental.mandatory]}
                                          # a requirement met when each source was met in full
      energy.clinker: {value: energy.unit_energy.cement_clinker}
                                          # a computed indicator read from the value recorded
      energy.copper: {inputs: {E: energy_used, Q: output}}
                                          # a computed indicator computed from recorded figures

An entry may be a mapping with a ``note`` (Chinese and English) saying why the two stand for each
other. ``check`` refuses an entry whose kinds, units, options or points do not match, so a mapped
answer always means what the later edition asks. ``Translation(mapping, source,
target).answers`` turns one unit's answers into answers for ``for_values(target)``: the later
edition with its computed indicators scored on their values (an earlier edition may have recorded
values, not the figures behind them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from certify.scoring.engine import AnswerError, computer
from certify.scoring.loader import Problem, Reader, RuleFileError
from certify.scoring.model import Indicator, RuleSet, Text

FORMS = ("from", "all", "value", "inputs")


@dataclass(frozen=True, slots=True)
class Entry:
    """How one indicator of the later edition is answered: ``form`` is one of ``FORMS`` and
    ``sources`` the earlier edition's indicator ids (for ``inputs``, in the order of ``keys``)."""

    target: str
    form: str
    sources: tuple[str, ...]
    keys: tuple[str, ...] = ()
    note: Text | None = None
    line: int = 0


@dataclass(frozen=True)
class AnswerMapping:
    """A mapping file: from rule set ``source`` to rule set ``target``."""

    source: str
    target: str
    entries: tuple[Entry, ...]
    note: Text | None = None
    path: str = ""

    def entry(self, target_id: str) -> Entry | None:
        return next((e for e in self.entries if e.target == target_id), None)


def load_mapping(path: str | Path) -> AnswerMapping:
    """Read one mapping file; raise ``RuleFileError`` naming file, key path and line."""
    path = Path(path)
    reader = Reader(str(path))
    try:
        data = reader.read(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleFileError([Problem(str(path), 0, "", f"cannot read the file: {exc}")]) from None
    if not reader.problems:
        for where, message in _shape_faults(data):
            reader.report(where, message)
    if reader.problems:
        raise RuleFileError(reader.problems)
    entries = tuple(dataclasses.replace(_entry(target, spec), line=reader.lines.get(("answers", target), 1))
                    for target, spec in data["answers"].items())
    return AnswerMapping(data["from"], data["to"], entries, _text(data.get("note")), str(path))


def check(mapping: AnswerMapping, source: RuleSet, target: RuleSet) -> list[Problem]:
    """Every entry whose indicators do not exist or do not mean the same thing."""
    problems = []
    if (source.id, target.id) != (mapping.source, mapping.target):
        problems.append(Problem(mapping.path, 1, "", f"maps {mapping.source} to {mapping.target}, not {source.id} to {target.id}"))
    if source.kind != target.kind:
        problems.append(Problem(mapping.path, 1, "to", f"{target.id} is a {target.kind} rule set, {source.id} a {source.kind} one"))
    old = {i.id: i for i in source.indicators}
    new = {i.id: i for i in target.indicators}
    for entry in mapping.entries:
        for message in _entry_faults(entry, old, new):
            problems.append(Problem(mapping.path, entry.line, f"answers.{entry.target}", message))
    return problems


def for_values(rule_set: RuleSet) -> RuleSet:
    """``rule_set`` with each computed indicator scored on its value rather than on the figures
    it is computed from (indicators whose benchmarks the assessment sets stay as they are)."""
    def plain(indicator: Indicator) -> Indicator:
        if indicator.is_computed and indicator.benchmarks is None:
            return dataclasses.replace(indicator, inputs=(), formula=None)
        return indicator

    sections = tuple(dataclasses.replace(s, indicators=tuple(map(plain, s.indicators))) for s in rule_set.sections)
    return dataclasses.replace(rule_set, sections=sections)


class Translation:
    """A mapping bound to the two rule sets it maps between, checked once: ``target`` is the
    later edition as ``for_values`` scores it, ``answers`` translates one unit's answers."""

    def __init__(self, mapping: AnswerMapping, source: RuleSet, target: RuleSet):
        problems = check(mapping, source, target)
        if problems:
            raise RuleFileError(problems)
        self.mapping = mapping
        self.source = source
        self.target = for_values(target)
        self._computed = {i.id: computer(i) for i in target.indicators if i.is_computed}
        self._policies = {i.id: i.not_applicable for i in target.indicators}
        self._maxima = {i.id: i.max for i in source.indicators if i.type == "points"}

    def answers(self, answers: Mapping[str, object],
                not_applicable: Mapping[str, str]) -> tuple[dict[str, object], dict[str, str]]:
        """One unit's answers (engine types) and not-applicable declarations under the earlier
        edition, as answers for ``target`` and declarations of the later edition; what the
        mapping leaves unanswered is missing."""
        mapped: dict[str, object] = {}
        declared: dict[str, str] = {}
        for entry in self.mapping.entries:
            if entry.form == "from" or entry.form == "value":
                (source,) = entry.sources
                if source in not_applicable and entry.form == "from" and self._policies[entry.target] is not None:
                    declared[entry.target] = not_applicable[source]
                elif answers.get(source) is not None:
                    mapped[entry.target] = answers[source]
            elif entry.form == "all":
                met = [self._met_in_full(source, answers.get(source)) for source in entry.sources]
                if False in met:
                    mapped[entry.target] = False
                elif None not in met:
                    mapped[entry.target] = True
            else:
                figures = {key: answers.get(source) for key, source in zip(entry.keys, entry.sources, strict=True)}
                if None not in figures.values():
                    try:
                        mapped[entry.target] = self._computed[entry.target](figures)
                    except AnswerError:
                        pass  # figures the later edition refuses are no data for it
        return mapped, declared

    def _met_in_full(self, source: str, answer: object) -> bool | None:
        if answer is None:
            return None
        if isinstance(answer, bool):
            return answer
        return Decimal(answer) >= self._maxima[source]


# ---- reading the file ------------------------------------------------------------------------------


def _shape_faults(data: object) -> Iterator[tuple[tuple, str]]:
    if not isinstance(data, dict):
        yield (), "must be a mapping with from, to and answers"
        return
    for key in sorted(set(data) - {"from", "to", "answers", "note"}):
        yield (key,), "unknown key (a mapping file has from, to, answers and note)"
    for key in ("from", "to"):
        if not isinstance(data.get(key), str) or not data.get(key):
            yield (key,), "must name a rule set id"
    if "note" in data and _text(data["note"]) is None:
        yield ("note",), "must give zh and en"
    answers = data.get("answers")
    if not isinstance(answers, dict) or not answers:
        yield ("answers",), "must map indicator ids of the later edition to answers of the earlier one"
        return
    for target, spec in answers.items():
        yield from (((("answers", target) + where), message) for where, message in _spec_faults(spec))


def _spec_faults(spec: object) -> Iterator[tuple[tuple, str]]:
    if isinstance(spec, str):
        return
    if not isinstance(spec, dict):
        yield (), "must be an indicator id or a mapping with one of from, all, value, inputs"
        return
    forms = [key for key in FORMS if key in spec]
    if len(forms) != 1:
        yield (), "must have exactly one of from, all, value, inputs"
    for key in sorted(set(spec) - set(FORMS) - {"note"}):
        yield (key,), "unknown key"
    if "note" in spec and _text(spec["note"]) is None:
        yield ("note",), "must give zh and en"
    if "all" in spec and (not isinstance(spec["all"], list) or not spec["all"]
                          or not all(isinstance(s, str) for s in spec["all"])):
        yield ("all",), "must list indicator ids"
    for key in ("from", "value"):
        if key in spec and not isinstance(spec[key], str):
            yield (key,), "must be an indicator id"
    if "inputs" in spec and (not isinstance(spec["inputs"], dict) or not spec["inputs"]
                             or not all(isinstance(s, str) for s in spec["inputs"].values())):
        yield ("inputs",), "must map each input key to an indicator id"


def _entry(target: str, spec: object) -> Entry:
    if isinstance(spec, str):
        return Entry(target, "from", (spec,))
    note = _text(spec.get("note"))
    if "all" in spec:
        return Entry(target, "all", tuple(spec["all"]), note=note)
    if "inputs" in spec:
        keys = tuple(spec["inputs"])
        return Entry(target, "inputs", tuple(spec["inputs"][key] for key in keys), keys, note)
    form = "from" if "from" in spec else "value"
    return Entry(target, form, (spec[form],), note=note)


def _text(value: object) -> Text | None:
    if isinstance(value, dict) and isinstance(value.get("zh"), str) and isinstance(value.get("en"), str):
        return Text(value["zh"], value["en"])
    return None


# ---- what an entry may map ---------------------------------------------------------------------------


def _entry_faults(entry: Entry, old: dict[str, Indicator], new: dict[str, Indicator]) -> Iterator[str]:
    target = new.get(entry.target)
    if target is None:
        yield f"the later edition has no indicator {entry.target!r}"
        return
    missing = [s for s in entry.sources if s not in old]
    if missing:
        yield f"the earlier edition has no indicator {missing[0]!r}"
        return
    sources = [old[s] for s in entry.sources]
    if target.benchmarks is not None:
        yield "its baseline and leading value are set by the assessment, so no earlier answer can stand for it"
    elif entry.form == "from":
        yield from _same_question(sources[0], target)
    elif entry.form == "all":
        if target.type != "requirement":
            yield f"all: maps to a requirement, and {target.id} is a {target.type} indicator"
        for source in sources:
            if source.type not in ("requirement", "points"):
                yield f"all: {source.id} is a {source.type} indicator (a requirement, or points met in full)"
    elif entry.form == "value":
        if not target.is_computed:
            yield f"value: maps to a computed indicator, and {target.id} is answered directly (use from)"
        elif sources[0].type != "metric" or sources[0].is_computed:
            yield f"value: {sources[0].id} must be a metric answered with its value"
        elif _unit(sources[0]) != _unit(target):
            yield f"value: {sources[0].id} is in {_unit(sources[0])}, {target.id} in {_unit(target)}"
    else:
        if not target.is_computed:
            yield f"inputs: {target.id} is not computed"
            return
        expected = {i.key: i for i in target.inputs}
        if set(entry.keys) != set(expected):
            yield f"inputs: must give {', '.join(sorted(expected))}"
            return
        for key, source in zip(entry.keys, sources, strict=True):
            wanted = expected[key].unit.key if expected[key].unit else None
            if source.type != "metric" or source.is_computed or _unit(source) != wanted:
                yield f"inputs: {key} is in {wanted}, and {source.id} is not a metric in that unit"


def _same_question(source: Indicator, target: Indicator) -> Iterator[str]:
    if source.type != target.type:
        yield f"{source.id} is a {source.type} indicator, {target.id} a {target.type} one"
    elif target.type == "metric":
        if source.is_computed != target.is_computed:
            yield f"{target.id} is {'computed' if target.is_computed else 'answered directly'}, {source.id} is not (use value or inputs)"
        elif _unit(source) != _unit(target):
            yield f"{source.id} is in {_unit(source)}, {target.id} in {_unit(target)}"
        elif target.is_computed and {i.key for i in source.inputs} != {i.key for i in target.inputs}:
            yield f"{source.id} and {target.id} are computed from different figures"
    elif target.type == "points" and (source.max, source.step) != (target.max, target.step):
        yield f"{source.id} gives 0–{source.max} points, {target.id} 0–{target.max}: the points do not mean the same"
    elif target.type == "choice":
        unknown = sorted({o.key for o in source.options} - {o.key for o in target.options})
        if unknown:
            yield f"{target.id} has no option {unknown[0]!r}"


def _unit(indicator: Indicator) -> str | None:
    return indicator.unit.key if indicator.unit else None
