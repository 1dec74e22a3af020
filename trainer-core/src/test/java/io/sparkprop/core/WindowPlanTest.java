package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The windowed sample order ({@link WindowPlan}, {@link EpochPlan#windowedOrder}) against the
 * rule as {@code docs/out-of-core.md} states it: an independent reference
 * ({@code golden/windows/gen_windows.py}), a straightforward reimplementation here, and the
 * properties the Spark side relies on (every row once, windows keep to their positions,
 * determinism, exactly the chunks a range of positions needs).
 */
class WindowPlanTest {

    /**
     * The documented rule, written out with lists and nothing from {@link WindowPlan}: σ is the
     * Fisher-Yates shuffle of the chunk indices on {@code derive(seed, 5, epoch, partition)};
     * window {@code w} is {@code σ[wW .. (w+1)W)}; its rows, chunk by chunk in σ order, each
     * chunk's rows ascending, are Fisher-Yates shuffled on {@code derive(seed, 6, epoch,
     * partition, w)}; the order is the windows' rows, window by window.
     */
    static int[] documentedOrder(long seed, long epoch, int partition, int[] chunkRows, int w) {
        List<Integer> sigma = new ArrayList<>();
        for (int c = 0; c < chunkRows.length; c++) {
            sigma.add(c);
        }
        fisherYates(sigma, new SplitMix64(SplitMix64.derive(seed, 5, epoch, partition)));
        int[] start = new int[chunkRows.length];
        for (int c = 1; c < chunkRows.length; c++) {
            start[c] = start[c - 1] + chunkRows[c - 1];
        }
        List<Integer> order = new ArrayList<>();
        for (int window = 0; window * w < sigma.size(); window++) {
            List<Integer> rows = new ArrayList<>();
            for (int c : sigma.subList(window * w, Math.min(sigma.size(), (window + 1) * w))) {
                for (int i = 0; i < chunkRows[c]; i++) {
                    rows.add(start[c] + i);
                }
            }
            fisherYates(rows, new SplitMix64(SplitMix64.derive(seed, 6, epoch, partition, window)));
            order.addAll(rows);
        }
        return order.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void fisherYates(List<Integer> values, SplitMix64 random) {
        for (int i = values.size() - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            Integer t = values.get(i);
            values.set(i, values.get(j));
            values.set(j, t);
        }
    }

    /** A random layout: 1 to {@code maxChunks} chunks of about {@code r} rows, the last one shorter. */
    private static int[] layout(SplittableRandom random, int maxChunks) {
        int chunks = 1 + random.nextInt(maxChunks);
        int r = 1 + random.nextInt(40);
        int[] rows = new int[chunks];
        Arrays.fill(rows, r);
        rows[chunks - 1] = 1 + random.nextInt(r);
        if (random.nextInt(4) == 0) {
            // fully ragged, as a sparse partition's or a held-out split's chunks may be
            for (int c = 0; c < chunks; c++) {
                rows[c] = 1 + random.nextInt(2 * r);
            }
        }
        return rows;
    }

    private static int sum(int[] values) {
        return Arrays.stream(values).sum();
    }

    @Test
    void goldenCasesMatchTheIndependentReference() throws IOException {
        int cases = 0;
        try (InputStream in = WindowPlanTest.class.getResourceAsStream("/golden/windows/windows_golden.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.substring("case ".length()).split(" \\| ");
                long[] args = Arrays.stream(parts[0].trim().split(" ")).mapToLong(Long::parseLong).toArray();
                int[] chunkRows = ints(parts[1]);
                int[] sigma = ints(parts[2]);
                int[] order = ints(parts[3]);
                WindowPlan plan = WindowPlan.of(args[0], args[1], (int) args[2], chunkRows, (int) args[3]);
                assertArrayEquals(sigma, plan.chunkOrder(), line);
                assertArrayEquals(order, plan.order(), line);
                assertArrayEquals(order, EpochPlan.windowedOrder(args[0], args[1], (int) args[2], chunkRows,
                        (int) args[3]), line);
                cases++;
            }
        }
        assertEquals(7, cases);
    }

    private static int[] ints(String fields) {
        return Arrays.stream(fields.trim().split(" ")).mapToInt(Integer::parseInt).toArray();
    }

    @Test
    void aTinyLayoutByHand() {
        // Chunks of 3, 3, 3, 3 and 2 rows (rows 0-2, 3-5, 6-8, 9-11, 12-13), W = 2, seed 42, epoch 0,
        // partition 0. gen_windows.py draws σ = (4, 3, 1, 2, 0), so the windows are {4, 3}, {1, 2}
        // and {0}: positions 0-4 hold rows 9-13 (chunks 4 and 3), positions 5-10 rows 3-8 (chunks 1
        // and 2) and positions 11-13 rows 0-2 (chunk 0), each window's rows shuffled among
        // themselves: 11 9 12 10 13 | 4 7 6 8 3 5 | 1 2 0.
        WindowPlan plan = WindowPlan.of(42, 0, 0, new int[] {3, 3, 3, 3, 2}, 2);
        assertArrayEquals(new int[] {4, 3, 1, 2, 0}, plan.chunkOrder());
        assertEquals(3, plan.windowCount());
        assertArrayEquals(new int[] {0, 5, 11},
                new int[] {plan.windowStart(0), plan.windowStart(1), plan.windowStart(2)});
        assertEquals(14, plan.windowEnd(2));
        assertArrayEquals(new int[] {11, 9, 12, 10, 13, 4, 7, 6, 8, 3, 5, 1, 2, 0}, plan.order());
        // Positions 3..6 are rows 10, 13 (chunks 3, 4) and 4, 7 (chunks 1, 2): all of windows 0 and 1
        // but chunk 0's window.
        assertArrayEquals(new int[] {1, 2, 3, 4}, plan.chunksNeeded(3, 7));
        assertArrayEquals(new int[] {4, 3, 1, 2}, plan.windowChunks(3, 7));
        // Positions 5..6 are rows 4 and 7: chunks 1 and 2, both of window 1.
        assertArrayEquals(new int[] {1, 2}, plan.chunksNeeded(5, 7));
        // Position 5 alone is row 4: chunk 1 only, though the window also holds chunk 2.
        assertArrayEquals(new int[] {1}, plan.chunksNeeded(5, 6));
        assertArrayEquals(new int[] {1, 2}, plan.windowChunks(5, 6));
    }

    @Test
    void manyRandomLayoutsFollowTheDocumentedRuleAndUseEveryRowOnce() {
        SplittableRandom random = new SplittableRandom(7);
        for (int trial = 0; trial < 400; trial++) {
            int[] chunkRows = layout(random, 30);
            int w = 1 + random.nextInt(chunkRows.length + 2); // includes W = 1 and W >= C
            long seed = random.nextLong();
            int epoch = random.nextInt(100);
            int partition = random.nextInt(64);
            String what = "trial " + trial + ": chunks " + Arrays.toString(chunkRows) + ", W " + w;
            int[] order = EpochPlan.windowedOrder(seed, epoch, partition, chunkRows, w);
            assertArrayEquals(documentedOrder(seed, epoch, partition, chunkRows, w), order, what);
            int n = sum(chunkRows);
            assertEquals(n, order.length, what);
            boolean[] seen = new boolean[n];
            for (int row : order) {
                assertFalse(seen[row], what + ": row " + row + " twice");
                seen[row] = true;
            }
        }
    }

    @Test
    void eachWindowsRowsAreExactlyItsChunksRowsAtItsPositions() {
        SplittableRandom random = new SplittableRandom(11);
        for (int trial = 0; trial < 200; trial++) {
            int[] chunkRows = layout(random, 25);
            int w = 1 + random.nextInt(6);
            WindowPlan plan = WindowPlan.of(random.nextLong(), random.nextInt(9), random.nextInt(9), chunkRows, w);
            int[] order = plan.order();
            assertEquals((chunkRows.length + w - 1) / w, plan.windowCount());
            assertEquals(0, plan.windowStart(0));
            assertEquals(plan.rows(), plan.windowEnd(plan.windowCount() - 1));
            for (int win = 0; win < plan.windowCount(); win++) {
                TreeSet<Integer> expected = new TreeSet<>();
                for (int c : plan.chunks(win)) {
                    for (int i = 0; i < plan.chunkRows(c); i++) {
                        expected.add(plan.chunkStart(c) + i);
                    }
                }
                TreeSet<Integer> actual = new TreeSet<>();
                for (int pos = plan.windowStart(win); pos < plan.windowEnd(win); pos++) {
                    actual.add(order[pos]);
                    assertEquals(win, plan.windowAt(pos));
                    int chunk = plan.chunkOf(order[pos]);
                    assertTrue(Arrays.stream(plan.chunks(win)).anyMatch(c -> c == chunk), "position " + pos);
                }
                assertEquals(expected, actual, "window " + win);
                assertEquals(plan.windowEnd(win) - plan.windowStart(win), actual.size());
                assertArrayEquals(Arrays.copyOfRange(order, plan.windowStart(win), plan.windowEnd(win)),
                        plan.windowRows(win));
            }
        }
    }

    @Test
    void aBufferIsOverwrittenOnlyUpToTheWindowsRows() {
        WindowPlan plan = WindowPlan.of(3, 1, 2, new int[] {5, 5, 5, 2}, 2);
        int[] buffer = new int[plan.largestWindow() + 3];
        Arrays.fill(buffer, -1);
        int n = plan.windowRows(1, buffer);
        assertEquals(7, n);
        assertArrayEquals(plan.windowRows(1), Arrays.copyOf(buffer, n));
        for (int i = n; i < buffer.length; i++) {
            assertEquals(-1, buffer[i]);
        }
        assertThrows(IllegalArgumentException.class, () -> plan.windowRows(0, new int[9]));
    }

    @Test
    void oneWindowOfEveryChunkIsAFullShuffleButNotThePermutationsBits() {
        int[] chunkRows = {400, 400, 200};
        for (int w : new int[] {3, 4, 100}) {
            WindowPlan plan = WindowPlan.of(42, 0, 0, chunkRows, w);
            assertEquals(1, plan.windowCount());
            int[] order = plan.order();
            int[] sorted = order.clone();
            Arrays.sort(sorted);
            for (int i = 0; i < sorted.length; i++) {
                assertEquals(i, sorted[i]);
            }
            assertFalse(Arrays.equals(EpochPlan.permutation(42, 0, 0, 1000), order));
            // rows of every chunk reach the first positions: not chunk after chunk
            TreeSet<Integer> early = new TreeSet<>();
            for (int pos = 0; pos < 50; pos++) {
                early.add(plan.chunkOf(order[pos]));
            }
            assertEquals(3, early.size());
        }
        // A single chunk: one window, whatever W.
        WindowPlan single = WindowPlan.of(9, 0, 0, new int[] {7}, 3);
        assertEquals(1, single.windowCount());
        assertEquals(7, single.order().length);
    }

    @Test
    void aWindowOfOneChunkKeepsEachChunkTogether() {
        int[] chunkRows = {4, 6, 5, 1, 6};
        WindowPlan plan = WindowPlan.of(5, 2, 1, chunkRows, 1);
        int[] order = plan.order();
        int[] sigma = plan.chunkOrder();
        int pos = 0;
        for (int c : sigma) {
            for (int i = 0; i < chunkRows[c]; i++) {
                assertEquals(c, plan.chunkOf(order[pos++]));
            }
        }
    }

    @Test
    void theSameArgumentsGiveTheSameOrderAndAnyOtherKeyAnother() {
        int[] chunkRows = {50, 50, 50, 50, 50, 50, 50, 13};
        int[] base = EpochPlan.windowedOrder(42, 3, 2, chunkRows, 3);
        assertArrayEquals(base, EpochPlan.windowedOrder(42, 3, 2, chunkRows.clone(), 3));
        assertFalse(Arrays.equals(base, EpochPlan.windowedOrder(43, 3, 2, chunkRows, 3)));
        assertFalse(Arrays.equals(base, EpochPlan.windowedOrder(42, 4, 2, chunkRows, 3)));
        assertFalse(Arrays.equals(base, EpochPlan.windowedOrder(42, 3, 1, chunkRows, 3)));
        assertFalse(Arrays.equals(base, EpochPlan.windowedOrder(42, 3, 2, chunkRows, 2)));
        assertFalse(Arrays.equals(WindowPlan.chunkOrder(42, 3, 2, 8), WindowPlan.chunkOrder(42, 4, 2, 8)));
        // The plan's arrays are its own: a caller's change to the row counts changes nothing.
        int[] mine = chunkRows.clone();
        WindowPlan plan = WindowPlan.of(42, 3, 2, mine, 3);
        mine[0] = 1;
        assertArrayEquals(base, plan.order());
        plan.chunkOrder()[0] = -1;
        assertArrayEquals(base, plan.order());
    }

    @Test
    void theChunksNeededAreExactlyTheChunksOfTheRowsAtThosePositions() {
        SplittableRandom random = new SplittableRandom(13);
        for (int trial = 0; trial < 300; trial++) {
            int[] chunkRows = layout(random, 20);
            int w = 1 + random.nextInt(5);
            WindowPlan plan = WindowPlan.of(random.nextLong(), random.nextInt(5), random.nextInt(5), chunkRows, w);
            int[] order = plan.order();
            int[] chunkOfRow = new int[plan.rows()];
            for (int c = 0, row = 0; c < chunkRows.length; c++) {
                for (int i = 0; i < chunkRows[c]; i++) {
                    chunkOfRow[row++] = c;
                }
            }
            for (int range = 0; range < 10; range++) {
                int from = random.nextInt(plan.rows() + 1);
                int to = from + random.nextInt(plan.rows() - from + 1);
                TreeSet<Integer> needed = new TreeSet<>();
                TreeSet<Integer> windows = new TreeSet<>();
                for (int pos = from; pos < to; pos++) {
                    needed.add(chunkOfRow[order[pos]]);
                    windows.add(plan.windowAt(pos));
                }
                String what = "chunks " + Arrays.toString(chunkRows) + ", W " + w + ", [" + from + ", " + to + ")";
                assertArrayEquals(needed.stream().mapToInt(Integer::intValue).toArray(), plan.chunksNeeded(from, to),
                        what);
                List<Integer> ofWindows = new ArrayList<>();
                for (int win : windows) {
                    for (int c : plan.chunks(win)) {
                        ofWindows.add(c);
                    }
                }
                assertArrayEquals(ofWindows.stream().mapToInt(Integer::intValue).toArray(),
                        plan.windowChunks(from, to), what);
            }
        }
    }

    @Test
    void aPartitionWithoutRowsHasNoWindows() {
        WindowPlan plan = WindowPlan.of(1, 0, 0, new int[0], 4);
        assertEquals(0, plan.rows());
        assertEquals(0, plan.windowCount());
        assertEquals(0, plan.order().length);
        assertEquals(0, plan.chunksNeeded(0, 0).length);
        assertEquals(0, plan.windowChunks(0, 0).length);
    }

    @Test
    void badArgumentsAreRefusedNamingTheValue() {
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> WindowPlan.of(1, 0, 3, new int[] {4, 0, 2}, 2));
        assertTrue(empty.getMessage().contains("Chunk 1 of partition 3"), empty.getMessage());
        IllegalArgumentException window = assertThrows(IllegalArgumentException.class,
                () -> WindowPlan.of(1, 0, 0, new int[] {4}, 0));
        assertTrue(window.getMessage().contains("but got 0"), window.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> WindowPlan.of(1, 0, 0, new int[] {Integer.MAX_VALUE - 10, 5}, 1));
        WindowPlan plan = WindowPlan.of(1, 0, 0, new int[] {4, 4}, 1);
        assertThrows(IllegalArgumentException.class, () -> plan.chunksNeeded(3, 9));
        assertThrows(IllegalArgumentException.class, () -> plan.windowChunks(5, 4));
        assertThrows(IllegalArgumentException.class, () -> plan.windowAt(8));
        assertThrows(IllegalArgumentException.class, () -> plan.chunkOf(-1));
        assertThrows(IllegalArgumentException.class, () -> plan.chunks(2));
    }
}
