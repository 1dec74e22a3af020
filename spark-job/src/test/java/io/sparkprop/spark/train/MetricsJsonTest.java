package io.sparkprop.spark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The file form of the epoch history ({@link MetricsJson} through {@link EpochMetrics#toJson} and
 * {@link EpochMetrics#fromJson}): the format written before Jackson is written and read unchanged,
 * a line any JSON tool rewrote reads back to the same metrics, and a malformed line is named.
 */
class MetricsJsonTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Lines as the hand-written writer before Jackson (commit 84b9847) wrote them for
     * {@link #GOLDEN_METRICS}, copied from its output: the format files and checkpoints hold.
     */
    static final List<String> GOLDEN_LINES = List.of(
            "{\"epoch\":0,\"step\":20,\"train_loss\":1.0986122886681098,\"val_loss\":0.9162907318741551,"
                    + "\"val_accuracy\":0.625,\"examples_per_sec\":12345.678901234567,\"epoch_seconds\":0.81,"
                    + "\"elapsed_seconds\":2.5,\"sync_steps\":20,\"step_ms\":3.900,\"compute_ms\":2.500,"
                    + "\"exchange_ms\":1.000,\"broadcast_ms\":0.123,\"update_ms\":0.050}",
            "{\"epoch\":3,\"step\":80,\"train_loss\":0.012,\"examples_per_sec\":1.0E7,\"epoch_seconds\":1.0E-4,"
                    + "\"elapsed_seconds\":123.0}",
            "{\"epoch\":1,\"step\":2,\"train_loss\":null,\"val_loss\":0.25,\"val_rmse\":0.5,\"val_mae\":0.375,"
                    + "\"examples_per_sec\":4000.0,\"epoch_seconds\":1.5,\"elapsed_seconds\":3.0}",
            "{\"epoch\":7,\"step\":1234567890123,\"train_loss\":4.9E-324,\"val_loss\":null,"
                    + "\"val_rmse\":1.7976931348623157E308,\"val_mae\":-0.0,\"examples_per_sec\":1.0,"
                    + "\"epoch_seconds\":2.0,\"elapsed_seconds\":3.0,\"sync_steps\":3,\"step_ms\":1234.568,"
                    + "\"compute_ms\":1234.568,\"exchange_ms\":0.000,\"broadcast_ms\":0.001,\"update_ms\":0.000}");

    /** What {@link #GOLDEN_LINES} were written from. */
    static final List<EpochMetrics> GOLDEN_METRICS = List.of(
            new EpochMetrics(0, 20, 1.0986122886681098, 0.9162907318741551, 0.625, Double.NaN, Double.NaN,
                    12345.678901234567, 0.81, 2.5, new StepTimes.Summary(20, 0.1234, 2.5, 1.0, 0.05, 3.9)),
            new EpochMetrics(3, 80, 0.012, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 1.0E7, 1.0E-4, 123.0, null),
            new EpochMetrics(1, 2, Double.POSITIVE_INFINITY, 0.25, Double.NaN, 0.5, 0.375, 4000.0, 1.5, 3.0,
                    new StepTimes.Summary(0, 0, 0, 0, 0, 0)),
            new EpochMetrics(7, 1234567890123L, 4.9E-324, Double.NEGATIVE_INFINITY, Double.NaN,
                    1.7976931348623157E308, -0.0, 1.0, 2.0, 3.0,
                    new StepTimes.Summary(3, 0.0005, 1234.5678, 0.0, 1.0E-9, 1234.5683)));

    /**
     * {@link #GOLDEN_LINES} as they read now: step times to 3 decimals, no empty step times, and the
     * old writer's {@code null} (an infinity) as no value: null stays null.
     */
    static final List<EpochMetrics> GOLDEN_READ = List.of(
            new EpochMetrics(0, 20, 1.0986122886681098, 0.9162907318741551, 0.625, Double.NaN, Double.NaN,
                    12345.678901234567, 0.81, 2.5, new StepTimes.Summary(20, 0.123, 2.5, 1.0, 0.05, 3.9)),
            new EpochMetrics(3, 80, 0.012, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 1.0E7, 1.0E-4, 123.0, null),
            new EpochMetrics(1, 2, Double.NaN, 0.25, Double.NaN, 0.5, 0.375, 4000.0, 1.5, 3.0, null),
            new EpochMetrics(7, 1234567890123L, 4.9E-324, Double.NaN, Double.NaN,
                    1.7976931348623157E308, -0.0, 1.0, 2.0, 3.0,
                    new StepTimes.Summary(3, 0.001, 1234.568, 0.0, 0.0, 1234.568)));

    @Test
    void theWrittenFormatIsTheOneBeforeJacksonSaveThatInfinitiesAreStrings() {
        for (int i = 0; i < GOLDEN_LINES.size(); i++) {
            String written = GOLDEN_METRICS.get(i).toJson();
            assertEquals(GOLDEN_LINES.get(i).replace("\"train_loss\":null", "\"train_loss\":\"Infinity\"")
                    .replace("\"val_loss\":null", "\"val_loss\":\"-Infinity\""), written);
            EpochMetrics back = EpochMetrics.fromJson(written);
            assertEquals(GOLDEN_METRICS.get(i).trainLoss(), back.trainLoss());
            assertEquals(GOLDEN_METRICS.get(i).valLoss(), back.valLoss(), "-Infinity survives");
        }
        // Lines without infinities and without step times are written exactly as before.
        assertEquals(GOLDEN_LINES.get(1), GOLDEN_READ.get(1).toJson());
        assertEquals(GOLDEN_LINES.get(0), GOLDEN_READ.get(0).toJson());
    }

    @Test
    void nullStaysNullAsPandasWritesAMissingValue() {
        // pandas' to_json(orient="records", lines=True) of a frame where one epoch had no validation.
        EpochMetrics m = EpochMetrics.fromJson("{\"epoch\":4,\"step\":50,\"train_loss\":0.5,\"val_loss\":null,"
                + "\"val_accuracy\":null,\"val_rmse\":null,\"val_mae\":null,\"examples_per_sec\":10.0,"
                + "\"epoch_seconds\":1.0,\"elapsed_seconds\":5.0}");
        assertEquals(new EpochMetrics(4, 50, 0.5, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 10.0, 1.0, 5.0,
                null), m);
        assertEquals("{\"epoch\":4,\"step\":50,\"train_loss\":0.5,\"examples_per_sec\":10.0,\"epoch_seconds\":1.0,"
                + "\"elapsed_seconds\":5.0}", m.toJson());
    }

    @Test
    void linesWrittenBeforeJacksonReadBackToTheSameMetrics() {
        for (int i = 0; i < GOLDEN_LINES.size(); i++) {
            assertEquals(GOLDEN_READ.get(i), EpochMetrics.fromJson(GOLDEN_LINES.get(i)), GOLDEN_LINES.get(i));
        }
    }

    @Test
    void aLineReformattedByAJsonToolReadsBackToTheSameMetrics() throws Exception {
        // Python's json.dumps of each golden line with its keys reversed: spaces after ':' and ',',
        // numbers as Python prints them (1e-05 style, 10000000.0, 1.7976931348623157e+308, 5e-324).
        List<String> python = List.of(
                "{\"update_ms\": 0.05, \"broadcast_ms\": 0.123, \"exchange_ms\": 1.0, \"compute_ms\": 2.5, \"step_ms\":"
                        + " 3.9, \"sync_steps\": 20, \"elapsed_seconds\": 2.5, \"epoch_seconds\": 0.81,"
                        + " \"examples_per_sec\": 12345.678901234567, \"val_accuracy\": 0.625, \"val_loss\":"
                        + " 0.9162907318741551, \"train_loss\": 1.0986122886681098, \"step\": 20, \"epoch\": 0}",
                "{\"elapsed_seconds\": 123.0, \"epoch_seconds\": 0.0001, \"examples_per_sec\": 10000000.0,"
                        + " \"train_loss\": 0.012, \"step\": 80, \"epoch\": 3}",
                "{\"elapsed_seconds\": 3.0, \"epoch_seconds\": 1.5, \"examples_per_sec\": 4000.0, \"val_mae\": 0.375,"
                        + " \"val_rmse\": 0.5, \"val_loss\": 0.25, \"train_loss\": null, \"step\": 2, \"epoch\": 1}",
                "{\"update_ms\": 0.0, \"broadcast_ms\": 0.001, \"exchange_ms\": 0.0, \"compute_ms\": 1234.568,"
                        + " \"step_ms\": 1234.568, \"sync_steps\": 3, \"elapsed_seconds\": 3.0, \"epoch_seconds\": 2.0,"
                        + " \"examples_per_sec\": 1.0, \"val_mae\": -0.0, \"val_rmse\": 1.7976931348623157e+308,"
                        + " \"val_loss\": null, \"train_loss\": 5e-324, \"step\": 1234567890123, \"epoch\": 7}");
        for (int i = 0; i < GOLDEN_LINES.size(); i++) {
            assertEquals(GOLDEN_READ.get(i), EpochMetrics.fromJson(python.get(i)), python.get(i));
            String pretty = reformat(GOLDEN_LINES.get(i));
            assertTrue(pretty.startsWith("{   \"") && pretty.contains("\" : "), pretty);
            assertEquals(GOLDEN_READ.get(i), EpochMetrics.fromJson(pretty), pretty);
            String padded = " \t" + GOLDEN_LINES.get(i).replace(":", " : ").replace(",", " ,  ") + "  ";
            assertEquals(GOLDEN_READ.get(i), EpochMetrics.fromJson(padded), padded);
        }
    }

    @Test
    void unknownKeysAreIgnoredAndNonNumericTokensRead() {
        EpochMetrics m = EpochMetrics.fromJson("{\"host\":\"a\",\"tags\":[1,{\"x\":null}],\"epoch\":2,\"step\":9,"
                + "\"train_loss\":NaN,\"val_loss\":Infinity,\"val_mae\":-Infinity,\"val_rmse\":7}");
        assertEquals(new EpochMetrics(2, 9, Double.NaN, Double.POSITIVE_INFINITY, Double.NaN, 7.0,
                Double.NEGATIVE_INFINITY, Double.NaN, Double.NaN, Double.NaN, null), m);
    }

    @Test
    void everyFieldRoundTripsIncludingNaNAndInfinity() {
        SplittableRandom random = new SplittableRandom(12);
        double[] special = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0,
                Double.MIN_VALUE, Double.MAX_VALUE, -Double.MIN_NORMAL, 1e-300, 0.1, 1.0 / 3};
        for (int trial = 0; trial < 2000; trial++) {
            double[] v = new double[8];
            for (int j = 0; j < v.length; j++) {
                v[j] = switch (random.nextInt(3)) {
                    case 0 -> special[random.nextInt(special.length)];
                    case 1 -> Double.longBitsToDouble(random.nextLong());
                    default -> random.nextDouble() * Math.pow(10, random.nextInt(-8, 9));
                };
            }
            StepTimes.Summary times = random.nextBoolean() ? null : new StepTimes.Summary(1 + random.nextInt(1000),
                    millis(random), millis(random), millis(random), millis(random), millis(random), costs(random));
            EpochMetrics m = new EpochMetrics(random.nextInt(Integer.MAX_VALUE), random.nextLong(Long.MAX_VALUE),
                    v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], times);
            EpochMetrics expected = new EpochMetrics(m.epoch(), m.step(), read(v[0]), read(v[1]), read(v[2]),
                    read(v[3]), read(v[4]), read(v[5]), read(v[6]), read(v[7]), times);
            String line = m.toJson();
            assertEquals(expected, EpochMetrics.fromJson(line), line);
            assertEquals(expected, EpochMetrics.fromJson(reformat(line)), line);
            assertEquals(line, EpochMetrics.fromJson(line).toJson());
        }
    }

    @Test
    void historiesRoundTripThroughJsonLines() {
        String text = EpochMetrics.toJsonLines(GOLDEN_READ);
        // GOLDEN_READ has no value where the old lines had null: such fields are left out.
        assertEquals(String.join("\n", GOLDEN_LINES).replace("\"train_loss\":null,", "")
                .replace("\"val_loss\":null,", "") + "\n", text);
        assertEquals(GOLDEN_READ, EpochMetrics.fromJsonLines(text, "metrics.jsonl"));
        assertEquals(GOLDEN_READ, EpochMetrics.fromJsonLines("\n" + text.replace("\n", "\r\n\r\n"), "metrics.jsonl"));
        assertEquals("", EpochMetrics.toJsonLines(List.of()));
        assertEquals(List.of(), EpochMetrics.fromJsonLines("", "metrics.jsonl"));
    }

    @Test
    void aMalformedLineIsNamedWithTheExpectedShape() {
        String good = GOLDEN_LINES.get(1);
        String[][] cases = {
                {"{\"epoch\":3,\"step\":80,\"train_loss\":0.0", "Unexpected end-of-input"},
                {"{\"step\":80,\"train_loss\":0.5}", "no \"epoch\""},
                {"{\"epoch\":3,\"train_loss\":0.5}", "no \"step\""},
                {"{\"epoch\":-1,\"step\":80}", "\"epoch\" must be a whole number"},
                {"{\"epoch\":1.5,\"step\":80}", "\"epoch\" must be a whole number"},
                {"{\"epoch\":3,\"step\":\"80\"}", "\"step\" must be a whole number"},
                {"{\"epoch\":3,\"step\":80,\"val_loss\":\"low\"}", "\"val_loss\" must be a number, null,"},
                {"{\"epoch\":3,\"step\":80} {\"epoch\":4,\"step\":81}", "Trailing token"},
                {"[3,80]", "not a JSON object"},
                {"epoch 3 step 80", "Unrecognized token"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> EpochMetrics.fromJsonLines(good + "\n\n" + c[0] + "\n" + good + "\n", "run/metrics.jsonl"),
                    c[0]);
            String message = e.getMessage();
            assertTrue(message.startsWith("run/metrics.jsonl line 3: "), message);
            assertTrue(message.contains(c[1]), message);
            assertTrue(message.contains("expected one JSON object such as {\"epoch\":0,\"step\":20,"), message);
            assertTrue(message.endsWith(c[0]), message);
        }
        // A whole number written as a float (as some tools do) is still one.
        assertEquals(3, EpochMetrics.fromJson("{\"epoch\":3.0,\"step\":8e1}").epoch());
        assertEquals(80, EpochMetrics.fromJson("{\"epoch\":3.0,\"step\":8e1}").step());
    }

    @Test
    void anEmptyStepTimesSummaryIsLeftOutAndReadsAsNone() {
        EpochMetrics m = EpochMetrics.fromJson(GOLDEN_METRICS.get(2).toJson());
        assertNull(m.stepTimes());
        // sync_steps missing but step_ms there: the times are read, with no step count.
        StepTimes.Summary times = EpochMetrics.fromJson("{\"epoch\":0,\"step\":1,\"step_ms\":2.5}").stepTimes();
        assertEquals(new StepTimes.Summary(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 2.5), times);
    }

    @Test
    void theExchangeFiguresFollowTheStepTimesAndReadBack() {
        ExchangeCosts costs = new ExchangeCosts(80336, 42142, 39011, 0, 0, 1, 2, 60.0, 17.5, 6, 0, 0);
        EpochMetrics m = new EpochMetrics(0, 16, 0.5, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 358.0, 1.75,
                1.75, new StepTimes.Summary(16, 5.586, 0.886, 52.601, 0.793, 65.899, costs));
        String line = "{\"epoch\":0,\"step\":16,\"train_loss\":0.5,\"examples_per_sec\":358.0,\"epoch_seconds\":1.75,"
                + "\"elapsed_seconds\":1.75,\"sync_steps\":16,\"step_ms\":65.899,\"compute_ms\":0.886,"
                + "\"exchange_ms\":52.601,\"broadcast_ms\":5.586,\"update_ms\":0.793,\"driver_in_bytes\":80336,"
                + "\"driver_out_bytes\":42142,\"broadcast_bytes\":39011,\"shuffle_write_bytes\":0,"
                + "\"shuffle_read_bytes\":0,\"stages\":1,\"tasks\":2,\"driver_cpu_ms\":60.000,"
                + "\"scheduler_delay_ms\":17.500,\"deserialize_ms\":6.000,\"result_ms\":0.000,\"shuffle_wait_ms\":0.000}";
        assertEquals(line, m.toJson());
        assertEquals(m, EpochMetrics.fromJson(line));
        // A median between two whole numbers keeps its half; a figure not known is left out.
        ExchangeCosts partly = new ExchangeCosts(236933, Double.NaN, 116949, 0, 0, 1, 2, Double.NaN, 13, 5, 1, 0.5);
        String written = new EpochMetrics(1, 4, 0.5, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 1, 1, 1,
                new StepTimes.Summary(4, 1, 1, 1, 1, 4, partly)).toJson();
        assertTrue(written.contains("\"driver_in_bytes\":236933,\"broadcast_bytes\":116949,") && !written.contains(
                "driver_out_bytes") && !written.contains("driver_cpu_ms"), written);
        assertEquals(partly, EpochMetrics.fromJson(written).stepTimes().costs());
        // Halves of any size in plain decimals (MNIST's local-SGD rounds: 11,344,299.5 bytes in, a
        // new user's parser met 1.13442995E7).
        ExchangeCosts half = new ExchangeCosts(11344299.5, 2.5, 0.5, 0, 0, 1.5, 2.5, 0.5, 0, 0, 0, 0);
        String halves = new EpochMetrics(1, 4, 0.5, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 1, 1, 1,
                new StepTimes.Summary(4, 1, 1, 1, 1, 4, half)).toJson();
        assertTrue(halves.contains("\"driver_in_bytes\":11344299.5,\"driver_out_bytes\":2.5,"), halves);
        assertEquals(half, EpochMetrics.fromJson(halves).stepTimes().costs());
    }

    @Test
    void aLineWrittenBeforeTheExchangeFiguresReadsThemAsUnknown() {
        for (String line : GOLDEN_LINES) {
            StepTimes.Summary times = EpochMetrics.fromJson(line).stepTimes();
            if (times != null) {
                assertEquals(ExchangeCosts.UNKNOWN, times.costs(), line);
                assertFalse(times.costs().known());
                assertFalse(times.toString().contains("per exchange:"), times.toString());
            }
        }
        // One figure there, the others unknown, not 0.
        ExchangeCosts costs = EpochMetrics.fromJson("{\"epoch\":0,\"step\":1,\"step_ms\":2.5,\"tasks\":8}").stepTimes()
                .costs();
        assertEquals(8, costs.tasks());
        assertTrue(Double.isNaN(costs.driverInBytes()) && Double.isNaN(costs.stages())
                && Double.isNaN(costs.driverCpuMs()) && Double.isNaN(costs.shuffleWaitMs()), costs.toString());
        assertEquals("8 tasks", costs.toString());
    }

    /**
     * {@code line} as a JSON tool rewrites it: Jackson's pretty printer (keys reversed, two-space
     * indents, spaces around colons), with its line breaks joined into one line.
     */
    static String reformat(String line) {
        try {
            JsonNode node = JSON.readTree(line);
            List<String> names = new ArrayList<>();
            node.fieldNames().forEachRemaining(names::add);
            Collections.reverse(names);
            ObjectNode reversed = JSON.createObjectNode();
            for (String name : names) {
                reversed.set(name, node.get(name));
            }
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(reversed).replace("\n", " ")
                    .replace("\r", " ");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static double millis(SplittableRandom random) {
        // What survives 3 decimals: a whole number of microseconds.
        return Double.parseDouble(String.format(Locale.ROOT, "%.3f", random.nextLong(100_000_000) / 1000.0));
    }

    /**
     * Random exchange figures as the trainer makes them: bytes and counts are medians of whole
     * numbers (whole, or with a half), milliseconds survive 3 decimals; each unknown at times.
     */
    private static ExchangeCosts costs(SplittableRandom random) {
        if (random.nextInt(4) == 0) {
            return ExchangeCosts.UNKNOWN;
        }
        double[] v = new double[12];
        for (int j = 0; j < v.length; j++) {
            v[j] = random.nextInt(5) == 0 ? Double.NaN
                    : j < 7 ? random.nextLong(1L << 40) / 2.0
                    : millis(random);
        }
        return new ExchangeCosts(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]);
    }

    private static double read(double written) {
        return written; // every value, infinities of both signs included, reads back as itself
    }
}
