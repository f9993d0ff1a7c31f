"""The offline synthetic benchmark: packaged photographs, physically motivated degradations."""

from irnext.data.synth.build import DEGRADATIONS, TASK_NAMES, build_benchmark, build_sample
from irnext.data.synth.contact import contact_sheet

__all__ = ["DEGRADATIONS", "TASK_NAMES", "build_benchmark", "build_sample", "contact_sheet"]
