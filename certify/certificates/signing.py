"""Digital signatures on certificate PDFs (PAdES, with pyHanko), and checking them.

When ``CERTIFY_SIGNING_KEY`` and ``CERTIFY_SIGNING_CERT`` name PEM files (the key optionally
protected by the passphrase in ``CERTIFY_SIGNING_KEY_PASSPHRASE``), every certificate PDF is
signed as it is rendered. Checking uses the configured certificate as the only trust root: a
signature is valid when the file is intact, the signature verifies, it covers the whole file
and it chains to that certificate. ``flask keys init`` makes a self-signed development pair.

No timestamp authority is used yet, so a signature stops validating once the signing
certificate expires; production needs a TSA and long-term validation data (PAdES-LTA).
"""

import enum
import io
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask import current_app

log = logging.getLogger(__name__)

SIGNATURE_FIELD = "CertificateSignature"
# Room for the CMS signature: one signer certificate (RSA up to 4096 bits or EC) and its
# attributes take 2–4 KB; a chain of intermediates would need more.
SIGNATURE_BYTES_RESERVED = 8192


class SignatureState(enum.StrEnum):
    VALID = "valid"              # intact, whole file, signed with the configured key
    UNTRUSTED = "untrusted"      # intact, but signed by someone else
    MODIFIED = "modified"        # intact signature, but the file was extended after signing
    BROKEN = "broken"            # the signed bytes were changed
    UNSIGNED = "unsigned"        # no signature in the file
    UNREADABLE = "unreadable"    # not a PDF, or a damaged one
    UNCHECKED = "unchecked"      # no signing certificate configured to check against


@dataclass(frozen=True)
class SignerInfo:
    """Who signed: the certificate's subject and its SHA-256 fingerprint (hex)."""

    subject: str
    fingerprint: str


@dataclass(frozen=True)
class SignatureCheck:
    state: SignatureState
    signer: str | None = None

    @property
    def is_valid(self) -> bool:
        return self.state == SignatureState.VALID


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


def _trust_root():
    from pyhanko.keys import load_cert_from_pemder

    return load_cert_from_pemder(current_app.config["CERTIFY_SIGNING_CERT"])


def signer_info(certificate) -> SignerInfo:
    """The subject and fingerprint of an ``asn1crypto`` certificate."""
    return SignerInfo(subject=certificate.subject.human_friendly[:300],
                      fingerprint=certificate.sha256.hex())


def sign_pdf(pdf: bytes, *, reason: str, location: str) -> tuple[bytes, SignerInfo]:
    """``pdf`` with a PAdES signature by the configured key appended, and who signed it."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    signer = _signer()
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD, subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256",
        reason=reason, location=location)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    # A fixed reservation spares pyHanko a trial signature to measure the space it needs.
    signed = signers.sign_pdf(writer, metadata, signer=signer,
                              bytes_reserved=SIGNATURE_BYTES_RESERVED).getvalue()
    return signed, signer_info(signer.signing_cert)


def check_signature(pdf: bytes) -> SignatureCheck:
    """What the signature of ``pdf`` proves, checked against the configured certificate."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    except Exception:  # noqa: BLE001 - any parse failure means the file cannot be checked
        return SignatureCheck(SignatureState.UNREADABLE)
    if not signatures:
        return SignatureCheck(SignatureState.UNSIGNED)
    if not signing_configured():
        return SignatureCheck(SignatureState.UNCHECKED)
    signature = signatures[-1]
    try:
        context = ValidationContext(trust_roots=[_trust_root()], allow_fetching=False)
        status = validate_pdf_signature(signature, context)
    except Exception:  # noqa: BLE001 - a damaged signature container is a broken signature
        log.info("Signature validation failed", exc_info=True)
        return SignatureCheck(SignatureState.BROKEN)
    signer = status.signing_cert.subject.human_friendly if status.signing_cert else None
    if not (status.intact and status.valid):
        state = SignatureState.BROKEN
    elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        state = SignatureState.MODIFIED
    elif not status.trusted:
        state = SignatureState.UNTRUSTED
    else:
        state = SignatureState.VALID
    return SignatureCheck(state, signer)


def create_development_key(folder: Path, *, days: int = 3650, passphrase: bytes | None = None,
                           overwrite: bool = False) -> tuple[Path, Path]:
    """Write a self-signed ECDSA key and certificate for development to ``folder``
    (``signing-key.pem``, mode 600, and ``signing-cert.pem``); return their paths.

    Refuses (``FileExistsError``) to replace existing files unless ``overwrite``: a new key
    makes every earlier signature untrusted.
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
        x509.NameAttribute(NameOID.COMMON_NAME, "certify development certificate signing key"),
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
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key_bytes)
    os.chmod(key_path, 0o600)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path
