"""Announcing a batch lists its entries and issues their certificates; the public lists and
their open-data downloads."""

import csv
import hashlib
import io
import json
import re
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from certify import jobs
from certify.audit.models import AuditEvent
from certify.certificates.models import Certificate
from certify.publication import services
from certify.publication.models import BatchStatus
from certify.timeutil import local_today
from certify.workflow import Status
from tests import factories

EN = {"Accept-Language": "en"}


def announced_batch(db, *, names=("攀西绿色钢铁有限公司", "=HYPERLINK(\"http://evil\")")):
    admin = factories.make_user("admin")
    applications = []
    for name in names:
        organisation = factories.make_organisation(name=name, city_code="510400")
        applicant = factories.make_user("applicant", organisation=organisation)
        applications.append(factories.approved_application(applicant, admin=admin))
    batch = services.create_batch(admin, title="2026年第一批绿色制造名单", kinds=["supply_chain"])
    services.add_to_batch(admin, batch, applications)
    services.open_notice(admin, batch)
    batch.notice_starts_on -= timedelta(days=20)
    batch.notice_ends_on = local_today() - timedelta(days=1)
    db.session.commit()
    return batch, applications, admin


def test_announcing_lists_the_entries_and_issues_one_certificate_each(client, login_as, db):
    batch, applications, admin = announced_batch(db)
    login_as(admin)
    response = client.post(f"/admin/batches/{batch.id}/announce", data={"confirm": "1"})
    assert response.status_code == 302
    assert batch.status == BatchStatus.ANNOUNCED
    assert all(application.status == Status.LISTED for application in applications)
    certificates = db.session.execute(select(Certificate).order_by(Certificate.id)).scalars().all()
    year = local_today().year
    assert [c.number for c in certificates] == [f"SC-GS-{year}-0001", f"SC-GS-{year}-0002"]
    page = client.get(f"/admin/batches/{batch.id}", headers=EN).get_data(as_text=True)
    assert "Rendered: 2" in page
    # Announcing again changes nothing.
    client.post(f"/admin/batches/{batch.id}/announce", data={"confirm": "1"})
    assert len(db.session.execute(select(Certificate)).scalars().all()) == 2


def test_the_public_list_filters_by_kind_city_year_and_name(client, db):
    batch, applications, admin = announced_batch(db)
    services.announce(admin, batch)
    db.session.commit()
    year = local_today().year
    page = client.get(f"/lists?year={year}&kind=supply_chain&city=510400&q=攀西").get_data(as_text=True)
    assert "攀西绿色钢铁有限公司" in page and "HYPERLINK" not in page
    assert "攀西绿色钢铁有限公司" not in client.get("/lists?city=510100").get_data(as_text=True)
    assert "攀西绿色钢铁有限公司" not in client.get("/lists?kind=factory").get_data(as_text=True)
    assert client.get(f"/lists/{batch.id}").status_code == 200


def test_a_list_announced_in_the_first_hours_of_a_chinese_new_year_counts_in_that_year(client, db):
    from datetime import datetime, timezone

    batch, applications, admin = announced_batch(db)
    services.announce(admin, batch)
    batch.announced_at = datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc)  # 1 January 2027, 01:00 in Chengdu
    db.session.commit()
    listed = client.get("/lists?year=2027", headers=EN).get_data(as_text=True)
    assert "攀西绿色钢铁有限公司" in listed and "1 January 2027" in listed
    assert '<option value="2027"' in listed and '<option value="2026"' not in listed
    assert "攀西绿色钢铁有限公司" not in client.get("/lists?year=2026", headers=EN).get_data(as_text=True)


def test_the_public_list_says_how_many_entries_match(client, db):
    batch, applications, admin = announced_batch(db)
    services.announce(admin, batch)
    db.session.commit()
    assert batch.kind_counts == {"supply_chain": 2}

    def total(query: str) -> str:
        return re.search(r"<p>(\d+) entries</p>", client.get(f"/lists{query}", headers=EN).get_data(as_text=True)).group(1)

    assert (total(""), total("?kind=supply_chain"), total("?kind=factory")) == ("2", "2", "0")
    assert total("?q=攀西") == "1"  # a search is counted over the rows themselves
    batch.kind_counts = None  # as for a batch announced before the counts were kept
    db.session.commit()
    assert (total(""), total("?kind=supply_chain"), total("?kind=factory")) == ("2", "2", "0")


def test_downloads_are_safe_to_open_in_spreadsheet_software(client, db):
    batch, applications, admin = announced_batch(db)
    services.announce(admin, batch)
    db.session.commit()
    rows = list(csv.reader(io.StringIO(client.get(f"/lists/{batch.id}.csv").data.decode("utf-8-sig"))))
    assert rows[1][0] == "攀西绿色钢铁有限公司"
    assert rows[2][0] == "'=HYPERLINK(\"http://evil\")"
    assert rows[1][5].startswith("SC-GS-")

    sheet = load_workbook(io.BytesIO(client.get(f"/lists/{batch.id}.xlsx").data)).active
    values = [cell.value for cell in sheet["B"]]
    assert "'=HYPERLINK(\"http://evil\")" in values
    # A Chinese sheet name, each row numbered, the column titles kept in view, columns wide enough.
    assert sheet.title == "名单" and [cell.value for cell in sheet["A"]][1:] == ["序号 No.", 1, 2]
    assert sheet.freeze_panes == "A3" and sheet.column_dimensions["B"].width >= len("攀西绿色钢铁有限公司") * 2
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)

    data = json.loads(client.get(f"/lists/{batch.id}.json").data)
    assert data["batch"]["title"] == "2026年第一批绿色制造名单"
    assert data["batch"]["announced_at"].endswith("+08:00")  # a moment says its time zone
    assert {entry["organisation"] for entry in data["entries"]} >= {"攀西绿色钢铁有限公司"}


def test_the_downloads_are_made_once_when_announced_and_served_as_stored(client, db):
    batch, applications, admin = announced_batch(db)
    services.announce(admin, batch)
    db.session.commit()
    db.session.refresh(batch)
    assert set(batch.exports) == {"csv", "xlsx", "json"}
    for fmt, stored in batch.exports.items():
        response = client.get(f"/lists/{batch.id}.{fmt}")
        assert response.status_code == 200
        assert hashlib.sha256(response.data).hexdigest() == stored["sha256"]
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert client.get(f"/lists/{batch.id}.{fmt}", headers={"If-None-Match": f'"{stored["sha256"]}"'}).status_code == 304
    # The list as announced: a later change of name does not rewrite the published file.
    applications[0].organisation.name = "改名后的公司"
    db.session.commit()
    assert "改名后的公司" not in client.get(f"/lists/{batch.id}.csv").data.decode("utf-8-sig")
    events = db.session.execute(select(AuditEvent).where(AuditEvent.action == "batch.exports_stored")).scalars().all()
    assert [event.object_id for event in events] == [str(batch.id)]


def test_a_download_is_built_on_the_spot_until_its_file_is_stored(client, db, monkeypatch):
    batch, applications, admin = announced_batch(db)
    monkeypatch.setattr(jobs, "run_job", lambda func, *args: None)  # the jobs stay queued
    services.announce(admin, batch)
    db.session.commit()
    assert batch.exports is None
    rows = list(csv.reader(io.StringIO(client.get(f"/lists/{batch.id}.csv").data.decode("utf-8-sig"))))
    assert rows[1][0] == "攀西绿色钢铁有限公司" and rows[1][3] == "绿色供应链管理企业 Green Supply-Chain Management Enterprise"


def test_a_batch_not_yet_announced_has_no_public_list(client, db):
    batch, applications, admin = announced_batch(db)
    assert client.get(f"/lists/{batch.id}").status_code == 404
    assert client.get(f"/lists/{batch.id}.csv").status_code == 404


def test_announcing_is_confirmed_on_a_page_that_says_what_will_happen(client, login_as, db):
    batch, applications, admin = announced_batch(db)
    login_as(admin)
    page = client.post(f"/admin/batches/{batch.id}/announce", headers=EN).get_data(as_text=True)
    assert "What will happen" in page and "This cannot be undone. Nothing has been saved yet." in page
    assert "2 organisations are put on the announced list" in page
    assert "A certificate is issued to each of them (2)" in page
    assert batch.status == BatchStatus.IN_NOTICE and db.session.execute(select(Certificate)).first() is None
    assert 'name="confirm" value="1"' in page and f'href="/admin/batches/{batch.id}"' in page  # confirm or cancel


def test_a_revoked_certificate_is_marked_on_the_lists_and_in_their_files(client, db):
    from certify.certificates import services as certificates

    batch, applications, admin = announced_batch(db)
    [kept, revoked] = services.announce(admin, batch)
    db.session.commit()
    db.session.refresh(batch)
    announced_files = dict(batch.exports)
    certificates.revoke_certificate(admin, revoked, "falsification", "伪造能耗数据")
    db.session.commit()

    for path in ("/lists", f"/lists/{batch.id}"):
        page = client.get(path, headers=EN).get_data(as_text=True)
        row = next(r for r in page.split("<tr")[1:] if revoked.number in r)
        assert 'class="revoked"' in row and "Revoked" in row
        assert "Revoked" not in next(r for r in page.split("<tr")[1:] if kept.number in r)
    rows = {row[5]: row for row in csv.reader(io.StringIO(client.get(f"/lists/{batch.id}.csv").data.decode("utf-8-sig")))}
    assert rows["证书编号 Certificate number"][7:] == ["证书状态 Certificate status", "撤销日期 Revoked on"]
    assert rows[revoked.number][7:] == ["已撤销 Revoked", local_today().isoformat()]
    assert rows[kept.number][7:] == ["有效 Valid", ""]
    # The files as first announced are kept, named in the audit log.
    db.session.refresh(batch)
    assert batch.exports["csv"]["sha256"] != announced_files["csv"]["sha256"]
    outdated = db.session.execute(select(AuditEvent).where(AuditEvent.action == "batch.exports_outdated")).scalar_one()
    assert outdated.details["files"] == announced_files
