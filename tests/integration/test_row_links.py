"""A list links each row to the address ``url_for`` gives, under any mount point."""

from flask import url_for

from certify.core.urls import url_builder


def test_a_row_link_is_the_address_url_for_builds(app):
    for root in ("", "/certify"):
        with app.test_request_context(environ_overrides={"SCRIPT_NAME": root}):
            link = url_builder("applications.show", "application_id")
            for application_id in (1, 42, 987654321, 10**12):
                assert link(application_id) == url_for("applications.show", application_id=application_id)
            assert link(7) == f"{root}/applications/7"
