"""Assessment forms: agencies, assessors' expertise, conflicts, assignment and the score sheet's
details. The per-indicator scoring fields are built from the rule file itself (as the
self-assessment pages are; see ``applications/answers.py``). Choice labels are filled in per
request, in the user's language."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from certify.applications.kinds import all_kinds, kind_label
from certify.assessment.models import (
    MAX_HIGHLIGHTS_LENGTH,
    RECOMMENDATION_LABELS,
    RELATION_LABELS,
    ConflictRelation,
    Recommendation,
)
from certify.auth.forms import OrganisationFieldsMixin, city_choices
from certify.core.forms import DateInRange, RowIdsField
from certify.i18n import current_language
from certify.organisations.reference import INDUSTRIES

_required = DataRequired(message=_l("This field is required."))


class CheckboxesField(SelectMultipleField):
    """Several choices shown as a list of check boxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AgencyProfileForm(FlaskForm):
    legal_representative = StringField(
        _l("Legal representative"), validators=[_required, Length(max=100)],
        description=_l("Signs the agency's integrity pledge in each evaluation report."))
    qualification = TextAreaField(
        _l("Qualification"), validators=[Optional(), Length(max=500)],
        description=_l("For example the number of full-time evaluators and their titles."))


class AgencyForm(OrganisationFieldsMixin, AgencyProfileForm):
    """A new assessment agency: the organisation and its profile."""


class AssessorProfileForm(FlaskForm):
    kinds = CheckboxesField(_l("Kinds of recognition evaluated"), validate_choice=False)
    industries = CheckboxesField(_l("Industries (GB/T 4754)"), validate_choice=False)
    city_code = SelectField(_l("Based in"), validators=[Optional()])
    title = StringField(_l("Professional title"), validators=[Optional(), Length(max=100)],
                        description=_l("For example senior engineer."))

    def fill_choices(self):
        language = current_language()
        self.kinds.choices = [SelectChoice(kind.key, kind_label(kind.key)) for kind in all_kinds()]
        self.industries.choices = [SelectChoice(i.code, f"{i.code} {i.name(language)}")
                                   for i in INDUSTRIES]
        self.city_code.choices = city_choices()


class ConflictForm(FlaskForm):
    credit_code = StringField(_l("Unified social credit code of the organisation"),
                              validators=[_required, Length(max=40)])
    organisation_name = StringField(
        _l("Organisation name"), validators=[Optional(), Length(max=200)],
        description=_l("May be left empty for an organisation registered here."))
    relation = SelectField(_l("Relation"), validators=[_required])
    starts_on = DateField(_l("From"), validators=[_required, DateInRange()])
    ends_on = DateField(_l("Until"), validators=[Optional(), DateInRange()],
                        description=_l("Leave empty while the relation continues."))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])

    def fill_choices(self):
        self.relation.choices = [SelectChoice(r.value, RELATION_LABELS[r]) for r in ConflictRelation]


class AssignForm(FlaskForm):
    lead_id = SelectField(_l("Lead assessor"), coerce=int, validators=[_required],
                          validate_choice=False)
    second_id = SelectField(_l("Second assessor (optional)"), coerce=int, validate_choice=False)
    due_on = DateField(_l("Due date"), validators=[Optional(), DateInRange()],
                       description=_l("Leave empty for the default period."))

    def fill_choices(self, assessors):
        people = [SelectChoice(a.id, f"{a.name} · {a.organisation.name}") for a in assessors]
        self.lead_id.choices = [SelectChoice(0, _l("— choose —"))] + people
        self.second_id.choices = [SelectChoice(0, _l("— none —"))] + people


class SecondAssessorForm(FlaskForm):
    second_id = SelectField(_l("Second assessor"), coerce=int, validators=[_required],
                            validate_choice=False)
    due_on = DateField(_l("Due date"), validators=[Optional(), DateInRange()],
                       description=_l("Leave empty for the default period."))

    def fill_choices(self, assessors):
        self.second_id.choices = [SelectChoice(0, _l("— choose —"))] + [
            SelectChoice(a.id, f"{a.name} · {a.organisation.name}") for a in assessors]


class BulkAssignForm(AssignForm):
    application_ids = RowIdsField(_l("Applications"))
    confirm = HiddenField()


class RescoreForm(FlaskForm):
    reason = TextAreaField(_l("Why the application is re-scored"), validators=[_required, Length(max=2000)],
                           description=_l("The earlier results are kept beside the new ones, and the re-score is "
                                          "recorded in the audit log."))


class WithdrawAssignmentForm(FlaskForm):
    reason = TextAreaField(_l("Why the assignment is withdrawn"), validators=[_required, Length(max=4000)],
                           description=_l("Told to the assessors and kept in the assignment history; the "
                                          "applicant is told only that new assessors will be assigned."))
    confirm = HiddenField()


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Reason for declining"), validators=[_required, Length(max=4000)])


class SheetDetailsForm(FlaskForm):
    version = HiddenField()
    site_visit_on = DateField(_l("Date of the on-site visit"), validators=[Optional(), DateInRange()])
    site_visit_participants = TextAreaField(
        _l("Participants"), validators=[Optional(), Length(max=4000)],
        description=_l("Assessors and the applicant's staff present, with their roles."))
    site_visit_findings = TextAreaField(_l("Findings on site"), validators=[Optional(), Length(max=20000)])
    conclusion = TextAreaField(
        _l("Overall opinion"), validators=[Optional(), Length(max=20000)],
        description=_l("The evaluation's conclusion, as the report states it."))
    highlights = TextAreaField(
        _l("Highlights"), validators=[Optional(), Length(max=MAX_HIGHLIGHTS_LENGTH)],
        description=_l("At most %(count)d characters.", count=MAX_HIGHLIGHTS_LENGTH))
    recommendation = RadioField(
        _l("Recommendation to the department"), validators=[Optional()],
        choices=[SelectChoice(r.value, RECOMMENDATION_LABELS[r]) for r in Recommendation],
        validate_choice=False)
    return_questions = TextAreaField(
        _l("Questions for the applicant"), validators=[Optional(), Length(max=4000)],
        description=_l("Required when recommending a return."))
