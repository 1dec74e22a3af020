package io.sparkprop.spark.data;

import static org.apache.spark.sql.functions.col;

import io.sparkprop.spark.data.InputFiles.InputFile;
import java.io.Serializable;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * Reads Parquet files with {@code spark.read().parquet(...)} into keyed rows. Each row's key is
 * {@code fileIndex << 40 | rowIndex}, from Spark's {@code _metadata.file_path} and
 * {@code _metadata.row_index} (the row's 0-based position in its file, whatever the scan's
 * splits), so the blocks do not depend on how Spark splits or packs files, and a bad row is named
 * "file row N" with N 0-based.
 *
 * <h2>Columns</h2>
 * <ul>
 *   <li>Label ({@code labelColumn}): for {@link TargetKind#CLASS_INDEX} one numeric column of
 *       integer values; for MULTI_LABEL and REGRESSION either numOutputs numeric columns
 *       (comma-separated) or one vector or numeric array column of numOutputs values.</li>
 *   <li>Features: {@code featuresColumn}, a Spark ML vector ({@link SQLDataTypes#VectorType()},
 *       dense or sparse; sparse vectors stay sparse until the block) or a numeric array column;
 *       or else the numeric {@code featureColumns}, by default every column that is not a label
 *       or the weight.</li>
 *   <li>Weight ({@code weightColumn}, optional): numeric, finite, {@code >= 0}.</li>
 * </ul>
 * Numeric means any Spark numeric type (integers, float, double, decimal). A null value is a bad
 * row. With a vector or array features column and numFeatures 0, the width is that of row 0 of
 * the first file that has a row.
 */
final class ParquetReader {

    private ParquetReader() {
    }

    static ReadPlan plan(SparkSession spark, DataOptions options, int partitions) {
        List<InputFile> files = InputFiles.list(options.path(), spark.sparkContext().hadoopConfiguration());
        String[] uris = files.stream().map(InputFile::uri).toArray(String[]::new);
        Dataset<Row> data = spark.read().parquet(uris);
        StructType schema = data.schema();
        String where = "Parquet data at " + options.path();

        if (options.labelColumn() == null || options.labelColumn().isBlank()) {
            throw new IllegalArgumentException(where + " needs a label column (labelColumn); available columns: "
                    + String.join(", ", schema.fieldNames()));
        }
        List<String> labels = TextParsers.splitNames(options.labelColumn());
        boolean vectorLabel = false;
        if (options.targetKind() == TargetKind.CLASS_INDEX) {
            if (labels.size() != 1) {
                throw new IllegalArgumentException("Expected one label column for class-index targets but labelColumn"
                        + " names " + labels.size() + ": " + String.join(", ", labels));
            }
            requireNumeric(schema, labels.get(0), where);
        } else if (labels.size() == 1 && isVectorOrArray(field(schema, labels.get(0), where).dataType())) {
            vectorLabel = true;
        } else {
            if (labels.size() != options.numOutputs()) {
                throw new IllegalArgumentException("Expected " + options.numOutputs() + " numeric label columns (or one"
                        + " vector or array column) for " + options.targetKind().key() + " with " + options.numOutputs()
                        + " outputs but labelColumn names " + labels.size() + ": " + String.join(", ", labels));
            }
            for (String label : labels) {
                requireNumeric(schema, label, where);
            }
        }
        String weight = options.weightColumn() == null || options.weightColumn().isBlank()
                ? null : options.weightColumn().trim();
        if (weight != null) {
            requireNumeric(schema, weight, where);
        }

        List<String> excluded = new ArrayList<>(labels);
        if (weight != null) {
            excluded.add(weight);
        }
        Features resolved = features(spark, files, schema, options, excluded, false, where);
        List<String> features = resolved.names();
        boolean vectorFeatures = resolved.vector();
        int numFeatures = resolved.width();

        List<Column> selected = new ArrayList<>();
        labels.forEach(name -> selected.add(col(quote(name))));
        features.forEach(name -> selected.add(col(quote(name))));
        if (weight != null) {
            selected.add(col(quote(weight)));
        }
        selected.add(col("_metadata.file_path"));
        selected.add(col("_metadata.row_index"));
        Map<String, Integer> fileIndex = new HashMap<>();
        for (int i = 0; i < uris.length; i++) {
            fileIndex.put(uris[i], i);
        }
        RowConverter converter = new RowConverter(labels.toArray(new String[0]), vectorLabel,
                features.toArray(new String[0]), vectorFeatures, weight != null, options.targetKind(),
                options.numOutputs(), numFeatures, options.featureDivisor(), options.badRows(), uris, fileIndex);
        JavaPairRDD<Long, ParsedRow> keyed = data.select(selected.toArray(new Column[0])).javaRDD()
                .mapToPair(converter::convert);
        JavaRDD<ParsedRow> sorted = BlockBuilder.partitionAndSort(keyed, partitions);
        return ReadPlan.ofRows(sorted, numFeatures, options.numOutputs(), weight != null, options.sparse(), files,
                vectorFeatures ? List.of() : features);
    }

    /**
     * Every row of {@code options}' files for scoring, keyed as {@link #plan} keys them: the
     * features only (no label is read; a label or weight column, if the files have one, is not a
     * feature), each row carrying its 0-based row index and the values of the {@code passthrough}
     * columns as Spark reads them. Bad rows follow {@code options.badRows()}.
     */
    static ScoringPlan scoringPlan(SparkSession spark, DataOptions options, List<String> passthrough) {
        List<InputFile> files = InputFiles.list(options.path(), spark.sparkContext().hadoopConfiguration());
        String[] uris = files.stream().map(InputFile::uri).toArray(String[]::new);
        Dataset<Row> data = spark.read().parquet(uris);
        StructType schema = data.schema();
        String where = "Parquet data at " + options.path();
        List<StructField> carried = new ArrayList<>();
        for (String name : passthrough) {
            StructField f = field(schema, name, where);
            if (carried.contains(f)) {
                throw new IllegalArgumentException(where + ": column '" + name + "' is named twice in the passthrough"
                        + " columns");
            }
            carried.add(f);
        }
        List<String> excluded = new ArrayList<>(passthrough);
        if (options.labelColumn() != null && !options.labelColumn().isBlank()) {
            excluded.addAll(TextParsers.splitNames(options.labelColumn()));
        }
        if (options.weightColumn() != null && !options.weightColumn().isBlank()) {
            excluded.add(options.weightColumn().trim());
        }
        Features features = features(spark, files, schema, options, excluded, true, where);
        List<Column> selected = new ArrayList<>();
        features.names().forEach(name -> selected.add(col(quote(name))));
        passthrough.forEach(name -> selected.add(col(quote(name))));
        selected.add(col("_metadata.file_path"));
        selected.add(col("_metadata.row_index"));
        Map<String, Integer> fileIndex = new HashMap<>();
        for (int i = 0; i < uris.length; i++) {
            fileIndex.put(uris[i], i);
        }
        RowConverter converter = new RowConverter(new String[0], false, features.names().toArray(new String[0]),
                features.vector(), false, options.targetKind(), options.numOutputs(), features.width(),
                options.featureDivisor(), options.badRows(), uris, fileIndex, passthrough.size());
        JavaPairRDD<Long, ParsedRow> keyed = data.select(selected.toArray(new Column[0])).javaRDD()
                .mapToPair(converter::convert);
        // Row counts per file place every row in the input order (InputOrderPartitioner).
        Map<Integer, Long> counts = new HashMap<>();
        for (Row count : data.groupBy(col("_metadata.file_path")).count().collectAsList()) {
            counts.put(converter.indexOf(count.getString(0)), count.getLong(1));
        }
        long[] rows = new long[uris.length];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = counts.getOrDefault(i, 0L);
        }
        return new ScoringPlan(keyed, rows, features.width(), files, new StructType(carried.toArray(new StructField[0])));
    }

    /** The feature columns: a vector or array column, or numeric columns; and the feature count. */
    private record Features(List<String> names, boolean vector, int width) {
    }

    /**
     * The features {@code options} name in {@code schema}: its vector or array column, its
     * feature columns, or every column not {@code excluded}, each of which must then be numeric.
     * Named feature columns must not be {@code excluded} unless {@code scoring}, where nothing but
     * the features is read as a number.
     */
    private static Features features(SparkSession spark, List<InputFile> files, StructType schema, DataOptions options,
                                     List<String> excluded, boolean scoring, String where) {
        List<String> features = new ArrayList<>();
        boolean vectorFeatures = options.featuresColumn() != null && !options.featuresColumn().isBlank();
        int numFeatures;
        if (vectorFeatures) {
            if (!options.featureColumns().isEmpty()) {
                throw new IllegalArgumentException("Give either featuresColumn (a vector or array column) or"
                        + " featureColumns (numeric columns), not both; got " + options.featuresColumn() + " and "
                        + options.featureColumns());
            }
            String column = options.featuresColumn().trim();
            DataType type = field(schema, column, where).dataType();
            if (!isVectorOrArray(type)) {
                throw new IllegalArgumentException(where + ": expected features column '" + column + "' to be a"
                        + " vector or a numeric array but it is " + type.simpleString());
            }
            features.add(column);
            numFeatures = options.numFeatures() != 0 ? options.numFeatures() : firstWidth(spark, files, column);
        } else {
            if (options.featureColumns().isEmpty()) {
                for (StructField f : schema.fields()) {
                    if (!excluded.contains(f.name())) {
                        if (!(f.dataType() instanceof NumericType)) {
                            throw new IllegalArgumentException(where + ": column '" + f.name() + "' is "
                                    + f.dataType().simpleString() + ", not numeric, so it cannot be a feature; name the"
                                    + " feature columns (featureColumns) or a vector column (featuresColumn)");
                        }
                        features.add(f.name());
                    }
                }
            } else {
                List<String> missing = new ArrayList<>();
                List<String> present = List.of(schema.fieldNames());
                for (String column : options.featureColumns()) {
                    if (!present.contains(column.trim())) {
                        missing.add("'" + column.trim() + "'");
                    }
                }
                if (!missing.isEmpty()) {
                    throw new IllegalArgumentException(CsvLayout.missingFeatures(where, missing,
                            options.featureColumns(), present));
                }
                for (String column : options.featureColumns()) {
                    String name = column.trim();
                    requireNumeric(schema, name, where);
                    if ((!scoring && excluded.contains(name)) || features.contains(name)) {
                        throw new IllegalArgumentException(where + ": column '" + name + "' is named as a feature"
                                + " but is already the label, the weight or another feature");
                    }
                    features.add(name);
                }
            }
            if (features.isEmpty()) {
                throw new IllegalArgumentException(where + " has no feature columns; columns: "
                        + String.join(", ", schema.fieldNames()));
            }
            numFeatures = features.size();
            if (options.numFeatures() != 0 && options.numFeatures() != numFeatures) {
                throw new IllegalArgumentException("Expected " + options.numFeatures() + " features (numFeatures) but "
                        + where + " has " + numFeatures + " feature columns: " + String.join(", ", features));
            }
        }
        return new Features(features, vectorFeatures, numFeatures);
    }

    /** The width of the vector or array in row 0 of the first file that has a row. */
    private static int firstWidth(SparkSession spark, List<InputFile> files, String column) {
        for (InputFile file : files) {
            List<Row> first = spark.read().parquet(file.uri())
                    .where(col("_metadata.row_index").equalTo(0))
                    .select(col(quote(column)))
                    .collectAsList();
            if (first.isEmpty()) {
                continue;
            }
            Object value = first.get(0).get(0);
            if (value == null) {
                throw new IllegalArgumentException("Parquet file " + file.uri() + " row 0: expected a vector or array in"
                        + " features column '" + column + "' to take the feature count from (numFeatures is 0) but"
                        + " found null");
            }
            int width = value instanceof Vector vector ? vector.size() : first.get(0).getList(0).size();
            if (width == 0) {
                throw new IllegalArgumentException("Parquet file " + file.uri() + " row 0: expected features to take"
                        + " the feature count from (numFeatures is 0) but found an empty vector");
            }
            return width;
        }
        throw new IllegalArgumentException("No rows in the " + files.size() + " Parquet file(s) starting with "
                + files.get(0).uri());
    }

    private static StructField field(StructType schema, String name, String where) {
        for (StructField f : schema.fields()) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException(where + " has no column '" + name + "'; available columns: "
                + String.join(", ", schema.fieldNames()));
    }

    private static void requireNumeric(StructType schema, String name, String where) {
        DataType type = field(schema, name, where).dataType();
        if (!(type instanceof NumericType)) {
            throw new IllegalArgumentException(where + ": expected column '" + name + "' to be numeric but it is "
                    + type.simpleString());
        }
    }

    private static boolean isVectorOrArray(DataType type) {
        return type.equals(SQLDataTypes.VectorType())
                || (type instanceof ArrayType array && array.elementType() instanceof NumericType);
    }

    /** A column name as {@code col} reads it literally (dots and spaces included). */
    private static String quote(String name) {
        return "`" + name.replace("`", "``") + "`";
    }

    /** One selected row (labels, features, weight, file path, row index) to a keyed {@link ParsedRow}. */
    private static final class RowConverter implements Serializable {

        private static final long serialVersionUID = 1L;

        private final String[] labels;
        private final boolean vectorLabel;
        private final String[] features;
        private final boolean vectorFeatures;
        private final boolean weighted;
        private final TargetKind kind;
        private final int numOutputs;
        private final int numFeatures;
        private final double divisor;
        private final BadRowPolicy policy;
        private final String[] uris;
        private final Map<String, Integer> fileIndex;
        /** Scoring: the number of passthrough columns, selected after the features; 0 otherwise. */
        private final int passthrough;

        RowConverter(String[] labels, boolean vectorLabel, String[] features, boolean vectorFeatures,
                     boolean weighted, TargetKind kind, int numOutputs, int numFeatures, double divisor,
                     BadRowPolicy policy, String[] uris, Map<String, Integer> fileIndex) {
            this(labels, vectorLabel, features, vectorFeatures, weighted, kind, numOutputs, numFeatures, divisor, policy,
                    uris, fileIndex, -1);
        }

        /**
         * With {@code passthrough} >= 0, a converter for scoring: {@code labels} must be empty, and
         * each row carries its row index and the {@code passthrough} values selected after the
         * features.
         */
        RowConverter(String[] labels, boolean vectorLabel, String[] features, boolean vectorFeatures,
                     boolean weighted, TargetKind kind, int numOutputs, int numFeatures, double divisor,
                     BadRowPolicy policy, String[] uris, Map<String, Integer> fileIndex, int passthrough) {
            this.labels = labels;
            this.vectorLabel = vectorLabel;
            this.features = features;
            this.vectorFeatures = vectorFeatures;
            this.weighted = weighted;
            this.kind = kind;
            this.numOutputs = numOutputs;
            this.numFeatures = numFeatures;
            this.divisor = divisor;
            this.policy = policy;
            this.uris = uris;
            this.fileIndex = fileIndex;
            this.passthrough = passthrough;
        }

        Tuple2<Long, ParsedRow> convert(Row row) {
            int pathAt = row.length() - 2;
            int file = indexOf(row.getString(pathAt));
            long rowIndex = row.getLong(pathAt + 1);
            if (rowIndex < 0 || rowIndex >= 1L << TextSource.OFFSET_BITS) {
                throw new IllegalArgumentException("Parquet file " + uris[file] + " row " + rowIndex
                        + ": files of more than 2^" + TextSource.OFFSET_BITS + " rows are not supported");
            }
            long key = (long) file << TextSource.OFFSET_BITS | rowIndex;
            ParsedRow parsed;
            try {
                parsed = parse(row);
            } catch (BadRowException e) {
                String reason = "Parquet file " + uris[file] + " row " + rowIndex + ": " + e.getMessage();
                if (policy == BadRowPolicy.FAIL) {
                    throw new IllegalArgumentException(reason);
                }
                parsed = ParsedRow.bad(reason);
            }
            if (passthrough >= 0) {
                Object[] values = new Object[passthrough];
                for (int k = 0; k < passthrough; k++) {
                    values[k] = row.get(pathAt - passthrough + k);
                }
                parsed = parsed.atRow(rowIndex).withPassthrough(values);
            }
            return new Tuple2<>(key, parsed);
        }

        private ParsedRow parse(Row row) {
            int at = 0;
            int classIndex = -1;
            double[] targets = null;
            if (labels.length == 0) {
                // Scoring: no targets.
            } else if (kind == TargetKind.CLASS_INDEX) {
                try {
                    classIndex = Values.classIndex(number(row, at), null, numOutputs);
                } catch (BadRowException e) {
                    throw Values.in("label column '" + labels[0] + "'", e);
                }
                at++;
            } else if (vectorLabel) {
                double[] values = vectorValues(row, at, labels[0], numOutputs, "labels");
                targets = new double[numOutputs];
                for (int k = 0; k < numOutputs; k++) {
                    try {
                        targets[k] = target(values[k]);
                    } catch (BadRowException e) {
                        throw Values.in("label column '" + labels[0] + "' element " + k, e);
                    }
                }
                at++;
            } else {
                targets = new double[numOutputs];
                for (int k = 0; k < numOutputs; k++) {
                    try {
                        targets[k] = target(number(row, at + k));
                    } catch (BadRowException e) {
                        throw Values.in("label column '" + labels[k] + "'", e);
                    }
                }
                at += numOutputs;
            }
            ParsedRow parsed;
            if (vectorFeatures) {
                parsed = vectorFeatures(row, at, classIndex, targets);
                at++;
            } else {
                double[] values = new double[numFeatures];
                for (int j = 0; j < numFeatures; j++) {
                    try {
                        values[j] = Values.feature(number(row, at + j), null, divisor);
                    } catch (BadRowException e) {
                        throw Values.in("column '" + features[j] + "'", e);
                    }
                }
                parsed = ParsedRow.dense(values, classIndex, targets, 1.0);
                at += numFeatures;
            }
            if (weighted) {
                try {
                    parsed = parsed.withWeight(Values.weight(number(row, at), null));
                } catch (BadRowException e) {
                    throw Values.in("weight column", e);
                }
            }
            return parsed;
        }

        private ParsedRow vectorFeatures(Row row, int at, int classIndex, double[] targets) {
            Object value = row.get(at);
            if (value instanceof SparseVector sparse) {
                if (sparse.size() != numFeatures) {
                    throw new BadRowException("features column '" + features[0] + "': expected " + numFeatures
                            + " features but found a vector of size " + sparse.size());
                }
                int[] indices = sparse.indices();
                double[] values = new double[indices.length];
                for (int k = 0; k < indices.length; k++) {
                    try {
                        values[k] = Values.feature(sparse.values()[k], null, divisor);
                    } catch (BadRowException e) {
                        throw Values.in("features column '" + features[0] + "' element " + indices[k], e);
                    }
                }
                return ParsedRow.sparse(indices.clone(), values, classIndex, targets, 1.0);
            }
            double[] raw = vectorValues(row, at, features[0], numFeatures, "features");
            double[] values = new double[numFeatures];
            for (int j = 0; j < numFeatures; j++) {
                try {
                    values[j] = Values.feature(raw[j], null, divisor);
                } catch (BadRowException e) {
                    throw Values.in("features column '" + features[0] + "' element " + j, e);
                }
            }
            return ParsedRow.dense(values, classIndex, targets, 1.0);
        }

        /** A dense vector's or a numeric array's values, which must number {@code expected}. */
        private static double[] vectorValues(Row row, int at, String column, int expected, String what) {
            Object value = row.get(at);
            double[] values;
            if (value == null) {
                throw new BadRowException(what + " column '" + column + "': expected " + expected
                        + " values but found null");
            } else if (value instanceof DenseVector dense) {
                values = dense.values();
            } else if (value instanceof Vector vector) {
                values = vector.toArray();
            } else {
                List<Object> list = row.getList(at);
                values = new double[list.size()];
                for (int k = 0; k < values.length; k++) {
                    Object element = list.get(k);
                    if (element == null) {
                        throw new BadRowException(what + " column '" + column + "' element " + k
                                + ": expected a number but found null");
                    }
                    values[k] = ((Number) element).doubleValue();
                }
            }
            if (values.length != expected) {
                throw new BadRowException(what + " column '" + column + "': expected " + expected + " " + what
                        + " but found " + values.length);
            }
            return values;
        }

        private double target(double value) {
            return kind == TargetKind.MULTI_LABEL ? Values.zeroOrOne(value, null) : Values.target(value, null);
        }

        private static double number(Row row, int at) {
            Object value = row.get(at);
            if (value == null) {
                throw new BadRowException("expected a number but found null");
            }
            return ((Number) value).doubleValue();
        }

        int indexOf(String path) {
            Integer index = fileIndex.get(path);
            if (index == null) {
                try {
                    index = fileIndex.get(new Path(new URI(path)).toString());
                } catch (URISyntaxException e) {
                    throw new IllegalStateException("Spark read Parquet file " + path + ", which is not a URI: "
                            + e.getMessage(), e);
                }
            }
            if (index == null) {
                throw new IllegalStateException("Spark read Parquet file " + path + ", which is not among the listed"
                        + " input files " + Arrays.asList(uris).subList(0, Math.min(3, uris.length))
                        + (uris.length > 3 ? "..." : ""));
            }
            return index;
        }
    }
}
