package io.sparkprop.spark.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The live progress line: its text, its throttle, and clearing it. */
class ProgressLineTest {

    @Test
    void theLineSaysStepsThroughputAndEta() {
        // 120 of 480 steps of a 60,000-row epoch in 3 s: 15,000 rows in 3 s, 360 steps left at 0.025 s.
        assertEquals("epoch 2/10 · step 120/480 · 5000 ex/s · ETA 0m09s",
                ProgressLine.format(1, 10, 120, 480, 3.0, 60_000));
    }

    @Test
    void updatesAreThrottledButTheEpochsLastStepAlwaysShows() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        long[] now = {0};
        ProgressLine line = new ProgressLine(new PrintStream(bytes, true, StandardCharsets.UTF_8), () -> now[0],
                250_000_000L, 1000);
        line.step(0, 1, 1, 10, 0.1);          // first: shown
        now[0] = 100_000_000L;
        line.step(0, 1, 2, 10, 0.2);          // 0.1 s later: throttled
        now[0] = 300_000_000L;
        line.step(0, 1, 3, 10, 0.3);          // 0.3 s after the first: shown
        now[0] = 310_000_000L;
        line.step(0, 1, 10, 10, 1.0);         // the last step: shown although only 10 ms passed
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(3, out.split("\r", -1).length - 1, out);
        assertTrue(out.contains("step 1/10") && !out.contains("step 2/10") && out.contains("step 3/10")
                && out.contains("step 10/10 · 1000 ex/s · ETA 0m00s"), out);
        bytes.reset();
        line.clear();
        String cleared = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(cleared.startsWith("\r") && cleared.endsWith("\r") && cleared.trim().isEmpty(), cleared);
        bytes.reset();
        line.clear();
        assertEquals("", bytes.toString(StandardCharsets.UTF_8), "nothing to clear twice");
    }
}
