"""The documentation: the site builds without a warning, the README stays short, and what the docs name
(code paths, the ``onestack`` command's options, the tour) is what the code has."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from onestack import cli

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = sorted(DOCS.rglob("*.md"))
# a path of the repository in backquotes, such as `onestack/drivers/netns/converge.py`
CODE_PATH = re.compile(r"`((?:onestack|tests|scripts|bench)/[\w./-]*)`")


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None,
                    reason="mkdocs is not installed: make install puts it in (the test and docs extras)")
def test_site_builds_in_strict_mode_without_a_warning(tmp_path):
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                            str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
                           capture_output=True, text=True, cwd=ROOT, timeout=120)
    output = built.stdout + built.stderr
    assert built.returncode == 0, output
    assert "WARNING" not in output, output
    assert (tmp_path / "site" / "index.html").exists()


def test_readme_is_what_a_newcomer_needs_and_no_more():
    assert README.stat().st_size < 12 * 1024, "the reference belongs in docs/, the README stays under 12 KB"


def test_readme_links_lead_to_pages_that_exist():
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text())
    local = [link for link in links if "://" not in link]
    assert local, "the README should point into docs/"
    missing = [link for link in local if not (ROOT / link).exists()]
    assert missing == []


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: str(p.relative_to(ROOT)))
def test_code_paths_the_docs_name_exist(page):
    named = {path.rstrip("/.") for path in CODE_PATH.findall(page.read_text())}
    assert sorted(path for path in named if not (ROOT / path).exists()) == []


def _tour(text: str, heading: str) -> str:
    after = text.split(heading, 1)[1]
    return after.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_tour_is_the_same_in_the_readme_and_the_guide():
    readme = _tour(README.read_text(), "## A five-minute tour")
    guide = _tour((DOCS / "getting-started.md").read_text(), "## The tour")
    assert readme == guide
    assert "openstack server add floating ip" in readme and "ping" in readme


def _commands(group, prefix: tuple[str, ...] = ()):
    """(the words after ``onestack``, the command) for every command that runs something."""
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group (typer carries its own click, so no isinstance)
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


@pytest.mark.parametrize("path,command", [pytest.param(path, command, id=" ".join(path))
                                           for path, command in _commands(typer.main.get_command(cli.app))])
def test_every_command_and_option_is_in_the_reference(path, command):
    reference = (DOCS / "cli.md").read_text()
    heading = f"## onestack {' '.join(path)}\n"
    assert heading in reference, f"docs/cli.md has no section for onestack {' '.join(path)}"
    section = reference.split(heading, 1)[1].split("\n## ", 1)[0]
    options = [opt for param in command.params if param.param_type_name == "option"
               for opt in param.opts + param.secondary_opts if opt != "--help"]
    assert [opt for opt in options if opt not in section] == []
