package io.sparkprop.spark.cli;

import io.sparkprop.spark.cli.SyntheticRows.Sample;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code generate}: writes a synthetic, learnable dataset of any size (the recipe is
 * {@link SyntheticRows}: uniform features, labels from a seeded tanh teacher network plus Gaussian
 * noise; or, with {@code --nonzeros N}, click-through-like sparse rows: N distinct of D features
 * with value 1 by Zipf-distributed popularity, {@link ZipfFeatures}) as Parquet or LIBSVM to any
 * Hadoop URI. Generation is distributed: the driver sends each
 * of P tasks the recipe and its partition index, and each task streams its own rows straight into
 * its output file, so no row passes through the driver and no task holds a whole partition. It
 * does not train and never overwrites: an existing output path is refused.
 *
 * <h2>Layouts (what {@code train} reads back)</h2>
 * <ul>
 *   <li>Parquet: one file per partition with {@code label} (double: the class index, or the one
 *       regression output; {@code array<double>} for several regression outputs) and
 *       {@code features} (a Spark ML dense vector; a sparse one for sparse rows). Train with {@code data.format = parquet},
 *       {@code data.features-column = features}, {@code data.label-column = label}.</li>
 *   <li>LIBSVM: {@code label 1:x1 2:x2 ... D:xD}, every feature written (1-based indices), values
 *       in Java's shortest round-trip form (sparse rows: only the nonzeros, {@code i:1.0}, indices
 *       increasing); one text file per partition. One label per row, so
 *       regression needs {@code --outputs 1}. Train with {@code data.format = libsvm}.</li>
 * </ul>
 * {@link Summary#trainingConfig()} gives the config lines for the generated data.
 */
public final class GenerateCommand {

    private static final Logger LOG = LoggerFactory.getLogger(GenerateCommand.class);

    /** The options {@code generate} accepts, each followed by a value. */
    public static final List<String> OPTIONS = List.of("--output", "--format", "--rows", "--features", "--task",
            "--classes", "--outputs", "--hidden", "--noise", "--partitions", "--seed", "--nonzeros", "--zipf-exponent");

    /** The output file format. */
    public enum Format {
        PARQUET, LIBSVM;

        String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What the labels are. */
    public enum Task {
        CLASSIFICATION, REGRESSION;

        String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * A validated {@code generate} command line.
     *
     * @param output     where to write, any Hadoop URI; must not exist
     * @param width      the number of classes (classification, at least 2) or regression outputs
     *                   (at least 1; exactly 1 for LIBSVM)
     * @param partitions output partitions (files), or 0 for Spark's default parallelism
     * @param nonzeros   0 for dense rows; else the distinct features of each sparse row, at most
     *                   {@code features}
     * @param zipfExponent the exponent s of the sparse features' popularity, P(rank r) ∝ r^-s;
     *                   finite and > 0 (not used by dense rows)
     */
    public record Options(String output, Format format, long rows, int features, Task task, int width, int hidden,
                          double noise, int partitions, long seed, int nonzeros, double zipfExponent)
            implements Serializable {

        private static final long serialVersionUID = 1L;

        public static final Format DEFAULT_FORMAT = Format.PARQUET;
        public static final long DEFAULT_ROWS = 100_000;
        public static final int DEFAULT_FEATURES = 100;
        public static final Task DEFAULT_TASK = Task.CLASSIFICATION;
        public static final int DEFAULT_CLASSES = 10;
        public static final int DEFAULT_OUTPUTS = 1;
        public static final int DEFAULT_HIDDEN = 32;
        public static final double DEFAULT_NOISE = 0.1;
        public static final long DEFAULT_SEED = 42;
        /** s = 1: Zipf's law as word counts and click logs roughly follow it. */
        public static final double DEFAULT_ZIPF_EXPONENT = 1.0;

        public Options {
            if (output == null || output.isBlank()) {
                throw new IllegalArgumentException("generate needs --output URI (a path that does not exist yet)");
            }
            if (format == null || task == null) {
                throw new IllegalArgumentException("--format and --task must be given but got " + format + " and "
                        + task);
            }
            atLeast("--rows", rows, 1);
            atLeast("--features", features, 1);
            atLeast("--hidden", hidden, 1);
            if (task == Task.CLASSIFICATION) {
                atLeast("--classes", width, 2);
            } else {
                atLeast("--outputs", width, 1);
                if (format == Format.LIBSVM && width != 1) {
                    throw new IllegalArgumentException("--outputs must be 1 with --format libsvm (a LIBSVM row has one"
                            + " label) but got " + width + "; use --format parquet for several outputs");
                }
            }
            if (!(noise >= 0.0 && noise < Double.POSITIVE_INFINITY)) {
                throw new IllegalArgumentException("--noise must be a finite number >= 0 but got " + noise);
            }
            atLeast("--partitions", partitions, 0);
            atLeast("--nonzeros", nonzeros, 0);
            if (nonzeros > features) {
                throw new IllegalArgumentException("--nonzeros must be at most --features (" + features
                        + ": a row's nonzeros are distinct features) but got " + nonzeros);
            }
            if (!(zipfExponent > 0.0 && zipfExponent < Double.POSITIVE_INFINITY)) {
                throw new IllegalArgumentException("--zipf-exponent must be a finite number > 0 but got "
                        + zipfExponent);
            }
            if ((long) hidden * SyntheticRows.CHUNK > Integer.MAX_VALUE - 8
                    || (nonzeros == 0 && (long) features * SyntheticRows.CHUNK > Integer.MAX_VALUE - 8)) {
                throw new IllegalArgumentException("--features (dense rows) and --hidden must be at most "
                        + (Integer.MAX_VALUE - 8) / SyntheticRows.CHUNK + " but got " + features + " and " + hidden);
            }
            // Sparse rows compute their teacher's first layer from the weights' positions: only the
            // dense teacher is stored.
            long params = (long) features * hidden + hidden + (long) hidden * width + width;
            if (nonzeros == 0 && params > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("--features " + features + " and --hidden " + hidden + " give a"
                        + " teacher of " + params + " parameters, more than a Java array holds");
            }
        }

        /**
         * Options from the command line's {@code --name value} pairs; absent options take the
         * defaults. {@code --classes} is for classification only and {@code --outputs} for
         * regression only.
         */
        public static Options parse(Map<String, String> given) {
            for (String name : given.keySet()) {
                if (!OPTIONS.contains(name)) {
                    throw new IllegalArgumentException("Unknown option '" + name + "' for generate; expected one of "
                            + String.join(", ", OPTIONS));
                }
            }
            Format format = choice(given, "--format", Format.values(), DEFAULT_FORMAT);
            Task task = choice(given, "--task", Task.values(), DEFAULT_TASK);
            if (task == Task.REGRESSION && given.containsKey("--classes")) {
                throw new IllegalArgumentException("--classes is for --task classification; regression takes"
                        + " --outputs but got --classes " + given.get("--classes"));
            }
            if (task == Task.CLASSIFICATION && given.containsKey("--outputs")) {
                throw new IllegalArgumentException("--outputs is for --task regression; classification takes"
                        + " --classes but got --outputs " + given.get("--outputs"));
            }
            int width = task == Task.CLASSIFICATION
                    ? (int) integer(given, "--classes", DEFAULT_CLASSES, Integer.MAX_VALUE)
                    : (int) integer(given, "--outputs", DEFAULT_OUTPUTS, Integer.MAX_VALUE);
            long partitions = integer(given, "--partitions", 0, Integer.MAX_VALUE);
            if (given.containsKey("--partitions") && partitions < 1) {
                throw new IllegalArgumentException("--partitions must be at least 1 (leave it out for Spark's default"
                        + " parallelism) but got " + partitions);
            }
            double noise = number(given, "--noise", DEFAULT_NOISE);
            if (given.containsKey("--zipf-exponent") && !given.containsKey("--nonzeros")) {
                throw new IllegalArgumentException("--zipf-exponent shapes sparse rows; give --nonzeros N with it (got"
                        + " --zipf-exponent " + given.get("--zipf-exponent") + " alone)");
            }
            long nonzeros = integer(given, "--nonzeros", 0, Integer.MAX_VALUE);
            if (given.containsKey("--nonzeros") && nonzeros < 1) {
                throw new IllegalArgumentException("--nonzeros must be at least 1 (leave it out for dense rows) but got "
                        + nonzeros);
            }
            return new Options(given.get("--output"), format, integer(given, "--rows", DEFAULT_ROWS, Long.MAX_VALUE),
                    (int) integer(given, "--features", DEFAULT_FEATURES, Integer.MAX_VALUE), task, width,
                    (int) integer(given, "--hidden", DEFAULT_HIDDEN, Integer.MAX_VALUE), noise,
                    (int) partitions,
                    integer(given, "--seed", DEFAULT_SEED, Long.MAX_VALUE), (int) nonzeros,
                    number(given, "--zipf-exponent", DEFAULT_ZIPF_EXPONENT));
        }

        private static double number(Map<String, String> given, String option, double fallback) {
            String value = given.get(option);
            if (value == null) {
                return fallback;
            }
            try {
                return Double.parseDouble(value.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " needs a number but got '" + value + "'");
            }
        }

        private static long integer(Map<String, String> given, String option, long fallback, long max) {
            String value = given.get(option);
            if (value == null) {
                return fallback;
            }
            long parsed;
            try {
                parsed = Long.parseLong(value.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " needs an integer but got '" + value + "'");
            }
            if (parsed > max) {
                throw new IllegalArgumentException(option + " must be at most " + max + " but got " + value);
            }
            if (parsed < -max - 1) {
                throw new IllegalArgumentException(option + " must be at least " + (-max - 1) + " but got " + value);
            }
            return parsed;
        }

        private static <E extends Enum<E>> E choice(Map<String, String> given, String option, E[] values, E fallback) {
            String value = given.get(option);
            if (value == null) {
                return fallback;
            }
            List<String> keys = new ArrayList<>();
            for (E e : values) {
                String key = e.name().toLowerCase(Locale.ROOT);
                if (key.equals(value.trim().toLowerCase(Locale.ROOT))) {
                    return e;
                }
                keys.add(key);
            }
            throw new IllegalArgumentException(option + " must be one of " + String.join(", ", keys) + " but got '"
                    + value + "'");
        }

        private static void atLeast(String option, long value, long min) {
            if (value < min) {
                throw new IllegalArgumentException(option + " must be at least " + min + " but got " + value);
            }
        }
    }

    /**
     * What was written.
     *
     * @param output         the qualified output URI
     * @param trainingConfig config lines that train on it, a teacher-shaped network included
     */
    public record Summary(String output, long rows, int partitions, String trainingConfig) {
    }

    private GenerateCommand() {
    }

    /**
     * Writes the dataset {@code options} describe.
     *
     * @throws IllegalArgumentException when the output path exists
     * @throws IOException              when the output file system cannot be reached
     */
    public static Summary run(SparkSession spark, Options options) throws IOException {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Path out = new Path(options.output());
        FileSystem fs = out.getFileSystem(sc.hadoopConfiguration());
        String qualified = fs.makeQualified(out).toString();
        if (fs.exists(out)) {
            throw new IllegalArgumentException("--output " + options.output() + " already exists (" + qualified
                    + "); generate never overwrites: delete it or choose another path");
        }
        int partitions = options.partitions() > 0 ? options.partitions() : sc.defaultParallelism();
        boolean classification = options.task() == Task.CLASSIFICATION;
        SyntheticRows recipe = new SyntheticRows(options.rows(), partitions, options.features(), options.hidden(),
                options.width(), classification, options.noise(), options.seed(), options.nonzeros(),
                options.zipfExponent());
        LOG.info("Generating {} rows of {} features{} ({}, {} {}, teacher {}-{}-{}, noise {}, seed {}) in {}"
                        + " partitions as {} to {}", options.rows(), options.features(), options.nonzeros() == 0 ? ""
                        : String.format(Locale.ROOT, ", %d nonzeros a row by Zipf popularity (s = %s)",
                                options.nonzeros(), options.zipfExponent()),
                options.task().key(), options.width(),
                classification ? "classes" : "outputs", options.features(), options.hidden(), options.width(),
                options.noise(), options.seed(), partitions, options.format().key(), qualified);
        long start = System.nanoTime();

        // One element per partition: the index only; each task generates its rows from the recipe.
        List<Integer> ids = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            ids.add(p);
        }
        JavaRDD<Sample> samples = sc.parallelize(ids, partitions)
                .mapPartitionsWithIndex((p, ignored) -> recipe.partition(p), true);
        switch (options.format()) {
            case PARQUET -> {
                boolean arrayLabel = !classification && options.width() > 1;
                StructType schema = new StructType()
                        .add("label", arrayLabel ? DataTypes.createArrayType(DataTypes.DoubleType, false)
                                : DataTypes.DoubleType, false)
                        .add("features", SQLDataTypes.VectorType(), false);
                int dimension = options.features();
                JavaRDD<Row> rows = samples.map(s -> parquetRow(s, arrayLabel, dimension));
                spark.createDataFrame(rows, schema).write().parquet(options.output());
            }
            case LIBSVM -> samples.map(GenerateCommand::libsvmLine).saveAsTextFile(options.output());
            default -> throw new AssertionError(options.format());
        }
        LOG.info(String.format(Locale.ROOT, "Wrote %d rows to %s in %.1f s", options.rows(), qualified,
                (System.nanoTime() - start) / 1e9));
        return new Summary(qualified, options.rows(), partitions, trainingConfig(options, qualified));
    }

    private static Row parquetRow(Sample s, boolean arrayLabel, int dimension) {
        Object label;
        if (s.targets() == null) {
            label = (double) s.classIndex();
        } else if (arrayLabel) {
            label = s.targets(); // Spark's encoder takes a double[] for array<double>
        } else {
            label = s.targets()[0];
        }
        return RowFactory.create(label, s.indices() == null ? Vectors.dense(s.features())
                : Vectors.sparse(dimension, s.indices(), s.features()));
    }

    private static String libsvmLine(Sample s) {
        double[] x = s.features();
        StringBuilder sb = new StringBuilder(16 + x.length * 24);
        if (s.targets() == null) {
            sb.append(s.classIndex());
        } else {
            sb.append(s.targets()[0]);
        }
        int[] indices = s.indices();
        for (int j = 0; j < x.length; j++) {
            sb.append(' ').append((indices == null ? j : indices[j]) + 1).append(':').append(x[j]);
        }
        return sb.toString();
    }

    private static String trainingConfig(Options options, String uri) {
        List<String> lines = new ArrayList<>();
        lines.add("data.format = " + options.format().key());
        lines.add("data.train = " + uri);
        lines.add("data.num-features = " + options.features());
        if (options.nonzeros() > 0) {
            lines.add("data.sparse = true");
        }
        if (options.format() == Format.PARQUET) {
            lines.add("data.features-column = features");
            lines.add("data.label-column = label");
        }
        lines.add("model.task = " + options.task().key());
        lines.add("model.layers = " + options.features() + "," + options.hidden() + "," + options.width());
        return String.join("\n", lines) + "\n";
    }
}
