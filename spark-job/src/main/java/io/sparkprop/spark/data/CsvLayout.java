package io.sparkprop.spark.data;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which CSV columns are the features, the labels and the weight, resolved once on the driver from
 * the header (or, without a header, from the first line's field count, naming the columns
 * {@code _c0}, {@code _c1}, ...) and shipped to the tasks. Immutable; small.
 */
final class CsvLayout implements Serializable {

    private static final long serialVersionUID = 1L;

    final char delimiter;
    /** The line splitter for this delimiter (each task deserializes its own). */
    final CsvFields fields;
    /** Every column's name, in file order. */
    final String[] columns;
    /** The feature columns, in the order their values go into a row. */
    final int[] featureColumns;
    /** The label columns: one for a class index, numOutputs otherwise. */
    final int[] labelColumns;
    /** The weight column, or -1. */
    final int weightColumn;
    /** Scoring only: the columns whose text each row carries through to the output; else empty. */
    final int[] passthroughColumns;
    /** Whether the features are every column that is not a label or the weight (width messages count features). */
    final boolean allOtherColumns;
    final TargetKind targetKind;
    final int numOutputs;
    final double featureDivisor;

    private CsvLayout(char delimiter, String[] columns, int[] featureColumns, int[] labelColumns, int weightColumn,
                      int[] passthroughColumns, boolean allOtherColumns, TargetKind targetKind, int numOutputs,
                      double featureDivisor) {
        this.delimiter = delimiter;
        this.fields = new CsvFields(delimiter);
        this.columns = columns;
        this.featureColumns = featureColumns;
        this.labelColumns = labelColumns;
        this.weightColumn = weightColumn;
        this.passthroughColumns = passthroughColumns;
        this.allOtherColumns = allOtherColumns;
        this.targetKind = targetKind;
        this.numOutputs = numOutputs;
        this.featureDivisor = featureDivisor;
    }

    /**
     * Resolves the options' column names against {@code columns}, read from {@code source} (the
     * file whose header or first line gave them, for messages).
     */
    static CsvLayout resolve(List<String> columns, DataOptions options, String source) {
        String[] names = columns.toArray(new String[0]);
        if (options.labelColumn() == null || options.labelColumn().isBlank()) {
            throw new IllegalArgumentException("CSV data needs a label column (labelColumn); the columns of "
                    + source + " are " + String.join(", ", names));
        }
        List<String> labelNames = TextParsers.splitNames(options.labelColumn());
        int[] labels = new int[labelNames.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = find(names, labelNames.get(i), source);
        }
        int expectedLabels = options.targetKind() == TargetKind.CLASS_INDEX ? 1 : options.numOutputs();
        if (labels.length != expectedLabels) {
            throw new IllegalArgumentException("Expected " + expectedLabels + " label column(s) for "
                    + options.targetKind().key() + " with " + options.numOutputs() + " outputs but labelColumn names "
                    + labels.length + ": " + String.join(", ", labelNames));
        }
        int weight = options.weightColumn() == null || options.weightColumn().isBlank()
                ? -1 : find(names, options.weightColumn().trim(), source);
        boolean[] taken = new boolean[names.length];
        for (int label : labels) {
            if (taken[label]) {
                throw new IllegalArgumentException("CSV column '" + names[label] + "' is named twice in labelColumn");
            }
            taken[label] = true;
        }
        if (weight >= 0 && taken[weight]) {
            throw new IllegalArgumentException("CSV column '" + names[weight] + "' cannot be both a label and the weight");
        }
        if (weight >= 0) {
            taken[weight] = true;
        }
        int[] features;
        boolean allOthers = options.featureColumns().isEmpty();
        if (allOthers) {
            List<Integer> others = new ArrayList<>();
            for (int c = 0; c < names.length; c++) {
                if (!taken[c]) {
                    others.add(c);
                }
            }
            features = others.stream().mapToInt(Integer::intValue).toArray();
        } else {
            requireFeatureColumns(names, options.featureColumns(), source);
            features = new int[options.featureColumns().size()];
            for (int j = 0; j < features.length; j++) {
                int c = find(names, options.featureColumns().get(j).trim(), source);
                if (taken[c]) {
                    throw new IllegalArgumentException("CSV column '" + names[c] + "' is named as a feature column"
                            + " but is already the label, the weight or another feature");
                }
                taken[c] = true;
                features[j] = c;
            }
        }
        if (features.length == 0) {
            throw new IllegalArgumentException("CSV data at " + source + " has no feature columns; columns: "
                    + String.join(", ", names));
        }
        if (options.numFeatures() != 0 && options.numFeatures() != features.length) {
            throw new IllegalArgumentException("Expected " + options.numFeatures() + " features (numFeatures) but "
                    + source + " has " + features.length + " feature columns of " + names.length + " columns");
        }
        return new CsvLayout(options.csvDelimiter(), names, features, labels, weight, new int[0], allOthers,
                options.targetKind(), options.numOutputs(), options.featureDivisor());
    }

    /**
     * The layout of data read for scoring: no label is read or needed. The features are
     * {@code featureColumns}, or else every column that is not the label column, the weight column
     * (either only if the file has it) or a {@code passthrough} column; the {@code passthrough}
     * columns (each must exist) are carried through as text. A passthrough column may also be a
     * named feature.
     */
    static CsvLayout forScoring(List<String> columns, DataOptions options, String source, List<String> passthrough) {
        String[] names = columns.toArray(new String[0]);
        int[] carried = new int[passthrough.size()];
        boolean[] taken = new boolean[names.length];
        for (int k = 0; k < carried.length; k++) {
            carried[k] = find(names, passthrough.get(k), source);
            if (taken[carried[k]]) {
                throw new IllegalArgumentException("CSV column '" + passthrough.get(k) + "' is named twice in the"
                        + " passthrough columns");
            }
            taken[carried[k]] = true;
        }
        boolean allOthers = options.featureColumns().isEmpty();
        int[] features;
        if (allOthers) {
            List<String> skipped = new ArrayList<>();
            if (options.labelColumn() != null && !options.labelColumn().isBlank()) {
                skipped.addAll(TextParsers.splitNames(options.labelColumn()));
            }
            if (options.weightColumn() != null && !options.weightColumn().isBlank()) {
                skipped.add(options.weightColumn().trim());
            }
            List<Integer> others = new ArrayList<>();
            for (int c = 0; c < names.length; c++) {
                if (!taken[c] && !skipped.contains(names[c])) {
                    others.add(c);
                }
            }
            features = others.stream().mapToInt(Integer::intValue).toArray();
        } else {
            requireFeatureColumns(names, options.featureColumns(), source);
            features = new int[options.featureColumns().size()];
            boolean[] feature = new boolean[names.length];
            for (int j = 0; j < features.length; j++) {
                int c = find(names, options.featureColumns().get(j).trim(), source);
                if (feature[c]) {
                    throw new IllegalArgumentException("CSV column '" + names[c] + "' is named twice as a feature"
                            + " column");
                }
                feature[c] = true;
                features[j] = c;
            }
        }
        if (features.length == 0) {
            throw new IllegalArgumentException("CSV data at " + source + " has no feature columns; columns: "
                    + String.join(", ", names));
        }
        if (options.numFeatures() != 0 && options.numFeatures() != features.length) {
            throw new IllegalArgumentException("Expected " + options.numFeatures() + " features (the model's input"
                    + " size) but " + source + " has " + features.length + " feature columns ("
                    + String.join(", ", Arrays.stream(features).mapToObj(c -> "'" + names[c] + "'").toList()) + ") of "
                    + names.length + " columns" + (allOthers ? "; name the ID and other non-feature columns in"
                    + " --passthrough, or the features in data.feature-columns" : ""));
        }
        return new CsvLayout(options.csvDelimiter(), names, features, new int[0], -1, carried, allOthers,
                options.targetKind(), options.numOutputs(), options.featureDivisor());
    }

    int numColumns() {
        return columns.length;
    }

    int numFeatures() {
        return featureColumns.length;
    }

    /** The message for a line of {@code found} fields. */
    String widthMessage(int found) {
        int nonFeatures = columns.length - featureColumns.length;
        if (allOtherColumns && found >= nonFeatures) {
            return "expected " + featureColumns.length + " features but found " + (found - nonFeatures) + " ("
                    + columns.length + " fields expected, " + found + " found)";
        }
        return "expected " + columns.length + " fields but found " + found;
    }

    /**
     * Checks that every feature column is in {@code names}, naming all that are missing at once:
     * they come from {@code data.feature-columns} or from the model's recorded feature columns.
     */
    private static void requireFeatureColumns(String[] names, List<String> featureColumns, String source) {
        List<String> missing = new ArrayList<>();
        List<String> present = Arrays.asList(names);
        for (String column : featureColumns) {
            if (!present.contains(column.trim())) {
                missing.add("'" + column.trim() + "'");
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(missingFeatures("CSV data at " + source, missing, featureColumns,
                    present));
        }
    }

    /** The message for feature columns that the data at {@code where} lacks; shared with the Parquet reader. */
    static String missingFeatures(String where, List<String> missing, List<String> featureColumns,
                                  List<String> columns) {
        return where + " has no feature column" + (missing.size() == 1 ? " " : "s ") + String.join(", ", missing)
                + " (the features by name: " + String.join(", ", featureColumns) + ", from data.feature-columns or"
                + " else the model's recorded sparkprop.feature-columns); available columns: "
                + String.join(", ", columns);
    }

    private static int find(String[] names, String name, String source) {
        int found = -1;
        for (int c = 0; c < names.length; c++) {
            if (names[c].equals(name)) {
                if (found >= 0) {
                    throw new IllegalArgumentException("CSV column '" + name + "' appears more than once in the header"
                            + " of " + source);
                }
                found = c;
            }
        }
        if (found < 0) {
            throw new IllegalArgumentException("CSV data at " + source + " has no column '" + name
                    + "'; available columns: " + String.join(", ", names));
        }
        return found;
    }

    @Override
    public String toString() {
        return "CsvLayout{columns=" + Arrays.toString(columns) + ", features=" + Arrays.toString(featureColumns)
                + ", labels=" + Arrays.toString(labelColumns) + ", weight=" + weightColumn + "}";
    }
}
