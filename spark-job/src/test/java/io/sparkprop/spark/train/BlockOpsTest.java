package io.sparkprop.spark.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.DataBlock;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

/** Standardization statistics and the hold-out split on cached blocks. */
class BlockOpsTest {

    @Test
    void standardizationUsesTheMeanAndPopulationDeviationOfAllTrainingRows() {
        JavaSparkContext sc = DistributedTrainerTest.sc();
        // Feature 0: 1, 2, 3, 6 -> mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5. Feature 1: constant 7 -> scale 1.
        DataBlock a = new DataBlock(2, 2, 1, new double[] {1, 7, 2, 7}, new double[] {0, 1}, null);
        DataBlock b = new DataBlock(2, 2, 1, new double[] {3, 7, 6, 7}, new double[] {0, 1}, null);
        JavaRDD<DataBlock> blocks = DistributedTrainerTest.cache(sc, List.of(a, b));
        BlockOps.Scaling scaling = BlockOps.fitStandardization(blocks, 2, List.of());
        assertArrayEquals(new double[] {3, 7}, scaling.shift(), 1e-15);
        assertArrayEquals(new double[] {Math.sqrt(3.5), 1}, scaling.scale(), 1e-15);
        DataBlock scaled = BlockOps.scaleBlock(b, scaling);
        assertArrayEquals(new double[] {0, 0, 3 / Math.sqrt(3.5), 0}, scaled.features(), 1e-15);
        assertArrayEquals(new double[] {3, 7, 6, 7}, b.features(), 0.0);
    }

    @Test
    void aConstantFeatureIsLeftUnscaledAtZeroWhateverTheRoundingOfItsMean() {
        JavaSparkContext sc = DistributedTrainerTest.sc();
        // Feature 1 is 0.1 on every row. Its sum in partition order, (0.1 + 0.1) + 0.1, is
        // 0.30000000000000004, and / 3 is 0.10000000000000002: a deviation of 1.4e-17 from rounding
        // alone, which used to become the scale and turn the column into -1 everywhere. A constant
        // column (min = max) is shifted by its value and scaled by 1, as scikit-learn's and Spark's
        // StandardScaler leave it: every row becomes exactly 0.
        DataBlock a = new DataBlock(2, 2, 1, new double[] {1, 0.1, 2, 0.1}, new double[] {0, 1}, null);
        DataBlock b = new DataBlock(1, 2, 1, new double[] {6, 0.1}, new double[] {0}, null);
        BlockOps.Scaling scaling = BlockOps.fitStandardization(DistributedTrainerTest.cache(sc, List.of(a, b)), 2,
                List.of());
        assertEquals(0.1, scaling.shift()[1], 0.0);
        assertEquals(1.0, scaling.scale()[1], 0.0);
        assertArrayEquals(new double[] {0, 0}, new double[] {BlockOps.scaleBlock(a, scaling).features()[1],
                BlockOps.scaleBlock(b, scaling).features()[1]}, 0.0);
        // Feature 0: 1, 2, 6 -> mean 3, population variance (4 + 1 + 9) / 3 = 14 / 3.
        assertEquals(3.0, scaling.shift()[0], 0.0);
        assertEquals(Math.sqrt(14.0 / 3), scaling.scale()[0], 1e-15);
    }

    @Test
    void aStatisticThatOverflowsIsAnErrorNamingTheFeatureTheStatisticAndItsValue() {
        JavaSparkContext sc = DistributedTrainerTest.sc();
        // Feature 1 ('big'): 1e308 + 1.5e308 overflows, so its mean is Infinity. (A constant 1e308 would be
        // fine: a constant column's shift is its value, without a sum.)
        DataBlock big = new DataBlock(2, 2, 1, new double[] {1, 1e308, 2, 1.5e308}, new double[] {0, 1}, null);
        IllegalArgumentException mean = assertThrows(IllegalArgumentException.class, () -> BlockOps.fitStandardization(
                DistributedTrainerTest.cache(sc, List.of(big)), 2, List.of("small", "big")));
        assertTrue(mean.getMessage().contains("feature 1 ('big')") && mean.getMessage().contains("mean")
                && mean.getMessage().contains("Infinity") && mean.getMessage().contains("data.scaling"),
                mean.getMessage());
        // Feature 0: 1e200 and -1e200 have mean 0 but squares of 1e400: the deviation is Infinity.
        DataBlock wide = new DataBlock(2, 1, 1, new double[] {1e200, -1e200}, new double[] {0, 1}, null);
        IllegalArgumentException sd = assertThrows(IllegalArgumentException.class, () -> BlockOps.fitStandardization(
                DistributedTrainerTest.cache(sc, List.of(wide)), 1, List.of()));
        assertTrue(sd.getMessage().contains("feature 0") && sd.getMessage().contains("standard deviation")
                && sd.getMessage().contains("Infinity"), sd.getMessage());
    }

    @Test
    void holdOutSplitsEveryRowOnceAndTheSameWayEveryTime() {
        JavaSparkContext sc = DistributedTrainerTest.sc();
        List<DataBlock> parts = DistributedTrainerTest.split(DistributedTrainerTest.randomClassification(1000, 3), 3);
        List<JavaRDD<DataBlock>> first = BlockOps.holdOut(DistributedTrainerTest.cache(sc, parts), 0.2, 11);
        List<JavaRDD<DataBlock>> second = BlockOps.holdOut(DistributedTrainerTest.cache(sc, parts), 0.2, 11);
        long train = first.get(0).map(DataBlock::rows).reduce(Integer::sum);
        long held = first.get(1).map(DataBlock::rows).reduce(Integer::sum);
        assertEquals(1000, train + held);
        assertTrue(held > 150 && held < 250, "held out " + held);
        List<double[]> a = first.get(1).map(DataBlock::features).collect();
        List<double[]> b = second.get(1).map(DataBlock::features).collect();
        assertEquals(a.size(), b.size());
        for (int p = 0; p < a.size(); p++) {
            assertArrayEquals(a.get(p), b.get(p), 0.0);
        }
        // No row is in both parts: the first feature of each row is unique in random data.
        List<Double> trainFirst = firstFeatures(first.get(0).map(DataBlock::features).collect());
        List<Double> heldFirst = firstFeatures(a);
        trainFirst.retainAll(heldFirst);
        assertTrue(trainFirst.isEmpty());
    }

    private static List<Double> firstFeatures(List<double[]> blocks) {
        List<Double> out = new ArrayList<>();
        for (double[] x : blocks) {
            for (int r = 0; r < x.length; r += 6) {
                out.add(x[r]);
            }
        }
        return out;
    }
}
