"""Forms of ongoing management. The metric fields of a declaration are built from the rule file
(see ``applications/answers.py``); the statements, the review and the filters are here."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

YES_NO = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]


def _statement(label):
    return RadioField(label, choices=YES_NO, validators=[Optional()])


class DeclarationForm(FlaskForm):
    version = HiddenField()
    no_major_accident = _statement(
        _l("No safety or quality accident of the “relatively major” level (较大) or above "
           "occurred in the period."))
    no_environmental_event = _statement(
        _l("No environmental event of level III or above occurred in the period."))
    no_change = _statement(_l("The organisation's name and the scope recognised are unchanged."))
    change_description = TextAreaField(
        _l("If the name or scope changed, describe the change"),
        validators=[Optional(), Length(max=4000)])


class ReviewForm(FlaskForm):
    note = TextAreaField(_l("Review note"), validators=[
        DataRequired(message=_l("This field is required.")), Length(max=4000)])


class DeclarationFilterForm(FlaskForm):
    class Meta:
        csrf = False

    period = SelectField(_l("Period"), validators=[Optional()], validate_choice=False)
    flag = SelectField(_l("Flags"), validators=[Optional()], choices=[
        SelectChoice("", _l("All")), SelectChoice("flagged", _l("Flagged")),
        SelectChoice("clear", _l("Not flagged"))])
    status = SelectField(_l("Status"), validators=[Optional()], choices=[
        SelectChoice("", _l("Submitted and reviewed")),
        SelectChoice("submitted", _l("Waiting for review")), SelectChoice("reviewed", _l("Reviewed"))])


class MissedFilterForm(FlaskForm):
    """The closed period whose declarations missed are listed (choices set by the view)."""

    class Meta:
        csrf = False

    period = SelectField(_l("Period"), validators=[Optional()], validate_choice=False)
