"""``flask`` command groups: ``flask users …``, ``flask demo …`` and ``flask pdf …``."""

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from certify.exceptions import ServiceError
from certify.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")
demo_cli = AppGroup("demo", help="Demonstration data.")
pdf_cli = AppGroup("pdf", help="PDF rendering.")


@users_cli.command("create-admin")
@click.option("--email", prompt=True, help="The administrator's e-mail address.")
@click.option("--name", prompt=True, help="The administrator's name.")
@click.password_option(help="At least 8 characters.")
def create_admin(email: str, name: str, password: str) -> None:
    """Create an administrator account."""
    from certify.auth import services
    from certify.auth.models import Role

    try:
        user = services.create_staff_user(
            None, email=email, name=name, role=Role.ADMIN,
            organisation=services.authority_organisation(), password=password,
        )
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    click.echo(f"Administrator {user.email} created.")


@demo_cli.command("load")
@click.option("--scale", type=click.IntRange(min=0), default=0,
              help="Also add this many applications in bulk, in every state (see certify/demo/scale.py).")
def demo_load(scale: int) -> None:
    """Load the demonstration data (safe to run again; --scale N adds N applications each time)."""
    from certify.demo import DEMO_PASSWORD, load_casework_demo, load_demo, load_public_demo

    logins = load_demo()
    db.session.commit()
    load_public_demo()
    db.session.commit()
    load_casework_demo()
    db.session.commit()
    if scale:
        from certify.demo.scale import load_scale

        click.echo(f"Adding {scale} applications in bulk:")
        load_scale(scale, echo=click.echo)
        db.session.commit()
    click.echo("Demo data loaded. Log in with any of these (password: %s):" % DEMO_PASSWORD)
    for email, role in logins:
        click.echo(f"  {role:<10} {email}")


@pdf_cli.command("prepare-fonts")
def pdf_prepare_fonts() -> None:
    """Prepare the Chinese PDF font once (a minute the first time), and report problems."""
    from certify.pdf import pdf_health, prepare_fonts

    problems = pdf_health()
    for problem in problems:
        click.echo(f"PDF: {problem}", err=True)
    if any("fonts-noto-cjk" in problem for problem in problems):
        return
    for face, path in prepare_fonts().items():
        click.echo(f"PDF font ({face}): {path}")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run background jobs from Redis (needs REDIS_URL)."""
    from flask import current_app

    from certify.jobs import run_worker

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: jobs run inline in the web processes.")
    raise SystemExit(run_worker(current_app._get_current_object(), burst=burst))


def init_app(app: Flask) -> None:
    app.cli.add_command(worker)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(pdf_cli)
