import jax
import jax.numpy as jnp
import numpy as np

from dimo.inner import teacher_loss


def _batch():
    logits = jax.random.normal(jax.random.key(0), (16, 7)) * 3
    labels = jnp.arange(16) % 7
    return logits, labels


def test_phi_ce_is_exactly_cross_entropy():
    logits, labels = _batch()
    np.testing.assert_allclose(teacher_loss.teacher_loss(jnp.asarray(teacher_loss.PHI_CE), logits, labels),
                               teacher_loss.cross_entropy(logits, labels), rtol=1e-6)


def test_initial_teacher_teaches_cross_entropy_and_phi_is_bounded():
    cfg = teacher_loss.TeacherConfig()
    params = teacher_loss.init_teacher(jax.random.key(0), cfg)
    logits, labels = _batch()
    state = teacher_loss.observe(teacher_loss.initial_student_state(7), logits, labels, jnp.asarray(2.0), 0.3)
    np.testing.assert_allclose(teacher_loss.teacher_phi(params, cfg, state), teacher_loss.PHI_CE, atol=1e-7)
    wild = jax.tree.map(lambda p: 100.0 * jnp.ones_like(p), params)
    phi = teacher_loss.teacher_phi(wild, cfg, state)
    assert bool(jnp.all(jnp.abs(phi - jnp.asarray(teacher_loss.PHI_CE)) <= jnp.asarray(teacher_loss.PHI_RANGE) + 1e-6))


def test_student_state_reads_accuracy_margins_and_running_loss():
    start = teacher_loss.initial_student_state(2)
    np.testing.assert_allclose([start.ema_loss, start.ema_accuracy], [np.log(2.0), 0.5], rtol=1e-6)
    logits = jnp.array([[3.0, 1.0], [0.0, 2.0], [5.0, 0.0]])
    labels = jnp.array([0, 0, 0])
    s = teacher_loss.observe(start, logits, labels, jnp.asarray(1.0), 0.5)
    np.testing.assert_allclose(s.batch_accuracy, 2 / 3, rtol=1e-6)
    np.testing.assert_allclose(s.margin_mean, (2.0 - 2.0 + 5.0) / 3, rtol=1e-6)
    np.testing.assert_allclose(s.ema_loss, 0.9 * np.log(2.0) + 0.1 * 1.0, rtol=1e-6)
    np.testing.assert_allclose(s.progress, 0.5)
    # Equal margins: the std's gradient stays finite (eps inside the sqrt).
    g = jax.grad(lambda z: teacher_loss.observe(start, z, labels, jnp.asarray(1.0), 0.5).margin_std)(
        jnp.ones((3, 2)) * jnp.array([1.0, 0.0]))
    assert bool(jnp.all(jnp.isfinite(g)))


def test_loss_is_differentiable_in_phi_and_logits():
    logits, labels = _batch()
    phi = jnp.array([0.2, 0.5, 1.5, -0.3])
    g_phi, g_logits = jax.grad(teacher_loss.teacher_loss, (0, 1))(phi, logits, labels)
    assert bool(jnp.all(jnp.isfinite(g_phi))) and bool(jnp.all(g_phi != 0))
    assert bool(jnp.all(jnp.isfinite(g_logits)))


def test_past_its_horizon_the_teacher_sees_the_end_of_its_horizon():
    # Meta-trained on progress in [0, 1]; at 2K or 4K steps it must not extrapolate.
    cfg = teacher_loss.TeacherConfig()
    params = jax.tree.map(lambda p: p + 0.3, teacher_loss.init_teacher(jax.random.key(0), cfg))
    logits, labels = _batch()
    at = {t: teacher_loss.observe(teacher_loss.initial_student_state(7), logits, labels, jnp.asarray(2.0), t)
          for t in (0.5, 1.0, 2.0, 4.0)}
    assert float(at[4.0].progress) == 1.0
    np.testing.assert_array_equal(teacher_loss.teacher_phi(params, cfg, at[4.0]), teacher_loss.teacher_phi(params, cfg, at[1.0]))
    np.testing.assert_array_equal(teacher_loss.teacher_phi(params, cfg, at[2.0]), teacher_loss.teacher_phi(params, cfg, at[1.0]))
    assert not np.allclose(teacher_loss.teacher_phi(params, cfg, at[0.5]), teacher_loss.teacher_phi(params, cfg, at[1.0]))


def test_a_teacher_without_temperature_keeps_tau_at_one_and_still_sets_the_rest():
    cfg = teacher_loss.TeacherConfig(learn_temperature=False)
    params = teacher_loss.init_teacher(jax.random.key(0), cfg)
    params = jax.tree.map(lambda p: p + 0.5, params)  # an output layer that is no longer zero
    state = teacher_loss.initial_student_state(10)
    phi = teacher_loss.teacher_phi(params, cfg, state)
    free = teacher_loss.teacher_phi(params, teacher_loss.TeacherConfig(), state)
    assert phi[0] == 0.0 and free[0] != 0.0  # log temperature: fixed at 0 (tau = 1) / learned
    np.testing.assert_allclose(phi[1:], free[1:], rtol=1e-6)  # c, w and b as before
