package io.sparkprop.spark.data;

/**
 * One row between the readers and {@link BlockBuilder}: what the shuffle carries for the text
 * and Parquet formats. Features are already divided by the feature divisor and checked finite;
 * targets are already checked against the target kind. A bad row carries only the located reason
 * it was dropped, so that {@link BadRowPolicy#SKIP} counts come from the same sorted partitions
 * the blocks are built from.
 *
 * <p>Features are dense ({@code indices == null}, {@code values.length == numFeatures}) or sparse
 * (0-based ascending {@code indices} with their {@code values}; LIBSVM and sparse vectors stay
 * sparse through the shuffle and are densified in the block). A class label travels as its index,
 * not as a one-hot vector. Rows read for scoring have no targets ({@code classIndex} -1,
 * {@code targets} null) and carry their row number and passthrough values instead. Registered with
 * Kryo.
 */
final class ParsedRow implements java.io.Serializable {

    /** Java serialization too: Spark's default serializer ships it when a session does not use Kryo. */
    private static final long serialVersionUID = 1L;


    /** Dense features, or the values at {@link #indices}. */
    final double[] values;
    /** 0-based feature indices of a sparse row, ascending; {@code null} for a dense row. */
    final int[] indices;
    /** {@link TargetKind#CLASS_INDEX}: the class in {@code [0, numOutputs)}; otherwise -1. */
    final int classIndex;
    /** {@link TargetKind#MULTI_LABEL} and {@link TargetKind#REGRESSION}: the numOutputs targets; else null. */
    final double[] targets;
    /** The sample weight; 1 when the data has no weight column. */
    final double weight;
    /** Non-null for a bad row: the reason, starting with the file and row; every other field is empty. */
    final String badReason;
    /**
     * Rows read for scoring only: the row's number as its file-and-row messages name it (a text
     * file's 1-based line, a Parquet file's 0-based row); -1 otherwise.
     */
    final long row;
    /** Rows read for scoring only: the passthrough columns' values, in the order asked for; else null. */
    final Object[] passthrough;

    private ParsedRow(double[] values, int[] indices, int classIndex, double[] targets, double weight,
                      String badReason, long row, Object[] passthrough) {
        this.values = values;
        this.indices = indices;
        this.classIndex = classIndex;
        this.targets = targets;
        this.weight = weight;
        this.badReason = badReason;
        this.row = row;
        this.passthrough = passthrough;
    }

    private ParsedRow(double[] values, int[] indices, int classIndex, double[] targets, double weight,
                      String badReason) {
        this(values, indices, classIndex, targets, weight, badReason, -1, null);
    }

    static ParsedRow dense(double[] features, int classIndex, double[] targets, double weight) {
        return new ParsedRow(features, null, classIndex, targets, weight, null);
    }

    static ParsedRow sparse(int[] indices, double[] values, int classIndex, double[] targets, double weight) {
        return new ParsedRow(values, indices, classIndex, targets, weight, null);
    }

    static ParsedRow bad(String reason) {
        return new ParsedRow(null, null, -1, null, 0.0, reason);
    }

    boolean isBad() {
        return badReason != null;
    }

    /** The same row with its features and targets, now with {@code weight}. */
    ParsedRow withWeight(double newWeight) {
        return new ParsedRow(values, indices, classIndex, targets, newWeight, badReason, row, passthrough);
    }

    /** The same row (good or bad) with its passthrough values, for scoring. */
    ParsedRow withPassthrough(Object[] newPassthrough) {
        return new ParsedRow(values, indices, classIndex, targets, weight, badReason, row, newPassthrough);
    }

    /** The same row (good or bad) with its number in its file, for scoring. */
    ParsedRow atRow(long newRow) {
        return new ParsedRow(values, indices, classIndex, targets, weight, badReason, newRow, passthrough);
    }
}
