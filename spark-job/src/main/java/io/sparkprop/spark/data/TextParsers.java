package io.sparkprop.spark.data;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Parses one line of CSV or LIBSVM text into a {@link ParsedRow}: pure functions with no Spark,
 * no I/O and no knowledge of where the line came from. A blank line gives {@code null} (it is not
 * a row); a line that cannot be used throws {@link BadRowException} saying what was expected and
 * what was found, and the caller adds the file and line.
 *
 * <h2>CSV</h2>
 * Fields are split by {@link CsvFields}: RFC 4180 quoting within a line (a quoted field may hold
 * the delimiter, {@code ""} is a quote), unquoted fields trimmed of surrounding spaces. Every line
 * must have exactly the header's (or the first line's) number of fields. Read for scoring, a line
 * has no label (a label column, if the file has one, is not read) and keeps the text of its
 * passthrough columns as they are, unquoted.
 *
 * <h2>LIBSVM</h2>
 * {@code label index:value index:value ...}, tokens separated by spaces or tabs. Indices are
 * 1-based, strictly ascending and at most numFeatures; missing indices are 0. The label is
 * <ul>
 *   <li>{@link TargetKind#CLASS_INDEX}: an integer class in {@code [0, numOutputs)};</li>
 *   <li>{@link TargetKind#REGRESSION}: one real value (numOutputs must be 1);</li>
 *   <li>{@link TargetKind#MULTI_LABEL}: a comma-separated list of distinct class indices in
 *       {@code [0, numOutputs)} whose targets are 1, all others 0: {@code 1,3 1:0.5 7:2} has
 *       targets 1 at positions 1 and 3. A line whose first token is a feature ({@code 1:0.5 ...})
 *       has no labels set.</li>
 * </ul>
 * Read for scoring, the label is optional and not read: a line whose first token is a feature has
 * none.
 *
 * <h2>Numbers</h2>
 * Decimal numbers as {@link Double#parseDouble} reads them, restricted to digits, sign, point and
 * exponent (no {@code 1d}, no hexadecimal). {@code nan}, {@code inf}, {@code infinity} in any case
 * and with a sign read as the non-finite values they name, which the feature, label and weight
 * checks then reject with the text as found.
 */
final class TextParsers {

    /** What a LIBSVM line is parsed against; numFeatures 0 means no upper bound on the indices. */
    record LibsvmLayout(int numFeatures, TargetKind targetKind, int numOutputs, double featureDivisor,
                        boolean scoring) implements Serializable {

        /** A layout for training data: every line starts with its label. */
        LibsvmLayout(int numFeatures, TargetKind targetKind, int numOutputs, double featureDivisor) {
            this(numFeatures, targetKind, numOutputs, featureDivisor, false);
        }
    }

    private TextParsers() {
    }

    /** One CSV line as a row, or {@code null} for a blank line. */
    static ParsedRow parseCsv(String line, CsvLayout layout) {
        if (line.isBlank()) {
            return null;
        }
        String[] fields = layout.fields.split(line);
        if (fields.length != layout.numColumns()) {
            throw new BadRowException(layout.widthMessage(fields.length));
        }
        double[] features = new double[layout.featureColumns.length];
        for (int j = 0; j < features.length; j++) {
            int c = layout.featureColumns[j];
            String raw = fields[c];
            try {
                features[j] = Values.feature(number(raw), raw, layout.featureDivisor);
            } catch (BadRowException e) {
                throw Values.in("column '" + layout.columns[c] + "'", e);
            }
        }
        int classIndex = -1;
        double[] targets = null;
        int[] labels = layout.labelColumns;
        if (labels.length == 0) {
            // Scoring: no targets.
        } else if (layout.targetKind == TargetKind.CLASS_INDEX) {
            String raw = fields[labels[0]];
            try {
                classIndex = Values.classIndex(number(raw), raw, layout.numOutputs);
            } catch (BadRowException e) {
                throw Values.in("label column '" + layout.columns[labels[0]] + "'", e);
            }
        } else {
            targets = new double[labels.length];
            for (int k = 0; k < labels.length; k++) {
                String raw = fields[labels[k]];
                try {
                    double v = number(raw);
                    targets[k] = layout.targetKind == TargetKind.MULTI_LABEL
                            ? Values.zeroOrOne(v, raw) : Values.target(v, raw);
                } catch (BadRowException e) {
                    throw Values.in("label column '" + layout.columns[labels[k]] + "'", e);
                }
            }
        }
        double weight = 1.0;
        if (layout.weightColumn >= 0) {
            String raw = fields[layout.weightColumn];
            try {
                weight = Values.weight(number(raw), raw);
            } catch (BadRowException e) {
                throw Values.in("weight column '" + layout.columns[layout.weightColumn] + "'", e);
            }
        }
        ParsedRow row = ParsedRow.dense(features, classIndex, targets, weight);
        if (layout.passthroughColumns.length > 0) {
            Object[] passthrough = new Object[layout.passthroughColumns.length];
            for (int k = 0; k < passthrough.length; k++) {
                passthrough[k] = fields[layout.passthroughColumns[k]];
            }
            row = row.withPassthrough(passthrough);
        }
        return row;
    }

    /** One LIBSVM line as a sparse row (0-based indices), or {@code null} for a blank line. */
    static ParsedRow parseLibsvm(String line, LibsvmLayout layout) {
        List<String> tokens = tokens(line);
        if (tokens.isEmpty()) {
            return null;
        }
        int first = 1;
        int classIndex = -1;
        double[] targets = null;
        String head = tokens.get(0);
        if (layout.scoring()) {
            // A label, if the line has one, is neither needed nor read.
            first = head.indexOf(':') >= 0 ? 0 : 1;
        } else {
            switch (layout.targetKind()) {
                case CLASS_INDEX -> {
                    requireLabel(head);
                    try {
                        classIndex = Values.classIndex(number(head), head, layout.numOutputs());
                    } catch (BadRowException e) {
                        throw Values.in("label", e);
                    }
                }
                case REGRESSION -> {
                    requireLabel(head);
                    try {
                        targets = new double[] {Values.target(number(head), head)};
                    } catch (BadRowException e) {
                        throw Values.in("label", e);
                    }
                }
                case MULTI_LABEL -> {
                    targets = new double[layout.numOutputs()];
                    if (head.indexOf(':') >= 0) {
                        first = 0;
                    } else {
                        for (String part : head.split(",", -1)) {
                            String label = part.trim();
                            int k;
                            try {
                                k = Values.classIndex(number(label), label, layout.numOutputs());
                            } catch (BadRowException e) {
                                throw Values.in("label list '" + head + "'", e);
                            }
                            if (targets[k] != 0.0) {
                                throw new BadRowException("expected distinct class indices in the label list but found "
                                        + k + " twice in '" + head + "'");
                            }
                            targets[k] = 1.0;
                        }
                    }
                }
                default -> throw new IllegalStateException("Unknown target kind " + layout.targetKind());
            }
        }
        int count = tokens.size() - first;
        int[] indices = new int[count];
        double[] values = new double[count];
        long previous = 0;
        for (int t = 0; t < count; t++) {
            String token = tokens.get(first + t);
            int colon = token.indexOf(':');
            if (colon <= 0 || colon == token.length() - 1) {
                throw new BadRowException("expected 'index:value' but found '" + token + "'");
            }
            long index = featureIndex(token, colon);
            long upper = layout.numFeatures() > 0 ? layout.numFeatures() : Integer.MAX_VALUE;
            if (index < 1 || index > upper) {
                throw new BadRowException("expected a feature index in 1.." + upper + " but found "
                        + token.substring(0, colon));
            }
            if (index <= previous) {
                throw new BadRowException("expected strictly ascending feature indices but found " + index
                        + " after " + previous);
            }
            previous = index;
            String raw = token.substring(colon + 1);
            try {
                values[t] = Values.feature(number(raw), raw, layout.featureDivisor());
            } catch (BadRowException e) {
                throw Values.in("index " + index, e);
            }
            indices[t] = (int) index - 1;
        }
        return ParsedRow.sparse(indices, values, classIndex, targets, 1.0);
    }

    /**
     * A number as described in the class comment; {@code nan} and {@code inf} spellings give the
     * non-finite values. Throws {@link BadRowException} for anything else.
     */
    static double number(String text) {
        int n = text.length();
        if (n == 0) {
            throw new BadRowException("expected a number but found an empty field");
        }
        boolean plain = true;
        for (int i = 0; i < n && plain; i++) {
            char c = text.charAt(i);
            plain = (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
        }
        if (plain) {
            try {
                return Double.parseDouble(text);
            } catch (NumberFormatException e) {
                throw new BadRowException("expected a number but found '" + text + "'");
            }
        }
        String word = text.toLowerCase(Locale.ROOT);
        boolean negative = word.startsWith("-");
        if (negative || word.startsWith("+")) {
            word = word.substring(1);
        }
        if (word.equals("nan")) {
            return Double.NaN;
        }
        if (word.equals("inf") || word.equals("infinity")) {
            return negative ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        throw new BadRowException("expected a number but found '" + text + "'");
    }

    /** A comma-separated list of names, each trimmed, none empty. */
    static List<String> splitNames(String list) {
        List<String> names = new ArrayList<>();
        for (String part : list.split(",", -1)) {
            String name = part.trim();
            if (name.isEmpty()) {
                throw new IllegalArgumentException("Expected a comma-separated list of column names but found '"
                        + list + "'");
            }
            names.add(name);
        }
        return names;
    }

    /** The tokens of a LIBSVM line, separated by runs of spaces and tabs. */
    static List<String> tokens(String line) {
        List<String> tokens = new ArrayList<>();
        int n = line.length();
        int i = 0;
        while (i < n) {
            while (i < n && Character.isWhitespace(line.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < n && !Character.isWhitespace(line.charAt(i))) {
                i++;
            }
            if (i > start) {
                tokens.add(line.substring(start, i));
            }
        }
        return tokens;
    }

    private static void requireLabel(String head) {
        if (head.indexOf(':') >= 0) {
            throw new BadRowException("expected a label before the features but found '" + head + "'");
        }
    }

    /** The index of {@code index:value}: decimal digits only; huge values saturate (the range check rejects them). */
    private static long featureIndex(String token, int colon) {
        long index = 0;
        for (int i = 0; i < colon; i++) {
            char c = token.charAt(i);
            if (c < '0' || c > '9') {
                throw new BadRowException("expected an integer feature index but found '" + token.substring(0, colon)
                        + "' in '" + token + "'");
            }
            index = Math.min(index * 10 + (c - '0'), Long.MAX_VALUE / 10);
        }
        return index;
    }
}
