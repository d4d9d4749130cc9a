"""Form fields for organisation records."""

from markupsafe import Markup
from wtforms import StringField
from wtforms.widgets import TextInput

from certify.organisations.reference import industry_classes, industry_code_in, industry_label

DATALIST_ID = "industry-classes"


class IndustryInput(TextInput):
    """A text input searchable by code or name: the browser offers the matching classes of
    GB/T 4754-2017 from a list as the user types (``3120`` or ``炼钢``)."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("list", DATALIST_ID)
        kwargs.setdefault("autocomplete", "off")
        kwargs.setdefault("inputmode", "search")
        option = Markup('<option value="{}"></option>')
        options = Markup("").join(option.format(i.label) for i in industry_classes())
        return Markup('{}<datalist id="{}">{}</datalist>').format(super().__call__(field, **kwargs), DATALIST_ID, options)


class IndustryField(StringField):
    """An industry class: shown as ``3120 炼钢``, read back as ``3120`` (the service checks it)."""

    widget = IndustryInput()

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        self.data = industry_code_in(self.raw_text) or None

    def _value(self):
        raw = (getattr(self, "raw_text", None) or "").strip()
        if raw and industry_code_in(raw) != raw:  # a label or free text: shown back as typed
            return raw
        return industry_label(self.data, "zh") if self.data else raw
