package io.sparkprop.spark.cli;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.Loss;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.Workspace;
import io.sparkprop.core.io.Model;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.data.DataLoader;
import io.sparkprop.spark.data.DataOptions;
import io.sparkprop.spark.data.ScoringBatch;
import io.sparkprop.spark.data.ScoringInput;
import io.sparkprop.spark.ml.Predictions;
import io.sparkprop.spark.session.ModelFiles;
import io.sparkprop.spark.train.BlockOps;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.UserDefinedType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code predict}: a model's predictions for data that need not have labels, written as a table
 * with Spark's own writer, each row joinable back to its input row.
 *
 * <h2>Input</h2>
 * {@code --input} (a file, directory or glob, any Hadoop URI) is read with the config's
 * {@code data.*} keys, as training reads its data: {@code data.format}, the column keys,
 * {@code data.csv.*}, {@code data.sparse}, {@code data.bad-rows}, {@code data.partitions}. No label
 * is read or needed: a label or weight column that the data has is neither a feature nor checked,
 * and IDX needs no labels file. The network, the task and the feature scaling come from the model.
 * Every row must have the model's input size of features.
 *
 * <h2>Output</h2>
 * A directory of Parquet files (default) or of RFC 4180 CSV files with a header line
 * ({@code --output-format csv}), one per partition. Its columns, in order:
 * <ul>
 *   <li>the {@code --passthrough} columns, with their input values (CSV input: the field's text,
 *       as a string; Parquet: the column's own type); or, when none is given, {@code input_file}
 *       (string, the file's URI) and {@code input_row} (long, the row's number in its file as the
 *       file-and-row error messages name it: the 1-based line of a CSV or LIBSVM file, the header
 *       being line 1; the 0-based row of a Parquet file; the 0-based record of an IDX file);</li>
 *   <li>classification (softmax): {@code prediction} (double, the class index: the largest logit),
 *       {@code probability_0..K-1} (the softmax of the logits) and {@code rawPrediction_0..K-1}
 *       (the logits), the values of {@code MlpClassificationModel.transform} without thresholds;</li>
 *   <li>multi-label (sigmoid): {@code prediction_k} (1.0 where the probability is at least 0.5,
 *       else 0.0), {@code probability_k}, {@code rawPrediction_k};</li>
 *   <li>regression: {@code prediction} for one output, else {@code prediction_0..M-1}.</li>
 * </ul>
 * Flat columns rather than vectors or arrays, so that CSV holds them and readers without Spark ML
 * read the Parquet. Rows are in input order: partition {@code p} is a contiguous run of the input
 * (files in URI order, rows in file order), so part file 0 holds the first rows, and the same
 * input, config and model give the same files. An existing output path is refused unless
 * {@code --overwrite}; an output that is, contains or lies inside an input path or the model is
 * refused in any case, before anything is deleted ({@link OutputGuard}). A run that fails removes
 * the output it created (the output path and any parent directories that did not exist before),
 * so the rerun is not refused; what existed before the run is never removed.
 *
 * <h2>Bad rows</h2>
 * As in training ({@code data.bad-rows}): {@code fail} stops at the first bad row with its file and
 * row; {@code skip} leaves bad rows out of the output, and the count and the first reasons are
 * logged and returned.
 */
public final class PredictCommand {

    private static final Logger LOG = LoggerFactory.getLogger(PredictCommand.class);

    /** Rows per forward pass: one matrix product per layer for this many rows. */
    static final int BATCH_ROWS = 512;

    /** The column names that name where a row came from, when no passthrough column is given. */
    public static final String INPUT_FILE = "input_file";
    public static final String INPUT_ROW = "input_row";

    /** The output's file format. */
    public enum OutputFormat {
        PARQUET, CSV;

        static OutputFormat of(String name) {
            if (name == null) {
                return PARQUET;
            }
            for (OutputFormat format : values()) {
                if (format.name().equalsIgnoreCase(name.trim())) {
                    return format;
                }
            }
            throw new IllegalArgumentException("--output-format must be parquet or csv but is '" + name + "'");
        }
    }

    /**
     * The command's options, checked.
     *
     * @param model       the model file (a {@code model.spm}, or a saved estimator model's {@code data/model.spm})
     * @param input       the data to score
     * @param output      the directory to write
     * @param format      the output's file format
     * @param passthrough the input columns to copy into the output (CSV and Parquet), in order; empty for
     *                    {@code input_file} and {@code input_row}
     * @param overwrite   whether an existing {@code output} may be replaced
     */
    public record Options(String model, String input, String output, OutputFormat format, List<String> passthrough,
                          boolean overwrite) {

        public Options {
            passthrough = List.copyOf(passthrough);
            List<String> seen = new ArrayList<>();
            for (String name : passthrough) {
                if (name.isBlank()) {
                    throw new IllegalArgumentException("--passthrough names an empty column: " + passthrough);
                }
                if (seen.contains(name)) {
                    throw new IllegalArgumentException("--passthrough names column '" + name + "' twice");
                }
                seen.add(name);
            }
        }

        /**
         * Converts and checks the command line's values: {@code format} null is Parquet, and
         * {@code passthrough} may be null (none).
         */
        public static Options of(String model, String input, String output, String format, List<String> passthrough,
                                 boolean overwrite) {
            List<String> names = new ArrayList<>();
            if (passthrough != null) {
                for (String name : passthrough) {
                    names.add(name.trim());
                }
            }
            return new Options(model, input, output, OutputFormat.of(format), names, overwrite);
        }
    }

    /** What a run wrote: rows written, bad rows skipped, and where. */
    public record Summary(long rows, long skipped, String output) {
    }

    private PredictCommand() {
    }

    /**
     * Scores {@code options.input()} with {@code options.model()} and writes the predictions to
     * {@code options.output()}.
     *
     * @throws IllegalArgumentException for an existing output (without overwrite), a bad config, a
     *                                  missing column, a feature count that is not the model's, a
     *                                  passthrough column named like an output column, or a bad row
     *                                  under {@code data.bad-rows = fail} (naming its file and row)
     */
    public static Summary run(SparkSession spark, JobConfig config, Options options) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration conf = sc.hadoopConfiguration();
        OutputGuard.of("predict", "--output", options.output(), conf)
                .reads("--input " + options.input(), DataLoader.readPaths(options.input(), conf))
                .reads("--model " + options.model(), options.model())
                .check();
        Path output = new Path(options.output());
        FileSystem fs;
        Path created;
        try {
            fs = output.getFileSystem(conf);
            output = fs.makeQualified(output);
            if (!options.overwrite() && fs.exists(output)) {
                throw new IllegalArgumentException("Output path " + options.output() + " exists; predict does not"
                        + " replace it unless --overwrite is given");
            }
            created = firstMissing(fs, output);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot check the output path " + options.output() + ": " + e.getMessage(),
                    e);
        }
        Model model = ModelFiles.read(options.model(), sc.hadoopConfiguration());
        NetworkSpec spec = model.spec();
        TrainingConfig settings = ModelDataCommands.settingsFor(config, model);
        int partitions = ModelDataCommands.partitions(settings, sc);
        DataOptions data = ModelDataCommands.byName(settings.scoringData(options.input()), model);
        ScoringInput input = DataLoader.forScoring(spark, data, partitions, options.passthrough());
        List<String> predicted = predictionColumns(spec);
        StructType schema = schema(input.passthrough(), options.passthrough().isEmpty(), predicted, options.format());

        BlockOps.Scaling standardization = ModelFiles.standardization(model);
        Broadcast<double[]> weights = sc.broadcast(model.params());
        boolean ids = options.passthrough().isEmpty();
        JavaRDD<Row> rows = input.batches(BATCH_ROWS).mapPartitions(batches -> {
            Network network = new Network(spec);
            Workspace ws = new Workspace(spec, BATCH_ROWS);
            List<Row> out = new ArrayList<>();
            return new Iterator<Row>() {
                private int at;

                @Override
                public boolean hasNext() {
                    while (at == out.size() && batches.hasNext()) {
                        out.clear();
                        at = 0;
                        score(batches.next(), network, ws, weights.value(), standardization, ids, out);
                    }
                    return at < out.size();
                }

                @Override
                public Row next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    return out.get(at++);
                }
            };
        });
        String previous = sc.getLocalProperty("spark.job.description");
        sc.setJobDescription("predict " + options.model() + " on " + options.input());
        ScoringInput.Tally tally;
        try {
            DataFrameWriter<Row> writer = spark.createDataFrame(rows, schema).write()
                    .mode(options.overwrite() ? SaveMode.Overwrite : SaveMode.ErrorIfExists);
            if (options.format() == OutputFormat.CSV) {
                rfc4180(writer).csv(options.output());
            } else {
                writer.parquet(options.output());
            }
            tally = input.tally();
        } catch (Exception e) {
            RuntimeException failure = badRow(e);
            removeCreated(fs, created, failure);
            throw failure;
        } finally {
            weights.destroy(false);
            sc.setJobDescription(previous);
        }
        if (tally.skipped() > 0) {
            LOG.warn("Skipped {} bad rows of {} (wrote {}); the first {}:\n  {}", tally.skipped(), options.input(),
                    tally.rows(), tally.examples().size(), String.join("\n  ", tally.examples()));
        }
        LOG.info("Wrote {} predictions of {} to {} ({})", tally.rows(), options.input(), options.output(),
                options.format().name().toLowerCase(Locale.ROOT));
        return new Summary(tally.rows(), tally.skipped(), options.output());
    }

    /**
     * The outermost of {@code path} and its ancestors that does not exist, which a write to
     * {@code path} creates; null when {@code path} exists.
     */
    private static Path firstMissing(FileSystem fs, Path path) throws IOException {
        Path missing = null;
        for (Path p = path; p != null && !fs.exists(p); p = p.getParent()) {
            missing = p;
        }
        return missing;
    }

    /**
     * After a failed write, deletes {@code created} (what the write created: see
     * {@link #firstMissing}), so that a rerun is not refused for an output that holds nothing.
     * Nothing that existed before the run is touched: with {@code created} null (the output
     * existed, and {@code --overwrite} was given) this does nothing. A failure to delete is added
     * to {@code failure}.
     */
    private static void removeCreated(FileSystem fs, Path created, RuntimeException failure) {
        if (created == null) {
            return;
        }
        try {
            if (fs.exists(created) && !fs.delete(created, true)) {
                failure.addSuppressed(new IOException("Cannot remove " + created + ", which the failed run created"));
            }
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /**
     * {@code writer} set to write RFC 4180 CSV with a header line, which Python's {@code csv},
     * pandas and sparkprop's own reader read back as written. Spark's defaults are not: it escapes
     * a quote inside a quoted field with a backslash ({@code "say \"hi\""}) where RFC 4180 doubles
     * it ({@code "say ""hi"""}), and it trims leading and trailing white space from every value.
     * Kept defaults: a value with the delimiter, a quote or a line break is quoted
     * ({@code escapeQuotes}), other values are not ({@code quoteAll} off); a null is an empty field
     * and an empty string is {@code ""}; records end with {@code \n} ({@code lineSep}), which
     * RFC 4180 readers accept. A value with a line break is a quoted field over several lines:
     * valid RFC 4180, but sparkprop's own reader takes one record per line and rejects it.
     */
    static DataFrameWriter<Row> rfc4180(DataFrameWriter<Row> writer) {
        return writer.option("header", "true").option("quote", "\"").option("escape", "\"")
                .option("escapeQuotes", "true").option("ignoreLeadingWhiteSpace", "false")
                .option("ignoreTrailingWhiteSpace", "false");
    }

    /**
     * The prediction columns of {@code spec}'s task, in order (see the class comment): the
     * classifier's {@code prediction, probability_k, rawPrediction_k}, the multi-label
     * {@code prediction_k, probability_k, rawPrediction_k}, the regression {@code prediction} or
     * {@code prediction_k}.
     */
    static List<String> predictionColumns(NetworkSpec spec) {
        int k = spec.outputSize();
        List<String> names = new ArrayList<>();
        switch (spec.loss()) {
            case SOFTMAX_CROSS_ENTROPY -> {
                names.add("prediction");
                indexed(names, "probability_", k);
                indexed(names, "rawPrediction_", k);
            }
            case BINARY_CROSS_ENTROPY -> {
                indexed(names, "prediction_", k);
                indexed(names, "probability_", k);
                indexed(names, "rawPrediction_", k);
            }
            case MSE -> {
                if (k == 1) {
                    names.add("prediction");
                } else {
                    indexed(names, "prediction_", k);
                }
            }
        }
        return names;
    }

    private static void indexed(List<String> names, String prefix, int count) {
        for (int i = 0; i < count; i++) {
            names.add(prefix + i);
        }
    }

    private static StructType schema(StructType passthrough, boolean ids, List<String> predicted, OutputFormat format) {
        List<StructField> fields = new ArrayList<>();
        if (ids) {
            fields.add(DataTypes.createStructField(INPUT_FILE, DataTypes.StringType, false));
            fields.add(DataTypes.createStructField(INPUT_ROW, DataTypes.LongType, false));
        } else {
            for (StructField field : passthrough.fields()) {
                if (predicted.contains(field.name())) {
                    throw new IllegalArgumentException("Passthrough column '" + field.name() + "' has the name of an"
                            + " output column; the output columns are " + String.join(", ", predicted));
                }
                if (format == OutputFormat.CSV && !flat(field.dataType())) {
                    throw new IllegalArgumentException("Passthrough column '" + field.name() + "' is "
                            + field.dataType().simpleString() + ", which CSV cannot hold; write Parquet"
                            + " (--output-format parquet) or pass through other columns");
                }
                fields.add(field);
            }
        }
        for (String name : predicted) {
            fields.add(DataTypes.createStructField(name, DataTypes.DoubleType, false));
        }
        return new StructType(fields.toArray(new StructField[0]));
    }

    private static boolean flat(DataType type) {
        return !(type instanceof ArrayType || type instanceof MapType || type instanceof StructType
                || type instanceof UserDefinedType);
    }

    /**
     * Appends one output row per row of {@code batch} to {@code out}: its identity, then its
     * prediction columns, from one forward pass per {@code ws.capacity()} rows.
     */
    private static void score(ScoringBatch batch, Network network, Workspace ws, double[] params,
                              BlockOps.Scaling standardization, boolean ids, List<Row> out) {
        NetworkSpec spec = network.spec();
        DataBlock block = standardization == null ? batch.block() : BlockOps.scaleBlock(batch.block(), standardization);
        int width = spec.outputSize();
        for (int from = 0; from < block.rows(); from += ws.capacity()) {
            int to = Math.min(block.rows(), from + ws.capacity());
            network.forward(params, ws.load(block, from, to));
            double[] logits = ws.logits();
            double[] outputs = ws.output();
            for (int r = from; r < to; r++) {
                int i = r - from;
                double[] z = Arrays.copyOfRange(logits, i * width, (i + 1) * width);
                double[] y = Arrays.copyOfRange(outputs, i * width, (i + 1) * width);
                Object[] identity = ids ? new Object[] {batch.file()[r], batch.row()[r]} : batch.passthrough()[r];
                Object[] values = Arrays.copyOf(identity, identity.length + columnCount(spec.loss(), width));
                int c = identity.length;
                switch (spec.loss()) {
                    case SOFTMAX_CROSS_ENTROPY -> {
                        values[c++] = (double) Predictions.argmax(z);
                        for (double p : Predictions.softmax(z.clone())) {
                            values[c++] = p;
                        }
                        for (double v : z) {
                            values[c++] = v;
                        }
                    }
                    case BINARY_CROSS_ENTROPY -> {
                        for (double p : y) {
                            values[c++] = p >= 0.5 ? 1.0 : 0.0;
                        }
                        for (double p : y) {
                            values[c++] = p;
                        }
                        for (double v : z) {
                            values[c++] = v;
                        }
                    }
                    case MSE -> {
                        for (double v : y) {
                            values[c++] = v;
                        }
                    }
                }
                out.add(RowFactory.create(values));
            }
        }
    }

    private static int columnCount(Loss loss, int width) {
        return switch (loss) {
            case SOFTMAX_CROSS_ENTROPY -> 1 + 2 * width;
            case BINARY_CROSS_ENTROPY -> 3 * width;
            case MSE -> width;
        };
    }

    /**
     * A failed write as the user should see it: when a task failed on a bad row (or any
     * {@link IllegalArgumentException} of ours), that exception's message with the file and row;
     * anything else as it was.
     */
    private static RuntimeException badRow(Exception e) {
        for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof IllegalArgumentException) {
                return t == e ? (IllegalArgumentException) t : new IllegalArgumentException(t.getMessage(), e);
            }
        }
        return e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getMessage(), e);
    }
}
