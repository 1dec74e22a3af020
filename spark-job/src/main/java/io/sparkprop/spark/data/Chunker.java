package io.sparkprop.spark.data;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.SplitMix64;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import scala.Tuple2;

/**
 * Cuts the training partitions' rows into chunks of about {@code data.chunk-bytes}, one block per
 * chunk RDD partition ({@code docs/out-of-core.md}, "The chunk layout"):
 * <ol>
 *   <li>a counting job over the partitioned rows gives each partition's good rows {@code n_p} and
 *       nonzeros {@code nnz_p};</li>
 *   <li>the driver sets {@code R_p = max(1, ⌊chunkBytes / rowBytes_p⌋)} rows a chunk, dense rows
 *       being {@code 8·(F + O + 1)} bytes and sparse rows their mean
 *       {@code ⌈(12·nnz_p + n_p·(8·O + 12)) / n_p⌉}, and {@code C_p = ⌈n_p / R_p⌉} chunks;</li>
 *   <li>each partition's good rows are dealt to its chunks by a fixed pseudo-random permutation
 *       {@code π_p} of {@code 0 .. n_p-1} (the Fisher-Yates loop of {@code EpochPlan.permutation}
 *       on {@code SplitMix64(derive(0, STREAM_CHUNKS, p))}): chunk {@code c} holds the rows
 *       {@code π_p[c·R_p .. min((c+1)·R_p, n_p))}, in partition order. Each chunk is thus a fixed
 *       random subset of its partition, whatever the input's order (a file sorted by label does
 *       not put one label in a chunk), and the layout does not depend on the seed;</li>
 *   <li>a second shuffle, keyed by {@code (chunk, row)}, brings each chunk's rows to its own
 *       partition, where {@link BlockBuilder} builds its block as it builds a partition's.</li>
 * </ol>
 * The map side streams: a task holds {@code π_p} ({@code 8·n_p} bytes), never a partition's rows;
 * a reduce task holds one chunk. Everything is a function of the rows' partition and order, which
 * the readers make deterministic, so the chunks are the same bits in every run and after any
 * recomputation.
 */
final class Chunker {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Chunker.class);

    /** The chunk RDD and its layout, not yet persisted or computed. */
    record Chunks(JavaRDD<DataBlock> blocks, ChunkLayout layout, long rows) {
    }

    private Chunker() {
    }

    /**
     * The chunks of {@code sorted}'s good rows (bad rows are left out, as blocks leave them out),
     * built as {@link BlockBuilder} builds blocks. Runs the counting job.
     */
    static Chunks chunk(JavaRDD<ParsedRow> sorted, int numFeatures, int numOutputs, boolean weighted, boolean sparse,
                        long chunkBytes) {
        List<long[]> counts = sorted.mapPartitions(rows -> {
            long kept = 0;
            long nonzeros = 0;
            while (rows.hasNext()) {
                ParsedRow row = rows.next();
                if (row.isBad()) {
                    continue;
                }
                kept++;
                for (int k = 0; sparse && k < row.values.length; k++) { // only sparse rows' width needs them
                    if (row.values[k] != 0.0) {
                        nonzeros++;
                    }
                }
            }
            return Collections.singletonList(new long[] {kept, nonzeros}).iterator();
        }).collect();
        int partitions = counts.size();
        int[] starts = new int[partitions + 1];
        int[] perChunk = new int[partitions];
        long[] partitionRows = new long[partitions];
        long total = 0;
        for (int p = 0; p < partitions; p++) {
            long n = counts.get(p)[0];
            long rowBytes = sparse ? n == 0 ? 1 : Math.max(1, (12 * counts.get(p)[1] + n * (8L * numOutputs + 12) + n - 1) / n)
                    : 8L * (numFeatures + numOutputs + 1);
            // R_p, but never more than the partition's rows: then it is also the largest chunk's size.
            perChunk[p] = (int) Math.max(1, Math.min(Math.max(n, 1), Math.min(Integer.MAX_VALUE - 8,
                    chunkBytes / rowBytes)));
            long chunks = (n + perChunk[p] - 1) / perChunk[p];
            if (starts[p] + chunks > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("The training data would be cut into more than " + Integer.MAX_VALUE
                        + " chunks of " + chunkBytes + " bytes; raise data.chunk-bytes");
            }
            starts[p + 1] = (int) (starts[p] + chunks);
            partitionRows[p] = n;
            total += n;
        }
        ChunkLayout layout = new ChunkLayout(starts, perChunk);
        if (layout.chunks() > 4L * partitions && chunkBytes < (1L << 20)) {
            LOG.warn("data.chunk-bytes = {} cuts {} rows into {} chunks: every pass over the data (loading, the"
                            + " hold-out, measuring, each evaluation) runs a task per chunk; chunks of a few MiB"
                            + " (the default is 8388608) cost far less", chunkBytes, total, layout.chunks());
        }
        JavaPairRDD<Long, ParsedRow> keyed = sorted.mapPartitionsWithIndex((p, rows) -> deal(p, rows,
                (int) partitionRows[p], perChunk[p], starts[p]), true).mapToPair(t -> t);
        JavaRDD<DataBlock> blocks = keyed.repartitionAndSortWithinPartitions(new ChunkPartitioner(layout.chunks()))
                .values()
                .mapPartitionsWithIndex((chunk, rows) -> Collections.singletonList(sparse
                        ? BlockBuilder.buildSparse(rows, numFeatures, numOutputs, weighted, chunk)
                        : BlockBuilder.build(rows, numFeatures, numOutputs, weighted, chunk)).iterator(), true);
        return new Chunks(blocks, layout, total);
    }

    /**
     * Partition {@code p}'s good rows keyed {@code (global chunk) << 32 | row}, the row being the
     * good row's index in the partition: the chunk from {@code π_p} (class comment).
     */
    private static Iterator<Tuple2<Long, ParsedRow>> deal(int p, Iterator<ParsedRow> rows, int n, int perChunk,
                                                         int firstChunk) {
        int[] chunkOf = chunkOf(p, n, perChunk);
        return new Iterator<>() {
            private int index;
            private ParsedRow next = advance();

            private ParsedRow advance() {
                while (rows.hasNext()) {
                    ParsedRow row = rows.next();
                    if (!row.isBad()) {
                        return row;
                    }
                }
                return null;
            }

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public Tuple2<Long, ParsedRow> next() {
                if (index >= n) {
                    throw new IllegalStateException("Partition " + p + " holds more than the " + n
                            + " good rows its count found");
                }
                ParsedRow row = next;
                long key = ((long) (firstChunk + chunkOf[index]) << 32) | index;
                index++;
                next = advance();
                return new Tuple2<>(key, row);
            }
        };
    }

    /** {@code (n)}: the chunk (0-based within the partition) of each of partition {@code p}'s rows. */
    static int[] chunkOf(int p, int n, int perChunk) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplitMix64 random = new SplitMix64(SplitMix64.derive(0L, SplitMix64.STREAM_CHUNKS, p));
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int[] chunkOf = new int[n];
        for (int i = 0; i < n; i++) {
            chunkOf[order[i]] = i / perChunk;
        }
        return chunkOf;
    }

    /** Sends key {@code chunk << 32 | row} to partition {@code chunk}. */
    static final class ChunkPartitioner extends Partitioner {

        private static final long serialVersionUID = 1L;
        private final int chunks;

        ChunkPartitioner(int chunks) {
            this.chunks = Math.max(1, chunks);
        }

        @Override
        public int numPartitions() {
            return chunks;
        }

        @Override
        public int getPartition(Object key) {
            return (int) ((Long) key >>> 32);
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof ChunkPartitioner that && that.chunks == chunks;
        }

        @Override
        public int hashCode() {
            return chunks;
        }
    }

    /**
     * {@code blocks}' rows as parsed rows, in order: how formats that build their blocks directly
     * (IDX) reach {@link #chunk}. Targets travel as they are (one-hot rows stay one-hot).
     */
    static JavaRDD<ParsedRow> rowsOf(JavaRDD<DataBlock> blocks) {
        return blocks.mapPartitions(it -> {
            List<ParsedRow> out = new ArrayList<>();
            while (it.hasNext()) {
                DataBlock block = it.next();
                int d = block.numFeatures();
                int o = block.numTargets();
                double[] w = block.weights();
                for (int r = 0; r < block.rows(); r++) {
                    double[] targets = java.util.Arrays.copyOfRange(block.targets(), r * o, (r + 1) * o);
                    double weight = w == null ? 1.0 : w[r];
                    if (block.isSparse()) {
                        int from = block.rowStart()[r];
                        int to = block.rowStart()[r + 1];
                        out.add(ParsedRow.sparse(java.util.Arrays.copyOfRange(block.columns(), from, to),
                                java.util.Arrays.copyOfRange(block.values(), from, to), -1, targets, weight));
                    } else {
                        out.add(ParsedRow.dense(java.util.Arrays.copyOfRange(block.features(), r * d, (r + 1) * d), -1,
                                targets, weight));
                    }
                }
            }
            return out.iterator();
        }, true);
    }
}
