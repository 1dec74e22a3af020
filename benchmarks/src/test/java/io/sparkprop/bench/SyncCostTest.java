package io.sparkprop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkprop.spark.SparkTestSupport;
import java.io.IOException;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

/** Both synchronous-step references run, check their sums, and report ordered, positive timings. */
class SyncCostTest {

    private static JavaSparkContext sc() {
        return JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
    }

    @Test
    void bareTreeAggregateTakesPositiveTime() throws IOException {
        SyncCost.Timing timing = SyncCost.bareTreeAggregate(sc(), 3, 1, 5);
        assertOrdered(timing);
        assertEquals(5, timing.reps());
        assertEquals(1, timing.paramCount());
        JsonNode json = new ObjectMapper().readTree(timing.toJson());
        assertEquals("bare-tree-aggregate", json.get("name").asText());
        assertEquals(timing.medianMs(), json.get("median_ms").asDouble());
        assertEquals(3, json.get("partitions").asInt());
    }

    @Test
    void mllibStyleStepsTakePositiveTimeWithAndWithoutTheShuffle() {
        // 3 partitions: the partials go through the shuffle to one task; 1 partition: no shuffle
        for (int partitions : new int[] {3, 1}) {
            SyncCost.Timing timing = SyncCost.mllibStyleTreeAggregate(sc(), partitions, 1000, 1, 3);
            assertOrdered(timing);
            assertEquals(partitions, timing.partitions());
            assertEquals(1000, timing.paramCount());
        }
        SyncCost.Timing mlp = SyncCost.mllibStyleTreeAggregate(sc(), 2, SyncCost.MLP_PARAM_COUNT, 0, 2);
        assertOrdered(mlp);
        assertEquals(235_146, mlp.paramCount());
        assertTrue(mlp.toString().contains("235,146 doubles"), mlp.toString());
    }

    @Test
    void percentilesInterpolateBetweenRanks() {
        double[] sorted = {1, 2, 3, 4, 5};
        assertEquals(3, SyncCost.percentile(sorted, 0.5), 1e-12);
        assertEquals(1.4, SyncCost.percentile(sorted, 0.1), 1e-12);
        assertEquals(4.6, SyncCost.percentile(sorted, 0.9), 1e-12);
        assertEquals(7, SyncCost.percentile(new double[] {7}, 0.9), 1e-12);
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> SyncCost.bareTreeAggregate(sc(), 0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> SyncCost.bareTreeAggregate(sc(), 2, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> SyncCost.mllibStyleTreeAggregate(sc(), 2, 0, 1, 1));
    }

    private static void assertOrdered(SyncCost.Timing timing) {
        assertTrue(timing.medianMs() > 0, timing.toString());
        assertTrue(timing.p10Ms() > 0 && timing.p10Ms() <= timing.medianMs() && timing.medianMs() <= timing.p90Ms(),
                timing.toString());
    }
}
