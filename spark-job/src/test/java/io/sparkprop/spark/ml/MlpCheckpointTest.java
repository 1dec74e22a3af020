package io.sparkprop.spark.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.checkpoint.CheckpointStore;
import io.sparkprop.spark.checkpoint.WriterClaim;
import io.sparkprop.spark.train.EpochMetrics;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import org.apache.spark.ml.tuning.TrainValidationSplit;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The estimators' checkpoints: each fit keeps its own state under checkpointDir and resumes only
 * that, bit-exactly; a model-selection grid gives the same metrics with and without checkpointDir;
 * and initialModel.
 */
class MlpCheckpointTest {

    @TempDir
    Path dir;

    @Test
    void aFitResumesFromItsNewestCheckpointBitExactly() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = MlpClassifierTest.vectors(spark, 400, 31).repartition(2).cache();
        String checkpoints = dir.resolve("ckpt").toUri().toString();
        MlpClassifier estimator = MlpClassifierTest.classifier().setMaxIter(4).setValidationFraction(0.25)
                .setCheckpointDir(checkpoints);
        MlpClassificationModel whole = estimator.fit(train);
        double[] uninterrupted = MlpClassifierTest.classifier().setMaxIter(4).setValidationFraction(0.25).fit(train)
                .weights().toArray();
        assertArrayEquals(uninterrupted, whole.weights().toArray(), "checkpoints do not change the result");

        // The fit's own store, a subdirectory of checkpointDir, keeps the newest 3, the ends of
        // epochs 2, 3 and 4. Keep only epoch 2's, as if the driver had died during epoch 3.
        CheckpointStore store = onlyStore(checkpoints);
        List<CheckpointStore.Entry> entries = store.list();
        assertEquals(3, entries.size(), entries.toString());
        long stepsPerEpoch = entries.get(0).globalStep() / 2;
        keepUpTo(store, 2 * stepsPerEpoch);
        assertEquals(2 * stepsPerEpoch, store.loadNewest().orElseThrow().state().globalStep());

        MlpClassificationModel resumed = estimator.fit(train);
        assertArrayEquals(uninterrupted, resumed.weights().toArray(), "resumed from epoch 2");
        assertEquals(4, resumed.history().size());
        for (int e = 0; e < 4; e++) {
            assertEquals(whole.history().get(e).trainLoss(), resumed.history().get(e).trainLoss(), "epoch " + (e + 1));
            assertEquals(whole.history().get(e).valLoss(), resumed.history().get(e).valLoss(), "epoch " + (e + 1));
        }
        // Determinism makes a fresh fit end with the same weights; the timings tell that epochs 1
        // and 2 came from the checkpoint and only 3 and 4 ran again.
        assertEquals(2, fromCheckpoint(whole.history(), resumed.history()), "epochs taken from the checkpoint");
        List<CheckpointStore.Entry> afterResume = store.list();
        assertEquals(entries, afterResume, "the resumed fit rewrote epochs 3 and 4");

        // Other data or other layers are other runs: each trains afresh (as without checkpointDir)
        // in a store of its own, and the first fit's checkpoints stay as they were.
        Dataset<Row> other = MlpClassifierTest.vectors(spark, 400, 32).repartition(2).cache();
        assertArrayEquals(MlpClassifierTest.classifier().setMaxIter(4).setValidationFraction(0.25).fit(other)
                .weights().toArray(), estimator.fit(other).weights().toArray(), "other data: afresh");
        MlpClassifier wider = estimator.copy(new ParamMap()).setLayers(new int[] {3, 9, 3});
        assertArrayEquals(MlpClassifierTest.classifier().setLayers(new int[] {3, 9, 3}).setMaxIter(4)
                .setValidationFraction(0.25).fit(train).weights().toArray(), wider.fit(train).weights().toArray(),
                "other layers: afresh");
        assertEquals(3, stores(checkpoints).size());
        assertEquals(afterResume, store.list(), "the first fit's state is untouched");
    }

    /**
     * Issue 13, item 5: with checkpointDir, model selection resumed each grid point from the
     * previous point's final checkpoint (a learning-rate or L2 change only warned), so every point
     * scored like the first. A 4-point grid over stepSize x regParam must score exactly the same
     * with and without checkpointDir, keep 4 states, and score the same again when re-run.
     */
    @Test
    void aGridScoresTheSameWithAndWithoutACheckpointDir() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> data = MlpClassifierTest.vectors(spark, 80, 41).repartition(2).cache();
        MlpClassifier base = MlpClassifierTest.classifier().setMaxIter(3).setBatchSize(8).setLocalSteps(1);
        ParamMap[] grid = new ParamGridBuilder().addGrid(base.stepSize(), new double[] {0.01, 0.1})
                .addGrid(base.regParam(), new double[] {0.0, 0.5}).build();
        TrainValidationSplit split = new TrainValidationSplit().setEstimator(base).setEstimatorParamMaps(grid)
                .setEvaluator(new MulticlassClassificationEvaluator().setMetricName("logLoss")).setTrainRatio(0.75)
                .setSeed(5);

        double[] without = split.fit(data).validationMetrics();
        assertEquals(4, Arrays.stream(without).distinct().count(), "the grid's points differ: "
                + Arrays.toString(without));

        String checkpoints = dir.resolve("grid").toUri().toString();
        base.setCheckpointDir(checkpoints);
        assertArrayEquals(without, split.fit(data).validationMetrics(), "with checkpointDir, first run");
        // One state per grid point on the training split, and one for the best point's final fit,
        // which TrainValidationSplit makes on all 80 rows.
        List<Path> stores = stores(checkpoints);
        assertEquals(5, stores.size(), stores.toString());
        int onAllRows = 0;
        for (Path store : stores) {
            String key = Files.readString(store.resolve(CheckpointStore.RUN_KEY));
            assertTrue(key.contains("train.epochs = 3\n") && key.contains("train.learning-rate = ")
                    && key.contains("train.l2 = ") && key.contains("training data\n"), key);
            assertFalse(key.contains("checkpoint.dir"), "harmless keys do not define the run: " + key);
            onAllRows += key.contains("training data\npartitions 2\nrows 80\n") ? 1 : 0;
        }
        assertEquals(1, onAllRows);
        // Re-run, every point resumes its own final state: the same scores again.
        assertArrayEquals(without, split.fit(data).validationMetrics(), "with checkpointDir, re-run");
        assertEquals(stores, stores(checkpoints));
    }

    /**
     * Two fits with the same run key at once in one application (a grid that holds the same point
     * twice, under parallelism 2) never write one store together: while the first holds its
     * {@code fit-<hash>} (paused in its first checkpoint), the second is refused naming it; the
     * first then finishes with the weights of a fit alone.
     */
    @Test
    void aDuplicateFitRunningAtTheSameTimeIsRefused() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> data = MlpClassifierTest.vectors(spark, 80, 43).repartition(2).cache();
        String checkpoints = dir.resolve("twins").toUri().toString();
        MlpClassifier estimator = MlpClassifierTest.classifier().setMaxIter(2).setBatchSize(8).setLocalSteps(1)
                .setCheckpointInterval(1).setCheckpointDir(checkpoints);
        double[] alone = MlpClassifierTest.classifier().setMaxIter(2).setBatchSize(8).setLocalSteps(1).fit(data)
                .weights().toArray();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        System.setProperty(CheckpointStore.PAUSE_AT_STEP, "1");
        try {
            Future<MlpClassificationModel> first = pool.submit(() -> estimator.fit(data));
            Path paused = null;
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (paused == null) {
                assertFalse(first.isDone() && !Files.exists(Path.of(URI.create(checkpoints))),
                        "the first fit ended before its first checkpoint");
                assertTrue(System.nanoTime() < deadline, "the first fit never paused in its first checkpoint");
                if (Files.exists(Path.of(URI.create(checkpoints)))) {
                    try (Stream<Path> files = Files.walk(Path.of(URI.create(checkpoints)))) {
                        paused = files.filter(p -> p.getFileName().toString().equals("PAUSED")).findFirst()
                                .orElse(null);
                    }
                }
                Thread.sleep(20);
            }
            IllegalStateException refused = assertThrows(IllegalStateException.class, () -> estimator.fit(data));
            assertTrue(refused.getMessage().contains("fit's checkpoint directory") && refused.getMessage()
                    .contains("is in use by another run: application " + spark.sparkContext().applicationId()),
                    refused.getMessage());
            Files.delete(paused);
            assertArrayEquals(alone, first.get(120, TimeUnit.SECONDS).weights().toArray(),
                    "the first fit's weights next to a refused twin");
        } finally {
            System.clearProperty(CheckpointStore.PAUSE_AT_STEP);
            pool.shutdownNow();
        }
        assertFalse(Files.exists(onlyStoreDir(checkpoints).resolve(WriterClaim.FILE)), "the claim is released");
    }

    private static Path onlyStoreDir(String checkpointDir) throws IOException {
        List<Path> stores = stores(checkpointDir);
        assertEquals(1, stores.size(), stores.toString());
        return stores.get(0);
    }

    /**
     * Fits that differ in a trajectory param (stepSize), in maxIter or in their starting weights
     * keep separate states under one checkpointDir, and an interrupted fit resumes its own
     * bit-exactly without touching the others'; a harmless param (checkpointInterval) does not split
     * a run.
     */
    @Test
    void differentFitsKeepSeparateStatesAndEachResumesItsOwn() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = MlpClassifierTest.vectors(spark, 60, 43).repartition(2).cache();
        String checkpoints = dir.resolve("fits").toUri().toString();
        MlpClassifier a = MlpClassifierTest.classifier().setMaxIter(3).setBatchSize(8).setLocalSteps(1)
                .setCheckpointDir(checkpoints);
        MlpClassificationModel fitA = a.fit(train);
        MlpClassificationModel fitB = a.copy(new ParamMap()).setStepSize(0.05).fit(train);
        MlpClassificationModel fitC = a.copy(new ParamMap()).setMaxIter(5).fit(train);
        MlpClassificationModel fitD = a.copy(new ParamMap()).setInitialWeights(fitB.weights()).fit(train);
        List<Path> stores = stores(checkpoints);
        assertEquals(4, stores.size(), "stepSize, maxIter and initialWeights each define a run: " + stores);
        assertEquals(5, fitC.history().size());
        assertNotEquals(fitA.weights(), fitB.weights());
        assertArrayEquals(MlpClassifierTest.classifier().setMaxIter(5).setBatchSize(8).setLocalSteps(1).fit(train)
                .weights().toArray(), fitC.weights().toArray(), "maxIter 5 trained afresh, not on from maxIter 3");

        // checkpointInterval is harmless: the same run, which resumes its final state (every epoch
        // from the checkpoint) and writes no new store.
        MlpClassificationModel again = a.copy(new ParamMap()).setCheckpointInterval(2).fit(train);
        assertArrayEquals(fitA.weights().toArray(), again.weights().toArray());
        assertEquals(3, fromCheckpoint(fitA.history(), again.history()));
        assertEquals(stores, stores(checkpoints));

        // Interrupt A after epoch 1: it resumes from there, bit-exactly, and the others stay as they were.
        CheckpointStore storeA = storeOf(checkpoints, "train.learning-rate = 0.01\n", "train.epochs = 3\n",
                "initial weights = seeded\n");
        List<List<CheckpointStore.Entry>> others = listOthers(stores, storeA);
        List<CheckpointStore.Entry> entries = storeA.list();
        keepUpTo(storeA, entries.get(0).globalStep());
        MlpClassificationModel resumed = a.fit(train);
        assertArrayEquals(fitA.weights().toArray(), resumed.weights().toArray(), "resumed from epoch 1");
        assertEquals(1, fromCheckpoint(fitA.history(), resumed.history()), "epochs taken from the checkpoint");
        assertEquals(entries, storeA.list());
        assertEquals(others, listOthers(stores, storeA), "the other fits' states are untouched");
        assertEquals(3, fitD.history().size());
    }

    /** The fits' stores under {@code checkpointDir}: its subdirectories, by name. */
    private static List<Path> stores(String checkpointDir) throws IOException {
        try (Stream<Path> children = Files.list(Path.of(URI.create(checkpointDir)))) {
            return children.filter(Files::isDirectory).sorted().toList();
        }
    }

    /** The store of the one fit that checkpointed into {@code checkpointDir}. */
    private static CheckpointStore onlyStore(String checkpointDir) throws IOException {
        List<Path> stores = stores(checkpointDir);
        assertEquals(1, stores.size(), stores.toString());
        return open(stores.get(0));
    }

    /** The one store whose run key holds every line of {@code lines}. */
    private static CheckpointStore storeOf(String checkpointDir, String... lines) throws IOException {
        List<Path> matching = new ArrayList<>();
        for (Path store : stores(checkpointDir)) {
            String key = Files.readString(store.resolve(CheckpointStore.RUN_KEY));
            if (Arrays.stream(lines).allMatch(key::contains)) {
                matching.add(store);
            }
        }
        assertEquals(1, matching.size(), matching.toString());
        return open(matching.get(0));
    }

    private static CheckpointStore open(Path store) {
        return CheckpointStore.open(store.toUri().toString(), new Configuration(), 3);
    }

    /** Every store's checkpoints but {@code except}'s. */
    private static List<List<CheckpointStore.Entry>> listOthers(List<Path> stores, CheckpointStore except)
            throws IOException {
        List<List<CheckpointStore.Entry>> lists = new ArrayList<>();
        for (Path store : stores) {
            CheckpointStore opened = open(store);
            if (!opened.uri().equals(except.uri())) {
                lists.add(opened.list());
            }
        }
        return lists;
    }

    /** Deletes {@code store}'s checkpoints after global step {@code step}, as if the fit had died then. */
    private static void keepUpTo(CheckpointStore store, long step) throws IOException {
        FileSystem fs = FileSystem.getLocal(new Configuration());
        for (CheckpointStore.Entry e : store.list()) {
            if (e.globalStep() > step) {
                fs.delete(new org.apache.hadoop.fs.Path(e.uri()), true);
            }
        }
    }

    /**
     * How many leading epochs of {@code resumed} a checkpoint supplied: those whose timing equals
     * {@code first}'s (a fit that ran an epoch again measured it again). The rest must all differ.
     */
    private static int fromCheckpoint(List<EpochMetrics> first, List<EpochMetrics> resumed) {
        assertEquals(first.size(), resumed.size());
        int same = 0;
        while (same < first.size() && first.get(same).epochSeconds() == resumed.get(same).epochSeconds()) {
            same++;
        }
        for (int e = same; e < first.size(); e++) {
            assertNotEquals(first.get(e).epochSeconds(), resumed.get(e).epochSeconds(), "epoch " + (e + 1));
        }
        return same;
    }

    @Test
    void initialModelStartsFromASavedModel() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = MlpClassifierTest.vectors(spark, 300, 33);
        MlpClassificationModel first = MlpClassifierTest.classifier().setMaxIter(2).fit(train);
        String saved = dir.resolve("first").toString();
        first.write().save(saved);
        MlpClassifier more = MlpClassifierTest.classifier().setMaxIter(1);
        double[] fromModel = more.copy(new ParamMap()).setInitialModel(saved).fit(train)
                .weights().toArray();
        double[] fromWeights = more.copy(new ParamMap()).setInitialWeights(first.weights())
                .fit(train).weights().toArray();
        assertArrayEquals(fromWeights, fromModel);
        // The model file inside the save path is the command line's format and works as well.
        double[] fromFile = more.copy(new ParamMap())
                .setInitialModel(saved + "/" + FittedNetwork.MODEL_FILE).fit(train).weights().toArray();
        assertArrayEquals(fromWeights, fromFile);

        IllegalArgumentException layers = assertThrows(IllegalArgumentException.class,
                () -> MlpClassifierTest.classifier().setLayers(new int[] {3, 5, 3}).setInitialModel(saved).fit(train));
        assertTrue(layers.getMessage().contains("has layers [3, 16, 3] but layers is [3, 5, 3]"), layers.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> MlpClassifierTest.classifier().setInitialModel(saved + "-nope").fit(train));
        assertTrue(missing.getMessage().contains(saved + "-nope") && missing.getMessage().contains("does not exist"),
                missing.getMessage());
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
                () -> MlpClassifierTest.classifier().setInitialModel(saved).setInitialWeights(first.weights())
                        .fit(train));
        assertTrue(both.getMessage().contains("not both"), both.getMessage());
    }
}
