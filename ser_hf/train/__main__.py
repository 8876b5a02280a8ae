"""``python -m ser_hf.train RECIPE [--key value ...]`` (also ``ser-hf train`` and ``accelerate launch -m ser_hf.train``)."""

from __future__ import annotations

import json
import sys

from ..evaluation.crossval import KEYS
from ..models.errors import SerError
from .arguments import ARGUMENT_CLASSES
from .recipes import parse_recipe, parser_for
from .run import train


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        parser_for(ARGUMENT_CLASSES).print_help()
        return 0
    recipe, overrides = (argv[0], argv[1:]) if not argv[0].startswith("--") else (None, argv)
    try:
        results = train(parse_recipe(recipe, overrides))
    except SerError as err:
        print(f"ser-hf train: error: {err}", file=sys.stderr)
        return 1
    test = results.get("test") or results["validation"]
    print(json.dumps({k: test[k] for k in KEYS}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
