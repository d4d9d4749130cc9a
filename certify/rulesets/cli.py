"""``flask criteria``: list, check, show and score rule files; rescore listed units under a new edition.

Tools outside the project call these commands, so their JSON layouts are a stable contract:

- ``list [--json]``: ``[{"id", "version", "kind", "title": {"zh", "en"}, "path", "effective_from",
  "effective_until", "in_force"}]`` (``in_force``: for new applications today, China time)
- ``check [PATH...]``: every fault as ``file:line: key path: message``, all at once, the answer
  mappings (``mappings/``) of each directory checked included; exit 1 when there is any
- ``show ID [--version V] [--json]``: ``{"id", "version", "kind", "threshold", "indicators":
  [{"id", "type", "section", "max", "options"?}]}``; ``options`` (``[{"key", "points"}]``) only for
  choices
- ``score FILE ANSWERS.json [--industry CODE]``: ``Result.to_dict()``; ANSWERS.json is
  ``{"answers": {...}, "not_applicable": {"X13": "reason"}}``; bad input exits 2 with
  ``file:indicator: message``
- ``rescore --to ID [--json] [--csv PATH] [--xlsx PATH]``: every approved and listed unit re-scored
  under the latest version of ID through ``criteria/mappings/``; ``--json`` prints ``{"to": {"id",
  "version"}, "threshold", "counts": {"pass", "fail", "lacks_data"}, "not_mapped": {"id@version":
  n}, "missing": {indicator id: units}, "units": [{"application_id", "reference", "organisation",
  "credit_code", "industry_code", "status", "rule_set", "decided": {"total", "passed"}, "total",
  "best_total", "outcome", "missing": [ids]}]}``; nothing is changed

Numbers are decimal strings; thresholds are those a new application would be opened with, the
deployment's override (``CRITERIA_THRESHOLDS``) included.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from certify.core.spreadsheets import to_csv, to_xlsx
from certify.rulesets.editions import COLUMNS, export_rows, rescore_listed
from certify.rulesets.registry import RuleSetUnavailable, collect, collect_mappings
from certify.scoring import AnswerError, RuleFileError, load, read_answers
from certify.scoring.engine import CENT
from certify.timeutil import local_today

criteria_cli = AppGroup("criteria", help="Rule files: list, check, show, score and rescore.")


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
    today = local_today()
    rows = [
        {
            "id": rs.id, "version": rs.version, "kind": rs.kind, "title": {"zh": rs.title.zh, "en": rs.title.en},
            "path": rs.path, "effective_from": rs.effective_from.isoformat(),
            "effective_until": rs.effective_until.isoformat() if rs.effective_until else None,
            "in_force": rs.in_force_on(today),
        }
        for rs in _registry().all()
    ]
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        period = f"{row['effective_from']}–{row['effective_until'] or ''}"
        state = "in force" if row["in_force"] else "not in force"
        click.echo(f"{row['id']:<34} {row['version']:<8} {row['kind']:<13} {period:<22} {state:<13} "
                   f"{row['title']['zh']} / {row['title']['en']}")


@criteria_cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path())
def check_command(paths: tuple[str, ...]) -> None:
    """Check rule files (all of the rule-file directory by default) and the answer mappings of
    each directory checked; exit 1 listing every error."""
    paths = paths or (current_app.config["CRITERIA_DIR"],)
    rule_sets, problems = collect(paths, _registry().vocabulary)
    mappings = []
    for directory in (path for path in paths if Path(path).is_dir()):
        found, refused = collect_mappings(directory, rule_sets)
        mappings += found
        problems += refused
    for problem in problems:
        click.echo(str(problem))
    counted = f"{len(rule_sets)} rule set(s)" + (f", {len(mappings)} mapping(s)" if mappings else "")
    if problems:
        click.echo(f"{len(problems)} error(s); {counted} accepted.", err=True)
        raise SystemExit(1)
    click.echo(f"{counted} OK.")


@criteria_cli.command("show")
@click.argument("rule_set_id")
@click.option("--version", "version", default=None, help="The version to show (the highest by default).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show_command(rule_set_id: str, version: str | None, as_json: bool) -> None:
    """Show a rule set's indicators (its highest version unless --version is given)."""
    registry = _registry()
    try:
        rule_set = registry.get(rule_set_id, version)
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
@click.option("--industry", default=None, help="The organisation's GB/T 4754-2017 class, e.g. 3120.")
def score_command(file: str, answers_file: str, industry: str | None) -> None:
    """Score ANSWERS.json ({"answers": {id: answer}, "not_applicable": {id: reason}}) against the
    rule file FILE."""
    registry = _registry()
    if industry is not None and not registry.vocabulary.is_industry_code(industry):
        _fail(f"--industry {industry}: not a division, group or class of GB/T 4754-2017 (e.g. 3120)")
    try:
        rule_set = load(file, registry.vocabulary)
    except RuleFileError as error:
        _fail(str(error))
    try:
        document = json.loads(Path(answers_file).read_text(encoding="utf-8"), parse_float=Decimal,
                              parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
    except (OSError, ValueError) as error:
        _fail(f"{answers_file}: cannot read the answers: {error}")
    if not isinstance(document, dict) or not isinstance(document.get("answers"), dict) or set(document) - {
            "answers", "not_applicable"} or not isinstance(document.get("not_applicable", {}), dict):
        _fail(f'{answers_file}: must be a JSON object {{"answers": {{"<indicator id>": answer}}, '
              f'"not_applicable": {{"<indicator id>": "reason"}}}}')
    try:
        values, _texts = read_answers(rule_set, document["answers"], registry.vocabulary)
        result = registry.score(rule_set, values, industry=industry, not_applicable=document.get("not_applicable"))
    except AnswerError as error:
        _fail(f"{answers_file}:{error.indicator_id}: {error.message}")
    _echo_json(result.to_dict())


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object whose keys are all different (a repeated key is refused, never "last wins")."""
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} is given twice")
        seen[key] = value
    return seen


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def _fail(message: str) -> None:
    click.echo(message, err=True)
    raise SystemExit(2)


@criteria_cli.command("rescore")
@click.option("--to", "target_id", required=True, help="The new edition's rule-set id, e.g. factory-gbt-36132-2025.")
@click.option("--json", "as_json", is_flag=True, help="Print every unit as JSON.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True), help="Also write the list as CSV.")
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, writable=True), help="Also write the list as XLSX.")
def rescore_command(target_id: str, as_json: bool, csv_path: str | None, xlsx_path: str | None) -> None:
    """Re-score every approved and listed unit under a new edition, through the answer mappings
    of criteria/mappings/; changes nothing."""
    registry = _registry()
    for problem in registry.mapping_problems:
        click.echo(f"mapping refused: {problem}", err=True)
    try:
        target = registry.get(target_id)
    except RuleSetUnavailable as error:
        raise click.ClickException(str(error)) from None
    if not registry.mappings_to(target.id):
        raise click.ClickException(f"no mapping in criteria/mappings/ leads to {target.id}")
    run = rescore_listed(target.id)
    rows = export_rows(run)
    if csv_path:
        Path(csv_path).write_bytes(to_csv(rows, COLUMNS))
    if xlsx_path:
        Path(xlsx_path).write_bytes(to_xlsx(rows, COLUMNS, f"{run.target.id} {run.target.version}"))
    summary = {
        "to": {"id": run.target.id, "version": run.target.version}, "threshold": _number(run.threshold),
        "counts": run.counts, "not_mapped": dict(run.unmapped),
        "missing": dict(run.missing_counts),
    }
    if as_json:
        _echo_json(summary | {"units": [{
            "application_id": u.application_id, "reference": u.reference, "organisation": u.organisation,
            "credit_code": u.credit_code, "industry_code": u.industry_code, "status": u.status.value,
            "rule_set": u.rule_set, "decided": {"total": _number(u.decided_total), "passed": u.decided_passed},
            "total": _number(u.total), "best_total": _number(u.best_total), "outcome": u.outcome,
            "missing": list(u.missing)} for u in run.units]})
        return
    click.echo(f"{run.target.id} {run.target.version}: {len(run.units)} unit(s) re-scored; "
               f"pass mark {_number(run.threshold) or 'none (pass/fail)'}")
    for outcome, count in run.counts.items():
        click.echo(f"  {outcome:<11} {count}")
    for rule_set, count in sorted(run.unmapped.items()):
        click.echo(f"  not mapped: {rule_set}: {count} unit(s)")
    if run.missing_counts:
        click.echo("lacking data (units): " + ", ".join(f"{i} {n}" for i, n in run.missing_counts))
    for u in run.units:
        click.echo(f"{u.reference}  {u.rule_set}  {_number(u.decided_total) or '-':>6} -> {_number(u.total):>6} "
                   f"(at most {_number(u.best_total)})  {u.outcome}  {u.organisation}")
