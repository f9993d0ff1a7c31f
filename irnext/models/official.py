"""The official release's checkpoints: key names and the `.pkl` file format.

The official code (github c-yn/IRNeXt, commit cbb33e0) saves `torch.save({'model': state_dict})`
(training snapshots add 'optimizer' and 'epoch') with its own module names (`Encoder`,
`feat_extract`, `dynas`, ...). This suite names modules after the paper; the two tables below
map every key one to one, in both directions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
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
# ConvIR (c-yn/ConvIR@05dcbff, models/layers.py): each branch's `dynas.N` is a
# `MultiShapeKernel` holding `square_att` (IRNeXt's LAM, dilated) and `strip_att`, whose
# `H_spatial_att` / `W_spatial_att` are LAMs without BatchNorm and whose gamma / beta weigh it.
_LAM_TAILS = [
    ("conv.", "kernel_head."),
    ("bn.", "norm."),  # the square filter's only: the strips have no BatchNorm
    ("inside_all$", "freq_weight$"),
    ("lamb_l$", "lambda_low$"),
    ("lamb_h$", "lambda_high$"),
]
_CONVIR_FILTERS = [
    ("square_att", "square"),
    ("strip_att.H_spatial_att", "strip.horizontal"),
    ("strip_att.W_spatial_att", "strip.vertical"),
]
KEY_PAIRS += [
    (f".msm.dynas.{{n}}.{official}.{tail}", f".msm.filters.{{n}}.{ours}.{our_tail}")
    for official, ours in _CONVIR_FILTERS
    for tail, our_tail in _LAM_TAILS
    if tail != "bn." or ours == "square"
]
KEY_PAIRS += [
    (f".msm.dynas.{{n}}.strip_att.{p}$", f".msm.filters.{{n}}.strip.{p}$")
    for p in ["gamma", "beta"]
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


def load_official_checkpoint(
    path: str | Path,
    *,
    map_location: str = "cpu",
    filter_dilations: Sequence[int] | None = None,
) -> IRNeXt:
    """Build the released network and load an official `.pkl` checkpoint into it: IRNeXt, or
    ConvIR where the keys hold its strip attention (`strip_att`).

    Accepts `{'model': state_dict}` (optimizer / epoch entries of training snapshots are ignored)
    or a bare state_dict; strips a DataParallel 'module.' prefix. num_res is read from the keys.
    A ConvIR file does not record its dilations: `filter_dilations` gives them, by default
    (7, 9, 11), those of every ConvIR task's code but deraining's (3, 7, 9)
    (`irnext.models.convir`). Loaded with `weights_only=True`: a checkpoint cannot run code.
    """
    from irnext.models.convir import DILATIONS, ConvIR
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
    num_res = infer_num_res(state, source=str(path))
    if any(".strip_att." in key for key in state):
        kwargs = {"num_res": num_res, "filter_dilations": tuple(filter_dilations or DILATIONS)}
        model: IRNeXt = ConvIR(**kwargs)
    elif filter_dilations is not None:
        raise InputError(
            f"{path}: an IRNeXt file (no 'strip_att' keys); its filters have no dilation"
        )
    else:
        model = IRNeXt(num_res=num_res)
        kwargs = dict(model.config)
    _check_layout(path, model, from_official(state))
    model.load_state_dict(from_official(state))
    architecture = type(model).__name__
    model.irnext_spec = {"name": None, "architecture": architecture, "kwargs": kwargs}
    return model.eval()


def _check_layout(path: Path, model: IRNeXt, ours: Mapping[str, torch.Tensor]) -> None:
    """Missing or unexpected keys and wrong shapes, named in the release's key names."""
    expected, name = model.state_dict(), type(model).__name__
    missing = sorted(set(expected) - set(ours))
    unexpected = sorted(set(ours) - set(expected))
    if missing or unexpected:
        raise InputError(
            f"{path}: keys do not match the official {name} layout; "
            f"missing (official names) {[_rename(k, _TO_OFFICIAL) for k in missing[:5]]}, "
            f"unexpected (official names) {[_rename(k, _TO_OFFICIAL) for k in unexpected[:5]]}"
        )
    for key, value in ours.items():
        if value.shape != expected[key].shape:
            raise InputError(
                f"{path}: '{_rename(key, _TO_OFFICIAL)}' has shape "
                f"{tuple(value.shape)}, expected {tuple(expected[key].shape)}"
            )
