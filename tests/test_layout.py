"""The package's shape: layers that import only downwards, small modules, and a cheap `import ser_hf`."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "ser_hf"
# Each layer imports only from the layers before it.
LAYERS = ["models", "data", "scoring", "evaluation", "hub", "train", "inference", "demo", "cli"]
HEAVY = ("torch", "transformers", "datasets", "gradio")


def _imported_layers(path: Path) -> set[str]:
    """The ser_hf subpackages a module imports from (relative imports resolved from the module's package)."""
    package = path.relative_to(REPO).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            target = list(package[: len(package) - node.level + 1]) + (node.module.split(".") if node.module else [])
            if len(target) > 1 and target[0] == "ser_hf":
                found.add(target[1])
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_layers_import_only_downwards(layer):
    allowed = set(LAYERS[: LAYERS.index(layer) + 1]) | {"_lazy", "_auto_registration"}
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        wrong = _imported_layers(path) & set(LAYERS) - allowed
        assert not wrong, f"{path.relative_to(REPO)} imports from the higher layer(s) {sorted(wrong)}"


def test_what_travels_with_a_model_imports_only_its_siblings():
    for path in (PACKAGE / "models").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level and path.name != "__init__.py":
                assert node.level == 1, f"{path.name}: remote code follows single-dot imports only"


def test_no_import_circles():
    """No module imports (at its top or inside a function) one that imports it back, directly or around a circle."""
    modules = {".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): p
               for p in PACKAGE.rglob("*.py") if "pretrained" not in p.parts}
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + (node.module.split(".") if node.module else []))
                graph[name] |= {t for t in [target] + [f"{target}.{a.name}" for a in node.names]
                                if t in modules and t != name}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            current = todo.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                todo += graph[current]
        return False

    circles = sorted({tuple(sorted((a, b))) for a in graph for b in graph[a] if reaches(b, a)})
    assert not circles, circles


def test_no_module_is_over_350_lines():
    long = {str(p.relative_to(REPO)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 350}
    assert not long


def _imports_of(code: str, *args: str) -> set[str]:
    result = subprocess.run([sys.executable, "-X", "importtime", *args] if args else
                            [sys.executable, "-X", "importtime", "-c", code],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


def test_help_and_import_ser_hf_load_no_heavy_library():
    for imported in (_imports_of("", "-m", "ser_hf.cli", "--help"), _imports_of("import ser_hf; ser_hf.__version__")):
        assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


def test_the_recognizer_imports_no_scipy_signal():
    """scipy.signal costs 0.6 s to import and only loudness normalization needs it: it loads on first use."""
    assert "scipy.signal" not in _imports_of("from ser_hf import EmotionRecognizer")


def test_after_import_ser_hf_the_auto_classes_know_the_models(tmp_path):
    from tests.conftest import save_tiny_cnn

    folder = save_tiny_cnn(tmp_path / "cnn", ["neutral", "angry"])
    for name in folder.glob("*.py"):  # a folder without code: only the registration can make it load
        name.unlink()
    code = f"""
import json, sys
import ser_hf
assert "transformers" not in sys.modules
from transformers import AutoConfig, AutoFeatureExtractor, AutoModelForAudioClassification
model = AutoModelForAudioClassification.from_pretrained({str(folder)!r})
fe = AutoFeatureExtractor.from_pretrained({str(folder)!r})
print(json.dumps([type(model).__name__, type(fe).__name__, AutoConfig.for_model("ser_backbone").model_type]))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.splitlines()[-1]) == ["SerCnnForAudioClassification", "SerFeatureExtractor",
                                                          "ser_backbone"]


def test_registration_waits_for_a_model_module_that_imports_transformers_first(tmp_path):
    # Importing a model module first makes it the one that pulls in transformers, half-executed at that moment.
    code = """
import ser_hf.models.configuration_ser_cnn
from transformers import AutoFeatureExtractor, AutoModelForAudioClassification
from transformers.models.auto.feature_extraction_auto import FEATURE_EXTRACTOR_MAPPING
from ser_hf.models import SerCnnConfig, SerBackboneConfig
print(AutoModelForAudioClassification._model_mapping[SerBackboneConfig].__name__,
      FEATURE_EXTRACTOR_MAPPING[SerCnnConfig].__name__)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["SerBackboneForAudioClassification", "SerFeatureExtractor"]
