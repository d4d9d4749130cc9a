"""Start-up check of what PDF rendering needs from the operating system."""

from certify.pdf.fonts import SOURCE_FACES


def pdf_health() -> list[str]:
    """Problems that would make PDFs fail, slow or wrong, each with its fix; empty if none."""
    try:
        from weasyprint.text import ffi
    except (ImportError, OSError) as exc:
        return [f"WeasyPrint cannot load Pango ({exc}): apt-get install -y libpango-1.0-0 "
                "libpangoft2-1.0-0"]
    problems = []
    if ffi.harfbuzz_subset is None or not ffi.harfbuzz.hb_version_atleast(4, 1, 0):
        problems.append(
            "HarfBuzz subsetting is missing, so a Chinese PDF takes seconds instead of a fifth "
            "of a second: install libharfbuzz-subset0: apt-get install -y libharfbuzz-subset0")
    missing = [str(source) for source, _ in SOURCE_FACES.values() if not source.is_file()]
    if missing:
        problems.append(f"The Chinese font is missing ({', '.join(missing)}): "
                        "apt-get install -y fonts-noto-cjk")
    try:
        import fontTools  # noqa: F401
    except ImportError:
        problems.append("fontTools is missing, so the Chinese font cannot be prepared: "
                        "pip install 'fonttools>=4.40,<5'")
    else:
        try:
            from fontTools.ttLib import reorderGlyphs  # noqa: F401 - the preparation numbers glyphs anew
        except ImportError:
            problems.append("fontTools is too old to prepare the Chinese font (it has no "
                            "fontTools.ttLib.reorderGlyphs): pip install --upgrade 'fonttools<5'")
    return problems
