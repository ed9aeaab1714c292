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


def gradients(fn, arrays) -> list[np.ndarray]:
    """The gradients of the scalar ``fn(*tensors)`` with respect to each of ``arrays``, as float32 NumPy arrays.

    ``fn`` receives backend tensors (one per array, float32, in order) and returns a scalar backend tensor;
    use ``keras.ops`` inside it so it runs on every backend. The TensorFlow branch is ``tf.GradientTape``,
    the others ``jax.grad`` and PyTorch's ``backward()``.
    """
    import keras

    values = [np.asarray(a, dtype="float32") for a in arrays]
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tensors = [tf.convert_to_tensor(v) for v in values]
        with tf.GradientTape() as tape:
            for t in tensors:
                tape.watch(t)
            total = fn(*tensors)
        return [np.asarray(g.numpy()) for g in tape.gradient(total, tensors)]
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        grads = jax.grad(lambda *ts: fn(*ts), argnums=tuple(range(len(values))))(*(jnp.asarray(v) for v in values))
        return [np.asarray(g) for g in grads]
    if backend == "torch":
        tensors = [keras.ops.convert_to_tensor(v).detach().requires_grad_(True) for v in values]
        fn(*tensors).backward()
        return [t.grad.detach().cpu().numpy() if t.grad is not None else np.zeros(t.shape, "float32") for t in tensors]
    raise NotImplementedError(f"gradients has no implementation for the Keras backend {backend!r}")


def keras_lstm_gradients(x, h0, c0, kernel, recurrent_kernel, bias, dh_seq) -> dict[str, np.ndarray]:
    """Autodiff gradients of ``sum(dh_seq * h_seq)`` through ``keras.layers.LSTM`` (Keras's own cell, float32).

    ``h_seq`` is ``LSTM(n, return_sequences=True)(x, initial_state=[h0, c0])`` with the given weights (Keras's
    layout: kernel ``(d, 4n)``, recurrent_kernel ``(n, 4n)``, bias ``(4n,)``, gate order i, f, c, o). Returns
    ``{"dx", "dh0", "dc0", "dW", "dU", "db"}``, shaped like x, h0, c0, kernel, recurrent_kernel, bias. The layer
    runs with ``use_cudnn=False``, so the reference is the generic loop on every machine.
    """
    import keras

    x = np.asarray(x, dtype="float32")
    _, timesteps, features = x.shape
    units = np.shape(h0)[1]
    layer = keras.layers.LSTM(units, return_sequences=True, use_cudnn=False, dtype="float32")
    layer.build((None, timesteps, features))
    names = [v.name for v in layer.trainable_variables]
    if names != ["kernel", "recurrent_kernel", "bias"]:  # pragma: no cover - guards a Keras change
        raise RuntimeError(f"unexpected LSTM variables {names}")
    upstream = np.asarray(dh_seq, dtype="float32")
    frozen = [v.value for v in layer.non_trainable_variables]  # the dropout seed generator's state

    def loss(xs, h, c, w, u, b):
        h_seq, _ = layer.stateless_call([w, u, b], frozen, xs, initial_state=[h, c])
        return keras.ops.sum(h_seq * keras.ops.convert_to_tensor(upstream))

    grads = gradients(loss, [x, h0, c0, kernel, recurrent_kernel, bias])
    return dict(zip(("dx", "dh0", "dc0", "dW", "dU", "db"), grads, strict=True))
