"""Entry point of the child process that converts one font face (see ``fonts.prepare_fonts``):
``python -m certify.pdf.convert_font COLLECTION POSTSCRIPT_NAME TARGET [CHARACTERS]``."""

import sys
from pathlib import Path

from certify.pdf.fonts import convert_file

if __name__ == "__main__":
    convert_file(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "")
