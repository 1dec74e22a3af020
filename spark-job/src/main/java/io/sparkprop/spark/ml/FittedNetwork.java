package io.sparkprop.spark.ml;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.Workspace;
import io.sparkprop.core.io.Model;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.train.EpochMetrics;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.sql.SparkSession;

/**
 * What the two fitted models hold and share: the trained network (topology, weights, the
 * per-epoch training history), one row's forward pass, and saving and loading as Spark ML
 * metadata (the params) plus the network in sparkprop's model format at {@code data/model.spm}
 * (the file {@code scripts/sparkprop evaluate} and {@code predict} read) and the history as
 * {@code data/history.jsonl}. Serializable for the prediction closure; the history stays on the
 * driver.
 */
final class FittedNetwork implements java.io.Serializable {

    private static final long serialVersionUID = 1L;
    static final String MODEL_FILE = "data/model.spm";
    static final String HISTORY_FILE = "data/history.jsonl";

    final NetworkSpec spec;
    final double[] params;
    /** Driver-side only: not shipped with the prediction closure. */
    final transient List<EpochMetrics> history;
    private transient ThreadLocal<Workspace> workspaces;

    FittedNetwork(NetworkSpec spec, double[] params, List<EpochMetrics> history) {
        this.spec = spec;
        this.params = params;
        this.history = java.util.Collections.unmodifiableList(new ArrayList<>(history));
    }

    /** A saved model, read back: its Spark ML metadata and its network. */
    record Loaded(DefaultParamsReader.Metadata metadata, FittedNetwork network) {
    }

    /** The network's outputs for one row. */
    double[] forward(Vector features) {
        if (workspaces == null) {
            workspaces = ThreadLocal.withInitial(() -> new Workspace(spec, 1));
        }
        Workspace ws = workspaces.get();
        if (features.size() != spec.inputSize()) {
            throw new IllegalArgumentException("Expected a features vector of " + spec.inputSize() + " values but got "
                    + features.size());
        }
        DataBlock row = new DataBlock(1, spec.inputSize(), spec.outputSize(), features.toArray(),
                new double[spec.outputSize()], null);
        new Network(spec).forward(params, ws.load(row, 0, 1));
        return java.util.Arrays.copyOf(ws.output(), spec.outputSize());
    }

    /** Saves {@code stage}'s params and this network under {@code path}. */
    void save(SparkSession session, String path, Params stage) {
        DefaultParamsWriter$.MODULE$.saveMetadata(stage, path, session);
        try {
            FileSystem fs = new Path(path).getFileSystem(session.sparkContext().hadoopConfiguration());
            try (OutputStream out = fs.create(new Path(path, MODEL_FILE), false)) {
                out.write(ModelCodec.toBytes(new Model(spec, params, Map.of(), Map.of())));
            }
            StringBuilder lines = new StringBuilder();
            for (EpochMetrics m : history) {
                lines.append(m.toJson()).append('\n');
            }
            try (OutputStream out = fs.create(new Path(path, HISTORY_FILE), false)) {
                out.write(lines.toString().getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot save the model to " + path + ": " + e.getMessage(), e);
        }
    }

    static Loaded load(SparkSession session, String path, Class<?> type) {
        DefaultParamsReader.Metadata metadata = DefaultParamsReader$.MODULE$.loadMetadata(path, session, type.getName());
        try {
            FileSystem fs = new Path(path).getFileSystem(session.sparkContext().hadoopConfiguration());
            Model model;
            try (InputStream in = fs.open(new Path(path, MODEL_FILE))) {
                model = ModelCodec.fromBytes(in.readAllBytes());
            }
            List<EpochMetrics> history = new ArrayList<>();
            try (InputStream in = fs.open(new Path(path, HISTORY_FILE))) {
                for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                    if (!line.isBlank()) {
                        history.add(EpochMetrics.fromJson(line));
                    }
                }
            }
            return new Loaded(metadata, new FittedNetwork(model.spec(), model.params(), history));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot load the model from " + path + ": " + e.getMessage(), e);
        }
    }
}
