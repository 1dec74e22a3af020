package io.sparkprop.spark.data;

import io.sparkprop.core.DataBlock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * A dataset read for scoring ({@link DataLoader#forScoring}): its rows in input order, partition
 * by partition, each with where it came from and its passthrough values, handed out in batches.
 * Nothing is persisted: each {@link #batches} job reads the shuffle output (text, Parquet) or the
 * files (IDX) again.
 *
 * <p>Partition {@code p} holds a contiguous run of the input and partitions follow each other in
 * input order (file by file in URI order, row by row): {@link InputOrderPartitioner} for text and
 * Parquet, IDX's record ranges. So the same files and partition count give the same batches.
 * Bad rows, under {@link BadRowPolicy#SKIP}, are left out of the batches and counted by
 * {@link #tally()}; under FAIL the first one fails the job with its file and row.
 */
public final class ScoringInput {

    /** What one partition read: rows kept and the bad rows skipped, with the first reasons. */
    public record Tally(long rows, long skipped, List<String> examples) {
    }

    private final JavaPairRDD<Long, ParsedRow> sorted;
    private final JavaRDD<DataBlock> idxBlocks;
    private final long idxCount;
    private final List<String> files;
    private final StructType passthrough;
    private final int numFeatures;
    private final int numOutputs;
    private final boolean sparse;

    private ScoringInput(JavaPairRDD<Long, ParsedRow> sorted, JavaRDD<DataBlock> idxBlocks, long idxCount, List<String> files,
                         StructType passthrough, int numFeatures, int numOutputs, boolean sparse) {
        this.sorted = sorted;
        this.idxBlocks = idxBlocks;
        this.idxCount = idxCount;
        this.files = List.copyOf(files);
        this.passthrough = passthrough;
        this.numFeatures = numFeatures;
        this.numOutputs = numOutputs;
        this.sparse = sparse;
    }

    static ScoringInput ofRows(JavaPairRDD<Long, ParsedRow> sorted, List<String> files, StructType passthrough, int numFeatures,
                               int numOutputs, boolean sparse) {
        return new ScoringInput(sorted, null, 0, files, passthrough, numFeatures, numOutputs, sparse);
    }

    static ScoringInput ofIdx(JavaRDD<DataBlock> blocks, long count, String file, int numFeatures, int numOutputs) {
        return new ScoringInput(null, blocks, count, List.of(file), new StructType(), numFeatures, numOutputs, false);
    }

    /** The files read, in URI order. */
    public List<String> files() {
        return files;
    }

    /** The passthrough columns, in the order asked for, with the types their values have (CSV: strings). */
    public StructType passthrough() {
        return passthrough;
    }

    /** The feature width of every batch. */
    public int numFeatures() {
        return numFeatures;
    }

    /**
     * The rows in batches of at most {@code batchSize} (IDX: one batch per partition), in input
     * order within each partition. Lazy: each action on the result reads the input again.
     */
    public JavaRDD<ScoringBatch> batches(int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("Batch size must be positive but got " + batchSize);
        }
        if (idxBlocks != null) {
            String file = files.get(0);
            long count = idxCount;
            int partitions = idxBlocks.getNumPartitions();
            return idxBlocks.mapPartitionsWithIndex((p, blocks) -> {
                List<ScoringBatch> out = new ArrayList<>();
                long start = IdxReader.start(count, p, partitions);
                while (blocks.hasNext()) {
                    DataBlock block = blocks.next();
                    String[] names = new String[block.rows()];
                    long[] rows = new long[block.rows()];
                    for (int r = 0; r < rows.length; r++) {
                        names[r] = file;
                        rows[r] = start + r;
                    }
                    out.add(new ScoringBatch(block, names, rows, new Object[block.rows()][0]));
                }
                return out.iterator();
            }, true);
        }
        String[] uris = files.toArray(new String[0]);
        int width = numFeatures;
        int outputs = numOutputs;
        boolean asSparse = sparse;
        return sorted.mapPartitionsWithIndex((p, rows) -> new Batches(rows, batchSize, uris, width, outputs, asSparse,
                p), true);
    }

    /**
     * Rows kept and skipped, with the first skipped rows' reasons, from a second pass over the
     * same partitioned rows (never an accumulator, so a retried task cannot count twice).
     */
    public Tally tally() {
        if (idxBlocks != null) {
            return new Tally(idxCount, 0, List.of());
        }
        long kept = sorted.values().filter(r -> !r.isBad()).count();
        PartitionStats bad = PartitionStats.merge(BlockBuilder.badRowStats(sorted.values()).collect());
        return new Tally(kept, bad.skipped, List.of(bad.examples));
    }

    /** One partition's good rows, {@code batchSize} at a time. */
    private static final class Batches implements Iterator<ScoringBatch> {

        private final Iterator<Tuple2<Long, ParsedRow>> rows;
        private final int batchSize;
        private final String[] uris;
        private final int numFeatures;
        private final int numOutputs;
        private final boolean sparse;
        private final int partition;
        private ScoringBatch next;

        Batches(Iterator<Tuple2<Long, ParsedRow>> rows, int batchSize, String[] uris, int numFeatures, int numOutputs,
                boolean sparse, int partition) {
            this.rows = rows;
            this.batchSize = batchSize;
            this.uris = uris;
            this.numFeatures = numFeatures;
            this.numOutputs = numOutputs;
            this.sparse = sparse;
            this.partition = partition;
        }

        @Override
        public boolean hasNext() {
            if (next != null) {
                return true;
            }
            List<ParsedRow> batch = new ArrayList<>(batchSize);
            List<Long> keys = new ArrayList<>(batchSize);
            while (batch.size() < batchSize && rows.hasNext()) {
                Tuple2<Long, ParsedRow> keyed = rows.next();
                if (!keyed._2().isBad()) {
                    keys.add(keyed._1());
                    batch.add(keyed._2());
                }
            }
            if (batch.isEmpty()) {
                return false;
            }
            int n = batch.size();
            String[] file = new String[n];
            long[] row = new long[n];
            Object[][] passthrough = new Object[n][];
            for (int r = 0; r < n; r++) {
                ParsedRow parsed = batch.get(r);
                file[r] = uris[(int) (keys.get(r) >>> TextSource.OFFSET_BITS)];
                row[r] = parsed.row;
                passthrough[r] = parsed.passthrough == null ? new Object[0] : parsed.passthrough;
            }
            DataBlock block = sparse
                    ? BlockBuilder.buildSparse(batch.iterator(), numFeatures, numOutputs, false, partition)
                    : BlockBuilder.build(batch.iterator(), numFeatures, numOutputs, false, partition);
            next = new ScoringBatch(block, file, row, passthrough);
            return true;
        }

        @Override
        public ScoringBatch next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            ScoringBatch batch = next;
            next = null;
            return batch;
        }
    }
}
