"""Polyhead: run several tasks of one model (a shared backbone and task heads) in one pass.

    import numpy as np, polyhead
    model = polyhead.Model("model.phm")
    engine = polyhead.Engine(model, threads=2)
    plan = engine.prepare(["detect", "segment"])
    plan.set_input("image", np.zeros(model.inputs[0].shape, np.float32))
    plan.run()                       # the backbone once, both heads
    boxes = plan.output("detect", "boxes")

See docs/python.md in the repository.
"""

from ._errors import (CommandError, Error, InternalError, InvalidArgumentError, InvalidModelError,
                      IoError, NotFoundError, OutOfMemoryError, UnsupportedError)
from ._polyhead import (Engine, EngineStats, ImageTransform, InputInfo, Model, Plan, PlanInfo,
                        PostProcessInfo, Preprocess, TaskInfo, TaskOutputInfo, ThreadPool)
from ._cli import cli_path, compare, convert, quantize, run_cli

try:
    from importlib.metadata import version as _version

    __version__ = _version("polyhead")
except Exception:  # not installed as a distribution (e.g. run from a build tree)
    __version__ = "unknown"

__all__ = [
    "Model", "Engine", "Plan", "ImageTransform", "ThreadPool",
    "InputInfo", "Preprocess", "TaskInfo", "TaskOutputInfo", "PostProcessInfo", "PlanInfo",
    "EngineStats",
    "convert", "quantize", "compare", "run_cli", "cli_path",
    "Error", "InvalidArgumentError", "InvalidModelError", "UnsupportedError", "NotFoundError",
    "IoError", "OutOfMemoryError", "InternalError", "CommandError",
]
