package io.sparkprop.core.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.sparkprop.core.Activation;
import io.sparkprop.core.DataBlock;
import io.sparkprop.core.Evaluation;
import io.sparkprop.core.Loss;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.Precision;
import io.sparkprop.core.Workspace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The exported graph, run in ONNX Runtime on random raw features, against the core's
 * {@link Network#forward} on the same features scaled as sparkprop scales them: every hidden
 * activation, every task, each scaling, and both element types. The float32 graph agrees with the
 * double forward (what sparkprop's predict and transform compute) to {@code 1e-6 · max(1, |value|)}
 * (and with the float32 forward, which rounds its own way, to twice that); the float64 graph agrees
 * with the double forward to {@code 1e-12 · max(1, |value|)}.
 */
class OnnxExportTest {

    private static final OrtEnvironment ORT = OrtEnvironment.getEnvironment();
    private static final int ROWS = 64;

    enum Task {
        CLASSIFICATION(Activation.SOFTMAX, Loss.SOFTMAX_CROSS_ENTROPY, 4),
        MULTILABEL(Activation.SIGMOID, Loss.BINARY_CROSS_ENTROPY, 3),
        REGRESSION(Activation.IDENTITY, Loss.MSE, 2),
        /** MSE under a non-identity output, and outputs in the thousands (relative tolerance). */
        BOUNDED_REGRESSION(Activation.TANH, Loss.MSE, 2),
        LARGE_REGRESSION(Activation.IDENTITY, Loss.MSE, 1);

        final Activation output;
        final Loss loss;
        final int width;

        Task(Activation output, Loss loss, int width) {
            this.output = output;
            this.loss = loss;
            this.width = width;
        }
    }

    enum Scaling { NONE, STANDARDIZE, DIVIDE }

    static Stream<Arguments> combinations() {
        List<Arguments> all = new ArrayList<>();
        for (Activation hidden : List.of(Activation.IDENTITY, Activation.SIGMOID, Activation.TANH, Activation.RELU,
                Activation.LEAKY_RELU)) {
            for (Task task : Task.values()) {
                for (Scaling scaling : Scaling.values()) {
                    for (Precision type : Precision.values()) {
                        all.add(Arguments.of(hidden, task, scaling, type));
                    }
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} hidden, {1}, {2} scaling, {3}")
    @MethodSource("combinations")
    void graphComputesWhatTheNetworkComputes(Activation hidden, Task task, Scaling scalingKind, Precision type)
            throws OrtException {
        long seed = 31L * hidden.ordinal() + 7L * task.ordinal() + scalingKind.ordinal();
        SplittableRandom random = new SplittableRandom(seed);
        NetworkSpec spec = NetworkSpec.of(new int[] {7, 6, 5, task.width}, hidden, task.output, task.loss);
        double[] params = randomParams(spec, random, task == Task.LARGE_REGRESSION ? 5000.0 : 1.0);
        int in = spec.inputSize();
        InputScaling scaling = switch (scalingKind) {
            case NONE -> InputScaling.NONE;
            case STANDARDIZE -> new InputScaling(random.doubles(in, -5, 5).toArray(),
                    random.doubles(in, 0.2, 4).toArray());
            case DIVIDE -> InputScaling.divide(255.0, in);
        };
        // Raw features as the data had them: around the shift, at the scale (0..255 for divide).
        double[] raw = new double[ROWS * in];
        double[] scaled = new double[ROWS * in];
        for (int r = 0; r < ROWS; r++) {
            for (int j = 0; j < in; j++) {
                double z = 2.0 * random.nextDouble(-1, 1) + (r < 4 ? 6.0 * (r - 1.5) : 0.0);
                double x = switch (scalingKind) {
                    case NONE -> z;
                    case STANDARDIZE -> scaling.shift()[j] + scaling.scale()[j] * z;
                    case DIVIDE -> random.nextInt(256);
                };
                raw[r * in + j] = type == Precision.FLOAT32 ? (float) x : x;
                scaled[r * in + j] = scale(raw[r * in + j], scaling, j);
            }
        }

        byte[] onnx = OnnxExport.toBytes(spec, params, scaling, type, spec.toString(), Map.of("k", "v"));
        Map<String, double[]> got = run(onnx, raw, ROWS, in, type);

        for (Precision reference : type == Precision.FLOAT32 ? Precision.values() : new Precision[] {Precision.FLOAT64}) {
            // Against the float32 forward, two float computations that each round their own way:
            // each is within 1e-6 of the double one, so within 2e-6 of each other.
            double tolerance = type == Precision.FLOAT64 ? 1e-12 : reference == Precision.FLOAT64 ? 1e-6 : 2e-6;
            Workspace ws = forward(spec, params, scaled, reference);
            String what = spec + ", " + scalingKind + " scaling, " + type + " graph vs " + reference + " forward";
            if (task.loss == Loss.MSE) {
                assertClose(ws.output(), got.get(OnnxExport.PREDICTION), tolerance, what + ": prediction");
                continue;
            }
            assertClose(ws.logits(), got.get(OnnxExport.RAW_PREDICTION), tolerance, what + ": rawPrediction");
            assertClose(ws.output(), got.get(OnnxExport.PROBABILITY), tolerance, what + ": probability");
            double[] prediction = got.get(OnnxExport.PREDICTION);
            int width = spec.outputSize();
            for (int r = 0; r < ROWS; r++) {
                for (int j = 0; j < (task.loss == Loss.SOFTMAX_CROSS_ENTROPY ? 1 : width); j++) {
                    if (task.loss == Loss.SOFTMAX_CROSS_ENTROPY) {
                        if (margin(ws.output(), r * width, width) > 1e-5) {
                            assertEquals(Evaluation.argMax(ws.output(), r * width, width), prediction[r],
                                    what + ": class of row " + r);
                        }
                    } else if (Math.abs(ws.output()[r * width + j] - 0.5) > 1e-5) {
                        assertEquals(ws.output()[r * width + j] >= 0.5 ? 1.0 : 0.0, prediction[r * width + j],
                                what + ": label " + j + " of row " + r);
                    }
                }
            }
        }
    }

    @Test
    void inputsAndOutputsHaveTheDocumentedNamesTypesAndShapes() throws OrtException {
        NetworkSpec classifier = NetworkSpec.of(new int[] {3, 4, 5}, Activation.RELU, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY);
        double[] params = randomParams(classifier, new SplittableRandom(1), 1.0);
        try (OrtSession session = ORT.createSession(OnnxExport.toBytes(classifier, params, InputScaling.NONE,
                Precision.FLOAT32, "d", Map.of("sparkprop.task", "classification")), new OrtSession.SessionOptions())) {
            assertEquals(List.of(OnnxExport.FEATURES), List.copyOf(session.getInputNames()));
            assertEquals(List.of(OnnxExport.RAW_PREDICTION, OnnxExport.PROBABILITY, OnnxExport.PREDICTION),
                    List.copyOf(session.getOutputNames()));
            TensorInfo features = tensor(session.getInputInfo().get(OnnxExport.FEATURES));
            assertEquals(OnnxJavaType.FLOAT, features.type);
            assertArrayEquals(new long[] {-1, 3}, features.getShape());
            assertArrayEquals(new long[] {-1, 5}, tensor(session.getOutputInfo().get(OnnxExport.PROBABILITY)).getShape());
            TensorInfo prediction = tensor(session.getOutputInfo().get(OnnxExport.PREDICTION));
            assertEquals(OnnxJavaType.INT64, prediction.type);
            assertArrayEquals(new long[] {-1}, prediction.getShape());
            assertEquals("classification", session.getMetadata().getCustomMetadata().get("sparkprop.task"));
            assertEquals("sparkprop", session.getMetadata().getProducerName());
        }
        NetworkSpec regression = NetworkSpec.of(new int[] {3, 2}, Activation.IDENTITY, Activation.IDENTITY, Loss.MSE);
        try (OrtSession session = ORT.createSession(OnnxExport.toBytes(regression,
                randomParams(regression, new SplittableRandom(2), 1.0), InputScaling.NONE, Precision.FLOAT64, null,
                Map.of()), new OrtSession.SessionOptions())) {
            assertEquals(List.of(OnnxExport.PREDICTION), List.copyOf(session.getOutputNames()));
            TensorInfo prediction = tensor(session.getOutputInfo().get(OnnxExport.PREDICTION));
            assertEquals(OnnxJavaType.DOUBLE, prediction.type);
            assertArrayEquals(new long[] {-1, 2}, prediction.getShape());
        }
    }

    @Test
    void badArgumentsAreRefusedNamingTheValues() {
        NetworkSpec spec = NetworkSpec.of(new int[] {3, 2}, Activation.IDENTITY, Activation.IDENTITY, Loss.MSE);
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class, () -> OnnxExport.toBytes(spec,
                new double[5], InputScaling.NONE, Precision.FLOAT32, null, Map.of()));
        assertTrue(count.getMessage().contains("needs 8 parameters but got 5"), count.getMessage());
        IllegalArgumentException features = assertThrows(IllegalArgumentException.class, () -> OnnxExport.toBytes(spec,
                new double[8], InputScaling.divide(2.0, 4), Precision.FLOAT32, null, Map.of()));
        assertTrue(features.getMessage().contains("takes 3 features but the scaling has 4"), features.getMessage());
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> new InputScaling(new double[2], new double[] {1.0, 0.0}));
        assertTrue(zero.getMessage().contains("scale of feature 1 must be finite and non-zero but got 0.0"),
                zero.getMessage());
        IllegalArgumentException lengths = assertThrows(IllegalArgumentException.class,
                () -> new InputScaling(new double[2], new double[3]));
        assertTrue(lengths.getMessage().contains("but got 2 and 3"), lengths.getMessage());
    }

    private static TensorInfo tensor(NodeInfo info) {
        return (TensorInfo) info.getInfo();
    }

    /**
     * Weights around ±1/√numIn (so units are neither saturated nor dead), biases around ±0.5; the
     * output layer's weights times √outputGain and its biases times outputGain, for outputs of that
     * size. (Large weights that cancel to a small output would measure float32's cancellation, which
     * no float32 graph avoids: export as float64 for those.)
     */
    private static double[] randomParams(NetworkSpec spec, SplittableRandom random, double outputGain) {
        double[] params = new double[spec.paramCount()];
        for (int k = 0; k < spec.numLayers(); k++) {
            int numIn = spec.layer(k).numIn();
            double gain = (k == spec.numLayers() - 1 ? Math.sqrt(outputGain) : 1.0) * 2.0 / Math.sqrt(numIn);
            for (int i = spec.weightOffset(k); i < spec.biasOffset(k); i++) {
                params[i] = gain * random.nextDouble(-1, 1);
            }
            for (int i = spec.biasOffset(k); i < spec.biasOffset(k) + spec.layer(k).numOut(); i++) {
                params[i] = (k == spec.numLayers() - 1 ? outputGain : 1.0) * 0.5 * random.nextDouble(-1, 1);
            }
        }
        return params;
    }

    private static double scale(double x, InputScaling scaling, int j) {
        double v = scaling.shift() == null ? x : x - scaling.shift()[j];
        return scaling.scale() == null ? v : v / scaling.scale()[j];
    }

    private static Workspace forward(NetworkSpec spec, double[] params, double[] features, Precision precision) {
        int n = features.length / spec.inputSize();
        DataBlock block = new DataBlock(n, spec.inputSize(), spec.outputSize(), features,
                new double[n * spec.outputSize()], null);
        Workspace ws = new Workspace(spec, n).load(block, 0, n);
        new Network(spec, precision).forward(params, ws);
        return ws;
    }

    /** Every output of the graph for {@code raw (n, in)}, widened to double and flattened row-major. */
    private static Map<String, double[]> run(byte[] onnx, double[] raw, int n, int in, Precision type)
            throws OrtException {
        try (OrtSession session = ORT.createSession(onnx, new OrtSession.SessionOptions())) {
            Object input;
            if (type == Precision.FLOAT32) {
                float[][] x = new float[n][in];
                for (int r = 0; r < n; r++) {
                    for (int j = 0; j < in; j++) {
                        x[r][j] = (float) raw[r * in + j];
                    }
                }
                input = x;
            } else {
                double[][] x = new double[n][in];
                for (int r = 0; r < n; r++) {
                    System.arraycopy(raw, r * in, x[r], 0, in);
                }
                input = x;
            }
            try (OnnxTensor features = OnnxTensor.createTensor(ORT, input);
                 OrtSession.Result result = session.run(Map.of(OnnxExport.FEATURES, features))) {
                Map<String, double[]> out = new java.util.LinkedHashMap<>();
                result.forEach(entry -> {
                    try {
                        out.put(entry.getKey(), flatten(entry.getValue().getValue()));
                    } catch (OrtException e) {
                        throw new IllegalStateException(e);
                    }
                });
                return out;
            }
        }
    }

    private static double[] flatten(Object value) {
        if (value instanceof long[] labels) {
            return Arrays.stream(labels).asDoubleStream().toArray();
        }
        if (value instanceof float[][] rows) {
            return Arrays.stream(rows).flatMapToDouble(row -> {
                double[] wide = new double[row.length];
                for (int j = 0; j < row.length; j++) {
                    wide[j] = row[j];
                }
                return Arrays.stream(wide);
            }).toArray();
        }
        if (value instanceof double[][] rows) {
            return Arrays.stream(rows).flatMapToDouble(Arrays::stream).toArray();
        }
        throw new AssertionError("Unexpected output " + value.getClass());
    }

    /** The gap between the largest and the second largest value of a row. */
    private static double margin(double[] v, int off, int width) {
        double[] row = Arrays.copyOfRange(v, off, off + width);
        Arrays.sort(row);
        return row[width - 1] - row[width - 2];
    }

    private static void assertClose(double[] expected, double[] actual, double tolerance, String what) {
        assertEquals(ROWS * (expected.length / ROWS), actual.length, what + ": values");
        double worst = 0;
        int at = -1;
        for (int i = 0; i < actual.length; i++) {
            double error = Math.abs(expected[i] - actual[i]) / Math.max(1.0, Math.abs(expected[i]));
            if (!(error <= worst)) {
                worst = error;
                at = i;
            }
        }
        assertTrue(worst <= tolerance, what + ": worst error " + worst + " at " + at + " (expected " + (at < 0 ? "" :
                expected[at] + ", got " + actual[at]) + "), tolerance " + tolerance);
    }
}
