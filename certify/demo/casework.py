"""Work in progress in the demonstration, each case taken there by the services
(``certify.demo.builders``), so that the pages of the newer capabilities have something to show:

- a self-assessment under assessment whose figures raise plausibility flags: the steelworks'
  energy use of its electric arc furnace typed in kilograms of standard coal where tonnes are
  asked, so the energy per tonne of steel comes out about 1000 times the national limit, and the
  furnace uses more energy than the whole factory (the flags are raised by the check run on
  submission, and left open for the assessor or the department);
- a zero-carbon factory pilot, listed on a pilot list of its own, with this year's progress
  report filed;
- a submitted application waiting for its city bureau (Panzhihua's queue, when
  CERTIFY_CITY_REVIEW_KINDS is set) or, without the setting, for the department's assignment.

Cohort grades are not demonstrated: a cohort is graded from 20 listed units of one kind and
industry class (``CERTIFY_GRADE_MINIMUM_COHORT``), each with a declaration of a closed period,
which the demonstration does not have; the grades page says so.

Call after ``load_public_demo``, then commit; loading twice changes nothing.
"""

from sqlalchemy import select

from certify.applications.models import Application
from certify.demo import builders
from certify.demo.accounts import ADMIN_EMAIL, user
from certify.demo.public import LEAD_EMAIL, through_city
from certify.extensions import db
from certify.pilots import services as pilots
from certify.rulesets.forms import ParsedAnswers

APPLICANT_EMAIL = "applicant1@example.com"
FLAGGED_SUBJECT = "攀西绿色钢铁有限公司电弧炉短流程炼钢车间"
# The furnace's energy use in the evaluation year typed in kgce where tce is asked (a unit slip):
# 61,000,000 typed for 61,000 tce over 1,000,000 t of steel gives 61,000 kgce/t instead of 61,
# about 850 times grade 3 of GB 21256 (72 kgce/t, criteria/limits/energy-consumption-limits.yaml),
# and more than the whole factory's 80,000 tce. Demonstration figures.
UNIT_SLIP = {"energy.electric_arc_furnace": {"E": "61000000", "Q": "1000000"},
             "energy.renewable_share": {"Ere": "80000", "E": "80000"}}
WAITING_SUBJECT = "攀西绿色钢铁有限公司绿色供应链"

PILOT_EMAIL = "applicant3@example.com"
PILOT_SUBJECT = "宜宾竹韵纸业有限公司零碳工厂建设试点"
PILOT_LIST_TITLE = "2026年四川省零碳工厂建设试点名单"
# The pilot's base year as it applied, and its figures a year into construction (demonstration
# figures): CO2 per energy used 12,000 / 10,000 = 1.2 tCO2/tce, then 10,500 / 10,000 = 1.05; the
# non-fossil share 40 %, then 48 %; electricity physically from non-fossil sources 20 %, then 30 %.
PILOT_BASE_YEAR = {
    "core.carbon_per_energy": {"C": "12000", "E": "10000"},
    "core.non_fossil_share": {"N": "4000", "E": "10000"},
    "core.physical_green_power": {"G": "1000000", "W": "5000000"},
}
PILOT_PROGRESS = {
    "core.carbon_per_energy": {"C": "10500", "E": "10000"},
    "core.non_fossil_share": {"N": "4800", "E": "10000"},
    "core.physical_green_power": {"G": "1500000", "W": "5000000"},
}
PILOT_NARRATIVE = ("屋顶分布式光伏一期（5 兆瓦）并网发电，竹浆蒸煮余热回收改造完成，燃煤锅炉改为生物质锅炉；"
                   "二期光伏和储能项目正在施工。")


def _exists(subject: str) -> bool:
    return db.session.execute(select(Application.id).where(Application.subject == subject)).first() is not None


def _flagged_self_assessment() -> Application:
    """Submitted with the unit slip (the check flags it), recommended by the city where needed,
    and under assessment by the demo's lead assessor."""
    application = builders.submitted(user(APPLICANT_EMAIL), kind="factory", subject=FLAGGED_SUBJECT,
                                     figures=UNIT_SLIP)
    builders.under_assessment(through_city(application), admin=user(ADMIN_EMAIL), lead=user(LEAD_EMAIL))
    return application


def _pilot() -> Application:
    """A zero-carbon factory assessed, approved and announced on a pilot list, then its
    progress report of the current period filed."""
    admin, applicant = user(ADMIN_EMAIL), user(PILOT_EMAIL)
    application = through_city(builders.submitted(applicant, kind="zero_carbon_factory",
                                                  subject=PILOT_SUBJECT, figures=PILOT_BASE_YEAR))
    builders.assessed(application, admin=admin, lead=user(LEAD_EMAIL))
    builders.decided(application, admin=admin)
    builders.announced(builders.in_notice([application], admin=admin, title=PILOT_LIST_TITLE), admin=admin,
                       notice_ended_days_ago=10)
    pilots.file_report(applicant, application, pilots.current_period(), ParsedAnswers(answers=PILOT_PROGRESS),
                       PILOT_NARRATIVE)
    return application


def load_casework_demo() -> None:
    """Create the cases unless they exist."""
    if not _exists(FLAGGED_SUBJECT):
        _flagged_self_assessment()
    if not _exists(PILOT_SUBJECT):
        _pilot()
    if not _exists(WAITING_SUBJECT):
        builders.submitted(user(APPLICANT_EMAIL), kind="supply_chain", subject=WAITING_SUBJECT)
