package io.sparkprop.spark.checkpoint;

import io.sparkprop.spark.train.EpochMetrics;
import io.sparkprop.spark.train.TrainingState;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32C;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * {@code state.bin} files written by the test, independently of {@link StateCodec}: the layout its
 * header documents, for versions 1 and 2, with any metrics strings. They stand for checkpoints
 * written before the epoch history was typed (when the strings were the only in-memory form), and
 * for checkpoints whose metrics a JSON tool rewrote.
 */
public final class StateFiles {

    private StateFiles() {
    }

    /** {@code state} (without its params) in the version-{@code version} layout, with {@code metricsLines}. */
    static byte[] encode(int version, TrainingState state, List<String> metricsLines) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.write("SPRPCKPT".getBytes(StandardCharsets.US_ASCII));
        out.writeInt(version);
        out.writeInt(state.epoch());
        out.writeInt(state.step());
        out.writeLong(state.globalStep());
        out.writeDouble(state.epochObjectiveSum());
        out.writeDouble(state.epochWeightSum());
        out.writeDouble(state.learningRateScale());
        out.writeInt(state.consecutiveSkips());
        out.writeInt(state.rollbacks());
        out.writeDouble(state.elapsedSeconds());
        string(out, state.optimizer().kind());
        out.writeLong(state.optimizer().steps());
        out.writeInt(state.optimizer().slots().length);
        for (double[] slot : state.optimizer().slots()) {
            doubles(out, slot);
        }
        out.writeInt(metricsLines.size());
        for (String line : metricsLines) {
            string(out, line);
        }
        if (version >= 2) {
            doubles(out, state.bestParams());
        }
        out.flush();
        CRC32C crc = new CRC32C();
        crc.update(bytes.toByteArray());
        out.writeInt((int) crc.getValue());
        return bytes.toByteArray();
    }

    /**
     * Rewrites the metrics inside the checkpoint {@code checkpointDir} (a directory
     * {@link CheckpointStore} wrote) through {@code rewrite}, one string per epoch, and reseals its
     * manifest, as if the checkpoint had been written with those strings. Returns the new strings.
     */
    public static List<String> rewriteMetrics(String checkpointDir, UnaryOperator<String> rewrite) throws IOException {
        Path dir = new Path(checkpointDir);
        FileSystem fs = dir.getFileSystem(new Configuration());
        Path statePath = new Path(dir, CheckpointStore.STATE);
        TrainingState state = StateCodec.decode(read(fs, statePath), new double[0], statePath.toString());
        List<String> lines = new ArrayList<>();
        for (EpochMetrics m : state.history()) {
            lines.add(rewrite.apply(m.toJson()));
        }
        byte[] bytes = encode(StateCodec.VERSION, state, lines);
        write(fs, statePath, bytes);

        Path manifestPath = new Path(dir, CheckpointStore.MANIFEST);
        String manifest = new String(read(fs, manifestPath), StandardCharsets.UTF_8);
        StringBuilder body = new StringBuilder();
        for (String line : manifest.substring(0, manifest.lastIndexOf("crc32c ")).split("\n")) {
            body.append(line.startsWith("file " + CheckpointStore.STATE + " ")
                    ? String.format(Locale.ROOT, "file %s %d %08x", CheckpointStore.STATE, bytes.length, crc(bytes))
                    : line).append('\n');
        }
        byte[] sealedBody = body.toString().getBytes(StandardCharsets.UTF_8);
        write(fs, manifestPath, (body + String.format(Locale.ROOT, "crc32c %08x%n", crc(sealedBody)))
                .getBytes(StandardCharsets.UTF_8));
        return lines;
    }

    private static void string(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static void doubles(DataOutputStream out, double[] values) throws IOException {
        out.writeInt(values.length);
        for (double v : values) {
            out.writeDouble(v);
        }
    }

    private static byte[] read(FileSystem fs, Path path) throws IOException {
        try (InputStream in = fs.open(path)) {
            return in.readAllBytes();
        }
    }

    /** Through Hadoop's file system, so the local file system's .crc side files stay right. */
    private static void write(FileSystem fs, Path path, byte[] bytes) throws IOException {
        try (OutputStream out = fs.create(path, true)) {
            out.write(bytes);
        }
    }

    private static long crc(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return crc.getValue();
    }
}
