"""The shapes of the API's answers (marshmallow schemas, from which the OpenAPI document is
made). Only what the public pages and open-data files show: organisation names and credit codes
of listed units, never a person's name, e-mail or phone."""

from marshmallow import Schema, fields, validate

from certify.organisations.credit_code import ALPHABET, LENGTH

# The characters of a unified social credit code (its check character is not checked: a code
# that is not one simply finds nothing).
CREDIT_CODE = validate.Regexp(f"^[{ALPHABET}]{{{LENGTH}}}$", error="An 18-character unified social credit code.")
# The most items one page gives, and the default.
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
# The most credit codes or numbers one lookup takes.
MAX_LOOKUP = 100


class Bilingual(Schema):
    zh = fields.String(required=True)
    en = fields.String(required=True)


class PageArgs(Schema):
    cursor = fields.String(load_default=None, validate=validate.Length(max=200),
                           metadata={"description": "The `next_cursor` of the previous page; none for the first."})
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT),
                           metadata={"description": "Items per page."})


class PageSchema(Schema):
    next_cursor = fields.String(required=True, allow_none=True,
                                metadata={"description": "Pass as `cursor` for the next page; null on the last."})


class Standard(Schema):
    code = fields.String(required=True)
    title = fields.Nested(Bilingual, required=True)


class CertificateSchema(Schema):
    number = fields.String(required=True, metadata={"example": "SC-GF-2026-0001"})
    kind = fields.String(required=True, metadata={"description": "Kind of recognition (key), e.g. factory."})
    kind_name = fields.Nested(Bilingual, required=True)
    organisation_name = fields.String(required=True)
    credit_code = fields.String(required=True)
    subject = fields.String(required=True)
    standard = fields.Nested(Standard, required=True)
    issued_on = fields.Date(required=True)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["valid", "expired", "revoked"]),
                           metadata={"description": "What the verification page says today."})
    status_text = fields.Nested(Bilingual, required=True)
    revoked_on = fields.Date(required=True, allow_none=True)
    revocation_reason = fields.String(required=True, allow_none=True)
    revocation_reason_text = fields.Nested(Bilingual, required=True, allow_none=True)
    pdf_sha256 = fields.String(required=True, allow_none=True,
                               metadata={"description": "SHA-256 of the PDF as issued; null until it is made."})
    verify_url = fields.String(required=True)


class SignedDocument(Schema):
    """A JWS in flattened JSON serialization (RFC 7515 §7.2.2), signed ES256 by the key that
    signs the certificate PDFs; its protected header carries the signing certificate (``x5c``)."""

    protected = fields.String(required=True, metadata={"description": "The header, base64url."})
    payload = fields.String(required=True, metadata={"description": "The signed JSON, base64url."})
    signature = fields.String(required=True, metadata={"description": "ES256 signature, base64url."})


class CertificatePage(PageSchema):
    items = fields.List(fields.Nested(CertificateSchema), required=True)


class CertificateList(Schema):
    items = fields.List(fields.Nested(CertificateSchema), required=True)


class CertificateArgs(PageArgs):
    credit_code = fields.String(load_default=None, validate=CREDIT_CODE,
                                metadata={"description": "Only the certificates of this unified social credit code."})
    kind = fields.String(load_default=None, validate=validate.Length(max=40))
    status = fields.String(load_default=None, validate=validate.OneOf(["valid", "expired", "revoked"]))


class LookupRequest(Schema):
    credit_codes = fields.List(fields.String(validate=CREDIT_CODE), load_default=list,
                               validate=validate.Length(max=MAX_LOOKUP))
    numbers = fields.List(fields.String(validate=validate.Regexp(r"^[A-Za-z0-9-]{1,40}$")), load_default=list,
                          validate=validate.Length(max=MAX_LOOKUP))


class ListedCertificate(Schema):
    number = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["valid", "expired", "revoked"]))
    valid_until = fields.Date(required=True)
    revoked_on = fields.Date(required=True, allow_none=True)


class City(Schema):
    code = fields.String(required=True)
    name = fields.Nested(Bilingual, required=True, allow_none=True)


class NoticeEntry(Schema):
    id = fields.Integer(required=True)
    batch_id = fields.Integer(required=True)
    organisation_name = fields.String(required=True)
    city = fields.Nested(City, required=True)
    kind = fields.String(required=True)
    kind_name = fields.Nested(Bilingual, required=True)
    subject = fields.String(required=True)


class ListedEntry(NoticeEntry):
    credit_code = fields.String(required=True)
    certificate = fields.Nested(ListedCertificate, required=True, allow_none=True)


class NoticeEntryPage(PageSchema):
    items = fields.List(fields.Nested(NoticeEntry), required=True)


class ListedEntryPage(PageSchema):
    items = fields.List(fields.Nested(ListedEntry), required=True)


class ListArgs(PageArgs):
    year = fields.Integer(load_default=None, validate=validate.Range(min=1, max=9999),
                          metadata={"description": "Year of announcement (China Standard Time)."})
    kind = fields.String(load_default=None, validate=validate.Length(max=40))
    city = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{6}$"))
    credit_code = fields.String(load_default=None, validate=CREDIT_CODE)


class Downloads(Schema):
    csv = fields.String(required=True)
    xlsx = fields.String(required=True)
    json = fields.String(required=True)


class BatchSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["in_notice", "announced"]))
    kinds = fields.List(fields.String(), required=True)
    notice_starts_on = fields.Date(required=True)
    notice_ends_on = fields.Date(required=True)
    announced_at = fields.DateTime(required=True, allow_none=True)
    entries = fields.Integer(required=True, metadata={"description": "Entries on the batch now."})
    downloads = fields.Nested(Downloads, required=True, allow_none=True,
                              metadata={"description": "The open-data files of an announced batch."})


class BatchPage(PageSchema):
    items = fields.List(fields.Nested(BatchSchema), required=True)


class RuleSetSchema(Schema):
    id = fields.String(required=True)
    version = fields.String(required=True)
    kind = fields.String(required=True)
    kind_name = fields.Nested(Bilingual, required=True)
    title = fields.Nested(Bilingual, required=True)
    standard = fields.Nested(Standard, required=True)
    effective_from = fields.Date(required=True)
    effective_until = fields.Date(required=True, allow_none=True)
    industries = fields.List(fields.String(), required=True,
                             metadata={"description": "GB/T 4754 codes it is limited to; empty: every industry."})
    threshold = fields.String(required=True, allow_none=True, metadata={"description": "Pass threshold (decimal)."})
    sha256 = fields.String(required=True)


class RuleSetList(Schema):
    on = fields.Date(required=True, metadata={"description": "The day (China Standard Time) they are in force."})
    items = fields.List(fields.Nested(RuleSetSchema), required=True)


class KindCount(Schema):
    kind = fields.String(required=True)
    kind_name = fields.Nested(Bilingual, required=True)
    count = fields.Integer(required=True)


class YearCounts(Schema):
    year = fields.Integer(required=True)
    kinds = fields.List(fields.Nested(KindCount), required=True)
    total = fields.Integer(required=True)


class StatusCounts(Schema):
    kind = fields.String(required=True)
    kind_name = fields.Nested(Bilingual, required=True)
    valid = fields.Integer(required=True)
    expired = fields.Integer(required=True)
    revoked = fields.Integer(required=True)


class Place(Schema):
    code = fields.String(required=True, allow_none=True,
                         metadata={"description": "GB/T 2260 city code or GB/T 4754-2017 class; null: not given."})
    name = fields.Nested(Bilingual, required=True, allow_none=True)


class PlaceListed(Place):
    total = fields.Integer(required=True)
    kinds = fields.List(fields.Nested(KindCount), required=True)


class PlaceGrades(Place):
    a_plus = fields.Integer(required=True)
    a = fields.Integer(required=True)
    b = fields.Integer(required=True)
    withheld = fields.Integer(required=True, metadata={"description": "Withheld: open plausibility flags."})
    not_graded = fields.Integer(required=True, metadata={"description": "Cohort too small, nothing comparable or not declared."})


class StatisticsSchema(Schema):
    on = fields.Date(required=True)
    listed_by_year = fields.List(fields.Nested(YearCounts), required=True,
                                 metadata={"description": "Entries of announced lists, by year of announcement and kind."})
    certificates_by_kind = fields.List(fields.Nested(StatusCounts), required=True,
                                       metadata={"description": "Certificates issued, by kind and status today."})
    listed_by_city = fields.List(fields.Nested(PlaceListed), required=True,
                                 metadata={"description": "Units on the provincial list now, by city and kind."})
    listed_by_industry = fields.List(fields.Nested(PlaceListed), required=True,
                                     metadata={"description": "Units on the provincial list now, by industry class and kind."})
    grades_period = fields.Date(required=True, allow_none=True,
                                metadata={"description": "Period of the current grading run; null: none graded yet."})
    grades_by_city = fields.List(fields.Nested(PlaceGrades), required=True,
                                 metadata={"description": "Grade counts of the current grading run, by city (no unit named)."})
    grades_by_industry = fields.List(fields.Nested(PlaceGrades), required=True,
                                     metadata={"description": "Grade counts of the current grading run, by industry class."})
