package io.sparkprop.spark.cli;

import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.io.Model;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.checkpoint.CheckpointStore;
import io.sparkprop.spark.report.RunDirectory;
import io.sparkprop.spark.session.ModelFiles;
import io.sparkprop.spark.train.TrainingState;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * {@code inspect PATH}: a summary of a model file, of one checkpoint directory, or of every
 * checkpoint of a run directory or checkpoint store: topology, position, metrics, checksum status
 * and the parameters' CRC32C. Needs no Spark.
 */
public final class InspectCommand {

    private InspectCommand() {
    }

    /** The summary of {@code uri} as text. */
    public static String run(String uri, Configuration conf) throws IOException {
        Path path = new Path(uri);
        FileSystem fs = path.getFileSystem(conf);
        if (!fs.exists(path)) {
            throw new IllegalArgumentException("Nothing to inspect at " + uri + ": no such file or directory");
        }
        if (fs.getFileStatus(path).isFile()) {
            try (InputStream in = fs.open(path)) {
                return describeModel(ModelCodec.read(in, uri), "model " + fs.makeQualified(path));
            }
        }
        if (fs.exists(new Path(path, CheckpointStore.MANIFEST)) || path.getName().matches("step-\\d{12}")) {
            CheckpointStore store = CheckpointStore.open(path.getParent().toString(), conf, 1);
            return describeCheckpoint(store, path.toString());
        }
        StringBuilder sb = new StringBuilder();
        if (fs.exists(new Path(path, RunDirectory.MODEL))) {
            try (InputStream in = fs.open(new Path(path, RunDirectory.MODEL))) {
                sb.append(describeModel(ModelCodec.read(in, uri), "final model " + new Path(path, RunDirectory.MODEL)))
                        .append('\n');
            }
        }
        Path checkpoints = fs.exists(new Path(path, "checkpoints")) ? new Path(path, "checkpoints") : path;
        CheckpointStore store = CheckpointStore.open(checkpoints.toString(), conf, 1);
        List<CheckpointStore.Entry> entries = store.list();
        sb.append(String.format(Locale.ROOT, "checkpoints in %s: %d%n", store.uri(), entries.size()));
        for (CheckpointStore.Entry entry : entries) {
            sb.append(String.format(Locale.ROOT, "  step %d  %s  %s%n", entry.globalStep(), entry.valid() ? "VALID  "
                    : "INVALID", entry.valid() ? new Path(entry.uri()).getName() : entry.problem()));
        }
        for (int i = entries.size() - 1; i >= 0; i--) {
            if (entries.get(i).valid()) {
                sb.append("newest valid:\n").append(describeCheckpoint(store, entries.get(i).uri()));
                break;
            }
        }
        return sb.toString();
    }

    private static String describeCheckpoint(CheckpointStore store, String dir) throws IOException {
        StringBuilder sb = new StringBuilder("checkpoint ").append(dir).append('\n');
        try {
            store.verify(new Path(dir));
            sb.append("  checksums: OK (manifest and every file)\n");
        } catch (IOException e) {
            return sb.append("  checksums: FAILED: ").append(e.getMessage()).append('\n').toString();
        }
        CheckpointStore.Checkpoint checkpoint = store.load(dir);
        TrainingState s = checkpoint.state();
        sb.append(String.format(Locale.ROOT, "  position: epoch %d, next step %d, global step %d%n", s.epoch() + 1,
                s.step() + 1, s.globalStep()));
        sb.append(String.format(Locale.ROOT, "  optimizer: %s after %d steps, %d state arrays%n", s.optimizer().kind(),
                s.optimizer().steps(), s.optimizer().slots().length));
        sb.append(String.format(Locale.ROOT, "  learning-rate scale %s, skipped in a row %d, rollbacks %d, trained %.1fs%n",
                s.learningRateScale(), s.consecutiveSkips(), s.rollbacks(), s.elapsedSeconds()));
        if (!s.history().isEmpty()) {
            sb.append("  last epoch: ").append(s.history().get(s.history().size() - 1).toJson()).append('\n');
        }
        sb.append(describeModel(checkpoint.model(), "  weights").replace("\n", "\n  ").stripTrailing()).append('\n');
        return sb.toString();
    }

    private static String describeModel(Model model, String title) {
        NetworkSpec spec = model.spec();
        double[] params = model.params();
        StringBuilder sb = new StringBuilder(title).append('\n');
        sb.append("  topology: ").append(spec).append('\n');
        sb.append(String.format(Locale.ROOT, "  parameters: %d, CRC32C %08x%n", params.length,
                ModelCodec.parameterChecksum(params)));
        sb.append("  checksum: OK\n");
        for (String key : List.of(ModelFiles.TASK, ModelFiles.SCALING, ModelFiles.DIVISOR)) {
            if (model.metadata().containsKey(key)) {
                sb.append("  ").append(key).append(": ").append(model.metadata().get(key)).append('\n');
            }
        }
        return sb.toString();
    }
}
