package io.sparkprop.spark.train;

import static io.sparkprop.spark.train.DistributedTrainerTest.assertBitIdentical;
import static io.sparkprop.spark.train.DistributedTrainerTest.cache;
import static io.sparkprop.spark.train.DistributedTrainerTest.sc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.EvaluationSums;
import io.sparkprop.core.SplitMix64;
import io.sparkprop.spark.config.ConfigException;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Sparse input through the distributed trainer ({@code data.sparse = true}): the trainer computes
 * with the first layer feature-major and hands back the model's layout, and
 * {@code train.sparse-update = lazy} is DENSE's bits where the maths says so, reproducible, and
 * resumes bit-exactly.
 */
class LazySparseTrainingTest {

    private static final int FEATURES = 300;
    private static final int ROWS = 480;

    /**
     * 300 features, 6 nonzeros a row from the first 60 (240 never used), the class by which
     * third of [0, 60) holds most of a row's first three nonzeros.
     */
    static DataBlock sparseData(long seed) {
        int[] start = new int[ROWS + 1];
        int[] columns = new int[ROWS * 6];
        double[] values = new double[ROWS * 6];
        double[] targets = new double[ROWS * 3];
        SplitMix64 random = new SplitMix64(seed);
        for (int r = 0; r < ROWS; r++) {
            int label = random.nextInt(3);
            java.util.TreeMap<Integer, Double> row = new java.util.TreeMap<>();
            while (row.size() < 3) {
                row.put(label * 20 + random.nextInt(20), 1.0);
            }
            while (row.size() < 6) {
                row.put(random.nextInt(60), random.nextDouble());
            }
            int p = 6 * r;
            for (var e : row.entrySet()) {
                columns[p] = e.getKey();
                values[p++] = e.getValue();
            }
            start[r + 1] = 6 * r + 6;
            targets[3 * r + label] = 1.0;
        }
        return DataBlock.sparse(ROWS, FEATURES, 3, start, columns, values, targets, null);
    }

    static TrainingConfig settings(String... overrides) {
        List<String> all = new ArrayList<>(List.of("model.layers=300,8,3", "model.hidden-activation=tanh",
                "train.batch-size=48", "train.epochs=2", "train.seed=9", "train.learning-rate=0.05",
                "data.sparse=true", "data.scaling=none"));
        all.addAll(List.of(overrides));
        return TrainingConfig.from(JobConfig.defaults().withOverrides(all));
    }

    static List<DataBlock> split(DataBlock data, int parts) {
        List<DataBlock> out = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            int from = p * data.rows() / parts;
            int to = (p + 1) * data.rows() / parts;
            int[] order = new int[to - from];
            for (int i = 0; i < order.length; i++) {
                order[i] = from + i;
            }
            out.add(data.select(order, 0, order.length));
        }
        return out;
    }

    private static double[] train(JavaRDD<DataBlock> blocks, String... overrides) {
        return new DistributedTrainer(sc(), settings(overrides), blocks, ROWS, null).train(m -> { }).params();
    }

    /**
     * Plain SGD without L2 or decay, synchronous steps: lazy and dense updates give the same bits,
     * by tree and by reduce-scatter (whose slices carry the touched rows).
     */
    @ParameterizedTest(name = "{0}, clip {1}")
    @CsvSource({"tree, 0", "reduce-scatter, 0.5"})
    void lazySgdIsDenseSgdStepByStep(String aggregation, double clip) {
        JavaRDD<DataBlock> blocks = cache(sc(), split(sparseData(3), 3));
        String[] common = {"train.optimizer=sgd", "train.local-steps=1", "train.aggregation=" + aggregation,
            "train.clip-norm=" + clip};
        double[] dense = train(blocks, concat(common, "train.sparse-update=dense"));
        double[] lazy = train(blocks, concat(common, "train.sparse-update=lazy"));
        assertBitIdentical(dense, lazy);
    }

    /**
     * Synchronous lazy steps over cached blocks pull the rows their slices use and return their
     * sums row-sparse, from a working set; the test hook sends the whole weights and takes dense
     * sums back instead. Adam with L2 and clipping, by tree and by reduce-scatter (whose slices are
     * cut from the dense form), in float64 and on the float32 wire: the same bits.
     */
    @ParameterizedTest(name = "{0}, {1}")
    @CsvSource({"tree, float64", "reduce-scatter, float64", "tree, float32"})
    void synchronousLazyStepsShipRowSparseSumsWithTheDenseSumsBits(String aggregation, String wire) {
        JavaRDD<DataBlock> blocks = cache(sc(), split(sparseData(4), 3));
        String[] lazy = {"train.optimizer=adam", "train.local-steps=1", "train.aggregation=" + aggregation,
            "train.exchange-precision=" + wire, "train.l2=0.001", "train.clip-norm=0.5", "train.sparse-update=lazy"};
        double[] pulled = train(blocks, lazy);
        System.setProperty(DistributedTrainer.LAZY_BASE_PROPERTY, "true");
        double[] whole;
        try {
            whole = train(blocks, lazy);
        } finally {
            System.clearProperty(DistributedTrainer.LAZY_BASE_PROPERTY);
        }
        assertBitIdentical(whole, pulled);
        assertNotEquals(whole[0], train(blocks, concat(lazy, "train.sparse-update=dense"))[0], "lazy Adam is not Adam");
    }

    /**
     * Local SGD: every partition's SGD steps are dense's bits, but a lazy round averages the
     * partitions' changes ({@code start + Σ ω d / Σ ω}), dense rounds their weights: the same
     * number, rounded differently. The row-sparse and the dense form of the changes give the same
     * bits (forced through the test hook), by tree and by reduce-scatter, which ships dense slices,
     * and on the float32 wire (which rounds a row-sparse change in place, a dense one to floats).
     */
    @ParameterizedTest(name = "{0}, {1}")
    @CsvSource({"tree, float64", "reduce-scatter, float64", "tree, float32"})
    void lazyRoundsAverageChangesAndTheirRowSparseFormIsTheDenseFormsBits(String aggregation, String wire) {
        JavaRDD<DataBlock> blocks = cache(sc(), split(sparseData(3), 3));
        String[] common = {"train.optimizer=sgd", "train.local-steps=4", "train.aggregation=" + aggregation,
            "train.exchange-precision=" + wire};
        double[] dense = train(blocks, concat(common, "train.sparse-update=dense"));
        List<double[]> lazy = new ArrayList<>();
        for (String fraction : List.of("1.0", "0.0", "0.5")) {
            System.setProperty(RoundResult.DENSE_FRACTION_PROPERTY, fraction);
            try {
                lazy.add(train(blocks, concat(common, "train.sparse-update=lazy")));
            } finally {
                System.clearProperty(RoundResult.DENSE_FRACTION_PROPERTY);
            }
        }
        assertBitIdentical(lazy.get(0), lazy.get(1));
        assertBitIdentical(lazy.get(0), lazy.get(2));
        if (wire.equals("float32")) {
            return; // dense rounds the weights to float, lazy the changes: another run, not a rounding of it
        }
        for (int i = 0; i < dense.length; i++) {
            assertEquals(dense[i], lazy.get(0)[i], 1e-12 * Math.max(1, Math.abs(dense[i])), "parameter " + i);
        }
    }

    /**
     * The float32 wire halves what lazy exchanges bring into the driver: a round's row-sparse
     * change and a synchronous step's row-sparse sums travel as floats (they were rounded in place
     * and shipped as doubles): at most half the float64 bytes plus the tasks' framing (under 6 KiB
     * a task, {@code ExchangeCostsTest}).
     */
    @ParameterizedTest(name = "local steps {0}")
    @CsvSource({"4", "1"})
    void theFloat32WireHalvesTheBytesOfRowSparseResults(int localSteps) {
        JavaRDD<DataBlock> blocks = cache(sc(), split(sparseData(3), 3));
        List<Double> driverIn = new ArrayList<>();
        for (String wire : List.of("float64", "float32")) {
            List<EpochMetrics> seen = new ArrayList<>();
            new DistributedTrainer(sc(), settings("model.layers=300,64,3", "train.sparse-update=lazy",
                    "train.local-steps=" + localSteps, "train.epochs=1", "train.exchange-precision=" + wire),
                    blocks, ROWS, null).train(seen::add);
            driverIn.add(seen.get(0).stepTimes().costs().driverInBytes());
        }
        assertTrue(driverIn.get(0) > 3 * 2 * 6 * 1024, "enough values to tell: " + driverIn);
        assertTrue(driverIn.get(1) <= driverIn.get(0) / 2 + 3 * 6 * 1024, "float64, float32 bytes: " + driverIn);
    }

    /**
     * The trainer's arrays are the model's layout: a sparse run equals the same data's dense run
     * within rounding (the first layer's products differ: nonzeros against BLAS), never a transpose.
     */
    @Test
    void aSparseRunReturnsTheModelsLayout() {
        DataBlock sparse = sparseData(4);
        double[] x = new double[ROWS * FEATURES];
        for (int r = 0; r < ROWS; r++) {
            for (int p = sparse.rowStart()[r]; p < sparse.rowStart()[r + 1]; p++) {
                x[r * FEATURES + sparse.columns()[p]] = sparse.values()[p];
            }
        }
        DataBlock dense = new DataBlock(ROWS, FEATURES, 3, x, sparse.targets(), null);
        double[] fromSparse = train(cache(sc(), split(sparse, 2)), "train.optimizer=sgd", "train.local-steps=4");
        TrainingConfig denseSettings = settings("train.optimizer=sgd", "train.local-steps=4", "data.sparse=false");
        double[] fromDense = new DistributedTrainer(sc(), denseSettings, cache(sc(), split(dense, 2)), ROWS, null)
                .train(m -> { }).params();
        for (int i = 0; i < fromDense.length; i++) {
            assertEquals(fromDense[i], fromSparse[i], 1e-10, "parameter " + i);
        }
    }

    /**
     * Lazy Adam: reproducible, different from dense Adam, learns, and a run checkpointed after
     * epoch 1 and resumed gives the uninterrupted run's bits (checkpoints hold the model's layout).
     */
    @Test
    void lazyAdamIsReproducibleLearnsAndResumesBitExactly() {
        JavaSparkContext sc = sc();
        JavaRDD<DataBlock> blocks = cache(sc, split(sparseData(5), 2));
        String[] lazy = {"train.optimizer=adam", "train.local-steps=4", "train.sparse-update=lazy", "train.l2=0.001"};
        double[] first = train(blocks, lazy);
        assertBitIdentical(first, train(blocks, lazy));
        assertNotEquals(first[0], train(blocks, "train.optimizer=adam", "train.local-steps=4", "train.l2=0.001")[0]);

        TrainingConfig settings = settings(lazy);
        EvaluationSums sums = new DistributedTrainer(sc, settings, blocks, ROWS, null).evaluate(blocks, first, "eval");
        assertTrue(sums.accuracy() > 0.6, "training accuracy " + sums.accuracy());

        List<TrainingState> saved = new ArrayList<>();
        DistributedTrainer.Checkpoints keep = keepAll(saved);
        TrainingConfig oneEpoch = settings(concat(lazy, "train.epochs=1"));
        DistributedTrainer shortRun = new DistributedTrainer(sc, oneEpoch, blocks, ROWS, null);
        shortRun.train(shortRun.initialState(), keep, m -> { });
        TrainingState afterEpoch1 = saved.get(saved.size() - 1);
        DistributedTrainer resumed = new DistributedTrainer(sc, settings, blocks, ROWS, null);
        assertBitIdentical(first, resumed.train(afterEpoch1, DistributedTrainer.NO_CHECKPOINTS, m -> { }).params());
    }

    /**
     * A round's pull (the rows its partitions use, named by the executors ahead of the round) and
     * the row updates over a base are both caches of the driver's arrays: pulls, a new base every
     * round and a base never renewed (past the default threshold) give the same bits. Rounds of 3
     * steps over 10-step epochs, so the last round of each epoch is shorter, and rounds of 4 from a
     * resume in the middle of an epoch (at step 8: the driver asks for the columns from there).
     */
    @Test
    void pullsAndRowUpdatesGiveTheBitsOfANewBaseEveryRound() {
        JavaRDD<DataBlock> blocks = cache(sc(), split(sparseData(7), 2));
        String[] lazy = {"train.optimizer=adam", "train.local-steps=3", "train.sparse-update=lazy", "train.epochs=2"};
        double[] pulled = train(blocks, lazy);
        List<String[]> hooks = List.of(new String[] {DistributedTrainer.REBASE_FRACTION_PROPERTY, "0"},
                new String[] {DistributedTrainer.REBASE_FRACTION_PROPERTY, "1"});
        for (String[] hook : hooks) {
            System.setProperty(DistributedTrainer.LAZY_BASE_PROPERTY, "true");
            System.setProperty(hook[0], hook[1]);
            try {
                assertBitIdentical(pulled, train(blocks, lazy));
            } finally {
                System.clearProperty(hook[0]);
                System.clearProperty(DistributedTrainer.LAZY_BASE_PROPERTY);
            }
        }

        String[] fours = {"train.optimizer=adam", "train.local-steps=4", "train.sparse-update=lazy", "train.epochs=2",
                "checkpoint.every-steps=5"};
        List<TrainingState> saved = new ArrayList<>();
        DistributedTrainer trainer = new DistributedTrainer(sc(), settings(fours), blocks, ROWS, null);
        double[] whole = trainer.train(trainer.initialState(), keepAll(saved), m -> { }).params();
        TrainingState midEpoch = saved.stream().filter(st -> st.step() > 0).findFirst().orElseThrow();
        assertEquals(8, midEpoch.step());
        DistributedTrainer resumed = new DistributedTrainer(sc(), settings(fours), blocks, ROWS, null);
        assertBitIdentical(whole, resumed.train(midEpoch, DistributedTrainer.NO_CHECKPOINTS, m -> { }).params());
    }

    /**
     * A working set another round left in the executor's pool (its rows holding that round's
     * values) gives the change a new one gives, bit for bit: two calls of one partition's round
     * function, the second on the set the first gave back, against the first on an empty pool.
     */
    @Test
    void aReusedWorkingSetGivesTheBitsOfANewOne() {
        JavaSparkContext sc = sc();
        TrainingConfig settings = settings("train.optimizer=adam", "train.sparse-update=lazy");
        io.sparkprop.core.NetworkSpec spec = settings.spec().withFirstLayerLayout(io.sparkprop.core.WeightLayout.IN_OUT);
        io.sparkprop.core.Network network = new io.sparkprop.core.Network(spec);
        double[] params = io.sparkprop.core.WeightInit.initialize(spec, 9);
        double[][] values = {params, new double[params.length], new double[params.length]};
        org.apache.spark.broadcast.Broadcast<WireArrays> base = sc.broadcast(WireArrays.of(values, false));
        org.apache.spark.broadcast.Broadcast<io.sparkprop.core.IndexedRows> update = sc.broadcast(
                io.sparkprop.core.IndexedRows.gather(spec, new int[0], values));
        DataBlock block = sparseData(8);
        RoundFunction<DataBlock> round = new RoundFunction<>(base, network, settings.optimization()
                .optimizerFactory(spec), io.sparkprop.core.optim.Adam.KIND, 0, 9, 0, 0, 10, 0,
                new double[] {0.01, 0.01, 0.01}, 0.0, ROWS, 0.0, PartitionRows.BLOCKS,
                io.sparkprop.core.SparseUpdate.LAZY, update);
        try {
            ExecutorCache.clearWorkingSets();
            double[][] fresh = round.apply(0, List.of(block).iterator()).expand().average();
            // Again on the working set the first call gave back (its rows as that round left them).
            double[][] reused = round.apply(0, List.of(block).iterator()).expand().average();
            for (int a = 0; a < fresh.length; a++) {
                assertBitIdentical(fresh[a], reused[a]);
            }
        } finally {
            ExecutorCache.clearWorkingSets();
            base.destroy(false);
            update.destroy(false);
        }
    }

    /**
     * A lazy round that meets a non-finite gradient changes nothing under {@code skip}: rounds of 5
     * of the epoch's 10 steps, NaN in the first round's third step, a checkpoint after every round:
     * the first checkpoint holds the initial weights bit for bit (the driver adds a round's change
     * to its arrays in place, only after the round proved finite), and the run goes on.
     */
    @Test
    void aSkippedLazyRoundLeavesTheWeightsAsTheyWere() {
        JavaRDD<DataBlock> blocks = cache(sc(), split(sparseData(6), 2));
        TrainingConfig settings = settings("train.optimizer=adam", "train.local-steps=5", "train.epochs=1",
                "train.sparse-update=lazy", "train.non-finite=skip", "checkpoint.every-steps=5");
        DistributedTrainer trainer = new DistributedTrainer(sc(), settings, blocks, ROWS, null);
        assertEquals(10, trainer.stepsPerEpoch());
        TrainingState start = trainer.initialState();
        List<TrainingState> saved = new ArrayList<>();
        DistributedTrainer.Checkpoints keep = keepAll(saved);
        System.setProperty(StepFunction.NAN_ONCE_AT_STEPS, "2");
        double[] trained;
        try {
            trained = trainer.train(start, keep, m -> { }).params();
        } finally {
            System.clearProperty(StepFunction.NAN_ONCE_AT_STEPS);
            StepFunction.resetTestHooks();
        }
        assertEquals(5, saved.get(0).globalStep());
        assertBitIdentical(start.params(), saved.get(0).params());
        assertNotEquals(start.params()[0], trained[0], "the second round trained");
    }

    @Test
    void lazyNeedsSparseInput() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> settings("train.sparse-update=lazy", "data.sparse=false"));
        assertTrue(e.getMessage().contains("train.sparse-update") && e.getMessage().contains("data.sparse = true"),
                e.getMessage());
    }

    /** Checkpoints kept in {@code saved} (copies: the loop's arrays are lent for the call), newest last. */
    private static DistributedTrainer.Checkpoints keepAll(List<TrainingState> saved) {
        return new DistributedTrainer.Checkpoints() {
            @Override
            public void save(TrainingState state) {
                saved.add(state.copy());
            }

            @Override
            public Optional<TrainingState> latest() {
                return saved.isEmpty() ? Optional.empty() : Optional.of(saved.get(saved.size() - 1).copy());
            }
        };
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
