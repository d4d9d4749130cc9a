"""Forms of the verification page and of the admin's certificate pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from certify.certificates.models import REASON_TEXTS, REMOVAL_GROUNDS


class CheckFileForm(FlaskForm):
    """A PDF someone was given, to compare with the one issued."""

    number = StringField(
        _l("Certificate number"), validators=[Optional(), Length(max=60)],
        description=_l("Optional: without it the file is looked up by its content."))
    pdf = FileField(_l("Certificate PDF"), validators=[FileRequired(_l("Choose the PDF file."))])


class RevokeForm(FlaskForm):
    reason = SelectField(_l("Reason"),
                         validators=[DataRequired(_l("Choose the reason for revoking."))])
    note = TextAreaField(_l("Note (published with the revocation)"),
                         validators=[Optional(), Length(max=2000)])

    def fill_choices(self, language: str) -> None:
        self.reason.choices = [SelectChoice("", _l("— choose —"))] + [
            SelectChoice(reason.value, REASON_TEXTS[reason].zh if language == "zh" else REASON_TEXTS[reason].en)
            for reason in REMOVAL_GROUNDS
        ]
