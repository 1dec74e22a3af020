package io.sparkprop.spark.session;

import io.sparkprop.spark.train.DistributedTrainer;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The live progress line of an interactive {@code train}: within each epoch, one line rewritten in
 * place ({@code \r}) with the steps done, examples per second and the epoch's ETA, at most once per
 * {@code minIntervalNanos} (and always at the epoch's last step). {@link #clear} wipes it before
 * the epoch's log line. Logs that are not a terminal get only the per-epoch lines.
 */
public final class ProgressLine implements DistributedTrainer.Progress {

    private final PrintStream out;
    private final LongSupplier clock;
    private final long minIntervalNanos;
    private final long rows;
    private long lastPrint;
    private boolean printed;
    private int width;

    /**
     * @param rows training rows per epoch, for examples per second
     */
    ProgressLine(PrintStream out, LongSupplier clock, long minIntervalNanos, long rows) {
        this.out = out;
        this.clock = clock;
        this.minIntervalNanos = minIntervalNanos;
        this.rows = rows;
    }

    /** A line on this terminal (stderr, where the logs go), at most 4 times a second. */
    public static ProgressLine forTerminal(long rows) {
        return new ProgressLine(System.err, System::nanoTime, 250_000_000L, rows);
    }

    /**
     * Whether to show a progress line: {@code SPARKPROP_PROGRESS=1} or {@code 0} decides; otherwise
     * only when the process runs in a terminal ({@code System.console()}).
     */
    public static boolean wanted() {
        String setting = System.getenv("SPARKPROP_PROGRESS");
        if (setting != null) {
            return setting.equals("1");
        }
        return System.console() != null;
    }

    @Override
    public void step(int epoch, int epochs, int step, int stepsPerEpoch, double epochSeconds) {
        long now = clock.getAsLong();
        if (printed && step < stepsPerEpoch && now - lastPrint < minIntervalNanos) {
            return;
        }
        lastPrint = now;
        printed = true;
        String line = format(epoch, epochs, step, stepsPerEpoch, epochSeconds, rows);
        out.print("\r" + line + " ".repeat(Math.max(0, width - line.length())));
        out.flush();
        width = line.length();
    }

    /** Wipes the line, if one is showing. */
    public void clear() {
        if (width > 0) {
            out.print("\r" + " ".repeat(width) + "\r");
            out.flush();
            width = 0;
        }
    }

    /** {@code epoch 2/10 · step 128/469 · 23400 ex/s · ETA 0m07s} */
    static String format(int epoch, int epochs, int step, int stepsPerEpoch, double epochSeconds, long rows) {
        double fraction = (double) step / stepsPerEpoch;
        double examplesPerSec = epochSeconds > 0 ? rows * fraction / epochSeconds : 0;
        double eta = step > 0 ? epochSeconds / step * (stepsPerEpoch - step) : Double.NaN;
        return String.format(Locale.ROOT, "epoch %d/%d · step %d/%d · %.0f ex/s · ETA %s", epoch + 1, epochs, step,
                stepsPerEpoch, examplesPerSec, Double.isNaN(eta) ? "?" : formatSeconds(eta));
    }

    private static String formatSeconds(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
