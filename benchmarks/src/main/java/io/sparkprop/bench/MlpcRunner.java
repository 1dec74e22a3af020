package io.sparkprop.bench;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel;
import org.apache.spark.ml.classification.MultilayerPerceptronClassifier;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Spark MLlib's {@code MultilayerPerceptronClassifier} (MLPC) timed to a target test accuracy: the
 * MLlib column of {@code scripts/bench}. It is not a trainer of ours and changes nothing in MLPC:
 * hidden layers are MLPC's sigmoids, the output its softmax, the loss its cross-entropy.
 *
 * <h2>Why independent runs</h2>
 * MLPC has no per-iteration callback, so the time to a target accuracy is measured with complete,
 * fresh fits of growing {@code maxIter}, each timed alone (fit only; the test accuracy after it is
 * not timed). The first fit that reaches the target gives the time to target, an upper bound at
 * the schedule's resolution: the same seed starts every fit from the same weights, so a fit of
 * {@code n} iterations is (up to floating-point summation order) the first {@code n} iterations of
 * a longer one, and the target was crossed somewhere after the previous fit's {@code maxIter}.
 * Nothing is counted twice: each fit's seconds are its own, and the budget is charged the sum.
 *
 * <ul>
 * <li>{@code l-bfgs}: maxIter 25, 50, 100, 150, 200, 300, 400, 600, 800, then +50% each time,
 *     each capped to what the remaining budget holds at the previous fit's seconds per iteration
 *     (an over-estimate: that includes the fit's fixed costs).</li>
 * <li>{@code gd}: a probe of 25 iterations, then one fit of as many iterations as the remaining
 *     budget holds at the probe's seconds per iteration. MLPC's gd is full-batch gradient descent
 *     (miniBatchFraction 1: every iteration is one pass over the data), slow to converge, so the
 *     budget is best spent on one long fit; its time to target, if reached, is that whole fit.</li>
 * </ul>
 * The search stops at the first fit that reaches the target, when the fits so far have used the
 * budget (or what is left of it holds fewer than 1.25 times the previous fit's iterations: a fit
 * is only repeated to go clearly further), or when a fit stopped before its {@code maxIter}: then
 * a larger one would repeat it. The first fit always runs, whatever the budget.
 *
 * <p>Before the timed fits, one untimed warm-up fit of a single iteration loads and compiles
 * MLPC's code paths, so the first timed fit does not pay the JVM's warm-up; its seconds are
 * reported ({@code warmupSeconds}) but not charged to the budget.
 *
 * <h2>Convergence tolerance</h2>
 * Every fit sets {@code tol = 0} so that it runs its {@code maxIter} iterations. In Spark 4.1,
 * {@code tol} goes to both optimizers. L-BFGS (Breeze's, through
 * {@code mllib.optimization.LBFGS}) stops when the objective equals the largest of its last 20
 * values to within {@code tol·|f(x₀)|}, when the gradient norm is at most
 * {@code max(tol·|f|, 1e-8)}, or when the line search fails twice in a row; with {@code tol = 0}
 * only an exactly flat objective, a gradient norm below 1e-8 or a failed line search end it early.
 * Gradient descent stops when the weight change is less than {@code tol·max(‖w‖, 1)}: never, for
 * 0. The iterations a fit actually ran come from its training summary's objective history, which
 * holds one entry more than iterations for both solvers (see {@link #iterations}).
 *
 * <h2>What one iteration costs</h2>
 * A gd iteration is one distributed gradient (broadcast the weights, one {@code treeAggregate}
 * over the whole data set) and one update; Spark 4.1 then runs one more distributed gradient, with
 * no update, only to record the loss at the final weights, so a fit of {@code n} iterations makes
 * {@code n + 1} passes. An L-BFGS iteration is one strong-Wolfe line search, which evaluates
 * the objective and gradient (one such pass each) until a step is accepted: usually once, more
 * often early on; the evaluation at the accepted point is cached and reused. Each fit also pays
 * fixed costs inside its time: converting the DataFrame to MLPC's stacked blocks (and persisting
 * them), one count, and one objective evaluation at the initial weights. Seconds per iteration and
 * examples per second ({@code rows × iterations / fit seconds}) therefore count iterations, not
 * data passes, and include those fixed costs.
 */
public final class MlpcRunner {

    /** For {@link #loadIdx}: every record of the files. */
    public static final int ALL_ROWS = Integer.MAX_VALUE;

    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;

    static final String L_BFGS = "l-bfgs";
    static final String GD = "gd";

    /** maxIter of the first fit, either solver. */
    static final int FIRST_MAX_ITER = 25;

    /** A further fit must run at least this many times the previous fit's maxIter. */
    static final double MIN_GROWTH = 1.25;

    private static final int[] L_BFGS_SCHEDULE = {25, 50, 100, 150, 200, 300, 400, 600, 800};

    /** Why the search stopped. */
    public enum StopReason {
        /** A fit reached the target accuracy. */
        REACHED("reached"),
        /** The budget is spent, or the next fit would not fit in what is left of it. */
        BUDGET("budget"),
        /** A fit ran fewer iterations than its maxIter (the optimizer stopped it), so a larger one would repeat it. */
        OPTIMIZER_STOPPED("optimizer-stopped");

        private final String key;

        StopReason(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    /**
     * One complete, fresh MLPC fit.
     *
     * @param iterations the iterations the fit ran: {@code maxIter} unless the optimizer stopped it earlier
     * @param fitSeconds wall time of {@code fit()} alone
     */
    public record Attempt(int maxIter, int iterations, double fitSeconds, double testAccuracy) {

        public String toJson() {
            return new JsonFields()
                    .add("max_iter", maxIter)
                    .add("iterations", iterations)
                    .add("fit_seconds", fitSeconds)
                    .add("test_accuracy", testAccuracy)
                    .close();
        }
    }

    /**
     * The outcome of {@link #run}. When the target was reached, {@code secondsToTarget},
     * {@code iterationsToTarget} and {@code accuracy} are those of the fit that reached it;
     * otherwise {@code secondsToTarget} is {@code NaN}, {@code iterationsToTarget} is -1 (both
     * {@code null} in JSON) and {@code accuracy} is the best test accuracy seen. The largest fit
     * (the last: maxIter only grows) gives {@code largestMaxIter}, {@code largestIterations},
     * {@code secondsPerIteration} and {@code examplesPerSecond}.
     *
     * @param totalFitSeconds the fit seconds of all attempts: what the budget was charged
     * @param warmupSeconds   the untimed warm-up fit's seconds, not charged to the budget
     */
    public record Result(String solver, int[] layers, long trainRows, long testRows, int partitions, int blockSize,
                         double stepSize, long seed, double targetAccuracy, double budgetSeconds, boolean reached,
                         double secondsToTarget, int iterationsToTarget, double accuracy, double totalFitSeconds,
                         double warmupSeconds, int largestMaxIter, int largestIterations, double secondsPerIteration,
                         double examplesPerSecond, StopReason stopReason, List<Attempt> attempts) {

        public Result {
            layers = layers.clone();
            attempts = List.copyOf(attempts);
        }

        @Override
        public int[] layers() {
            return layers.clone();
        }

        /** One JSON object on one line. */
        public String toJson() {
            List<String> fits = new ArrayList<>();
            for (Attempt attempt : attempts) {
                fits.add(attempt.toJson());
            }
            return new JsonFields()
                    .add("framework", "spark-mllib-mlpc")
                    .add("solver", solver)
                    .add("layers", layers)
                    .add("train_rows", trainRows)
                    .add("test_rows", testRows)
                    .add("partitions", partitions)
                    .add("block_size", blockSize)
                    .add("step_size", GD.equals(solver) ? stepSize : Double.NaN)
                    .add("seed", seed)
                    .add("target_accuracy", targetAccuracy)
                    .add("budget_seconds", budgetSeconds)
                    .add("reached", reached)
                    .add("seconds_to_target", secondsToTarget)
                    .add("iterations_to_target", reached ? Long.valueOf(iterationsToTarget) : null)
                    .add("test_accuracy", accuracy)
                    .add("total_fit_seconds", totalFitSeconds)
                    .add("warmup_seconds", warmupSeconds)
                    .add("largest_max_iter", largestMaxIter)
                    .add("largest_iterations", largestIterations)
                    .add("seconds_per_iteration", secondsPerIteration)
                    .add("examples_per_sec", examplesPerSecond)
                    .add("stop_reason", stopReason.key())
                    .addObjects("fits", fits)
                    .close();
        }

        /**
         * One table line, for example {@code MLPC l-bfgs 784-256-128-10: 0.9712 reached in 123.4 s
         * (150 it) · 0.823 s/it · 72,900 ex/s · 5 fits, 301.2 s}.
         */
        @Override
        public String toString() {
            String outcome = reached
                    ? String.format(Locale.ROOT, "%.4f reached in %.1f s (%d it)", accuracy, secondsToTarget,
                            iterationsToTarget)
                    : String.format(Locale.ROOT, "%.4f not reached (best %.4f, %d it, %s)", targetAccuracy, accuracy,
                            largestIterations, stopReason.key());
            return String.format(Locale.ROOT, "MLPC %s %s: %s · %.3f s/it · %,.0f ex/s · %d fit%s, %.1f s", solver,
                    layerString(layers), outcome, secondsPerIteration, examplesPerSecond, attempts.size(),
                    attempts.size() == 1 ? "" : "s", totalFitSeconds);
        }
    }

    private final PrintStream progress;

    /** @param progress where each fit's line goes as it ends (fits can take minutes) */
    public MlpcRunner(PrintStream progress) {
        this.progress = progress;
    }

    /**
     * Reads the first {@code maxRows} records of an IDX pair (gzip-compressed, as MNIST ships) on
     * the driver into a DataFrame of {@code label} (double, the class index) and {@code features}
     * (a dense {@code ml.linalg} vector, pixel / 255), in record order over {@code partitions}
     * partitions of nearly equal size, cached and counted: materialized, so no timing after it
     * pays for reading or converting. The records travel to the executors once, as bytes (a label
     * byte, then the pixels) inside the tasks that build the cache.
     *
     * @param maxRows at most this many records from the start of the files; {@link #ALL_ROWS} for all
     */
    public static Dataset<Row> loadIdx(SparkSession spark, Path images, Path labels, int maxRows, int partitions) {
        if (maxRows < 1) {
            throw new IllegalArgumentException("maxRows must be at least 1 but got " + maxRows);
        }
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be at least 1 but got " + partitions);
        }
        List<byte[]> records = readRecords(images, labels, maxRows);
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JavaRDD<Row> rows = sc.parallelize(records, partitions).map(MlpcRunner::toRow);
        StructType schema = new StructType()
                .add("label", DataTypes.DoubleType, false)
                .add("features", SQLDataTypes.VectorType(), false);
        Dataset<Row> frame = spark.createDataFrame(rows, schema).cache();
        long count = frame.count();
        if (count != records.size()) {
            throw new IllegalStateException("Cached " + count + " rows of " + images + " but read " + records.size());
        }
        return frame;
    }

    /**
     * Fits MLPC with growing {@code maxIter} until a fit reaches {@code targetAccuracy} on
     * {@code test}, the budget is spent, or the optimizer stops a fit early (see the class
     * comment). Both data sets should be cached and materialized ({@link #loadIdx} does that).
     *
     * @param solver        {@code "l-bfgs"} or {@code "gd"}
     * @param budgetSeconds the fit seconds all attempts together may use
     * @param blockSize     MLPC's blockSize: rows stacked into one matrix per gradient call
     * @param stepSize      gd's step size (MLPC's default is 0.03); unused by l-bfgs
     */
    public Result run(Dataset<Row> train, Dataset<Row> test, int[] layers, String solver, double targetAccuracy,
                      double budgetSeconds, long seed, int blockSize, double stepSize) {
        if (layers.length < 2 || Arrays.stream(layers).anyMatch(size -> size < 1)) {
            throw new IllegalArgumentException("Expected at least 2 layer sizes, all positive, but got "
                    + Arrays.toString(layers));
        }
        if (!L_BFGS.equals(solver) && !GD.equals(solver)) {
            throw new IllegalArgumentException("Expected solver \"" + L_BFGS + "\" or \"" + GD + "\" but got \""
                    + solver + "\"");
        }
        if (!(targetAccuracy > 0 && targetAccuracy <= 1)) {
            throw new IllegalArgumentException("Expected a target accuracy in (0, 1] but got " + targetAccuracy);
        }
        if (!(budgetSeconds > 0) || Double.isInfinite(budgetSeconds)) {
            throw new IllegalArgumentException("Expected a positive, finite budget in seconds but got "
                    + budgetSeconds);
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("Expected a positive block size but got " + blockSize);
        }
        if (!(stepSize > 0) || Double.isInfinite(stepSize)) {
            throw new IllegalArgumentException("Expected a positive, finite step size but got " + stepSize);
        }
        if (GD.equals(solver)) {
            requireGdSerializable();
        }
        long trainRows = train.count();
        long testRows = test.count();
        int partitions = train.javaRDD().getNumPartitions();
        MulticlassClassificationEvaluator evaluator = new MulticlassClassificationEvaluator()
                .setMetricName("accuracy");

        long warmupStart = System.nanoTime();
        classifier(layers, solver, 1, seed, blockSize, stepSize).fit(train);
        double warmupSeconds = (System.nanoTime() - warmupStart) / 1e9;
        progress.println(String.format(Locale.ROOT, "MLPC %s warm-up fit (maxIter 1, untimed): %.2f s", solver,
                warmupSeconds));

        List<Attempt> attempts = new ArrayList<>();
        double spent = 0;
        Attempt last = null;
        StopReason stop;
        while (true) {
            int maxIter;
            if (last == null) {
                maxIter = FIRST_MAX_ITER;
            } else if (last.iterations() < last.maxIter()) {
                stop = StopReason.OPTIMIZER_STOPPED;
                break;
            } else {
                double secondsPerIteration = last.fitSeconds() / last.iterations();
                double fits = Math.floor((budgetSeconds - spent) / secondsPerIteration);
                int affordable = (int) Math.max(0, Math.min(Integer.MAX_VALUE, fits));
                maxIter = GD.equals(solver) ? affordable : Math.min(nextScheduled(last.maxIter()), affordable);
                if (maxIter < Math.ceil(MIN_GROWTH * last.maxIter())) {
                    stop = StopReason.BUDGET;
                    break;
                }
            }
            MultilayerPerceptronClassifier mlpc = classifier(layers, solver, maxIter, seed, blockSize, stepSize);
            long start = System.nanoTime();
            MultilayerPerceptronClassificationModel model = mlpc.fit(train);
            double fitSeconds = (System.nanoTime() - start) / 1e9;
            double accuracy = evaluator.evaluate(model.transform(test));
            last = new Attempt(maxIter, iterations(model, maxIter), fitSeconds, accuracy);
            attempts.add(last);
            spent += fitSeconds;
            progress.println(String.format(Locale.ROOT,
                    "MLPC %s maxIter %d: %d iterations, fit %.2f s, test accuracy %.4f (%.1f s of fits so far,"
                            + " budget %.1f s%s)", solver, maxIter, last.iterations(), fitSeconds, accuracy, spent,
                    budgetSeconds, attempts.size() == 1 && spent > budgetSeconds
                            ? ": the first fit always runs whole" : ""));
            if (accuracy >= targetAccuracy) {
                stop = StopReason.REACHED;
                break;
            }
            if (spent >= budgetSeconds) {
                stop = StopReason.BUDGET;
                break;
            }
        }

        boolean reached = stop == StopReason.REACHED;
        double best = attempts.stream().mapToDouble(Attempt::testAccuracy).max().orElseThrow();
        return new Result(solver, layers, trainRows, testRows, partitions, blockSize, stepSize, seed, targetAccuracy,
                budgetSeconds, reached, reached ? last.fitSeconds() : Double.NaN, reached ? last.iterations() : -1,
                reached ? last.testAccuracy() : best, spent, warmupSeconds, last.maxIter(), last.iterations(),
                last.fitSeconds() / last.iterations(), (double) trainRows * last.iterations() / last.fitSeconds(),
                stop, attempts);
    }

    /** A fresh MLPC that runs its {@code maxIter} iterations ({@code tol = 0}). */
    private static MultilayerPerceptronClassifier classifier(int[] layers, String solver, int maxIter, long seed,
                                                             int blockSize, double stepSize) {
        return new MultilayerPerceptronClassifier()
                .setLayers(layers)
                .setSolver(solver)
                .setMaxIter(maxIter)
                .setSeed(seed)
                .setBlockSize(blockSize)
                .setStepSize(stepSize)
                .setTol(0.0);
    }

    /** The L-BFGS schedule's next maxIter after {@code maxIter}: the listed values, then +50%. */
    static int nextScheduled(int maxIter) {
        for (int next : L_BFGS_SCHEDULE) {
            if (next > maxIter) {
                return next;
            }
        }
        return (int) Math.min(Integer.MAX_VALUE, maxIter + (long) maxIter / 2);
    }

    /**
     * The iterations a fit ran, from its objective history. L-BFGS records the objective at the
     * initial weights and after each iteration. Spark 4.1's gd records the loss before each update
     * and, after the last of {@code maxIter} updates, once more at the final weights (its loop
     * runs to {@code maxIter + 1} and skips the last update); had gd converged early it would stop
     * right after an update, one entry short, but with {@code tol = 0} it never converges. So
     * both have one entry more than iterations. Without a training summary (disabled by
     * configuration) the iterations are taken to be {@code maxIter}.
     */
    private static int iterations(MultilayerPerceptronClassificationModel model, int maxIter) {
        if (!model.hasSummary()) {
            return maxIter;
        }
        return model.summary().objectiveHistory().length - 1;
    }

    /**
     * Fails before any fit, and says what to do, when Kryo registration is required: MLPC's gd
     * solver shuffles its partial gradients, MLlib-internal vector classes (not our code, and not
     * in Spark's own Kryo registrations), to one task for the last merge of its treeAggregate
     * (Spark 4.1's GradientDescent uses {@code finalAggregateOnExecutor}). L-BFGS needs nothing.
     */
    private static void requireGdSerializable() {
        if (SparkEnv.get().conf().getBoolean("spark.kryo.registrationRequired", false)) {
            throw new IllegalArgumentException("MLPC's gd solver ships MLlib-internal vector classes between tasks"
                    + " that Kryo has not registered; run it with spark.kryo.registrationRequired=false (the bench"
                    + " session does)");
        }
    }

    private static Row toRow(byte[] record) {
        double[] features = new double[record.length - 1];
        for (int j = 0; j < features.length; j++) {
            features[j] = (record[j + 1] & 0xFF) / 255.0;
        }
        return RowFactory.create((double) (record[0] & 0xFF), Vectors.dense(features));
    }

    /** Record {@code i} as bytes: its label, then its pixels row by row. */
    private static List<byte[]> readRecords(Path images, Path labels, int maxRows) {
        try (DataInputStream imageIn = open(images); DataInputStream labelIn = open(labels)) {
            int imageCount = header(imageIn, images, "images", IMAGES_MAGIC);
            int rows = readHeaderInt(imageIn, images, "images");
            int cols = readHeaderInt(imageIn, images, "images");
            int labelCount = header(labelIn, labels, "labels", LABELS_MAGIC);
            if (rows < 1 || cols < 1 || (long) rows * cols > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("IDX images file " + images + ": expected positive image"
                        + " dimensions but found " + rows + "x" + cols);
            }
            if (imageCount != labelCount) {
                throw new IllegalArgumentException("IDX files disagree: images file " + images + " holds "
                        + imageCount + " images but labels file " + labels + " holds " + labelCount + " labels");
            }
            int n = Math.min(imageCount, maxRows);
            int pixels = rows * cols;
            byte[] labelBytes = labelIn.readNBytes(n);
            if (labelBytes.length < n) {
                throw new IllegalArgumentException("IDX labels file " + labels + " is truncated: its header says "
                        + labelCount + " labels but it ends inside label " + labelBytes.length);
            }
            List<byte[]> records = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                byte[] record = new byte[1 + pixels];
                record[0] = labelBytes[i];
                if (imageIn.readNBytes(record, 1, pixels) < pixels) {
                    throw new IllegalArgumentException("IDX images file " + images + " is truncated: its header"
                            + " says " + imageCount + " images of " + rows + "x" + cols + " but it ends inside image "
                            + i);
                }
                records.add(record);
            }
            return records;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read IDX files " + images + " and " + labels + ": "
                    + e.getMessage(), e);
        }
    }

    /** Checks the magic number and returns the record count. */
    private static int header(DataInputStream in, Path file, String kind, int expectedMagic) {
        int magic = readHeaderInt(in, file, kind);
        if (magic != expectedMagic) {
            throw new IllegalArgumentException("IDX " + kind + " file " + file + ": expected magic number "
                    + expectedMagic + String.format(" (0x%08x)", expectedMagic) + " but found " + magic
                    + String.format(" (0x%08x)", magic));
        }
        int count = readHeaderInt(in, file, kind);
        if (count < 0) {
            throw new IllegalArgumentException("IDX " + kind + " file " + file + ": expected a non-negative count but"
                    + " found " + count);
        }
        return count;
    }

    private static int readHeaderInt(DataInputStream in, Path file, String kind) {
        try {
            return in.readInt();
        } catch (EOFException e) {
            throw new IllegalArgumentException("IDX " + kind + " file " + file + " is truncated: it ends inside its"
                    + " header", e);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read IDX " + kind + " file " + file + ": " + e.getMessage(), e);
        }
    }

    private static DataInputStream open(Path file) throws IOException {
        InputStream raw = Files.newInputStream(file);
        try {
            return new DataInputStream(new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16));
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    static String layerString(int[] layers) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < layers.length; i++) {
            sb.append(i == 0 ? "" : "-").append(layers[i]);
        }
        return sb.toString();
    }
}
