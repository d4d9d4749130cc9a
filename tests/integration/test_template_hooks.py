"""Template hooks: a page names a place, areas add their parts to it in their order, and a part
whose context says there is nothing to show adds nothing."""

from jinja2 import ChoiceLoader, DictLoader

from certify.core.hooks import register_template_hook, template_hook
from tests import factories


def test_parts_come_in_their_order_and_a_part_with_nothing_to_show_adds_nothing(make_app):
    app = make_app()
    app.jinja_env.loader = ChoiceLoader([DictLoader({
        "test/first.html": "first:{{ subject }};", "test/second.html": "second:{{ subject }}-{{ extra }};",
        "test/silent.html": "never shown"}), app.jinja_env.loader])
    register_template_hook(app, "test-place", "test/second.html", context=lambda subject: {"extra": subject * 2}, order=20)
    register_template_hook(app, "test-place", "test/silent.html", context=lambda subject: None, order=15)
    register_template_hook(app, "test-place", "test/first.html", order=10)
    with app.test_request_context():
        assert str(template_hook("test-place", subject="甲")) == "first:甲;second:甲-甲甲;"
        assert str(template_hook("nowhere", subject="甲")) == ""


def test_the_application_page_shows_the_certificate_before_the_re_evaluation_and_the_assessment(
        app, client, login_as, db):
    certificate = factories.issued_certificate()
    application = certificate.application
    login_as(application.created_by)
    page = client.get(f"/applications/{application.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert certificate.number in page
    assert page.index('class="certificate-block"') < page.index('class="re-evaluation-block"')
