package io.sparkprop.bench.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The efficiency formula on cases worked by hand. */
class ScalingTest {

    /** Every coefficient 0 but the given ones. */
    private static CostModel model(Object... termsAndValues) {
        Map<CostTerm, Double> c = new EnumMap<>(CostTerm.class);
        for (CostTerm term : CostTerm.values()) {
            c.put(term, 0.0);
        }
        for (int i = 0; i < termsAndValues.length; i += 2) {
            c.put((CostTerm) termsAndValues[i], (Double) termsAndValues[i + 1]);
        }
        return new CostModel(c);
    }

    private static RoundConfig base(int localSteps, long params) {
        return new RoundConfig(ExchangeKind.TREE, false, 1, 1, 1, params, localSteps, 2, 1, 2, 1);
    }

    @ParameterizedTest(name = "{0} executors")
    @ValueSource(ints = {1, 16, 64, 256})
    void withNoOverheadWeakScalingIsPerfect(int executors) {
        CostModel m = model(CostTerm.ROW_PARAMS, 0.2, CostTerm.LOCAL_UPDATE, 2.0);
        Scaling.Point p = Scaling.weak(m, base(64, 235_146), executors, 1, 64);
        assertEquals(1.0, p.efficiency(), 1e-12);
        // P k b examples per round of compute(b) ms.
        assertEquals(executors * 64.0 * 64 / (m.computeMs(base(64, 235_146).at(1, 1, 64)) / 1000),
                p.examplesPerSecond(), 1e-6);
    }

    @Test
    void withNoOverheadAndNoPerStepCostStrongScalingIsPerfect() {
        // compute is proportional to rows, and 128 / 64 = 2 rows divide evenly.
        CostModel m = model(CostTerm.ROW_PARAMS, 0.2);
        assertEquals(1.0, Scaling.strong(m, base(64, 235_146), 64, 1, 128).efficiency(), 1e-12);
    }

    @Test
    void aPerTaskOverheadCostsWhatIsCountedByHand() {
        // N = 1e6, k = 10, b = 10 rows: 1e8 row-parameters at 1 ns = 100 ms of compute.
        // 64 executors, tree depth 2: scale 8, one level of 8 groups: 64 + 8 = 72 tasks at 0.1 ms = 7.2 ms.
        // Efficiency 100 / 107.2 = 0.93284; throughput 64 * 10 * 10 examples / 0.1072 s = 59,701.49/s.
        CostModel m = model(CostTerm.ROW_PARAMS, 1.0, CostTerm.TASK, 0.1);
        Scaling.Point p = Scaling.weak(m, base(10, 1_000_000), 64, 1, 10);
        assertEquals(107.2, p.roundMs(), 1e-9);
        assertEquals(100.0 / 107.2, p.efficiency(), 1e-12);
        assertEquals(6400 / 0.1072, p.examplesPerSecond(), 1e-6);
    }

    @Test
    void strongScalingPaysThePerStepCostOnEveryPartition() {
        // N = 1e6, k = 10, global batch 100, 1 ns per row-parameter and 1 ns per parameter-step:
        // one slot: 10 (100e6 + 1e6) ns = 1010 ms; 4 partitions of 25 rows: 10 (25e6 + 1e6) ns = 260 ms.
        // Efficiency 1010 / (4 * 260) = 0.971154; throughput 10 * 100 / 0.26 s = 3846.15/s.
        CostModel m = model(CostTerm.ROW_PARAMS, 1.0, CostTerm.LOCAL_UPDATE, 1.0);
        Scaling.Point p = Scaling.strong(m, base(10, 1_000_000), 4, 1, 100);
        assertEquals(25, p.rowsPerStep());
        assertEquals(260, p.roundMs(), 1e-9);
        assertEquals(1010.0 / 1040, p.efficiency(), 1e-12);
        assertEquals(1000 / 0.26, p.examplesPerSecond(), 1e-6);
    }

    @Test
    void twoCoresPerExecutorDoublePartitionsNotExecutors() {
        CostModel m = model(CostTerm.ROW_PARAMS, 1.0, CostTerm.NETWORK_BYTES, 1.0);
        Scaling.Point p = Scaling.weak(m, base(1, 1000), 16, 2, 8);
        assertEquals(16, p.executors());
        assertEquals(32, p.partitions());
    }
}
