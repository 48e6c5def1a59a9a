"""polyhead.convert, quantize and compare: thin wrappers of the ``polyhead`` program bundled with
the package (``polyhead/bin/polyhead``), which they run as a subprocess. A failure raises
:class:`polyhead.CommandError` carrying the program's standard error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Union

from ._errors import CommandError, InvalidArgumentError

if TYPE_CHECKING:
    from ._polyhead import Model

PathLike = Union[str, "os.PathLike[str]"]


def cli_path() -> str:
    """The path of the bundled ``polyhead`` program."""
    return str(Path(__file__).resolve().parent / "bin" / "polyhead")


def run_cli(*args: PathLike, check: bool = True) -> "subprocess.CompletedProcess[str]":
    """Runs ``polyhead ARGS...`` and returns the finished process, its output captured as text.

    With ``check`` (the default), a non-zero exit raises :class:`CommandError` with the program's
    standard error as the message.
    """
    command = [cli_path(), *(os.fspath(a) for a in args)]
    process = subprocess.run(command, capture_output=True, text=True)
    if check and process.returncode != 0:
        message = process.stderr.strip() or f"polyhead exited with status {process.returncode}"
        raise CommandError(message, process.returncode, command, process.stdout)
    return process


def _numbers(values: Sequence[float]) -> str:
    return ",".join(repr(float(v)) for v in values)


def _names(values: Union[str, Sequence[str]]) -> str:
    return values if isinstance(values, str) else ",".join(values)


def _paths(values: Union[PathLike, Sequence[PathLike]]) -> List[str]:
    if isinstance(values, (str, os.PathLike)):
        return [os.fspath(values)]
    return [os.fspath(v) for v in values]


def convert(source: PathLike, output: PathLike, *,
            preset: Optional[str] = None,
            tasks: Optional[Mapping[str, Union[str, Sequence[str]]]] = None,
            kinds: Optional[Mapping[str, str]] = None,
            mean: Optional[Sequence[float]] = None,
            std: Optional[Sequence[float]] = None,
            color: Optional[str] = None,
            input_shapes: Optional[Mapping[str, Sequence[int]]] = None) -> Model:
    """Converts a TensorFlow Lite or ONNX model into the .phm file ``output`` and loads it.

    ``polyhead convert SOURCE -o OUTPUT``: ``preset`` (TFLite: tasks and pre/post-processing of a
    known model, e.g. ``"mediapipe-face-detection-short"``), ``tasks`` {name: model outputs},
    ``kinds`` {task: kind}, ``mean``/``std`` per channel in pixel units (0..255), ``color``
    ``"RGB"`` or ``"BGR"``, ``input_shapes`` (ONNX) {input: shape} for symbolic dimensions.
    """
    args: List[PathLike] = ["convert", source, "-o", output]
    if preset is not None:
        args += ["--preset", preset]
    for name, outputs in (tasks or {}).items():
        args += ["--task", f"{name}={_names(outputs)}"]
    for name, kind in (kinds or {}).items():
        args += ["--kind", f"{name}={kind}"]
    if mean is not None:
        args += ["--mean", _numbers(mean)]
    if std is not None:
        args += ["--std", _numbers(std)]
    if color is not None:
        if color.upper() not in ("RGB", "BGR"):
            raise InvalidArgumentError(f"color must be 'RGB' or 'BGR', got {color!r}")
        args.append("--" + color.lower())
    for name, shape in (input_shapes or {}).items():
        args += ["--input-shape", f"{name}={','.join(str(int(d)) for d in shape)}"]
    run_cli(*args)
    from ._polyhead import Model  # here: the extension imports this package first

    return Model(output)


def quantize(model: PathLike, output: PathLike, *,
             calib: Union[PathLike, Sequence[PathLike]],
             method: Optional[str] = None,
             percentile: Optional[float] = None,
             per_tensor: bool = False,
             int8_stem: bool = False,
             keep_float: Optional[Sequence[str]] = None,
             sensitivity: bool = False,
             tasks: Optional[Sequence[str]] = None,
             auto: bool = False,
             max_drop: Union[None, float, str, Mapping[str, float]] = None,
             limit: Optional[int] = None,
             threads: Optional[int] = None) -> Dict[str, Any]:
    """Quantizes the float model ``model`` to int8 into ``output``; returns the JSON summary.

    ``polyhead quantize MODEL --calib ... -o OUTPUT --json -``: ``calib`` is a folder of photos,
    a photo, or a list of them; the other options are the program's (docs/quantize.md).
    """
    args: List[PathLike] = ["quantize", model, "-o", output, "--json", "-"]
    for c in _paths(calib):
        args += ["--calib", c]
    if method is not None:
        args += ["--method", method]
    if percentile is not None:
        args += ["--percentile", repr(float(percentile))]
    if per_tensor:
        args.append("--per-tensor")
    if int8_stem:
        args.append("--int8-stem")
    if keep_float:
        args += ["--keep-float", _names(keep_float)]
    if sensitivity:
        args.append("--sensitivity")
    if tasks:
        args += ["--tasks", _names(tasks)]
    if auto:
        args.append("--auto")
    if max_drop is not None:
        args += ["--max-drop", _drop_budget(max_drop)]
    if limit is not None:
        args += ["--limit", str(int(limit))]
    if threads is not None:
        args += ["--threads", str(int(threads))]
    return json.loads(run_cli(*args).stdout)


def _drop_budget(max_drop: Union[float, str, Mapping[str, float]]) -> str:
    """``--max-drop``'s text: one number, ``{task: budget}`` or the text itself."""
    if isinstance(max_drop, str):
        return max_drop
    if isinstance(max_drop, Mapping):
        return ",".join(f"{task}={float(v)!r}" for task, v in max_drop.items())
    return repr(float(max_drop))


def compare(teacher: PathLike, student: PathLike, *,
            images: Union[PathLike, Sequence[PathLike]],
            limit: Optional[int] = None,
            temperature: Optional[float] = None,
            match_iou: Optional[float] = None,
            tasks: Optional[Sequence[str]] = None,
            threads: Optional[int] = None,
            rounds: Optional[int] = None,
            runs: Optional[int] = None) -> Dict[str, Any]:
    """Compares ``student`` with ``teacher`` on photos; returns the JSON report.

    ``polyhead compare TEACHER STUDENT --images ... --json -`` (docs/compare.md): per task
    agreement, IoU, KL or point error, and the size, arena and latency ratios.
    """
    args: List[PathLike] = ["compare", teacher, student, "--json", "-"]
    for i in _paths(images):
        args += ["--images", i]
    if limit is not None:
        args += ["--limit", str(int(limit))]
    if temperature is not None:
        args += ["--temperature", repr(float(temperature))]
    if match_iou is not None:
        args += ["--match-iou", repr(float(match_iou))]
    if tasks:
        args += ["--tasks", _names(tasks)]
    if threads is not None:
        args += ["--threads", str(int(threads))]
    if rounds is not None:
        args += ["--rounds", str(int(rounds))]
    if runs is not None:
        args += ["--runs", str(int(runs))]
    return json.loads(run_cli(*args).stdout)


def main() -> None:
    """The ``polyhead`` console script: runs the bundled program with this process's arguments."""
    program = cli_path()
    if hasattr(os, "execv"):
        os.execv(program, [program, *sys.argv[1:]])
    sys.exit(subprocess.call([program, *sys.argv[1:]]))
