package io.sparkprop.spark.train;

import static io.sparkprop.spark.train.DistributedTrainerTest.assertBitIdentical;
import static io.sparkprop.spark.train.DistributedTrainerTest.cache;
import static io.sparkprop.spark.train.DistributedTrainerTest.randomClassification;
import static io.sparkprop.spark.train.DistributedTrainerTest.sc;
import static io.sparkprop.spark.train.DistributedTrainerTest.settings;
import static io.sparkprop.spark.train.DistributedTrainerTest.split;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.GradientAccumulator;
import io.sparkprop.core.SplitMix64;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.config.TrainingConfig.Aggregation;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The reduce-scatter sums every element in the tree's order, so its weights are the tree's bit for
 * bit: for any partition count, depth and slice count, synchronous and local SGD, with a retried
 * task.
 */
class ReduceScatterTest {

    @AfterEach
    void disarmHooks() {
        System.clearProperty(StepFunction.FAIL_ONCE_AT_STEP);
    }

    /** A merge that records its bracket: not associative, so any change of order shows. */
    private static String bracket(String a, String b) {
        return "(" + a + "+" + b + ")";
    }

    /** Hand-derived brackets of Spark's treeAggregate shape ({@code scale = max(⌈P^(1/depth)⌉, 2)}). */
    @Test
    void theTreesOrderByHand() {
        List<String> eight = IntStream.range(0, 8).mapToObj(Integer::toString).toList();
        // depth 2: scale 3; 8 > 3 + 3, so one level of 8/3 = 2 groups (i mod 2), then the driver's fold.
        assertEquals("((((0+2)+4)+6)+(((1+3)+5)+7))",
                OrderedTreeAggregate.mergeAsTree(eight, ReduceScatterTest::bracket, 2));
        // depth 1: scale 8, no level: a fold in partition order.
        assertEquals("(((((((0+1)+2)+3)+4)+5)+6)+7)",
                OrderedTreeAggregate.mergeAsTree(eight, ReduceScatterTest::bracket, 1));
        // 5 partitions at depth 2: scale 3, 5 <= 3 + 2, no level; 6 > 3 + 2, a level of 2 groups.
        assertEquals("((((0+1)+2)+3)+4)", OrderedTreeAggregate.mergeAsTree(eight.subList(0, 5),
                ReduceScatterTest::bracket, 2));
        assertEquals("(((0+2)+4)+((1+3)+5))", OrderedTreeAggregate.mergeAsTree(eight.subList(0, 6),
                ReduceScatterTest::bracket, 2));
        assertEquals(2, OrderedTreeAggregate.driverResults(8, 2));
        assertEquals(5, OrderedTreeAggregate.driverResults(5, 2));
        assertEquals(2, OrderedTreeAggregate.driverResults(6, 2));
        // 32 at depth 2: scale 6; 32 > 6 + 6: 5 groups; 5 <= 6 + 1.
        assertEquals(5, OrderedTreeAggregate.driverResults(32, 2));
        assertEquals(32, OrderedTreeAggregate.driverResults(32, 1));
        assertThrows(IllegalArgumentException.class,
                () -> OrderedTreeAggregate.mergeAsTree(List.<String>of(), ReduceScatterTest::bracket, 2));
    }

    /** The simulation of the order is the order Spark's jobs merge in, level shuffles and all. */
    @Test
    void mergeAsTreeIsTheOrderOfTheSparkTree() {
        JavaSparkContext sc = sc();
        for (int depth = 1; depth <= 3; depth++) {
            for (int partitions : new int[] {1, 2, 5, 7, 8, 13, 17, 32}) {
                List<Integer> ids = IntStream.range(0, partitions).boxed().toList();
                JavaRDD<Integer> rdd = sc.parallelize(ids, partitions);
                String spark = OrderedTreeAggregate.aggregate(rdd, (p, it) -> Integer.toString(p),
                        ReduceScatterTest::bracket, depth);
                String simulated = OrderedTreeAggregate.mergeAsTree(ids.stream().map(Object::toString).toList(),
                        ReduceScatterTest::bracket, depth);
                assertEquals(spark, simulated, partitions + " partitions at depth " + depth);
            }
        }
    }

    /**
     * Random gradient sums with a spread of magnitudes (so additions round), summed both ways for
     * slice counts below, at and above the partition count and the parameter count.
     */
    @Test
    void anySliceCountGivesTheTreesBits() {
        JavaSparkContext sc = sc();
        int n = 37;
        for (int partitions : new int[] {3, 8, 16}) {
            JavaRDD<Integer> rdd = sc.parallelize(IntStream.range(0, partitions).boxed().toList(), partitions);
            OrderedTreeAggregate.PartitionFunction<Integer, TimedGradient> f = (p, it) -> {
                SplitMix64 random = new SplitMix64(100 + p);
                GradientAccumulator g = new GradientAccumulator(n);
                for (int i = 0; i < n; i++) {
                    g.gradSum()[i] = (random.nextDouble() - 0.5) * Math.pow(10, 8 * random.nextDouble());
                }
                return new TimedGradient(g, p);
            };
            GradientAccumulator tree = OrderedTreeAggregate.aggregate(rdd, f, TimedGradient::merge, 2).gradient;
            for (int slices : new int[] {1, partitions, n + 5}) {
                GradientAccumulator scattered = ReduceScatter.aggregate(rdd, f, TimedGradient.SLICING,
                        TimedGradient::merge, 2, slices).gradient;
                assertBitIdentical(tree.gradSum(), scattered.gradSum());
            }
            // A different order does change the last bits: the check above can fail.
            GradientAccumulator flat = OrderedTreeAggregate.aggregate(rdd, f, TimedGradient::merge, 1).gradient;
            if (partitions > 6) {
                assertFalse(java.util.Arrays.equals(tree.gradSum(), flat.gradSum()), partitions + " partitions");
            }
        }
    }

    /**
     * Whole runs, tree against reduce-scatter: synchronous SGD (gradients) and local SGD with Adam
     * (weights and two moments, averaged by weight), over partition counts with and without a
     * tree level, with sample weights and one partition whose rows all weigh 0.
     */
    @ParameterizedTest(name = "{0} partitions, k = {1}")
    @CsvSource({"3, 1", "3, 4", "7, 1", "7, 4", "16, 4"})
    void trainingGivesTheTreesBits(int partitions, int k) {
        JavaSparkContext sc = sc();
        DataBlock data = weighted(randomClassification(640, 81), partitions);
        List<DataBlock> parts = split(data, partitions);
        JavaRDD<DataBlock> blocks = cache(sc, parts);
        List<double[]> params = new ArrayList<>();
        for (String aggregation : List.of("tree", "reduce-scatter")) {
            TrainingConfig settings = settings("train.local-steps=" + k, "train.epochs=2",
                    "train.aggregation=" + aggregation);
            DistributedTrainer trainer = new DistributedTrainer(sc, settings, blocks, data.rows(), null);
            assertEquals(Aggregation.valueOf(aggregation.toUpperCase().replace('-', '_')), trainer.aggregation());
            params.add(trainer.train(m -> { }).params());
        }
        assertBitIdentical(params.get(0), params.get(1));
    }

    @Test
    void aRetriedTaskChangesNothing() {
        List<DataBlock> parts = split(randomClassification(400, 82), 5);
        TrainingConfig settings = settings("train.local-steps=3", "train.aggregation=reduce-scatter");
        double[] undisturbed = new DistributedTrainer(sc(), settings, cache(sc(), parts), 400, null).train(m -> { })
                .params();
        SparkTestSupport.stopShared();
        // Partition 0's first attempt of the round that starts at global step 3 throws in the map stage.
        SparkSession spark = SparkTestSupport.builder("local[2,4]").config(StepFunction.FAIL_ONCE_AT_STEP, "3")
                .getOrCreate();
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            assertBitIdentical(undisturbed, new DistributedTrainer(sc, settings, cache(sc, parts), 400, null)
                    .train(m -> { }).params());
        } finally {
            spark.stop();
        }
    }

    /**
     * Every exchange that shuffles (a reduce-scatter, or a tree with a level: 8 partitions at depth
     * 2) is a new shuffle; its files are removed when it returns, so a run keeps about one
     * exchange's files on disk (removal is asynchronous), not all of them: 24 synchronous steps
     * would otherwise leave 24 × P map outputs (until the driver's garbage collector finds them).
     */
    @ParameterizedTest(name = "{0} on {1} partitions")
    @CsvSource({"reduce-scatter, 4", "tree, 8"})
    void shuffleFilesDoNotAccumulateOverExchanges(String aggregation, int partitions) throws Exception {
        JavaSparkContext sc = sc();
        List<DataBlock> parts = split(randomClassification(960, 84), partitions);
        new DistributedTrainer(sc, settings("train.aggregation=" + aggregation, "train.epochs=1"), cache(sc, parts),
                960, null).train(m -> { });
        // Removal is asynchronous but quick: give it a second (the driver's collector could clean
        // them too, given time, which is what the check must not wait for).
        long files = 0;
        for (int wait = 0; wait < 10; wait++) {
            files = shuffleDataFiles();
            if (files <= 2 * partitions) {
                break;
            }
            Thread.sleep(100);
        }
        assertTrue(files <= 2 * partitions, files + " shuffle data files left after 24 exchanges on " + partitions
                + " partitions");
    }

    /** The shuffle map outputs ({@code shuffle_*.data}) in this JVM's block manager directories. */
    private static long shuffleDataFiles() throws java.io.IOException {
        long n = 0;
        for (java.io.File dir : org.apache.spark.SparkEnv.get().blockManager().diskBlockManager().localDirs()) {
            try (java.util.stream.Stream<java.nio.file.Path> walk = java.nio.file.Files.walk(dir.toPath())) {
                n += walk.filter(f -> f.getFileName().toString().matches("shuffle_\\d+_\\d+_\\d+\\.data")).count();
            }
        }
        return n;
    }

    /**
     * auto: the tree where the network saves nothing, the reduce-scatter where the driver would take
     * 3+ big results, the tree again for lazy updates (row-sparse results).
     */
    @Test
    void autoChoosesByClusterPartitionsAndSize() {
        long big = DistributedTrainer.AUTO_MIN_RESULT_BYTES;
        assertEquals(Aggregation.TREE, DistributedTrainer.resolve(Aggregation.AUTO, true, 32, 2, 100 * big, false));
        assertEquals(Aggregation.TREE, DistributedTrainer.resolve(Aggregation.AUTO, false, 2, 2, 100 * big, false));
        assertEquals(Aggregation.TREE, DistributedTrainer.resolve(Aggregation.AUTO, false, 8, 2, 100 * big, false));
        assertEquals(Aggregation.REDUCE_SCATTER, DistributedTrainer.resolve(Aggregation.AUTO, false, 3, 2, big, false));
        assertEquals(Aggregation.REDUCE_SCATTER, DistributedTrainer.resolve(Aggregation.AUTO, false, 32, 2, big, false));
        assertEquals(Aggregation.TREE, DistributedTrainer.resolve(Aggregation.AUTO, false, 32, 2, big - 1, false));
        assertEquals(Aggregation.TREE, DistributedTrainer.resolve(Aggregation.TREE, false, 32, 2, 100 * big, false));
        assertEquals(Aggregation.REDUCE_SCATTER,
                DistributedTrainer.resolve(Aggregation.REDUCE_SCATTER, true, 2, 2, 1, false));
        assertEquals(Aggregation.TREE, DistributedTrainer.resolve(Aggregation.AUTO, false, 32, 2, 100 * big, true));
        assertEquals(Aggregation.REDUCE_SCATTER,
                DistributedTrainer.resolve(Aggregation.REDUCE_SCATTER, false, 32, 2, 100 * big, true));
    }

    /** {@code data} with weights in [0, 2) and the rows of its first part ({@code parts} contiguous ones) at 0. */
    private static DataBlock weighted(DataBlock data, int parts) {
        SplitMix64 random = new SplitMix64(9);
        double[] w = new double[data.rows()];
        int firstPart = data.rows() / parts;
        for (int r = 0; r < w.length; r++) {
            w[r] = r < firstPart ? 0.0 : 2 * random.nextDouble();
        }
        return new DataBlock(data.rows(), data.numFeatures(), data.numTargets(), data.features(), data.targets(), w);
    }
}
