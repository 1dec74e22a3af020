package io.sparkprop.bench.scale;

import com.univocity.parsers.csv.CsvParser;
import com.univocity.parsers.csv.CsvParserSettings;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The file {@code scripts/bench-scale} writes and {@link ScalingReport} reads: CSV (RFC 4180, read
 * with univocity-parsers), a header line naming the columns in any order, then one row per measured
 * configuration ({@link Measurement}). Lines starting with {@code #} are comments. Every column is
 * required, and a column not listed here is an error that lists the valid ones.
 *
 * <table>
 *   <caption>Columns</caption>
 *   <tr><th>column</th><th>unit</th><th>meaning</th></tr>
 *   <tr><td>exchange</td><td>-</td><td>{@code tree} or {@code reduce-scatter}</td></tr>
 *   <tr><td>exchange_only</td><td>-</td><td>{@code true} for a round with the compute removed</td></tr>
 *   <tr><td>partitions</td><td>count</td><td>P, training partitions</td></tr>
 *   <tr><td>executors</td><td>count</td><td>E, executors running them</td></tr>
 *   <tr><td>cores</td><td>count</td><td>task slots (cores) per executor</td></tr>
 *   <tr><td>params</td><td>count</td><td>N, the network's parameters</td></tr>
 *   <tr><td>local_steps</td><td>count</td><td>k, local steps per exchange (1: synchronous SGD)</td></tr>
 *   <tr><td>state_slots</td><td>count</td><td>optimizer state arrays ({@code OptimizerState.slots().length}; Adam 2)</td></tr>
 *   <tr><td>rows_per_step</td><td>rows</td><td>b, the slowest partition's rows per local step (0 if exchange-only)</td></tr>
 *   <tr><td>tree_depth</td><td>count</td><td>{@code train.aggregation-depth} (written for both kinds)</td></tr>
 *   <tr><td>host_cores</td><td>count</td><td>physical cores all executors share (the harness's host); at least
 *       E cores when every slot has its own</td></tr>
 *   <tr><td>round_ms</td><td>ms</td><td>median wall time of a round (one exchange)</td></tr>
 *   <tr><td>compute_ms</td><td>ms</td><td>median of the slowest partition's compute in a round</td></tr>
 *   <tr><td>exchange_ms</td><td>ms</td><td>median of the job's time besides compute</td></tr>
 *   <tr><td>broadcast_ms</td><td>ms</td><td>median of the broadcast's creation</td></tr>
 *   <tr><td>update_ms</td><td>ms</td><td>median of the driver's update after the job</td></tr>
 *   <tr><td>stages</td><td>count</td><td>stages of a round's job</td></tr>
 *   <tr><td>tasks</td><td>count</td><td>tasks of a round's job</td></tr>
 *   <tr><td>driver_in_bytes</td><td>bytes</td><td>task results received by the driver in a round</td></tr>
 *   <tr><td>driver_out_bytes</td><td>bytes</td><td>bytes sent by the driver in a round</td></tr>
 *   <tr><td>shuffle_write_bytes</td><td>bytes</td><td>shuffle bytes written in a round</td></tr>
 *   <tr><td>shuffle_read_bytes</td><td>bytes</td><td>shuffle bytes read in a round</td></tr>
 * </table>
 */
public final class MeasurementFile {

    /** The columns, in the order {@link #write} puts them. */
    public static final List<String> COLUMNS = List.of("exchange", "exchange_only", "partitions", "executors", "cores",
            "params", "local_steps", "state_slots", "rows_per_step", "tree_depth", "host_cores", "round_ms", "compute_ms",
            "exchange_ms", "broadcast_ms", "update_ms", "stages", "tasks", "driver_in_bytes", "driver_out_bytes",
            "shuffle_write_bytes", "shuffle_read_bytes");

    private MeasurementFile() {
    }

    /**
     * The measurements in {@code file}, in file order.
     *
     * @throws IllegalArgumentException naming the file and line for a bad header or value, or when
     *     the file holds no measurement
     */
    public static List<Measurement> read(Path file) throws IOException {
        CsvParserSettings settings = new CsvParserSettings();
        settings.setLineSeparatorDetectionEnabled(true);
        settings.getFormat().setComment('#');
        settings.setEmptyValue("");
        CsvParser parser = new CsvParser(settings);
        List<Measurement> out = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            parser.beginParsing(reader);
            String[] header = parser.parseNext();
            if (header == null) {
                throw new IllegalArgumentException(file + ": expected a header line naming the columns " + COLUMNS
                        + " but the file is empty");
            }
            Map<String, Integer> index = columnIndex(file, header);
            String[] row;
            while ((row = parser.parseNext()) != null) {
                long line = parser.getContext().currentLine();
                if (row.length == 1 && (row[0] == null || row[0].isBlank())) {
                    continue;
                }
                if (row.length != header.length) {
                    throw new IllegalArgumentException(file + ", line " + line + ": expected " + header.length
                            + " fields as in the header but got " + row.length);
                }
                try {
                    out.add(measurement(new Row(row, index)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(file + ", line " + line + ": " + e.getMessage(), e);
                }
            }
        } finally {
            parser.stopParsing();
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + ": expected at least one measurement row but found none");
        }
        return out;
    }

    /** Writes {@code measurements} to {@code file} with a header, atomically (a temp file, then a rename). */
    public static void write(Path file, List<Measurement> measurements) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path temp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            try (Writer w = Files.newBufferedWriter(temp, StandardCharsets.UTF_8)) {
                w.write(String.join(",", COLUMNS));
                w.write('\n');
                for (Measurement m : measurements) {
                    RoundConfig c = m.config();
                    w.write(String.join(",", c.exchange().label(), Boolean.toString(c.exchangeOnly()),
                            Integer.toString(c.partitions()), Integer.toString(c.executors()),
                            Integer.toString(c.coresPerExecutor()), Long.toString(c.params()),
                            Integer.toString(c.localSteps()), Integer.toString(c.stateSlots()),
                            Integer.toString(c.rowsPerStep()), Integer.toString(c.treeDepth()),
                            Integer.toString(c.hostCores()),
                            Double.toString(m.roundMs()), Double.toString(m.computeMs()), Double.toString(m.exchangeMs()),
                            Double.toString(m.broadcastMs()), Double.toString(m.updateMs()), Integer.toString(m.stages()),
                            Long.toString(m.tasks()), Long.toString(m.driverInBytes()), Long.toString(m.driverOutBytes()),
                            Long.toString(m.shuffleWriteBytes()), Long.toString(m.shuffleReadBytes())));
                    w.write('\n');
                }
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static Map<String, Integer> columnIndex(Path file, String[] header) {
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < header.length; i++) {
            String name = header[i] == null ? "" : header[i].trim();
            if (!COLUMNS.contains(name)) {
                throw new IllegalArgumentException(file + ", header: unknown column '" + name + "'; the columns are "
                        + COLUMNS);
            }
            if (index.put(name, i) != null) {
                throw new IllegalArgumentException(file + ", header: column '" + name + "' appears twice");
            }
        }
        Set<String> missing = new LinkedHashSet<>(COLUMNS);
        missing.removeAll(index.keySet());
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(file + ", header: expected every column of " + COLUMNS
                    + " but these are missing: " + missing);
        }
        return index;
    }

    private static Measurement measurement(Row r) {
        RoundConfig config = new RoundConfig(ExchangeKind.parse(r.text("exchange")), r.bool("exchange_only"),
                r.integer("partitions"), r.integer("executors"), r.integer("cores"), r.count("params"),
                r.integer("local_steps"), r.integer("state_slots"), r.integer("rows_per_step"), r.integer("tree_depth"),
                r.integer("host_cores"));
        return new Measurement(config, r.number("round_ms"), r.number("compute_ms"), r.number("exchange_ms"),
                r.number("broadcast_ms"), r.number("update_ms"), r.integer("stages"), r.count("tasks"),
                r.count("driver_in_bytes"), r.count("driver_out_bytes"), r.count("shuffle_write_bytes"),
                r.count("shuffle_read_bytes"));
    }

    /** One row's fields by column name, each parsed with an error that names the column and the text. */
    private record Row(String[] fields, Map<String, Integer> index) {

        String text(String column) {
            String value = fields[index.get(column)];
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException(column + " must have a value but is empty");
            }
            return value.trim();
        }

        boolean bool(String column) {
            String value = text(column);
            return switch (value) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new IllegalArgumentException(column + " must be true or false but got '" + value + "'");
            };
        }

        long count(String column) {
            String value = text(column);
            try {
                return Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(column + " must be a whole number but got '" + value + "'", e);
            }
        }

        int integer(String column) {
            long value = count(column);
            if (value != (int) value) {
                throw new IllegalArgumentException(column + " must fit an int but got " + value);
            }
            return (int) value;
        }

        double number(String column) {
            String value = text(column);
            try {
                return Double.parseDouble(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(column + " must be a number but got '" + value + "'", e);
            }
        }
    }
}
