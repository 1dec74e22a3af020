package io.sparkprop.spark.data;

import io.sparkprop.core.DataBlock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;

/**
 * Turns keyed rows into one {@link DataBlock} per partition, deterministically: rows go to a
 * partition by their key ({@link RowPartitioner}) and are sorted by key within it
 * ({@code repartitionAndSortWithinPartitions}), so each block holds the same rows in the same
 * order whatever order the shuffle fetched them in. Sparse rows are densified here; bad rows
 * (SKIP) are left out of the block and counted by a separate pass over the same sorted rows.
 * It does not parse or validate values: the readers did.
 */
final class BlockBuilder {

    /** Largest Java array we allocate: a little under {@code Integer.MAX_VALUE}, as the JDK's collections do. */
    static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    /** Rows per buffered chunk: about 8 MB of features, so the peak is about twice the block, not three times. */
    private static final int CHUNK_DOUBLES = 1 << 20;

    private BlockBuilder() {
    }

    /** The rows of {@code keyed} in {@code partitions} partitions, each sorted by key. */
    static JavaRDD<ParsedRow> partitionAndSort(JavaPairRDD<Long, ParsedRow> keyed, int partitions) {
        return keyed.repartitionAndSortWithinPartitions(new RowPartitioner(partitions)).values();
    }

    /** One block per partition of {@code sorted}, rows in partition order, bad rows left out. */
    static JavaRDD<DataBlock> blocks(JavaRDD<ParsedRow> sorted, int numFeatures, int numOutputs, boolean weighted,
                                     boolean sparse) {
        return sorted.mapPartitionsWithIndex((partition, rows) -> Collections.singletonList(sparse
                ? buildSparse(rows, numFeatures, numOutputs, weighted, partition)
                : build(rows, numFeatures, numOutputs, weighted, partition)).iterator(), true);
    }

    /**
     * The good rows of {@code rows}, in order, as one sparse block: each row's nonzero features
     * (a sparse row's entries as they are, less explicit zeros; a dense row's nonzeros).
     */
    static DataBlock buildSparse(Iterator<ParsedRow> rows, int numFeatures, int numOutputs, boolean weighted,
                                 int partition) {
        IntList starts = new IntList();
        IntList columns = new IntList();
        DoubleList values = new DoubleList();
        DoubleList targets = new DoubleList();
        DoubleList weights = new DoubleList();
        starts.add(0);
        while (rows.hasNext()) {
            ParsedRow row = rows.next();
            if (row.isBad()) {
                continue;
            }
            checkWidth(row, numFeatures, partition);
            for (int k = 0; k < row.values.length; k++) {
                if (row.values[k] != 0.0) {
                    columns.add(row.indices == null ? k : row.indices[k]);
                    values.add(row.values[k]);
                }
            }
            starts.add(columns.size());
            int base = targets.size();
            targets.addZeros(numOutputs);
            if (row.classIndex >= 0) {
                targets.set(base + row.classIndex, 1.0);
            } else if (row.targets != null) {
                for (int j = 0; j < numOutputs; j++) {
                    targets.set(base + j, row.targets[j]);
                }
            }
            if (weighted) {
                weights.add(row.weight);
            }
        }
        int n = starts.size() - 1;
        return DataBlock.sparse(n, numFeatures, numOutputs, starts.toArray(), columns.toArray(), values.toArray(),
                targets.toArray(), weighted ? weights.toArray() : null);
    }

    /** A growable int array. */
    private static final class IntList {
        private int[] data = new int[16];
        private int size;

        void add(int v) {
            if (size == data.length) {
                if (data.length >= MAX_ARRAY) {
                    throw new IllegalArgumentException("More than " + MAX_ARRAY + " values in one partition; use more"
                            + " partitions");
                }
                data = java.util.Arrays.copyOf(data, (int) Math.min(MAX_ARRAY, data.length * 2L));
            }
            data[size++] = v;
        }

        int size() {
            return size;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(data, size);
        }
    }

    /** A growable double array. */
    private static final class DoubleList {
        private double[] data = new double[16];
        private int size;

        void add(double v) {
            ensure(size + 1);
            data[size++] = v;
        }

        void addZeros(int count) {
            ensure(size + count);
            size += count;
        }

        void set(int index, double v) {
            data[index] = v;
        }

        int size() {
            return size;
        }

        private void ensure(long needed) {
            if (needed > data.length) {
                if (needed > MAX_ARRAY) {
                    throw new IllegalArgumentException("More than " + MAX_ARRAY + " values in one partition; use more"
                            + " partitions");
                }
                data = java.util.Arrays.copyOf(data, (int) Math.min(MAX_ARRAY, Math.max(needed, data.length * 2L)));
            }
        }

        double[] toArray() {
            return java.util.Arrays.copyOf(data, size);
        }
    }

    /** Per partition of {@code sorted}: the bad rows and the first reasons, in row order. */
    static JavaRDD<PartitionStats> badRowStats(JavaRDD<ParsedRow> sorted) {
        return sorted.mapPartitions(rows -> {
            long skipped = 0;
            List<String> examples = new ArrayList<>();
            while (rows.hasNext()) {
                ParsedRow row = rows.next();
                if (row.isBad()) {
                    skipped++;
                    if (examples.size() < PartitionStats.EXAMPLES) {
                        examples.add(row.badReason);
                    }
                }
            }
            return Collections.singletonList(new PartitionStats(skipped, examples.toArray(new String[0]))).iterator();
        });
    }

    /**
     * The good rows of {@code rows}, in order, as one block: features {@code (n, numFeatures)},
     * targets {@code (n, numOutputs)} (one-hot for class rows; zero for rows read for scoring, which
     * have none), weights when {@code weighted}.
     */
    static DataBlock build(Iterator<ParsedRow> rows, int numFeatures, int numOutputs, boolean weighted,
                           int partition) {
        int chunkRows = Math.max(1, CHUNK_DOUBLES / Math.max(numFeatures, numOutputs));
        List<double[]> featureChunks = new ArrayList<>();
        List<double[]> targetChunks = new ArrayList<>();
        List<double[]> weightChunks = new ArrayList<>();
        double[] features = null;
        double[] targets = null;
        double[] weights = null;
        long n = 0;
        int inChunk = chunkRows;
        while (rows.hasNext()) {
            ParsedRow row = rows.next();
            if (row.isBad()) {
                continue;
            }
            if ((n + 1) * Math.max(numFeatures, numOutputs) > MAX_ARRAY) {
                throw new IllegalArgumentException("Partition " + partition + " holds more than " + n + " rows of "
                        + numFeatures + " features, more than one Java array holds; use more partitions, or"
                        + " data.sparse = true for mostly-zero features");
            }
            if (inChunk == chunkRows) {
                features = new double[chunkRows * numFeatures];
                targets = new double[chunkRows * numOutputs];
                featureChunks.add(features);
                targetChunks.add(targets);
                if (weighted) {
                    weights = new double[chunkRows];
                    weightChunks.add(weights);
                }
                inChunk = 0;
            }
            write(row, features, inChunk * numFeatures, numFeatures, partition);
            if (row.classIndex >= 0) {
                targets[inChunk * numOutputs + row.classIndex] = 1.0;
            } else if (row.targets != null) {
                System.arraycopy(row.targets, 0, targets, inChunk * numOutputs, numOutputs);
            }
            if (weighted) {
                weights[inChunk] = row.weight;
            }
            inChunk++;
            n++;
        }
        int rowCount = (int) n;
        return new DataBlock(rowCount, numFeatures, numOutputs, concat(featureChunks, rowCount, numFeatures, chunkRows),
                concat(targetChunks, rowCount, numOutputs, chunkRows),
                weighted ? concat(weightChunks, rowCount, 1, chunkRows) : null);
    }

    /** The readers' promise, checked: a dense row has the block's width, a sparse row no index beyond it. */
    private static void checkWidth(ParsedRow row, int numFeatures, int partition) {
        if (row.indices == null) {
            if (row.values.length != numFeatures) {
                throw new IllegalStateException("Partition " + partition + ": a dense row of " + row.values.length
                        + " features reached a block of " + numFeatures);
            }
        } else if (row.indices.length > 0 && row.indices[row.indices.length - 1] >= numFeatures) {
            throw new IllegalStateException("Partition " + partition + ": a sparse row with feature index "
                    + row.indices[row.indices.length - 1] + " reached a block of " + numFeatures);
        }
    }

    private static void write(ParsedRow row, double[] out, int offset, int numFeatures, int partition) {
        checkWidth(row, numFeatures, partition);
        if (row.indices == null) {
            System.arraycopy(row.values, 0, out, offset, numFeatures);
        } else {
            int[] indices = row.indices;
            for (int k = 0; k < indices.length; k++) {
                out[offset + indices[k]] = row.values[k];
            }
        }
    }

    private static double[] concat(List<double[]> chunks, int rows, int width, int chunkRows) {
        double[] all = new double[rows * width];
        int done = 0;
        for (int c = 0; c < chunks.size(); c++) {
            int take = Math.min(chunkRows, rows - done);
            System.arraycopy(chunks.get(c), 0, all, done * width, take * width);
            chunks.set(c, null);
            done += take;
        }
        return all;
    }
}
