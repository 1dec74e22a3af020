package io.sparkprop.spark.train;

import static io.sparkprop.spark.train.DistributedTrainerTest.assertBitIdentical;
import static io.sparkprop.spark.train.DistributedTrainerTest.cache;
import static io.sparkprop.spark.train.DistributedTrainerTest.randomClassification;
import static io.sparkprop.spark.train.DistributedTrainerTest.sc;
import static io.sparkprop.spark.train.DistributedTrainerTest.settings;
import static io.sparkprop.spark.train.DistributedTrainerTest.split;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.EpochPlan;
import io.sparkprop.core.LocalTrainer;
import io.sparkprop.core.WeightInit;
import io.sparkprop.spark.config.TrainingConfig;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code train.exchange-precision = float32}: what crosses the network is rounded to float, the
 * driver's master weights stay double, and the run is as reproducible as in float64.
 */
class WirePrecisionTest {

    private static final int ROWS = 320;
    private static final DataBlock DATA = randomClassification(ROWS, 83);

    /**
     * By hand: one partition and one round per epoch (k = 100 > 8 steps). The task starts from the
     * initial weights rounded to float (Adam's zero moments round to themselves), takes the epoch's
     * steps in double, and sends its weights back rounded to float; a single partition's "average"
     * is its own values. So the model is the core's one-epoch training from the rounded initial
     * weights, rounded.
     */
    @Test
    void onePartitionOneRoundIsTheCoresEpochFromRoundedWeightsRounded() {
        JavaSparkContext sc = sc();
        TrainingConfig settings = settings("train.local-steps=100", "train.epochs=1",
                "train.exchange-precision=float32");
        double[] distributed = new DistributedTrainer(sc, settings, cache(sc, List.of(DATA)), ROWS, null)
                .train(m -> { }).params();
        double[] start = rounded(WeightInit.initialize(settings.spec(), settings.optimization().seed()));
        LocalTrainer local = new LocalTrainer(settings.spec(), new LocalTrainer.Settings(
                settings.optimization().batchSize(), 1, settings.optimization().seed(), settings.optimization().l2(),
                settings.optimization().clipNorm()), settings.optimization().newOptimizer(settings.spec()),
                settings.optimization().schedule(EpochPlan.stepsPerEpoch(ROWS, settings.optimization().batchSize())));
        assertBitIdentical(rounded(local.fit(DATA, start).params()), distributed);
        for (double w : distributed) {
            assertEquals(w, (double) (float) w, 0.0, "every weight crossed as a float");
        }
    }

    /**
     * Synchronous SGD and local SGD with Adam on 7 partitions (a tree level at depth 2): tree and
     * reduce-scatter agree bit for bit in float32 too, a second run repeats the bits, and the run
     * differs from float64's, but only by rounding: within 1e-3 relative (a loose sanity bound;
     * each exchange rounds at 2^-24 ≈ 6e-8 relative, over 2 epochs of 8 steps).
     */
    @ParameterizedTest(name = "k = {0}")
    @ValueSource(ints = {1, 4})
    void float32IsReproducibleAgreesAcrossAggregationsAndIsCloseToFloat64(int k) {
        JavaSparkContext sc = sc();
        JavaRDD<DataBlock> blocks = cache(sc, split(DATA, 7));
        List<double[]> float32 = new ArrayList<>();
        for (String aggregation : List.of("tree", "reduce-scatter", "tree")) {
            float32.add(new DistributedTrainer(sc, settings("train.local-steps=" + k, "train.epochs=2",
                    "train.exchange-precision=float32", "train.aggregation=" + aggregation), blocks, ROWS, null)
                    .train(m -> { }).params());
        }
        assertBitIdentical(float32.get(0), float32.get(1));
        assertBitIdentical(float32.get(0), float32.get(2));
        double[] float64 = new DistributedTrainer(sc, settings("train.local-steps=" + k, "train.epochs=2"), blocks,
                ROWS, null).train(m -> { }).params();
        assertFalse(java.util.Arrays.equals(float64, float32.get(0)), "float32 takes effect");
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < float64.length; i++) {
            diff += (float64[i] - float32.get(0)[i]) * (float64[i] - float32.get(0)[i]);
            norm += float64[i] * float64[i];
        }
        assertTrue(Math.sqrt(diff / norm) < 1e-3, "relative difference " + Math.sqrt(diff / norm));
    }

    /** Half the bytes each way: the partitions' results and the broadcast weights. */
    @Test
    void float32HalvesTheBytesIntoAndOutOfTheDriver() {
        JavaSparkContext sc = sc();
        JavaRDD<DataBlock> blocks = cache(sc, split(DATA, 2));
        List<ExchangeCosts> costs = new ArrayList<>();
        for (String precision : List.of("float64", "float32")) {
            List<EpochMetrics> seen = new ArrayList<>();
            new DistributedTrainer(sc, settings("model.layers=6,64,64,4", "train.local-steps=1", "train.epochs=1",
                    "train.exchange-precision=" + precision), blocks, ROWS, null).train(seen::add);
            costs.add(seen.get(0).stepTimes().costs());
        }
        double n = settings("model.layers=6,64,64,4").spec().paramCount();
        // Two results of n values each: 8 or 4 bytes a value, plus under 6 KiB of framing a task
        // (ExchangeCostsTest derives it).
        assertTrue(costs.get(0).driverInBytes() >= 2 * 8 * n, costs.get(0).toString());
        assertTrue(costs.get(1).driverInBytes() >= 2 * 4 * n
                && costs.get(1).driverInBytes() <= 2 * (4 * n + 6 * 1024), costs.get(1).toString());
        // One copy of the weights: 8 or 4 bytes a value, LZ4's worst case at most 1/255 more plus headers.
        assertTrue(costs.get(1).broadcastBytes() <= 4 * n * 256 / 255 + 1024, costs.get(1).toString());
        assertTrue(costs.get(0).broadcastBytes() >= 6.5 * n, costs.get(0).toString());
    }

    private static double[] rounded(double[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }
}
