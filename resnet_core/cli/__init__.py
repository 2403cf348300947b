"""`python -m resnet_core train|evaluate|predict|summary|export|archs`: the library from a terminal.

Bad input ends with a one-line `error: ...` on stderr and a non-zero exit code,
never a traceback; and it is found before a long run starts, not after it.
"""

from __future__ import annotations

import os
import sys

from resnet_core.cli.commands import COMMANDS, EXIT_INTERRUPTED, one_line
from resnet_core.cli.parser import build_parser
from resnet_core.data.datasets import DatasetUnavailable
from resnet_core.files.checkpoints import CheckpointError
from resnet_core.training.trainer import TrainingDiverged

EXIT_BAD_INPUT = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as for any command whose reader went away (`... | head`)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except BrokenPipeError:
        # The reader left (`archs | head -1`): stop quietly; the devnull stops Python's own
        # flush at exit from failing again with a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:  # train handles its own, saying what was saved
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, DatasetUnavailable, CheckpointError, TrainingDiverged, OSError) as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
