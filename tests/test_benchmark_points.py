"""What `python -m benchmarks.run --quick` measures and what it lists as not measured (issue
#17), without running a benchmark."""

from benchmarks import run


def test_quick_mode_runs_two_meta_gradient_points_longest_first_and_lists_the_rest_as_not_measured():
    sections = {"meta_gradient", "end_to_end"}
    quick = [tag for tag, *_ in run.lane_points(sections, reps=2, quick=True)]
    full = [tag for tag, *_ in run.lane_points(sections, reps=2)]
    assert quick == ["k40_remat", "k10_remat"] and len(full) == 6
    # The figures of the quick points, as meta_gradient_figures writes them.
    point = {"meta_over_plain": 5.0, "meta_grad_s": 1.0, "meta_compile_s": 30.0, "plain_step_s": 0.05,
             "peak_rss_mb": 900.0, "xla_buffers_mb": 100.0}
    results = {}
    run.meta_gradient_figures(results, {tag: point for tag in quick})
    assert results["peak_mb_k40_over_k10_remat"] == 1.0 and "peak_mb_k40_over_k10_noremat" not in results
    missing = run.not_measured(results, sections)
    assert "meta_over_plain_k20_remat" in missing and "meta_over_plain_k10_noremat" in missing
    assert "peak_mb_k40_over_k10_noremat" in missing and "real_train_meta_compile_s" in missing
    assert not any(key in results for key in missing)
    assert len(missing) == 4 * len(run.POINT_KEYS) + 1 + len(run.END_TO_END_KEYS)
    assert "meta_step_4dev_over_1dev" in run.not_measured(results, {"scaling"})  # quick leaves scaling out
    assert "scaling" not in run.QUICK_SECTIONS and "scaling" in run.ALL_SECTIONS


def test_the_shifted_convolution_of_the_vmapped_conv_benchmark_is_the_convolution():
    import jax
    import jax.numpy as jnp

    from benchmarks import vmapped_conv
    from dimo.space.conv import conv2d

    kx, kk = jax.random.split(jax.random.key(1))
    x, kernel = jax.random.normal(kx, (3, 2, 6, 6, 4)), jax.random.normal(kk, (3, 3, 3, 4, 5))
    want = jax.vmap(conv2d)(x, kernel)
    assert want.shape == (3, 2, 6, 6, 5)
    assert jnp.allclose(jax.vmap(vmapped_conv.shifted)(x, kernel), want, atol=1e-5)
    assert vmapped_conv.grouped_convolutions(3) >= 1  # the vmapped convolution is a grouped one
