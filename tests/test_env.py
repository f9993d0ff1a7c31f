"""The environment stamp records what produced a number."""

from __future__ import annotations

import json
import platform

import torch

from irnext.env import environment_stamp


def test_stamp_names_versions_device_and_threads():
    stamp = environment_stamp("cpu")
    assert stamp["torch"] == torch.__version__ and stamp["python"] == platform.python_version()
    assert stamp["device"] == "cpu" and stamp["device_name"]
    assert stamp["torch_num_threads"] == torch.get_num_threads()
    assert stamp["cudnn_benchmark"] is torch.backends.cudnn.benchmark
    json.dumps(stamp)  # plain data, as written into every result file
