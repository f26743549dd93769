"""Every command is documented in docs/cli.md and has an example in its --help."""
import re
from pathlib import Path

import click
from click.testing import CliRunner

from pipeline.cli import cli

DOC = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text("utf-8")


def commands(group, prefix=()):
    for name, cmd in group.commands.items():
        path = prefix + (name,)
        if isinstance(cmd, click.Group):
            yield from commands(cmd, path)
        yield path, cmd


def test_every_command_documented_with_example():
    missing = []
    for path, cmd in commands(cli):
        if path[0] not in re.findall(r"^## `syndicate (\w+)`", DOC, re.M):
            missing.append(" ".join(path))
        help_text = CliRunner().invoke(cli, [*path, "--help"]).output
        assert "Example" in help_text, f"syndicate {' '.join(path)} --help has no example"
    assert not missing, f"not in docs/cli.md: {missing}"


def test_bad_registry_exits_2_naming_the_file(tmp_path):
    (tmp_path / "broken.toml").write_text('name = "X"\n')
    result = CliRunner().invoke(cli, ["run", "--sources", str(tmp_path), "--db", str(tmp_path / "x.sqlite")])
    assert result.exit_code == 2
    assert "broken.toml" in result.output and "homepage" in result.output


def test_unknown_source_filter_is_a_usage_error(tmp_path):
    (tmp_path / "a.toml").write_text('name = "A"\nhomepage = "http://127.0.0.1:9/a/"\n')
    result = CliRunner().invoke(cli, ["run", "--sources", str(tmp_path), "--db", str(tmp_path / "x.sqlite"),
                                      "--source", "zzz"])
    assert result.exit_code == 2 and "zzz" in result.output
