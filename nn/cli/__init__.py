"""The `chainrule` command, the top floor: it sees both `autograd` and `nn`.

`main` dispatches (`nn.cli.main`); `args` holds the argument plumbing; `graph`, `train` (with
`train_options`) and `doctor` are the subcommands; `files` is the one safe writer every output
goes through. The names below are the ones ``nn.cli`` exported before it became a package.
"""

from .main import main
from .train import LIMITS, TrainError, add_arguments, run, validate

__all__ = ["main", "TrainError", "add_arguments", "validate", "run", "LIMITS"]
