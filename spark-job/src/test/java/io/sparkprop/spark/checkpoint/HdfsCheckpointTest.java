package io.sparkprop.spark.checkpoint;

import static io.sparkprop.spark.checkpoint.CheckpointTestSupport.EPOCHS;
import static io.sparkprop.spark.checkpoint.CheckpointTestSupport.KEEP;
import static io.sparkprop.spark.checkpoint.CheckpointTestSupport.assertSameBits;
import static io.sparkprop.spark.checkpoint.CheckpointTestSupport.stepDir;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.io.Model;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.Main;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.cli.InspectCommand;
import io.sparkprop.spark.report.RunDirectory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints on a real HDFS (MiniDFSCluster, one DataNode): the data, the config, the run
 * directory and its checkpoints all live on {@code hdfs://}. A run writes, prunes and verifies its
 * checkpoints there; a run directory that holds only an early checkpoint of that run resumes from
 * it and ends with the uninterrupted run's weights, bit for bit. The estimators do the same with
 * their checkpointDir, and write their report and saved model there.
 */
class HdfsCheckpointTest {

    @TempDir
    static java.nio.file.Path tmp;

    private static MiniDFSCluster cluster;
    private static FileSystem fs;
    private static String hdfs;
    private static String replicationBefore;

    @BeforeAll
    static void startHdfs() throws IOException {
        cluster = io.sparkprop.spark.MiniHdfs.start(tmp);
        fs = cluster.getFileSystem();
        hdfs = cluster.getURI().toString();
        // The session's client would otherwise ask for 3 replicas of every block from one DataNode.
        Configuration session = SparkTestSupport.spark().sparkContext().hadoopConfiguration();
        replicationBefore = session.get("dfs.replication");
        session.set("dfs.replication", "1");
    }

    @AfterAll
    static void stopHdfs() {
        Configuration session = SparkTestSupport.spark().sparkContext().hadoopConfiguration();
        if (replicationBefore == null) {
            session.unset("dfs.replication");
        } else {
            session.set("dfs.replication", replicationBefore);
        }
        if (cluster != null) {
            cluster.shutdown();
        }
    }

    @Test
    void anEstimatorCheckpointsResumesReportsAndSavesOnHdfs() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        io.sparkprop.core.SplitMix64 random = new io.sparkprop.core.SplitMix64(17);
        List<org.apache.spark.sql.Row> rows = new java.util.ArrayList<>();
        for (int r = 0; r < 300; r++) {
            double a = random.nextDouble();
            double b = random.nextDouble();
            rows.add(org.apache.spark.sql.RowFactory.create(org.apache.spark.ml.linalg.Vectors.dense(a, b),
                    a > b ? 1.0 : 0.0));
        }
        org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> data = spark.createDataFrame(rows,
                new org.apache.spark.sql.types.StructType().add("features", new org.apache.spark.ml.linalg.VectorUDT())
                        .add("label", org.apache.spark.sql.types.DataTypes.DoubleType)).coalesce(2).cache();
        String checkpoints = hdfs + "/estimator/checkpoints";
        io.sparkprop.spark.ml.MlpClassifier estimator = new io.sparkprop.spark.ml.MlpClassifier()
                .setLayers(new int[] {2, 8, 2}).setMaxIter(3).setBatchSize(30).setLocalSteps(2).setStepSize(0.01)
                .setValidationFraction(0.2).setCheckpointDir(checkpoints);
        io.sparkprop.spark.ml.MlpClassificationModel whole = estimator.copy(new org.apache.spark.ml.param.ParamMap())
                .setReportDir(hdfs + "/estimator/report").fit(data);
        assertTrue(fs.exists(new Path(hdfs + "/estimator/report/report.html")), "the report is on HDFS");

        // The fit's store is the one subdirectory of checkpointDir, its run key beside the
        // checkpoints. Keep only the first epoch's checkpoint: the next fit resumes from it, bit-exactly.
        org.apache.hadoop.fs.FileStatus[] fits = fs.listStatus(new Path(checkpoints));
        assertEquals(1, fits.length, java.util.Arrays.toString(fits));
        assertTrue(fs.exists(new Path(fits[0].getPath(), CheckpointStore.RUN_KEY)));
        CheckpointStore store = CheckpointStore.open(fits[0].getPath().toString(),
                spark.sparkContext().hadoopConfiguration(), 3);
        List<CheckpointStore.Entry> entries = store.list();
        assertEquals(3, entries.size(), entries.toString());
        for (CheckpointStore.Entry e : entries.subList(1, entries.size())) {
            fs.delete(new Path(e.uri()), true);
        }
        io.sparkprop.spark.ml.MlpClassificationModel resumed = estimator.fit(data);
        assertEquals(java.util.Arrays.toString(whole.weights().toArray()),
                java.util.Arrays.toString(resumed.weights().toArray()));
        assertEquals(whole.history().get(0).epochSeconds(), resumed.history().get(0).epochSeconds(),
                "epoch 1 came from the HDFS checkpoint");

        String saved = hdfs + "/estimator/model";
        resumed.write().save(saved);
        assertEquals(java.util.Arrays.toString(resumed.weights().toArray()), java.util.Arrays.toString(
                io.sparkprop.spark.ml.MlpClassificationModel.load(saved).weights().toArray()));
    }

    @Test
    void checkpointsAreWrittenVerifiedAndResumedOnHdfs() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        writeText(new Path(hdfs + "/data/train.csv"), CheckpointTestSupport.trainingCsv());
        // The config names the data relative to itself, so it resolves to hdfs://.../data/train.csv.
        String config = hdfs + "/conf/run.conf";
        writeText(new Path(config), CheckpointTestSupport.config("../data/train.csv"));

        // Run A, uninterrupted, to the end.
        String runA = hdfs + "/runs/a";
        assertEquals(0, Main.run(spark, "train", "--config", config, "--run-dir", runA));
        double[] weightsA = readModel(new Path(runA, RunDirectory.MODEL)).params();
        List<String> metricsA = readText(new Path(runA, RunDirectory.METRICS)).lines().toList();
        assertEquals(EPOCHS, metricsA.size(), String.join("\n", metricsA));

        // Its checkpoints: the newest KEEP of 21, each complete and verified, the last at the run's end.
        CheckpointStore storeA = CheckpointStore.open(runA + "/checkpoints", conf, KEEP);
        assertTrue(storeA.uri().startsWith("hdfs://"), storeA.uri());
        List<CheckpointStore.Entry> entries = storeA.list();
        assertTrue(entries.size() >= 2 && entries.size() <= KEEP, "checkpoints " + entries);
        assertEquals(List.of(112L, 119L, 120L), entries.stream().map(CheckpointStore.Entry::globalStep).toList());
        String inspect = InspectCommand.run(runA, conf);
        assertTrue(inspect.contains("final model " + hdfs + "/runs/a/" + RunDirectory.MODEL), inspect);
        assertTrue(inspect.contains("checkpoints in " + hdfs + "/runs/a/checkpoints: " + entries.size()), inspect);
        for (CheckpointStore.Entry entry : entries) {
            assertTrue(entry.valid(), entry.toString());
            storeA.verify(new Path(entry.uri()));
            assertTrue(inspect.contains("step " + entry.globalStep() + "  VALID    " + stepDir(entry.globalStep())),
                    inspect);
        }
        assertFalse(inspect.contains("INVALID"), inspect);
        assertTrue(inspect.contains("checksums: OK"), inspect);
        CheckpointStore.Checkpoint last = storeA.load(entries.get(entries.size() - 1).uri());
        assertEquals(EPOCHS, last.state().epoch());
        assertSameBits(weightsA, last.state().params(), "the last checkpoint's weights");

        // Run C: a copy of A's checkpoints with only the oldest kept one (global step 112, in epoch
        // 4), as if A had died just after writing it. Train must resume from it, not start afresh.
        String runC = hdfs + "/runs/c";
        Path checkpointsC = new Path(runC, "checkpoints");
        assertTrue(FileUtil.copy(fs, new Path(storeA.uri()), fs, checkpointsC, false, conf));
        for (CheckpointStore.Entry entry : entries.subList(1, entries.size())) {
            assertTrue(fs.delete(new Path(checkpointsC, stepDir(entry.globalStep())), true));
        }
        long oldest = entries.get(0).globalStep();
        Path oldestManifest = new Path(new Path(checkpointsC, stepDir(oldest)), CheckpointStore.MANIFEST);
        long manifestTime = fs.getFileStatus(oldestManifest).getModificationTime();
        CheckpointStore storeC = CheckpointStore.open(checkpointsC.toString(), conf, KEEP);
        assertEquals(List.of(oldest), storeC.list().stream().map(CheckpointStore.Entry::globalStep).toList());
        assertTrue(InspectCommand.run(runC, conf).contains("step " + oldest + "  VALID"));

        assertEquals(0, Main.run(spark, "train", "--config", config, "--run-dir", runC));
        assertSameBits(weightsA, readModel(new Path(runC, RunDirectory.MODEL)).params(), "run C's final weights");
        // Resumed, not retrained: the three finished epochs' metrics came from the checkpoint with
        // A's own timings, and the checkpoint it started from was left as it was (a fresh run
        // rewrites every checkpoint it reaches).
        List<String> metricsC = readText(new Path(runC, RunDirectory.METRICS)).lines().toList();
        assertEquals(EPOCHS, metricsC.size(), String.join("\n", metricsC));
        assertEquals(metricsA.subList(0, EPOCHS - 1), metricsC.subList(0, EPOCHS - 1));
        assertEquals(manifestTime, fs.getFileStatus(oldestManifest).getModificationTime());
        assertEquals(List.of(112L, 119L, 120L), storeC.list().stream().map(CheckpointStore.Entry::globalStep).toList());
        assertTrue(storeC.list().stream().allMatch(CheckpointStore.Entry::valid));
    }

    private static void writeText(Path path, String text) throws IOException {
        try (FSDataOutputStream out = fs.create(path, true)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static String readText(Path path) throws IOException {
        try (InputStream in = fs.open(path)) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            in.transferTo(bytes);
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }

    private static Model readModel(Path path) throws IOException {
        try (InputStream in = fs.open(path)) {
            return ModelCodec.read(in, path.toString());
        }
    }
}
