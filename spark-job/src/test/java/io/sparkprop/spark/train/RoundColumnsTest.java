package io.sparkprop.spark.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.EpochPlan;
import io.sparkprop.spark.SparkTestSupport;
import java.util.List;
import java.util.TreeSet;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

/**
 * {@link RoundColumns}: each round's rows are the union, over the partitions, of the columns of
 * the rows its steps take, computed here from the blocks, the epoch permutations and the slice
 * bounds directly; jobs cover a budget of rounds and the rounds are asked for in any order.
 */
class RoundColumnsTest {

    private static final int STEPS = 10;

    /** The expected rows of the round of {@code k} steps from {@code step}: the columns of every partition's slices. */
    private static int[] expected(List<DataBlock> parts, long seed, int epoch, int step, int k) {
        TreeSet<Integer> union = new TreeSet<>();
        for (int p = 0; p < parts.size(); p++) {
            DataBlock block = parts.get(p);
            int[] order = ExecutorCache.permutation(seed, epoch, p, block.rows());
            int from = EpochPlan.sliceStart(step, block.rows(), STEPS);
            int to = EpochPlan.sliceStart(Math.min(STEPS, step + k), block.rows(), STEPS);
            for (int i = from; i < to; i++) {
                int row = order[i];
                for (int q = block.rowStart()[row]; q < block.rowStart()[row + 1]; q++) {
                    union.add(block.columns()[q]);
                }
            }
        }
        return union.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void eachRoundGetsTheUnionOfItsPartitionsColumnsAJobForEveryFewRounds() {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
        List<DataBlock> parts = LazySparseTrainingTest.split(LazySparseTrainingTest.sparseData(5), 3);
        JavaRDD<DataBlock> blocks = DistributedTrainerTest.cache(sc, parts);
        int features = parts.get(0).numFeatures();
        // Rounds of 3 steps (the last of the 10 is 1 step); 2 rounds' bitsets a job.
        RoundColumns columns = new RoundColumns(blocks, 9, STEPS, 3, features, 2, 2L * (features / 8));
        for (int epoch = 0; epoch < 2; epoch++) {
            for (int step = 0; step < STEPS; step += 3) {
                int[] rows = columns.of(epoch, step);
                assertArrayEquals(expected(parts, 9, epoch, step, 3), rows, "epoch " + epoch + " step " + step);
                assertTrue(rows.length > 0 && rows.length < features, "a round uses some rows, not all");
            }
        }
        assertEquals(4, columns.jobs, "rounds 0-3 and 6-9 of each epoch, two a job");
        // Out of order (a rollback): asked again from there.
        assertArrayEquals(expected(parts, 9, 0, 3, 3), columns.of(0, 3));
        assertEquals(5, columns.jobs);
        assertArrayEquals(expected(parts, 9, 0, 6, 3), columns.of(0, 6), "the next round is in that job");
        assertEquals(5, columns.jobs);
    }

    @Test
    void denseBlocksCannotSayTheirColumns() {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
        JavaRDD<DataBlock> blocks = DistributedTrainerTest.cache(sc,
                DistributedTrainerTest.split(DistributedTrainerTest.randomClassification(60, 3), 2));
        RoundColumns columns = new RoundColumns(blocks, 9, STEPS, 2, 6, 2);
        Exception e = assertThrows(Exception.class, () -> columns.of(0, 0));
        assertTrue(String.valueOf(e.getMessage()).contains("dense blocks"), e.getMessage());
    }
}
