"""Digital signatures on certificate PDFs (PAdES, with pyHanko), and checking them.

Signing. When ``CERTIFY_SIGNING_KEY`` and ``CERTIFY_SIGNING_CERT`` name PEM files (the key
optionally protected by the passphrase in ``CERTIFY_SIGNING_KEY_PASSPHRASE``), every certificate
PDF is signed as it is rendered, at PAdES level B-LT: the signed revision holds a document
security store (DSS) with the certificates and any revocation data (OCSP, CRL) needed to check
the signature, so that it can be checked offline years later. When ``CERTIFY_TSA_URL`` names an
RFC 3161 timestamp authority, the signature carries the authority's timestamp and the file ends
with a document timestamp (B-LTA): the timestamp proves *when* the signature was made, so it
still verifies after the signing certificate has expired.

Trust. A signature is valid when the file is intact (later revisions only add validation data
or timestamps), the signature verifies, and its certificate chains to a trust root that was valid
when the signature was made. The trust roots are the current signing certificate and every
certificate file (``*.pem``, ``*.crt``, ``*.cer``, ``*.der``) in the folder ``CERTIFY_TRUST_ROOTS``
(default ``instance/keys/trusted/``): earlier signing certificates, kept there by
``flask keys rotate``, or the root of the CA that issues the department's certificates. The
timestamp authority's certificate must chain to a root in ``CERTIFY_TSA_TRUST_ROOTS`` (default
``instance/keys/tsa-trusted/``), kept apart so that the authority's CA cannot vouch for signers.
Each root counts only within its own validity period. "When the signature was made" is the time
of a trusted signature timestamp, or else the time of checking.

``flask keys init`` makes a self-signed development pair (its subject says "development");
``flask keys rotate`` replaces the pair and keeps the old certificate as a trust root.
"""

import asyncio
import enum
import functools
import hashlib
import io
import logging
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask import current_app

log = logging.getLogger(__name__)

SIGNATURE_FIELD = "CertificateSignature"
TIMESTAMP_FIELD = "CertificateTimestamp"
# Room for the CMS signature when no timestamp is added: one signer certificate (RSA up to 4096
# bits or EC) and its attributes take 2–4 KB; a chain of intermediates would need more. With a
# timestamp authority pyHanko measures the room itself, from a sample token of that authority.
SIGNATURE_BYTES_RESERVED = 8192
DEVELOPMENT_COMMON_NAME = "certify development certificate signing key"
CERTIFICATE_SUFFIXES = (".pem", ".crt", ".cer", ".der")


class SignatureState(enum.StrEnum):
    VALID = "valid"              # intact, whole file, signed with a trusted key of the department
    EXPIRED = "expired"          # the department's key, but its certificate had expired and no
                                 # timestamp proves the signature was made before
    UNTRUSTED = "untrusted"      # intact, but signed by someone else
    MODIFIED = "modified"        # intact signature, but the file was changed after signing
    BROKEN = "broken"            # the signed bytes were changed
    UNSIGNED = "unsigned"        # no signature in the file
    UNREADABLE = "unreadable"    # not a PDF, or a damaged one
    UNCHECKED = "unchecked"      # no certificate configured to check against


@dataclass(frozen=True)
class SignerInfo:
    """Who signed: the certificate's subject and its SHA-256 fingerprint (hex)."""

    subject: str
    fingerprint: str


@dataclass(frozen=True)
class SignatureCheck:
    """What a signature proves: its ``state``, the signing certificate's subject and SHA-256
    fingerprint, whether that is the currently configured certificate, and the time of the
    signature's trusted timestamp, if it has one."""

    state: SignatureState
    signer: str | None = None
    fingerprint: str | None = None
    is_current_key: bool = False
    timestamped_at: datetime | None = None

    @property
    def is_valid(self) -> bool:
        return self.state == SignatureState.VALID

    @property
    def short_fingerprint(self) -> str | None:
        """The first 64 bits of the fingerprint, as people compare them: ``92E2 40B8 D762 332F``."""
        if not self.fingerprint:
            return None
        head = self.fingerprint[:16].upper()
        return " ".join(head[i:i + 4] for i in range(0, 16, 4))


def signing_configured() -> bool:
    """Whether a signing key and certificate are configured."""
    config = current_app.config
    return bool(config.get("CERTIFY_SIGNING_KEY") and config.get("CERTIFY_SIGNING_CERT"))


def _passphrase() -> bytes | None:
    value = current_app.config.get("CERTIFY_SIGNING_KEY_PASSPHRASE")
    return value.encode("utf-8") if value else None


def _signer():
    from pyhanko.sign import signers

    config = current_app.config
    return signers.SimpleSigner.load(config["CERTIFY_SIGNING_KEY"], config["CERTIFY_SIGNING_CERT"],
                                     key_passphrase=_passphrase())


def signer_info(certificate) -> SignerInfo:
    """The subject and fingerprint of an ``asn1crypto`` certificate."""
    return SignerInfo(subject=certificate.subject.human_friendly[:300],
                      fingerprint=certificate.sha256.hex())


def trust_roots_folder() -> Path:
    """Where certificates of earlier signing keys (and CA roots) are trusted from."""
    configured = current_app.config.get("CERTIFY_TRUST_ROOTS")
    return Path(configured) if configured else Path(current_app.instance_path) / "keys" / "trusted"


def tsa_trust_roots_folder() -> Path:
    """Where the timestamp authority's root certificates are trusted from."""
    configured = current_app.config.get("CERTIFY_TSA_TRUST_ROOTS")
    return (Path(configured) if configured
            else Path(current_app.instance_path) / "keys" / "tsa-trusted")


def read_certificates(folder: Path) -> tuple[list, list[str]]:
    """The certificates in the files of ``folder`` (PEM or DER, several per PEM file allowed),
    and a message for each file that could not be read."""
    from pyhanko.keys import load_certs_from_pemder_data

    certificates, problems = [], []
    if not folder.is_dir():
        return certificates, problems
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in CERTIFICATE_SUFFIXES or not path.is_file():
            continue
        try:
            found = list(load_certs_from_pemder_data(path.read_bytes()))
        except (OSError, ValueError) as error:
            problems.append(f"{path}: {error}")
            continue
        if not found:
            problems.append(f"{path}: no certificate in the file")
        certificates.extend(found)
    return certificates, problems


def current_certificate():
    """The configured signing certificate (``asn1crypto``), or ``None``."""
    from pyhanko.keys import load_cert_from_pemder

    path = current_app.config.get("CERTIFY_SIGNING_CERT")
    return load_cert_from_pemder(path) if path else None


def _readable_current_certificate():
    try:
        return current_certificate()
    except (OSError, ValueError):  # flask doctor names the cause; checking goes on without it
        log.warning("The signing certificate cannot be read", exc_info=True)
        return None


def signer_trust_roots() -> list:
    """The current signing certificate and the certificates kept in the trust-roots folder."""
    current = _readable_current_certificate()
    earlier, problems = read_certificates(trust_roots_folder())
    for problem in problems:
        log.warning("Trust root not read: %s", problem)
    return _unique(([current] if current is not None else []) + earlier)


def tsa_trust_roots() -> list:
    """The certificates a timestamp authority's certificate may chain to."""
    roots, problems = read_certificates(tsa_trust_roots_folder())
    for problem in problems:
        log.warning("Timestamp authority root not read: %s", problem)
    return _unique(roots)


def _unique(certificates: list) -> list:
    seen, unique = set(), []
    for certificate in certificates:
        if certificate.sha256 not in seen:
            seen.add(certificate.sha256)
            unique.append(certificate)
    return unique


def trust_anchors(certificates: list) -> list:
    """Trust anchors that count only within their certificate's validity: pyHanko's path
    validation otherwise accepts a trust root for ever, so an expired self-signed key would
    never stop validating."""
    from pyhanko_certvalidator.authority import CertTrustAnchor, TrustQualifiers

    anchors = []
    for certificate in certificates:
        validity = certificate["tbs_certificate"]["validity"]
        anchors.append(CertTrustAnchor(certificate, quals=TrustQualifiers(
            valid_from=validity["not_before"].native, valid_until=validity["not_after"].native)))
    return anchors


@functools.lru_cache(maxsize=4)
def _http_timestamper(url: str, hour: int):
    # One client per address, process and hour: pyHanko keeps the authority's sample token on
    # it, which sizes the room for each timestamp and names the certificates to embed, so only
    # the first signature of the hour pays an extra request; a renewed authority certificate is
    # picked up within the hour.
    from pyhanko.sign.timestamps import HTTPTimeStamper

    return HTTPTimeStamper(url, timeout=10)


def timestamper():
    """The client of the configured timestamp authority, or ``None``."""
    url = current_app.config.get("CERTIFY_TSA_URL")
    return _http_timestamper(url, int(time.time() // 3600)) if url else None


def timestamp_authority_problem(url: str, roots: list) -> str | None:
    """What is wrong with the timestamp authority at ``url``, or ``None``: it is asked for one
    timestamp, whose certificate must chain to one of ``roots`` today."""
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko.sign.validation.status import TimestampSignatureStatus
    from pyhanko_certvalidator import ValidationContext

    digest = hashlib.sha256(os.urandom(32)).digest()

    async def ask():
        token = await HTTPTimeStamper(url, timeout=5).async_timestamp(digest, "sha256")
        context = ValidationContext(trust_roots=trust_anchors(roots), allow_fetching=True)
        return TimestampSignatureStatus(**await validate_tst_signed_data(
            token["content"], context, expected_tst_imprint=lambda _algorithm: digest))

    try:
        status = asyncio.run(ask())
    except Exception as error:  # noqa: BLE001 - any failure means no usable timestamp
        cause = error.__cause__ or error
        return f"no timestamp from {url}: {str(cause).strip() or type(cause).__name__}"
    if not status.trusted:
        signer = (status.signing_cert.subject.human_friendly if status.signing_cert
                  else "an unnamed certificate")
        return (f"the timestamp from {url} is signed by {signer}, whose certificate does not "
                "chain to a timestamp authority root kept here")
    return None


def sign_pdf(pdf: bytes, *, reason: str, location: str) -> tuple[bytes, SignerInfo]:
    """``pdf`` signed by the configured key at PAdES B-LT (B-LTA with a timestamp authority),
    and who signed it. Raises when the key's certificate or the authority's does not validate
    against the trust roots now: a signature nobody could check is not issued."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko.sign.signers.pdf_signer import DSSContentSettings, SigDSSPlacementPreference
    from pyhanko_certvalidator import ValidationContext

    signer = _signer()
    tsa = timestamper()
    # Fetching stays allowed so that a CA-issued certificate's OCSP response or CRL is embedded;
    # certificates that name no such service (the development pair) cause no request.
    context = ValidationContext(trust_roots=trust_anchors(_unique(
        [signer.signing_cert, *signer_trust_roots(), *(tsa_trust_roots() if tsa else [])])),
        allow_fetching=True)
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD, subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256",
        reason=reason, location=location, embed_validation_info=True, validation_context=context,
        # The validation data goes into the signed revision itself (B-LT in one revision, and no
        # second pass over the file); the per-signature VRI index this rules out is obsolete.
        dss_settings=DSSContentSettings(
            placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE, include_vri=False),
        use_pades_lta=tsa is not None, timestamp_field_name=TIMESTAMP_FIELD)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    signed = signers.sign_pdf(writer, metadata, signer=signer, timestamper=tsa,
                              bytes_reserved=None if tsa else SIGNATURE_BYTES_RESERVED).getvalue()
    return signed, signer_info(signer.signing_cert)


def check_signature(pdf: bytes, *, at: datetime | None = None) -> SignatureCheck:
    """What the signature of ``pdf`` proves, checked against the trust roots as of ``at``
    (default: now)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = [s for s in reader.embedded_signatures if s.sig_object_type == "/Sig"]
    except Exception:  # noqa: BLE001 - any parse failure means the file cannot be checked
        return SignatureCheck(SignatureState.UNREADABLE)
    if not signatures:
        return SignatureCheck(SignatureState.UNSIGNED)
    roots = signer_trust_roots()
    if not roots:
        return SignatureCheck(SignatureState.UNCHECKED)
    signature = signatures[-1]
    moment = at or datetime.now(timezone.utc)
    try:
        status = asyncio.run(_validate(reader, signature, roots, moment))
    except Exception:  # noqa: BLE001 - a damaged signature container is a broken signature
        log.info("Signature validation failed", exc_info=True)
        return SignatureCheck(SignatureState.BROKEN)
    return _outcome(status, _readable_current_certificate())


async def _validate(reader, signature, roots: list, moment: datetime):
    """pyHanko's validation, with the signer's chain judged at the time of the signature's
    trusted timestamp when it has one (the point of long-term validation), else at ``moment``.
    The DSS's certificates and revocation data are used, and nothing is fetched."""
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.errors import NoDSSFoundError
    from pyhanko.sign.validation.generic_cms import collect_timing_info

    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:  # signed before validation data was embedded
        dss = None

    def context(trusted: list, at: datetime):
        settings = {"trust_roots": trust_anchors(trusted), "allow_fetching": False, "moment": at,
                    "retroactive_revinfo": True}
        if dss is None:
            from pyhanko_certvalidator import ValidationContext

            return ValidationContext(**settings)
        return dss.as_validation_context(settings)

    ts_context = context(tsa_trust_roots(), moment)
    timing = await collect_timing_info(signature.signer_info, ts_context,
                                       raw_digest=signature.compute_digest)
    timestamp = timing.get("timestamp_validity")
    signed_at = timestamp.timestamp if timestamp is not None and timestamp.trusted else moment
    return await async_validate_pdf_signature(signature, context(roots, signed_at),
                                              ts_validation_context=ts_context)


def _outcome(status, current) -> SignatureCheck:
    from pyhanko.sign.ades.report import AdESIndeterminate
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import SignatureCoverageLevel

    certificate = status.signing_cert
    timestamp = status.timestamp_validity
    details = {
        "signer": display_name(certificate) if certificate else None,
        "fingerprint": certificate.sha256.hex() if certificate else None,
        "is_current_key": bool(certificate and current and certificate.sha256 == current.sha256),
        "timestamped_at": timestamp.timestamp if timestamp and timestamp.trusted else None,
    }
    only_validation_data_added = (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION and status.docmdp_ok
        and status.modification_level is not None
        and status.modification_level <= ModificationLevel.LTA_UPDATES)
    if not (status.intact and status.valid):
        state = SignatureState.BROKEN
    elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE and not only_validation_data_added:
        state = SignatureState.MODIFIED
    elif status.trusted:
        state = SignatureState.VALID
    elif status.trust_problem_indic == AdESIndeterminate.OUT_OF_BOUNDS_NO_POE:
        state = SignatureState.EXPIRED
    else:
        state = SignatureState.UNTRUSTED
    return SignatureCheck(state, **details)


def display_name(certificate) -> str:
    """A certificate's subject as people read it: organisation and common name
    (``四川省经济和信息化厅 · 证书签名``), else the whole subject."""
    subject = certificate.subject.native
    parts = [subject.get(name) for name in ("organization_name", "common_name")]
    parts = [part for part in parts if isinstance(part, str) and part]
    return (" · ".join(parts) if parts else certificate.subject.human_friendly)[:300]


def is_development_certificate(certificate) -> bool:
    """Whether an ``asn1crypto`` certificate is one made by ``create_development_key``."""
    return certificate.subject.native.get("common_name") == DEVELOPMENT_COMMON_NAME


def create_development_key(folder: Path, *, days: int = 3650, passphrase: bytes | None = None,
                           overwrite: bool = False) -> tuple[Path, Path]:
    """Write a self-signed ECDSA key and certificate for development to ``folder``
    (``signing-key.pem``, mode 600, and ``signing-cert.pem``); return their paths.

    Refuses (``FileExistsError``) to replace existing files unless ``overwrite``: a new key
    makes every earlier signature untrusted unless the old certificate is kept as a trust root
    (``flask keys rotate`` does that first).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key_path, cert_path = folder / "signing-key.pem", folder / "signing-cert.pem"
    if not overwrite and (key_path.exists() or cert_path.exists()):
        raise FileExistsError(f"{key_path} or {cert_path} already exists")
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)

    # ECDSA P-256: quick to load for every signature (an RSA key costs ~40 ms per load here).
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Sichuan"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "四川省经济和信息化厅 (development)"),
        x509.NameAttribute(NameOID.COMMON_NAME, DEVELOPMENT_COMMON_NAME),
    ])
    now = datetime.now(timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    key_bytes = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  encryption)
    # Written beside and renamed into place, so that a process signing meanwhile never reads a
    # key of one pair with the certificate of the other half-written.
    for path, data, mode in ((key_path, key_bytes, 0o600),
                             (cert_path, certificate.public_bytes(serialization.Encoding.PEM), 0o644)):
        partial = path.with_name(path.name + ".new")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(partial, mode)
        os.replace(partial, path)
    return key_path, cert_path


def key_matches_certificate(key_path: Path, cert_path: Path, passphrase: bytes | None) -> None:
    """Raise ``ValueError`` unless the PEM key at ``key_path`` belongs to the certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(key_path.read_bytes(), password=passphrase)
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
        raise ValueError(f"{key_path} is not the key of {cert_path}")


def keep_as_trust_root(cert_path: Path, folder: Path) -> Path:
    """Copy the certificate at ``cert_path`` into the trust-roots ``folder`` (named by its
    fingerprint, so keeping it twice changes nothing); return the copy's path."""
    from pyhanko.keys import load_cert_from_pemder

    certificate = load_cert_from_pemder(str(cert_path))
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"signing-cert-{certificate.sha256.hex()[:16]}.pem"
    if not kept.exists():
        shutil.copyfile(cert_path, kept)
    return kept
