"""What every command shares: exit codes and JSON output."""

from __future__ import annotations

import json

EXIT_FAILED = 1
EXIT_USAGE = 2


def print_json(obj) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False))
