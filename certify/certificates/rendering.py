"""The certificate PDF: A4 landscape, Chinese with English subtitles, and a QR code that opens
the public verification page.

The certificate is an official bilingual document, so its wording lives in the template in
both languages rather than in the interface's translation catalogue.
"""

import base64
import io

import segno
from babel.dates import format_date
from flask import current_app, render_template

from certify.certificates.signing import SignerInfo, sign_pdf, signing_configured
from certify.core.urls import absolute_url
from certify.pdf import html_to_pdf
from certify.scoring.model import Text as Bilingual

TEMPLATE = "certificates/certificate.html"
# Its stylesheet, in certify/pdf/assets/: parsed once per process rather than at each render.
STYLESHEET = "certificate.css"
ISSUER = Bilingual(zh="四川省经济和信息化厅",
                   en="Sichuan Provincial Department of Economy and Information Technology")
SIGNING_LOCATION = "Chengdu, Sichuan"
# Medium error correction: survives a crease or a stamp, and the code stays small (version 4–5).
QR_ERROR_CORRECTION = "m"
# Any of the eight masks reads well on print; choosing one saves trying all eight, which is
# most of the time spent making the code (~1 ms instead of ~4).
QR_MASK = 0
VERIFY_ENDPOINT = "certificates.verify"


class BaseUrlMissing(RuntimeError):
    """The public address is not configured, so the QR code would lead nowhere."""


def verification_url(number: str) -> str:
    """``<CERTIFY_BASE_URL>/verify?number=<number>``: the address the QR code carries.

    A printed certificate must carry the public address, never whatever host a request came
    through (and jobs have no request): without ``CERTIFY_BASE_URL`` rendering fails and says so.
    """
    if not current_app.config.get("CERTIFY_BASE_URL"):
        raise BaseUrlMissing("CERTIFY_BASE_URL is not set: certificates need the public address "
                             "of this site for their QR code, e.g. https://lvse.jxt.sc.gov.cn")
    return absolute_url(VERIFY_ENDPOINT, number=number)


def qr_code(url: str) -> segno.QRCode:
    return segno.make(url, error=QR_ERROR_CORRECTION, mask=QR_MASK, micro=False)


def qr_data_url(url: str) -> str:
    """The QR code as a PNG ``data:`` URL, one pixel per module: the template scales it up
    with ``image-rendering: pixelated``, so it is sharp and costs a few hundred bytes."""
    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind="png", scale=1, border=4)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _dates(day) -> Bilingual:
    return Bilingual(zh=format_date(day, "long", locale="zh_CN"),
                     en=format_date(day, "d MMMM y", locale="en"))


def certificate_html_context(certificate) -> dict:
    url = verification_url(certificate.number)
    return {
        "certificate": certificate, "kind": certificate.title, "issuer": ISSUER,
        "issued_on": _dates(certificate.valid_from), "valid_until": _dates(certificate.valid_until),
        "verification_url": url, "qr_code": qr_data_url(url),
    }


def certificate_pdf(certificate) -> tuple[bytes, SignerInfo | None]:
    """The certificate's PDF bytes, signed when a signing key is configured, and the signer."""
    pdf = html_to_pdf(render_template(TEMPLATE, **certificate_html_context(certificate)), [STYLESHEET])
    if not signing_configured():
        return pdf, None
    return sign_pdf(pdf, reason=f"{ISSUER.zh} {certificate.number}", location=SIGNING_LOCATION)


def warm_up(app, **_) -> None:
    """Receiver of ``signals.worker_starting``: make one certificate PDF and throw it away, so
    that a worker's first certificate does not pay for the template, the stylesheet, the QR code
    and the signing key (~0.17 s of CPU). Nothing of it reaches the database or the storage."""
    certificate_pdf(_sample_certificate())


def _sample_certificate():
    from datetime import date

    from certify.certificates.models import Certificate

    return Certificate(
        id=0, number="SC-GF-2000-0001", kind="factory", year=2000, sequence=1,
        organisation_name="示例企业有限公司 Sample Co., Ltd.", credit_code="91510100000000000X",
        subject="示例生产基地 Sample site", rule_set_id="sample", rule_set_version="1",
        standard_code="GB/T 36132-2018", standard_title_zh="绿色工厂评价通则",
        standard_title_en="General principle for assessment of green factory",
        valid_from=date(2000, 1, 1), valid_until=date(2002, 12, 31))
