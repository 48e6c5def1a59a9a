"""Engine and Plan: outputs bit-exact with the bundled program, task subsets, threads, the ways
outputs come out (copies, views, bound arrays)."""

import threading

import numpy as np
import pytest

import polyhead


def assert_same_outputs(got, expected):
    assert list(got) == list(expected)
    for task, outputs in expected.items():
        assert list(got[task]) == list(outputs)
        for name, values in outputs.items():
            array = got[task][name]
            assert array.dtype == np.float32 and array.shape == values.shape, (task, name)
            assert np.array_equal(array, values), f"{task}.{name} differs from the program's"


def test_all_tasks_equal_program_dump(demo_model, demo_image, cli_dump):
    plan = polyhead.Engine(demo_model).prepare()
    assert plan.tasks == ["classify", "segment", "detect"]
    assert plan.input_names == ["image"]
    plan.set_input("image", demo_image)
    plan.run()
    assert_same_outputs(plan.outputs(), cli_dump())
    assert plan.last_run_nodes == plan.info.nodes


def test_subset_of_plan_equals_program_dump(demo_model, demo_image, cli_dump):
    plan = polyhead.Engine(demo_model).prepare()
    plan.set_input("image", demo_image)
    plan.run(["segment", "classify"])
    # Only the tasks of the last run have outputs.
    assert_same_outputs(plan.outputs(), cli_dump(["classify", "segment"]))
    assert plan.last_run_nodes < plan.info.nodes
    with pytest.raises(polyhead.InvalidArgumentError, match="'detect' did not run"):
        plan.output("detect", "boxes")
    plan.run("detect")
    assert np.array_equal(plan.output("detect", "scores"), cli_dump()["detect"]["scores"])
    plan.run(None)
    assert list(plan.outputs()) == plan.tasks


def test_prepared_subset(demo_model, demo_image, cli_dump):
    plan = polyhead.Engine(demo_model).prepare(["detect"])
    assert plan.tasks == ["detect"]
    assert plan.node_names()[-1].startswith("detect.")
    assert len(plan.node_names("detect")) == plan.info.nodes
    plan.set_input("image", demo_image)
    plan.run()
    assert_same_outputs(plan.outputs(), cli_dump(["detect"]))


def test_two_threads_same_outputs(demo_model, demo_image, cli_dump):
    engine = polyhead.Engine(demo_model, threads=2)
    assert engine.threads == 2 and engine.stats.threads == 2
    plan = engine.prepare()
    plan.set_input("image", demo_image)
    # Past the first runs too, where each node settles on the pool or the calling thread.
    for _ in range(10):
        plan.run()
        assert_same_outputs(plan.outputs(), cli_dump())
    assert plan.info.nodes_with_thread_choice > 0


def test_input_strides_and_read_only_arrays(demo_model, demo_image, cli_dump):
    plan = polyhead.Engine(demo_model).prepare(["classify"])
    # A non-contiguous view holding the same values, read-only.
    wide = np.zeros(demo_image.shape[:-1] + (6,), np.float32)
    wide[..., ::2] = demo_image
    view = wide[..., ::2]
    view.flags.writeable = False
    assert not view.flags.c_contiguous
    plan.set_input("image", view)
    plan.run()
    assert np.array_equal(plan.output("classify", "logits"), cli_dump()["classify"]["logits"])


def test_copies_and_views(demo_model, demo_image):
    plan = polyhead.Engine(demo_model).prepare(["classify"])
    plan.set_input("image", demo_image)
    plan.run()
    copy = plan.output("classify", "logits")
    view = plan.output("classify", "logits", copy=False)
    assert copy.flags.writeable and not np.shares_memory(copy, view)
    assert not view.flags.writeable
    with pytest.raises(ValueError):
        view[0, 0] = 1.0
    assert np.array_equal(copy, view)
    first = copy.copy()
    # The next run overwrites the view, not the copy.
    plan.set_input("image", np.zeros_like(demo_image))
    plan.run()
    assert np.array_equal(copy, first)
    assert not np.array_equal(view, first)
    assert np.array_equal(view, plan.output("classify", "logits"))
    # The view keeps the plan (and its memory) alive.
    expected = view.copy()
    del plan
    assert np.array_equal(view, expected)
    views = polyhead.Engine(demo_model).prepare(["classify"])
    views.set_input("image", demo_image)
    views.run()
    nested = views.outputs(copy=False)
    assert not nested["classify"]["logits"].flags.writeable


def test_bound_outputs(demo_model, demo_image, cli_dump):
    plan = polyhead.Engine(demo_model).prepare(["segment", "detect"])
    mask = np.full((1, 56, 56, 21), -7.0, np.float32)
    plan.bind_output("segment", "mask", mask)
    plan.set_input("image", demo_image)
    plan.run("detect")  # without the task: the array is left alone
    assert (mask == -7.0).all()
    plan.run()
    assert np.array_equal(mask, cli_dump()["segment"]["mask"])
    plan.bind_output("segment", "mask", None)
    mask[:] = 0
    plan.run()
    assert not mask.any()
    with pytest.raises(polyhead.InvalidArgumentError, match=r"shape \[1,56,56,21\]"):
        plan.bind_output("segment", "mask", np.empty((56, 56, 21), np.float32))
    with pytest.raises(polyhead.InvalidArgumentError, match="float32.*float64"):
        plan.bind_output("segment", "mask", np.empty((1, 56, 56, 21)))
    read_only = np.empty((1, 56, 56, 21), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(polyhead.InvalidArgumentError, match="writable"):
        plan.bind_output("segment", "mask", read_only)
    with pytest.raises(TypeError, match="needs a NumPy array"):
        plan.bind_output("segment", "mask", [0.0] * 65856)
    with pytest.raises(polyhead.NotFoundError, match="no output 'masks'"):
        plan.bind_output("segment", "masks", mask)


def test_engine_options_and_stats(demo_model):
    engine = polyhead.Engine(demo_model, threads=1, precision="f32", plan_cache_capacity=2,
                             choose_threads_per_node=False)
    assert engine.precision == "f32"
    engine.prepare("classify")
    engine.prepare(["segment"])
    stats = engine.stats
    assert stats.cached_plans == 2 and stats.packed_weight_bytes > 0
    assert stats.arena_pool_bytes > 0
    assert engine.model.task_names == demo_model.task_names
    with pytest.raises(polyhead.InvalidArgumentError, match="precision must be 'f32' or 'f16'"):
        polyhead.Engine(demo_model, precision="f64")
    with pytest.raises(polyhead.InvalidArgumentError, match="plan_cache_capacity"):
        polyhead.Engine(demo_model, plan_cache_capacity=0)
    with pytest.raises(polyhead.InvalidArgumentError, match="threads must be at most 1024"):
        polyhead.Engine(demo_model, threads=5000)


def test_profiling(demo_model, demo_image):
    plan = polyhead.Engine(demo_model).prepare("classify")
    assert plan.node_times_ns == []
    plan.profiling = True
    plan.set_input("image", demo_image)
    plan.run()
    times = plan.node_times_ns
    assert len(times) == len(plan.node_names()) and sum(times) > 0


def test_other_thread_is_refused_not_raced(demo_model, demo_image):
    engine = polyhead.Engine(demo_model)
    plan = engine.prepare()
    plan.set_input("image", demo_image)
    stop = threading.Event()
    errors = []

    def runs():
        while not stop.is_set():
            try:
                plan.run()
            except polyhead.InvalidArgumentError as e:
                errors.append(str(e))

    worker = threading.Thread(target=runs)
    worker.start()
    try:
        for _ in range(200):
            try:
                plan.set_input("image", demo_image)
            except polyhead.InvalidArgumentError as e:
                errors.append(str(e))
    finally:
        stop.set()
        worker.join()
    assert all("in use by another thread" in e for e in errors)


def test_engines_share_a_thread_pool_with_heads_in_parallel(demo_model, demo_image, cli_dump):
    pool = polyhead.ThreadPool(2)
    assert pool.threads == 2
    engines = [polyhead.Engine(demo_model, thread_pool=pool, parallel_heads=mode)
               for mode in ("always", "never", "auto")]
    del pool  # the engines keep it
    for engine in engines:
        assert engine.stats.threads == 2
        plan = engine.prepare()
        plan.set_input("image", demo_image)
        for _ in range(3):
            plan.run()
            assert_same_outputs(plan.outputs(), cli_dump())
    always = engines[0].prepare().info
    assert always.parallel_head_groups == 3 and always.heads_in_parallel
    assert engines[1].prepare().info.parallel_head_groups == 0


def test_thread_pool_and_parallel_heads_errors(demo_model):
    with pytest.raises(polyhead.InvalidArgumentError, match="5000"):
        polyhead.ThreadPool(5000)
    with pytest.raises(polyhead.InvalidArgumentError, match="'sometimes'"):
        polyhead.Engine(demo_model, parallel_heads="sometimes")
    with pytest.raises(polyhead.InvalidArgumentError, match="'thin'"):
        polyhead.Engine(demo_model, sparse_weights="thin")
    stats = polyhead.Engine(demo_model, sparse_weights="dense").stats
    assert stats.sparse_kernel_nodes == 0 and stats.expanded_sparse_weight_bytes == 0
    with pytest.raises(polyhead.InvalidArgumentError, match="threads = 4"):
        polyhead.Engine(demo_model, threads=4, thread_pool=polyhead.ThreadPool(2))
