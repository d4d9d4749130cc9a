"""PDF documents (certificates, reports) rendered with WeasyPrint.

``render_pdf(template_name, **context)`` renders a Jinja template to PDF bytes. Documents can
reach nothing but the package's own assets (see ``fetcher``), and set Chinese text in a font
prepared once for small files (see ``fonts``). ``pdf_health()`` says what the machine lacks.
"""

from certify.pdf.fetcher import asset_url
from certify.pdf.fonts import prepare_fonts
from certify.pdf.health import pdf_health
from certify.pdf.render import html_to_pdf, render_pdf

__all__ = ["asset_url", "html_to_pdf", "pdf_health", "prepare_fonts", "render_pdf"]
