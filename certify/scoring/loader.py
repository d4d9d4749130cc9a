"""Read a rule file, check it, and build the ``RuleSet``; every fault names file, key path and line.

The YAML is composed into nodes first so that each value keeps the line it came from; numbers are
read from their exact text into ``Decimal`` (``0.1`` stays 0.1, never a float), dates stay text
until checked. Faults are collected, not raised one by one, so ``flask criteria check`` can list
them all: structure against ``schema.SCHEMA``, then the rules below that a schema cannot say.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from certify.scoring import schema
from certify.scoring.formula import Formula, FormulaError
from certify.scoring.model import (
    BASIC_SECTION_ID,
    NOT_APPLICABLE_POLICIES,
    VETO_SECTION_ID,
    Band,
    Grade,
    Indicator,
    Input,
    Level,
    NoteKind,
    Option,
    Provisional,
    Range,
    RuleSet,
    Section,
    Standard,
    Text,
    plain,
)
from certify.scoring.vocabulary import Vocabulary, shipped

# Notes an assessor writes when a file does not list its own: a comment the applicant reads and
# an internal note for the agency and the administrator only.
DEFAULT_NOTE_KINDS = (
    NoteKind("comment", Text("评价意见", "Assessment comment"), True),
    NoteKind("internal", Text("内部备注", "Internal note"), False),
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One fault in a rule file."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class RuleFileError(ValueError):
    """A rule file (or a set of them) was refused; ``problems`` lists every fault found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def load(path: str | Path, vocabulary: Vocabulary | None = None) -> RuleSet:
    """Load and check one rule file; raise ``RuleFileError`` naming file, key path and line.
    Units and industry codes are checked against ``vocabulary`` (the shipped one by default)."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise RuleFileError([Problem(str(path), 0, "", f"cannot read the file: {exc.strerror}")]) from None
    return loads(content, str(path), vocabulary)


def loads(content: bytes, file: str = "<rule file>", vocabulary: Vocabulary | None = None) -> RuleSet:
    """Check and build a rule set from the bytes of a rule file (``file`` names it in faults)."""
    vocabulary = vocabulary or shipped()
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RuleFileError([Problem(file, 1, "", f"not UTF-8 text ({exc.reason})")]) from None
    reader = Reader(file)
    data = reader.read(text)
    if not reader.problems:
        for error in schema.Validator(schema.SCHEMA).iter_errors(data):
            reader.report(*schema.describe(error))
        kind = data.get("kind") if isinstance(data, dict) else None
        if isinstance(kind, str) and kind not in vocabulary.kinds:
            reader.report(("kind",), f"must be one of {', '.join(vocabulary.kinds)}, not {kind!r} "
                                     f"(the kinds of criteria/vocabulary/kinds.yaml)")
    if not reader.problems:
        for where, message in _semantic_faults(data, vocabulary):
            reader.report(where, message)
    if reader.problems:
        raise RuleFileError(sorted(set(reader.problems), key=lambda p: (p.line, p.path, p.message)))
    rule_set = _build(data, vocabulary, path=file, sha256=hashlib.sha256(content).hexdigest())
    rule_set.lines.update({where[0]: line for where, line in reader.lines.items() if len(where) == 1})
    return rule_set


class Reader:
    """Turns YAML nodes into plain data, remembering the line of every key path (rule files and
    answer mappings)."""

    def __init__(self, file: str):
        self.file = file
        self.lines: dict[tuple, int] = {}
        self.data: object = None
        self.problems: list[Problem] = []

    def read(self, text: str) -> object:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            self.problems.append(Problem(self.file, mark.line + 1 if mark else 1, "", f"invalid YAML: {exc.problem or exc.context}"))
            return None
        except yaml.YAMLError as exc:
            self.problems.append(Problem(self.file, 1, "", f"invalid YAML: {exc}"))
            return None
        if node is None:
            self.lines[()] = 1
            return None
        self.data = self._convert(node, ())
        return self.data

    def report(self, where: list | tuple, message: str) -> None:
        where = tuple(where)
        line = next((self.lines[where[:n]] for n in range(len(where), -1, -1) if where[:n] in self.lines), 1)
        self.problems.append(Problem(self.file, line, _format_path(where, self.data), message))

    def _convert(self, node: yaml.Node, where: tuple) -> object:
        self.lines.setdefault(where, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            result: dict = {}
            merges = [value for key, value in node.value if key.tag == "tag:yaml.org,2002:merge"]
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
                key = str(key) if isinstance(key, Decimal) else key
                if not isinstance(key, str):
                    self.lines[where + (repr(key),)] = key_node.start_mark.line + 1
                    self.report(where + (repr(key),), f"keys must be plain words, not {key!r}")
                    continue
                if key in result:
                    self.lines.setdefault(where + (key, "duplicate"), key_node.start_mark.line + 1)
                    self.report(where + (key, "duplicate"), f"duplicate key {key!r} (first on line {self.lines[where + (key,)]})")
                    continue
                self.lines[where + (key,)] = key_node.start_mark.line + 1
                result[key] = self._convert(value_node, where + (key,))
            self._merge(result, merges, where)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self._convert(item, where + (n,)) for n, item in enumerate(node.value)]
        return self._scalar(node)

    def _merge(self, result: dict, merges: list[yaml.Node], where: tuple) -> None:
        """YAML merge keys (``<<: *anchor``): keys written in the mapping win over merged ones."""
        for value_node in merges:
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    self.report(where, "'<<' must merge a mapping")
                    continue
                for key, value in self._convert(source, where + ("<<",)).items():
                    if key not in result:
                        self.lines.setdefault(where + (key,), self.lines[where + ("<<",)])
                        result[key] = value

    @staticmethod
    def _scalar(node: yaml.ScalarNode) -> object:
        tag = node.tag.rsplit(":", 1)[-1]
        if tag == "int":
            return Decimal(yaml.constructor.SafeConstructor().construct_yaml_int(node))
        if tag == "float":
            text = node.value.replace("_", "").lower()
            special = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}
            try:
                return Decimal(special.get(text, text))
            except InvalidOperation:
                return Decimal("NaN")
        if tag == "bool":
            return yaml.constructor.SafeConstructor().construct_yaml_bool(node)
        if tag == "null":
            return None
        return node.value


def _format_path(where: tuple, data: object) -> str:
    """``sections[1].indicators[3].max`` plus the id of the innermost indicator or entry named."""
    text, node, named = "", data, None
    for part in where:
        if part == "duplicate":
            break
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
        node = node[part] if isinstance(node, (dict, list)) and _has(node, part) else None
        if isinstance(node, dict) and isinstance(node.get("id", node.get("key")), str):
            named = node.get("id", node.get("key"))
    return f"{text} ({named})" if named and text else text


def _has(container: dict | list, part: object) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(part, int) and 0 <= part < len(container)


# ---- rules a schema cannot say ------------------------------------------------------------------


def _semantic_faults(data: dict, vocabulary: Vocabulary) -> Iterator[tuple[tuple, str]]:
    yield from _date_faults(data)
    yield from _industry_faults(data.get("industries", []), ("industries",), vocabulary)
    yield from _provisional_faults(data, ())
    notes = [n["key"] for n in data.get("assessor_notes", [])] or [n.key for n in DEFAULT_NOTE_KINDS]
    yield from _unique(data.get("assessor_notes", []), ("assessor_notes",), "key", "assessor note")
    yield from _unique(data.get("grades", []), ("grades",), "key", "grade")
    yield from _unique(data["sections"], ("sections",), "id", "section")
    indicators = [(("veto_conditions", n), item) for n, item in enumerate(data.get("veto_conditions", []))]
    indicators += [(("basic_requirements", n), item) for n, item in enumerate(data["basic_requirements"])]
    for s, section in enumerate(data["sections"]):
        if section["id"] in (BASIC_SECTION_ID, VETO_SECTION_ID):
            yield ("sections", s, "id"), f"the section id {section['id']!r} is reserved for the basic requirements and veto conditions"
        indicators += [(("sections", s, "indicators", n), item) for n, item in enumerate(section["indicators"])]
    seen: dict[str, tuple] = {}
    for where, item in indicators:
        if item["id"] in seen:
            yield where + ("id",), f"duplicate indicator id {item['id']!r} (first at {_format_path(seen[item['id']], data)})"
        seen.setdefault(item["id"], where)
        yield from _indicator_faults(item, where, notes, vocabulary)
    yield from _weight_faults(data["sections"])
    yield from _best_of_faults(data["sections"])
    yield from _total_faults(data)


def _date_faults(data: dict) -> Iterator[tuple[tuple, str]]:
    days = {}
    for key in ("effective_from", "effective_until"):
        if key in data:
            try:
                days[key] = date.fromisoformat(data[key])
            except ValueError:
                yield (key,), f"{data[key]!r} is not a calendar date"
    if len(days) == 2 and days["effective_until"] < days["effective_from"]:
        yield ("effective_until",), "must not be before effective_from"


def _provisional_faults(node: object, where: tuple) -> Iterator[tuple[tuple, str]]:
    if isinstance(node, list):
        for n, item in enumerate(node):
            yield from _provisional_faults(item, where + (n,))
        return
    if not isinstance(node, dict):
        return
    if node.get("provisional") is True and "provisional_reason" not in node:
        yield where + ("provisional",), "provisional: true needs a provisional_reason saying what is unverified"
    if "provisional_reason" in node and node.get("provisional") is not True:
        yield where + ("provisional_reason",), "a provisional_reason needs provisional: true"
    for key, value in node.items():
        yield from _provisional_faults(value, where + (key,))


def _unique(items: list, where: tuple, key: str, what: str) -> Iterator[tuple[tuple, str]]:
    seen = set()
    for n, item in enumerate(items):
        if item[key] in seen:
            yield where + (n, key), f"duplicate {what} {key} {item[key]!r}"
        seen.add(item[key])


def _industry_faults(codes: list, where: tuple, vocabulary: Vocabulary) -> Iterator[tuple[tuple, str]]:
    for n, code in enumerate(codes):
        if not vocabulary.is_industry_code(code):
            yield where + (n,), f"{code} is not a division, group or class of GB/T 4754-2017"


def _indicator_faults(item: dict, where: tuple, notes: list, vocabulary: Vocabulary) -> Iterator[tuple[tuple, str]]:
    for n, key in enumerate(item.get("applicant_visible_notes", [])):
        if key not in notes:
            yield where + ("applicant_visible_notes", n), f"unknown assessor note {key!r} (known: {', '.join(notes)})"
    yield from _industry_faults(item.get("industries", []), where + ("industries",), vocabulary)
    kind = item.get("type", "requirement")
    if kind == "requirement" and item.get("required") is False:
        yield where + ("required",), "a requirement is always required; use a points indicator for an optional item"
    if kind == "metric" and item.get("scoring") == "limit" and item.get("required") is False:
        yield where + ("required",), "a metric held to a limit earns no points, so it is always required"
    if kind == "requirement" and item.get("not_applicable") == "full_points":
        yield where + ("not_applicable",), "a requirement has no points to award: use renormalise (not counted) or none"
    if kind == "metric":
        yield from _metric_domain_faults(item, where, vocabulary)
    if kind == "points":
        yield from _points_faults(item, where)
    if kind == "choice":
        yield from _unique(item["options"], where + ("options",), "key", "option")
    if kind == "metric" and item["scoring"] == "linear" and "benchmarks" not in item:
        baseline, leading = item["baseline"], item["leading"]
        if item["better"] == "lower" and not leading < baseline:
            yield where + ("leading",), f"must be lower than the baseline {baseline} when lower is better"
        if item["better"] == "higher" and not leading > baseline:
            yield where + ("leading",), f"must be higher than the baseline {baseline} when higher is better"
    if kind == "metric" and item["scoring"] == "bands":
        yield from _band_faults(item, where)


def _metric_domain_faults(item: dict, where: tuple, vocabulary: Vocabulary) -> Iterator[tuple[tuple, str]]:
    unit = vocabulary.unit(item["unit"])
    if unit is None:
        known = ", ".join(sorted(vocabulary.units))
        yield where + ("unit",), f"unknown unit {item['unit']!r} (criteria/vocabulary/units.yaml has: {known})"
        return
    if "range" not in item and unit.range is None:
        yield where, (f"needs a range of valid answers, e.g. range: {{min: 0, exclusive_min: true}} for an intensity "
                      f"(the unit {unit.key} has no default range)")
        return
    domain = _range_of(item, unit)
    if _is_empty(domain):
        yield where + ("range",), f"is empty: {domain.describe()}"
        return
    yield from _computed_faults(item, where, vocabulary)
    anchors = [("baseline", item.get("baseline")), ("leading", item.get("leading")), ("limit", item.get("limit"))]
    anchors += [(("bands", n, "at"), band["at"]) for n, band in enumerate(item.get("bands", []))]
    for key, value in anchors:
        if value is not None and not domain.contains(value):
            path = key if isinstance(key, tuple) else (key,)
            yield where + path, f"{value} lies outside the range of valid answers ({domain.describe()} {unit.key})"


def _is_empty(domain: Range) -> bool:
    return domain.min is not None and domain.max is not None and (
        domain.min > domain.max or (domain.min == domain.max and (domain.exclusive_min or domain.exclusive_max)))


def _computed_faults(item: dict, where: tuple, vocabulary: Vocabulary) -> Iterator[tuple[tuple, str]]:
    """A computed metric's formula uses exactly its inputs, each with a known unit and a range."""
    if "formula" not in item:
        return
    keys = [entry["key"] for entry in item["inputs"]]
    for n, entry in enumerate(item["inputs"]):
        if entry["key"] in keys[:n] or entry["key"] in ("baseline", "leading"):
            yield where + ("inputs", n, "key"), f"{entry['key']!r} is used twice or reserved (baseline, leading)"
        unit = vocabulary.unit(entry["unit"])
        if unit is None:
            yield where + ("inputs", n, "unit"), f"unknown unit {entry['unit']!r}"
        elif "range" not in entry and unit.range is None:
            yield where + ("inputs", n), f"needs a range, e.g. range: {{min: 0}} (the unit {unit.key} has none)"
        elif _is_empty(_range_of(entry, unit)):
            yield where + ("inputs", n, "range"), "is empty"
    try:
        names = Formula(item["formula"]).names
    except FormulaError as error:
        yield where + ("formula",), str(error)
        return
    if names - set(keys):
        yield where + ("formula",), f"uses {', '.join(sorted(names - set(keys)))}, which are not inputs (inputs: {', '.join(keys)})"
    if set(keys) - names:
        yield where + ("inputs",), f"{', '.join(sorted(set(keys) - names))} not used by the formula {item['formula']!r}"


def _range_of(item: dict, unit) -> Range:
    return Range.from_mapping(item["range"]) if "range" in item else unit.range


def _total_faults(data: dict) -> Iterator[tuple[tuple, str]]:
    """Sections (weights, or points where there are no weights) add up to the declared total; the
    threshold and every grade lie within it."""
    total, sections = data["total"], data["sections"]
    if sections and all("weight" in s for s in sections):
        parts = [(s["id"], s["weight"]) for s in sections]
        what = "section weights"
    else:
        parts = [(s["id"], _section_points(s)) for s in sections]
        what = "section points"
    summed = sum((points for _, points in parts), Decimal(0))
    if summed != total:
        listed = ", ".join(f"{section_id} {plain(points)}" for section_id, points in parts)
        yield ("total",), f"{what} sum to {plain(summed)}, not the total {plain(total)} ({listed})"
    threshold = data["pass"].get("threshold")
    if threshold is not None and threshold > total:
        yield ("pass", "threshold"), f"must lie between 0 and the total {plain(total)}, not {plain(threshold)}"
    for n, grade in enumerate(data.get("grades", [])):
        if grade["min"] > total:
            yield ("grades", n, "min"), f"must lie between 0 and the total {plain(total)}, not {plain(grade['min'])}"


def _section_points(section: dict) -> Decimal:
    """A section's points for an organisation of no particular industry (the best of each
    ``best_of`` group counted once)."""
    general = [i for i in section["indicators"] if not i.get("industries")]
    points = sum((_indicator_max(i) for i in general if not i.get("best_of")), Decimal(0))
    groups: dict[str, Decimal] = {}
    for item in section["indicators"]:
        if item.get("best_of"):
            groups[item["best_of"]] = max(groups.get(item["best_of"], Decimal(0)), _indicator_max(item))
    return points + sum(groups.values(), Decimal(0))


def _indicator_max(item: dict) -> Decimal:
    kind = item.get("type", "requirement")
    if kind == "points" or (kind == "metric" and "max" in item):
        return item["max"]
    if kind == "metric" and item.get("bands"):
        return item["bands"][-1]["points"]
    if kind == "choice":
        return max(o["points"] for o in item["options"])
    return Decimal(0)


def _points_faults(item: dict, where: tuple) -> Iterator[tuple[tuple, str]]:
    step = item.get("step", Decimal(1))
    if item["max"] % step != 0:
        yield where + ("step",), f"step {step} does not divide max {item['max']}"
    for n, level in enumerate(item.get("levels", [])):
        if level["points"] > item["max"] or level["points"] % step != 0:
            yield where + ("levels", n, "points"), f"must be a multiple of the step {step} between 0 and max {item['max']}"


def _band_faults(item: dict, where: tuple) -> Iterator[tuple[tuple, str]]:
    higher = item["better"] == "higher"
    bands = item["bands"]
    for n in range(1, len(bands)):
        earlier, band = bands[n - 1], bands[n]
        rising = band["at"] > earlier["at"] if higher else band["at"] < earlier["at"]
        if not rising or band["points"] <= earlier["points"]:
            order = "increasing" if higher else "decreasing"
            yield where + ("bands", n), f"bands must go from the fewest to the most points with 'at' {order} ({item['better']} is better)"


def _weight_faults(sections: list) -> Iterator[tuple[tuple, str]]:
    weighted = [s for s in sections if "weight" in s]
    if weighted and len(weighted) != len(sections):
        for n, section in enumerate(sections):
            if "weight" not in section:
                yield ("sections", n), "has no weight while other sections have one: weight all sections or none"


def _best_of_faults(sections: list) -> Iterator[tuple[tuple, str]]:
    home: dict[str, str] = {}
    for s, section in enumerate(sections):
        for n, item in enumerate(section["indicators"]):
            group = item.get("best_of")
            if group is None:
                continue
            if home.setdefault(group, section["id"]) != section["id"]:
                yield ("sections", s, "indicators", n, "best_of"), f"best_of group {group!r} already belongs to section {home[group]!r}"
            if item["type"] == "requirement" or item.get("required"):
                yield ("sections", s, "indicators", n, "best_of"), "a required indicator cannot be one of several alternatives"


# ---- building the model -------------------------------------------------------------------------


def _build(data: dict, vocabulary: Vocabulary, *, path: str, sha256: str) -> RuleSet:
    note_kinds = tuple(
        NoteKind(n["key"], _text(n["title"]), n["visible_to_applicant"]) for n in data.get("assessor_notes", [])
    ) or DEFAULT_NOTE_KINDS
    visible = tuple(n.key for n in note_kinds if n.visible_to_applicant)
    vetoes = tuple(_indicator({**item, "type": "veto"}, VETO_SECTION_ID, visible, vocabulary)
                   for item in data.get("veto_conditions", []))
    basic = tuple(_indicator(item, BASIC_SECTION_ID, visible, vocabulary) for item in data["basic_requirements"])
    sections = tuple(
        Section(
            id=s["id"],
            title=_text(s["title"]),
            indicators=tuple(
                _indicator(item, s["id"], visible, vocabulary, s.get("not_applicable")) for item in s["indicators"]
            ),
            weight=s.get("weight"),
            provisional=_provisional(s),
        )
        for s in data["sections"]
    )
    rule_pass = data["pass"]
    return RuleSet(
        id=data["id"],
        version=data["version"],
        kind=data["kind"],
        title=_text(data["title"]),
        standard=Standard(data["standard"]["code"], _text(data["standard"]["title"])),
        effective_from=date.fromisoformat(data["effective_from"]),
        effective_until=date.fromisoformat(data["effective_until"]) if "effective_until" in data else None,
        veto_conditions=vetoes,
        basic_requirements=basic,
        sections=sections,
        total=data["total"],
        threshold=rule_pass["threshold"],
        threshold_provisional=_provisional(rule_pass),
        grades=tuple(
            Grade(g["key"], _text(g["title"]), g["min"], _provisional(g))
            for g in sorted(data.get("grades", []), key=lambda g: g["min"], reverse=True)
        ),
        industries=tuple(data.get("industries", ())),
        note_kinds=note_kinds,
        provisional=_provisional(data),
        path=path,
        sha256=sha256,
    )


def _indicator(item: dict, section: str, visible: tuple[str, ...], vocabulary: Vocabulary,
               section_policy: str | None = None) -> Indicator:
    kind = item.get("type", "requirement")
    unit = vocabulary.unit(item["unit"]) if kind == "metric" else None
    policy = item.get("not_applicable", section_policy)
    if kind == "requirement" and policy == "full_points":  # inherited from the section: nothing to award
        policy = "renormalise"
    bands = tuple(Band(b["at"], b["points"]) for b in item.get("bands", ()))
    options = tuple(Option(o["key"], _text(o["title"]), o["points"]) for o in item.get("options", ()))
    if kind == "points":
        maximum = item["max"]
    elif kind == "metric":
        maximum = bands[-1].points if bands else item.get("max", Decimal(0))
    elif kind == "choice":
        maximum = max(o.points for o in options)
    else:
        maximum = Decimal(0)
    inputs = tuple(
        Input(entry["key"], _text(entry["title"]), vocabulary.unit(entry["unit"]),
              _range_of(entry, vocabulary.unit(entry["unit"])))
        for entry in item.get("inputs", ())
    )
    return Indicator(
        id=item["id"],
        section=section,
        type=kind,
        title=_text(item["title"]),
        required=kind in ("requirement", "veto") or item.get("scoring") == "limit" or item.get("required", False),
        max=maximum,
        ref=item.get("ref"),
        item=_text(item["item"]) if "item" in item else None,
        guidance=_text(item["guidance"]) if "guidance" in item else None,
        evidence=tuple(_text(e) for e in item.get("evidence", ())),
        step=item.get("step", Decimal(1)) if kind == "points" else None,
        levels=tuple(Level(lv["points"], _text(lv["title"])) for lv in item.get("levels", ())),
        options=options,
        unit=unit,
        range=_range_of(item, unit) if unit is not None else None,
        scoring=item.get("scoring"),
        better=item.get("better"),
        baseline=item.get("baseline"),
        leading=item.get("leading"),
        bands=bands,
        limit=item.get("limit"),
        strict=item.get("strict", False),
        industries=tuple(item.get("industries", ())),
        best_of=item.get("best_of"),
        applicant_visible_notes=tuple(item.get("applicant_visible_notes", visible)),
        not_applicable=policy if policy in NOT_APPLICABLE_POLICIES else None,
        inputs=inputs,
        formula=item.get("formula"),
        benchmarks=item.get("benchmarks"),
        provisional=_provisional(item),
    )


def _text(value: dict) -> Text:
    return Text(value["zh"], value["en"])


def _provisional(node: dict) -> Provisional | None:
    return Provisional(_text(node["provisional_reason"])) if node.get("provisional") else None
