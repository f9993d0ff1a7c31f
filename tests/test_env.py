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
    import PIL
    from PIL import features

    assert stamp["pillow"] == PIL.__version__  # the decoder that read the images
    turbo = features.version("libjpeg_turbo")  # Pillow's wheels bundle libjpeg-turbo
    assert stamp["libjpeg"] == (f"libjpeg-turbo {turbo}" if turbo else features.version("jpg"))
    json.dumps(stamp)  # plain data, as written into every result file
