"""Forms of the construction pilots. A report's indicator fields are built from the rule file
(``certify.rulesets.forms``); the narrative, the mid-term review and the acceptance are here."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from certify.pilots.models import MIDTERM_DECISION_LABELS, MidtermDecision

_REQUIRED = DataRequired(message=_l("This field is required."))


class ReportForm(FlaskForm):
    narrative = TextAreaField(_l("Progress of the construction tasks"), validators=[_REQUIRED, Length(max=4000)])


class MidtermForm(FlaskForm):
    decision = RadioField(_l("Conclusion of the mid-term review"), validators=[_REQUIRED], choices=[
        SelectChoice(d.value, MIDTERM_DECISION_LABELS[d]) for d in MidtermDecision])
    reason = TextAreaField(_l("Reason (required to remove the pilot)"), validators=[Optional(), Length(max=4000)])


class AcceptanceForm(FlaskForm):
    decision = RadioField(_l("Conclusion of the acceptance"), validators=[_REQUIRED], choices=[
        SelectChoice("accept", _l("Accept")), SelectChoice("refuse", _l("Refuse"))])
    emitted = StringField(_l("Carbon dioxide emitted in the final year (tCO2)"),
                          validators=[_REQUIRED, Length(max=40)])
    energy = StringField(_l("Comprehensive energy use in the final year (tce)"),
                         validators=[_REQUIRED, Length(max=40)])
    note = TextAreaField(_l("Acceptance opinion"), validators=[_REQUIRED, Length(max=4000)])
