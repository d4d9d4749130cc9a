"""Languages: Simplified Chinese by default, English available.

The language is the user's saved preference, else the visitor's choice in the switcher (kept in
the session), else the best match of the browser's ``Accept-Language``.
"""

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale, get_translations, gettext
from flask_login import current_user
from jinja2.filters import do_filesizeformat
from markupsafe import Markup

from certify.extensions import babel
from certify.scoring.model import plain as plain_decimal
from certify.timeutil import as_utc

SESSION_KEY = "lang"
# What each locale is called in its own language, for the switcher.
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
# The value of <html lang> for each locale.
HTML_LANG = {"zh": "zh-Hans", "en": "en"}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # command line, jobs: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.preferred_language in languages:
        return current_user.preferred_language
    chosen = session.get(SESSION_KEY)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages, default=current_app.config["BABEL_DEFAULT_LOCALE"])


def current_language() -> str:
    return _catalogue()[1]


def _catalogue() -> tuple:
    """(translations, language) of the locale in force, kept beside Flask-Babel's locale for as
    long as that locale stays the same (``force_locale`` changes it). Pages look these up
    hundreds of times, and Flask-Babel finds them anew each time through several lookups."""
    try:
        context = g._flask_babel
        locale = context.babel_locale
    except (AttributeError, RuntimeError):  # outside an application, or no locale chosen yet
        locale = get_locale()
        return get_translations(), str(locale or current_app.config["BABEL_DEFAULT_LOCALE"])
    kept = getattr(context, "certify_catalogue", None)
    if kept is None or kept[0] is not locale:
        kept = context.certify_catalogue = (locale, get_translations(), str(locale))
    return kept[1], kept[2]


def _template_gettext(message: str) -> str:
    return _catalogue()[0].ugettext(message)


def _template_ngettext(singular: str, plural: str, number: int) -> str:
    return _catalogue()[0].ungettext(singular, plural, number)


def translated(text) -> str:
    """A bilingual text from a rule file (anything with ``zh`` and ``en``) in the current language."""
    if text is None:
        return ""
    return text.zh if current_language() == "zh" else text.en


class Labels(Mapping):
    """A table of labels (lazily translated strings) for templates that translates each label
    once per language: the labels and a loaded catalogue do not change, and list pages look one
    up on every row (a translation costs a dozen context lookups)."""

    def __init__(self, source: Mapping):
        self._source = source
        self._translated: dict = {}

    def __getitem__(self, key) -> str:
        language = current_language()
        try:
            return self._translated[language, key]
        except KeyError:
            text = self._translated[language, key] = str(self._source[key])
            return text

    def __iter__(self):
        return iter(self._source)

    def __len__(self) -> int:
        return len(self._source)


def badge(labels: Labels):
    """A function that shows a value of ``labels`` (e.g. an application's status) as a badge
    with the value's own class, for templates. Each badge is made once per language: list pages
    show one on every row."""
    made: dict = {}

    def badge_of(value) -> Markup:
        key = (current_language(), value)
        try:
            return made[key]
        except KeyError:
            html = made[key] = Markup('<span class="badge badge-%s">%s</span>') % (
                getattr(value, "value", value), labels[value])
            return html

    return badge_of


@cache
def _city_names(language: str) -> dict[str, str]:
    from certify.organisations.reference import cities

    return {city.code: city.name(language) for city in cities()}


def city_name(code: str | None) -> str:
    """The name of a Sichuan city or prefecture in the current language."""
    return _city_names(current_language()).get(code or "") or (code or "")


def industry_name(code: str | None) -> str:
    """An industry class of GB/T 4754-2017 as ``3120 炼钢``, in the current language."""
    from certify.organisations.reference import industry_label

    return industry_label(code, current_language())


def plain(number) -> str:
    """A decimal as people write it (``10``, ``2.5``), never in exponent form (``1E+1``)."""
    return plain_decimal(Decimal(number)) if number is not None else ""


def item_name(indicator) -> str:
    """A rule item as the standard names it, for running text: its clause, then its title
    (``表C.1 序号1；B.1 单位产品综合能耗``). Never the rule file's id."""
    title = translated(indicator.title)
    return f"{indicator.ref} {title}" if indicator.ref else title


def paren(text) -> Markup:
    """An aside in brackets as the language writes it: full-width in Chinese (``（万元）``), after a
    space in English (`` (10,000 yuan)``). Escapes ``text`` unless it is markup already."""
    return (Markup("（%s）") if current_language() == "zh" else Markup(" (%s)")) % text


def rule_set_name(rule_set) -> Markup:
    """A rule set as pages name it: its title, its standard where the title does not give it
    already, and its version (``绿色工厂评价（GB/T 36132-2025） · 第 1.0 版``)."""
    title = translated(rule_set.title)
    named = Markup.escape(title) if rule_set.standard.code in title else Markup.escape(title) + paren(rule_set.standard.code)
    return named + Markup(" · ") + gettext("version %(version)s", version=rule_set.version)


def rule_item(indicator) -> Markup:
    """A rule item for a heading or a table's first column: its clause set apart, then its title."""
    if not indicator.ref:
        return Markup("%s") % translated(indicator.title)
    return Markup('<span class="clause">%s</span> %s') % (indicator.ref, translated(indicator.title))


# One style for dates and times on every page and in every mail, in each language:
# 2026年12月6日 09:24, or 6 December 2026, 09:24. Written directly rather than through Babel's
# pattern machinery: list pages write one on every row.
ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December")


def _zone() -> ZoneInfo:
    """Everyone's time zone: the configured one (no per-user zone is kept), looked up without
    Flask-Babel's per-call context search; list pages write a time on every row."""
    return _zone_named(current_app.config["BABEL_DEFAULT_TIMEZONE"])


@cache
def _zone_named(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _day(value: date, english: bool) -> str:
    if english:
        return f"{value.day} {ENGLISH_MONTHS[value.month - 1]} {value.year}"
    return f"{value.year}年{value.month}月{value.day}日"


def datetime_text(value: datetime | None) -> str:
    """A moment as pages write it — ``2026年12月6日 09:24`` — in the user's time zone (China
    Standard Time unless set otherwise). Chinese unless the reader reads English (a job or a
    command writes Chinese)."""
    if value is None:
        return ""
    moment = as_utc(value).astimezone(_zone())
    clock = f"{moment.hour:02d}:{moment.minute:02d}"  # as %H:%M, without strftime's cost
    if current_language() == "en":
        return f"{_day(moment, True)}, {clock}"
    return f"{_day(moment, False)} {clock}"


def date_text(value: date | datetime | None) -> str:
    """A day as pages write it — ``2026年12月6日``; a moment's day in the user's time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = as_utc(value).astimezone(_zone()).date()
    return _day(value, current_language() == "en")


def size_text(size: int | None) -> str:
    """A file's size as pages write it: ``193 字节`` (``193 bytes``) under a kilobyte, then
    ``1.2 kB``, ``3.4 MB`` (decimal units, read alike in either language)."""
    if size is None:
        return ""
    if size < 1000:
        return f"{size} bytes" if current_language() == "en" else f"{size} 字节"
    return do_filesizeformat(size)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.install_gettext_callables(gettext=_template_gettext, ngettext=_template_ngettext, newstyle=True)
    app.jinja_env.filters["datetime_text"] = datetime_text
    app.jinja_env.filters["date_text"] = date_text
    app.jinja_env.filters["size_text"] = size_text
    app.jinja_env.filters["tr"] = translated
    app.jinja_env.filters["city_name"] = city_name
    app.jinja_env.globals["city_name"] = city_name
    from certify.organisations.reference import cities

    app.jinja_env.globals["sichuan_cities"] = cities
    app.jinja_env.filters["industry_name"] = industry_name
    app.jinja_env.filters["plain"] = plain
    app.jinja_env.filters["item_name"] = item_name
    app.jinja_env.filters["rule_item"] = rule_item
    app.jinja_env.filters["rule_set_name"] = rule_set_name
    app.jinja_env.filters["paren"] = paren

    @app.context_processor
    def language_context():
        language = current_language()
        return {
            "current_language": language,
            "html_lang": HTML_LANG.get(language, language),
            "language_names": LANGUAGE_NAMES,
        }
