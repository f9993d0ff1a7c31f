"""Two runs writing one output folder: the second stops at once, naming the first."""

from __future__ import annotations

import json
import signal
import textwrap

import pytest

from irnext.cli import main
from irnext.io import LOCK_NAME, OutputError, output_lock
from tests._eval_helpers import write_synth_layout
from tests.reliability._faults import run_python

# A first evaluation that holds its output folder: it announces itself once the lock is
# taken, then waits (its scoring replaced by a long sleep) until the test ends it.
_HOLDER = textwrap.dedent(
    """
    import sys, time
    import irnext.cli.evaluate as command
    def hold(*args, **kwargs):
        print("scoring", flush=True)
        time.sleep(120)
    command._score = hold
    from irnext.cli import main
    main(sys.argv[1:])
    """
)


def _evaluate_args(root, out):
    return ["evaluate", "--model", "identity", "--dataset", "synth-haze", "--root", str(root),
            "--out", str(out)]  # fmt: skip


@pytest.mark.slow
def test_a_second_evaluation_on_one_out_is_refused_then_takes_over_a_dead_lock(tmp_path, capsys):
    root, out = tmp_path / "data", tmp_path / "out"
    write_synth_layout(root, count=2)
    holder = run_python(_HOLDER.replace("sys.argv[1:]", repr(_evaluate_args(root, out))))
    try:
        assert holder.stdout.readline().strip() == "scoring", holder.stderr.read()
        assert main(_evaluate_args(root, out)) == 2
        error = capsys.readouterr().err
        assert f"{out}: another irnext run (process {holder.pid})" in error
        assert not (out / "summary.json").exists()  # the refused run wrote nothing
    finally:
        holder.send_signal(signal.SIGKILL)  # dies holding the lock: the kernel releases it
        holder.wait()
    assert (out / LOCK_NAME).exists()  # the dead run's file is still there...
    assert main(_evaluate_args(root, out)) == 0  # ...and its lock is simply taken over
    assert json.loads((out / "summary.json").read_text())["count"] == 2
    assert not (out / LOCK_NAME).exists()  # a finished run removes its lock file


def test_the_lock_is_exclusive_within_one_process_too(tmp_path):
    with output_lock(tmp_path / "o") as lock:
        assert lock.read_text().strip().isdigit()
        with pytest.raises(OutputError, match="another irnext run"), output_lock(tmp_path / "o"):
            pass
    with output_lock(tmp_path / "o"):  # released on exit
        pass


def test_save_images_refuses_a_folder_of_another_models_images(tmp_path, capsys):
    root, out = tmp_path / "data", tmp_path / "out"
    write_synth_layout(root, count=2)
    args = [*_evaluate_args(root, out), "--save-images"]
    assert main(args) == 0
    first = sorted(p.name for p in (out / "images").iterdir())
    assert main(args) == 0  # the same model again overwrites its own images
    assert main([*args[:2], "irnext-test", *args[3:]]) == 2
    error = capsys.readouterr().err
    assert "already holds 2 images of {'model': 'identity'" in error
    assert sorted(p.name for p in (out / "images").iterdir()) == first  # nothing mixed in
    (out / "images" / ".irnext-images.json").unlink()
    assert main(args) == 2  # images of unknown origin are not overwritten either
    assert "images of unknown origin" in capsys.readouterr().err
