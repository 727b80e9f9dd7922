"""The package's layers point one way: checked in fresh interpreters, by what an import pulls in."""

import json
import subprocess
import sys


def _modules_after(statement: str) -> list[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(output.splitlines()[-1])


def test_inference_does_not_import_training():
    loaded = _modules_after(
        "import handgraph.inference.predictor, handgraph.inference.networks, handgraph.inference.localizing"
    )
    assert not [name for name in loaded if name.startswith("handgraph.training")]
    assert "handgraph.inference.export" not in loaded  # networks no longer imports export (export imports networks)


def test_the_fields_metrics_result_files_and_protocols_need_no_torch():
    loaded = _modules_after("import handgraph.evaluation")
    assert "torch" not in loaded and "handgraph.evaluation.metrics" in loaded
