"""Forms for opening and submitting applications. The self-assessment pages are built from the
rule file itself (see ``rulesets/forms.py``)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

_required = DataRequired(message=_l("This field is required."))


class NewApplicationForm(FlaskForm):
    kind = SelectField(_l("Kind of recognition"), validators=[_required])
    subject = StringField(
        _l("What is to be recognised"), validators=[_required, Length(max=200)],
        description=_l("The production site, the product (name and models), the park, or the group."),
    )
    subject_detail = TextAreaField(
        _l("Details"), validators=[Optional(), Length(max=500)],
        description=_l("For example the site's address, or the product models covered."),
    )
    rule_set_id = SelectField(_l("Product rule set"), validators=[Optional()], validate_choice=False,
                              description=_l("Green design products only: the product's evaluation rules."))

    def fill_choices(self, kinds, product_rule_sets, language: str):
        self.kind.choices = [SelectChoice(kind.key, kind.title.zh if language == "zh" else kind.title.en)
                             for kind in kinds]
        self.rule_set_id.choices = [SelectChoice("", _l("— choose —"))] + [
            SelectChoice(rs.id, rs.title.zh if language == "zh" else rs.title.en)
            for rs in product_rule_sets
        ]


class SubmitForm(FlaskForm):
    version = HiddenField()
    pledge_accepted = BooleanField(
        _l("I pledge that all materials and data in this application are true, accurate and "
           "complete, and accept responsibility for any falsification."),
        validators=[DataRequired(message=_l("The pledge must be accepted to submit."))],
    )
    pledge_name = StringField(_l("Signed by (your full name)"), validators=[_required, Length(max=100)])


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), Length(max=1000)])


class ReturnForm(FlaskForm):
    version = IntegerField(validators=[Optional()])
    note = TextAreaField(_l("Questions for the applicant"), validators=[_required, Length(max=4000)])


class EvidenceUploadForm(FlaskForm):
    indicator_id = HiddenField()
    version = HiddenField()


class WorkbookUploadForm(FlaskForm):
    """The self-assessment workbook, filled in, uploaded back into the draft."""

    workbook = FileField(_l("Filled-in workbook (.xlsx)"),
                         validators=[FileRequired(_l("Choose the filled-in workbook to upload."))])
