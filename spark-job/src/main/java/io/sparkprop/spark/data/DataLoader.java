package io.sparkprop.spark.data;

import io.sparkprop.core.DataBlock;
import io.sparkprop.spark.data.InputFiles.InputFile;
import io.sparkprop.spark.data.TextParsers.LibsvmLayout;
import io.sparkprop.spark.data.TextSource.FirstLine;
import io.sparkprop.spark.data.TextSource.LineParser;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.RDDInfo;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a dataset (IDX, LIBSVM, CSV or Parquet, described by {@link DataOptions}) into
 * {@link LoadedData}: one {@link DataBlock} per partition, persisted and materialized. It is the
 * only entry point of this package (with {@link #forScoring}, which reads data to predict on); it
 * neither shuffles rows per epoch nor splits validation data.
 *
 * <h2>Files</h2>
 * Every path goes through the Hadoop FileSystem API, so {@code hdfs://}, {@code file://} and plain
 * local paths work. A path is a file, a directory (its files, not recursively) or a glob; hidden
 * files ({@code _*}, {@code .*}) are skipped and the files are read in URI order. IDX takes one
 * images file ({@code path}) and one labels file ({@code labelsPath}). A missing path, or one that
 * holds no data file, is an {@link IllegalArgumentException} naming it.
 *
 * <h2>Rows</h2>
 * Features are divided by {@code featureDivisor} as they are read. Every row must have
 * {@code numFeatures} features, or, when that is 0, as many as the first row (CSV: the header or
 * first line; Parquet: the schema, or row 0 for a vector column; IDX: the header) or, for LIBSVM,
 * the largest index in the data, found by a first pass over the files. Targets follow
 * {@link TargetKind}: a class index in {@code [0, numOutputs)} (one-hot), numOutputs 0/1 labels,
 * or numOutputs real values; the format classes say where they come from
 * ({@link TextParsers} for CSV and LIBSVM, including LIBSVM's {@code 1,3} multi-label lists,
 * {@link ParquetReader}, {@link IdxReader}). LIBSVM and sparse vectors are densified: a block
 * holds {@code rows x numFeatures} doubles whatever the sparsity. Options a format does not use
 * (labelsPath outside IDX; label, feature and weight columns for IDX and LIBSVM; featuresColumn
 * outside Parquet) must be unset.
 *
 * <h2>Bad rows</h2>
 * A row is bad if it is malformed, has the wrong number of features, a non-finite feature
 * ({@code NaN}, {@code nan}, {@code inf}, ...), a class label that is not an integer in range, a
 * multi-label value other than 0 or 1, or a negative or non-finite weight. Blank text lines are
 * not rows. Under {@link BadRowPolicy#FAIL} the load throws an {@link IllegalArgumentException}
 * whose message starts with the file's URI and the row, then says what was expected and what was
 * found: {@code file:/data/train.csv line 17: expected 784 features but found 783 (785 fields
 * expected, 784 found)}. Rows are "line N" (1-based) in text files whose Hadoop split starts at
 * byte 0 (every file smaller than a split, and every compressed file), else "line at byte offset
 * N"; "row N" (0-based) in Parquet; "record N" (0-based) in IDX. The error happens in a Spark task;
 * this class unwraps the job failure so the message is the task's own, not Spark's, with the Spark
 * exception as the cause. Under {@link BadRowPolicy#SKIP} bad rows are dropped and counted in
 * {@link LoadedData#skippedRows()}, and one WARN line gives the count and the first five reasons.
 * Errors that are not about one row (a missing column, a CSV header that differs between files, a
 * bad IDX header, a truncated IDX file) fail under either policy.
 *
 * <h2>Determinism</h2>
 * The blocks are a function of the files' contents and the partition count only. Text and Parquet
 * rows get a 64-bit key, {@code fileIndex << 40 | position}, where fileIndex is the file's place in
 * the sorted list and position is the line's byte offset (text) or the row's index in its file
 * (Parquet). Rows go to partition {@code mix(key) mod partitions} (SplitMix64's finalizer: roughly
 * balanced) and are sorted by key within it, so every block holds the same rows in the same order
 * whatever order tasks finish or shuffle blocks arrive in. IDX needs no shuffle: partition p reads
 * records {@code [⌊p·n/P⌋, ⌊(p+1)·n/P⌋)} of both files itself, so sizes differ by at most one. The
 * SKIP count comes from a second pass over the same partitioned rows (the shuffle output, or the
 * IDX labels), not from an accumulator, so a retried task cannot count twice.
 *
 * <h2>Caching</h2>
 * The blocks are persisted {@link StorageLevel#MEMORY_AND_DISK()} (deserialized: training reads
 * the arrays in place every step; Kryo is used only when a block is spilled to disk) and
 * materialized before this returns. Nothing else stays persisted. The caller owns the blocks and
 * unpersists them when done. No data passes through the driver: tasks read the files themselves
 * and closures carry only paths, headers and options.
 */
public final class DataLoader {

    private static final Logger LOG = LoggerFactory.getLogger(DataLoader.class);

    /** The storage level of {@link LoadedData#blocks()}. */
    public static final StorageLevel STORAGE_LEVEL = StorageLevel.MEMORY_AND_DISK();

    private DataLoader() {
    }

    /**
     * The classes of this package that travel through shuffles and task results, for
     * {@link io.sparkprop.spark.SparkpropKryoRegistrator} (in this order, on every JVM).
     */
    public static List<Class<?>> kryoClasses() {
        return List.of(ParsedRow.class, PartitionStats.class, String[].class);
    }

    /**
     * Reads {@code options}' data into {@code partitions} blocks, persisted and materialized.
     *
     * @throws IllegalArgumentException for missing or unreadable paths, inconsistent options or
     *                                  files, a bad row under FAIL, and a dataset with no usable row;
     *                                  the message names the file (and row) at fault
     */
    public static LoadedData load(SparkSession spark, DataOptions options, int partitions) {
        return load(spark, options, partitions, 0);
    }

    /**
     * Reads {@code options}' data into {@code partitions} training partitions: with
     * {@code chunkBytes = 0}, one block each ({@link #load(SparkSession, DataOptions, int)}); with
     * {@code chunkBytes > 0}, as chunks of about that many bytes ({@code train.shuffle = window}:
     * {@link Chunker}, {@link LoadedData#chunks()}), persisted and materialized the same way.
     *
     * @throws IllegalArgumentException as the other {@code load} does, and for a negative
     *                                  {@code chunkBytes}
     */
    public static LoadedData load(SparkSession spark, DataOptions options, int partitions, long chunkBytes) {
        if (chunkBytes < 0) {
            throw new IllegalArgumentException("data.chunk-bytes must be positive (0: one block per partition) but got "
                    + chunkBytes);
        }
        Objects.requireNonNull(spark, "spark");
        Objects.requireNonNull(options, "options");
        if (partitions <= 0) {
            throw new IllegalArgumentException("Partition count must be positive but got " + partitions);
        }
        requireApplicable(options);
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        ReadPlan plan;
        try {
            plan = switch (options.format()) {
                case IDX -> IdxReader.plan(sc, options, partitions);
                case LIBSVM -> libsvm(sc, options, partitions);
                case CSV -> csv(sc, options, partitions);
                case PARQUET -> ParquetReader.plan(spark, options, partitions);
            };
        } catch (Exception e) {
            throw surfaced(e);
        }
        if (options.sparse() && options.format() == DataFormat.IDX) {
            plan = new ReadPlan(plan.blocks().map(DataBlock::toSparse), plan.badRows(), plan.numFeatures(),
                    plan.files());
        }
        return chunkBytes > 0 ? materializeChunks(plan, options, partitions, chunkBytes)
                : materialize(plan, options, partitions);
    }

    /**
     * Reads {@code options}' data for scoring into {@code partitions} partitions in input order
     * ({@link ScoringInput}). No label is read or needed (nor IDX's labels file); a label or
     * weight column the files have is not a feature. Every row must have {@code numFeatures}
     * features (the model's input size; required, unlike training). The {@code passthrough}
     * columns (CSV and Parquet only) travel with each row. Text files are read whole, one task per
     * file, so that every row has its line number. Bad rows follow {@code options.badRows()}.
     * Nothing runs here but the driver's checks (headers, schema) and, for Parquet, a count of each
     * file's rows.
     *
     * @throws IllegalArgumentException for missing paths, a missing column, a feature count that is
     *                                  not {@code numFeatures}, passthrough columns for IDX or LIBSVM
     */
    public static ScoringInput forScoring(SparkSession spark, DataOptions options, int partitions,
                                          List<String> passthrough) {
        Objects.requireNonNull(spark, "spark");
        Objects.requireNonNull(options, "options");
        if (partitions <= 0) {
            throw new IllegalArgumentException("Partition count must be positive but got " + partitions);
        }
        if (options.numFeatures() <= 0) {
            throw new IllegalArgumentException("Scoring needs the feature count (the model's input size) but got "
                    + options.numFeatures());
        }
        DataFormat format = options.format();
        if ((format == DataFormat.IDX || format == DataFormat.LIBSVM) && !passthrough.isEmpty()) {
            throw new IllegalArgumentException(format.key() + " data has no columns to pass through, but passthrough"
                    + " columns are given (" + String.join(", ", passthrough) + "); its rows are named by input_file"
                    + " and input_row");
        }
        if (format != DataFormat.PARQUET && isSet(options.featuresColumn())) {
            throw new IllegalArgumentException("featuresColumn is for Parquet data only but is set to "
                    + options.featuresColumn() + " for " + format.key() + " data");
        }
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        try {
            if (format == DataFormat.IDX) {
                IdxReader.IdxFile images = IdxReader.scoringHeader(sc, options);
                return ScoringInput.ofIdx(IdxReader.scoringBlocks(sc, images, options, partitions), images.count(),
                        images.uri(), images.recordBytes(), options.numOutputs());
            }
            ScoringPlan plan = switch (format) {
                case CSV -> csvForScoring(sc, options, passthrough);
                case LIBSVM -> libsvmForScoring(sc, options);
                case PARQUET -> ParquetReader.scoringPlan(spark, options, passthrough);
                case IDX -> throw new AssertionError(format);
            };
            JavaPairRDD<Long, ParsedRow> sorted = plan.keyed()
                    .repartitionAndSortWithinPartitions(new InputOrderPartitioner(plan.extents(), partitions));
            List<String> uris = plan.files().stream().map(InputFile::uri).toList();
            LOG.info("Scoring {} file(s) at {} in {} partitions", uris.size(), options.path(), partitions);
            return ScoringInput.ofRows(sorted, uris, plan.passthrough(), plan.numFeatures(), options.numOutputs(),
                    options.sparse());
        } catch (Exception e) {
            throw surfaced(e);
        }
    }

    /**
     * The qualified URIs of every path {@code spec} (a file, directory or glob, as {@code data.*}
     * paths are) reads from: its matches and the data files listed under them. Commands that
     * write check their output against these before they delete or replace anything.
     *
     * @throws IllegalArgumentException when {@code spec} matches nothing
     */
    public static List<String> readPaths(String spec, Configuration conf) {
        return InputFiles.readPaths(spec, conf);
    }

    private static ScoringPlan csvForScoring(JavaSparkContext sc, DataOptions options, List<String> passthrough) {
        CsvFiles csv = CsvFiles.open(sc, options);
        List<InputFile> files = csv.files();
        CsvLayout layout = CsvLayout.forScoring(csv.columns(), options, csv.first().file(), passthrough);
        LineParser parser = line -> TextParsers.parseCsv(line, layout);
        JavaPairRDD<Long, ParsedRow> keyed = TextSource.keyedRows(sc, files, parser, csv.header(),
                options.csvDelimiter(), csv.first().file(), options.badRows(), true);
        StructField[] carried = new StructField[passthrough.size()];
        for (int k = 0; k < carried.length; k++) {
            carried[k] = DataTypes.createStructField(passthrough.get(k), DataTypes.StringType, true);
        }
        return new ScoringPlan(keyed, sizes(files), layout.numFeatures(), files, new StructType(carried));
    }

    private static ScoringPlan libsvmForScoring(JavaSparkContext sc, DataOptions options) {
        List<InputFile> files = InputFiles.list(options.path(), sc.hadoopConfiguration());
        LibsvmLayout layout = new LibsvmLayout(options.numFeatures(), options.targetKind(), options.numOutputs(),
                options.featureDivisor(), true);
        JavaPairRDD<Long, ParsedRow> keyed = TextSource.keyedRows(sc, files,
                line -> TextParsers.parseLibsvm(line, layout), null, ' ', null, options.badRows(), true);
        return new ScoringPlan(keyed, sizes(files), options.numFeatures(), files, new StructType());
    }

    /**
     * The CSV input of {@code options}: its files, the first line, the column names (the header's,
     * or {@code _c0, _c1, ...} without one) and the header to skip in every file ({@code null}
     * without one). Training and scoring read CSV through this one setup.
     */
    private record CsvFiles(List<InputFile> files, FirstLine first, List<String> columns, String[] header) {

        static CsvFiles open(JavaSparkContext sc, DataOptions options) {
            List<InputFile> files = InputFiles.list(options.path(), sc.hadoopConfiguration());
            FirstLine first = TextSource.firstLine(files, sc.hadoopConfiguration(), options.csvDelimiter(),
                    options.csvHeader());
            if (options.csvHeader()) {
                return new CsvFiles(files, first, first.fields(), first.fields().toArray(new String[0]));
            }
            List<String> columns = new ArrayList<>();
            for (int c = 0; c < first.fields().size(); c++) {
                columns.add("_c" + c);
            }
            return new CsvFiles(files, first, columns, null);
        }
    }

    private static long[] sizes(List<InputFile> files) {
        return files.stream().mapToLong(InputFile::size).toArray();
    }

    private static ReadPlan csv(JavaSparkContext sc, DataOptions options, int partitions) {
        CsvFiles csv = CsvFiles.open(sc, options);
        List<InputFile> files = csv.files();
        CsvLayout layout = CsvLayout.resolve(csv.columns(), options, csv.first().file());
        LineParser parser = line -> TextParsers.parseCsv(line, layout);
        JavaPairRDD<Long, ParsedRow> keyed = TextSource.keyedRows(sc, files, parser, csv.header(),
                options.csvDelimiter(), csv.first().file(), options.badRows());
        JavaRDD<ParsedRow> sorted = BlockBuilder.partitionAndSort(keyed, partitions);
        boolean weighted = layout.weightColumn >= 0;
        List<String> names = new ArrayList<>();
        for (int c : layout.featureColumns) {
            names.add(layout.columns[c]);
        }
        return ReadPlan.ofRows(sorted, layout.numFeatures(), options.numOutputs(), weighted, options.sparse(), files,
                names);
    }

    private static ReadPlan libsvm(JavaSparkContext sc, DataOptions options, int partitions) {
        if (options.targetKind() == TargetKind.REGRESSION && options.numOutputs() != 1) {
            throw new IllegalArgumentException("LIBSVM rows have one label: expected 1 output for regression but got "
                    + options.numOutputs());
        }
        List<InputFile> files = InputFiles.list(options.path(), sc.hadoopConfiguration());
        int numFeatures = options.numFeatures();
        if (numFeatures == 0) {
            LibsvmLayout unbounded = new LibsvmLayout(0, options.targetKind(), options.numOutputs(),
                    options.featureDivisor());
            numFeatures = TextSource.keyedRows(sc, files, line -> TextParsers.parseLibsvm(line, unbounded), null, ' ',
                            null, options.badRows())
                    .values()
                    .map(row -> row.isBad() || row.indices.length == 0 ? 0 : row.indices[row.indices.length - 1] + 1)
                    .fold(0, Math::max);
            if (numFeatures == 0) {
                throw new IllegalArgumentException("Found no feature index in the LIBSVM data at " + options.path()
                        + " (" + files.size() + " file(s)) to take the feature count from; set numFeatures");
            }
            LOG.info("LIBSVM data at {}: {} features (the largest index)", options.path(), numFeatures);
        }
        LibsvmLayout layout = new LibsvmLayout(numFeatures, options.targetKind(), options.numOutputs(),
                options.featureDivisor());
        JavaPairRDD<Long, ParsedRow> keyed = TextSource.keyedRows(sc, files,
                line -> TextParsers.parseLibsvm(line, layout), null, ' ', null, options.badRows());
        JavaRDD<ParsedRow> sorted = BlockBuilder.partitionAndSort(keyed, partitions);
        return ReadPlan.ofRows(sorted, numFeatures, options.numOutputs(), false, options.sparse(), files, List.of());
    }

    private static LoadedData materialize(ReadPlan plan, DataOptions options, int partitions) {
        return materialize(plan, options, partitions, plan.blocks(), null, -1);
    }

    /** The chunks of {@code plan}'s rows ({@link Chunker}), persisted and materialized. */
    private static LoadedData materializeChunks(ReadPlan plan, DataOptions options, int partitions, long chunkBytes) {
        Chunker.Chunks chunks;
        try {
            JavaRDD<ParsedRow> rows = plan.rows() != null ? plan.rows() : Chunker.rowsOf(plan.blocks());
            chunks = Chunker.chunk(rows, plan.numFeatures(), options.numOutputs(), plan.weighted(), options.sparse(),
                    chunkBytes);
        } catch (Exception e) {
            throw surfaced(e);
        }
        return materialize(plan, options, partitions, chunks.blocks(), chunks.layout(), chunks.rows());
    }

    /**
     * {@code blocks} persisted and counted; with a chunk layout, {@code expectedRows} is what the
     * chunker counted, which the chunks must hold.
     */
    private static LoadedData materialize(ReadPlan plan, DataOptions options, int partitions,
                                          JavaRDD<DataBlock> unpersisted, ChunkLayout layout, long expectedRows) {
        JavaRDD<DataBlock> blocks = unpersisted
                .setName("sparkprop " + options.format().key() + (layout == null ? " blocks of " : " chunks of ")
                        + options.path())
                .persist(STORAGE_LEVEL);
        long rows = 0;
        PartitionStats bad = new PartitionStats(0, new String[0]);
        try {
            for (Integer n : blocks.map(DataBlock::rows).collect()) {
                rows += n;
            }
            if (options.badRows() == BadRowPolicy.SKIP) {
                bad = PartitionStats.merge(plan.badRows().collect());
            }
        } catch (Exception e) {
            blocks.unpersist(false);
            throw surfaced(e);
        }
        if (layout != null && rows != expectedRows) {
            blocks.unpersist(false);
            throw new IllegalStateException("The chunks of " + options.path() + " hold " + rows + " rows but the "
                    + "partitions counted " + expectedRows);
        }
        if (rows == 0) {
            blocks.unpersist(false);
            throw new IllegalArgumentException("No usable rows in " + options.path() + " (" + plan.files().size()
                    + " file(s), " + bad.skipped + " bad rows skipped" + (bad.examples.length > 0
                    ? ", e.g. " + bad.examples[0] : "") + ")");
        }
        if (bad.skipped > 0) {
            LOG.warn("Skipped {} bad rows of {} (kept {}); the first {}:\n  {}", bad.skipped, options.path(), rows,
                    bad.examples.length, String.join("\n  ", bad.examples));
        }
        if (layout == null) {
            LOG.info("Loaded {} rows of {} features from {} file(s) at {} into {} blocks ({}; {})", rows,
                    plan.numFeatures(), plan.files().size(), options.path(), partitions, STORAGE_LEVEL.description(),
                    storage(blocks));
        } else {
            int[] perChunk = layout.rowsPerChunk();
            LOG.info("Loaded {} rows of {} features from {} file(s) at {} into {} chunks of {} partitions, up to {} rows"
                            + " a chunk ({}; {})", rows, plan.numFeatures(), plan.files().size(), options.path(),
                    layout.chunks(), partitions, java.util.Arrays.stream(perChunk).max().orElse(0),
                    STORAGE_LEVEL.description(), storage(blocks));
        }
        return new LoadedData(blocks, rows, bad.skipped, plan.numFeatures(), InputFiles.sources(plan.files()),
                plan.featureNames(), options.namedColumns() ? plan.featureNames() : List.of(), layout);
    }

    /**
     * Where Spark keeps the cached blocks right after loading, from the driver's block statuses:
     * "cached 123.4 MiB in memory, 567.8 MiB on disk". Blocks on disk are read and deserialized
     * whole whenever a task needs them. Waits up to 2 s for the status to cover every block.
     */
    private static String storage(JavaRDD<DataBlock> blocks) {
        // The status comes from Spark's status store, which the listener bus fills asynchronously:
        // right after the blocks are counted it may not list them all yet, so wait for it a little.
        for (int attempt = 0; ; attempt++) {
            for (RDDInfo info : blocks.context().getRDDStorageInfo()) {
                if (info.id() == blocks.id() && (info.numCachedPartitions() == blocks.getNumPartitions()
                        || attempt >= 40)) {
                    return String.format(Locale.ROOT, "cached %.1f MiB in memory, %.1f MiB on disk",
                            info.memSize() / 1048576.0, info.diskSize() / 1048576.0);
                }
            }
            if (attempt >= 40) {
                return "no storage status";
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "no storage status";
            }
        }
    }

    private static void requireApplicable(DataOptions options) {
        DataFormat format = options.format();
        if (format == DataFormat.IDX && !isSet(options.labelsPath())) {
            throw new IllegalArgumentException("IDX data needs a labels file next to the images file " + options.path());
        }
        if (format != DataFormat.IDX && isSet(options.labelsPath())) {
            throw new IllegalArgumentException("labelsPath is for IDX data only but is set to " + options.labelsPath()
                    + " for " + format.key() + " data");
        }
        if (format != DataFormat.PARQUET && isSet(options.featuresColumn())) {
            throw new IllegalArgumentException("featuresColumn is for Parquet data only but is set to "
                    + options.featuresColumn() + " for " + format.key() + " data");
        }
        if (format == DataFormat.IDX || format == DataFormat.LIBSVM) {
            if (isSet(options.labelColumn()) || isSet(options.weightColumn()) || !options.featureColumns().isEmpty()) {
                throw new IllegalArgumentException(format.key() + " data has no columns, but labelColumn, weightColumn"
                        + " or featureColumns is set (" + options.labelColumn() + ", " + options.weightColumn() + ", "
                        + options.featureColumns() + ")");
            }
        }
    }

    private static boolean isSet(String value) {
        return value != null && !value.isBlank();
    }

    /**
     * {@code e} as the caller should see it: a Spark job failure becomes an
     * {@link IllegalArgumentException} with the message of the first exception in its cause
     * chain that is not Spark's own (the one a task threw, which names the file and row), and
     * the Spark exception as its cause; other runtime exceptions pass unchanged.
     */
    public static RuntimeException surfaced(Exception e) {
        if (!isSpark(e)) {
            return e instanceof RuntimeException runtime ? runtime
                    : new IllegalArgumentException(String.valueOf(e.getMessage()), e);
        }
        Throwable cause = e;
        while (isSpark(cause) && cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        String message = cause.getMessage() != null ? cause.getMessage() : cause.toString();
        return new IllegalArgumentException(message, e);
    }

    private static boolean isSpark(Throwable t) {
        return t instanceof SparkException || t.getClass().getName().startsWith("org.apache.spark.");
    }
}
