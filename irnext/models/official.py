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

# (official pattern, ours). Applied in order, each to the whole key; a key may match several.
_TO_OURS: list[tuple[str, str]] = [
    (r"^feat_extract\.0\.main\.0\.", "stem.0."),
    (r"^feat_extract\.1\.main\.0\.", "downs.0.0."),
    (r"^feat_extract\.2\.main\.0\.", "downs.1.0."),
    (r"^feat_extract\.3\.main\.0\.", "ups.0.0."),
    (r"^feat_extract\.4\.main\.0\.", "ups.1.0."),
    (r"^feat_extract\.5\.main\.0\.", "tail.0."),
    (r"^Encoder\.(\d+)\.layers\.", r"encoders.\1.blocks."),
    (r"^Decoder\.(\d+)\.layers\.", r"decoders.\1.blocks."),
    (r"(blocks\.\d+)\.main\.0\.main\.0\.", r"\1.conv1.0."),
    (r"(blocks\.\d+)\.main\.2\.main\.0\.", r"\1.conv2.0."),
    (r"(blocks\.\d+)\.main\.1\.", r"\1.msm."),
    (r"\.msm\.dynas\.(\d+)\.conv\.", r".msm.filters.\1.kernel_head."),
    (r"\.msm\.dynas\.(\d+)\.bn\.", r".msm.filters.\1.norm."),
    (r"\.msm\.dynas\.(\d+)\.inside_all$", r".msm.filters.\1.freq_weight"),
    (r"\.msm\.dynas\.(\d+)\.lamb_l$", r".msm.filters.\1.lambda_low"),
    (r"\.msm\.dynas\.(\d+)\.lamb_h$", r".msm.filters.\1.lambda_high"),
    (r"\.msm\.conv_sum\.", ".msm.fuse."),
    (r"^Convs\.(\d+)\.main\.0\.", r"fuses.\1.0."),
    (r"^ConvsOut\.(\d+)\.main\.0\.", r"side_outputs.\1.0."),
    # SCM2 / FAM2 serve level 2 (2w channels), SCM1 / FAM1 level 3 (4w channels).
    (r"^FAM2\.merge\.main\.0\.", "fams.0.merge.0."),
    (r"^FAM1\.merge\.main\.0\.", "fams.1.merge.0."),
    (r"^SCM2\.main\.(\d)\.main\.0\.", r"shallow.0.\1.0."),
    (r"^SCM1\.main\.(\d)\.main\.0\.", r"shallow.1.\1.0."),
    (r"^SCM2\.main\.4\.", "shallow.0.4."),
    (r"^SCM1\.main\.4\.", "shallow.1.4."),
]

_TO_OFFICIAL: list[tuple[str, str]] = [
    (r"^stem\.0\.", "feat_extract.0.main.0."),
    (r"^downs\.0\.0\.", "feat_extract.1.main.0."),
    (r"^downs\.1\.0\.", "feat_extract.2.main.0."),
    (r"^ups\.0\.0\.", "feat_extract.3.main.0."),
    (r"^ups\.1\.0\.", "feat_extract.4.main.0."),
    (r"^tail\.0\.", "feat_extract.5.main.0."),
    (r"\.msm\.filters\.(\d+)\.kernel_head\.", r".msm.dynas.\1.conv."),
    (r"\.msm\.filters\.(\d+)\.norm\.", r".msm.dynas.\1.bn."),
    (r"\.msm\.filters\.(\d+)\.freq_weight$", r".msm.dynas.\1.inside_all"),
    (r"\.msm\.filters\.(\d+)\.lambda_low$", r".msm.dynas.\1.lamb_l"),
    (r"\.msm\.filters\.(\d+)\.lambda_high$", r".msm.dynas.\1.lamb_h"),
    (r"\.msm\.fuse\.", ".msm.conv_sum."),
    (r"(blocks\.\d+)\.conv1\.0\.", r"\1.main.0.main.0."),
    (r"(blocks\.\d+)\.conv2\.0\.", r"\1.main.2.main.0."),
    (r"(blocks\.\d+)\.msm\.", r"\1.main.1."),
    (r"^encoders\.(\d+)\.blocks\.", r"Encoder.\1.layers."),
    (r"^decoders\.(\d+)\.blocks\.", r"Decoder.\1.layers."),
    (r"^fuses\.(\d+)\.0\.", r"Convs.\1.main.0."),
    (r"^side_outputs\.(\d+)\.0\.", r"ConvsOut.\1.main.0."),
    (r"^fams\.0\.merge\.0\.", "FAM2.merge.main.0."),
    (r"^fams\.1\.merge\.0\.", "FAM1.merge.main.0."),
    (r"^shallow\.0\.4\.", "SCM2.main.4."),
    (r"^shallow\.1\.4\.", "SCM1.main.4."),
    (r"^shallow\.0\.(\d)\.0\.", r"SCM2.main.\1.main.0."),
    (r"^shallow\.1\.(\d)\.0\.", r"SCM1.main.\1.main.0."),
]


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
