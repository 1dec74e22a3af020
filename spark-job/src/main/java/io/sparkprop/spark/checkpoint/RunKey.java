package io.sparkprop.spark.checkpoint;

import io.sparkprop.spark.config.ConfigKey;
import io.sparkprop.spark.config.ConfigSchema;
import io.sparkprop.spark.config.JobConfig;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.hadoop.fs.Path;

/**
 * What makes two estimator fits the same run, so that a fit resumes only the checkpoints of its own
 * interrupted run: the value of every config key that defines the run
 * ({@link ConfigSchema#definesRun}: all but the harmless keys, plus the epoch count), the
 * starting weights, and the fingerprints of the training and validation blocks. The key names the
 * fit's own store under {@code checkpointDir}: the subdirectory {@link #id}, a SHA-256 prefix of
 * {@link #text}, with the text beside the checkpoints in {@link CheckpointStore#RUN_KEY} for
 * people to read and for {@link CheckpointStore#bind} to check.
 *
 * <p>Not for the command line: its run directory (or {@code checkpoint.dir}) belongs to one run,
 * which a user may resume on purpose with a changed learning rate ({@link ResumeCheck}'s
 * trajectory changes).
 *
 * @param text the key as lines: {@code key = value} for each defining config key in schema order,
 *             {@code initial weights = ...}, then the data fingerprints
 */
public record RunKey(String text) {

    /** Hex digits of the SHA-256 in {@link #id}: 64 bits, so distinct runs never meet in practice. */
    private static final int ID_HEX_DIGITS = 16;

    public RunKey {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("A run key needs its text but got " + (text == null ? "null" : "''"));
        }
    }

    /**
     * The key of a fit under {@code config} starting from {@code initialParams} ({@code null} for the
     * seeded initialization; the values' bits are hashed, not copied) on the blocks fingerprinted
     * {@code trainFingerprint} and {@code validationFingerprint} ({@code null} without validation
     * rows), as {@link io.sparkprop.spark.data.BlockFingerprint} writes them.
     */
    public static RunKey of(JobConfig config, double[] initialParams, String trainFingerprint,
                            String validationFingerprint) {
        if (trainFingerprint == null) {
            throw new IllegalArgumentException("A run key needs the training data's fingerprint but got null");
        }
        StringBuilder sb = new StringBuilder();
        sb.append("# sparkprop run key: a fit resumes only checkpoints written under this same key.\n")
          .append("# The config keys that define the run:\n");
        for (ConfigKey<?> key : ConfigSchema.keys().values()) {
            if (ConfigSchema.definesRun(key)) {
                sb.append(key.name()).append(" = ").append(config.get(key.name())).append('\n');
            }
        }
        sb.append("initial weights = ").append(initialParams == null ? "seeded"
                : initialParams.length + " values, sha256 " + sha256(bits(initialParams))).append('\n');
        sb.append(trainFingerprint.endsWith("\n") ? trainFingerprint : trainFingerprint + "\n");
        if (validationFingerprint == null) {
            sb.append("validation data\nnone\n");
        } else {
            sb.append(validationFingerprint.endsWith("\n") ? validationFingerprint : validationFingerprint + "\n");
        }
        return new RunKey(sb.toString());
    }

    /** The store's directory name: {@code fit-} and the first 16 hex digits of the text's SHA-256. */
    public String id() {
        return "fit-" + sha256(text.getBytes(StandardCharsets.UTF_8)).substring(0, ID_HEX_DIGITS);
    }

    /** This run's store directory under {@code root} (a Hadoop URI): {@code root/}{@link #id}. */
    public String directory(String root) {
        return new Path(root, id()).toString();
    }

    private static byte[] bits(double[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * Double.BYTES);
        for (double v : values) {
            buffer.putLong(Double.doubleToRawLongBits(v));
        }
        return buffer.array();
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("The JVM has no SHA-256, which every Java platform must provide", e);
        }
    }
}
