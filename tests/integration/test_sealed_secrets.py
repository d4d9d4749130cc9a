"""Second-factor seeds sealed at rest: the database (and so every dump and backup of it) holds
them encrypted under a key kept outside it, while logging in with a code works as before."""

import pyotp
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from certify.extensions import db as _db
from tests import factories
from tests.integration.test_second_factor import _enable, next_code


def stored_seed(db, user_id: int) -> str:
    return db.session.execute(text("SELECT totp_secret FROM users WHERE id = :id"), {"id": user_id}).scalar_one()


def test_the_database_holds_the_seed_sealed_and_the_code_still_logs_in(client, login_as, db):
    user = login_as("applicant")
    seed = _enable(client)
    stored = stored_seed(db, user.id)
    assert stored.startswith("sealed1:") and seed not in stored
    assert user.totp_secret == seed
    client.post("/logout")
    client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert client.post("/login/two-factor", data={"code": next_code(seed)}).status_code == 302
    assert client.get("/account/password").status_code == 200


def test_seeds_stored_before_are_sealed_by_the_migration(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'seeds.sqlite3'}")
    seed = pyotp.random_base32()
    with app.app_context():
        upgrade()
        user = factories.make_user("assessor")
        _db.session.commit()
        user_id = user.id
        downgrade(revision="e7b3f9a2c518")
        _db.session.execute(text("UPDATE users SET totp_secret = :seed WHERE id = :id"), {"seed": seed, "id": user_id})
        _db.session.commit()
        upgrade()
        stored = _db.session.execute(text("SELECT totp_secret FROM users WHERE id = :id"), {"id": user_id}).scalar_one()
        assert stored.startswith("sealed1:") and seed not in stored
        _db.session.expire_all()
        assert _db.session.get(type(user), user_id).totp_secret == seed
        # And back: the column holds the plain seed again.
        downgrade(revision="e7b3f9a2c518")
        assert _db.session.execute(text("SELECT totp_secret FROM users WHERE id = :id"),
                                   {"id": user_id}).scalar_one() == seed


def test_an_administrator_switches_off_a_lost_second_factor(app, client, login_as, db, outbox):
    from tests.integration.test_assessment import client_for

    user = login_as("assessor", preferred_language="en")
    _enable(client)
    admin = factories.make_user("admin")
    db.session.commit()
    browser = client_for(app, admin)
    assert f'/admin/users/{user.id}/second-factor' in browser.get(f"/admin/users?q={user.email}").get_data(as_text=True)
    assert browser.post(f"/admin/users/{user.id}/second-factor").status_code == 302
    db.session.expire_all()
    assert user.totp_secret is None and user.totp_enabled_at is None
    assert client.get("/account/password").status_code == 302  # the open session has ended
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.headers["Location"] != "/login/two-factor"
    [told] = [m for m in outbox if m.recipient == user.email]
    assert told.subject == "Your second factor has been switched off" and "/account/two-factor" in told.body
    # Not by anyone else.
    applicant = factories.make_user("applicant")
    db.session.commit()
    assert client_for(app, applicant).post(f"/admin/users/{admin.id}/second-factor").status_code in (403, 404)
