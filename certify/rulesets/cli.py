"""``flask criteria``: list, check, show and score rule files.

Tools outside the project call these commands, so their JSON layouts are a stable contract:

- ``list [--json]``: ``[{"id", "version", "kind", "title": {"zh", "en"}, "path"}]``
- ``check [PATH...]``: every error as ``file:line: key path: message``; exit 1 when there is any
- ``show ID [--json]``: ``{"id", "version", "kind", "threshold", "indicators": [{"id", "type",
  "section", "max", "options"?}]}``; ``options`` (``[{"key", "points"}]``) only for choices
- ``score FILE ANSWERS.json [--industry CODE]``: ``Result.to_dict()``; exit 2 on bad input

Numbers are decimal strings; thresholds include the deployment's override (``CRITERIA_THRESHOLDS``).
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from certify.rulesets.registry import RuleSetUnavailable, collect
from certify.scoring import AnswerError, RuleFileError, load
from certify.scoring.engine import CENT

criteria_cli = AppGroup("criteria", help="Rule files: list, check, show and score.")


def _registry():
    from certify.rulesets import current_registry

    return current_registry()


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _number(value: Decimal | None) -> str | None:
    """Points as the engine prints them: a decimal string with two places."""
    return None if value is None else str(value.quantize(CENT, ROUND_HALF_UP))


@criteria_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(as_json: bool) -> None:
    """List the rule sets of the rule-file directory."""
    rows = [
        {"id": rs.id, "version": rs.version, "kind": rs.kind, "title": {"zh": rs.title.zh, "en": rs.title.en}, "path": rs.path}
        for rs in _registry().all()
    ]
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['id']:<34} {row['version']:<8} {row['kind']:<13} {row['title']['zh']} / {row['title']['en']}")


@criteria_cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path())
def check_command(paths: tuple[str, ...]) -> None:
    """Check rule files (all of the rule-file directory by default); exit 1 listing every error."""
    rule_sets, problems = collect(paths or [current_app.config["CRITERIA_DIR"]])
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.echo(f"{len(problems)} error(s); {len(rule_sets)} rule set(s) accepted.", err=True)
        raise SystemExit(1)
    click.echo(f"{len(rule_sets)} rule set(s) OK.")


@criteria_cli.command("show")
@click.argument("rule_set_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show_command(rule_set_id: str, as_json: bool) -> None:
    """Show a rule set's indicators (its highest version)."""
    registry = _registry()
    try:
        rule_set = registry.get(rule_set_id)
    except RuleSetUnavailable as error:
        raise click.ClickException(str(error)) from None
    indicators = []
    for indicator in rule_set.indicators:
        row = {"id": indicator.id, "type": indicator.type, "section": indicator.section, "max": _number(indicator.max)}
        if indicator.type == "choice":
            row["options"] = [{"key": o.key, "points": _number(o.points)} for o in indicator.options]
        indicators.append(row)
    threshold = registry.threshold(rule_set)
    if as_json:
        _echo_json({
            "id": rule_set.id, "version": rule_set.version, "kind": rule_set.kind,
            "threshold": _number(threshold), "indicators": indicators,
        })
        return
    click.echo(f"{rule_set.id} {rule_set.version} ({rule_set.kind}) {rule_set.title.zh} / {rule_set.title.en}")
    click.echo(f"standard {rule_set.standard.code}; threshold {_number(threshold) or 'none (pass/fail)'}")
    for indicator, row in zip(rule_set.indicators, indicators, strict=True):
        flags = "required" if indicator.required else "optional"
        click.echo(f"  {row['section']:<18} {row['id']:<34} {row['type']:<12} max {row['max']:<6} {flags:<8} {indicator.title.zh}")


@criteria_cli.command("score")
@click.argument("file", type=click.Path())
@click.argument("answers_file", metavar="ANSWERS.json", type=click.Path())
@click.option("--industry", default=None, help="The organisation's GB/T 4754 code, e.g. 31 or 3120.")
def score_command(file: str, answers_file: str, industry: str | None) -> None:
    """Score ANSWERS.json ({"answers": {id: answer}}) against the rule file FILE."""
    try:
        rule_set = load(file)
    except RuleFileError as error:
        _fail(str(error))
    try:
        document = json.loads(Path(answers_file).read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, ValueError) as error:
        _fail(f"{answers_file}: cannot read the answers: {error}")
    if not isinstance(document, dict) or not isinstance(document.get("answers"), dict):
        _fail(f'{answers_file}: must be a JSON object {{"answers": {{"<indicator id>": answer}}}}')
    try:
        result = _registry().score(rule_set, document["answers"], industry=industry)
    except AnswerError as error:
        _fail(f"{answers_file}: {error}")
    _echo_json(result.to_dict())


def _fail(message: str) -> None:
    click.echo(message, err=True)
    raise SystemExit(2)
