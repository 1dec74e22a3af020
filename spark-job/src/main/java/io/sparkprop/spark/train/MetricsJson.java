package io.sparkprop.spark.train;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Locale;

/**
 * The file form of {@link EpochMetrics}: one JSON object per epoch, as a line of a run's
 * {@code metrics.jsonl}, of {@code history.jsonl} beside a saved estimator model, and in a
 * checkpoint's {@code state.bin}. The only writer and the only reader of that form; everything
 * else holds {@link EpochMetrics}. Jackson parses, so any JSON tool may have rewritten the object
 * (keys reordered, spaces added); Spark already ships Jackson, so the job jar carries none of it.
 *
 * <p>Written compactly, keys in this order: {@code epoch}, {@code step}, {@code train_loss},
 * {@code val_loss}, {@code val_accuracy}, {@code val_rmse}, {@code val_mae},
 * {@code examples_per_sec}, {@code epoch_seconds}, {@code elapsed_seconds}, then the step times
 * {@code sync_steps}, {@code step_ms}, {@code compute_ms}, {@code exchange_ms},
 * {@code broadcast_ms}, {@code update_ms} (milliseconds with 3 decimals), and after them, each only
 * when known, the medians per exchange of {@link ExchangeCosts}: {@code driver_in_bytes},
 * {@code driver_out_bytes}, {@code broadcast_bytes}, {@code shuffle_write_bytes},
 * {@code shuffle_read_bytes}, {@code stages}, {@code tasks} (whole numbers, or a half when the median
 * falls between two), {@code driver_cpu_ms}, {@code scheduler_delay_ms}, {@code deserialize_ms},
 * {@code result_ms}, {@code shuffle_wait_ms} (milliseconds with 3 decimals). Doubles are written
 * as {@link Double#toString}, which reads back to the same bits. The rules:
 * <ul>
 *   <li>a {@code NaN} field (no validation set, the other task's metrics) is left out, and an
 *       absent field reads as {@code NaN};</li>
 *   <li>an infinite value (a loss that overflowed) is written as the string {@code "Infinity"} or
 *       {@code "-Infinity"}, JSON having no infinities, and reads back as itself;</li>
 *   <li>{@code null} stays null: it reads as "no value" ({@code NaN}, as an absent field), which is
 *       what tools such as pandas write for a missing value. Files written before 2026-11-29 wrote
 *       an infinity as {@code null}; such a value now reads as no value;</li>
 *   <li>the step times are written when there are some ({@code sync_steps > 0}) and read when
 *       {@code step_ms} is there; otherwise {@link EpochMetrics#stepTimes()} is {@code null}. An
 *       exchange figure that is not there (unknown, or a line written before these figures
 *       existed) reads as {@code NaN}: unknown, never 0.</li>
 * </ul>
 * Reading requires {@code epoch} and {@code step} (whole numbers), takes the strings and the bare
 * tokens {@code NaN}, {@code Infinity} and {@code -Infinity} for their values, and ignores unknown
 * keys.
 */
final class MetricsJson {

    /** What a line must look like, for error messages. */
    static final String SHAPE = "one JSON object such as {\"epoch\":0,\"step\":20,\"train_loss\":0.52,...}";

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private MetricsJson() {
    }

    /** {@code m} as one compact JSON object, without a line break. */
    static String write(EpochMetrics m) {
        StringWriter text = new StringWriter();
        try (JsonGenerator out = MAPPER.createGenerator(text)) {
            out.writeStartObject();
            out.writeNumberField("epoch", m.epoch());
            out.writeNumberField("step", m.step());
            number(out, "train_loss", m.trainLoss());
            number(out, "val_loss", m.valLoss());
            number(out, "val_accuracy", m.valAccuracy());
            number(out, "val_rmse", m.valRmse());
            number(out, "val_mae", m.valMae());
            number(out, "examples_per_sec", m.examplesPerSec());
            number(out, "epoch_seconds", m.epochSeconds());
            number(out, "elapsed_seconds", m.elapsedSeconds());
            StepTimes.Summary times = m.stepTimes();
            if (times != null && times.steps() > 0) {
                out.writeNumberField("sync_steps", times.steps());
                millis(out, "step_ms", times.totalMs());
                millis(out, "compute_ms", times.computeMs());
                millis(out, "exchange_ms", times.exchangeMs());
                millis(out, "broadcast_ms", times.broadcastMs());
                millis(out, "update_ms", times.updateMs());
                ExchangeCosts costs = times.costs();
                whole(out, "driver_in_bytes", costs.driverInBytes());
                whole(out, "driver_out_bytes", costs.driverOutBytes());
                whole(out, "broadcast_bytes", costs.broadcastBytes());
                whole(out, "shuffle_write_bytes", costs.shuffleWriteBytes());
                whole(out, "shuffle_read_bytes", costs.shuffleReadBytes());
                whole(out, "stages", costs.stages());
                whole(out, "tasks", costs.tasks());
                knownMillis(out, "driver_cpu_ms", costs.driverCpuMs());
                knownMillis(out, "scheduler_delay_ms", costs.schedulerDelayMs());
                knownMillis(out, "deserialize_ms", costs.deserializeMs());
                knownMillis(out, "result_ms", costs.resultMs());
                knownMillis(out, "shuffle_wait_ms", costs.shuffleWaitMs());
            }
            out.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return text.toString();
    }

    /**
     * The metrics in {@code json}, one JSON object; throws {@link IllegalArgumentException} saying
     * what is wrong and what was expected.
     */
    static EpochMetrics read(String json) {
        JsonNode node;
        try {
            node = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw malformed(jsonProblem(e), json);
        }
        if (node == null || !node.isObject()) {
            throw malformed("not a JSON object", json);
        }
        StepTimes.Summary times = null;
        if (node.has("step_ms")) {
            double steps = number(node, "sync_steps", json);
            times = new StepTimes.Summary(Double.isNaN(steps) ? 0 : (int) steps, number(node, "broadcast_ms", json),
                    number(node, "compute_ms", json), number(node, "exchange_ms", json),
                    number(node, "update_ms", json), number(node, "step_ms", json), new ExchangeCosts(
                    number(node, "driver_in_bytes", json), number(node, "driver_out_bytes", json),
                    number(node, "broadcast_bytes", json), number(node, "shuffle_write_bytes", json),
                    number(node, "shuffle_read_bytes", json), number(node, "stages", json),
                    number(node, "tasks", json), number(node, "driver_cpu_ms", json),
                    number(node, "scheduler_delay_ms", json), number(node, "deserialize_ms", json),
                    number(node, "result_ms", json), number(node, "shuffle_wait_ms", json)));
        }
        return new EpochMetrics((int) whole(node, "epoch", Integer.MAX_VALUE, json),
                whole(node, "step", Long.MAX_VALUE, json), number(node, "train_loss", json),
                number(node, "val_loss", json), number(node, "val_accuracy", json), number(node, "val_rmse", json),
                number(node, "val_mae", json), number(node, "examples_per_sec", json),
                number(node, "epoch_seconds", json), number(node, "elapsed_seconds", json), times);
    }

    private static void number(JsonGenerator out, String name, double value) throws IOException {
        if (Double.isNaN(value)) {
            return;
        }
        if (Double.isInfinite(value)) {
            out.writeStringField(name, value > 0 ? "Infinity" : "-Infinity");
        } else {
            out.writeNumberField(name, value);
        }
    }

    /** Step times: medians of nanosecond counts, so always finite; 3 decimals of a millisecond. */
    private static void millis(JsonGenerator out, String name, double ms) throws IOException {
        out.writeFieldName(name);
        out.writeNumber(String.format(Locale.ROOT, "%.3f", ms));
    }

    /**
     * A known median of whole numbers (bytes, counts): a whole number, or one with a half, written
     * so that it reads back to the same double; nothing when {@code NaN}.
     */
    private static void whole(JsonGenerator out, String name, double value) throws IOException {
        if (Double.isNaN(value)) {
            return;
        }
        if (value == Math.rint(value) && Math.abs(value) < 0x1p53) {
            out.writeNumberField(name, (long) value);
        } else if (2 * value == Math.rint(2 * value) && Math.abs(value) < 0x1p52) {
            // A half, in plain decimals at any size (Double.toString would write 1.13442995E7).
            out.writeFieldName(name);
            out.writeNumber(String.format(Locale.ROOT, "%.1f", value));
        } else {
            number(out, name, value);
        }
    }

    /** A known median in milliseconds, 3 decimals as the step times; nothing when {@code NaN}. */
    private static void knownMillis(JsonGenerator out, String name, double ms) throws IOException {
        if (!Double.isNaN(ms)) {
            millis(out, name, ms);
        }
    }

    private static double number(JsonNode object, String name, String json) {
        JsonNode value = object.get(name);
        if (value == null) {
            return Double.NaN;
        }
        if (value.isNull()) {
            return Double.NaN;
        }
        if (value.isTextual()) {
            switch (value.textValue()) {
                case "Infinity", "+Infinity" -> {
                    return Double.POSITIVE_INFINITY;
                }
                case "-Infinity" -> {
                    return Double.NEGATIVE_INFINITY;
                }
                case "NaN" -> {
                    return Double.NaN;
                }
                default -> {
                }
            }
        }
        if (!value.isNumber()) {
            throw malformed("\"" + name + "\" must be a number, null, \"Infinity\" or \"-Infinity\" but is " + value,
                    json);
        }
        return value.doubleValue();
    }

    private static long whole(JsonNode object, String name, long max, String json) {
        JsonNode value = object.get(name);
        if (value == null) {
            throw malformed("no \"" + name + "\"", json);
        }
        if (!value.isNumber() || !value.canConvertToExactIntegral() || !value.canConvertToLong()
                || value.longValue() < 0 || value.longValue() > max) {
            throw malformed("\"" + name + "\" must be a whole number from 0 to " + max + " but is " + value, json);
        }
        return value.longValue();
    }

    /**
     * Jackson's complaint and where in the text: without its "start marker at [Source: REDACTED
     * ...]" (the caller names the file and line, and the text is shown whole).
     */
    private static String jsonProblem(JsonProcessingException e) {
        String problem = e.getOriginalMessage();
        int marker = problem.indexOf(" (start marker at");
        if (marker >= 0) {
            problem = problem.substring(0, marker);
        }
        return e.getLocation() == null ? "invalid JSON: " + problem
                : "invalid JSON at column " + e.getLocation().getColumnNr() + ": " + problem;
    }

    private static IllegalArgumentException malformed(String problem, String json) {
        String shown = json.length() > 200 ? json.substring(0, 200) + "..." : json;
        return new IllegalArgumentException("Not an epoch's metrics (" + problem + "; expected " + SHAPE + "): "
                + shown);
    }
}
