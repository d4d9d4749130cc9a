"""The settings are read and checked once, at start: a bad value stops the application with a
message naming the variable and what it accepts; the environment is read, and ``create_app``'s
own settings win over it."""

from decimal import Decimal
from pathlib import Path

import pytest

from certify import SettingError, create_app
from certify.config import Settings, load_settings
from tests.conftest import test_config as config_for


@pytest.fixture()
def config(database_url, tmp_path):
    return config_for(database_url, tmp_path / "storage")


@pytest.mark.parametrize("name, value, message", [
    ("CERTIFY_AGENCY_YEARLY_CAP", "many", "CERTIFY_AGENCY_YEARLY_CAP must be a whole number of at least 1, not 'many'"),
    ("CERTIFY_NOTICE_DAYS", "0", "CERTIFY_NOTICE_DAYS must be a whole number of at least 1, not '0'"),
    ("CERTIFY_SCORE_DISAGREEMENT_MARGIN", "wide", "CERTIFY_SCORE_DISAGREEMENT_MARGIN must be a number of at least 0"),
    ("CERTIFY_TOTAL_DISAGREEMENT_MARGIN", "-1", "CERTIFY_TOTAL_DISAGREEMENT_MARGIN must be a number of at least 0"),
    ("CERTIFY_CAP_UNIT", "person", "CERTIFY_CAP_UNIT must be one of legal_representative, agency, not 'person'"),
    ("CERTIFY_REQUIRE_TOTP_FOR_STAFF", "maybe", "CERTIFY_REQUIRE_TOTP_FOR_STAFF must be one of 1, true, yes, on, 0"),
    ("CERTIFY_CERTIFICATE_PREFIX", "sc-", "CERTIFY_CERTIFICATE_PREFIX must be 1 to 8 capital letters or digits"),
    ("CERTIFY_DECLARATION_DUE_DATES", "02-30", "CERTIFY_DECLARATION_DUE_DATES must be month-day pairs"),
    ("CERTIFY_MAX_UPLOAD_MB", "20MB", "CERTIFY_MAX_UPLOAD_MB must be a whole number of at least 1, not '20MB'"),
    ("CERTIFY_CRITERIA_THRESHOLDS", '{"a": "70", "a": "75"}', "CERTIFY_CRITERIA_THRESHOLDS must be a JSON object "
     "that names each key once"),
    ("CERTIFY_CRITERIA_THRESHOLDS", '["70"]', "CERTIFY_CRITERIA_THRESHOLDS must be a JSON object"),
    ("MAIL_USE_TLS", "maybe", "MAIL_USE_TLS must be one of 1, true, yes, on, 0"),
])
def test_a_bad_value_in_the_environment_stops_the_start_naming_the_variable(config, monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingError, match=message):
        create_app(config)


def test_a_bad_value_given_to_create_app_stops_the_start_too(config):
    with pytest.raises(SettingError, match="CERTIFY_RESET_MAILS_PER_HOUR must be a whole number"):
        create_app(config | {"CERTIFY_RESET_MAILS_PER_HOUR": 0})


def test_a_review_proposed_before_the_warning_is_refused(config):
    with pytest.raises(SettingError, match="CERTIFY_MISSED_REVIEW_AFTER at least as large"):
        create_app(config | {"CERTIFY_MISSED_WARNING_AFTER": 3, "CERTIFY_MISSED_REVIEW_AFTER": 2})


def test_the_environment_is_read_and_typed(config, monkeypatch):
    monkeypatch.setenv("CERTIFY_AGENCY_YEARLY_CAP", " 12 ")
    monkeypatch.setenv("CERTIFY_CAP_UNIT", "agency")
    monkeypatch.setenv("CERTIFY_SCORE_DISAGREEMENT_MARGIN", "0.5")
    monkeypatch.setenv("CERTIFY_REQUIRE_TOTP_FOR_STAFF", "yes")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")

    app = create_app(config)

    assert app.config["CERTIFY_AGENCY_YEARLY_CAP"] == 12
    assert app.config["CERTIFY_CAP_UNIT"] == "agency"
    assert app.config["CERTIFY_SCORE_DISAGREEMENT_MARGIN"] == Decimal("0.5")
    assert app.config["CERTIFY_REQUIRE_TOTP_FOR_STAFF"] is True
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert app.extensions["certify.settings"].certify_agency_yearly_cap == 12


def test_create_apps_own_settings_win_over_the_environment(config, monkeypatch):
    monkeypatch.setenv("CERTIFY_AGENCY_YEARLY_CAP", "12")
    monkeypatch.setenv("CERTIFY_CERTIFICATE_VALIDITY_YEARS", "5")

    app = create_app(config | {"CERTIFY_AGENCY_YEARLY_CAP": 2, "CERTIFY_CERTIFICATE_VALIDITY_YEARS": "4"})

    assert app.config["CERTIFY_AGENCY_YEARLY_CAP"] == 2
    assert app.config["CERTIFY_CERTIFICATE_VALIDITY_YEARS"] == 4


def test_unset_and_empty_variables_take_the_documented_defaults():
    settings = load_settings({}, {"CERTIFY_NOTICE_DAYS": ""})

    assert settings == Settings()
    assert settings.as_config()["CERTIFY_NOTICE_DAYS"] == 15
    assert settings.as_config()["CERTIFY_DECLARATION_DUE_DATES"] == "01-15,07-15"
    assert settings.as_config()["CERTIFY_AGENCY_YEARLY_CAP"] == 15


def test_the_files_and_sizes_are_read_from_the_environment_into_flasks_keys(config, monkeypatch):
    monkeypatch.setenv("CERTIFY_CRITERIA_THRESHOLDS", '{"supply-chain-miit-2016": "75"}')
    monkeypatch.setenv("CERTIFY_MAX_UPLOAD_MB", "150")
    monkeypatch.setenv("CERTIFY_ALLOWED_HOSTS", "lvse.example.gov.cn, 10.0.0.5")

    app = create_app(config)

    assert app.config["CRITERIA_THRESHOLDS"] == {"supply-chain-miit-2016": "75"}
    assert app.config["CERTIFY_MAX_UPLOAD_BYTES"] == 150 * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] == 151 * 1024 * 1024
    assert app.config["TRUSTED_HOSTS"] == ["lvse.example.gov.cn", "10.0.0.5"]
    assert app.config["CERTIFY_TRUST_ROOTS"] == str(Path(app.instance_path) / "keys" / "trusted")
