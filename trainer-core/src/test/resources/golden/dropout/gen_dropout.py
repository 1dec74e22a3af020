#!/usr/bin/env python3
"""Independent reference for DropoutTest: one training pass with inverted dropout.

This script is the reference, not a port of the Java code: SplitMix64 is written out from its
definition (Steele, Lea and Flood 2014; the output function is Stafford's Mix13), the masks follow
the seeding rule documented in io.sparkprop.core.Dropout, and the forward and backward passes are
the textbook formulas, row by row, in plain Python floats. It imports nothing from sparkprop.
DropoutTest only reads its committed output; the build never runs Python.

Regenerate (Python 3, standard library only) and commit both files; it overwrites
dropout_golden.txt beside itself and prints the masks of DropoutTest's hand-derived example:

    python3 trainer-core/src/test/resources/golden/dropout/gen_dropout.py

The case: a 3-4-3-2 network, tanh hidden layers with dropout rates 0.5 and 0.25, softmax output
with cross-entropy, a block of 5 weighted rows of which rows 3, 0, 4 form the batch (in that
order), dropout key (seed 2026, epoch 2, step 7, partition 1). Output format, one record per line,
fields separated by single spaces, every float written with repr() so that it round-trips exactly
to a Java double:

    sizes 3 4 3 2                    the layer sizes
    rates p_0 p_1                    the hidden layers' dropout rates
    key seed epoch step partition    the dropout key
    order r_0 r_1 r_2                the batch: block rows, in batch order
    x ...  y ...  w ...              the block's features (5, 3), one-hot targets (5, 2), row weights
    params ...                       the flat parameters: per layer W (numOut, numIn) row-major, then b
    mask0 ...  mask1 ...             the masks (batch rows, numOut): 0 or 1 / (1 - p)
    output ...                       the softmax output of the masked pass (batch rows, 2)
    loss L                           Σ_i w_i L_i
    grad ...                         Σ_i w_i ∇θ L_i, in the flat layout

Lines starting with '#' are comments.
"""
import math
import pathlib
import random

GAMMA = 0x9E3779B97F4A7C15
MASK64 = (1 << 64) - 1
STREAM_DROPOUT = 4


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def derive(seed, *keys):
    """SplitMix64.derive: h = mix(seed + γ); per key h = mix(h ^ (mix(key + γ) + γ))."""
    h = mix((seed + GAMMA) & MASK64)
    for key in keys:
        h = mix(h ^ ((mix((key + GAMMA) & MASK64) + GAMMA) & MASK64))
    return h


def doubles(seed, count):
    """The first `count` nextDouble() of SplitMix64(seed): state += γ, 53 high bits of mix(state)."""
    out = []
    state = seed
    for _ in range(count):
        state = (state + GAMMA) & MASK64
        out.append((mix(state) >> 11) * 2.0 ** -53)
    return out


def masks(key, row, sizes, rates):
    """Per hidden layer, the row's mask: unit j of layer k draws the (o_k + j)-th double."""
    seed, epoch, step, partition = key
    hidden = sizes[1:-1]
    u = doubles(derive(seed, STREAM_DROPOUT, epoch, step, partition, row), sum(hidden))
    result = []
    offset = 0
    for k, width in enumerate(hidden):
        p = rates[k]
        result.append([0.0 if u[offset + j] < p else 1.0 / (1.0 - p) for j in range(width)])
        offset += width
    return result


def hand_example():
    """DropoutTest's hand-derived example: 2-3-1 at rate 0.5, key (10, 1, 2, 3), block rows 0 and 1."""
    for row in (0, 1):
        print("hand example row", row, "mask", masks((10, 1, 2, 3), row, [2, 3, 1], [0.5])[0])


def matvec(w, v):
    return [sum(w_ij * v_j for w_ij, v_j in zip(w_i, v)) for w_i in w]


def main():
    sizes = [3, 4, 3, 2]
    rates = [0.5, 0.25]
    key = (2026, 2, 7, 1)
    order = [3, 0, 4]
    rng = random.Random(12)
    rows = 5
    x = [[0.0 if rng.random() < 0.3 else round(rng.uniform(-1, 1), 6) for _ in range(sizes[0])] for _ in range(rows)]
    labels = [rng.randrange(sizes[-1]) for _ in range(rows)]
    y = [[1.0 if j == labels[r] else 0.0 for j in range(sizes[-1])] for r in range(rows)]
    wts = [round(rng.uniform(0.5, 2.0), 6) for _ in range(rows)]
    layers = []
    for k in range(len(sizes) - 1):
        n_in, n_out = sizes[k], sizes[k + 1]
        scale = math.sqrt(6.0 / (n_in + n_out))
        w = [[rng.uniform(-scale, scale) for _ in range(n_in)] for _ in range(n_out)]
        b = [rng.uniform(-0.2, 0.2) for _ in range(n_out)]
        layers.append((w, b))
    grads = [([[0.0] * sizes[k] for _ in range(sizes[k + 1])], [0.0] * sizes[k + 1]) for k in range(len(layers))]

    loss = 0.0
    outputs = []
    all_masks = [[] for _ in rates]
    for r in order:
        m = masks(key, r, sizes, rates)
        for k in range(len(rates)):
            all_masks[k].append(m[k])
        # Forward: a_k = W_k h̃_{k-1} + b_k; h_k = tanh(a_k); h̃_k = h_k ⊙ m_k; output softmax.
        inputs = [x[r]]
        hs = []
        v = x[r]
        for k, (w, b) in enumerate(layers):
            a = [s + b_j for s, b_j in zip(matvec(w, v), b)]
            if k < len(layers) - 1:
                h = [math.tanh(a_j) for a_j in a]
                hs.append(h)
                v = [h_j * m_j for h_j, m_j in zip(h, m[k])]
                inputs.append(v)
            else:
                top = max(a)
                e = [math.exp(a_j - top) for a_j in a]
                z = sum(e)
                p = [e_j / z for e_j in e]
                loss += wts[r] * (top + math.log(z) - sum(y_j * a_j for y_j, a_j in zip(y[r], a)))
                outputs.append(p)
                delta = [wts[r] * (p_j - y_j) for p_j, y_j in zip(p, y[r])]
        # Backward: ∇W_k += δ h̃_{k-1}ᵀ, ∇b_k += δ; g = W_kᵀ δ; δ = g ⊙ m_{k-1} ⊙ (1 - h_{k-1}²).
        for k in range(len(layers) - 1, -1, -1):
            w, _ = layers[k]
            gw, gb = grads[k]
            for i, d in enumerate(delta):
                gb[i] += d
                for j, h_j in enumerate(inputs[k]):
                    gw[i][j] += d * h_j
            if k > 0:
                g = [sum(w[i][j] * delta[i] for i in range(len(delta))) for j in range(len(inputs[k]))]
                delta = [g_j * m_j * (1.0 - h_j * h_j) for g_j, m_j, h_j in zip(g, m[k - 1], hs[k - 1])]

    def flat_params(ls):
        out = []
        for w, b in ls:
            for w_i in w:
                out.extend(w_i)
            out.extend(b)
        return out

    def line(name, values):
        return name + " " + " ".join(repr(float(v)) if isinstance(v, float) else str(v) for v in values)

    text = [
        "# Generated by gen_dropout.py; do not edit. See the script for the format.",
        line("sizes", sizes),
        line("rates", rates),
        line("key", list(key)),
        line("order", order),
        line("x", [v for row in x for v in row]),
        line("y", [v for row in y for v in row]),
        line("w", wts),
        line("params", flat_params(layers)),
    ]
    for k, m in enumerate(all_masks):
        text.append(line("mask%d" % k, [v for row in m for v in row]))
    text.append(line("output", [v for row in outputs for v in row]))
    text.append(line("loss", [loss]))
    text.append(line("grad", flat_params(grads)))
    path = pathlib.Path(__file__).with_name("dropout_golden.txt")
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    hand_example()


if __name__ == "__main__":
    main()
