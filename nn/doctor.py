"""Old name of `nn.cli.doctor` (`chainrule doctor`), kept so ``from nn import doctor`` works."""

from .cli.doctor import DESCRIPTION, EXIT_STATUS, Check, add_arguments, collect, run

__all__ = ["DESCRIPTION", "EXIT_STATUS", "Check", "add_arguments", "collect", "run"]
