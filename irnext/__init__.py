"""irnext-bench: reproduce, ablate and compare IRNeXt (Cui et al., ICML 2023).

model = irnext.create_model("irnext-dehaze")          # or irnext.IRNeXt(**switches)
model = irnext.load_official_checkpoint("ITS.pkl")     # the authors' released weights
model = irnext.load_baseline_weights("ots.pth")        # a baseline's official weights
clean = irnext.restore(model, hazy)                    # any H x W, padded and cropped back
"""

__version__ = "0.1.0"

from irnext.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from irnext.inference import restore  # noqa: E402
from irnext.models.baselines import load_baseline_weights  # noqa: E402
from irnext.models.irnext import IRNeXt  # noqa: E402
from irnext.models.official import load_official_checkpoint  # noqa: E402
from irnext.models.registry import create_model, list_models, model_entry  # noqa: E402

__all__ = [
    "IRNeXt",
    "create_model",
    "list_models",
    "load_baseline_weights",
    "load_checkpoint",
    "load_official_checkpoint",
    "model_entry",
    "restore",
    "save_checkpoint",
]
