"""The whole differentiable chain for one task, and the meta-parameters it learns.

    support set --embed--> code --decode--> Recipe(arch weights, lr scale, weight decay)
        --> K inner steps of the supernet (learned optimizer, teacher loss) --> val loss

``System`` bundles the static parts (model sizes, configs); meta-parameters are a dict
with one entry per group: ``embedding``, ``decoder``, ``optimizer``, ``teacher``.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import ml_collections

from datasets_meta.samplers import normalize
from dimo.inner import shadow_rate, truncation
from dimo.inner.learned_optimizer import LOptConfig
from dimo.inner.teacher_loss import TeacherConfig
from dimo.inner.types import Recipe, Task
from dimo.inner.unroll import InnerConfig, InnerLoop, all_finite, init_meta_params
from dimo.meta import dataset_embedding
from dimo.meta import decoder as decoder_lib
from dimo.space.supernet import Supernet

META_GROUPS = ("embedding", "decoder", "optimizer", "teacher")


@dataclasses.dataclass(frozen=True)
class System:
    loop: InnerLoop
    embedding: dataset_embedding.EmbeddingConfig
    decoder: decoder_lib.DecoderConfig
    image_shape: tuple[int, int, int]

    @property
    def num_classes(self) -> int:
        return self.loop.model.num_classes

    def init(self, key) -> dict:
        emb_key, dec_key, inner_key = jax.random.split(key, 3)
        inner = init_meta_params(inner_key, self.loop.cfg)
        return {"embedding": dataset_embedding.init_embedding(emb_key, self.embedding, self.image_shape, self.num_classes),
                "decoder": decoder_lib.init_decoder(dec_key, self.decoder, self.embedding.code_size),
                "optimizer": inner["optimizer"], "teacher": inner["teacher"]}

    def code(self, params, support_images, support_labels, mean, std, num_classes: int):
        x = normalize(support_images, mean, std)
        return dataset_embedding.embed(params["embedding"], self.embedding, x, support_labels, num_classes)

    def propose(self, params, support_images, support_labels, mean, std, num_classes: int) -> Recipe:
        """Recipe for a dataset from its support set (any number of classes)."""
        code = self.code(params, support_images, support_labels, mean, std, num_classes)
        return decoder_lib.decode(params["decoder"], self.decoder, code)

    def task_loss(self, params, task: Task, support_images, support_labels, key, carried=None,
                  restart=None, shadow=None):
        """Validation loss after training with the proposed recipe; (loss, aux).

        The supernet runs with the decoder's relaxation of the proposal (the mixture, or
        a sampled cell); ``aux["arch_weights"]`` is the proposal distribution itself.
        Without ``carried`` the network trains K steps from a fresh init; with it (a
        persistent slot, ``dimo.inner.truncation``) K more steps from ``carried``, or from a fresh
        init where ``restart``, and ``aux["inner_state"]`` is the state after them (the
        state before them if they went non-finite: ``truncation.keep_if_finite``). With
        ``inner.rate_gradient = "shadow"`` the slot also carries ``shadow``, its network trained at
        a slightly higher rate (``dimo.inner.shadow_rate``), and the rate's meta-gradient is the
        whole life's, not the truncation's; ``aux["shadow"]`` is the shadow after the steps.
        """
        code = self.code(params, support_images, support_labels, task.mean, task.std, self.num_classes)
        recipe = decoder_lib.decode(params["decoder"], self.decoder, code)
        relax_key, init_key, val_key = jax.random.split(key, 3)
        trained_with = recipe._replace(
            arch_weights=decoder_lib.sample_arch_weights(params["decoder"], self.decoder, code, relax_key))
        inner = {"optimizer": params["optimizer"], "teacher": params["teacher"]}
        if carried is None:
            start = self.loop.init(init_key, inner, trained_with, task)
        else:
            start = truncation.continue_or_restart(self.loop, inner, trained_with, task, carried,
                                                   restart, init_key)
        shadowed = carried is not None and self.loop.cfg.rate_gradient == "shadow"
        if shadowed:  # at a restart the shadow starts as the fresh network itself
            shadow = jax.tree.map(lambda a, b: jnp.where(restart, a, b), shadow_rate.float_leaves(start), shadow)
            shadow_loss, shadow_after = shadow_rate.shadow_segment(
                self.loop, inner, trained_with, task, start, shadow, self.loop.cfg.steps, val_key)
            shadow_ok = shadow_rate.shadow_finite(shadow_loss, shadow_after)
            trained_with = shadow_rate.detach_rate(trained_with, where=shadow_ok)
        loss, (state, aux) = self.loop.segment_loss(inner, trained_with, task, start,
                                                    self.loop.cfg.steps, val_key)
        if shadowed:
            d_rate, next_shadow = shadow_rate.rate_derivative(
                shadow_loss, jax.lax.stop_gradient(aux["val_loss"]), shadow_after, jax.lax.stop_gradient(state))
            loss = loss + shadow_rate.rate_surrogate(recipe, d_rate)
            # A segment that went non-finite leaves the slot, and its shadow, where it began (keep_if_finite).
            next_shadow = jax.tree.map(lambda a, b: jnp.where(all_finite(state), a, b), next_shadow, shadow)
        if carried is not None and self.loop.cfg.age_weighted:
            loss = loss * truncation.age_weight(jax.lax.stop_gradient(start.step), self.loop.cfg.steps,
                                                self.loop.cfg.lifetime)
        return loss, {"val_loss": aux["val_loss"], "val_accuracy": aux["val_accuracy"],
                      "final_train_loss": aux["train_loss"][-1], "arch_weights": recipe.arch_weights,
                      "lr_scale": recipe.lr_scale, "weight_decay": recipe.weight_decay,
                      "age": jax.lax.stop_gradient(start.step),
                      "inner_state": None if carried is None else truncation.keep_if_finite(state, start),
                      "shadow": next_shadow if shadowed else None,
                      "rate_derivative": d_rate if shadowed else jnp.zeros([], loss.dtype),
                      # 1 where the shadow diverged and the rate took the truncated gradient instead
                      "shadow_failed": (~shadow_ok if shadowed else jnp.zeros([], bool)).astype(loss.dtype)}


@functools.partial(jax.jit, static_argnums=(0, 6))
def code(system: System, params, support_images, support_labels, mean, std, num_classes: int):
    """``system.code`` compiled once per (system, shapes)."""
    return system.code(params, support_images, support_labels, mean, std, num_classes)


@functools.partial(jax.jit, static_argnums=(0, 6))
def propose(system: System, params, support_images, support_labels, mean, std, num_classes: int) -> Recipe:
    """``system.propose`` compiled once per (system, shapes): later calls skip tracing."""
    return system.propose(params, support_images, support_labels, mean, std, num_classes)


def from_config(config: ml_collections.ConfigDict) -> System:
    """The system a config describes (model sizes, inner loop, embedding, decoder)."""
    lopt_cfg = LOptConfig(**config.lopt.to_dict())
    inner_cfg = InnerConfig(lopt=lopt_cfg, teacher=TeacherConfig(**config.teacher.to_dict()),
                            inject_faults=bool(config.debug.inject_faults), **config.inner.to_dict())
    model = Supernet(num_classes=config.task.classes_per_task, **config.model.to_dict())
    size = config.data.image_size
    return System(InnerLoop(model, inner_cfg), dataset_embedding.EmbeddingConfig(**config.embedding.to_dict()),
                  decoder_lib.DecoderConfig(**config.decoder.to_dict()), (size, size, config.data.channels))
