"""The ``chainrule`` command line.

Each subcommand lives in its own module with ``register(subparsers)``, which
adds its parser and sets ``run``; this file only collects them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# modules that define subcommands; a module that cannot be imported (an
# optional extra is missing) is skipped, and its command says so when asked
COMMAND_MODULES = ("chainrule.cli_demo", "chainrule.cli_explain", "chainrule.cli_train",
                   "chainrule.cli_costs")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule", description="Every way a computer finds a derivative, explained.")
    from chainrule import __version__

    parser.add_argument("--version", action="version", version=f"chainrule {__version__}",
                        help="print the version and exit")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND",
        help="one of the commands below; 'chainrule COMMAND --help' describes its options")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:  # not written yet
                continue
            raise
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chainrule`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:  # `chainrule ... | head`: the reader left; no traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the final flush at exit writes nowhere
        return 128 + 13  # as a shell reports a writer ended by SIGPIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
