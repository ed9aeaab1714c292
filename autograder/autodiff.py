"""The gradient of a model's summed output with respect to its input, on any Keras backend.

Keras 3 runs the same model on TensorFlow, JAX or PyTorch, but each framework
takes gradients of an arbitrary function its own way. Assignment 06 measures
how much gradient reaches each time step of a recurrent network, the one place
in the course that needs a framework's automatic differentiation directly; it
goes through :func:`input_gradient`. The TensorFlow branch is the
``tf.GradientTape`` the notebook teaches; the others do the same with
``jax.grad`` and PyTorch's ``backward()``.
"""

from __future__ import annotations

import numpy as np


def input_gradient(model, x) -> np.ndarray:
    """:math:`\\partial \\sum \\text{model}(x) / \\partial x` as a float32 NumPy array shaped like ``x``.

    ``model``: a Keras model or layer, or any callable on backend tensors (called as ``model(x)``, so a Keras
    model runs in inference mode); ``x``: an array, e.g. (N, T, D).
    """
    import keras

    x = np.asarray(x, dtype="float32")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        inputs = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            total = tf.reduce_sum(model(inputs))
        return tape.gradient(total, inputs).numpy()
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        return np.asarray(jax.grad(lambda inputs: jnp.sum(model(inputs)))(jnp.asarray(x)))
    if backend == "torch":
        inputs = keras.ops.convert_to_tensor(x).detach().requires_grad_(True)  # on the device Keras trains on
        model(inputs).sum().backward()
        return inputs.grad.detach().cpu().numpy()
    raise NotImplementedError(f"input_gradient has no implementation for the Keras backend {backend!r}")
