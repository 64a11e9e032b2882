"""Write docs/cli.md from the Click commands themselves, so the reference cannot drift.

    python scripts/cli_reference.py            # rewrite docs/cli.md
    python scripts/cli_reference.py --check    # exit 1 if docs/cli.md is out of date

tests/test_docs.py runs the check.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gridkit_cli.main import cli

OUT = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def _walk(command, path):
    yield path, command
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from _walk(command.commands[name], [*path, name])


def reference() -> str:
    parts = ["# Command-line reference", "",
             "Generated from the commands' own `--help` by `python scripts/cli_reference.py`; "
             "do not edit by hand.", ""]
    for path, command in _walk(cli, ["gridkit"]):
        ctx = click.Context(command, info_name=" ".join(path), terminal_width=100, help_option_names=["-h", "--help"])
        parts += [f"## `{' '.join(path)}`", "", "```text", command.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(parts)


def main():
    text = reference()
    if "--check" in sys.argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is out of date: run python scripts/cli_reference.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
