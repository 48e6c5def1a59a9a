# Type stubs of the extension module polyhead._polyhead (python/src/bindings). Kept in step with
# the bindings by python/tests/test_stubs.py.
import os
from typing import Dict, List, Literal, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

_Path = Union[str, "os.PathLike[str]"]
_Tasks = Union[str, Sequence[str], None]
_Buffer = Union[bytes, bytearray, memoryview]
PixelFormat = Literal["RGB", "BGR", "RGBA", "BGRA", "GRAY", "NV21", "NV12"]

class ImageTransform:
    """Where a frame lands in an image input: model = frame * scale + offset per axis."""

    image_width: int
    image_height: int
    model_width: int
    model_height: int
    scale_x: float
    scale_y: float
    offset_x: float
    offset_y: float
    resized_width: int
    resized_height: int
    @overload
    def to_image(self, x: float, y: float) -> Tuple[float, float]: ...
    @overload
    def to_image(self, points: npt.ArrayLike) -> npt.NDArray[np.float32]: ...
    @overload
    def to_model(self, x: float, y: float) -> Tuple[float, float]: ...
    @overload
    def to_model(self, points: npt.ArrayLike) -> npt.NDArray[np.float32]: ...

class Preprocess:
    """value = (pixel / 255 * pixel_scale - mean[c]) / std[c], at width x height."""

    width: int
    height: int
    layout: Literal["NHWC", "NCHW"]
    color: Literal["RGB", "BGR", "GRAY", "NONE"]
    mean: List[float]
    std: List[float]
    pixel_scale: float
    fit: Literal["STRETCH", "LETTERBOX", "CROP"]

class InputInfo:
    name: str
    shape: Tuple[int, ...]
    dtype: str
    preprocess: Preprocess
    is_image: bool

class TaskOutputInfo:
    name: str
    tensor: str
    shape: Tuple[int, ...]
    dtype: str

class PostProcessInfo:
    activation: Literal["none", "sigmoid", "softmax"]
    labels: List[str]
    score_threshold: float
    nms_iou: float
    max_detections: int
    anchors: npt.NDArray[np.float32]

class TaskInfo:
    name: str
    kind: Literal["classification", "detection", "segmentation", "landmarks", "regression",
                  "embedding", "other"]
    outputs: List[TaskOutputInfo]
    output_names: List[str]
    priority: int
    rate: int
    postprocess: PostProcessInfo
    labels: List[str]

class Model:
    """A verified .phm model, memory-mapped and read in place; immutable and shareable."""

    def __init__(self, path: _Path) -> None: ...
    @staticmethod
    def load(path: _Path) -> Model: ...
    @staticmethod
    def read_file(path: _Path) -> Model: ...
    @staticmethod
    def from_bytes(data: _Buffer) -> Model: ...
    inputs: List[InputInfo]
    tasks: List[TaskInfo]
    task_names: List[str]
    def input(self, name: str) -> InputInfo: ...
    def task(self, name: str) -> TaskInfo: ...
    format_version: Tuple[int, int]
    producer: str
    description: str
    metadata: Dict[str, str]
    file_bytes: int

class EngineStats:
    packed_weight_bytes: int
    sparse_kernel_nodes: int
    expanded_sparse_weight_bytes: int
    arena_pool_bytes: int
    cached_plans: int
    threads: int

class ThreadPool:
    """Worker threads several Engines share."""

    def __init__(self, threads: int = 0) -> None: ...
    threads: int

class Engine:
    """Runs a Model; one thread at a time per Engine and its Plans."""

    def __init__(self, model: Model, *, threads: int = 1, precision: Literal["f32", "f16"] = "f32",
                 plan_cache_capacity: int = 8, choose_threads_per_node: bool = True,
                 thread_pool: Optional[ThreadPool] = None,
                 parallel_heads: Literal["auto", "never", "always"] = "auto",
                 sparse_weights: Literal["auto", "sparse", "dense"] = "auto") -> None: ...
    def prepare(self, tasks: _Tasks = None) -> Plan: ...
    model: Model
    stats: EngineStats
    threads: int
    precision: str

class PlanInfo:
    tasks: List[str]
    nodes: int
    arena_bytes: int
    arena_lower_bound_bytes: int
    arena_strategy: str
    nodes_with_thread_choice: int
    nodes_on_calling_thread: int
    parallel_head_groups: int
    heads_in_parallel: bool

class Plan:
    """A prepared task set: set inputs, run all or some tasks, read outputs.

    Outputs are copies unless copy=False: read-only views that keep the plan alive and are
    overwritten by its next run (and by runs of Plans of the same Engine and task set).
    """

    tasks: List[str]
    input_names: List[str]
    def set_input(self, name: str, array: npt.NDArray[np.float32]) -> None: ...
    def set_input_pixels(self, name: str, image: npt.NDArray[np.uint8],
                         format: PixelFormat = "RGB") -> ImageTransform: ...
    def run(self, tasks: _Tasks = None) -> None: ...
    def output(self, task: str, name: str, *, copy: bool = True) -> npt.NDArray[np.float32]: ...
    def outputs(self, *, copy: bool = True) -> Dict[str, Dict[str, npt.NDArray[np.float32]]]: ...
    def bind_output(self, task: str, name: str,
                    array: Optional[npt.NDArray[np.float32]]) -> None: ...
    info: PlanInfo
    last_run_nodes: int
    def node_names(self, tasks: _Tasks = None) -> List[str]: ...
    profiling: bool
    node_times_ns: List[int]
