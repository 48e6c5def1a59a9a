"""polyhead.convert, quantize and compare (the bundled program) and the MediaPipe face detector
run on a photo through set_input_pixels, against the program's own `run --image`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import polyhead

from conftest import run_program


def test_program_is_bundled():
    program = Path(polyhead.cli_path())
    assert program.is_file() and os.access(program, os.X_OK)
    assert "usage: polyhead" in polyhead.run_cli("--help").stdout
    # The console script of the package runs the same program.
    script = Path(sys.executable).parent / "polyhead"
    if script.exists():
        process = subprocess.run([script, "--help"], capture_output=True, text=True)
        assert process.returncode == 0 and "usage: polyhead" in process.stdout


def test_program_failure_raises_command_error(tmp_path):
    with pytest.raises(polyhead.CommandError, match="missing.tflite") as caught:
        polyhead.convert(tmp_path / "missing.tflite", tmp_path / "out.phm")
    assert caught.value.returncode != 0
    assert caught.value.command[1] == "convert"
    assert isinstance(caught.value, polyhead.Error)
    with pytest.raises(polyhead.InvalidArgumentError, match="color"):
        polyhead.convert(tmp_path / "m.tflite", tmp_path / "out.phm", color="YUV")
    assert polyhead.run_cli("convert", check=False).returncode == 2


def test_convert_face_detector(face_model_path):
    model = polyhead.Model(face_model_path)
    assert model.task_names == ["faces"]
    faces = model.task("faces")
    assert faces.kind == "detection" and faces.output_names == ["boxes", "scores"]
    assert faces.postprocess.anchors.shape == (896, 4)
    assert model.metadata["faces.box_format"] == "mediapipe"
    p = model.inputs[0].preprocess
    assert (p.width, p.height, p.fit, p.mean) == (128, 128, "LETTERBOX", [127.5] * 3)


def best_face(model, plan, transform):
    """The highest-scoring anchor's box (x, y, w, h in photo pixels) and score, decoded as
    MediaPipe does (docs/vision.md), without non-maximum suppression."""
    faces = model.task("faces")
    scale = [float(v) for v in model.metadata["faces.box_scale"].split(",")]
    clip = float(model.metadata["faces.score_clip"])
    boxes = plan.output("faces", "boxes")[0]
    scores = plan.output("faces", "scores")[0, :, 0]
    best = int(np.argmax(scores))
    score = 1.0 / (1.0 + np.exp(-np.clip(scores[best], -clip, clip)))
    acy, acx, ah, aw = faces.postprocess.anchors[best]
    r = boxes[best]
    cx, cy = r[0] / scale[0] * aw + acx, r[1] / scale[1] * ah + acy
    w, h = r[2] / scale[2] * aw, r[3] / scale[3] * ah
    size = np.array([transform.model_width, transform.model_height], np.float32)
    corners = np.array([[cx - w / 2, cy - h / 2], [cx + w / 2, cy + h / 2]], np.float32) * size
    (x0, y0), (x1, y1) = transform.to_image(corners)
    return (x0, y0, x1 - x0, y1 - y0), score


def test_face_detector_on_a_photo(face_model_path, data_dir):
    image = pytest.importorskip("PIL.Image", reason="Pillow decodes the photo")
    photo_path = data_dir / "sample1.jpg"
    if not photo_path.exists():
        pytest.skip(f"no {photo_path} (scripts/fetch_data.sh)")
    photo = np.asarray(image.open(photo_path).convert("RGB"))
    model = polyhead.Model(face_model_path)
    plan = polyhead.Engine(model).prepare()
    transform = plan.set_input_pixels("input", photo, format="RGB")
    plan.run()
    box, score = best_face(model, plan, transform)

    # The program decodes the photo with OpenCV and post-processes it (weighted NMS).
    reference = json.loads(run_program("run", face_model_path, "--image", photo_path,
                                       "--json").stdout)
    assert (transform.image_width, transform.image_height) == (reference["width"],
                                                               reference["height"])
    for key in ("scale_x", "scale_y", "offset_x", "offset_y"):
        assert getattr(transform, key) == pytest.approx(reference["transform"][key], rel=1e-6)
    top = max(reference["tasks"][0]["detections"], key=lambda d: d["score"])
    rx, ry, rw, rh = top["box"]
    assert score == pytest.approx(top["score"], abs=0.03)
    assert box[0] + box[2] / 2 == pytest.approx(rx + rw / 2, abs=0.1 * rw)
    assert box[1] + box[3] / 2 == pytest.approx(ry + rh / 2, abs=0.1 * rh)
    assert box[2] == pytest.approx(rw, rel=0.15) and box[3] == pytest.approx(rh, rel=0.15)


def test_quantize_and_compare(face_model_path, data_dir, tmp_path):
    photos = sorted(data_dir.glob("sample*.jpg"))[:2]
    if not photos:
        pytest.skip(f"no photos in {data_dir} (scripts/fetch_data.sh)")
    int8_path = tmp_path / "face_int8.phm"
    summary = polyhead.quantize(face_model_path, int8_path, calib=photos)
    assert summary["output"] == str(int8_path) and summary["int8_nodes"] > 0
    assert polyhead.Model(int8_path).task_names == ["faces"]
    report = polyhead.compare(face_model_path, int8_path, images=photos[0], rounds=1, runs=1)
    faces = report["tasks"][0]
    assert faces["task"] == "faces" and faces["kind"] == "detection"
    assert 0.0 <= faces["recall"] <= 1.0
    with pytest.raises(polyhead.CommandError, match="unknown range method .median."):
        polyhead.quantize(face_model_path, tmp_path / "x.phm", calib=photos, method="median")
    # A budget per task, as a mapping: the summary states it.
    summary = polyhead.quantize(face_model_path, tmp_path / "b.phm", calib=photos[0], auto=True,
                                max_drop={"faces": 1.0})
    assert summary["auto"]["max_drop"]["tasks"] == {"faces": 1.0}
    assert summary["auto"]["within_budget"] and summary["auto"]["kept_float"] == []
    with pytest.raises(polyhead.CommandError, match="the model has no task 'mask'"):
        polyhead.quantize(face_model_path, tmp_path / "y.phm", calib=photos[0], auto=True,
                          max_drop={"mask": 0.1})
