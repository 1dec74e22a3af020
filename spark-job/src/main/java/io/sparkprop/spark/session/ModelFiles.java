package io.sparkprop.spark.session;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkprop.core.Precision;
import io.sparkprop.core.io.Model;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.core.onnx.InputScaling;
import io.sparkprop.core.onnx.OnnxExport;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.train.BlockOps;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Models on Hadoop file systems, and the feature preprocessing a model carries: metadata
 * {@code sparkprop.task}, {@code sparkprop.scaling} ({@code none}, {@code divide},
 * {@code standardize}), {@code sparkprop.scaling.divisor}, {@code sparkprop.config} (the effective
 * training config), {@code sparkprop.feature-columns} (the training data's feature column names,
 * as a JSON array of strings, when the data named them), and for standardization the arrays {@code scaling.shift} and
 * {@code scaling.scale}. Also the ONNX form of a model ({@link #writeOnnx}), with that preprocessing
 * folded in.
 */
public final class ModelFiles {

    public static final String TASK = "sparkprop.task";
    public static final String SCALING = "sparkprop.scaling";
    public static final String DIVISOR = "sparkprop.scaling.divisor";
    public static final String CONFIG = "sparkprop.config";
    public static final String FEATURE_COLUMNS = "sparkprop.feature-columns";
    public static final String SHIFT = "scaling.shift";
    public static final String SCALE = "scaling.scale";

    private ModelFiles() {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The metadata a model trained under {@code config} carries: its task, its feature scaling
     * (with the divisor) and the effective config.
     */
    public static Map<String, String> metadata(TrainingConfig config) {
        return metadata(config, List.of());
    }

    /**
     * {@link #metadata(TrainingConfig)} and, when {@code featureColumns} is not empty, the training
     * data's feature column names in input order as {@link #FEATURE_COLUMNS}, a JSON array of
     * strings (names may hold commas), by which predict and evaluate find the features of data
     * whose columns are in another order.
     */
    public static Map<String, String> metadata(TrainingConfig config, List<String> featureColumns) {
        Map<String, String> metadata = new LinkedHashMap<>();
        if (!featureColumns.isEmpty()) {
            try {
                metadata.put(FEATURE_COLUMNS, JSON.writeValueAsString(featureColumns));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("Cannot write feature column names as JSON: " + featureColumns, e);
            }
        }
        metadata.put(TASK, TrainingConfig.Model.taskName(config.model().task()));
        metadata.put(SCALING, config.data().scaling().key());
        if (config.data().scaling() == TrainingConfig.Scaling.DIVIDE) {
            metadata.put(DIVISOR, Double.toString(config.data().scalingDivisor()));
        }
        metadata.put(CONFIG, config.text().render());
        return metadata;
    }

    /** Reads the model at {@code uri}; errors name the file. */
    public static Model read(String uri, Configuration conf) {
        Path path = new Path(uri);
        try {
            FileSystem fs = path.getFileSystem(conf);
            if (!fs.exists(path)) {
                throw new IllegalArgumentException("Model file " + uri + " does not exist");
            }
            try (InputStream in = fs.open(path)) {
                return ModelCodec.read(in, fs.makeQualified(path).toString());
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot read model " + uri + ": " + e.getMessage(), e);
        }
    }

    /**
     * The feature column names {@code model} was trained on, in order ({@link #FEATURE_COLUMNS});
     * empty when it records none (positional training data, an estimator's vector column, a model
     * from before the key).
     *
     * @throws IllegalArgumentException when the key does not hold a JSON array of strings
     */
    public static List<String> featureColumns(Model model) {
        String text = model.metadata().get(FEATURE_COLUMNS);
        if (text == null) {
            return List.of();
        }
        try {
            List<String> names = JSON.readValue(text, new TypeReference<List<String>>() { });
            if (names == null || names.contains(null) || names.isEmpty()
                    || names.size() != model.spec().inputSize()) {
                throw new IllegalArgumentException("expected " + model.spec().inputSize() + " names");
            }
            return List.copyOf(names);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new IllegalArgumentException("Model metadata " + FEATURE_COLUMNS + " must be a JSON array of "
                    + model.spec().inputSize() + " column names but is " + text + ": " + e.getMessage(), e);
        }
    }

    /** The standardization stored in {@code model}, or {@code null}. */
    public static BlockOps.Scaling standardization(Model model) {
        if (!"standardize".equals(model.metadata().get(SCALING))) {
            return null;
        }
        return new BlockOps.Scaling(model.array(SHIFT), model.array(SCALE));
    }

    /** The divisor applied to features as they are read ({@code 1} unless the model was trained with divide). */
    public static double divisor(Model model) {
        return "divide".equals(model.metadata().get(SCALING)) ? Double.parseDouble(model.metadata().get(DIVISOR)) : 1.0;
    }

    /**
     * The feature scaling that {@code model}'s network expects in front of it, as the ONNX exporter
     * folds it in: the stored standardization, the divisor of {@code divide}, or none.
     */
    public static InputScaling inputScaling(Model model) {
        int numFeatures = model.spec().inputSize();
        String scaling = model.metadata().getOrDefault(SCALING, "none");
        return switch (scaling) {
            case "none" -> InputScaling.NONE;
            case "divide" -> InputScaling.divide(divisor(model), numFeatures);
            case "standardize" -> {
                double[] shift = model.array(SHIFT);
                double[] scale = model.array(SCALE);
                if (shift == null || scale == null || shift.length != numFeatures || scale.length != numFeatures) {
                    throw new IllegalArgumentException("The model's " + SCALING + " is standardize but its arrays "
                            + SHIFT + " and " + SCALE + " do not hold " + numFeatures + " values each");
                }
                yield new InputScaling(shift, scale);
            }
            default -> throw new IllegalArgumentException("Unknown " + SCALING + " '" + scaling
                    + "' in the model; expected none, divide or standardize");
        };
    }

    /**
     * Writes {@code model} as an ONNX model of element type {@code type} to {@code uri} (any Hadoop
     * URI), its scaling folded in, its metadata as the ONNX model's metadata properties. The file is
     * written under a temporary name beside the target and then renamed over it. Returns the
     * qualified path written. Errors name the path; an existing directory is refused.
     */
    public static String writeOnnx(Model model, Precision type, String uri, Configuration conf) {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("sparkprop.spec", model.spec().toString());
        metadata.putAll(model.metadata());
        byte[] bytes = OnnxExport.toBytes(model.spec(), model.params(), inputScaling(model), type,
                "sparkprop " + model.spec(), metadata);
        Path target = new Path(uri);
        FileSystem fs;
        try {
            fs = target.getFileSystem(conf);
            target = fs.makeQualified(target);
            if (fs.exists(target) && fs.getFileStatus(target).isDirectory()) {
                throw new IllegalArgumentException("Cannot write the ONNX model to " + uri + ": it is a directory");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot write the ONNX model to " + uri + ": " + e.getMessage(), e);
        }
        Path temp = new Path(target.getParent(), "." + target.getName() + ".tmp-" + UUID.randomUUID());
        try {
            try (FSDataOutputStream out = fs.create(temp, false)) {
                out.write(bytes);
                out.hsync();
            }
            if (fs.exists(target) && !fs.delete(target, false)) {
                throw new IOException("cannot replace the existing file");
            }
            if (!fs.rename(temp, target)) {
                throw new IOException("cannot rename " + temp + " into place");
            }
        } catch (IOException e) {
            try {
                fs.delete(temp, false);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new IllegalArgumentException("Cannot write the ONNX model to " + uri + ": " + e.getMessage(), e);
        }
        return target.toString();
    }
}
