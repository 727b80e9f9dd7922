"""The field's evaluation protocol: result files, metrics, per-dataset protocols, tables, JSON and plots."""

from handgraph.datasets.protocol import PROTOCOLS, DatasetProtocol, get_protocol
from handgraph.evaluation.evaluate import evaluate_files, load_xyz, write_json, write_plots
from handgraph.evaluation.report import MethodResult, format_table, score_method
from handgraph.io.result_files import read_joints, write_joint_text

__all__ = [
    "PROTOCOLS",
    "DatasetProtocol",
    "MethodResult",
    "evaluate_files",
    "format_table",
    "get_protocol",
    "load_xyz",
    "read_joints",
    "score_method",
    "write_joint_text",
    "write_json",
    "write_plots",
]
