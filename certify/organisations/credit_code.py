"""The unified social credit code (统一社会信用代码, GB 32100-2015).

18 characters: registering department (1), organisation type (2), administrative division code
(3–8, GB/T 2260), organisation code (9–17, GB 11714) and a check character (18). The alphabet
leaves out I, O, S, V and Z; each character's value is its index in the alphabet.
"""

from flask_babel import lazy_gettext as _l

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {char: index for index, char in enumerate(ALPHABET)}
# Weight of position i (1-based) is 3^(i-1) mod 31.
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
LENGTH = 18


class CreditCodeError(ValueError):
    """A credit code that is not well formed; ``message`` says what is wrong, for the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def check_character(first17: str) -> str:
    """The check character for the first 17 characters of a code."""
    total = sum(VALUES[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(raw: str) -> str:
    """Return ``raw`` in canonical form (upper case, no spaces) or raise ``CreditCodeError``."""
    code = "".join((raw or "").split()).upper()
    if len(code) != LENGTH:
        raise CreditCodeError(
            _l("A unified social credit code has 18 characters; this one has %(count)d.",
               count=len(code))
        )
    for position, char in enumerate(code, start=1):
        if char not in VALUES:
            raise CreditCodeError(
                _l("Character %(position)d (“%(char)s”) is not allowed in a unified social credit "
                   "code (letters I, O, S, V and Z are never used).", position=position, char=char)
            )
    if not code[2:8].isdigit():
        raise CreditCodeError(
            _l("Characters 3–8 must be an administrative division code of six digits.")
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        raise CreditCodeError(
            _l("The check character (the 18th) does not match the first 17 characters: "
               "a character has been mistyped.")
        )
    return code


def is_valid_credit_code(raw: str) -> bool:
    """Whether ``raw`` is a well-formed unified social credit code."""
    try:
        normalise_credit_code(raw)
    except CreditCodeError:
        return False
    return True
