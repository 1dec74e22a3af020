package io.sparkprop.core.io;

import io.sparkprop.core.NetworkSpec;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelTest {

    private static final NetworkSpec SPEC = ModelFiles.small().spec();

    private static IllegalArgumentException rejects(Runnable construct) {
        return assertThrows(IllegalArgumentException.class, construct::run);
    }

    @Test
    void rejectsAWrongParameterCountNamingBoth() {
        IllegalArgumentException e = rejects(() -> new Model(SPEC, new double[25]));
        assertEquals("Model of 3-4(TANH)-2(SOFTMAX) SOFTMAX_CROSS_ENTROPY needs 26 parameters but got 25", e.getMessage());
        rejects(() -> new Model(SPEC, new double[27]));
    }

    @Test
    void rejectsNulls() {
        rejects(() -> new Model(null, new double[26]));
        rejects(() -> new Model(SPEC, null));
        rejects(() -> new Model(SPEC, new double[26], null, Map.of()));
        rejects(() -> new Model(SPEC, new double[26], Map.of(), null));
        Map<String, double[]> nullArray = new HashMap<>();
        nullArray.put("a", null);
        rejects(() -> new Model(SPEC, new double[26], nullArray, Map.of()));
        Map<String, String> nullValue = new HashMap<>();
        nullValue.put("k", null);
        rejects(() -> new Model(SPEC, new double[26], Map.of(), nullValue));
        Map<String, String> nullKey = new HashMap<>();
        nullKey.put(null, "v");
        rejects(() -> new Model(SPEC, new double[26], Map.of(), nullKey));
    }

    @Test
    void rejectsBadNames() {
        rejects(() -> new Model(SPEC, new double[26], Map.of("", new double[0]), Map.of()));
        rejects(() -> new Model(SPEC, new double[26], Map.of(), Map.of("", "v")));
        // 32768 two-byte characters are 65536 UTF-8 bytes, one too many.
        IllegalArgumentException e = rejects(() -> new Model(SPEC, new double[26], Map.of(), Map.of("μ".repeat(32768), "v")));
        assertTrue(e.getMessage().contains("at most 65535 UTF-8 bytes but got 65536"), e.getMessage());
        rejects(() -> new Model(SPEC, new double[26], Map.of("x\uD800", new double[0]), Map.of()));
        rejects(() -> new Model(SPEC, new double[26], Map.of(), Map.of("k", "\uDC00x")));
        new Model(SPEC, new double[26], Map.of("μ".repeat(32767) + "a", new double[0]), Map.of("😀", "😀"));
    }

    @Test
    void copiesOnTheWayInAndOut() {
        double[] params = new double[26];
        double[] mean = {1, 2};
        Map<String, double[]> arrays = new LinkedHashMap<>();
        arrays.put("mean", mean);
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("k", "v");
        Model model = new Model(SPEC, params, arrays, metadata);
        params[0] = 9;
        mean[0] = 9;
        arrays.put("other", new double[0]);
        metadata.put("k2", "v2");
        assertEquals(0.0, model.params()[0]);
        assertArrayEquals(new double[] {1, 2}, model.array("mean"));
        assertEquals(List.of("mean"), List.copyOf(model.arrays().keySet()));
        assertEquals(Map.of("k", "v"), model.metadata());

        model.params()[1] = 9;
        model.array("mean")[1] = 9;
        model.arrays().get("mean")[1] = 9;
        assertEquals(0.0, model.params()[1]);
        assertArrayEquals(new double[] {1, 2}, model.array("mean"));
        assertThrows(UnsupportedOperationException.class, () -> model.metadata().put("x", "y"));
        assertThrows(UnsupportedOperationException.class, () -> model.arrays().put("x", new double[0]));
        assertNull(model.array("missing"));
        assertTrue(model.hasArray("mean"));
    }

    @Test
    void keepsInsertionOrder() {
        Map<String, String> metadata = ModelFiles.orderedMetadata("z", "1", "a", "2", "m", "3");
        Map<String, double[]> arrays = new LinkedHashMap<>();
        arrays.put("second", new double[0]);
        arrays.put("first", new double[0]);
        Model model = new Model(SPEC, new double[26], arrays, metadata);
        assertEquals(List.of("z", "a", "m"), List.copyOf(model.metadata().keySet()));
        assertEquals(List.of("second", "first"), List.copyOf(model.arrays().keySet()));
    }

    @Test
    void equalityIsByContentAndOrder() {
        Model a = ModelFiles.small();
        assertEquals(a, ModelFiles.small());
        assertEquals(a.hashCode(), ModelFiles.small().hashCode());
        double[] changed = a.params();
        changed[3] = -0.0 == changed[3] ? 0.0 : -changed[3];
        assertNotEquals(a, new Model(a.spec(), changed, a.arrays(), a.metadata()));
        assertNotEquals(new Model(SPEC, new double[26], Map.of(), ModelFiles.orderedMetadata("a", "1", "b", "2")),
                new Model(SPEC, new double[26], Map.of(), ModelFiles.orderedMetadata("b", "2", "a", "1")));
        assertEquals(new Model(SPEC, new double[26], Map.of("n", new double[] {Double.NaN}), Map.of()),
                new Model(SPEC, new double[26], Map.of("n", new double[] {Double.NaN}), Map.of()));
    }
}
