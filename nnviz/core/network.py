"""A multilayer perceptron: forward, backward and per-layer outputs, in NumPy.

Parameters live in one flat list ``[W0, b0, W1, b1, ...]`` so optimisers and files can
treat them uniformly; gradients come back in the same order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nnviz.core.activations import SPENT_BACKWARD, Activation, make_activation
from nnviz.core.init import initial_params
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
    trainer keeps a workspace per batch size (and a lean one beside it) and reuses it step
    after step. Everything a pass writes here is overwritten by the next pass with the
    same workspace.
    """

    def __init__(self, network: Network, n: int, lean: bool = False):
        """``lean`` (for a network whose :attr:`Network.can_be_lean` holds): each hidden
        layer's outputs overwrite its pre-activations, and the backward pass overwrites
        the outputs and the upstream gradients (:meth:`Activation.backward_spent`). The
        same bits in half the arrays, so less of the cache goes to them; after backward
        the cache holds neither pre-activations nor outputs, so a caller that reads them
        afterwards (statistics, snapshots) needs a workspace that is not lean."""
        if lean and not network.can_be_lean:
            raise ValueError("this network cannot use a lean workspace")
        dt = network.dtype
        shapes = network.spec.layer_shapes()
        hidden = network.spec.hidden
        self.n = n
        self.lean = lean
        self.pre = [np.empty((n, w[1]), dt) for w, _ in shapes[:-1]]
        self.post = self.pre if lean else [np.empty((n, h.units), dt) for h in hidden]
        self.hidden = [np.empty((n, h.units), dt) for h in hidden]  # skip sums, dropout
        self.scores = np.empty((n, shapes[-1][0][1]), dt)
        self.dz = [None] * len(hidden) if lean else [np.empty((n, w[1]), dt) for w, _ in shapes[:-1]]
        self.dh = [np.empty((n, h.units), dt) for h in hidden]
        self.dx = [None] * len(hidden) if lean else [np.empty((n, h.units), dt) for h in hidden]
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
        #: whether a :class:`Workspace` may be lean: every hidden activation has a spent
        #: backward pass, and no skip connection needs a layer's upstream gradient again
        self.can_be_lean = not any(self.residual) and all(
            a.name in SPENT_BACKWARD for a in self.activations)
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
        return cls(spec, initial_params(spec, seed))

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
    # One pass serves every caller. Given a workspace it writes into the workspace's
    # arrays (the training step: no allocation); without one each result is a fresh
    # array (any batch size, any caller). Both routes make the same NumPy calls in the
    # same order, so they give the same bits (tests/core/test_core_fastpath.py pins it).
    def _forward(
        self, X: np.ndarray, masks: list[np.ndarray | None] | None, ws: Workspace | None,
        keep: bool,
    ) -> ForwardCache:
        """The forward pass; ``keep`` records what backward needs (else the lists stay
        empty and each layer's arrays are freed as soon as the next layer has them)."""
        L = len(self.activations)
        if ws is None:
            nones: list = [None] * L
            prods = [np.matmul] * (L + 1)  # exactly ``@``
            pre_out = post_out = hid_out = no_masks = nones
            scores_out = None
        else:
            prods = ws.forward_product
            pre_out, post_out, hid_out = ws.pre, ws.post, ws.hidden
            scores_out, no_masks = ws.scores, ws.no_masks
        drop = masks if masks is not None else no_masks
        inputs: list[np.ndarray] = []
        pre: list[np.ndarray] = []
        post: list[np.ndarray] = []
        h = X
        params = self.params
        add, multiply = np.add, np.multiply
        for i, act in enumerate(self.activations):
            z = prods[i](h, params[2 * i], out=pre_out[i])
            z += params[2 * i + 1]  # in place: the same ufunc as ``+``, one array fewer
            a = act.forward(z, post_out[i])
            if keep:
                inputs.append(h)
                pre.append(z)
                post.append(a)
            del z  # freed (unless kept) before the next layer allocates
            mask = drop[i]
            if self.residual[i]:
                h = add(h, a, out=hid_out[i])
                if mask is not None:  # in place in a workspace, a fresh array without
                    h = multiply(h, mask, out=hid_out[i])
            elif mask is not None:
                h = multiply(a, mask, out=hid_out[i])
            else:
                h = a
        if keep:
            inputs.append(h)
        scores = prods[L](h, params[-2], out=scores_out)
        scores += params[-1]
        return ForwardCache(inputs, pre, post, masks or no_masks, scores)

    def scores(self, X: np.ndarray) -> np.ndarray:
        """Output scores (logits) without dropout."""
        return self._forward(X, None, None, keep=False).scores

    def forward(
        self, X: np.ndarray, masks: list[np.ndarray | None] | None = None,
        ws: Workspace | None = None,
    ) -> ForwardCache:
        """Forward pass keeping what backward needs; ``masks`` applies dropout.

        With a workspace (for ``len(X)`` examples) the results land in its arrays, which
        the next pass with it overwrites; the numbers are the same bits either way.
        """
        return self._forward(X, masks, ws, keep=True)

    def layer_outputs(self, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Pre-activations and outputs of every layer (hidden, then the output scores).

        A hidden layer's output is what the next layer sees (skip connection included).
        """
        cache = self._forward(X, None, None, keep=True)
        return [*cache.pre, cache.scores], [*cache.inputs[1:], cache.scores]

    # --- backward --------------------------------------------------------------------
    def backward(
        self, cache: ForwardCache, dscores: np.ndarray, out: list[np.ndarray] | None = None,
        ws: Workspace | None = None,
    ) -> list[np.ndarray]:
        """Gradients of the data loss, in the order of :attr:`params`; written into
        ``out`` (views of a flat gradient buffer) when given. With a workspace (the one
        the forward pass used) and ``out``, intermediate gradients land in its arrays;
        otherwise each is a fresh array (the same bits either way)."""
        params = self.params
        L = len(self.activations)
        if out is None:
            ws = None  # fresh gradients: fresh intermediates too, as ``@`` and ``sum``
        grads: list = out if out is not None else [None] * len(params)
        wprod = np.matmul if out is None else np.dot
        if ws is None:
            nones: list = [None] * L
            bprod = [np.matmul] * (L + 1)
            dz_out = dh_out = dx_out = nones
        else:
            bprod, dz_out, dh_out, dx_out = ws.backward_product, ws.dz, ws.dh, ws.dx
        reduce, add = np.add.reduce, np.add
        inputs = cache.inputs
        lean = ws is not None and ws.lean
        # each ``out=grads[k]`` is the caller's view, or None for a fresh array
        grads[-2] = wprod(inputs[L].T, dscores, out=grads[-2])
        grads[-1] = reduce(dscores, axis=0, out=grads[-1])
        if L:
            dh = bprod[L](dscores, params[-2].T, out=dh_out[L - 1])
        for i in range(L - 1, -1, -1):
            mask = cache.masks[i]
            if mask is not None:  # in the workspace's own array, or a fresh one
                dh = np.multiply(dh, mask, out=None if ws is None else dh)
            if lean:  # dz in dh's array, the derivative in the outputs' (used up by now)
                dz = self.activations[i].backward_spent(cache.post[i], dh)
            else:
                dz = self.activations[i].backward(cache.pre[i], cache.post[i], dh, dz_out[i])
            grads[2 * i] = wprod(inputs[i].T, dz, out=grads[2 * i])
            grads[2 * i + 1] = reduce(dz, axis=0, out=grads[2 * i + 1])
            if i:  # the first layer's input gradient is never needed
                if self.residual[i]:
                    dx = bprod[i](dz, params[2 * i].T, out=dx_out[i])
                    dh = add(dh, dx, out=dh_out[i - 1])
                else:
                    dh = bprod[i](dz, params[2 * i].T, out=dh_out[i - 1])
        return grads

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.loss.predict(self.scores(np.asarray(X, dtype=self.dtype)))
