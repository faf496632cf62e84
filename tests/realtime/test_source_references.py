"""Comments and docstrings of notifications/ and realtime/ name static files and templates that exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"\b((?:static|templates)/[\w./-]*\w)")


def test_every_named_static_file_or_template_exists():
    missing = {
        f"{path.relative_to(ROOT)}: {name}"
        for app in ("notifications", "realtime")
        for path in (ROOT / app).rglob("*.py")
        for name in REFERENCE.findall(path.read_text())
        if not (ROOT / name).exists()
    }
    assert missing == set()
