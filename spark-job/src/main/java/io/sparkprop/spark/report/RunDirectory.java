package io.sparkprop.spark.report;

import io.sparkprop.spark.checkpoint.WriteFailure;
import io.sparkprop.spark.checkpoint.WriterClaim;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FSError;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A run's output folder on any Hadoop file system (local path, {@code file://}, {@code hdfs://}):
 * the effective config, {@code metrics.jsonl} and the model. Every file is written whole under a
 * temporary name and then renamed into place, so a reader never sees half a file.
 *
 * <p>A run's state shows in its files: {@link #MODEL} present means finished (and the directory is
 * never reused); {@link #FAILED} present means the last attempt stopped with the error it holds
 * (the checkpoints are left as they were, and the same directory may be resumed); neither means
 * running, or killed before it could say. While a run writes, {@link WriterClaim#FILE} names it
 * (the session takes the claim and {@linkplain #guardedBy guards} the directory with it: nothing is
 * written once the claim is lost).
 *
 * <p>A failed write (an {@link IOException}, or Hadoop's {@link FSError}: a full disk, a quota)
 * removes its temporary file and leaves the file it would have replaced as it was.
 */
public final class RunDirectory {

    /** The file names a run leaves. */
    public static final String CONFIG = "config.conf";
    public static final String METRICS = "metrics.jsonl";
    public static final String MODEL = "model.spm";
    /** Present when the run's last attempt failed: the error, as text; removed when an attempt starts. */
    public static final String FAILED = "FAILED";

    private final Path root;
    private final FileSystem fs;
    private volatile WriterClaim claim;

    private RunDirectory(Path root, FileSystem fs) {
        this.root = root;
        this.fs = fs;
    }

    /**
     * Opens or creates the run directory {@code uri}. Refuses a directory that holds a finished
     * run's model, so one run never overwrites another's results; an unfinished run's directory is
     * opened (to resume from its checkpoints).
     */
    public static RunDirectory create(String uri, Configuration conf) {
        Path root = new Path(uri);
        try {
            FileSystem fs = root.getFileSystem(conf);
            root = fs.makeQualified(root);
            RunDirectory run = new RunDirectory(root, fs);
            run.requireUnfinished();
            if (!fs.mkdirs(root)) {
                throw new IllegalArgumentException("Cannot create run directory " + root);
            }
            return run;
        } catch (IOException | FSError e) {
            throw new IllegalArgumentException("Cannot create run directory " + uri + ": " + WriteFailure.reason(e), e);
        }
    }

    /**
     * Refuses a directory that holds a finished run's model. Checked again once the run holds its
     * claim: a run that finished between {@link #create} and the claim must not be overwritten.
     */
    public void requireUnfinished() throws IOException {
        if (fs.exists(new Path(root, MODEL))) {
            throw new IllegalArgumentException("Run directory " + root + " already holds a finished run (" + MODEL
                    + "); choose another --run-dir");
        }
    }

    /** Writes only while {@code claim} holds ({@link WriterClaim#check} before every write). */
    public RunDirectory guardedBy(WriterClaim claim) {
        this.claim = claim;
        return this;
    }

    /** The qualified URI of the directory. */
    public String uri() {
        return root.toString();
    }

    /** The qualified URI of {@code name} inside the directory. */
    public String file(String name) {
        return new Path(root, name).toString();
    }

    /**
     * Marks the run failed: {@link #FAILED} holds {@code error}'s message and those of its causes,
     * one a line. A failure to write the mark is added to {@code error} as suppressed, never thrown
     * over it.
     */
    public void markFailed(Throwable error) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            text.append(t.getClass().getName()).append(": ").append(t.getMessage()).append('\n');
        }
        try {
            writeText(FAILED, text.toString());
        } catch (IOException | RuntimeException e) {
            error.addSuppressed(e);
        }
    }

    /** Removes the {@link #FAILED} mark of an earlier attempt, if any: this attempt is running. */
    public void clearFailed() throws IOException {
        Path mark = new Path(root, FAILED);
        if (fs.exists(mark) && !fs.delete(mark, false)) {
            throw new IOException("Cannot remove " + mark);
        }
    }

    /** Writes {@code text} as {@code name} (UTF-8), replacing any previous version whole. */
    public void writeText(String name, String text) throws IOException {
        write(name, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** What to write into a file. */
    @FunctionalInterface
    public interface Writer {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Writes {@code name} through {@code writer} under a temporary name, then renames it into place. */
    public void write(String name, Writer writer) throws IOException {
        WriterClaim guard = claim;
        if (guard != null) {
            guard.check();
        }
        Path target = new Path(root, name);
        Path temp = new Path(root, "." + name + ".tmp-" + UUID.randomUUID());
        try {
            try (FSDataOutputStream out = fs.create(temp, false)) {
                writer.writeTo(out);
                out.hsync();
            }
            if (fs.exists(target) && !fs.delete(target, false)) {
                throw new IOException("Cannot replace " + target);
            }
            if (!fs.rename(temp, target)) {
                throw new IOException("Cannot rename " + temp + " to " + target);
            }
        } catch (IOException | FSError | RuntimeException e) {
            try {
                fs.delete(temp, false);
            } catch (IOException | FSError | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw WriteFailure.of(target, e);
        }
    }
}
