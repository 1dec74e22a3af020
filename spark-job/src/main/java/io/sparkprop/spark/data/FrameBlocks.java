package io.sparkprop.spark.data;

import io.sparkprop.core.DataBlock;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;

/**
 * A DataFrame's {@code (features, label, weight)} columns as cached blocks, one per partition, in
 * the partition's row order (so a deterministic input gives bit-identical weights): each row is
 * checked and becomes a {@link ParsedRow}, and {@link BlockBuilder} stacks them, as it does for
 * the file readers. The estimators' fit and evaluate use this; the files' readers feed
 * {@link BlockBuilder} directly.
 *
 * <p>Errors name the partition and the row within it: a features vector of the wrong size or with
 * a non-finite value, a label that is not a class index in {@code [0, numOutputs)} (or, for
 * regression, not finite), a weight that is negative or not finite.
 */
public final class FrameBlocks {

    private FrameBlocks() {
    }

    /**
     * The rows of {@code data} as one block per partition, persisted {@code MEMORY_AND_DISK}.
     *
     * @param featuresCol a Vector column of {@code numFeatures} values per row
     * @param labelCol    a numeric label column: class indices, or the regression target
     * @param weightCol   a non-negative sample-weight column; {@code null} or empty for weight 1
     * @param kind        {@link TargetKind#CLASS_INDEX} (one-hot targets of {@code numOutputs}) or
     *                    {@link TargetKind#REGRESSION} (one target)
     * @param sparse      keep each row's nonzeros (compressed sparse rows) instead of dense rows
     */
    public static JavaRDD<DataBlock> blocks(Dataset<?> data, String featuresCol, String labelCol, String weightCol,
                                            int numFeatures, int numOutputs, TargetKind kind, boolean sparse) {
        ToBlock parse = parser(featuresCol, labelCol, weightCol, numFeatures, numOutputs, kind, sparse);
        return columns(data, featuresCol, labelCol, weightCol).javaRDD()
                .mapPartitionsWithIndex(parse, true)
                .persist(StorageLevel.MEMORY_AND_DISK());
    }

    /** The checks and conversion of {@link #blocks} and {@link #chunks}, for their arguments. */
    private static ToBlock parser(String featuresCol, String labelCol, String weightCol, int numFeatures,
                                  int numOutputs, TargetKind kind, boolean sparse) {
        if (kind == TargetKind.MULTI_LABEL || kind == TargetKind.REGRESSION && numOutputs != 1) {
            throw new IllegalArgumentException("A DataFrame's label column gives class indices or one regression"
                    + " target, not " + numOutputs + " " + kind.key() + " targets");
        }
        return new ToBlock(numFeatures, numOutputs, kind, isSet(weightCol), sparse, featuresCol, labelCol, weightCol);
    }

    /** {@code (features, label as double, weight as double or 1)} of {@code data}. */
    private static Dataset<Row> columns(Dataset<?> data, String featuresCol, String labelCol, String weightCol) {
        return data.select(functions.col(featuresCol), functions.col(labelCol).cast("double"),
                isSet(weightCol) ? functions.col(weightCol).cast("double") : functions.lit(1.0));
    }

    private static boolean isSet(String column) {
        return column != null && !column.isEmpty();
    }

    /**
     * The rows of {@code data} as chunks of about {@code chunkBytes} ({@code train.shuffle =
     * window}: {@link Chunker}), partition {@code p} of {@code data} being training partition
     * {@code p}; persisted {@code MEMORY_AND_DISK} and materialized. The rows stream from the
     * DataFrame to the chunks: no task holds a whole partition. Parameters as {@link #blocks}.
     *
     * @throws IllegalArgumentException for a bad row (naming its partition, row and column) or no rows
     */
    public static LoadedData chunks(Dataset<?> data, String featuresCol, String labelCol, String weightCol,
                                    int numFeatures, int numOutputs, TargetKind kind, boolean sparse, long chunkBytes) {
        ToBlock parse = parser(featuresCol, labelCol, weightCol, numFeatures, numOutputs, kind, sparse);
        Chunker.Chunks chunks;
        try {
            chunks = Chunker.chunk(columns(data, featuresCol, labelCol, weightCol).javaRDD()
                    .mapPartitions(parse::parsed, true), numFeatures, numOutputs, isSet(weightCol), sparse, chunkBytes);
        } catch (Exception e) {
            throw DataLoader.surfaced(e);
        }
        JavaRDD<DataBlock> cached = chunks.blocks().setName("sparkprop DataFrame chunks")
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            cached.count();
        } catch (Exception e) {
            cached.unpersist(false);
            throw DataLoader.surfaced(e);
        }
        return new LoadedData(cached, chunks.rows(), 0, numFeatures, List.of(), List.of(), List.of(), chunks.layout());
    }

    /** One partition's rows, checked, as one block. */
    private static final class ToBlock implements Function2<Integer, Iterator<Row>, Iterator<DataBlock>> {

        private static final long serialVersionUID = 1L;
        private final int numFeatures;
        private final int numOutputs;
        private final TargetKind kind;
        private final boolean weighted;
        private final boolean sparse;
        /** The columns' names, for errors. */
        private final String featuresCol;
        private final String labelCol;
        private final String weightCol;

        ToBlock(int numFeatures, int numOutputs, TargetKind kind, boolean weighted, boolean sparse, String featuresCol,
                String labelCol, String weightCol) {
            this.numFeatures = numFeatures;
            this.numOutputs = numOutputs;
            this.kind = kind;
            this.weighted = weighted;
            this.sparse = sparse;
            this.featuresCol = featuresCol;
            this.labelCol = labelCol;
            this.weightCol = weightCol;
        }

        @Override
        public Iterator<DataBlock> call(Integer partition, Iterator<Row> rows) {
            Iterator<ParsedRow> parsed = parsed(rows);
            DataBlock block = sparse ? BlockBuilder.buildSparse(parsed, numFeatures, numOutputs, weighted, partition)
                    : BlockBuilder.build(parsed, numFeatures, numOutputs, weighted, partition);
            return List.of(block).iterator();
        }

        /** The partition's rows, each checked as it is read. */
        Iterator<ParsedRow> parsed(Iterator<Row> rows) {
            return new Iterator<>() {
                private int index;

                @Override
                public boolean hasNext() {
                    return rows.hasNext();
                }

                @Override
                public ParsedRow next() {
                    return parse(rows.next(), index++);
                }
            };
        }

        private ParsedRow parse(Row row, int index) {
            Vector v = (Vector) row.get(0);
            if (v == null || v.size() != numFeatures) {
                throw bad(index, featuresCol, "a features vector of " + numFeatures + " values (layers[0])",
                        v == null ? "null" : v.size() + " values");
            }
            int[] indices = v instanceof SparseVector s ? s.indices() : null;
            double[] values = v instanceof SparseVector s ? s.values() : v.toArray();
            for (int j = 0; j < values.length; j++) {
                if (!Double.isFinite(values[j])) {
                    throw bad(index, featuresCol, "finite features", values[j] + " at index "
                            + (indices != null ? indices[j] : j));
                }
            }
            double label = row.isNullAt(1) ? Double.NaN : row.getDouble(1);
            boolean regression = kind == TargetKind.REGRESSION;
            if (regression ? !Double.isFinite(label)
                    : !(label >= 0 && label < numOutputs && label == Math.rint(label))) {
                throw bad(index, labelCol, regression ? "a finite label" : "a class index in [0, " + numOutputs
                        + ") (the last layer's size)", Double.toString(label));
            }
            double w = row.isNullAt(2) ? Double.NaN : row.getDouble(2);
            if (!(w >= 0) || Double.isInfinite(w)) {
                throw bad(index, weightCol, "a finite weight >= 0", Double.toString(w));
            }
            int classIndex = regression ? -1 : (int) label;
            double[] targets = regression ? new double[] {label} : null;
            // Dense blocks scatter a sparse row; sparse blocks keep its entries (less explicit zeros).
            return indices != null ? ParsedRow.sparse(indices, values, classIndex, targets, w)
                    : ParsedRow.dense(values, classIndex, targets, w);
        }

        private static BadRowException bad(int row, String column, String expected, String found) {
            TaskContext task = TaskContext.get();
            return new BadRowException(String.format(Locale.ROOT, "Row %d of partition %d, column '%s': expected %s"
                    + " but found %s", row, task == null ? -1 : task.partitionId(), column, expected, found));
        }
    }
}
