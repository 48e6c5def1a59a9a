"""Input validation and library errors: polyhead.Error subclasses whose messages name what is
wrong."""

import numpy as np
import pytest

import polyhead


@pytest.fixture
def plan(demo_model):
    return polyhead.Engine(demo_model).prepare(["classify", "segment"])


def test_error_classes():
    assert issubclass(polyhead.InvalidArgumentError, polyhead.Error)
    assert issubclass(polyhead.InvalidArgumentError, ValueError)
    assert issubclass(polyhead.NotFoundError, LookupError)
    assert issubclass(polyhead.IoError, OSError)
    assert issubclass(polyhead.OutOfMemoryError, MemoryError)
    assert issubclass(polyhead.CommandError, polyhead.Error)
    for cls in (polyhead.InvalidModelError, polyhead.UnsupportedError, polyhead.InternalError):
        assert issubclass(cls, polyhead.Error)
    assert polyhead.NotFoundError.code == "not found"
    assert polyhead.InvalidArgumentError("x").message == "x"


def test_wrong_shape(plan, demo_image):
    with pytest.raises(polyhead.InvalidArgumentError,
                       match=r"input 'image' has shape \[1,224,224,3\], got an array of shape "
                             r"\(224, 224, 3\)"):
        plan.set_input("image", demo_image[0])
    with pytest.raises(polyhead.InvalidArgumentError, match=r"\(150528,\)"):
        plan.set_input("image", demo_image.ravel())


def test_wrong_dtype(plan, demo_image):
    with pytest.raises(polyhead.InvalidArgumentError,
                       match="input 'image' takes float32 values, got an array of float64"):
        plan.set_input("image", demo_image.astype(np.float64))
    with pytest.raises(polyhead.InvalidArgumentError, match="got an array of uint8"):
        plan.set_input("image", demo_image.astype(np.uint8))
    with pytest.raises(TypeError):
        plan.set_input("image", demo_image.tolist())


def test_unknown_input(plan, demo_image):
    with pytest.raises(polyhead.NotFoundError, match="unknown input 'img'; the plan reads 'image'"):
        plan.set_input("img", demo_image)
    with pytest.raises(polyhead.NotFoundError, match="'img'"):
        plan.set_input_pixels("img", np.zeros((8, 8, 3), np.uint8))


def test_input_not_set(plan):
    with pytest.raises(polyhead.InvalidArgumentError, match="input 'image' was not set"):
        plan.run()


def test_unknown_tasks(demo_model, plan, demo_image):
    engine = polyhead.Engine(demo_model)
    with pytest.raises(polyhead.NotFoundError, match="unknown task 'faces'.*'classify'"):
        engine.prepare(["faces"])
    with pytest.raises(polyhead.InvalidArgumentError, match="'segment' is listed twice"):
        engine.prepare(["segment", "segment"])
    with pytest.raises(TypeError, match="tasks must be"):
        engine.prepare(3)
    plan.set_input("image", demo_image)
    with pytest.raises(polyhead.NotFoundError, match="unknown task 'faces'"):
        plan.run(["faces"])
    with pytest.raises(polyhead.InvalidArgumentError,
                       match="task 'detect' was not prepared in this plan"):
        plan.run("detect")
    plan.run()
    with pytest.raises(polyhead.NotFoundError, match="task 'detect' is not in this plan"):
        plan.output("detect", "boxes")
    with pytest.raises(polyhead.NotFoundError, match="task 'segment' has no output 'masks'"):
        plan.output("segment", "masks")
    with pytest.raises(polyhead.NotFoundError, match="'detect'"):
        plan.node_names(["detect"])


def test_rejected_input_leaves_plan_usable(plan, demo_image):
    plan.set_input("image", demo_image)
    with pytest.raises(polyhead.InvalidArgumentError):
        plan.set_input("image", demo_image[..., :2])
    plan.run()
    assert plan.output("classify", "logits").shape == (1, 1000)
