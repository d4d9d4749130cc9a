"""The Chinese font for PDFs, prepared once from the operating system's Noto Sans CJK.

Debian ships Noto Sans CJK as ``.ttc`` collections with CFF outlines. WeasyPrint keeps glyph
numbers when it subsets a font, and a CFF subset still carries an empty entry for each of the
65,535 glyph slots: a one-page certificate weighs ~220 KB. With TrueType outlines the empty slots
cost almost nothing (measured: 26 KB, and ~40% faster). So the Simplified Chinese face (regular
and bold) is converted once to a standalone TrueType file in a cache folder, and templates load
it with ``@font-face`` through the PDF package's URL fetcher.

WeasyPrint's subset also keeps every glyph slot up to the highest glyph number a document uses,
and its subsetting and compression time grows with that number. In Noto Sans CJK SC the
Simplified Chinese forms of the punctuation (，：“”（）…) and the Latin ligatures (fi, fl) come
last, above 58,000: one comma made a document embed all 63,000 slots (661 KB before compression
against 407 KB without it). The conversion moves those glyphs to the front (``_front_glyphs``);
every other glyph keeps its order, so ideographs keep the numbers they had.

Conversion takes about a minute per face: call ``prepare_fonts()`` at installation or
start-up; otherwise the first PDF a process renders pays for it.
"""

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from flask import current_app

log = logging.getLogger(__name__)

NOTO_FOLDER = Path("/usr/share/fonts/opentype/noto")
# face -> (collection, PostScript name of the Simplified Chinese face in it); templates load each
# as ``certify-asset:fonts/<face>.ttf``.
SOURCE_FACES = {
    "sans-regular": (NOTO_FOLDER / "NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular"),
    "sans-bold": (NOTO_FOLDER / "NotoSansCJK-Bold.ttc", "NotoSansCJKsc-Bold"),
    "serif-bold": (NOTO_FOLDER / "NotoSerifCJK-Bold.ttc", "NotoSerifCJKsc-Bold"),
}
# The serif face sets only the certificates' titles, as official documents set theirs: it is
# prepared with just their characters (a few KB instead of 30 MB, which a document would otherwise
# load and subset each time). A title with a character left out falls back to the system's serif.
TITLE_FACES = {"serif-bold"}


def title_characters() -> str:
    """Every character a certificate's title can have: each kind's certificate name, its
    recognition title where it has one, and 证书."""
    from certify.applications.kinds import all_kinds

    titles = [kind.certificate.zh for kind in all_kinds()]
    titles += [kind.recognition.zh for kind in all_kinds() if kind.recognition is not None]
    return "".join(sorted(set("证书".join(titles) + "证书")))


def _characters(face: str) -> str:
    return title_characters() if face in TITLE_FACES else ""
# Raise when the conversion changes, so that caches made by older code are not used.
CONVERTER_VERSION = 2
# Characters whose glyphs go first in a prepared face: General Punctuation, CJK Symbols and
# Punctuation, Halfwidth and Fullwidth Forms (the punctuation of Chinese running text).
FRONT_RANGES = ((0x2000, 0x206F), (0x3000, 0x303F), (0xFF00, 0xFFEF))
# Vertical metrics, left out of prepared faces: in a subset that keeps glyph numbers, vmtx holds
# 4 bytes for every slot, zeros broken by each glyph used, and the PDF writer's zlib (level 9)
# slows down at every break: 2.2 ms of a certificate's 6.4 ms of font compression, 0.8 of 1.5 ms
# for a one-line page.
VERTICAL_TABLES = ("vhea", "vmtx")
# Ligature features on by default in the text shaper: their glyphs go first too (fi, fl, ff...).
_LIGATURE_FEATURES = frozenset({"liga", "clig", "rlig"})
# Largest distance (in font units of 1000 per em) of the quadratic from the cubic curves:
# far below what a printed page can show.
_CURVE_TOLERANCE = 1.0


def font_dir() -> Path:
    """Where prepared fonts are kept: ``CERTIFY_FONT_DIR``, else ``instance/fonts``."""
    configured = current_app.config.get("CERTIFY_FONT_DIR")
    return Path(configured or Path(current_app.instance_path) / "fonts")


def prepared_font_paths(folder: Path) -> dict[str, Path]:
    """The file each weight is (or will be) prepared into, named after its source, so that an
    update of the system font or of the converter makes a new file."""
    paths = {}
    for face, (source, postscript_name) in SOURCE_FACES.items():
        stat = source.stat()
        stamp = hashlib.sha256(
            f"{postscript_name}:{stat.st_size}:{stat.st_mtime_ns}:{CONVERTER_VERSION}{_characters(face)}".encode()
        ).hexdigest()[:12]
        paths[face] = folder / f"{postscript_name}-{stamp}.ttf"
    return paths


def prepare_fonts(folder: Path | None = None) -> dict[str, Path]:
    """Convert the Simplified Chinese faces to TrueType unless already done; return
    ``{face: path}`` (``sans-regular``, ``sans-bold``, ``serif-bold``).

    Each conversion runs in a child process: it briefly needs ~750 MB, which a long-lived web
    or job process should not keep. Safe to call from several processes at once: each writes a
    temporary file and moves it into place, so a reader sees a whole font or none.
    """
    folder = folder or font_dir()
    paths = prepared_font_paths(folder)
    for face, target in paths.items():
        if target.is_file():
            continue
        source, postscript_name = SOURCE_FACES[face]
        log.warning("Preparing the %s Chinese PDF font (once; about a minute)", face)
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "certify.pdf.convert_font", str(source), postscript_name, str(target),  # noqa: S603 - our own module, fixed arguments
                        _characters(face)],
                       check=True, env=os.environ | {"PYTHONPATH": _import_path()})
    return paths


def convert_file(collection: Path, postscript_name: str, target: Path, characters: str = "") -> None:
    """Write the converted face to ``target`` atomically (what the child process runs); with
    ``characters``, only their glyphs."""
    descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-", suffix=".ttf")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            _convert_to_truetype(collection, postscript_name, handle, characters)
        os.chmod(name, 0o644)
        os.replace(name, target)
    finally:
        Path(name).unlink(missing_ok=True)


def _import_path() -> str:
    """``PYTHONPATH`` for the child, so that it imports this same ``certify``."""
    project = str(Path(__file__).resolve().parents[2])
    return os.pathsep.join(filter(None, [project, os.environ.get("PYTHONPATH")]))


def _convert_to_truetype(collection: Path, postscript_name: str, output, characters: str = "") -> None:
    """Write the face ``postscript_name`` of ``collection`` to ``output`` with its CFF
    outlines redrawn as TrueType quadratic curves (what fontTools' otf2ttf does); with
    ``characters``, first cut down to their glyphs, else with punctuation first
    (``front_first_order``)."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.subset import Options, Subsetter
    from fontTools.ttLib import TTCollection, newTable
    from fontTools.ttLib.reorderGlyphs import reorderGlyphs

    font = _face(TTCollection(collection), postscript_name)
    if characters:
        options = Options()
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        subsetter = Subsetter(options)
        subsetter.populate(text=characters)
        subsetter.subset(font)
    else:
        reorderGlyphs(font, front_first_order(font))
    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = {}
    for name in glyph_order:
        pen = TTGlyphPen(glyph_set)
        # TrueType contours run the other way round from PostScript ones.
        glyph_set[name].draw(Cu2QuPen(pen, _CURVE_TOLERANCE, reverse_direction=True))
        glyf[name] = pen.glyph()

    # VORG only describes CFF fonts; vertical metrics serve vertical text, which WeasyPrint does
    # not lay out and PDFs do not read from the font, while in each subset they cost a table of
    # 4 bytes per glyph slot (see VERTICAL_TABLES).
    for table in ("CFF ", "VORG", *VERTICAL_TABLES):
        if table in font:
            del font[table]
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    font["maxp"] = _truetype_maxp()
    font["head"].glyphDataFormat = 0
    # Format 3 keeps no glyph names: format 2 cannot hold 65,535 of them, and PDFs need none.
    font["post"].formatType = 3.0
    font.sfntVersion = "\x00\x01\x00\x00"
    font.save(output)


def front_first_order(font) -> list[str]:
    """The glyph order of ``font`` with ``.notdef`` first, then the glyphs of ``_front_glyphs``,
    then every other glyph in its order."""
    order = font.getGlyphOrder()
    front = dict.fromkeys(name for name in _front_glyphs(font) if name != order[0])
    return [order[0], *front, *(name for name in order[1:] if name not in front)]


def _front_glyphs(font) -> list[str]:
    """The glyphs of the characters in ``FRONT_RANGES`` in code point order, then the
    ligatures that the default features make of characters below U+3400 (Latin fi, fl...)."""
    cmap = font.getBestCmap()
    glyphs = [cmap[code] for code in sorted(cmap) if any(low <= code <= high for low, high in FRONT_RANGES)]
    small = {name for code, name in cmap.items() if code < 0x3400}
    return glyphs + [ligature for components, ligature in _default_ligatures(font) if components <= small]


def _default_ligatures(font) -> list[tuple[set[str], str]]:
    """(components, ligature glyph) of each ligature substitution in ``_LIGATURE_FEATURES``."""
    if "GSUB" not in font or not font["GSUB"].table.FeatureList:
        return []
    table = font["GSUB"].table
    lookups = sorted({index for record in table.FeatureList.FeatureRecord
                      if record.FeatureTag in _LIGATURE_FEATURES for index in record.Feature.LookupListIndex})
    ligatures = []
    for index in lookups:
        for subtable in table.LookupList.Lookup[index].SubTable:
            if subtable.LookupType == 7:  # extension: the real subtable inside
                subtable = subtable.ExtSubTable
            if subtable.LookupType != 4:
                continue
            for first, entries in sorted(subtable.ligatures.items()):
                ligatures.extend(({first, *entry.Component}, entry.LigGlyph) for entry in entries)
    return ligatures


def _face(collection, postscript_name: str):
    for font in collection.fonts:
        if font["name"].getDebugName(6) == postscript_name:
            return font
    raise LookupError(f"{postscript_name} is not in the font collection")


def _truetype_maxp():
    from fontTools.ttLib import newTable

    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    # The remaining counts (points, contours, components) are computed when the font is saved.
    for field in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                  "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                  "maxComponentElements"):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    return maxp

