"""A built wheel carries every package: the editable install used by the tests would hide a missing one."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_of_the_source_tree_is_listed_for_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "watchdog").rglob("__init__.py")}
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def test_the_status_pages_templates_and_stylesheet_are_package_data():
    # The editable install reads them from the tree; a wheel has only what package-data lists.
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["watchdog.runtime"]
    package = ROOT / "watchdog" / "runtime"
    shipped = {path for pattern in globs for path in package.glob(pattern)}
    needed = {*package.glob("templates/*"), *package.glob("static/*")}
    assert needed and needed <= shipped, "add them to [tool.setuptools.package-data] in pyproject.toml"
