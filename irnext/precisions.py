"""The precisions a forward pass runs in, named once for the library and the command line.

fp32: float32 throughout. bf16: autocast to bfloat16 around the forward pass, weights kept in
float32 (irnext.evaluation.precision keeps a few layers in float32 too). Nothing here imports
torch, so the command line lists the choices at once.
"""

from irnext.errors import InputError

PRECISIONS = ("fp32", "bf16")
# Training adds fp16: autocast to float16 with a loss scaler (irnext.training).
TRAINING_PRECISIONS = (*PRECISIONS, "fp16")

# The largest PSNR change (dB) bf16 may make on the images checked in fp32 too
# (irnext.evaluation.precision.Bf16Check): below the 1e-2 dB that tables print.
BF16_TOLERANCE_DB = 1e-3


def check_precision(value: str, *, what: str = "dtype") -> str:
    """`value` if it names a forward-pass precision, else an InputError naming `what`."""
    if value not in PRECISIONS:
        raise InputError(f"{what} {value!r}: expected one of {', '.join(PRECISIONS)}")
    return value
