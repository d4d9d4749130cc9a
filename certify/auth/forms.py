"""Account forms. Choice labels are filled in per request, in the user's language."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from certify.auth.services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from certify.i18n import current_language
from certify.organisations.forms import IndustryField
from certify.organisations.models import OrganisationKind
from certify.organisations.reference import cities

_password_length = Length(
    min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
    message=_l("A password needs %(min)d to %(max)d characters."),
)
_required = DataRequired(message=_l("This field is required."))


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[_required, Length(max=254)])
    password = PasswordField(_l("Password"), validators=[_required, Length(max=MAX_PASSWORD_LENGTH)])
    next = HiddenField()


def city_choices():
    language = current_language()
    return [SelectChoice("", _l("— choose —"))] + [
        SelectChoice(city.code, city.name(language)) for city in cities()
    ]


class OrganisationFieldsMixin:
    """Fields that describe an organisation (registration and the admin console)."""

    organisation_name = StringField(_l("Organisation name"), validators=[_required, Length(max=200)])
    credit_code = StringField(
        _l("Unified social credit code"), validators=[_required, Length(max=40)],
        description=_l("18 characters, as printed on the business licence."),
    )
    city_code = SelectField(_l("City or prefecture"), validators=[_required])
    industry_code = IndustryField(
        _l("Industry class (GB/T 4754-2017)"), validators=[Optional(), Length(max=100)],
        description=_l("Required for enterprises: type the four-digit class or its name and pick it from the "
                       "list, e.g. 3120 炼钢. The energy indicators an application is scored on follow from it."),
    )
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=100)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40)])

    def fill_organisation_choices(self):
        self.city_code.choices = city_choices()

    def organisation_data(self, kind) -> dict:
        return {
            "kind": kind,
            "name": self.organisation_name.data,
            "credit_code": self.credit_code.data,
            "city_code": self.city_code.data,
            "industry_code": self.industry_code.data or None,
            "address": self.address.data or "",
            "contact_name": self.contact_name.data or "",
            "contact_phone": self.contact_phone.data or "",
        }


class RegistrationForm(OrganisationFieldsMixin, FlaskForm):
    kind = SelectField(
        _l("Organisation type"),
        choices=[
            SelectChoice(OrganisationKind.ENTERPRISE.value, _l("Enterprise")),
            SelectChoice(OrganisationKind.PARK_COMMITTEE.value, _l("Industrial park management committee")),
        ],
        validators=[_required],
    )
    name = StringField(_l("Your name"), validators=[_required, Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[_required, Length(max=254)])
    password = PasswordField(_l("Password"), validators=[_required, _password_length])
    confirm_password = PasswordField(
        _l("Repeat the password"),
        validators=[_required, EqualTo("password", message=_l("The two passwords differ."))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fill_organisation_choices()


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[_required, Length(max=254)])


class SetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[_required, _password_length])
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[_required, EqualTo("new_password", message=_l("The two passwords differ."))],
    )


class PasswordChangeForm(SetPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[_required])


class InviteForm(FlaskForm):
    name = StringField(_l("Colleague's name"), validators=[_required, Length(max=100)])
    email = EmailField(_l("Colleague's e-mail"), validators=[_required, Length(max=254)])


class TotpCodeForm(FlaskForm):
    code = StringField(_l("Six-digit code from your authenticator app"),
                       validators=[_required, Length(max=10)])


class TotpDisableForm(FlaskForm):
    password = PasswordField(_l("Current password"), validators=[_required])


class ConfirmRegistrationForm(FlaskForm):
    """Only the button (and the CSRF token): the link's token names the registration."""
