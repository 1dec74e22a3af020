package io.sparkprop.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkprop.core.Activation;
import io.sparkprop.core.Loss;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.io.Model;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.Main;
import io.sparkprop.spark.SparkTestSupport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code predict --output-format csv} writes RFC 4180: a quote inside a field is doubled, a field
 * with the delimiter, a quote or a line break is quoted, leading and trailing spaces are kept. The
 * output is read back by a plain RFC 4180 parser (written out below, so that nothing of Spark's or
 * univocity's decides what the text means) and, for the rows without line breaks, by sparkprop's
 * own CSV reader (predict on predict's output), which takes one record per line and trims
 * unquoted fields.
 */
class PredictCsvOutputTest {

    /** Passthrough texts that a CSV writer must quote or escape, or may not trim; null last. */
    private static final List<String> IDS = Arrays.asList("plain", "say \"hi\"", "a,b", "\"", "\\\"", " padded ",
            "tab\tin", "", "two\nlines", "cr\r\nlf", null);

    @TempDir
    Path dir;

    @Test
    void passthroughTextRoundTripsThroughAnRfc4180ParserAndSparkpropsReader() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        NetworkSpec spec = NetworkSpec.of(new int[] {2, 1}, Activation.IDENTITY, Activation.IDENTITY, Loss.MSE);
        Path model = dir.resolve("linear.spm");
        ModelCodec.write(new Model(spec, new double[] {0.5, -2.0, 1.0}), model);
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < IDS.size(); r++) {
            rows.add(RowFactory.create(IDS.get(r), (double) r, 1.0));
        }
        StructType schema = new StructType().add("id", DataTypes.StringType).add("x1", DataTypes.DoubleType)
                .add("x2", DataTypes.DoubleType);
        Path input = dir.resolve("in.parquet");
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(input.toString());
        Path parquetConf = dir.resolve("parquet.conf");
        Files.writeString(parquetConf, "data.format = parquet\ndata.feature-columns = x1,x2\n");
        Path out = dir.resolve("out");
        assertEquals(0, Main.run(spark, "predict", "--config", parquetConf.toString(), "--model", model.toString(),
                "--input", input.toString(), "--output", out.toString(), "--output-format", "csv", "--passthrough",
                "id,x1,x2"));

        List<List<String>> records = new ArrayList<>();
        for (Path part : parts(out)) {
            List<List<String>> file = rfc4180(Files.readString(part, StandardCharsets.UTF_8));
            assertEquals(List.of("id", "x1", "x2", "prediction"), file.get(0), part.toString());
            records.addAll(file.subList(1, file.size()));
        }
        assertEquals(IDS.size(), records.size(), records.toString());
        for (int r = 0; r < IDS.size(); r++) {
            List<String> record = records.get(r);
            // A null is an empty field; an empty string is "" (the same to RFC 4180 and to sparkprop's reader).
            assertEquals(IDS.get(r) == null ? "" : IDS.get(r), record.get(0), "row " + r + ": " + record);
            assertEquals(0.5 * r - 2 + 1, Double.parseDouble(record.get(3)), 1e-12, "row " + r);
        }

        // Sparkprop's own reader, which takes one record per line, on predict's CSV of the rows
        // without line breaks: predict on that output directory as it was written.
        List<Row> oneLine = new ArrayList<>();
        for (Row row : rows) {
            String id = row.getString(0);
            if (id == null || !(id.contains("\n") || id.contains("\r"))) {
                oneLine.add(row);
            }
        }
        Path oneLineInput = dir.resolve("one-line.parquet");
        spark.createDataFrame(oneLine, schema).write().parquet(oneLineInput.toString());
        Path noBreaks = dir.resolve("no-breaks");
        assertEquals(0, Main.run(spark, "predict", "--config", parquetConf.toString(), "--model", model.toString(),
                "--input", oneLineInput.toString(), "--output", noBreaks.toString(), "--output-format", "csv",
                "--passthrough", "id,x1,x2"));
        Path csvConf = dir.resolve("csv.conf");
        Files.writeString(csvConf, "data.format = csv\ndata.feature-columns = x1,x2\n");
        Path again = dir.resolve("again");
        assertEquals(0, Main.run(spark, "predict", "--config", csvConf.toString(), "--model", model.toString(),
                "--input", noBreaks.toString(), "--output", again.toString(), "--passthrough", "id"));
        List<String> reread = spark.read().parquet(again.toString()).collectAsList().stream()
                .map(row -> row.getString(0)).sorted().toList();
        // Sparkprop's reader trims unquoted fields, and " padded " needs no quotes in RFC 4180.
        List<String> want = IDS.stream().map(id -> id == null ? "" : id)
                .filter(id -> !id.contains("\n") && !id.contains("\r")).map(String::strip).sorted().toList();
        assertEquals(want, reread);
    }

    private static List<Path> parts(Path out) throws Exception {
        try (Stream<Path> files = Files.list(out)) {
            return files.filter(f -> f.getFileName().toString().startsWith("part-")).sorted().toList();
        }
    }

    /**
     * RFC 4180: records end with CRLF or LF (outside quotes); a field is quoted or not; inside
     * quotes, "" is one quote and anything else, line breaks too, is itself.
     */
    static List<List<String>> rfc4180(String text) {
        List<List<String>> records = new ArrayList<>();
        List<String> record = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        int i = 0;
        boolean quoted = false;
        boolean fieldStarted = false;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
                        field.append('"');
                        i += 2;
                        continue;
                    }
                    quoted = false;
                } else {
                    field.append(c);
                }
                i++;
            } else if (c == '"') {
                if (field.length() > 0) {
                    throw new IllegalArgumentException("A quote inside an unquoted field at " + i + ": " + field);
                }
                quoted = true;
                fieldStarted = true;
                i++;
            } else if (c == ',') {
                record.add(field.toString());
                field.setLength(0);
                fieldStarted = false;
                i++;
            } else if (c == '\r' || c == '\n') {
                record.add(field.toString());
                records.add(record);
                record = new ArrayList<>();
                field.setLength(0);
                fieldStarted = false;
                i += c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n' ? 2 : 1;
            } else {
                field.append(c);
                i++;
            }
        }
        if (quoted) {
            throw new IllegalArgumentException("A quoted field is not closed at the end");
        }
        if (field.length() > 0 || fieldStarted || !record.isEmpty()) {
            record.add(field.toString());
            records.add(record);
        }
        return records;
    }
}
