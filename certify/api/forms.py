"""The administrators' form to make an API key."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from certify.api.models import SCOPES
from certify.publication.forms import MultiCheckboxField
from certify.ratelimit import check_rate_limit

_required = DataRequired(message=_l("This field is required."))


def _rate_limit(form, field) -> None:
    if not field.data:
        return
    try:
        field.data = check_rate_limit(field.data)
    except ValueError:
        raise ValidationError(_l("Write a rate limit such as “600 per minute”.")) from None


class ApiKeyForm(FlaskForm):
    holder = StringField(_l("Holder (a bank or an online service)"), validators=[_required, Length(max=200)])
    name = StringField(_l("What the key is for"), validators=[_required, Length(max=100)],
                       description=_l("For example “loan checks”: to tell a holder's keys apart."))
    scopes = MultiCheckboxField(_l("Scopes"), validators=[Optional()],
                                choices=[SelectChoice(key, label) for key, label in SCOPES.items()])
    rate_limit = StringField(_l("Rate limit"), validators=[Optional(), Length(max=100), _rate_limit],
                             description=_l("Empty: the default for keys. For example “600 per minute” "
                                            "or “100 per minute;5000 per day”."))
