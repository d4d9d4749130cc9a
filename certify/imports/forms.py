"""The upload form of the import page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class ImportForm(FlaskForm):
    """A filled-in template to import."""

    workbook = FileField(_l("Filled-in template (.xlsx)"),
                         validators=[FileRequired(_l("Choose the workbook to import."))],
                         render_kw={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
