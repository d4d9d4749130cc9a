"""The JSON Schema of a rule file (as read from YAML), and the messages its failures produce.

Structure lives here; rules that a schema cannot say well (unique ids, ordered bands, a step that
divides the maximum, ...) are checked by ``loader``. Numbers reach the schema as ``Decimal`` and
dates as strings, so the ``number`` type is redefined to mean "a finite Decimal".
``criteria/README.md`` documents the same format for people.
"""

from __future__ import annotations

from decimal import Decimal

from jsonschema import Draft202012Validator, validators

_ID = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    "message": "must be an identifier: letters, digits, '.', '_' or '-', starting with a letter or digit",
}
_NUMBER = {"type": "number"}
_NON_NEGATIVE = {"type": "number", "minimum": 0}
_POSITIVE = {"type": "number", "exclusiveMinimum": 0}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "message": "must be a date written YYYY-MM-DD"}
_NON_EMPTY = {"type": "string", "minLength": 1}
_TEXT = {
    "type": "object",
    "properties": {"zh": _NON_EMPTY, "en": _NON_EMPTY},
    "required": ["zh", "en"],
    "additionalProperties": False,
}
_PROVISIONAL = {"provisional": {"type": "boolean"}, "provisional_reason": _TEXT}
_INDUSTRY_CODES = {
    "type": "array",
    "minItems": 1,
    "items": {"type": "string", "pattern": r"^\d{2,4}$", "message": "must be a GB/T 4754 code of 2 to 4 digits, quoted"},
}

_NOT_APPLICABLE = {
    "enum": ["none", "renormalise", "full_points"],
    "message": "must be none, renormalise (left out of the section's maximum) or full_points",
}
_RANGE = {
    "oneOf": [
        {"type": "array", "items": {"type": ["number", "null"]}, "minItems": 2, "maxItems": 2},
        {
            "type": "object",
            "properties": {
                "min": _NUMBER,
                "max": _NUMBER,
                "exclusive_min": {"type": "boolean"},
                "exclusive_max": {"type": "boolean"},
            },
            "minProperties": 1,
            "additionalProperties": False,
        },
    ],
    "message": "must be [min, max] or a mapping of min, max, exclusive_min, exclusive_max",
}

# Keys every indicator may carry, whatever its type.
_COMMON = {
    "id": _ID,
    "type": {"enum": ["requirement", "points", "metric", "choice"]},
    "title": _TEXT,
    "ref": _NON_EMPTY,
    "item": _TEXT,
    "required": {"type": "boolean"},
    "guidance": _TEXT,
    "evidence": {"type": "array", "items": _TEXT},
    "industries": _INDUSTRY_CODES,
    "best_of": _ID,
    "applicant_visible_notes": {"type": "array", "items": _ID},
    "not_applicable": _NOT_APPLICABLE,
    **_PROVISIONAL,
}
_BY_TYPE = {
    "requirement": ({}, []),
    "points": (
        {
            "max": _POSITIVE,
            "step": _POSITIVE,
            "levels": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {"points": _NON_NEGATIVE, "title": _TEXT},
                    "required": ["points", "title"],
                    "additionalProperties": False,
                },
            },
        },
        ["max"],
    ),
    "metric": (
        {
            "unit": {"type": "string", "minLength": 1, "message": "must be a unit of criteria/vocabulary/units.yaml, such as kgce/t"},
            "range": _RANGE,
            "inputs": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "key": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$",
                                "message": "must be a name a formula can use: letters, digits and '_'"},
                        "title": _TEXT,
                        "unit": {"type": "string", "minLength": 1},
                        "range": _RANGE,
                    },
                    "required": ["key", "title", "unit"],
                    "additionalProperties": False,
                },
            },
            "formula": _NON_EMPTY,
            "benchmarks": {"enum": ["assessed"], "message": "must be 'assessed' (baseline and leading value determined by the assessment)"},
            "scoring": {"enum": ["linear", "bands", "limit"]},
            "better": {"enum": ["lower", "higher"]},
            "max": _POSITIVE,
            "baseline": _NUMBER,
            "leading": _NUMBER,
            "limit": _NUMBER,
            "strict": {"type": "boolean"},
            "bands": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {"at": _NUMBER, "points": _POSITIVE},
                    "required": ["at", "points"],
                    "additionalProperties": False,
                },
            },
        },
        ["unit", "scoring", "better"],
    ),
    "choice": (
        {
            "options": {
                "type": "array",
                "minItems": 2,
                "items": {
                    "type": "object",
                    "properties": {"key": _ID, "title": _TEXT, "points": _NON_NEGATIVE},
                    "required": ["key", "title", "points"],
                    "additionalProperties": False,
                },
            }
        },
        ["options"],
    ),
}
_METRIC_BY_SCORING = [
    {
        "if": {"properties": {"scoring": {"const": "linear"}}, "required": ["scoring"]},
        "then": {"required": ["max"], "not": {"required": ["bands"]}},
    },
    {
        "if": {"properties": {"scoring": {"const": "linear"}}, "required": ["scoring"], "not": {"required": ["benchmarks"]}},
        "then": {"required": ["baseline", "leading"]},
    },
    {
        "if": {"required": ["benchmarks"]},
        "then": {"required": ["inputs"], "not": {"anyOf": [{"required": [k]} for k in ("baseline", "leading", "bands")]}},
    },
    {"if": {"required": ["inputs"]}, "then": {"required": ["formula"]}},
    {"if": {"required": ["formula"]}, "then": {"required": ["inputs"]}},
    {
        "if": {"properties": {"scoring": {"const": "bands"}}, "required": ["scoring"]},
        "then": {"required": ["bands"], "not": {"anyOf": [{"required": [k]} for k in ("baseline", "leading", "max")]}},
    },
    {
        "if": {"properties": {"scoring": {"const": "limit"}}, "required": ["scoring"]},
        "then": {"required": ["limit"], "not": {"anyOf": [{"required": [k]} for k in
                                                          ("baseline", "leading", "max", "bands", "benchmarks")]}},
    },
    {
        "if": {"anyOf": [{"required": ["limit"]}, {"required": ["strict"]}]},
        "then": {"properties": {"scoring": {"const": "limit"}}},
    },
]


def _indicator_schema() -> dict:
    branches = []
    for type_name, (properties, required) in _BY_TYPE.items():
        then = {
            "properties": {**_COMMON, **properties},
            "required": ["id", "type", "title", *required],
            "additionalProperties": False,
        }
        if type_name == "metric":
            then["allOf"] = _METRIC_BY_SCORING
        branches.append({"if": {"properties": {"type": {"const": type_name}}, "required": ["type"]}, "then": then})
    return {
        "type": "object",
        "properties": {"type": _COMMON["type"]},
        "required": ["id", "type", "title"],
        "allOf": branches,
    }


_BASIC_REQUIREMENT = {
    "type": "object",
    "properties": {
        key: _COMMON[key]
        for key in ("id", "title", "ref", "guidance", "evidence", "applicant_visible_notes", "not_applicable", *_PROVISIONAL)
    }
    | {"type": {"const": "requirement", "message": "basic requirements are always of type 'requirement'"}},
    "required": ["id", "title"],
    "additionalProperties": False,
}

_VETO_CONDITION = {
    "type": "object",
    "properties": {
        key: _COMMON[key] for key in ("id", "title", "ref", "guidance", "evidence", *_PROVISIONAL)
    }
    | {"type": {"const": "veto", "message": "veto conditions are always of type 'veto'"}},
    "required": ["id", "title"],
    "additionalProperties": False,
}

SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "certify rule file",
    "type": "object",
    "properties": {
        "id": _ID,
        "version": {"type": "string", "minLength": 1},
        "kind": _ID,
        "title": _TEXT,
        "standard": {
            "type": "object",
            "properties": {"code": _NON_EMPTY, "title": _TEXT},
            "required": ["code", "title"],
            "additionalProperties": False,
        },
        "effective_from": _DATE,
        "effective_until": _DATE,
        "industries": _INDUSTRY_CODES,
        "total": _NON_NEGATIVE,
        "pass": {
            "type": "object",
            "properties": {"threshold": {"type": ["number", "null"], "minimum": 0}, **_PROVISIONAL},
            "required": ["threshold"],
            "additionalProperties": False,
        },
        "grades": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"key": _ID, "title": _TEXT, "min": _NON_NEGATIVE, **_PROVISIONAL},
                "required": ["key", "title", "min"],
                "additionalProperties": False,
            },
        },
        "assessor_notes": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"key": _ID, "title": _TEXT, "visible_to_applicant": {"type": "boolean"}},
                "required": ["key", "title", "visible_to_applicant"],
                "additionalProperties": False,
            },
        },
        "veto_conditions": {"type": "array", "items": _VETO_CONDITION},
        "basic_requirements": {"type": "array", "items": _BASIC_REQUIREMENT},
        "sections": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "id": _ID,
                    "title": _TEXT,
                    "weight": _POSITIVE,
                    "not_applicable": _NOT_APPLICABLE,
                    "indicators": {"type": "array", "minItems": 1, "items": _indicator_schema()},
                    **_PROVISIONAL,
                },
                "required": ["id", "title", "indicators"],
                "additionalProperties": False,
            },
        },
        **_PROVISIONAL,
    },
    "required": ["id", "version", "kind", "title", "standard", "effective_from", "total", "pass", "basic_requirements", "sections"],
    "additionalProperties": False,
}


def _is_number(checker, instance) -> bool:
    return isinstance(instance, Decimal) and instance.is_finite()


Validator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("number", _is_number),
)

_TYPE_NAMES = {"string": "a text", "number": "a number", "object": "a mapping", "array": "a list", "boolean": "true or false", "null": "empty"}


def describe(error) -> tuple[list, str]:
    """The key path and a readable message for one ``jsonschema`` error."""
    path = list(error.absolute_path)
    instance, keyword, expected = error.instance, error.validator, error.validator_value
    if keyword == "required":
        missing = [key for key in expected if key not in instance]
        return path, f"missing key {missing[0]!r}" if len(missing) == 1 else f"missing keys {', '.join(map(repr, missing))}"
    if keyword == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        unknown = sorted(str(key) for key in instance if key not in allowed)
        return path + [unknown[0]], f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
    if keyword == "type" and "message" in error.schema and error.schema.get("type") == "string":
        return path, f"{error.schema['message']}, not {_show(instance)}"
    if keyword == "type":
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_TYPE_NAMES[name] for name in names)
        hint = " (quote it)" if "string" in names and isinstance(instance, Decimal) else ""
        return path, f"must be {wanted}, not {_show(instance)}{hint}"
    if keyword == "oneOf" and "message" in error.schema:
        return path, error.schema["message"]
    if keyword in ("enum", "const"):
        if "message" in error.schema:
            return path, error.schema["message"]
        choices = expected if keyword == "enum" else [expected]
        return path, f"must be one of {', '.join(map(str, choices))}, not {_show(instance)}"
    if keyword == "pattern":
        return path, f"{error.schema.get('message', 'has the wrong form')}, not {_show(instance)}"
    if keyword == "minimum":
        return path, f"must be at least {expected}, not {instance}"
    if keyword == "exclusiveMinimum":
        return path, f"must be greater than {expected}, not {instance}"
    if keyword in ("minItems", "minLength"):
        return path, "must not be empty" if expected == 1 else f"needs at least {expected} entries"
    if keyword == "not":
        return path, ("has keys that do not belong together (linear: baseline, leading, max; bands: bands; "
                      "limit: limit and strict, no points; benchmarks: assessed takes neither baseline, leading nor "
                      "bands, which the assessment determines)")
    return path, error.message


def _show(value) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dict, list)):
        return _TYPE_NAMES["object" if isinstance(value, dict) else "array"]
    if value is None:
        return "empty"
    return repr(value)
