"""The machine-readable certificate ("credential") beside each PDF, the signed status list of
revoked and expired certificates, and checking both offline.

Both are JWS documents in the flattened JSON serialization (RFC 7515 §7.2.2): a JSON object with
``protected``, ``payload`` and ``signature``, signed ES256 by the key that signs the PDFs. The
protected header names the signing certificate (``kid``: its SHA-256 fingerprint, as the
verification page shows it) and carries it (``x5c``), so that anyone holding the department's
published certificate can check a file without asking this site. The format is described in
``docs/credentials.md``.

A credential is signed when it is asked for, from the certificate's record: the fields are those
fixed at issue, the PDF's sha256 is the one the audit log records, and the status is the one of
that moment. It exists only once the PDF does, because it vouches for the PDF's bytes. The status
list says which numbers are revoked or expired; it stays the same document (and ETag) until a
revocation or the next day, so a verifier refreshes it cheaply and then checks offline until its
``next_update``.

Callers: ``credential_document(certificate)``, ``current_status_list()`` with
``status_list_document(status_list)``, ``verify_credential(data, trust_roots=…)``; and for
routes ``credential_response(certificate)`` and ``status_list_response()``, which answer as the
public addresses do.
"""

import asyncio
import base64
import binascii
import enum
import functools
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from joserfc import jws
from sqlalchemy import select

from certify.certificates import services
from certify.certificates.models import (
    REASON_TEXTS,
    Certificate,
    CertificateStatus,
    RevocationReason,
    public_status_condition,
)
from certify.certificates.signing import display_name, signing_configured, trust_anchors
from certify.core.urls import absolute_url
from certify.extensions import db
from certify.timeutil import LOCAL_TIMEZONE, as_utc, local_isoformat, utcnow

log = logging.getLogger(__name__)

ALGORITHM = "ES256"
FORMAT_VERSION = 1
CREDENTIAL_TYPE = "certify.certificate-credential"
STATUS_LIST_TYPE = "certify.status-list"
# The media type of a JWS in JSON serialization (RFC 7515 §9.2.1).
MEDIA_TYPE = "application/jose+json"
JWS_MEMBERS = frozenset({"protected", "payload", "signature"})
# Larger than any credential or status list of a province's certificates (a status list of
# 100,000 numbers is about 8 MB); a bigger file is not one of ours.
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024


class _Registry(jws.JWSRegistry):
    """ES256 only, with room for a certificate chain in the header (joserfc allows 512 bytes)
    and for a long status list in the payload."""

    max_header_length = 16 * 1024
    max_payload_length = MAX_DOCUMENT_BYTES


def _registry() -> jws.JWSRegistry:
    return _Registry(algorithms=[ALGORITHM])


class Unavailable(enum.StrEnum):
    NOT_CONFIGURED = "not_configured"   # no signing key: nothing can be signed
    NOT_RENDERED = "not_rendered"       # the PDF it vouches for does not exist yet
    WITHHELD = "withheld"               # the stored PDF disagrees with the record
    NO_ADDRESS = "no_address"           # CERTIFY_BASE_URL unset: no verification address
    KEY_UNREADABLE = "key_unreadable"   # configured, but the key or certificate cannot be read


class CredentialUnavailable(Exception):
    """No signed document can be given: ``kind`` says why, ``message`` says it to a reader, and
    ``http_status`` is the answer a route gives (404 when the site signs nothing or while the
    PDF is not made, 503 without the site's public address or with an unreadable key, 409 when
    the PDF is withheld)."""

    HTTP_STATUS = {Unavailable.NOT_CONFIGURED: 404, Unavailable.NO_ADDRESS: 503, Unavailable.KEY_UNREADABLE: 503,
                   Unavailable.NOT_RENDERED: 404, Unavailable.WITHHELD: 409}

    def __init__(self, kind: Unavailable, message):
        super().__init__(str(message))
        self.kind = kind
        self.message = message
        self.http_status = self.HTTP_STATUS[kind]


def require_signing_key() -> None:
    """Raise ``CredentialUnavailable`` unless a signing key is configured."""
    if not signing_configured():
        raise CredentialUnavailable(Unavailable.NOT_CONFIGURED, _l(
            "Machine-readable certificates are not offered: this site has no signing key configured."))


# ---- signing --------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def canonical_json(value) -> bytes:
    """``value`` as compact UTF-8 JSON with sorted keys: the same content always gives the same
    bytes (and so the same ETag)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


@functools.lru_cache(maxsize=2)
def signs_es256(private_key) -> bool:
    """Whether the signing key can sign the credentials and the status list (ES256: an EC P-256
    key); any other key signs the PDFs only."""
    from cryptography.hazmat.primitives.asymmetric import ec

    return isinstance(private_key, ec.EllipticCurvePrivateKey) and private_key.curve.name == "secp256r1"


def _signing_pair(key_path: str, cert_path: str, stamp: tuple, passphrase: bytes | None):
    """The private key (as a JWK) and the certificate's DER bytes, read once per pair of files
    and their modification times (a rotated pair is read again): an encrypted key costs tens of
    milliseconds to open."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from joserfc.jwk import ECKey

    with open(key_path, "rb") as handle:
        private_key = serialization.load_pem_private_key(handle.read(), password=passphrase)
    if not signs_es256(private_key):
        raise ValueError(f"{key_path} is not an EC P-256 key: the credentials are signed ES256")
    with open(cert_path, "rb") as handle:
        certificate = x509.load_pem_x509_certificate(handle.read())
    return ECKey.import_key(private_key), certificate.public_bytes(serialization.Encoding.DER)


def _configured_pair():
    config = current_app.config
    key_path, cert_path = config["CERTIFY_SIGNING_KEY"], config["CERTIFY_SIGNING_CERT"]
    passphrase = config.get("CERTIFY_SIGNING_KEY_PASSPHRASE")
    stamp = (os.stat(key_path).st_mtime_ns, os.stat(cert_path).st_mtime_ns)
    return _signing_pair(str(key_path), str(cert_path), stamp,
                         passphrase.encode("utf-8") if passphrase else None)


def sign(payload: dict) -> dict:
    """``payload`` signed ES256 by the configured key, as a flattened JWS JSON object whose
    header names (``kid``) and carries (``x5c``) the signing certificate."""
    require_signing_key()
    try:
        key, certificate_der = _configured_pair()
    except (OSError, ValueError, TypeError):  # unreadable, or not an EC P-256 key: the log says which
        log.exception("Credentials cannot be signed: the signing key or certificate cannot be used")
        raise CredentialUnavailable(Unavailable.KEY_UNREADABLE, _l(
            "Machine-readable certificates cannot be signed at the moment. Please try again later.")) from None
    header = {"alg": ALGORITHM, "typ": "JOSE+JSON", "kid": hashlib.sha256(certificate_der).hexdigest(),
              "x5c": [base64.b64encode(certificate_der).decode("ascii")]}
    return jws.serialize_json({"protected": header}, canonical_json(payload), key, registry=_registry())


def to_bytes(document: dict) -> bytes:
    """A signed document as the file that is served and saved."""
    return json.dumps(document, indent=2).encode("ascii") + b"\n"


# ---- the credential of one certificate ------------------------------------------------------


def _kind(key: str) -> dict:
    from certify.applications.kinds import kind_of

    try:
        kind = kind_of(key)
    except ValueError:  # a kind since removed from the kinds file keeps its key
        return {"key": key}
    return {"key": key, "code": kind.code, "title": {"zh": kind.title.zh, "en": kind.title.en}}


def credential_payload(certificate: Certificate, *, now: datetime) -> dict:
    """The public fields of ``certificate`` as a credential states them at ``now``."""
    from certify.certificates.rendering import ISSUER, BaseUrlMissing, verification_url

    try:
        url = verification_url(certificate.number)
    except BaseUrlMissing:
        raise CredentialUnavailable(Unavailable.NO_ADDRESS, _l(
            "Machine-readable certificates are not offered: the site's public address is not "
            "configured.")) from None
    status = certificate.public_status(now.astimezone(LOCAL_TIMEZONE).date())
    return {
        "type": CREDENTIAL_TYPE, "version": FORMAT_VERSION,
        "issuer": {"zh": ISSUER.zh, "en": ISSUER.en},
        "number": certificate.number,
        "kind": _kind(certificate.kind),
        "organisation": {"name": certificate.organisation_name, "credit_code": certificate.credit_code},
        "subject": certificate.subject,
        "standard": {"code": certificate.standard_code,
                     "title": {"zh": certificate.standard_title_zh, "en": certificate.standard_title_en}},
        "rule_set": {"id": certificate.rule_set_id, "version": certificate.rule_set_version},
        "valid_from": certificate.valid_from.isoformat(),
        "valid_until": certificate.valid_until.isoformat(),
        "issued_at": local_isoformat(certificate.issued_at),
        "status": status.value,
        "revoked_at": local_isoformat(certificate.revoked_at) if certificate.revoked_at else None,
        "signed_at": local_isoformat(now),
        "pdf": {"sha256": certificate.pdf_sha256, "size": certificate.pdf_size,
                "url": absolute_url("certificates.public_pdf", number=certificate.number)},
        "verification_url": url,
    }


def credential_document(certificate: Certificate, *, now: datetime | None = None) -> dict:
    """The signed credential of ``certificate`` (a flattened JWS JSON object). Raises
    ``CredentialUnavailable`` without a signing key, while the PDF is not made, or when the
    stored PDF disagrees with the department's record (it vouches for those bytes)."""
    require_signing_key()
    try:
        pdf = services.issued_pdf(certificate)
    except services.PdfWithheld:
        raise CredentialUnavailable(Unavailable.WITHHELD, _l(
            "The stored PDF of this certificate does not match the department's record of it, so "
            "no machine-readable certificate is given out.")) from None
    if pdf is None:
        raise CredentialUnavailable(Unavailable.NOT_RENDERED, _l(
            "The certificate's PDF is being prepared; its machine-readable certificate follows "
            "once the PDF is made, since it carries the PDF's SHA-256."))
    payload = credential_payload(certificate, now=now or utcnow())
    return sign(payload)


# ---- the status list ------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusList:
    """The unsigned status list and its ETag (a digest of the payload): compare the ETag with a
    client's ``If-None-Match`` before signing."""

    payload: dict
    etag: str


def _start_of_local_day(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TIMEZONE)


def current_status_list(now: datetime | None = None) -> StatusList:
    """Every revoked and every expired certificate (expiry following the dates, as the public
    is told), with ``issued_at`` — the later of the start of today (China Standard Time) and
    the last revocation, so the document stays the same between changes — and ``next_update``,
    the start of tomorrow, when expiries move on and a verifier must fetch the list again."""
    now = now or utcnow()
    today = now.astimezone(LOCAL_TIMEZONE).date()
    revoked = db.session.execute(
        select(Certificate.number, Certificate.revoked_at, Certificate.revocation_reason)
        .where(Certificate.status == CertificateStatus.REVOKED).order_by(Certificate.number)).all()
    expired = db.session.execute(
        select(Certificate.number, Certificate.valid_until)
        .where(public_status_condition(CertificateStatus.EXPIRED, today))
        .order_by(Certificate.number)).all()
    issued_at = max([_start_of_local_day(today)] + [as_utc(row.revoked_at) for row in revoked])
    payload = {
        "type": STATUS_LIST_TYPE, "version": FORMAT_VERSION,
        "issued_at": local_isoformat(issued_at),
        "next_update": local_isoformat(_start_of_local_day(today + timedelta(days=1))),
        "revoked": [{"number": row.number, "revoked_at": local_isoformat(row.revoked_at),
                     "reason": row.revocation_reason.value} for row in revoked],
        "expired": [{"number": row.number, "valid_until": row.valid_until.isoformat()}
                    for row in expired],
    }
    return StatusList(payload=payload, etag=hashlib.sha256(canonical_json(payload)).hexdigest()[:32])


def status_list_document(status_list: StatusList | None = None) -> dict:
    """The status list signed (a flattened JWS JSON object); raises ``CredentialUnavailable``
    without a signing key."""
    return sign((status_list or current_status_list()).payload)


# ---- HTTP answers (for the public addresses and any other route that serves them) -----------


# The status list changes on a revocation and at midnight: a verifier asks again after five
# minutes and gets 304 Not Modified until it changed.
STATUS_LIST_MAX_AGE = 300


def _unavailable(error: CredentialUnavailable):
    """Why there is no document, as JSON in the reader's language, with its status code."""
    return jsonify(error=error.kind.value, message=str(error.message)), error.http_status


def _signed_json(document: dict, *, download_name: str | None = None, etag: str | None = None,
                 max_age: int = 0):
    """A signed document as a response: ``application/jose+json``, a download when named, with
    a weak ETag when given (each signing gives other bytes for the same content)."""
    response = current_app.response_class(to_bytes(document), mimetype=MEDIA_TYPE)
    if download_name:
        response.headers["Content-Disposition"] = f'attachment; filename="{download_name}"'
    if etag:
        response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = f"public, max-age={max_age}" if max_age else "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def credential_response(certificate: Certificate):
    """The certificate's signed JSON (``credential_document``) as a response, or a
    JSON error saying why there is none (``{"error": kind, "message": …}`` in the reader's
    language) with ``CredentialUnavailable.http_status``."""
    try:
        return signed_credential(certificate)
    except CredentialUnavailable as error:
        return _unavailable(error)


def signed_credential(certificate: Certificate):
    """The certificate's signed JSON as a download; raises ``CredentialUnavailable``."""
    return _signed_json(credential_document(certificate), download_name=f"{certificate.number}.json")


def status_list_response():
    """The signed status list as a response with its ETag (``304 Not Modified`` for a client
    that has it, before anything is signed), or 404 without a signing key."""
    try:
        return signed_status_list()
    except CredentialUnavailable as error:
        return _unavailable(error)


def signed_status_list():
    """``status_list_response`` that raises ``CredentialUnavailable`` when there is none."""
    require_signing_key()
    status_list = current_status_list()
    if request.if_none_match.contains_weak(status_list.etag):
        response = current_app.response_class(status=304)
        response.set_etag(status_list.etag, weak=True)
        response.headers["Cache-Control"] = f"public, max-age={STATUS_LIST_MAX_AGE}"
        return response
    return _signed_json(status_list_document(status_list), etag=status_list.etag, max_age=STATUS_LIST_MAX_AGE)


# ---- checking -------------------------------------------------------------------------------


class CredentialState(enum.StrEnum):
    VALID = "valid"              # signed by a trusted key of the department, in force
    REVOKED = "revoked"          # genuine, but revoked (said by itself or by the status list)
    EXPIRED = "expired"          # genuine, but past its last valid day
    BROKEN = "broken"            # the signature does not match the content: changed after signing
    UNTRUSTED = "untrusted"      # intact, but the signer does not chain to a trust root here
    UNREADABLE = "unreadable"    # not a credential of this format
    UNCHECKED = "unchecked"      # no trust roots, or the status list given cannot be relied on


@dataclass(frozen=True)
class CredentialCheck:
    """What a credential file proves: ``state``, ``reason`` in plain words, the ``fields`` it
    states (once its signature holds), who signed it, and the status list used, if any."""

    state: CredentialState
    reason: str
    fields: dict | None = None
    signer: str | None = None
    fingerprint: str | None = None
    status_list: dict | None = None

    @property
    def is_valid(self) -> bool:
        return self.state == CredentialState.VALID


class _Rejected(Exception):
    """A document that fails a check: the ``state`` it shows and the ``reason`` in plain words."""

    def __init__(self, state: CredentialState, reason: str, signer=None):
        super().__init__(reason)
        self.state, self.reason, self.signer = state, reason, signer


@dataclass(frozen=True)
class _Opened:
    """A signed document whose format, signature and signer's chain checked."""

    payload: dict
    signer: str
    fingerprint: str


def _strict_b64url(value, part: str) -> bytes:
    """Decode one part of the JWS, refusing any other spelling of the same bytes: a changed
    character always fails, never decodes to the same bytes."""
    if not isinstance(value, str) or not value:
        raise _Rejected(CredentialState.UNREADABLE, f"its {part} is missing")
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        decoded = None
    if decoded is None or _b64url(decoded) != value:
        raise _Rejected(CredentialState.BROKEN, f"its {part} is not valid base64url: the file was changed")
    return decoded


def _json_object(data: bytes, what: str) -> dict:
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        value = None
    if not isinstance(value, dict):
        raise _Rejected(CredentialState.UNREADABLE, f"{what} is not a JSON object")
    return value


def _header_certificates(header: dict) -> list:
    """The certificates of the header's ``x5c`` (``asn1crypto``), the signer's first."""
    from asn1crypto import x509 as asn1_x509

    chain = header.get("x5c")
    if not isinstance(chain, list) or not chain:
        raise _Rejected(CredentialState.UNREADABLE, "its header carries no signing certificate (x5c)")
    certificates = []
    for entry in chain:
        try:
            certificate = asn1_x509.Certificate.load(base64.b64decode(entry, validate=True))
            certificate.native  # noqa: B018 - parses it now, so a damaged one fails here
        except (TypeError, ValueError, binascii.Error):
            raise _Rejected(CredentialState.BROKEN, "a certificate in its header (x5c) is damaged") from None
        certificates.append(certificate)
    return certificates


def _check_signature(document: dict, signer) -> None:
    from cryptography import x509
    from joserfc.errors import JoseError
    from joserfc.jwk import ECKey

    try:
        public_key = ECKey.import_key(x509.load_der_x509_certificate(signer.dump()).public_key())
        jws.deserialize_json(document, public_key, registry=_registry())
    except (JoseError, ValueError, TypeError):
        raise _Rejected(CredentialState.BROKEN, "the signature does not match the content: the file "
                        "was changed after it was signed, or signed by another key than its "
                        "header names", signer=display_name(signer)) from None


def _check_chain(signer, intermediates: list, trust_roots: list, now: datetime) -> None:
    """The signing certificate must chain to one of ``trust_roots``, each counted only within
    its validity, as for the PDF's signature."""
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import ExpiredError, NotYetValidError, PathBuildingError, ValidationError

    context = ValidationContext(trust_roots=trust_anchors(trust_roots), allow_fetching=False, moment=now)
    validator = CertificateValidator(signer, intermediate_certs=intermediates, validation_context=context)
    name = display_name(signer)
    try:
        asyncio.run(validator.async_validate_path())
    except (ExpiredError, NotYetValidError):
        raise _Rejected(CredentialState.UNTRUSTED, f"it is signed by {name}, whose certificate is not "
                        "valid today (expired or not yet valid): download it again", signer=name) from None
    except (PathBuildingError, ValidationError):  # no path, or a same-named certificate's
        raise _Rejected(CredentialState.UNTRUSTED, f"it is signed by {name}, whose certificate does not "
                        "chain to any trust root kept here: it was not signed by the department's key",
                        signer=name) from None


def _open_signed(data: bytes, expected_type: str, trust_roots: list, now: datetime) -> _Opened:
    """The payload of a flattened JWS document ``data`` of ``expected_type``, once its format,
    its signature and its signer's chain to ``trust_roots`` check; raises ``_Rejected``."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _Rejected(CredentialState.UNREADABLE, "the file is far larger than any of ours")
    document = _json_object(data, "the file")
    if "signatures" in document or set(document) != JWS_MEMBERS:
        raise _Rejected(CredentialState.UNREADABLE, "the file is not a signed document in the flattened "
                        "JWS JSON form (exactly protected, payload and signature)")
    header = _json_object(_strict_b64url(document["protected"], "protected header"), "its header")
    payload_bytes = _strict_b64url(document["payload"], "payload")
    _strict_b64url(document["signature"], "signature")
    if header.get("alg") != ALGORITHM:
        raise _Rejected(CredentialState.UNREADABLE, f"it is not signed {ALGORITHM}")
    signer, *intermediates = _header_certificates(header)
    fingerprint = signer.sha256.hex()
    if header.get("kid") != fingerprint:
        raise _Rejected(CredentialState.BROKEN, "its key identifier (kid) is not the fingerprint of "
                        "the certificate it carries")
    _check_signature(document, signer)
    if not trust_roots:
        raise _Rejected(CredentialState.UNCHECKED, "no trust root to check against: configure "
                        "CERTIFY_SIGNING_CERT or CERTIFY_TRUST_ROOTS, or give the department's "
                        "published certificate with --trust-root", signer=display_name(signer))
    _check_chain(signer, intermediates, trust_roots, now)
    payload = _json_object(payload_bytes, "its content")
    if payload.get("type") != expected_type or payload.get("version") != FORMAT_VERSION:
        raise _Rejected(CredentialState.UNREADABLE, f"it is a {payload.get('type')!r} document, "
                        f"not a {expected_type!r} of version {FORMAT_VERSION}", signer=display_name(signer))
    return _Opened(payload, display_name(signer), fingerprint)


def _moment(value: str, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise _Rejected(CredentialState.UNREADABLE, f"{what} is not a date and time") from None
    if moment.tzinfo is None:
        raise _Rejected(CredentialState.UNREADABLE, f"{what} has no time zone")
    return moment


def _read_status_list(data: bytes, trust_roots: list, now: datetime) -> dict:
    """The payload of a status list that is genuine and still current at ``now``."""
    try:
        payload = _open_signed(data, STATUS_LIST_TYPE, trust_roots, now).payload
    except _Rejected as rejected:
        raise _Rejected(CredentialState.UNCHECKED, f"the status list cannot be relied on: {rejected.reason}") from None
    next_update = _moment(payload.get("next_update"), "the status list's next update")
    if now >= next_update:
        raise _Rejected(CredentialState.UNCHECKED, "the status list is out of date (a newer one was due "
                        f"by {next_update.isoformat()}): fetch it again")
    if not isinstance(payload.get("revoked"), list) or not isinstance(payload.get("expired"), list):
        raise _Rejected(CredentialState.UNREADABLE, "the status list has no revoked and expired lists")
    return payload


def _listed(entries: list, number: str) -> dict | None:
    return next((entry for entry in entries if isinstance(entry, dict) and entry.get("number") == number), None)


def _reason_text(code) -> str:
    """The English wording of a revocation reason's code (the code itself when unknown)."""
    try:
        return REASON_TEXTS[RevocationReason(code)].en
    except ValueError:
        return str(code)


def _state_of(fields: dict, status_list: dict | None, today: date) -> tuple[CredentialState, str]:
    """Whether the genuine credential ``fields`` is in force ``today``, by its own dates and
    status and, when given, the status list."""
    number = fields.get("number")
    if status_list is not None:
        revoked = _listed(status_list["revoked"], number)
        if revoked is not None:
            return CredentialState.REVOKED, (f"certificate {number} was revoked on {revoked.get('revoked_at')} "
                                             f"({_reason_text(revoked.get('reason'))}), says the status list "
                                             f"of {status_list.get('issued_at')}")
        expired = _listed(status_list["expired"], number)
        if expired is not None:
            return CredentialState.EXPIRED, (f"certificate {number} expired: it was valid until "
                                             f"{expired.get('valid_until')}, says the status list")
    if fields.get("status") == CertificateStatus.REVOKED:
        return CredentialState.REVOKED, f"certificate {number} was revoked on {fields.get('revoked_at')}"
    try:
        valid_until = date.fromisoformat(fields.get("valid_until"))
    except (TypeError, ValueError):
        return CredentialState.UNREADABLE, "its last valid day is not a date"
    if fields.get("status") == CertificateStatus.EXPIRED or today > valid_until:
        return CredentialState.EXPIRED, f"certificate {number} was valid until {valid_until.isoformat()}"
    if status_list is None:
        return CredentialState.VALID, (f"certificate {number} is genuine and valid until "
                                       f"{valid_until.isoformat()}; no status list was checked, so a "
                                       "revocation after it was signed would not show")
    return CredentialState.VALID, (f"certificate {number} is genuine, valid until {valid_until.isoformat()} "
                                   f"and neither revoked nor expired on the status list of "
                                   f"{status_list.get('issued_at')}")


def verify_credential(data: bytes, *, trust_roots: list, status_list: bytes | None = None,
                      now: datetime | None = None) -> CredentialCheck:
    """Check a credential file offline: its format, its signature, its signer's chain to
    ``trust_roots`` (``asn1crypto`` certificates, e.g. ``signing.signer_trust_roots()``), its
    dates and stated status, and — when ``status_list`` (the bytes of a status list document)
    is given — that list, itself checked the same way and still current. Nothing is fetched and
    the database is not read."""
    now = as_utc(now or utcnow())
    try:
        opened = _open_signed(data, CREDENTIAL_TYPE, trust_roots, now)
    except _Rejected as rejected:
        return CredentialCheck(rejected.state, rejected.reason, signer=rejected.signer)
    listed = None
    try:
        if status_list is not None:
            listed = _read_status_list(status_list, trust_roots, now)
    except _Rejected as rejected:
        return CredentialCheck(rejected.state, rejected.reason, opened.payload, opened.signer, opened.fingerprint)
    state, reason = _state_of(opened.payload, listed, now.astimezone(LOCAL_TIMEZONE).date())
    return CredentialCheck(state, reason, opened.payload, opened.signer, opened.fingerprint, listed)
