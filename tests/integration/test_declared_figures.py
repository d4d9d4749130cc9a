"""A listed factory declares its computed key metrics (energy and carbon intensities) through the
figures they are computed from, as in its self-assessment: the value is computed, compared with
the one at certification, checked for plausibility and read by the cohort grades.

The factory is a 2025 steelworks (GB/T 36132-2025, class 3120, electric arc furnace): at
certification its arc furnace used E = 0.061 tce for Q = 1 t, 0.061 × 1000 ÷ 1 = 61 kgce/t (the
lead assessor's verified figures; the leading value is 61, the baseline 64)."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from certify.auth.models import Role
from certify.grades import services as grades
from certify.management import services
from certify.management.models import Declaration, DeclarationStatus
from certify.plausibility.models import PlausibilityFlag
from tests import factories

ARC = "energy.electric_arc_furnace"
STATEMENTS = {"no_major_accident": "yes", "no_environmental_event": "yes", "no_change": "yes"}


@pytest.fixture()
def steelworks(db):
    admin = factories.make_user(Role.ADMIN)
    certificate = factories.issued_certificate(admin=admin, kind="factory")
    db.session.commit()
    application = certificate.application
    assert application.rule_set_id == "factory-gbt-36132-2025" and application.industry_code == "3120"
    return application


def figures_form(application, **changed) -> dict:
    """Every key metric as at certification (the lead assessor's figures), ``changed`` replacing
    the figures of a computed metric ({input key: text}) or a plain metric's value."""
    verified = services.lead_assessor_answers(application)
    form = dict(STATEMENTS)
    for indicator in services.key_metrics(application):
        given = changed.get(indicator.id, verified.get(indicator.id, (application.answers or {}).get(indicator.id)))
        if indicator.is_computed:
            form |= {f"a-{indicator.id}.{entry.key}": given[entry.key] for entry in indicator.inputs}
        else:
            form[f"a-{indicator.id}"] = given
    return form


def declare(client, application, form, go="submit"):
    return client.post(f"/declarations/applications/{application.id}", data=form | {"go": go})


def declaration_of(db, application) -> Declaration:
    return db.session.execute(select(Declaration).where(
        Declaration.application_id == application.id)).scalar_one()


def test_the_page_asks_the_figures_of_a_computed_metric_with_their_units(client, login_as, steelworks):
    login_as(steelworks.created_by)
    page = client.get(f"/declarations/applications/{steelworks.id}").get_data(as_text=True)

    assert "电弧炉（公称容量≥70吨）工序单位产品能耗" in page
    assert f'name="a-{ARC}.E"' in page and f'name="a-{ARC}.Q"' in page
    assert "评价年该产品综合能耗（不含用作原料的能源）（吨标准煤）" in page
    # The industry's benchmarks are the assessment's, not the unit's: not asked.
    assert 'name="a-carbon.per_value.baseline"' not in page
    assert "电弧炉（公称容量≥70吨）" in page and "61" in page  # the value at certification


def test_a_computed_metric_worse_than_at_certification_is_flagged_with_its_value(
        client, login_as, db, steelworks):
    login_as(steelworks.created_by)
    # 0.07 tce for 1 t: 70 kgce/t, worse than 61 and beyond the baseline 64.
    response = declare(client, steelworks, figures_form(steelworks, **{ARC: {"E": "0.07", "Q": "1"}}))

    declaration = declaration_of(db, steelworks)
    assert response.status_code == 302 and declaration.status == DeclarationStatus.SUBMITTED
    assert declaration.values[ARC] == {"E": "0.07", "Q": "1"}
    assert services.declared_values(declaration)[ARC] == "70"
    assert {"kind": "worse_than_certified", "indicator_id": ARC} in declaration.flags
    assert {"kind": "beyond_baseline", "indicator_id": ARC} in declaration.flags

    shown = client.get(f"/declarations/{declaration.id}").get_data(as_text=True)
    row = shown[shown.index("电弧炉（公称容量≥70吨）"):]
    row = row[:row.index("</tr>")]
    assert "61" in row and "70" in row  # at certification, declared now
    assert "评价年合格产品产量：1 吨" in row  # the figures it was computed from
    assert "劣于认定时数值" in row and "未达到基准值" in row


def test_figures_as_at_certification_raise_no_flag(client, login_as, db, steelworks):
    login_as(steelworks.created_by)
    declare(client, steelworks, figures_form(steelworks))

    declaration = declaration_of(db, steelworks)
    assert declaration.status == DeclarationStatus.SUBMITTED
    assert services.declared_values(declaration)[ARC] == "61"
    assert declaration.flags == []


def test_figures_that_cannot_give_a_value_are_refused_and_the_rest_is_kept(client, login_as, db, steelworks):
    login_as(steelworks.created_by)
    form = figures_form(steelworks, **{ARC: {"E": "0.07", "Q": "0"}, "energy.carbon_platform": "9"})
    page = declare(client, steelworks, form, go="save").get_data(as_text=True)

    declaration = declaration_of(db, steelworks)
    assert ARC not in declaration.values  # a production of 0 t gives no value
    assert declaration.values["energy.carbon_platform"] == "9"
    assert declaration.status == DeclarationStatus.DRAFT
    assert f'id="error-{ARC}"' in page
    assert 'value="0.07"' in page  # what was typed is shown back
    # Submitting is refused while a key metric has no value.
    declare(client, steelworks, form)
    assert declaration_of(db, steelworks).status == DeclarationStatus.DRAFT


def test_the_draft_shows_the_value_computed_from_the_figures_saved(client, login_as, steelworks):
    login_as(steelworks.created_by)
    declare(client, steelworks, figures_form(steelworks, **{ARC: {"E": "0.124", "Q": "2"}}), go="save")

    page = client.get(f"/declarations/applications/{steelworks.id}").get_data(as_text=True)
    assert "按保存的数据计算：62 千克标准煤/吨" in page  # 0.124 × 1000 ÷ 2
    assert 'value="0.124"' in page and 'value="2"' in page


def test_the_plausibility_checks_read_a_declarations_figures(client, login_as, db, steelworks):
    login_as(steelworks.created_by)
    # The arc furnace's energy (2 tce) cannot exceed the whole factory's (1 tce, the renewable
    # share's E): 2 × 1000 ÷ 30 = 66.6667 kgce/t.
    declare(client, steelworks, figures_form(steelworks, **{ARC: {"E": "2", "Q": "30"}}))

    declaration = declaration_of(db, steelworks)
    flags = db.session.execute(select(PlausibilityFlag).where(
        PlausibilityFlag.declaration_id == declaration.id)).scalars().all()
    part = next(flag for flag in flags if flag.rule == "part_exceeds_whole")
    assert {(value["indicator"], value["input"], value["value"]) for value in part.figures} >= {
        (ARC, "E", "2"), ("energy.renewable_share", "E", "1")}


def test_the_grades_rank_a_computed_metric_by_its_declared_value(client, login_as, db, steelworks):
    login_as(steelworks.created_by)
    declare(client, steelworks, figures_form(steelworks, **{ARC: {"E": "0.124", "Q": "2"}}))
    declaration = declaration_of(db, steelworks)

    [unit], directions = grades.units_of([steelworks], {steelworks.id: declaration}, grades.cohort_fields())
    assert unit.values[ARC] == Decimal("62") and directions[ARC] == "lower"
    assert unit.values["energy.renewable_share"] == Decimal("100")  # 1 ÷ 1 × 100
