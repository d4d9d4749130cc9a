"""Command-line tools: creating an administrator and loading demo data."""

from sqlalchemy import func, select

from certify.auth.models import Role, User
from certify.organisations.models import Organisation, OrganisationKind


def test_create_admin_makes_a_working_admin(app, db, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "--email", "Boss@Example.com",
                                 "--name", "厅管理员", "--password", "a strong password"])
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).where(User.email == "boss@example.com")).scalar_one()
    assert user.role == Role.ADMIN
    assert user.organisation.kind == OrganisationKind.AUTHORITY
    assert client.post("/login", data={"email": "boss@example.com",
                                       "password": "a strong password"}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_create_admin_refuses_a_duplicate_clearly(app, db):
    runner = app.test_cli_runner()
    args = ["users", "create-admin", "--email", "boss@example.com", "--name", "x",
            "--password", "a strong password"]
    assert runner.invoke(args=args).exit_code == 0
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")  # the reason, in the default language
    assert db.session.execute(select(func.count()).select_from(User)).scalar() == 1


def test_demo_load_is_idempotent_and_complete(app, db, client):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    counts = lambda: dict(db.session.execute(  # noqa: E731
        select(User.role, func.count()).group_by(User.role)).all())
    assert counts() == {Role.ADMIN: 1, Role.ASSESSOR: 4, Role.APPLICANT: 3, Role.CITY: 3}
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert counts() == {Role.ADMIN: 1, Role.ASSESSOR: 4, Role.APPLICANT: 3, Role.CITY: 3}

    agencies = db.session.execute(
        select(Organisation).where(Organisation.kind == OrganisationKind.AGENCY)).scalars().all()
    assert len(agencies) == 2 and all(len(agency.users) == 2 for agency in agencies)
    applicants = db.session.execute(
        select(Organisation).where(Organisation.kind == OrganisationKind.ENTERPRISE)).scalars().all()
    assert len({organisation.city_code for organisation in applicants}) == 3

    for email in ["admin@example.com", "assessor1@example.com", "applicant1@example.com"]:
        assert client.post("/login", data={"email": email, "password": "certify-demo"}).status_code == 302
        client.post("/logout")
    assert "certify-demo" in first.output


def test_demo_data_shows_the_public_side_at_once(app, db, client):
    from certify.certificates.models import Certificate
    from certify.publication.models import Batch, BatchStatus

    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert runner.invoke(args=["demo", "load"]).exit_code == 0  # still idempotent
    batches = {batch.status: batch for batch in db.session.execute(select(Batch)).scalars()}
    assert set(batches) == {BatchStatus.ANNOUNCED, BatchStatus.IN_NOTICE}
    certificates = db.session.execute(select(Certificate)).scalars().all()
    assert len(certificates) == 4  # three green-manufacturing listings, one zero-carbon pilot
    assert sorted(c.status.value for c in certificates) == ["revoked", "valid", "valid", "valid"]
    assert all(c.pdf_sha256 for c in certificates)  # rendered

    lists = client.get("/lists").get_data(as_text=True)
    assert "攀西绿色钢铁有限公司" in lists
    notice = client.get(f"/notices/{batches[BatchStatus.IN_NOTICE].id}").get_data(as_text=True)
    assert "德阳清源重型机械有限公司旌阳装配厂" in notice
    revoked = next(c for c in certificates if c.status.value == "revoked")
    assert client.get(f"/verify?number={revoked.number}").status_code == 200
