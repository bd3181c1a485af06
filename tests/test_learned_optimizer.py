import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from dimo.inner import learned_optimizer as lopt

CFG = lopt.LOptConfig()


def _params():
    k1, k2 = jax.random.split(jax.random.key(0))
    return {"w": jax.random.normal(k1, (3, 4)), "b": jax.random.normal(k2, (4,))}


def test_is_an_optax_transformation_interchangeable_with_sgd():
    params = _params()
    grads = jax.tree.map(jnp.ones_like, params)
    for opt in (lopt.learned_optimizer(lopt.init_theta(jax.random.key(1), CFG), CFG),
                optax.sgd(0.1), optax.adam(0.1)):
        chained = optax.chain(optax.add_decayed_weights(1e-4), opt)
        state = chained.init(params)
        updates, state = jax.jit(chained.update)(grads, state, params)
        new = optax.apply_updates(params, updates)
        assert jax.tree.structure(new) == jax.tree.structure(params)
        assert all(bool(jnp.all(n < p)) for n, p in zip(jax.tree.leaves(new), jax.tree.leaves(params)))


def test_initial_theta_is_bias_corrected_momentum_sgd():
    theta = lopt.init_theta(jax.random.key(1), CFG)
    opt = lopt.learned_optimizer(theta, CFG)
    params = _params()
    state = opt.init(params)
    rng = np.random.default_rng(0)
    m = jax.tree.map(np.zeros_like, params)
    for t in range(5):
        grads = jax.tree.map(lambda p: jnp.asarray(0.05 * rng.normal(size=p.shape), p.dtype), params)
        updates, state = opt.update(grads, state, params)
        m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * np.asarray(g), m, grads)
        expected = jax.tree.map(
            lambda m: -CFG.max_step * np.tanh(CFG.init_lr * m / (1 - 0.9 ** (t + 1)) / CFG.max_step), m)
        for u, e in zip(jax.tree.leaves(updates), jax.tree.leaves(expected)):
            np.testing.assert_allclose(u, e, rtol=1e-5, atol=1e-7)
        params = optax.apply_updates(params, updates)


def test_initial_theta_with_adam_base_is_adam():
    cfg = lopt.LOptConfig(base="adam", init_lr=3e-3)
    opt = lopt.learned_optimizer(lopt.init_theta(jax.random.key(1), cfg), cfg)
    _assert_same_updates(opt, optax.adam(3e-3, eps=0.0, eps_root=1e-8), steps=5)


def _assert_same_updates(opt, reference_opt, steps):
    """``opt`` and ``reference_opt``, each on its own copy of the parameters, update alike on
    the same random gradients for ``steps`` steps."""
    params = reference = _params()
    state, reference_state = opt.init(params), reference_opt.init(reference)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        grads = jax.tree.map(lambda p: jnp.asarray(rng.normal(size=p.shape), p.dtype), params)
        updates, state = opt.update(grads, state, params)
        expected, reference_state = reference_opt.update(grads, reference_state, reference)
        for u, e in zip(jax.tree.leaves(updates), jax.tree.leaves(expected)):
            np.testing.assert_allclose(u, e, rtol=1e-4, atol=1e-8)
        params, reference = optax.apply_updates(params, updates), optax.apply_updates(reference, expected)


def test_unknown_base_is_refused():
    with pytest.raises(ValueError, match="lopt.base"):
        lopt.LOptConfig(base="lion")


def test_steps_are_bounded():
    theta = lopt.init_theta(jax.random.key(1), CFG)
    opt = lopt.learned_optimizer(theta, CFG, lr_scale=1e6)
    params = _params()
    updates, _ = opt.update(jax.tree.map(lambda p: 1e6 * jnp.ones_like(p), params), opt.init(params), params)
    assert max(float(jnp.max(jnp.abs(u))) for u in jax.tree.leaves(updates)) <= CFG.max_step * (1 + 1e-6)


@pytest.mark.parametrize("base", ["momentum", "adam"])
def test_zero_gradients_and_parameters_give_finite_meta_gradients(base):
    # sqrt/division at zero is the classic NaN source when differentiating optimizers.
    params = {"w": jnp.zeros((3, 4))}
    cfg = lopt.LOptConfig(base=base)

    def loss(theta):
        opt = lopt.learned_optimizer(theta, cfg)
        state = opt.init(params)
        p = params
        for _ in range(2):
            updates, state = opt.update({"w": jnp.zeros((3, 4))}, state, p)
            p = optax.apply_updates(p, updates)
        return jnp.sum(jnp.square(p["w"] - 1.0))

    grads = jax.grad(loss)(lopt.init_theta(jax.random.key(1), cfg))
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))


def test_fused_network_equals_the_flax_module():
    # Updates run the GRU in feature-major layout (_coordinate_net_apply); it must compute
    # exactly what _CoordinateNet.apply computes on coordinate-major inputs, for any theta.
    cfg = lopt.LOptConfig()
    net = lopt._CoordinateNet(cfg.hidden_size)
    keys = jax.random.split(jax.random.key(3), 4)
    theta = lopt.init_theta(keys[0], cfg)["net"]
    leaves, treedef = jax.tree.flatten(theta)
    noise = jax.random.split(keys[1], len(leaves))
    theta = jax.tree.unflatten(treedef, [x + 0.3 * jax.random.normal(k, x.shape) for x, k in zip(leaves, noise)])
    num_time = cfg.num_shared_features
    coordinate = jax.random.normal(keys[2], (cfg.num_features - num_time, 37))
    shared = jnp.array([0.1, 0.5, 0.9])[:num_time]
    hidden = jax.random.normal(keys[3], (cfg.hidden_size, 37))
    features = jnp.concatenate([coordinate.T, jnp.broadcast_to(shared, (37, num_time))], 1)
    expected = net.apply({"params": theta}, hidden.T, features)
    got = lopt._coordinate_net_apply(theta, hidden, coordinate, shared)
    np.testing.assert_allclose(got[0], expected[0].T, rtol=1e-5, atol=1e-6)
    for g, e in zip(got[1:], expected[1:]):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def test_progress_horizon_freezes_the_time_features_past_the_horizon():
    # Past H the optimizer sees the time features it saw at H (nothing beyond what
    # meta-training showed it); before H they still move, progress among them.
    cfg = lopt.LOptConfig(progress_horizon=20)
    at = {t: np.asarray(lopt._time_features(jnp.float32(t), cfg)) for t in (5, 20, 45)}
    np.testing.assert_array_equal(at[20], at[45])
    assert at[5][-1] == 0.25 and at[20][-1] == 1.0
    assert cfg.num_features == CFG.num_features + 1
    # Without a horizon, the features are the plain time features and keep moving.
    assert not np.allclose(lopt._time_features(jnp.float32(20), CFG), lopt._time_features(jnp.float32(45), CFG))


def test_stretch_to_length_sees_any_training_as_the_meta_trained_life():
    # A 400-step training at step 400 looks like the end of the 200-step life, at step 100 like
    # its step 50; without a length (meta-training), or at the life's own length, nothing changes.
    life, cfg = 200, lopt.LOptConfig(progress_horizon=200, stretch_to_length=True)
    plain = lopt.LOptConfig(progress_horizon=life)
    features = lambda t, c, length=None: np.asarray(lopt._time_features(jnp.float32(t), c, length))  # noqa: E731
    np.testing.assert_allclose(features(400, cfg, 400), features(200, plain), rtol=1e-6)
    np.testing.assert_allclose(features(100, cfg, 400), features(50, plain), rtol=1e-6)
    assert features(100, cfg, 400)[-1] == pytest.approx(0.25)
    np.testing.assert_array_equal(features(30, cfg), features(30, plain))
    np.testing.assert_array_equal(features(30, cfg, life), features(30, plain))
    # The length may be traced (the final trainer's horizon is an argument of its program).
    jitted = jax.jit(lambda t, length: lopt._time_features(t, cfg, length))
    np.testing.assert_allclose(jitted(jnp.float32(100), jnp.float32(400)), features(50, plain), rtol=1e-6)
    # Through the optimizer: one update of a stretched optimizer at a length equal to its life is
    # the unstretched one's; at another length it differs (the GRU reads the time features).
    theta = lopt.init_theta(jax.random.key(0), cfg)
    theta["net"]["head"]["kernel"] = jnp.full_like(theta["net"]["head"]["kernel"], 0.1)
    params = _params()
    grads = jax.tree.map(lambda p: jnp.cos(p), params)

    def first_update(c, length):
        opt = lopt.learned_optimizer(theta, c, length=length)
        state = opt.init(params)._replace(step=jnp.asarray(60, jnp.int32))
        return jax.tree.leaves(opt.update(grads, state, params)[0])

    for a, b in zip(first_update(cfg, life), first_update(plain, None)):
        np.testing.assert_array_equal(a, b)
    assert not all(np.allclose(a, b) for a, b in zip(first_update(cfg, 2000), first_update(plain, None)))
    with pytest.raises(ValueError, match="progress_horizon"):
        lopt.LOptConfig(stretch_to_length=True)


def test_base_schedule_is_the_baselines_scheduled_adam_stretched_to_the_training():
    # With base "adam", a zero head and base_schedule, a 40-step training of an optimizer whose
    # life is 20 steps is Adam with the tuned baselines' schedule over 40 steps: warm-up over 5 %,
    # a cosine to 0 at the end (dimo.studies.schedules.train_setup's).
    from dimo.studies import schedules
    assert lopt._WARMUP_FRACTION == schedules.WARMUP_FRACTION
    length, cfg = 40, lopt.LOptConfig(base="adam", init_lr=3e-3, progress_horizon=20, stretch_to_length=True,
                                      base_schedule=True)
    opt = lopt.learned_optimizer(lopt.init_theta(jax.random.key(1), cfg), cfg, length=length)
    setup = schedules.train_setup(length)
    rate = optax.warmup_cosine_decay_schedule(0.0, 3e-3, setup["warmup_steps"], length, 0.0)
    _assert_same_updates(opt, optax.adam(rate, eps=0.0, eps_root=1e-8), steps=length)
    assert float(lopt._schedule(jnp.float32(length), cfg, length)) == 0.0  # the cosine ends at the training's end
    with pytest.raises(ValueError, match="stretch_to_length"):
        lopt.LOptConfig(progress_horizon=20, base_schedule=True)


def _updates_and_log_lr_gradient(cfg, scale_bias, scale_from_gradient):
    """First update and d(sum of updates)/d(log_lr) with the head's log step size set to
    ``scale_bias + scale_from_gradient * gradient feature`` (every other head weight zero)."""
    theta = lopt.init_theta(jax.random.key(1), cfg)
    head = theta["net"]["head"]
    theta["net"]["head"] = {"bias": head["bias"].at[1].set(scale_bias),
                            "kernel": head["kernel"].at[cfg.hidden_size, 1].set(scale_from_gradient)}
    params = _params()
    grads = jax.tree.map(lambda p: jnp.sin(3.0 * p), params)

    def total_update(theta):
        opt = lopt.learned_optimizer(theta, cfg)
        updates, _ = opt.update(grads, opt.init(params), params)
        return sum(jnp.sum(u) for u in jax.tree.leaves(updates)), updates

    (_, updates), grad = jax.value_and_grad(total_update, has_aux=True)(theta)
    return updates, grad["log_lr"]


def test_fixed_rate_learns_no_global_rate_only_where_in_a_tensor_to_step():
    adam = dict(base="adam", init_lr=3e-3)
    free, fixed = lopt.LOptConfig(**adam), lopt.LOptConfig(**adam, fixed_rate=True)
    plain, _ = _updates_and_log_lr_gradient(free, 0.0, 0.0)
    # A learned log step size that is the same for every coordinate (+0.7) scales a free
    # optimizer's steps by exp(0.7); with a fixed rate it is centred away: the plain steps.
    larger, free_grad = _updates_and_log_lr_gradient(free, 0.7, 0.0)
    same, fixed_grad = _updates_and_log_lr_gradient(fixed, 0.7, 0.0)
    for p, big, s in zip(jax.tree.leaves(plain), jax.tree.leaves(larger), jax.tree.leaves(same)):
        np.testing.assert_allclose(big, np.exp(0.7) * p, rtol=1e-3)  # up to the tanh bound
        np.testing.assert_allclose(s, p, rtol=1e-5)
    assert free_grad != 0.0 and fixed_grad == 0.0  # log_lr is not meta-trained
    # A log step size that varies between coordinates still moves steps between them, with
    # each tensor's mean log step size unchanged.
    varied, _ = _updates_and_log_lr_gradient(fixed, 0.7, 0.5)
    for p, v in zip(jax.tree.leaves(plain), jax.tree.leaves(varied)):
        ratio = np.log(np.asarray(v) / np.asarray(p))
        assert np.ptp(ratio) > 0.1 and abs(np.mean(ratio)) < 1e-3
