package io.sparkprop.spark.checkpoint;

import java.io.IOException;
import org.apache.hadoop.fs.FSError;
import org.apache.hadoop.fs.Path;

/**
 * A failed write as one {@link IOException} whose message names the file and the cause. Hadoop's
 * local file system reports a full disk or an I/O error as {@link FSError}, an {@link Error} that
 * no {@code catch (IOException)} sees; the writers catch it (and only it, not errors in general)
 * around their file system calls and turn it into this.
 */
public final class WriteFailure {

    private WriteFailure() {
    }

    /** {@code "Cannot write <target>: <cause>"}, with {@code e} as the cause. */
    public static IOException of(Path target, Throwable e) {
        return new IOException("Cannot write " + target + ": " + reason(e), e);
    }

    /** What went wrong, in the file system's words: an {@link FSError}'s cause's message, not its class name. */
    public static String reason(Throwable e) {
        Throwable t = e instanceof FSError && e.getCause() != null ? e.getCause() : e;
        String message = t.getMessage();
        return message == null || message.isBlank() ? t.getClass().getSimpleName() : message.strip();
    }
}
