"""``flask tiers``: the city bureaus."""

import click
from flask.cli import AppGroup

from certify.extensions import db
from certify.tiers.bureaus import ensure_city_bureaus

tiers_cli = AppGroup("tiers", help="City bureaus and the national recommendation.")


@tiers_cli.command("cities")
def create_city_bureaus() -> None:
    """Create the bureau (市（州）经济和信息化局) of each of the 21 cities and prefectures that has
    none yet; running it again changes nothing."""
    created = ensure_city_bureaus()
    db.session.commit()
    for bureau in created:
        click.echo(f"{bureau.city_code} {bureau.name}")
    click.echo(f"{len(created)} city bureaus created.")
