"""The official release's checkpoints: key names and the `.pkl` file format.

The official code (github c-yn/IRNeXt, commit cbb33e0) saves `torch.save({'model': state_dict})`
(training snapshots add 'optimizer' and 'epoch') with its own module names (`Encoder`,
`feat_extract`, `dynas`, ...). This suite names modules after the paper; the two tables below
map every key one to one, in both directions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import torch

from irnext.errors import InputError
from irnext.models.irnext import IRNeXt

# One table, read in both directions: (official segment, ours). `^` / `$` anchor a segment at
# the key's start / end, `{n}` is a layer index carried across. Official -> ours applies the
# pairs top to bottom, ours -> official bottom to top, each to the whole key (a key may match
# several: the block rules act on the `blocks.N` prefix the stage rules produce).
KEY_PAIRS: list[tuple[str, str]] = [
    ("^feat_extract.0.main.0.", "^stem.0."),
    ("^feat_extract.1.main.0.", "^downs.0.0."),
    ("^feat_extract.2.main.0.", "^downs.1.0."),
    ("^feat_extract.3.main.0.", "^ups.0.0."),
    ("^feat_extract.4.main.0.", "^ups.1.0."),
    ("^feat_extract.5.main.0.", "^tail.0."),
    ("^Encoder.{n}.layers.", "^encoders.{n}.blocks."),
    ("^Decoder.{n}.layers.", "^decoders.{n}.blocks."),
    ("blocks.{n}.main.0.main.0.", "blocks.{n}.conv1.0."),
    ("blocks.{n}.main.2.main.0.", "blocks.{n}.conv2.0."),
    ("blocks.{n}.main.1.", "blocks.{n}.msm."),
    (".msm.dynas.{n}.conv.", ".msm.filters.{n}.kernel_head."),
    (".msm.dynas.{n}.bn.", ".msm.filters.{n}.norm."),
    (".msm.dynas.{n}.inside_all$", ".msm.filters.{n}.freq_weight$"),
    (".msm.dynas.{n}.lamb_l$", ".msm.filters.{n}.lambda_low$"),
    (".msm.dynas.{n}.lamb_h$", ".msm.filters.{n}.lambda_high$"),
    (".msm.conv_sum.", ".msm.fuse."),
    ("^Convs.{n}.main.0.", "^fuses.{n}.0."),
    ("^ConvsOut.{n}.main.0.", "^side_outputs.{n}.0."),
    # SCM2 / FAM2 serve level 2 (2w channels), SCM1 / FAM1 level 3 (4w channels).
    ("^FAM2.merge.main.0.", "^fams.0.merge.0."),
    ("^FAM1.merge.main.0.", "^fams.1.merge.0."),
    ("^SCM2.main.{n}.main.0.", "^shallow.0.{n}.0."),
    ("^SCM1.main.{n}.main.0.", "^shallow.1.{n}.0."),
    ("^SCM2.main.4.", "^shallow.0.4."),
    ("^SCM1.main.4.", "^shallow.1.4."),
]


def _pattern(segment: str) -> str:
    body = segment.removeprefix("^").removesuffix("$")
    regex = r"(\d+)".join(re.escape(part) for part in body.split("{n}"))
    return ("^" if segment.startswith("^") else "") + regex + ("$" if segment.endswith("$") else "")


def _replacement(segment: str) -> str:
    parts = segment.removeprefix("^").removesuffix("$").split("{n}")
    return "".join(
        part + (f"\\{i + 1}" if i < len(parts) - 1 else "") for i, part in enumerate(parts)
    )


def _rules(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(_pattern(source), _replacement(target)) for source, target in pairs]


_TO_OURS = _rules(KEY_PAIRS)
_TO_OFFICIAL = _rules([(ours, official) for official, ours in reversed(KEY_PAIRS)])


def _rename(key: str, rules: list[tuple[str, str]]) -> str:
    for pattern, replacement in rules:
        key = re.sub(pattern, replacement, key)
    return key


def from_official(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Official key names -> this suite's key names (values untouched)."""
    return {_rename(k, _TO_OURS): v for k, v in state_dict.items()}


def to_official(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """This suite's key names -> official key names, for the default architecture (any num_res)."""
    return {_rename(k, _TO_OFFICIAL): v for k, v in state_dict.items()}


def infer_num_res(state_dict: Mapping[str, torch.Tensor], *, source: str = "state_dict") -> int:
    """Blocks per stage: one more than the largest `Encoder.0.layers.N` index."""
    indices = [int(m[1]) for k in state_dict if (m := re.match(r"Encoder\.0\.layers\.(\d+)\.", k))]
    if not indices:
        raise InputError(
            f"{source}: no 'Encoder.0.layers.N.*' keys; expected an official IRNeXt state_dict "
            "(keys such as 'Encoder.0.layers.0.main.0.main.0.weight')"
        )
    return max(indices) + 1


def load_official_checkpoint(path: str | Path, *, map_location: str = "cpu") -> IRNeXt:
    """Build the released IRNeXt and load an official `.pkl` checkpoint into it.

    Accepts `{'model': state_dict}` (optimizer / epoch entries of training snapshots are ignored)
    or a bare state_dict; strips a DataParallel 'module.' prefix. num_res is read from the keys.
    Loaded with `weights_only=True`: a checkpoint cannot run code.
    """
    from irnext.weights import check_finite, read_weights_file

    path = Path(path)
    payload = read_weights_file(path, map_location=map_location)  # names a bad file
    if isinstance(payload, Mapping) and "model" in payload:
        payload = payload["model"]
    if not isinstance(payload, Mapping):
        raise InputError(
            f"{path}: expected {{'model': state_dict}} or a state_dict, "
            f"got {type(payload).__name__}"
        )
    state = {k.removeprefix("module."): v for k, v in payload.items()}
    check_finite(state, path)
    model = IRNeXt(num_res=infer_num_res(state, source=str(path)))
    ours = from_official(state)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(ours))
    unexpected = sorted(set(ours) - set(expected))
    if missing or unexpected:
        raise InputError(
            f"{path}: keys do not match the official IRNeXt layout; "
            f"missing (official names) {[_rename(k, _TO_OFFICIAL) for k in missing[:5]]}, "
            f"unexpected (official names) {[_rename(k, _TO_OFFICIAL) for k in unexpected[:5]]}"
        )
    for key, value in ours.items():
        if value.shape != expected[key].shape:
            raise InputError(
                f"{path}: '{_rename(key, _TO_OFFICIAL)}' has shape "
                f"{tuple(value.shape)}, expected {tuple(expected[key].shape)}"
            )
    model.load_state_dict(ours)
    model.irnext_spec = {"name": None, "architecture": "IRNeXt", "kwargs": dict(model.config)}
    return model.eval()
