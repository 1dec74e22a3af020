package io.sparkprop.bench.scale;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Synthetic measurements on {@code scripts/bench-scale}'s grid, timed by a cost model with known
 * coefficients: P in {2, 4, 8, 16, 32} on min(P, 8) one-core executors, three model sizes, k in
 * {1, 64} with Adam (2 state slots), both exchange kinds, with and without compute, 64 rows per
 * partition step, tree depth 2, on 8 cores and on a 2-core host ({@link #HOST_CORES}); and the
 * computing rounds once more at 16 rows per step on 8 cores, without which the per-row, per-update
 * and per-task-parameter compute terms could not be told apart (with one b, k = 1 and k = 64 give
 * two equations for three coefficients). Round and compute times get independent relative noise,
 * uniform in [-noise, noise], from a seeded stream. The counters are the counting formulas' (so the structure
 * check passes); the time breakdown columns are not modeled and hold 0.
 */
final class SyntheticRounds {

    static final int[] PARTITIONS = {2, 4, 8, 16, 32};
    static final long[] PARAMS = {235_146, 2_400_000, 24_000_000};
    static final int[] LOCAL_STEPS = {1, 64};
    static final int MAX_EXECUTORS = 8;
    static final int ROWS_PER_STEP = 64;
    static final int SMALL_ROWS_PER_STEP = 16;
    /**
     * Each configuration twice: on a cluster of 8 cores (a core per slot) and with the executors
     * sharing 2 cores, as the harness's workers on this machine's host do.
     */
    static final int[] HOST_CORES = {8, 2};

    private SyntheticRounds() {
    }

    /** Plausible coefficients for a small cluster, in each term's unit. */
    static Map<CostTerm, Double> plausible() {
        Map<CostTerm, Double> c = new EnumMap<>(CostTerm.class);
        c.put(CostTerm.ROW_PARAMS, 0.17);
        c.put(CostTerm.LOCAL_UPDATE, 2.0);
        c.put(CostTerm.STEP, 0.5);
        c.put(CostTerm.TASK_PARAMS, 20.0);
        c.put(CostTerm.ROUND, 8.0);
        c.put(CostTerm.STAGE, 3.0);
        c.put(CostTerm.TASK, 0.3);
        c.put(CostTerm.DRIVER_BYTES, 1.0);
        c.put(CostTerm.NETWORK_BYTES, 1.5);
        c.put(CostTerm.UPDATE, 0.5);
        return c;
    }

    static List<RoundConfig> grid() {
        List<RoundConfig> out = new ArrayList<>();
        for (long n : PARAMS) {
            for (int k : LOCAL_STEPS) {
                for (ExchangeKind kind : ExchangeKind.values()) {
                    for (boolean only : new boolean[] {false, true}) {
                        for (int p : PARTITIONS) {
                            int e = Math.min(p, MAX_EXECUTORS);
                            for (int host : HOST_CORES) {
                                out.add(new RoundConfig(kind, only, p, e, 1, n, k, 2, only ? 0 : ROWS_PER_STEP, 2,
                                        host));
                            }
                            if (!only) {
                                out.add(new RoundConfig(kind, false, p, e, 1, n, k, 2, SMALL_ROWS_PER_STEP, 2,
                                        HOST_CORES[0]));
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    /** The grid timed by {@code model}, with relative noise of at most {@code noise} from {@code seed}. */
    static List<Measurement> measure(CostModel model, double noise, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Measurement> out = new ArrayList<>();
        for (RoundConfig c : grid()) {
            RoundStructure s = RoundStructure.of(c);
            double compute = model.computeMs(c) * (1 + noise * (2 * random.nextDouble() - 1));
            double round = model.roundMs(c) * (1 + noise * (2 * random.nextDouble() - 1));
            out.add(new Measurement(c, round, compute, 0, 0, 0, s.stages(), s.tasks(), s.driverInBytes(),
                    s.driverOutBytes(), s.shuffleBytes(), s.shuffleBytes()));
        }
        return out;
    }
}
