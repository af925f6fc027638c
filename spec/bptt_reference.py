"""Backpropagation through time for a σ-RNN language model, derived by hand in plain numpy.

This is the analytic reference the engine is checked against (spec/test_bptt.py)
and the speed floor the benchmarks compare with. Nothing here uses minigrad.

The model, for tokens x_t (t = 1..T, a batch of B at each step):

    e_t = E[x_t] = one_hot(x_t) · E                      E: (V, D)
    z_t = e_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh        W_ih: (H, D), W_hh: (H, H)
    h_t = act(z_t),  act = σ (or tanh),  h_0 = 0
    y_t = h_t W_outᵀ + b_out                              logits; W_out: (V, H)
    J   = (1/(T·B)) Σ_t Σ_b [logsumexp(y_tb) − y_tb[target_tb]]   softmax cross-entropy

Backward, with N = T·B and p = softmax(y):

    ∂J/∂y_t      = (p_t − onehot(target_t)) / N
    ∂J/∂W_out    = Σ_t (∂J/∂y_t)ᵀ h_t,        ∂J/∂b_out = Σ_t Σ_b ∂J/∂y_t
    g_t          = ∂J/∂y_t W_out + (∂h_{t+1}/∂h_t)ᵀ g_{t+1}      the total gradient at h_t
    ∂J/∂z_t      = g_t ⊙ act'(z_t),    act' = h(1 − h) for σ, 1 − h² for tanh
    (∂h_{t+1}/∂h_t)ᵀ g_{t+1} = (diag(act'(z_{t+1})) W_hh)ᵀ g_{t+1} = ∂J/∂z_{t+1} W_hh
    ∂J/∂W_hh     = Σ_t (∂J/∂z_t)ᵀ h_{t−1},    ∂J/∂W_ih = Σ_t (∂J/∂z_t)ᵀ e_t
    ∂J/∂b_ih     = ∂J/∂b_hh = Σ_t Σ_b ∂J/∂z_t
    ∂J/∂E[v]     = Σ over positions with x = v of (∂J/∂z_t W_ih)

Only the recursion for g_t runs step by step; every weight gradient is one
matrix product over all T·B positions, as a numpy expert would write it.
Parameter names follow the minigrad (and PyTorch) modules: Embedding,
RNN and Linear named ``embedding``, ``rnn`` and ``head``.
"""

import numpy as np

NAMES = (
    "embedding.weight",
    "rnn.weight_ih_l0",
    "rnn.weight_hh_l0",
    "rnn.bias_ih_l0",
    "rnn.bias_hh_l0",
    "head.weight",
    "head.bias",
)


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


ACTIVATIONS = {
    "sigmoid": (_sigmoid, lambda h: h * (1.0 - h)),
    "tanh": (np.tanh, lambda h: 1.0 - h * h),
}


def init_params(vocab, embed, hidden, rng):
    """Random parameters with the shapes and names of the minigrad language model."""
    k = 1.0 / np.sqrt(hidden)
    return {
        "embedding.weight": rng.standard_normal((vocab, embed)),
        "rnn.weight_ih_l0": rng.uniform(-k, k, (hidden, embed)),
        "rnn.weight_hh_l0": rng.uniform(-k, k, (hidden, hidden)),
        "rnn.bias_ih_l0": rng.uniform(-k, k, hidden),
        "rnn.bias_hh_l0": rng.uniform(-k, k, hidden),
        "head.weight": rng.uniform(-k, k, (vocab, hidden)),
        "head.bias": rng.uniform(-k, k, vocab),
    }


def forward(params, inputs, nonlinearity="sigmoid"):
    """inputs: (T, B) token ids. Returns the embeddings, hidden states h_0..h_T and logits."""
    act, _ = ACTIVATIONS[nonlinearity]
    w_ih, w_hh = params["rnn.weight_ih_l0"], params["rnn.weight_hh_l0"]
    T, B = inputs.shape
    H = w_hh.shape[0]
    e = params["embedding.weight"][inputs]  # (T, B, D)
    xp = e.reshape(T * B, -1) @ w_ih.T + (params["rnn.bias_ih_l0"] + params["rnn.bias_hh_l0"])
    xp = xp.reshape(T, B, H)
    h = np.zeros((T + 1, B, H))
    w_hh_t = w_hh.T
    for t in range(T):
        h[t + 1] = act(xp[t] + h[t] @ w_hh_t)
    logits = h[1:].reshape(T * B, H) @ params["head.weight"].T + params["head.bias"]
    return e, h, logits


def loss_and_gradients(params, inputs, targets, nonlinearity="sigmoid"):
    """The mean softmax cross-entropy J and ∂J/∂θ for every parameter, by the formulas above."""
    loss, cache = forward_loss(params, inputs, targets, nonlinearity)
    return loss, backward(params, cache)


def forward_loss(params, inputs, targets, nonlinearity="sigmoid"):
    """J, and what the backward pass needs."""
    e, h, logits = forward(params, inputs, nonlinearity)
    flat_targets = targets.reshape(-1)
    rows = np.arange(len(flat_targets))
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = float(np.mean(log_z[:, 0] - shifted[rows, flat_targets]))
    return loss, (inputs, flat_targets, nonlinearity, e, h, shifted, log_z)


def backward(params, cache):
    """∂J/∂θ for every parameter, from the cache of ``forward_loss``."""
    inputs, flat_targets, nonlinearity, e, h, shifted, log_z = cache
    _, act_slope = ACTIVATIONS[nonlinearity]
    w_ih, w_hh = params["rnn.weight_ih_l0"], params["rnn.weight_hh_l0"]
    w_out = params["head.weight"]
    T, B = inputs.shape
    H, D = w_ih.shape
    N = T * B
    rows = np.arange(N)
    d_logits = np.exp(shifted - log_z)  # softmax
    d_logits[rows, flat_targets] -= 1.0
    d_logits /= N

    h_flat = h[1:].reshape(N, H)
    grads = {"head.weight": d_logits.T @ h_flat, "head.bias": d_logits.sum(axis=0)}
    d_h_out = (d_logits @ w_out).reshape(T, B, H)  # ∂J/∂h_t through the output at step t

    slope = act_slope(h[1:])  # act'(z_t), from h_t
    d_z = np.empty((T, B, H))
    carried = np.zeros((B, H))  # (∂h_{t+1}/∂h_t)ᵀ g_{t+1}
    for t in range(T - 1, -1, -1):
        d_z[t] = (d_h_out[t] + carried) * slope[t]  # ∂J/∂z_t = g_t ⊙ act'(z_t)
        carried = d_z[t] @ w_hh  # (diag(act'(z_t)) W_hh)ᵀ g_t
    d_z_flat = d_z.reshape(N, H)

    grads["rnn.weight_hh_l0"] = d_z_flat.T @ h[:-1].reshape(N, H)
    grads["rnn.weight_ih_l0"] = d_z_flat.T @ e.reshape(N, D)
    grads["rnn.bias_ih_l0"] = grads["rnn.bias_hh_l0"] = d_z_flat.sum(axis=0)
    # ∂J/∂E: add each position's row into the row of its token (np.bincount over flat
    # positions, which does what np.add.at does, several times faster).
    V = params["embedding.weight"].shape[0]
    positions = (inputs.reshape(N, 1) * D + np.arange(D)).reshape(-1)
    d_embedding = np.bincount(positions, weights=(d_z_flat @ w_ih).reshape(-1), minlength=V * D)
    grads["embedding.weight"] = d_embedding.reshape(V, D)
    return grads
