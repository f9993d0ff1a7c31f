"""`python -m irnext ...` is `irnext ...` (what torchrun's `-m irnext` runs)."""

import sys

from irnext.cli import main

if __name__ == "__main__":
    sys.exit(main())
