package io.sparkprop.spark.session;

import io.sparkprop.core.io.Model;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.train.BlockOps;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Models on Hadoop file systems, and the feature preprocessing a model carries: metadata
 * {@code sparkprop.task}, {@code sparkprop.scaling} ({@code none}, {@code divide},
 * {@code standardize}), {@code sparkprop.scaling.divisor}, {@code sparkprop.config} (the effective
 * training config), and for standardization the arrays {@code scaling.shift} and
 * {@code scaling.scale}.
 */
public final class ModelFiles {

    public static final String TASK = "sparkprop.task";
    public static final String SCALING = "sparkprop.scaling";
    public static final String DIVISOR = "sparkprop.scaling.divisor";
    public static final String CONFIG = "sparkprop.config";
    public static final String SHIFT = "scaling.shift";
    public static final String SCALE = "scaling.scale";

    private ModelFiles() {
    }

    /**
     * The metadata a model trained under {@code config} carries: its task, its feature scaling
     * (with the divisor) and the effective config.
     */
    public static Map<String, String> metadata(TrainingConfig config) {
        Map<String, String> metadata = new LinkedHashMap<>();
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
}
