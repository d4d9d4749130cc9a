"""``flask grades run [--period YYYY-MM-DD]``: grade a closed declaration period (the last closed
one by default), as the department would from its page; each run is kept."""

import click
from flask.cli import AppGroup

from certify.exceptions import ServiceError
from certify.extensions import db

grades_cli = AppGroup("grades", help="Cohort grades (企业绿码) of listed units.")


@grades_cli.command("run")
@click.option("--period", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The due date of the closed period to grade; default: the last closed period.")
def run(period) -> None:
    """Grade every listed unit of the kinds configured from its declaration of the period."""
    from certify.grades import services

    try:
        grading = services.grade_period(None, period.date() if period else None)
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    click.echo(f"Period {grading.period.isoformat()} graded (run {grading.id}): "
               f"{len(grading.grades)} unit(s).")
    for cohort in services.cohorts_of(grading):
        counts = ", ".join(f"{name} {count}" for name, count in sorted(cohort["counts"].items()))
        state = "graded" if cohort["is_graded"] else "not graded"
        click.echo(f"  {cohort['cohort']}: {cohort['size']} compared, {state} ({counts})")
