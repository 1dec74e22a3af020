package io.sparkprop.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.Evaluation;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.SplitMix64;
import io.sparkprop.core.Workspace;
import io.sparkprop.core.io.Model;
import io.sparkprop.spark.Main;
import io.sparkprop.spark.OnnxRuntimeSupport;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.session.ModelFiles;
import io.sparkprop.spark.train.BlockOps;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code export} on models that {@code train} wrote: the ONNX file loads in ONNX Runtime and, fed
 * the raw CSV features, gives what sparkprop computes from them (its own scaling, then
 * {@link Network#forward}) to 1e-6 for a float32 graph and 1e-12 for a float64 one; bad arguments
 * fail with messages that name them.
 */
class ExportCommandTest {

    /** Per feature: the raw data's centre and half-width, so that standardization has work to do. */
    private static final double[][] FEATURES = {{100, 50}, {-20, 4}, {0.5, 0.8}, {3, 9}};
    private static final int ROWS = 120;

    @TempDir
    static Path dir;
    static Path csv;
    static double[][] raw;

    @BeforeAll
    static void writeData() throws Exception {
        SplitMix64 random = new SplitMix64(5);
        raw = new double[ROWS][FEATURES.length];
        StringBuilder text = new StringBuilder("label,x1,x2,x3,x4\n");
        for (int r = 0; r < ROWS; r++) {
            double s = 0;
            StringBuilder line = new StringBuilder();
            for (int j = 0; j < FEATURES.length; j++) {
                double z = 2 * random.nextDouble() - 1;
                raw[r][j] = FEATURES[j][0] + FEATURES[j][1] * z;
                s += (j % 2 == 0 ? 1 : -1) * z;
                line.append(',').append(raw[r][j]);
            }
            text.append(s < -0.4 ? 0 : s < 0.4 ? 1 : 2).append(line).append('\n');
        }
        csv = Files.writeString(dir.resolve("train.csv"), text.toString());
    }

    private static Path train(String name, String... overrides) {
        List<String> settings = new ArrayList<>(List.of("data.format=csv", "data.train=" + csv, "data.partitions=2",
                "train.epochs=3", "train.batch-size=20", "train.learning-rate=0.05"));
        settings.addAll(List.of(overrides));
        Path run = dir.resolve(name);
        TrainCommand.run(SparkTestSupport.spark(), JobConfig.defaults().withOverrides(settings), run.toString());
        return run.resolve("model.spm");
    }

    @Test
    void aStandardizedClassifierExportsWithItsScalingFoldedIn() throws Exception {
        Path model = train("classifier", "data.scaling=standardize", "model.layers=4,8,3",
                "model.hidden-activation=tanh");
        for (String precision : List.of("float32", "float64")) {
            Path onnx = dir.resolve("classifier-" + precision + ".onnx");
            assertEquals(0, Main.run(SparkTestSupport.spark(), "export", "--model", model.toString(), "--format",
                    "onnx", "--output", onnx.toString(), "--precision", precision));
            assertEquals(List.of("rawPrediction", "probability", "prediction"), OnnxRuntimeSupport.outputNames(onnx));
            // The same inputs on both sides: a float32 graph's features are floats.
            double[][] rows = precision.equals("float32") ? floats(raw) : raw;
            Workspace expected = sparkprop(model, rows);
            Map<String, double[][]> got = OnnxRuntimeSupport.run(onnx, rows, precision.equals("float32"));
            double tolerance = precision.equals("float32") ? 1e-6 : 1e-12;
            assertClose(expected.logits(), got.get("rawPrediction"), tolerance, precision + " rawPrediction");
            assertClose(expected.output(), got.get("probability"), tolerance, precision + " probability");
            for (int r = 0; r < ROWS; r++) {
                assertEquals(Evaluation.argMax(expected.output(), r * 3, 3), got.get("prediction")[r][0],
                        "class of row " + r);
            }
        }
    }

    @Test
    void aDividedFloat32TrainedRegressionExportsWithItsDivisorFoldedIn() throws Exception {
        Path model = train("regression", "model.task=regression", "data.scaling=divide", "data.scaling.divisor=50",
                "model.layers=4,6,1", "model.hidden-activation=leaky-relu", "train.precision=float32");
        Path onnx = dir.resolve("out/regression.onnx");
        // The default format is onnx and the default precision float32; an existing file is replaced.
        Files.createDirectories(onnx.getParent());
        Files.writeString(onnx, "old");
        String said = ExportCommand.run(ExportCommand.Options.of(model.toString(), onnx.toString(), null, null),
                new Configuration());
        assertTrue(said.contains("ONNX opset 13, input features float32 (batch, 4), outputs prediction float32"
                + " (batch, 1); feature scaling folded in: divide"), said);
        assertEquals(List.of("prediction"), OnnxRuntimeSupport.outputNames(onnx));
        assertClose(sparkprop(model, floats(raw)).output(), OnnxRuntimeSupport.run(onnx, floats(raw), true)
                .get("prediction"), 1e-6, "prediction");
    }

    @Test
    void badArgumentsFailNamingWhatIsWrong() throws Exception {
        Path model = dir.resolve("missing.spm");
        Path out = dir.resolve("x.onnx");
        assertMessage("Model file " + model + " does not exist", "--model", model.toString(), "--output",
                out.toString());
        assertMessage("Cannot read model " + csv, "--model", csv.toString(), "--output", out.toString());
        assertMessage("Unknown export format 'pmml'; expected onnx", "--model", csv.toString(), "--output",
                out.toString(), "--format", "pmml");
        assertMessage("Option --precision: Unknown precision 'float16'; expected float64 or float32", "--model",
                csv.toString(), "--output", out.toString(), "--precision", "float16");
        assertMessage("Missing required option: '--output=URI' (export)", "--model", csv.toString());
        assertMessage("Unknown option '--config' for export; its options are --model, --output", "--model", csv.toString(), "--output", out.toString(), "--config",
                "x.conf");

        Path trained = train("small", "model.layers=4,3");
        // A directory (not the one holding the model: that one is refused as a path export reads).
        Path aDirectory = java.nio.file.Files.createDirectories(dir.resolve("a-directory"));
        assertMessage("Cannot write the ONNX model to " + aDirectory + ": it is a directory", "--model",
                trained.toString(), "--output", aDirectory.toString());
        Path underAFile = csv.resolve("model.onnx");
        assertMessage("Cannot write the ONNX model to " + underAFile, "--model", trained.toString(), "--output",
                underAFile.toString());
        try (var listing = Files.list(dir)) {
            assertTrue(listing.noneMatch(p -> p.getFileName().toString().contains(".tmp-")),
                    "no temporary file is left behind");
        }
    }

    private static void assertMessage(String expected, String... options) {
        String[] argv = new String[options.length + 1];
        argv[0] = "export";
        System.arraycopy(options, 0, argv, 1, options.length);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Main.run(SparkTestSupport.spark(), argv));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    /**
     * What sparkprop computes for raw feature {@code rows}: the model's scaling, as its readers and
     * BlockOps apply it, then the forward pass.
     */
    private static Workspace sparkprop(Path modelFile, double[][] rows) {
        Model model = ModelFiles.read(modelFile.toString(), new Configuration());
        NetworkSpec spec = model.spec();
        int in = spec.inputSize();
        double divisor = ModelFiles.divisor(model);
        double[] features = new double[ROWS * in];
        for (int r = 0; r < ROWS; r++) {
            for (int j = 0; j < in; j++) {
                features[r * in + j] = rows[r][j] / divisor;
            }
        }
        DataBlock block = new DataBlock(ROWS, in, spec.outputSize(), features, new double[ROWS * spec.outputSize()],
                null);
        BlockOps.Scaling standardization = ModelFiles.standardization(model);
        if (standardization != null) {
            block = BlockOps.scaleBlock(block, standardization);
        }
        Workspace ws = new Workspace(spec, ROWS).load(block, 0, ROWS);
        new Network(spec).forward(model.params(), ws);
        return ws;
    }

    /** {@code rows}, each value rounded to the nearest float. */
    private static double[][] floats(double[][] rows) {
        double[][] out = new double[rows.length][];
        for (int r = 0; r < rows.length; r++) {
            out[r] = new double[rows[r].length];
            for (int j = 0; j < rows[r].length; j++) {
                out[r][j] = (float) rows[r][j];
            }
        }
        return out;
    }

    private static void assertClose(double[] expected, double[][] actual, double tolerance, String what) {
        int width = actual[0].length;
        for (int r = 0; r < actual.length; r++) {
            for (int j = 0; j < width; j++) {
                double e = expected[r * width + j];
                double error = Math.abs(e - actual[r][j]) / Math.max(1.0, Math.abs(e));
                assertTrue(error <= tolerance, String.format(Locale.ROOT, "%s row %d output %d: expected %s got %s"
                        + " (error %.3g > %.1g)", what, r, j, e, actual[r][j], error, tolerance));
            }
        }
    }
}
