"""Parts of pages drawn once and reused (``certify.core.fragments``): the navigation, the filters'
option lists and the rows of the long lists. A reader never sees one drawn for another language,
another role or values that have since changed."""

from certify.certificates import services as certificates
from certify.organisations import services as organisations
from certify.publication import services
from tests.integration.test_announcement_and_lists import announced_batch

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def rows_of(page: str) -> list[str]:
    return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr")[1:]


def test_a_list_shows_what_changed_after_its_rows_were_drawn(client, db, login_as):
    batch, applications, admin = announced_batch(db, names=("攀西绿色钢铁有限公司", "川南化工有限公司"))
    [kept, revoked] = services.announce(admin, batch)
    db.session.commit()
    login_as(admin)
    before_public = client.get("/lists", headers=ZH).get_data(as_text=True)
    before_admin = client.get("/admin/applications", headers=ZH).get_data(as_text=True)
    assert "川南化工有限公司" in before_public and "川南化工有限公司" in before_admin
    assert "已撤销" not in "".join(rows_of(before_public))

    certificates.revoke_certificate(admin, revoked, "falsification", "伪造能耗数据")
    organisations.update_organisation(admin, applications[1].organisation, name="川南新材料有限公司")
    db.session.commit()

    public = client.get("/lists", headers=ZH).get_data(as_text=True)
    row = next(r for r in rows_of(public) if revoked.number in r)
    assert "川南新材料有限公司" in row and "川南化工有限公司" not in public
    assert 'class="revoked"' in row and "已撤销" in row
    assert "已撤销" not in next(r for r in rows_of(public) if kept.number in r)
    admin_page = client.get("/admin/applications", headers=ZH).get_data(as_text=True)
    changed = next(r for r in rows_of(admin_page) if "川南新材料有限公司" in r)
    assert "已撤销" in changed and "川南化工有限公司" not in admin_page


def test_each_language_gets_its_own_rows_and_filters(client, db):
    batch, _, admin = announced_batch(db, names=("攀西绿色钢铁有限公司",))
    services.announce(admin, batch)
    db.session.commit()
    chinese = client.get("/lists", headers=ZH).get_data(as_text=True)
    english = client.get("/lists", headers=EN).get_data(as_text=True)
    assert "攀枝花市" in rows_of(chinese)[0] and "Panzhihua" in rows_of(english)[0]
    assert "全部市（州）" in chinese and "All cities" in english and "All cities" not in chinese
    assert "Verify a certificate" in english and "Verify a certificate" not in chinese


def test_each_role_gets_its_own_navigation(client, db, login_as):
    anonymous = client.get("/", headers=EN).get_data(as_text=True)
    assert "Log in" in anonymous and "Admin console" not in anonymous and "Workbench" not in anonymous
    login_as("applicant")
    applicant = client.get("/", headers=EN).get_data(as_text=True)
    assert "Workbench" in applicant and "Colleagues' accounts" in applicant and "Admin console" not in applicant
    client.post("/logout")
    login_as("admin")
    admin = client.get("/", headers=EN).get_data(as_text=True)
    assert "Admin console" in admin and "Colleagues' accounts" not in admin
