"""The ``ser-hf`` command line: parse arguments, call the library, print.

Every command prints human-readable output by default and JSON with ``--json``. A user mistake is
one line on stderr and exit code 2 (bad usage) or 1 (the job failed); never a traceback. Building the
parser imports no torch, transformers, datasets or gradio: each command imports what it needs.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Sequence

from . import benchmark, data, experiments, serving
from .output import EXIT_FAILED, EXIT_USAGE


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of usage dumps."""

    def error(self, message: str):  # noqa: D102
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(prog="ser-hf", description="Speech emotion recognition, the Hugging Face way.")
    parser.add_argument("--version", action="version", version=f"ser-hf {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for module in (data, experiments, serving, benchmark):
        module.add_commands(commands, _Parser)
    return parser


def _quiet_libraries() -> None:
    """No progress bars or load reports from transformers in the command-line output."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def main(argv: Sequence[str] | None = None) -> int:
    from ..models.errors import SerError

    parser = build_parser()
    # train, crossval and baseline pass any further --key value pairs on to the recipe as overrides.
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "takes_overrides", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.overrides = extra
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.command != "data":  # every other command loads transformers anyway
        _quiet_libraries()
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except SerError as err:
        print(f"ser-hf: error: {err}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("ser-hf: interrupted", file=sys.stderr)
        return 130


__all__ = ["build_parser", "main"]
