"""Generate the CLI reference (docs/cli.md) from the click commands.

``python -m recoupe.docgen > docs/cli.md``; a test fails when the file is stale.
"""

from __future__ import annotations

import click

from recoupe.cli import cli


def _command_doc(name: str, command: click.Command, parent: click.Context | None) -> list[str]:
    ctx = command.make_context(name, [], parent=parent, resilient_parsing=True)
    lines = [f"## `recoupe {name}`" if name != "recoupe" else "## `recoupe`", ""]
    help_text = (command.help or "").strip()
    if help_text:
        lines += [help_text, ""]
    lines += ["```", command.get_usage(ctx).strip(), "```", ""]
    rows: list[tuple[str, str]] = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is not None:
            rows.append(record)
    args = [p for p in command.params if isinstance(p, click.Argument)]
    if args:
        lines += ["Arguments: " + ", ".join(f"`{a.human_readable_name}`" for a in args), ""]
    if rows:
        lines += ["| option | description |", "| --- | --- |"]
        for opt, desc in rows:
            lines.append(f"| `{opt}` | {desc.replace('|', '/')} |")
        lines.append("")
    return lines


def render() -> str:
    root = cli.make_context("recoupe", [], resilient_parsing=True)
    lines = [
        "# Command-line reference",
        "",
        "Generated from the code by `make docs` (`python -m recoupe.docgen`); do not edit by hand.",
        "",
    ]
    lines += _command_doc("recoupe", cli, None)
    assert isinstance(cli, click.Group)
    for name in sorted(cli.list_commands(root)):
        command = cli.get_command(root, name)
        if command is not None:
            lines += _command_doc(name, command, root)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
