package io.sparkprop.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkprop.core.Blas;
import io.sparkprop.core.SplitMix64;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.ml.MlpClassificationModel;
import io.sparkprop.spark.ml.MlpClassifier;
import io.sparkprop.spark.ml.MlpRegressionModel;
import io.sparkprop.spark.ml.MlpRegressor;
import io.sparkprop.spark.report.RunDirectory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32C;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pins the weights of small runs through both front doors (the command line and the estimators)
 * to CRC32C values recorded before the training engine was restructured (issue 12), so a refactor
 * that changes a single bit of what is computed fails here. The arithmetic is pinned too: the
 * class runs with netlib's scalar pure-Java BLAS ({@code Blas.pin("java")}, restored after), so
 * the values do not depend on whether the machine has native OpenBLAS or the Vector API.
 *
 * <p>Each value is the CRC32C of the weights' IEEE-754 bits, big-endian, in sparkprop's flat layout
 * (the model file's parameters: the estimators' saved {@code data/model.spm}).
 * Recorded on 2026-11-29 at commit b875fee plus this test (the code before issue 12's changes).
 */
class PinnedWeightsTest {

    @TempDir
    static Path dir;

    private static Path csv;

    private static Blas.Pinned pinned;

    @BeforeAll
    static void pinTheArithmetic() {
        pinned = Blas.pin("java");
    }

    @AfterAll
    static void restoreTheArithmetic() {
        pinned.close();
    }

    @BeforeAll
    static void writeData() throws Exception {
        // 240 rows: x0..x3 uniform in [-1, 1), class = which of x0+x1, x2-x3, 0.3 is largest,
        // plus a regression target.
        SplitMix64 random = new SplitMix64(2026);
        StringBuilder sb = new StringBuilder("x0,x1,x2,x3,label,y\n");
        for (int r = 0; r < 240; r++) {
            double[] x = new double[4];
            for (int j = 0; j < 4; j++) {
                x[j] = 2 * random.nextDouble() - 1;
            }
            double s1 = x[0] + x[1];
            double s2 = x[2] - x[3];
            int label = s1 > s2 && s1 > 0.3 ? 0 : s2 > 0.3 ? 1 : 2;
            double y = 0.5 * x[0] - 0.25 * x[1] + x[2] * x[3];
            sb.append(String.format(Locale.ROOT, "%.6f,%.6f,%.6f,%.6f,%d,%.6f%n", x[0], x[1], x[2], x[3], label, y));
        }
        csv = dir.resolve("pinned.csv");
        Files.writeString(csv, sb.toString(), StandardCharsets.UTF_8);
    }

    static long crc(double[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(8 * values.length);
        for (double v : values) {
            bytes.putDouble(v);
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes.array());
        return crc.getValue();
    }

    private static long trainCli(String name, String... lines) throws Exception {
        List<String> conf = new ArrayList<>(List.of("data.format = csv", "data.train = " + csv,
                "data.partitions = 2", "train.epochs = 2", "train.batch-size = 16"));
        conf.addAll(List.of(lines));
        Path file = dir.resolve(name + ".conf");
        Files.writeString(file, String.join("\n", conf) + "\n", StandardCharsets.UTF_8);
        Path run = dir.resolve(name);
        assertEquals(0, Main.run(SparkTestSupport.spark(), "train", "--config", file.toString(), "--run-dir",
                run.toString()));
        return crc(ModelCodec.read(run.resolve(RunDirectory.MODEL)).params());
    }

    @Test
    void theArithmeticIsPinned() {
        assertEquals("dev.ludovic.netlib.blas.Java11BLAS", Blas.implementationName(),
                "the class pins netlib's scalar pure-Java BLAS");
    }

    @Test
    void commandLineLocalSgdAdamWithHoldOutStandardizationL2AndClipping() throws Exception {
        assertEquals(915054960L, trainCli("cli-local-sgd", "data.label-column = label", "data.feature-columns = x0,x1,x2,x3",
                "model.layers = 4,8,3", "train.local-steps = 4", "data.validation-fraction = 0.25",
                "data.scaling = standardize", "train.l2 = 0.001", "train.clip-norm = 1"));
    }

    @Test
    void commandLineSynchronousNesterovCosineWarmupFloat32() throws Exception {
        assertEquals(3183342523L, trainCli("cli-sync", "data.label-column = label", "data.feature-columns = x0,x1,x2,x3",
                "model.layers = 4,8,3", "model.hidden-activation = tanh", "train.local-steps = 1",
                "train.optimizer = nesterov", "train.learning-rate = 0.05", "train.schedule = cosine",
                "train.warmup-steps = 3", "train.precision = float32"));
    }

    @Test
    void commandLineSparseRegressionWithEarlyStoppingOnTrainLoss() throws Exception {
        assertEquals(792912576L, trainCli("cli-sparse-regression", "model.task = regression", "data.label-column = y",
                "data.feature-columns = x0,x1,x2,x3", "model.layers = 4,6,1", "data.sparse = true",
                "train.local-steps = 2", "train.optimizer = sgd", "train.learning-rate = 0.05",
                "train.early-stopping.metric = train_loss", "train.early-stopping.patience = 1"));
    }

    private static Dataset<Row> frame(SparkSession spark) throws Exception {
        List<Row> rows = new ArrayList<>();
        List<String> lines = Files.readAllLines(csv);
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",");
            double[] x = new double[4];
            for (int j = 0; j < 4; j++) {
                x[j] = Double.parseDouble(f[j]);
            }
            rows.add(RowFactory.create(Vectors.dense(x), Double.parseDouble(f[4]), Double.parseDouble(f[5]),
                    1.0 + (i % 3)));
        }
        StructType schema = new StructType().add("features", new VectorUDT()).add("label", DataTypes.DoubleType)
                .add("y", DataTypes.DoubleType).add("w", DataTypes.DoubleType);
        return spark.createDataFrame(rows, schema).coalesce(2);
    }

    @Test
    void estimatorClassifierWithValidationSplitAndLocalSgd() throws Exception {
        MlpClassificationModel model = new MlpClassifier().setLayers(new int[] {4, 8, 3}).setMaxIter(2)
                .setBatchSize(16).setSeed(5).setLocalSteps(4).setValidationFraction(0.2).setRegParam(1e-3)
                .fit(frame(SparkTestSupport.spark()));
        model.save(dir.resolve("classifier").toString());
        assertEquals(2032187330L, crc(ModelCodec.read(dir.resolve("classifier/data/model.spm")).params()));
    }

    @Test
    void estimatorRegressorWeightedSynchronousMomentum() throws Exception {
        MlpRegressionModel model = new MlpRegressor().setLayers(new int[] {4, 6, 1}).setMaxIter(2).setBatchSize(16)
                .setSeed(9).setLocalSteps(1).setOptimizer("momentum").setStepSize(0.02).setLabelCol("y")
                .setWeightCol("w").fit(frame(SparkTestSupport.spark()));
        model.save(dir.resolve("regressor").toString());
        assertEquals(1001532339L, crc(ModelCodec.read(dir.resolve("regressor/data/model.spm")).params()));
    }
}
