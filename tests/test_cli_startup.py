"""The command line answers at once, documents every flag, and shows no third-party warnings."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest
import torch

from irnext.cli import COMMANDS, SUMMARIES, build_parser


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)


EVERY_COMMAND = [
    *(["models"], ["train"], ["evaluate"], ["aggregate"], ["ablate"], ["complexity"]),
    *(["latency"], ["report"], ["params", "check"], ["profile"], ["bench"], ["collect"]),
    *(["visual"], ["data", "synth"], ["data", "inspect"], ["data", "list"]),
]


@pytest.mark.parametrize("argv", [[], *EVERY_COMMAND])
def test_help_never_imports_torch(argv):
    code = (
        "import sys\nfrom irnext.cli import main\n"
        f"try:\n    main({[*argv, '--help']!r})\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules, file=sys.stderr)"
    )
    result = _python(code)
    assert "usage: irnext" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == "False"


def test_the_listing_parser_imports_no_summarised_command_module():
    code = "import sys\nfrom irnext.cli import build_parser\nbuild_parser('')\n"
    code += "print(sorted(sys.modules), 'torch' in sys.modules)"
    imported, torch_loaded = _python(code).stdout.rsplit(" ", 1)
    assert not [name for name in SUMMARIES if f"'irnext.cli.{name}'" in imported]
    assert torch_loaded.strip() == "False"


def _parsers(parser: argparse.ArgumentParser, name: str):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, child in action.choices.items():
                yield from _parsers(child, f"{name} {sub}")


def test_every_flag_has_help_and_the_defaults_are_shown():
    parser = build_parser()  # every command's module
    for name, sub in _parsers(parser, "irnext"):
        for action in sub._actions:
            if action.option_strings and action.help != argparse.SUPPRESS:
                assert action.help, f"{name} {action.option_strings[0]} has no help"
    text = build_parser("evaluate")._subparsers._group_actions[0].choices["evaluate"].format_help()
    assert "(default: 32)" in text and "(default: fp32)" in text and "(default: auto)" in text
    assert "(default: None)" not in text and "(default: False)" not in text


def test_the_listing_summaries_name_every_command_and_mirrored_constants_agree():
    from irnext.cli import complexity
    from irnext.cost.counters import COUNTERS

    assert set(SUMMARIES) <= set(COMMANDS)
    assert complexity.COUNTERS == COUNTERS


def _tiny_nafnet(tmp_path):
    from spandrel.architectures.NAFNet import NAFNet

    from tests._eval_helpers import write_synth_layout

    write_synth_layout(tmp_path / "data", count=1, size=(32, 32))
    weights = tmp_path / "nafnet.pth"
    tiny = NAFNet(width=4, middle_blk_num=1, enc_blk_nums=[1], dec_blk_nums=[1])
    torch.save({"params": tiny.state_dict()}, weights)
    return [
        "evaluate", "--baseline-weights", str(weights), "--dataset", "synth-rain",
        "--root", str(tmp_path / "data"), "--device", "cpu", "--workers", "0",
        "--out", str(tmp_path / "out"),
    ]  # fmt: skip


def test_a_spandrel_baseline_is_scored_without_third_party_warnings(tmp_path):
    argv = _tiny_nafnet(tmp_path)
    run = f"import sys\nfrom irnext.cli import main\nsys.exit(main({argv!r}))"
    quiet = _python(run)
    assert "Warning" not in quiet.stderr, quiet.stderr
    # The same command with the filters off shows spandrel's torch.jit notice: the filter works.
    loud = _python(
        run.replace(
            "from irnext.cli import main", "import irnext.cli as c\nc.QUIET = ()\nmain = c.main"
        )
    )
    assert "FutureWarning" in loud.stderr


@pytest.mark.slow
def test_building_uformer_under_the_cli_filters_prints_no_meshgrid_warning():
    code = (
        "from irnext.cli import quiet_third_party_warnings\n{}"
        "from irnext.models.registry import create_model\ncreate_model('uformer-b')"
    )
    assert "Warning" not in _python(code.format("quiet_third_party_warnings()\n")).stderr
    assert "torch.meshgrid" in _python(code.format("")).stderr
