"""Forms for decisions, batches, objections and their resolution."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from certify.applications.kinds import all_kinds, kind_label
from certify.core.forms import DateInRange, RowIdsField
from certify.publication.models import DecisionOutcome

_required = DataRequired(message=_l("This field is required."))

OUTCOME_LABELS = {
    DecisionOutcome.APPROVED: _l("Approve"),
    DecisionOutcome.REJECTED: _l("Reject"),
    DecisionOutcome.RETURNED: _l("Return to the applicant"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DecisionForm(FlaskForm):
    outcome = RadioField(_l("Decision"), validators=[_required],
                         choices=[SelectChoice(o.value, label) for o, label in OUTCOME_LABELS.items()])
    reason = TextAreaField(_l("Reason (required to reject or return; the applicant reads it)"),
                           validators=[Optional(), Length(max=4000)])


class BulkDecisionForm(DecisionForm):
    application_ids = RowIdsField(_l("Applications"))


class BatchForm(FlaskForm):
    title = StringField(_l("Title"), validators=[_required, Length(max=200)],
                        description=_l("For example: 2026 Sichuan green manufacturing list, first batch"))
    kinds = MultiCheckboxField(_l("Kinds of recognition"), validators=[_required], choices=[])
    notice_starts_on = DateField(_l("Notice starts on"), validators=[Optional(), DateInRange()])
    notice_ends_on = DateField(_l("Notice ends on (inclusive)"), validators=[Optional(), DateInRange()],
                               description=_l("Left empty: 15 calendar days from the start."))


    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds.choices = [SelectChoice(kind.key, kind_label(kind.key)) for kind in all_kinds()]


class BatchEntriesForm(FlaskForm):
    application_ids = RowIdsField(_l("Approved applications"))


class ObjectionForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[_required, Length(max=100)])
    contact = StringField(_l("How to reach you (phone or e-mail)"), validators=[_required, Length(max=200)])
    text = TextAreaField(_l("Objection and the facts behind it"), validators=[_required, Length(min=10, max=4000)])
    evidence = FileField(_l("Evidence (optional: PDF, PNG, JPEG, XLSX or DOCX)"))


class ResolutionForm(FlaskForm):
    outcome = RadioField(_l("Resolution"), validators=[_required], choices=[
        SelectChoice("dismissed", _l("Dismiss: the entry stays on the list")),
        SelectChoice("upheld", _l("Uphold: the entry leaves the batch and goes back to decision")),
    ])
    reason = TextAreaField(_l("Reason (the objector reads it)"), validators=[_required, Length(max=4000)])
