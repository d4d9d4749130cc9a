"""Admin console forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from certify.auth.models import Role
from certify.organisations.forms import IndustryField

_required = DataRequired(message=_l("This field is required."))


class StaffUserForm(FlaskForm):
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(Role.ASSESSOR.value, _l("Assessor")),
                 SelectChoice(Role.ADMIN.value, _l("Administrator")),
                 SelectChoice(Role.CITY.value, _l("City bureau (pre-review)"))],
        validators=[_required],
    )
    organisation_id = SelectField(
        _l("Organisation"), coerce=int, validate_choice=False,
        description=_l("Assessors belong to an agency, city bureau staff to their city's bureau; administrators "
                       "to the department."),
    )
    name = StringField(_l("Name"), validators=[_required, Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[_required, Length(max=254)])



class OrganisationEditForm(FlaskForm):
    name = StringField(_l("Organisation name"), validators=[_required, Length(max=200)])
    city_code = SelectField(_l("City or prefecture"), validators=[_required])
    industry_code = IndustryField(_l("Industry class (GB/T 4754-2017)"), validators=[Length(max=100)])
    address = StringField(_l("Address"), validators=[Length(max=300)])
    contact_name = StringField(_l("Contact person"), validators=[Length(max=100)])
    contact_phone = StringField(_l("Contact phone"), validators=[Length(max=40)])

    def __init__(self, *args, **kwargs):
        from certify.auth.forms import city_choices

        super().__init__(*args, **kwargs)
        self.city_code.choices = city_choices()
