package io.sparkprop.bench.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The counting formulas against rounds counted by hand from treeAggregate's rule (scale =
 * max(ceil(P^(1/d)), 2); a level while P > scale + ceil(P/scale), P becoming floor(P/scale)).
 */
class RoundStructureTest {

    /** k = 1, N = 1000: M = 8000 bytes. */
    private static final long M = 8000;

    private static RoundConfig tree(int partitions, int executors, int depth) {
        return new RoundConfig(ExchangeKind.TREE, false, partitions, executors, 1, 1000, 1, 2, 64, depth, executors);
    }

    @ParameterizedTest(name = "P = {0} on {1} executors, depth {2}")
    @CsvSource({
        // P, E, depth, scale, stages, tasks, driver partials, shuffled partials, partials into the busiest executor
        "1, 1, 2, 2, 1, 1, 1, 0, 0",      // 1 <= 2 + 1: no level
        "2, 2, 2, 2, 1, 2, 2, 0, 0",      // 2 <= 2 + 1
        "4, 4, 2, 2, 1, 4, 4, 0, 0",      // 4 <= 2 + 2
        "5, 5, 2, 3, 1, 5, 5, 0, 0",      // ceil(2.24) = 3; 5 <= 3 + 2
        "6, 6, 2, 3, 2, 8, 2, 6, 3",      // 6 > 3 + 2: 6 / 3 = 2 groups of 3; 2 <= 3 + 1
        "8, 8, 2, 3, 2, 10, 2, 8, 4",     // 8 > 3 + 3: 2 groups of 4
        "16, 8, 2, 4, 2, 20, 4, 16, 4",   // 16 > 4 + 4: 4 groups of 4; 4 <= 4 + 1
        "16, 2, 2, 4, 2, 20, 4, 16, 8",   // as above, 2 of the 4 groups on each of 2 executors
        "32, 8, 2, 6, 2, 37, 5, 32, 7",   // ceil(5.66) = 6; 32 > 6 + 6: 5 groups of 7, 7, 6, 6, 6
        "64, 64, 2, 8, 2, 72, 8, 64, 8",  // 64 > 8 + 8: 8 groups of 8
        "256, 256, 2, 16, 2, 272, 16, 256, 16",
        "8, 8, 1, 8, 1, 8, 8, 0, 0",      // depth 1: scale 8; 8 <= 8 + 1
        "64, 64, 3, 4, 3, 84, 4, 80, 8",  // depth 3: scale 4; 64 -> 16 (groups of 4) -> 4 (groups of 4)
    })
    void treeCountsMatchHandCountedRounds(int p, int e, int depth, int scale, int stages, long tasks, long driverPartials,
                                          long shuffledPartials, long networkPartials) {
        assertEquals(scale, RoundStructure.treeScale(p, depth));
        RoundStructure s = RoundStructure.of(tree(p, e, depth));
        assertEquals(stages, s.stages(), "stages");
        assertEquals(tasks, s.tasks(), "tasks");
        assertEquals(driverPartials * M, s.driverInBytes(), "driver in");
        assertEquals(M, s.driverOutBytes(), "driver out: the broadcast, once");
        assertEquals(shuffledPartials * M, s.shuffleBytes(), "shuffle");
        assertEquals((1 + networkPartials) * M, s.executorNetworkBytes(), "busiest executor: broadcast + its groups");
    }

    @Test
    void reduceScatterHasTwoStagesAndTheDriverReceivesOneModel() {
        // P = 4 on 2 one-core executors: R = min(4, 2) = 2 slices; 4 map + 2 reduce tasks; each
        // reducer reads half of 4 partials (2M), one reducer an executor: 2M, plus the broadcast.
        RoundStructure s = RoundStructure.of(new RoundConfig(ExchangeKind.REDUCE_SCATTER, false, 4, 2, 1, 1000, 1, 2,
                64, 2, 2));
        assertEquals(new RoundStructure(2, 6, M, M, 4 * M, 3 * M), s);
        // P = 4 on 4 executors of 2 cores: R = 4; one reducer an executor, each reads M.
        assertEquals(new RoundStructure(2, 8, M, M, 4 * M, 2 * M), RoundStructure.of(new RoundConfig(
                ExchangeKind.REDUCE_SCATTER, false, 4, 4, 2, 1000, 1, 2, 64, 2, 8)));
    }

    @Test
    void localSgdExchangesTheWeightsAndTheOptimizerState() {
        // Adam (2 slots) at k = 64: weights + 2 moments, 3 * 8 * 1000 bytes.
        RoundConfig c = new RoundConfig(ExchangeKind.TREE, false, 2, 2, 1, 1000, 64, 2, 64, 2, 2);
        assertEquals(3, c.exchangedArrays());
        assertEquals(24_000, c.messageBytes());
        assertEquals(48_000, RoundStructure.of(c).driverInBytes());
        assertEquals(8000, c.parameterBytes());
    }

    @Test
    void partitionsBeyondTheSlotsRunInWaves() {
        assertEquals(1, tree(8, 8, 2).waves());
        assertEquals(4, tree(32, 8, 2).waves());
        assertEquals(3, new RoundConfig(ExchangeKind.TREE, false, 9, 2, 2, 1000, 1, 2, 64, 2, 4).waves());
    }

    @Test
    void executorsSharingFewerCoresTimeShareTheirTasksAndTheirBytes() {
        // 8 one-core executors on a 2-core host, P = 32: 8 tasks at once on 2 cores, each 4x slower.
        RoundConfig rs = new RoundConfig(ExchangeKind.REDUCE_SCATTER, false, 32, 8, 1, 1000, 1, 2, 64, 2, 2);
        assertEquals(4.0, rs.timeSharing());
        assertEquals(2.0, new RoundConfig(ExchangeKind.TREE, false, 4, 8, 1, 1000, 1, 2, 64, 2, 2).timeSharing(),
                "4 tasks at once on 2 cores");
        assertEquals(1.0, tree(8, 8, 2).timeSharing(), "a core per slot");
        // Broadcast: busiest M, all 8 M over 2 cores = 4 M. Reduce-scatter: R = 8 slices, a reducer
        // reads 32 pieces of M / 8 = 4 M, all 32 M over 2 cores = 16 M. On the path: 4 M + 16 M.
        assertEquals(20 * M, RoundStructure.of(rs).executorNetworkBytes());
        // Tree: 32 -> 5 groups of at most 7; busiest 7 M, all 32 M over 2 cores = 16 M: 4 M + 16 M.
        assertEquals(20 * M, RoundStructure.of(new RoundConfig(ExchangeKind.TREE, false, 32, 8, 1, 1000, 1, 2, 64, 2,
                2)).executorNetworkBytes());
        // One executor on a 2-core host: its own bytes bound it (2 partials of M read by 1 reducer).
        assertEquals(3 * M, RoundStructure.of(new RoundConfig(ExchangeKind.REDUCE_SCATTER, false, 2, 1, 1, 1000, 1, 2,
                64, 2, 2)).executorNetworkBytes());
        assertEquals(rs.slots(), rs.withCorePerSlot().hostCores());
        assertEquals(1.0, rs.withCorePerSlot().timeSharing());
    }
}
