"""What a hostile probe found, each shown fixed: numbers too large for the database in query
parameters, line breaks in the address to return to, wildcards typed into a search, a doubled
charset, answers of megabytes, the health check telling the database's address."""

import pytest

from certify.rulesets.forms import MAX_ANSWER_LENGTH
from tests import factories
from tests.integration.test_assessment import EN

HUGE = ["9" * 60, str(2**63 - 1), str(2**31), "-5", "1e9", "0x10", ""]


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize("path", ["/lists", "/notices", "/lists?year={v}", "/lists?year={v}&page={v}"])
def test_public_lists_take_any_page_or_year_without_failing(client, db, path, value):
    url = path.format(v=value) if "{v}" in path else f"{path}?page={value}"
    response = client.get(url, headers=EN)
    assert response.status_code in (200, 302), (url, response.status_code)


@pytest.mark.parametrize("path", ["/admin/applications", "/admin/users", "/admin/organisations",
                                  "/admin/certificates", "/admin/audit", "/assessment/under-way",
                                  "/admin/certificates?year={big}"])
def test_signed_in_lists_take_any_page_without_failing(client, login_as, db, path):
    login_as("admin")
    big = "9" * 60
    url = path.format(big=big) if "{big}" in path else f"{path}?page={big}"
    response = client.get(url, headers=EN)
    assert response.status_code == 200, (url, response.status_code)


@pytest.mark.parametrize("target", ["/\r\n//evil.example", "/\n/evil.example", "/\t//evil.example",
                                    "/\u2028//evil.example"])
def test_a_return_address_with_line_breaks_leads_home_not_to_a_failure(client, db, target):
    user = factories.make_user("applicant")
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD,
                                           "next": target})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/workbench")
    switched = client.post("/language", data={"language": "en", "next": target})
    assert switched.status_code == 302 and "evil" not in switched.headers["Location"]


def test_percent_and_underscore_in_a_search_are_the_characters_themselves(client, login_as, db):
    from certify.auth.models import User

    login_as("admin")
    factories.make_user("applicant", name="张三")
    factories.make_user("applicant", name="李_四")
    db.session.commit()
    names = {user.name for user in db.session.query(User)}
    assert {"张三", "李_四"} <= names
    everyone = client.get("/admin/users?q=%25", headers=EN).get_data(as_text=True)
    assert "张三" not in everyone and "李_四" not in everyone
    underscored = client.get("/admin/users?q=_", headers=EN).get_data(as_text=True)
    assert "李_四" in underscored and "张三" not in underscored
    public = client.get("/lists?q=%25", headers=EN)
    assert public.status_code == 200


def test_a_batch_file_says_its_charset_once(client, db):
    from certify.publication import services as publication

    admin = factories.make_user("admin")
    application = factories.approved_application()
    batch = publication.create_batch(admin, title="2026年第一批", kinds=[application.kind])
    publication.add_to_batch(admin, batch, [application])
    db.session.commit()
    batch.status = publication.BatchStatus.ANNOUNCED  # the file's headers are what is tested here
    db.session.commit()
    response = client.get(f"/lists/{batch.id}.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_an_answer_of_hundreds_of_kilobytes_is_refused_and_not_shown_back_whole(client, login_as, db):
    from certify.rulesets.applied import pages, rule_set_of
    from certify.rulesets.forms import answer_field

    user = login_as("applicant")
    application = factories.make_application(user, kind="factory", subject="工厂")
    db.session.commit()
    rule_set = rule_set_of(application)
    page_id, _section, indicators = next(
        (page_id, section, indicators) for page_id, section, indicators in pages(rule_set, application.industry_code)
        if any(i.type == "metric" and not i.is_computed for i in indicators))
    metric = next(i for i in indicators if i.type == "metric" and not i.is_computed)
    huge = "1" * 400_000  # under the form's memory limit, so the answer itself is what is refused
    response = client.post(f"/applications/{application.id}/sections/{page_id}", headers=EN,
                           data={answer_field(metric.id): huge, "go": "stay"})
    assert response.status_code in (200, 400)
    body = response.get_data(as_text=True)
    assert f"at most {MAX_ANSWER_LENGTH} characters" in body
    assert len(body) < 300_000
    db.session.expire_all()
    assert metric.id not in (application.answers or {})


def test_without_a_base_address_no_link_is_built_from_a_host_header(make_app, db):
    from sqlalchemy import select

    from certify.mail.models import MailMessage

    app = make_app(CERTIFY_BASE_URL=None)
    with app.app_context():
        user = factories.make_user("applicant")
        db.session.commit()
        email = user.email
    client = app.test_client()
    response = client.post("/password/forgot", data={"email": email}, headers={"Host": "evil.example", **EN})
    assert response.status_code == 503
    assert "address is not configured" in response.get_data(as_text=True)
    with app.app_context():
        bodies = db.session.execute(select(MailMessage.body)).scalars().all()
    assert not any("evil.example" in body for body in bodies)


def test_allowed_hosts_are_enforced_and_links_use_them(make_app, db, outbox):


    app = make_app(CERTIFY_BASE_URL=None, TRUSTED_HOSTS=["lvse.example.gov.cn"])
    with app.app_context():
        user = factories.make_user("applicant")
        db.session.commit()
        email = user.email
    client = app.test_client()
    refused = client.post("/password/forgot", data={"email": email}, headers={"Host": "evil.example"})
    assert refused.status_code == 400
    sent = client.post("/password/forgot", data={"email": email}, headers={"Host": "lvse.example.gov.cn"})
    assert sent.status_code == 302
    [message] = outbox
    assert "http://lvse.example.gov.cn/password/set/" in message.body


def test_the_queue_and_the_worker_recycling_are_read_from_the_environment(monkeypatch, tmp_path):
    from certify import config
    from certify.jobs import queue_name

    monkeypatch.setenv("CERTIFY_QUEUE", "sichuan-a")
    monkeypatch.setenv("CERTIFY_WORKER_JOBS_PER_PROCESS", "250")
    monkeypatch.setenv("CERTIFY_ALLOWED_HOSTS", "lvse.example.gov.cn, 10.0.0.5")
    settings = config.from_environment(tmp_path) | config.load_settings({}).as_config()
    assert settings["CERTIFY_QUEUE"] == "sichuan-a"
    assert settings["CERTIFY_WORKER_JOBS_PER_PROCESS"] == 250
    assert settings["TRUSTED_HOSTS"] == ["lvse.example.gov.cn", "10.0.0.5"]

    class App:
        config = settings

    assert queue_name(App) == "sichuan-a"


def test_two_deployments_sharing_one_redis_keep_their_jobs_apart(make_app, db):
    from redis import Redis

    from certify.jobs import job_queue

    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    names = ("certify-test-a", "certify-test-b")
    for name in names:
        redis.delete(f"rq:queue:{name}")
    try:
        first = make_app(REDIS_URL="redis://127.0.0.1:6379/0", CERTIFY_QUEUE=names[0])
        second = make_app(REDIS_URL="redis://127.0.0.1:6379/0", CERTIFY_QUEUE=names[1])
        with first.app_context():
            job_queue().enqueue("builtins.print", "a")
            job_queue().enqueue("builtins.print", "a")
        with second.app_context():
            job_queue().enqueue("builtins.print", "b")
        assert (redis.llen(f"rq:queue:{names[0]}"), redis.llen(f"rq:queue:{names[1]}")) == (2, 1)
    finally:
        for name in names:
            for job_id in redis.lrange(f"rq:queue:{name}", 0, -1):
                redis.delete(f"rq:job:{job_id.decode()}")
            redis.delete(f"rq:queue:{name}")


def test_a_file_just_under_the_upload_limit_fits_in_the_request(monkeypatch, tmp_path):
    from certify import config

    monkeypatch.setenv("CERTIFY_MAX_UPLOAD_MB", "150")
    monkeypatch.setenv("CERTIFY_MAX_REQUEST_MB", "120")
    settings = config.from_environment(tmp_path)
    assert settings["MAX_CONTENT_LENGTH"] >= settings["CERTIFY_MAX_UPLOAD_BYTES"] + 1024 * 1024


def test_a_nul_in_any_value_of_a_repeated_parameter_is_refused(client, db):
    assert client.get("/lists?q=a&q=b%00c").status_code == 400
    assert client.post("/verify", data={"number": ["SC-GF-2026-0001", "x\x00"]}).status_code == 400
