"""Plan.set_input_pixels: camera frames as uint8 arrays, the transform back to frame pixels, and
the pixel formats."""

import numpy as np
import pytest

import polyhead


@pytest.fixture(scope="module")
def frame():
    """A smooth 480x640 RGB test picture (gradients, so resizing matters)."""
    y, x = np.mgrid[0:480, 0:640]
    rgb = np.stack([x * 255 // 639, y * 255 // 479, (x + y) * 255 // 1118], axis=-1)
    return np.ascontiguousarray(rgb.astype(np.uint8))


@pytest.fixture
def plan(demo_model):
    return polyhead.Engine(demo_model).prepare(["classify"])


def logits_for(plan, image, **kwargs):
    transform = plan.set_input_pixels("image", image, **kwargs)
    plan.run()
    return transform, plan.output("classify", "logits")


def test_transform_of_stretch(plan, frame):
    t = plan.set_input_pixels("image", frame)
    assert (t.image_width, t.image_height, t.model_width, t.model_height) == (640, 480, 224, 224)
    assert t.scale_x == pytest.approx(224 / 640) and t.scale_y == pytest.approx(224 / 480)
    assert (t.offset_x, t.offset_y) == (0.0, 0.0)
    assert (t.resized_width, t.resized_height) == (224, 224)
    assert t.to_image(112.0, 112.0) == pytest.approx((320.0, 240.0))
    assert t.to_model(320.0, 240.0) == pytest.approx((112.0, 112.0))
    points = t.to_image(np.array([[0, 0], [224, 224], [56, 168]], np.float32))
    assert points.dtype == np.float32
    assert np.allclose(points, [[0, 0], [640, 480], [160, 360]])
    assert "640x480" in repr(t)


def test_same_size_frame_is_normalised_as_declared(demo_model, plan, frame):
    # No resize at the model's own size: value = (pixel / 255 * pixel_scale - mean) / std.
    small = np.ascontiguousarray(frame[:224, :224])
    _, from_pixels = logits_for(plan, small)
    p = demo_model.inputs[0].preprocess
    values = (small / 255.0 * p.pixel_scale - np.array(p.mean)) / np.array(p.std)
    plan.set_input("image", values[np.newaxis].astype(np.float32))
    plan.run()
    assert np.allclose(from_pixels, plan.output("classify", "logits"), rtol=0, atol=1e-4)


def test_formats_agree(plan, frame):
    _, rgb = logits_for(plan, frame)
    _, bgr = logits_for(plan, np.ascontiguousarray(frame[..., ::-1]), format="BGR")
    rgba = np.concatenate([frame, np.full(frame.shape[:2] + (1,), 7, np.uint8)], axis=-1)
    _, from_rgba = logits_for(plan, rgba, format="RGBA")
    _, from_bgra = logits_for(plan, np.ascontiguousarray(rgba[..., [2, 1, 0, 3]]), format="BGRA")
    for other in (bgr, from_rgba, from_bgra):
        assert np.array_equal(rgb, other)
    # Grey frames: (h, w) and (h, w, 1) are the same picture.
    grey = frame[..., 1].copy()
    _, g2 = logits_for(plan, grey, format="GRAY")
    _, g3 = logits_for(plan, grey[..., np.newaxis], format="GRAY")
    assert np.array_equal(g2, g3)
    # NV21: a Y plane and interleaved V, U rows; a neutral chroma plane is the grey picture.
    nv21 = np.concatenate([grey, np.full((240, 640), 128, np.uint8)])
    t, from_nv21 = logits_for(plan, nv21, format="NV21")
    assert (t.image_width, t.image_height) == (640, 480)
    assert from_nv21.shape == (1, 1000)


def test_crops_are_read_in_place(plan, frame):
    crop = frame[40:440, 100:500]
    assert not crop.flags.c_contiguous
    t, from_view = logits_for(plan, crop)
    assert (t.image_width, t.image_height) == (400, 400)
    _, from_copy = logits_for(plan, np.ascontiguousarray(crop))
    assert np.array_equal(from_view, from_copy)
    # Pixels not packed in a row (every other column) are copied first: same result.
    _, every_other = logits_for(plan, frame[:, ::2])
    _, packed = logits_for(plan, np.ascontiguousarray(frame[:, ::2]))
    assert np.array_equal(every_other, packed)


def test_bad_frames(plan, frame):
    with pytest.raises(polyhead.InvalidArgumentError,
                       match=r"format RGB takes a uint8 array of shape \(height, width, 3\), "
                             r"got \(480, 640, 4\)"):
        plan.set_input_pixels("image", np.zeros((480, 640, 4), np.uint8))
    with pytest.raises(polyhead.InvalidArgumentError, match="must be a uint8 array, got float32"):
        plan.set_input_pixels("image", frame.astype(np.float32))
    with pytest.raises(polyhead.InvalidArgumentError, match="unknown pixel format 'YUV'"):
        plan.set_input_pixels("image", frame, format="YUV")
    with pytest.raises(polyhead.InvalidArgumentError, match="even width and height"):
        plan.set_input_pixels("image", np.zeros((9, 5), np.uint8), format="NV12")
    with pytest.raises(polyhead.InvalidArgumentError, match="empty"):
        plan.set_input_pixels("image", np.zeros((0, 5, 3), np.uint8))
    with pytest.raises(TypeError, match="NumPy uint8 array, got a list"):
        plan.set_input_pixels("image", [[1, 2, 3]])
