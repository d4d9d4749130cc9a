"""Admin console forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from certify.auth.models import Role

_required = DataRequired(message=_l("This field is required."))


class StaffUserForm(FlaskForm):
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(Role.ASSESSOR.value, _l("Assessor")),
                 SelectChoice(Role.ADMIN.value, _l("Administrator"))],
        validators=[_required],
    )
    organisation_id = SelectField(
        _l("Assessment agency"), coerce=int, validate_choice=False,
        description=_l("Assessors belong to an agency; administrators to the department."),
    )
    name = StringField(_l("Name"), validators=[_required, Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[_required, Length(max=254)])


class ActionForm(FlaskForm):
    """A form with nothing but the CSRF token, for buttons that change state."""
