package io.sparkprop.spark.data;

import java.util.List;

/**
 * Everything needed to read one dataset (training, validation or test) into blocks.
 *
 * @param format         the file format
 * @param path           the data: a file, a directory or a glob, any Hadoop URI (for IDX the images file)
 * @param labelsPath     IDX only: the labels file (training and evaluation need it, scoring does not read it);
 *                       {@code null} for other formats
 * @param numFeatures    the feature count every row must have (LIBSVM: the dimension, indices
 *                       {@code 1..numFeatures}); {@code 0} means take it from the data (the first
 *                       row or the schema) and require it of every other row
 * @param targetKind     how labels become targets
 * @param numOutputs     width of the target vector: classes, labels or regression outputs
 * @param labelColumn    CSV/Parquet: the label column name (CSV without header: {@code _c0},
 *                       {@code _c1}, ... by position); for several labels a comma-separated list
 * @param featuresColumn Parquet: a vector ({@code org.apache.spark.ml.linalg.Vector}) or
 *                       {@code array<double>} column; {@code null} to use numeric columns
 * @param featureColumns CSV/Parquet: the numeric feature columns; empty means every column that
 *                       is not a label or weight column
 * @param weightColumn   CSV/Parquet: a non-negative sample weight column, or {@code null}
 * @param csvHeader      CSV: whether the first line of each file names the columns
 * @param csvDelimiter   CSV: the field delimiter (one character)
 * @param badRows        what to do with unusable rows
 * @param featureDivisor every feature is divided by this as it is read ({@code 1} for none;
 *                       MNIST uses 255)
 * @param sparse         build sparse blocks (the nonzeros of each row) instead of dense ones
 */
public record DataOptions(DataFormat format, String path, String labelsPath, int numFeatures, TargetKind targetKind,
                          int numOutputs, String labelColumn, String featuresColumn, List<String> featureColumns,
                          String weightColumn, boolean csvHeader, char csvDelimiter, BadRowPolicy badRows,
                          double featureDivisor, boolean sparse) implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    public DataOptions {
        if (format == null || path == null || path.isBlank() || targetKind == null || badRows == null) {
            throw new IllegalArgumentException("Data format, path, target kind and bad-row policy must be given");
        }
        if (numFeatures < 0) {
            throw new IllegalArgumentException("Feature count must be >= 0 (0 = from the data) but got " + numFeatures);
        }
        if (numOutputs <= 0) {
            throw new IllegalArgumentException("Output count must be positive but got " + numOutputs);
        }
        if (!(featureDivisor > 0.0 && featureDivisor < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("Feature divisor must be finite and > 0 but got " + featureDivisor);
        }
        featureColumns = featureColumns == null ? List.of() : List.copyOf(featureColumns);
    }

    /**
     * Whether the data names its columns, so that features can be found by name in any file of it:
     * CSV with a header, and Parquet with numeric feature columns (not a {@code featuresColumn}
     * vector). LIBSVM, IDX, CSV without a header ({@code _c0}, {@code _c1}, ... are positions) and a
     * vector column are positional.
     */
    public boolean namedColumns() {
        return (format == DataFormat.CSV && csvHeader)
                || (format == DataFormat.PARQUET && (featuresColumn == null || featuresColumn.isBlank()));
    }

    /**
     * These options with the features selected by name, as {@code columns} (a model's recorded
     * feature columns) in order, when the data names its columns ({@link #namedColumns}) and no
     * feature columns are given; else these options unchanged (given feature columns win; positional
     * data stays positional).
     */
    public DataOptions withFeatureColumnsIfUnset(List<String> columns) {
        if (columns.isEmpty() || !featureColumns.isEmpty() || !namedColumns()) {
            return this;
        }
        return new DataOptions(format, path, labelsPath, numFeatures, targetKind, numOutputs, labelColumn,
                featuresColumn, columns, weightColumn, csvHeader, csvDelimiter, badRows, featureDivisor, sparse);
    }

    /** Options for dense blocks. */
    public DataOptions(DataFormat format, String path, String labelsPath, int numFeatures, TargetKind targetKind,
                       int numOutputs, String labelColumn, String featuresColumn, List<String> featureColumns,
                       String weightColumn, boolean csvHeader, char csvDelimiter, BadRowPolicy badRows,
                       double featureDivisor) {
        this(format, path, labelsPath, numFeatures, targetKind, numOutputs, labelColumn, featuresColumn,
                featureColumns, weightColumn, csvHeader, csvDelimiter, badRows, featureDivisor, false);
    }
}
