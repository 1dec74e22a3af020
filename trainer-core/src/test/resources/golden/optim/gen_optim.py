#!/usr/bin/env python3
"""Independent reference for the optimizer and learning-rate-schedule golden test.

This script is the reference, not a port of the Java code: it implements the update formulas
directly from the papers (and PyTorch's AdamW ordering) in NumPy and imports nothing from sparkprop.
OptimGoldenTest only reads its committed output; the build never runs Python.

Regenerate (NumPy 2.x) and commit both files; it overwrites optim_golden.txt beside itself:

    python3 trainer-core/src/test/resources/golden/optim/gen_optim.py

Output format, one record per line, fields separated by single spaces, every float written with
repr() so that it round-trips exactly to a Java double:

    paramCount N
    decayRanges s0 e0 s1 e1 ...            half-open weight ranges; the other parameters are biases
    init p_0 ... p_{N-1}                   parameters before the first step
    grad k g_0 ... g_{N-1}                 the gradient of step k = 0, 1, ...
    schedule NAME kind=K base=B warmup=W period=P gamma=G min=M
    rates r_0 ... r_40                     rate(step) for step = 0..40 of the schedule above
    case NAME optimizer=O mu=U beta1=B1 beta2=B2 eps=E wd=D ranges=weights|all schedule=NAME
    step k lr p_0 ... p_{N-1}              the rate used by step k, and the parameters after it

Lines starting with '#' are comments.
"""
import math
import pathlib

import numpy as np

PARAM_COUNT = 7
# A 2-1-2 network: layer 0 weights [0, 2), bias 2; layer 1 weights [3, 5), biases 5 and 6.
DECAY_RANGES = [0, 2, 3, 5]
NUM_STEPS = 25
NUM_RATES = 41


def schedule_rate(sched, step):
    """Rate for the update after `step` updates: linear warm-up, then the main schedule on s."""
    base, warmup, period = sched["base"], sched["warmup"], sched["period"]
    if step < warmup:
        return base * (step + 1) / warmup
    s = step - warmup
    kind = sched["kind"]
    if kind == "constant":
        return base
    if kind == "step":
        return base * sched["gamma"] ** (s // period)
    if kind == "exponential":
        return base * sched["gamma"] ** (s / period)
    if kind == "cosine":
        lo = sched["min"]
        return lo + 0.5 * (base - lo) * (1.0 + math.cos(math.pi * min(s, period) / period))
    raise ValueError(kind)


def decay_mask(ranges):
    mask = np.zeros(PARAM_COUNT, dtype=bool)
    for start, end in zip(ranges[0::2], ranges[1::2]):
        mask[start:end] = True
    return mask


def run_case(case, schedules, init, grads):
    """Returns [(lr, params after step k)] for every step k."""
    p = init.copy()
    m = np.zeros(PARAM_COUNT)  # momentum velocity, or Adam's first moment
    v = np.zeros(PARAM_COUNT)  # Adam's second moment
    mask = decay_mask(DECAY_RANGES if case["ranges"] == "weights" else [0, PARAM_COUNT])
    out = []
    for k, g in enumerate(grads):
        lr = schedule_rate(schedules[case["schedule"]], k)
        # Decoupled weight decay first (Loshchilov & Hutter 2019, as torch.optim.AdamW does it).
        if case["wd"] != 0.0:
            p = np.where(mask, p * (1.0 - lr * case["wd"]), p)
        opt = case["optimizer"]
        if opt == "sgd":
            p = p - lr * g
        elif opt == "momentum":  # Goodfellow et al., Deep Learning, Alg. 8.2
            m = case["mu"] * m - lr * g
            p = p + m
        elif opt == "nesterov":  # Bengio et al. 2013: gradient at theta only, new velocity
            m = case["mu"] * m - lr * g
            p = p + case["mu"] * m - lr * g
        elif opt == "adam":  # Kingma & Ba 2015, Algorithm 1
            t = k + 1
            b1, b2 = case["beta1"], case["beta2"]
            m = b1 * m + (1.0 - b1) * g
            v = b2 * v + (1.0 - b2) * (g * g)
            m_hat = m / (1.0 - b1 ** t)
            v_hat = v / (1.0 - b2 ** t)
            p = p - lr * m_hat / (np.sqrt(v_hat) + case["eps"])
        else:
            raise ValueError(opt)
        out.append((lr, p.copy()))
    return out


def fmt(values):
    return " ".join(repr(float(x)) for x in values)


def main():
    rng = np.random.default_rng(20240607)
    init = rng.standard_normal(PARAM_COUNT)
    # Per-parameter scales from 1e-3 to 100 so Adam's scale invariance and epsilon both show.
    scales = np.array([1.0, 0.01, 3.0, 1.0, 100.0, 0.5, 1e-3])
    grads = rng.standard_normal((NUM_STEPS, PARAM_COUNT)) * scales
    grads[0, 3] = 0.0  # a zero gradient on Adam's first step: m = v = 0, no move
    grads[4, 1] = 0.0

    def sched(kind, base, warmup=0, period=1, gamma=1.0, lo=0.0):
        return {"kind": kind, "base": base, "warmup": warmup, "period": period, "gamma": gamma, "min": lo}

    schedules = {
        "constant": sched("constant", 0.05),
        "constant_warm4": sched("constant", 0.05, warmup=4),
        "step": sched("step", 0.1, period=7, gamma=0.5),
        "step_warm3": sched("step", 0.1, warmup=3, period=7, gamma=0.5),
        "exponential": sched("exponential", 0.1, period=10, gamma=0.5),
        "exponential_warm5": sched("exponential", 0.1, warmup=5, period=10, gamma=0.5),
        "cosine": sched("cosine", 0.1, period=20),
        "cosine_warm3": sched("cosine", 0.1, warmup=3, period=20),
        "cosine_warm3_min": sched("cosine", 0.1, warmup=3, period=20, lo=0.001),
        "adam_cosine_warm3": sched("cosine", 0.01, warmup=3, period=20),
        "adam_constant": sched("constant", 0.01),
        "adam_step": sched("step", 0.02, period=5, gamma=0.7),
        "adam_exponential_warm2": sched("exponential", 0.01, warmup=2, period=8, gamma=0.3),
    }

    def case(optimizer, schedule, mu=0.0, beta1=0.9, beta2=0.999, eps=1e-8, wd=0.0, ranges="weights"):
        return {"optimizer": optimizer, "schedule": schedule, "mu": mu, "beta1": beta1, "beta2": beta2,
                "eps": eps, "wd": wd, "ranges": ranges}

    cases = {
        "sgd": case("sgd", "cosine_warm3"),
        "momentum": case("momentum", "step", mu=0.9),
        "nesterov": case("nesterov", "exponential", mu=0.9),
        "adam": case("adam", "adam_cosine_warm3"),
        "adam_small_betas": case("adam", "adam_constant", beta1=0.5, beta2=0.75, eps=1e-6),
        "adamw": case("adam", "adam_cosine_warm3", wd=0.1),
        "adamw_all_ranges": case("adam", "adam_exponential_warm2", beta1=0.5, beta2=0.75, eps=1e-6, wd=0.3,
                                 ranges="all"),
        "sgd_wd": case("sgd", "step_warm3", wd=0.1),
        "sgd_wd_all_ranges": case("sgd", "constant", wd=0.2, ranges="all"),
        "momentum_wd": case("momentum", "cosine_warm3_min", mu=0.9, wd=0.05),
        "nesterov_wd": case("nesterov", "exponential_warm5", mu=0.9, wd=0.05),
        "adam_step": case("adam", "adam_step", beta1=0.8, beta2=0.99, eps=1e-7),
    }

    out_path = pathlib.Path(__file__).with_name("optim_golden.txt")
    with open(out_path, "w", encoding="utf-8", newline="\n") as out:
        def emit(line):
            out.write(line + "\n")

        emit("# Written by gen_optim.py (the independent NumPy reference); do not edit by hand.")
        emit(f"# numpy {np.__version__}")
        emit(f"paramCount {PARAM_COUNT}")
        emit("decayRanges " + " ".join(str(r) for r in DECAY_RANGES))
        emit("init " + fmt(init))
        for k, g in enumerate(grads):
            emit(f"grad {k} " + fmt(g))
        for name, s in schedules.items():
            emit(f"schedule {name} kind={s['kind']} base={s['base']!r} warmup={s['warmup']} "
                 f"period={s['period']} gamma={s['gamma']!r} min={s['min']!r}")
            emit("rates " + fmt(schedule_rate(s, step) for step in range(NUM_RATES)))
        for name, c in cases.items():
            emit(f"case {name} optimizer={c['optimizer']} mu={c['mu']!r} beta1={c['beta1']!r} "
                 f"beta2={c['beta2']!r} eps={c['eps']!r} wd={c['wd']!r} ranges={c['ranges']} "
                 f"schedule={c['schedule']}")
            for k, (lr, p) in enumerate(run_case(c, schedules, init, grads)):
                emit(f"step {k} {lr!r} " + fmt(p))


if __name__ == "__main__":
    main()
