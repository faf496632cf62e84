"""Who imports whom: notifications and the publisher's transport never reach into jobs (DESIGN.md)."""

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    """Return every absolute module a file imports, at module level or inside a function."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_notifications_never_import_jobs():
    offenders = {
        str(path.relative_to(ROOT)): sorted(module for module in imported_modules(path)
                                            if module == "jobs" or module.startswith("jobs."))
        for path in (ROOT / "notifications").rglob("*.py")
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}


def test_importing_the_publisher_loads_none_of_the_apps():
    """The publisher is pure transport: importing it must not drag jobs, articles or notifications in."""
    probe = (
        "import sys, realtime.publisher as p; "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('jobs', 'articles', 'notifications')); "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
