"""Forms of the grades pages: running a grading, filtering a run, deciding on a removal."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional


class RunForm(FlaskForm):
    """The closed period to grade (choices set by the view)."""

    period = SelectField(_l("Declaration period (due date)"), validators=[DataRequired()],
                         validate_choice=False)


class RunFilterForm(FlaskForm):
    class Meta:
        csrf = False

    run = SelectField(_l("Run"), validators=[Optional()], validate_choice=False)
    cohort = SelectField(_l("Cohort"), validators=[Optional()], validate_choice=False)


class RemovalDecisionForm(FlaskForm):
    application_id = HiddenField()
    decision = RadioField(_l("Decision"), choices=[
        SelectChoice("keep", _l("Keep on the list")),
        SelectChoice("remove", _l("Remove from the list (revoke the certificate)"))],
        validators=[DataRequired(message=_l("Choose keep or remove."))])
    note = TextAreaField(_l("Reason"), validators=[
        DataRequired(message=_l("This field is required.")), Length(max=4000)])
