"""A multilayer perceptron: forward, backward and per-layer outputs, in NumPy.

Parameters live in one flat list ``[W0, b0, W1, b1, ...]`` so optimisers and files can
treat them uniformly; gradients come back in the same order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nnviz.core.activations import Activation, make_activation
from nnviz.core.init import initialise
from nnviz.core.losses import Loss, LossScratch, make_loss
from nnviz.core.spec import NetworkSpec, SpecError


@dataclass
class ForwardCache:
    """What backward needs from one forward pass."""

    inputs: list[np.ndarray]  # input to each dense layer
    pre: list[np.ndarray]  # pre-activations z of each hidden layer
    post: list[np.ndarray]  # activation outputs of each hidden layer (before the skip)
    masks: list[np.ndarray | None]  # inverted-dropout masks per hidden layer
    scores: np.ndarray


def split_flat(flat: np.ndarray, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Views of consecutive pieces of ``flat`` with the given shapes."""
    views, start = [], 0
    for sh in shapes:
        n = math.prod(sh)  # np.prod costs microseconds, and checkpoints split often
        views.append(flat[start : start + n].reshape(sh))
        start += n
    return views


def _product(m: int, k: int, n: int):
    """The function computing an (m, k) @ (k, n) product into ``out``, bit for bit as
    ``@`` does. ``np.dot`` is the cheaper call, and for two true matrices both it and
    ``@`` run BLAS gemm; with a dimension of 1 they may take different routes (gemv, a
    scalar product, no BLAS), so those go through ``np.matmul``."""
    return np.dot if m > 1 and k > 1 and n > 1 else np.matmul


class Workspace:
    """Preallocated arrays for the passes over batches of ``n`` examples.

    On a tiny network a training step is a few dozen NumPy calls on arrays of a few
    dozen numbers, and allocating each result costs about as much as computing it; a
    trainer keeps one workspace per batch size and reuses it step after step. Everything
    a pass writes here is overwritten by the next pass with the same workspace.
    """

    def __init__(self, network: Network, n: int):
        dt = network.dtype
        shapes = network.spec.layer_shapes()
        hidden = network.spec.hidden
        self.n = n
        self.pre = [np.empty((n, w[1]), dt) for w, _ in shapes[:-1]]
        self.post = [np.empty((n, h.units), dt) for h in hidden]
        self.hidden = [np.empty((n, h.units), dt) for h in hidden]  # skip sums, dropout
        self.scores = np.empty((n, shapes[-1][0][1]), dt)
        self.dz = [np.empty((n, w[1]), dt) for w, _ in shapes[:-1]]
        self.dh = [np.empty((n, h.units), dt) for h in hidden]
        self.dx = [np.empty((n, h.units), dt) for h in hidden]
        self.predicted = np.empty(n, np.int64)  # the trainer's accuracy
        self.correct = np.empty(n, bool)
        # forward products (n, fan_in) @ (fan_in, fan_out), backward (n, fan_out) @ W.T
        self.forward_product = [_product(n, w[0], w[1]) for w, _ in shapes]
        self.backward_product = [_product(n, w[1], w[0]) for w, _ in shapes]
        self.no_masks: list[np.ndarray | None] = [None] * len(hidden)
        self.loss = LossScratch(network.loss, n, shapes[-1][0][1], dt)


class Network:
    """Weights plus the spec they follow."""

    def __init__(self, spec: NetworkSpec, params: list[np.ndarray]):
        self.spec = spec
        self.dtype = np.dtype(spec.dtype)
        self.activations: list[Activation] = [
            make_activation(h.activation, h.alpha) for h in spec.hidden
        ]
        self.loss: Loss = make_loss(spec.loss)
        self.residual = spec.residual_layers()
        shapes = spec.layer_shapes()
        if len(params) != 2 * len(shapes):
            raise SpecError(f"expected {2 * len(shapes)} parameter arrays, got {len(params)}")
        for i, (wshape, bshape) in enumerate(shapes):
            W, b = params[2 * i], params[2 * i + 1]
            if W.shape != wshape or b.shape != bshape:
                raise SpecError(
                    f"layer {i + 1}: weights {W.shape} / bias {b.shape} do not match the "
                    f"architecture's {wshape} / {bshape}"
                )
        # one contiguous buffer with a view per array: an optimiser updates every
        # parameter in a handful of NumPy calls instead of a handful per array
        self.shapes = [np.shape(p) for p in params]
        self.flat = np.empty(sum(int(np.prod(sh)) for sh in self.shapes), dtype=self.dtype)
        self.params = split_flat(self.flat, self.shapes)
        for view, p in zip(self.params, params, strict=True):
            view[...] = p

    # copies and pickles keep ``params`` as views of ``flat``: copied one by one they would
    # become separate arrays, and an optimiser updating ``flat`` would no longer move them
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["params"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.params = split_flat(self.flat, self.shapes)

    @classmethod
    def initialised(cls, spec: NetworkSpec, seed: int) -> Network:
        """A fresh network with weights drawn reproducibly from ``seed``."""
        rng = np.random.default_rng(seed)
        dtype = np.dtype(spec.dtype)
        params: list[np.ndarray] = []
        for (fan_in, fan_out), _ in spec.layer_shapes():
            W, b = initialise(spec.init, fan_in, fan_out, rng, dtype)
            params += [W, b]
        return cls(spec, params)

    @property
    def n_layers(self) -> int:
        """Dense layers, the output layer included."""
        return len(self.params) // 2

    def weights(self, layer: int) -> np.ndarray:
        return self.params[2 * layer]

    def biases(self, layer: int) -> np.ndarray:
        return self.params[2 * layer + 1]

    def copy(self) -> Network:
        return Network(self.spec, [p.copy() for p in self.params])

    # --- forward ---------------------------------------------------------------------
    def scores(self, X: np.ndarray) -> np.ndarray:
        """Output scores (logits) without dropout."""
        h = X
        params = self.params
        for i, act in enumerate(self.activations):
            a = act.forward(h @ params[2 * i] + params[2 * i + 1])
            h = h + a if self.residual[i] else a
        return h @ params[-2] + params[-1]

    def forward(
        self, X: np.ndarray, masks: list[np.ndarray | None] | None = None,
        ws: Workspace | None = None,
    ) -> ForwardCache:
        """Forward pass keeping what backward needs; ``masks`` applies dropout.

        With a workspace (for ``len(X)`` examples) the results land in its arrays, which
        the next pass with it overwrites; the numbers are the same bits either way.
        """
        if ws is not None:
            return self._forward_into(X, masks, ws)
        inputs, pre, post = [], [], []
        h = X
        params = self.params
        for i, act in enumerate(self.activations):
            inputs.append(h)
            z = h @ params[2 * i] + params[2 * i + 1]
            a = act.forward(z)
            pre.append(z)
            post.append(a)
            h = h + a if self.residual[i] else a
            if masks is not None and masks[i] is not None:
                h = h * masks[i]
        inputs.append(h)
        scores = h @ params[-2] + params[-1]
        return ForwardCache(inputs, pre, post, masks or [None] * len(pre), scores)

    def _forward_into(self, X: np.ndarray, masks, ws: Workspace) -> ForwardCache:
        inputs, pre, post = [], [], []
        h = X
        params = self.params
        add = np.add
        for i, act in enumerate(self.activations):
            inputs.append(h)
            z = ws.forward_product[i](h, params[2 * i], out=ws.pre[i])
            add(z, params[2 * i + 1], out=z)
            a = act.forward(z, ws.post[i])
            pre.append(z)
            post.append(a)
            if self.residual[i]:
                h = add(h, a, out=ws.hidden[i])
                if masks is not None and masks[i] is not None:
                    np.multiply(h, masks[i], out=h)
            elif masks is not None and masks[i] is not None:
                h = np.multiply(a, masks[i], out=ws.hidden[i])
            else:
                h = a
        inputs.append(h)
        scores = ws.forward_product[-1](h, params[-2], out=ws.scores)
        add(scores, params[-1], out=scores)
        return ForwardCache(inputs, pre, post, masks or ws.no_masks, scores)

    # --- backward --------------------------------------------------------------------
    def backward(
        self, cache: ForwardCache, dscores: np.ndarray, out: list[np.ndarray] | None = None,
        ws: Workspace | None = None,
    ) -> list[np.ndarray]:
        """Gradients of the data loss, in the order of :attr:`params`; written into
        ``out`` (views of a flat gradient buffer) when given. With a workspace (the one
        the forward pass used) intermediate gradients land in its arrays."""
        if ws is not None and out is not None:
            return self._backward_into(cache, dscores, out, ws)
        params = self.params
        L = len(self.activations)
        grads: list[np.ndarray] = out if out is not None else [None] * len(params)  # type: ignore[list-item]
        if out is None:
            grads[-2] = cache.inputs[L].T @ dscores
            grads[-1] = dscores.sum(axis=0)
        else:
            np.dot(cache.inputs[L].T, dscores, out=out[-2])
            np.add.reduce(dscores, axis=0, out=out[-1])
        dh = dscores @ params[-2].T
        for i in range(L - 1, -1, -1):
            mask = cache.masks[i]
            if mask is not None:
                dh = dh * mask
            dz = self.activations[i].backward(cache.pre[i], cache.post[i], dh)
            if out is None:
                grads[2 * i] = cache.inputs[i].T @ dz
                grads[2 * i + 1] = dz.sum(axis=0)
            else:
                np.dot(cache.inputs[i].T, dz, out=out[2 * i])
                np.add.reduce(dz, axis=0, out=out[2 * i + 1])
            if i:  # the first layer's input gradient is never needed
                dx = dz @ params[2 * i].T
                dh = dh + dx if self.residual[i] else dx
        return grads

    def _backward_into(
        self, cache: ForwardCache, dscores: np.ndarray, out: list[np.ndarray], ws: Workspace
    ) -> list[np.ndarray]:
        params = self.params
        L = len(self.activations)
        reduce = np.add.reduce
        dot = np.dot
        inputs = cache.inputs
        dot(inputs[L].T, dscores, out=out[-2])
        reduce(dscores, axis=0, out=out[-1])
        bprod = ws.backward_product
        dh = bprod[-1](dscores, params[-2].T, out=ws.dh[L - 1]) if L else None
        for i in range(L - 1, -1, -1):
            mask = cache.masks[i]
            if mask is not None:
                np.multiply(dh, mask, out=dh)  # dh is this workspace's own array
            dz = self.activations[i].backward(cache.pre[i], cache.post[i], dh, ws.dz[i])
            dot(inputs[i].T, dz, out=out[2 * i])
            reduce(dz, axis=0, out=out[2 * i + 1])
            if i:  # the first layer's input gradient is never needed
                if self.residual[i]:
                    dx = bprod[i](dz, params[2 * i].T, out=ws.dx[i])
                    dh = np.add(dh, dx, out=ws.dh[i - 1])
                else:
                    dh = bprod[i](dz, params[2 * i].T, out=ws.dh[i - 1])
        return out

    def input_gradient(self, cache: ForwardCache, dscores: np.ndarray) -> np.ndarray:
        """Gradient of the loss with respect to the network's inputs."""
        params = self.params
        dh = dscores @ params[-2].T
        for i in range(len(self.activations) - 1, -1, -1):
            if cache.masks[i] is not None:
                dh = dh * cache.masks[i]
            dz = self.activations[i].backward(cache.pre[i], cache.post[i], dh)
            dx = dz @ params[2 * i].T
            dh = dh + dx if self.residual[i] else dx
        return dh

    def layer_outputs(self, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Pre-activations and outputs of every layer (hidden, then the output scores).

        A hidden layer's output is what the next layer sees (skip connection included).
        """
        pre, out = [], []
        h = X
        params = self.params
        for i, act in enumerate(self.activations):
            z = h @ params[2 * i] + params[2 * i + 1]
            a = act.forward(z)
            h = h + a if self.residual[i] else a
            pre.append(z)
            out.append(h)
        s = h @ params[-2] + params[-1]
        pre.append(s)
        out.append(s)
        return pre, out

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.loss.predict(self.scores(np.asarray(X, dtype=self.dtype)))
