"""The one exception type for bad user input (files, keys, values).

Its message names the offending file, key or value and the expected form; the CLI prints it
without a traceback and exits with status 2.
"""


class InputError(ValueError):
    """A file, key or value given by the user is not of the expected form."""
