"""polyhead.Model: what a model declares (inputs, pre-processing, tasks, metadata)."""

import numpy as np
import pytest

import polyhead


def test_inputs_and_preprocessing(demo_model):
    assert [i.name for i in demo_model.inputs] == ["image"]
    image = demo_model.input("image")
    assert image.shape == (1, 224, 224, 3)
    assert image.dtype == "float32"
    assert image.is_image
    p = image.preprocess
    assert (p.width, p.height, p.layout, p.color, p.fit) == (224, 224, "NHWC", "RGB", "STRETCH")
    # Declared decimals read back as written, not as their float32 expansions.
    assert p.mean == [0.485, 0.456, 0.406]
    assert p.std == [0.229, 0.224, 0.225]
    assert p.pixel_scale == 1.0


def test_tasks_and_outputs(demo_model):
    assert demo_model.task_names == ["classify", "segment", "detect"]
    kinds = {t.name: t.kind for t in demo_model.tasks}
    assert kinds == {"classify": "classification", "segment": "segmentation",
                     "detect": "detection"}
    detect = demo_model.task("detect")
    assert detect.output_names == ["boxes", "scores"]
    assert [(o.name, o.shape, o.dtype) for o in detect.outputs] == [
        ("boxes", (1, 735, 4), "float32"), ("scores", (1, 735, 91), "float32")]
    assert isinstance(detect.outputs[0].tensor, str) and detect.outputs[0].tensor
    assert demo_model.task("classify").outputs[0].shape == (1, 1000)
    pp = detect.postprocess
    assert pp.activation in ("none", "sigmoid", "softmax")
    assert isinstance(pp.labels, list) and detect.labels == pp.labels
    assert pp.anchors.dtype == np.float32 and pp.anchors.shape[1:] == (4,)
    assert 0.0 <= pp.score_threshold <= 1.0 and 0.0 <= pp.nms_iou <= 1.0


def test_model_facts(demo_model, demo_model_path):
    assert demo_model.format_version[0] == 1
    assert demo_model.producer == "polyhead model_zoo"
    assert "MobileNetV2" in demo_model.description
    assert demo_model.file_bytes == demo_model_path.stat().st_size
    assert demo_model.metadata["architecture"] == "mobilenet_v2"
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in demo_model.metadata.items())
    assert "classify" in repr(demo_model)


def test_load_forms_agree(demo_model_path):
    by_path = polyhead.Model(str(demo_model_path))
    by_load = polyhead.Model.load(demo_model_path)
    by_bytes = polyhead.Model.from_bytes(demo_model_path.read_bytes())
    by_view = polyhead.Model.from_bytes(memoryview(bytearray(demo_model_path.read_bytes())))
    by_read = polyhead.Model.read_file(demo_model_path)
    for m in (by_load, by_bytes, by_view, by_read):
        assert m.task_names == by_path.task_names
        assert m.file_bytes == by_path.file_bytes
        assert m.metadata == by_path.metadata


def test_unknown_names_raise_not_found(demo_model):
    with pytest.raises(polyhead.NotFoundError, match="unknown task 'nope'.*'classify'"):
        demo_model.task("nope")
    with pytest.raises(polyhead.NotFoundError, match="unknown input 'pixels'.*'image'"):
        demo_model.input("pixels")


def test_bad_files(tmp_path):
    with pytest.raises(polyhead.IoError, match="missing.phm") as caught:
        polyhead.Model(tmp_path / "missing.phm")
    assert isinstance(caught.value, OSError)
    junk = tmp_path / "junk.phm"
    junk.write_bytes(b"not a model" * 16)
    with pytest.raises(polyhead.InvalidModelError):
        polyhead.Model(junk)
    with pytest.raises(polyhead.InvalidModelError):
        polyhead.Model.from_bytes(b"\0" * 64)
    with pytest.raises(TypeError):
        polyhead.Model.from_bytes(12)
