package io.sparkprop.spark;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Runs an exported ONNX file in ONNX Runtime on rows of raw features, for the export tests: every
 * output widened to {@code double[rows][width]} (an int64 class output as one column).
 */
public final class OnnxRuntimeSupport {

    private static final OrtEnvironment ORT = OrtEnvironment.getEnvironment();

    private OnnxRuntimeSupport() {
    }

    /** The outputs of the graph in {@code file} for {@code rows}, fed as float32 or as float64. */
    public static Map<String, double[][]> run(Path file, double[][] rows, boolean float32) throws Exception {
        try (OrtSession session = ORT.createSession(Files.readAllBytes(file), new OrtSession.SessionOptions())) {
            Object input = rows;
            if (float32) {
                float[][] narrow = new float[rows.length][];
                for (int r = 0; r < rows.length; r++) {
                    narrow[r] = new float[rows[r].length];
                    for (int j = 0; j < rows[r].length; j++) {
                        narrow[r][j] = (float) rows[r][j];
                    }
                }
                input = narrow;
            }
            try (OnnxTensor features = OnnxTensor.createTensor(ORT, input);
                 OrtSession.Result result = session.run(Map.of("features", features))) {
                Map<String, double[][]> out = new LinkedHashMap<>();
                for (Map.Entry<String, ai.onnxruntime.OnnxValue> entry : result) {
                    out.put(entry.getKey(), widen(entry.getValue().getValue()));
                }
                return out;
            }
        }
    }

    /** The output names, in order. */
    public static java.util.List<String> outputNames(Path file) throws OrtException, java.io.IOException {
        try (OrtSession session = ORT.createSession(Files.readAllBytes(file), new OrtSession.SessionOptions())) {
            return java.util.List.copyOf(session.getOutputNames());
        }
    }

    private static double[][] widen(Object value) {
        if (value instanceof long[] labels) {
            double[][] out = new double[labels.length][];
            for (int r = 0; r < labels.length; r++) {
                out[r] = new double[] {labels[r]};
            }
            return out;
        }
        if (value instanceof float[][] rows) {
            double[][] out = new double[rows.length][];
            for (int r = 0; r < rows.length; r++) {
                out[r] = new double[rows[r].length];
                for (int j = 0; j < rows[r].length; j++) {
                    out[r][j] = rows[r][j];
                }
            }
            return out;
        }
        if (value instanceof double[][] rows) {
            return rows;
        }
        throw new AssertionError("Unexpected output " + value.getClass());
    }
}
