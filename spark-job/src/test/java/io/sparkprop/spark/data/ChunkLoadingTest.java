package io.sparkprop.spark.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.SplitMix64;
import io.sparkprop.spark.SparkTestSupport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train.shuffle = window}'s loading ({@link Chunker}): the chunks hold exactly the rows a
 * one-block-per-partition load holds (with weights, sparse rows and skipped bad rows), each
 * partition's rows dealt to chunks of {@code R_p = ⌊chunkBytes / rowBytes⌋} rows (the last
 * shorter), in partition order within a chunk, the same bits on every load.
 */
class ChunkLoadingTest {

    @TempDir
    static Path tmp;

    /** A CSV of {@code rows} rows: label {@code i mod 3}, features {@code (i, i/7)}, weight {@code 1 + i mod 5}. */
    private static Path weightedCsv(int rows) {
        StringBuilder csv = new StringBuilder("label,x0,x1,w\n");
        for (int i = 0; i < rows; i++) {
            csv.append(i % 3).append(',').append(i).append(',').append(String.format(Locale.ROOT, "%.17g", i / 7.0))
                    .append(',').append(1 + i % 5).append('\n');
        }
        return DataTestSupport.write(tmp.resolve("weighted-" + rows + ".csv"), csv.toString());
    }

    @Test
    void chunksHoldExactlyTheRowsOfThePartitionBlocksCutByRowBytes() {
        Path csv = weightedCsv(1000);
        DataTestSupport.Opts opts = new DataTestSupport.Opts(DataFormat.CSV, csv.toString(), 3).label("label")
                .weight("w");
        LoadedData blocks = opts.load(3);
        // A row is 8·(2 features + 3 outputs + 1 weight) = 48 bytes; 1000 bytes give R = 20 rows a chunk.
        LoadedData chunks = DataLoader.load(SparkTestSupport.spark(), opts.build(), 3, 1000);
        try {
            List<DataBlock> partitions = blocks.blocks().collect();
            List<DataBlock> cut = chunks.blocks().collect();
            ChunkLayout layout = chunks.chunks();
            assertArrayEquals(new int[] {20, 20, 20}, layout.rowsPerChunk());
            int[] starts = layout.partitionStarts();
            assertEquals(cut.size(), layout.chunks());
            for (int p = 0; p < 3; p++) {
                int n = partitions.get(p).rows();
                assertEquals((n + 19) / 20, starts[p + 1] - starts[p], "chunks of partition " + p);
                List<DataBlock> own = cut.subList(starts[p], starts[p + 1]);
                for (int c = 0; c < own.size(); c++) {
                    assertEquals(c < own.size() - 1 ? 20 : n - 20 * (own.size() - 1), own.get(c).rows(),
                            "rows of chunk " + c + " of partition " + p);
                    assertTrue(own.get(c).weighted());
                    assertEquals(p, layout.partitionOf(starts[p] + c));
                }
                // Partition p's chunks hold its rows, each chunk in partition order (feature 0 is the row's line).
                assertEquals(new DataTestSupport.Rows(List.of(partitions.get(p))).multiset(),
                        new DataTestSupport.Rows(own).multiset(), "partition " + p + "'s rows");
                for (DataBlock chunk : own) {
                    for (int r = 1; r < chunk.rows(); r++) {
                        assertTrue(chunk.features()[2 * r] > chunk.features()[2 * (r - 1)], "partition order");
                    }
                }
            }
            // Each chunk is a spread-out subset of its partition, not a run of consecutive rows.
            DataBlock first = cut.get(0);
            assertTrue(first.features()[2 * (first.rows() - 1)] - first.features()[0] > 300,
                    "chunk 0 spans lines " + first.features()[0] + " to " + first.features()[2 * (first.rows() - 1)]);
            // The same bits on a second load.
            LoadedData again = DataLoader.load(SparkTestSupport.spark(), opts.build(), 3, 1000);
            List<DataBlock> cutAgain = again.blocks().collect();
            for (int g = 0; g < cut.size(); g++) {
                assertArrayEquals(cut.get(g).features(), cutAgain.get(g).features(), 0.0, "chunk " + g);
                assertArrayEquals(cut.get(g).weights(), cutAgain.get(g).weights(), 0.0, "chunk " + g);
            }
            again.blocks().unpersist(false);
        } finally {
            blocks.blocks().unpersist(false);
            chunks.blocks().unpersist(false);
        }
    }

    /** A hold-out of chunks splits their rows: together the two sets hold each row once. */
    @Test
    void aHoldOutOfChunksSplitsEveryRowOnce() {
        DataTestSupport.Opts opts = new DataTestSupport.Opts(DataFormat.CSV, weightedCsv(700).toString(), 3)
                .label("label").weight("w");
        LoadedData chunks = DataLoader.load(SparkTestSupport.spark(), opts.build(), 2, 500);
        List<org.apache.spark.api.java.JavaRDD<DataBlock>> split =
                io.sparkprop.spark.train.BlockOps.holdOut(chunks.blocks(), 0.3, 9);
        try {
            assertEquals(chunks.chunks().chunks(), split.get(0).getNumPartitions(), "the layout is kept");
            DataTestSupport.Rows train = new DataTestSupport.Rows(split.get(0).collect());
            DataTestSupport.Rows held = new DataTestSupport.Rows(split.get(1).collect());
            assertEquals(700, train.count() + held.count());
            assertTrue(held.count() > 150 && held.count() < 270, held.count() + " of 700 held out");
            List<String> together = new ArrayList<>(train.multiset());
            together.addAll(held.multiset());
            together.sort(null);
            assertEquals(opts.load(2).blocks().collect().stream().map(b -> new DataTestSupport.Rows(List.of(b)))
                    .flatMap(r -> r.multiset().stream()).sorted().toList(), together);
        } finally {
            split.forEach(rdd -> rdd.unpersist(false));
        }
    }

    @Test
    void sparseRowsAndSkippedBadRowsAreChunkedLikeBlocks() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            text.append(i % 2).append(" 1:").append(i + 1).append(i % 3 == 0 ? "" : " 40:" + (i % 7 + 1));
            text.append(i == 17 ? " 9:nan" : "").append('\n');
        }
        Path file = DataTestSupport.write(tmp.resolve("sparse.libsvm"), text.toString());
        DataTestSupport.Opts opts = new DataTestSupport.Opts(DataFormat.LIBSVM, file.toString(), 2).features(50)
                .sparse(true).skip();
        LoadedData blocks = opts.load(2);
        LoadedData chunks = DataLoader.load(SparkTestSupport.spark(), opts.build(), 2, 500);
        try {
            assertEquals(299, chunks.rows());
            assertEquals(1, chunks.skippedRows());
            List<DataBlock> cut = chunks.blocks().collect();
            assertTrue(cut.size() > 4, cut.size() + " chunks");
            assertTrue(cut.stream().allMatch(DataBlock::isSparse));
            assertEquals(sparseMultiset(blocks.blocks().collect()), sparseMultiset(cut));
        } finally {
            blocks.blocks().unpersist(false);
            chunks.blocks().unpersist(false);
        }
    }

    private static List<String> sparseMultiset(List<DataBlock> blocks) {
        List<String> rows = new ArrayList<>();
        for (DataBlock b : blocks) {
            for (int r = 0; r < b.rows(); r++) {
                int from = b.rowStart()[r];
                int to = b.rowStart()[r + 1];
                rows.add(Arrays.toString(Arrays.copyOfRange(b.columns(), from, to))
                        + Arrays.toString(Arrays.copyOfRange(b.values(), from, to))
                        + Arrays.toString(Arrays.copyOfRange(b.targets(), r * 2, r * 2 + 2)));
            }
        }
        rows.sort(null);
        return rows;
    }

    /**
     * The dealing permutation, checked against an independent Fisher-Yates written here: chunk
     * {@code c} of partition {@code p} holds the rows at places {@code [c·R, (c+1)·R)} of the
     * shuffle of {@code 0 .. n-1} on {@code SplitMix64(derive(0, 7, p))}.
     */
    @Test
    void rowsAreDealtByTheSeedIndependentPermutationOfTheirPartition() {
        int n = 1000;
        for (int p : new int[] {0, 5}) {
            long state = SplitMix64.derive(0L, 7L, p);
            SplitMix64 random = new SplitMix64(state);
            int[] order = new int[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            for (int i = n - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            int[] chunkOf = Chunker.chunkOf(p, n, 64);
            int[] sizes = new int[16];
            for (int i = 0; i < n; i++) {
                assertEquals(i / 64, chunkOf[order[i]], "row " + order[i]);
                sizes[chunkOf[order[i]]]++;
            }
            int[] expected = new int[16];
            Arrays.fill(expected, 64);
            expected[15] = n - 15 * 64;
            assertArrayEquals(expected, sizes);
        }
        assertNotEquals(Arrays.toString(Chunker.chunkOf(0, 100, 10)), Arrays.toString(Chunker.chunkOf(1, 100, 10)));
    }
}
