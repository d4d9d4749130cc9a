"""Languages: Simplified Chinese by default, English available.

The language is the user's saved preference, else the visitor's choice in the switcher (kept in
the session), else the best match of the browser's ``Accept-Language``.
"""

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from certify.extensions import babel

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
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def translated(text) -> str:
    """A bilingual text from a rule file (anything with ``zh`` and ``en``) in the current language."""
    if text is None:
        return ""
    return text.zh if current_language() == "zh" else text.en


def city_name(code: str | None) -> str:
    """The name of a Sichuan city or prefecture in the current language."""
    from certify.organisations.reference import cities_by_code

    city = cities_by_code().get(code or "")
    return city.name(current_language()) if city else (code or "")


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["tr"] = translated
    app.jinja_env.globals["city_name"] = city_name

    @app.context_processor
    def language_context():
        language = current_language()
        return {
            "current_language": language,
            "html_lang": HTML_LANG.get(language, language),
            "language_names": LANGUAGE_NAMES,
        }
