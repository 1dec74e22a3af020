package io.sparkprop.spark.data;

import static io.sparkprop.spark.data.DataTestSupport.assertFails;
import static io.sparkprop.spark.data.DataTestSupport.concat;
import static io.sparkprop.spark.data.DataTestSupport.d;
import static io.sparkprop.spark.data.DataTestSupport.uri;
import static io.sparkprop.spark.data.DataTestSupport.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.DataBlock;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.data.DataTestSupport.Opts;
import io.sparkprop.spark.data.DataTestSupport.Rows;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** CSV through Spark: headers, column selection, weights, the divisor, and every bad-row case. */
class CsvLoaderTest {

    @TempDir
    Path dir;

    /** Rows i = 0..n-1 of {@code x1,label,x2,w}: x1 = 10i (unique), label = i mod 3, x2 = -i, w = i/4. */
    private static String rows(int from, int to) {
        StringBuilder text = new StringBuilder("x1,label,x2,w\n");
        for (int i = from; i < to; i++) {
            text.append(10 * i).append(',').append(i % 3).append(',').append(-i).append(',').append(i / 4.0).append('\n');
            if (i % 5 == 0) {
                text.append("\n");
            }
        }
        return text.toString();
    }

    @Test
    void readsHeaderedFilesIntoOneHotWeightedDividedBlocks() throws Exception {
        Path a = write(dir.resolve("data dir/a.csv"), rows(0, 12));
        Path b = write(dir.resolve("data dir/b.csv"), rows(12, 20));
        write(dir.resolve("data dir/_SUCCESS"), "");
        if (SparkTestSupport.kryo()) { // -Dtest=... runs this class in the default-serializer execution too
            assertEquals("true", SparkTestSupport.spark().conf().get("spark.kryo.registrationRequired"),
                    "these tests must run with every shipped class registered");
        }
        LoadedData data = new Opts(DataFormat.CSV, "file://" + dir.resolve("data dir"), 3).label("label").weight("w")
                .divisor(2).load(3);
        try {
            assertEquals(20, data.rows());
            assertEquals(0, data.skippedRows());
            assertEquals(2, data.numFeatures());
            assertEquals(3, data.blocks().getNumPartitions());
            assertEquals(DataLoader.STORAGE_LEVEL, data.blocks().getStorageLevel());
            assertEquals(List.of(uri(a) + " " + Files.size(a), uri(b) + " " + Files.size(b)), data.sources());
            Rows rows = Rows.of(data);
            assertEquals(20, rows.count());
            // i = 5: x1 50/2, x2 -5/2, label 2, weight 1.25
            assertArrayEquals(concat(d(25, -2.5), d(0, 0, 1), d(1.25)), rows.find(0, 25));
            // i = 13, from the second file: label 1, weight 3.25
            assertArrayEquals(concat(d(65, -6.5), d(0, 1, 0), d(3.25)), rows.find(0, 65));
            for (DataBlock block : rows.blocks()) {
                assertTrue(block.weighted());
                assertEquals(3, block.numTargets());
            }
        } finally {
            data.blocks().unpersist(false);
        }
    }

    @Test
    void withoutHeaderColumnsArePositionalAndFeatureColumnsChooseTheOrder() {
        write(dir.resolve("plain.csv"), "1;10;20;30\n0;11;21;31\n\n1;12;22;32\n");
        LoadedData data = new Opts(DataFormat.CSV, dir.resolve("plain.csv").toString(), 2).header(false)
                .delimiter(';').label("_c0").columns("_c3", "_c1").load(2);
        try {
            assertEquals(3, data.rows());
            assertEquals(2, data.numFeatures());
            Rows rows = Rows.of(data);
            assertArrayEquals(concat(d(31, 11), d(1, 0)), rows.find(1, 11));
            assertArrayEquals(concat(d(32, 12), d(0, 1)), rows.find(1, 12));
        } finally {
            data.blocks().unpersist(false);
        }
    }

    @Test
    void regressionAndMultiLabelTargetsComeFromTheLabelColumns() {
        write(dir.resolve("r.csv"), "x,t1,t2\n1,0.5,-1\n2,1.5,-2\n");
        LoadedData regression = new Opts(DataFormat.CSV, dir.resolve("r.csv").toString(), 2)
                .kind(TargetKind.REGRESSION).label("t1,t2").load(1);
        try {
            assertArrayEquals(d(2, 1.5, -2), Rows.of(regression).find(0, 2));
        } finally {
            regression.blocks().unpersist(false);
        }
        write(dir.resolve("m.csv"), "x,t1,t2\n1,0,1\n2,1,1\n");
        LoadedData multi = new Opts(DataFormat.CSV, dir.resolve("m.csv").toString(), 2)
                .kind(TargetKind.MULTI_LABEL).label("t1,t2").load(1);
        try {
            assertArrayEquals(d(1, 0, 1), Rows.of(multi).find(0, 1));
        } finally {
            multi.blocks().unpersist(false);
        }
    }

    static Stream<Arguments> badLines() {
        return Stream.of(
                Arguments.of("1,0,abc,0.5", "column 'x2': expected a number but found 'abc'"),
                Arguments.of("1,0,1", "expected 2 features but found 1 (4 fields expected, 3 found)"),
                Arguments.of("1,0,-1,1,9", "expected 2 features but found 3 (4 fields expected, 5 found)"),
                Arguments.of("NaN,0,1,1", "column 'x1': expected a finite feature value but found 'NaN'"),
                Arguments.of("1,0,inf,1", "column 'x2': expected a finite feature value but found 'inf'"),
                Arguments.of("1,3,1,1", "label column 'label': expected a class label in [0, 3) but found '3'"),
                Arguments.of("1,-1,1,1", "label column 'label': expected a class label in [0, 3) but found '-1'"),
                Arguments.of("1,1.5,1,1", "label column 'label': expected an integer class label in [0, 3) but found '1.5'"),
                Arguments.of("1,1,1,-0.5", "weight column 'w': expected a finite weight >= 0 but found '-0.5'"));
    }

    @ParameterizedTest
    @MethodSource("badLines")
    void badRowFailsNamingFileLineExpectedAndFound(String line, String expected) {
        Path file = write(dir.resolve("bad.csv"), "x1,label,x2,w\n1,0,1,1\n\n" + line + "\n2,1,2,1\n");
        String message = assertFails(() -> new Opts(DataFormat.CSV, file.toString(), 3).label("label").weight("w")
                .load(2), uri(file) + " line 4: " + expected);
        assertTrue(message.startsWith(uri(file)), message);
    }

    @Test
    void skipDropsExactlyTheBadRowsAndCountsThem() {
        List<String> lines = new ArrayList<>(List.of("x1,label,x2,w"));
        for (int i = 0; i < 30; i++) {
            lines.add(i + "," + (i % 3) + ",1,1");
        }
        lines.set(5, "104,0,nan,1");
        lines.set(9, "108,7,1,1");
        lines.set(20, "119,0,1");
        lines.set(25, "124,0,1,-2");
        Path file = write(dir.resolve("skip.csv"), String.join("\n", lines) + "\n");
        LoadedData data = new Opts(DataFormat.CSV, file.toString(), 3).label("label").weight("w").skip().load(3);
        try {
            assertEquals(26, data.rows());
            assertEquals(4, data.skippedRows());
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                if (i != 4 && i != 8 && i != 19 && i != 24) {
                    expected.add(String.valueOf((double) i));
                }
            }
            List<String> kept = new ArrayList<>();
            for (double[] row : Rows.of(data).all()) {
                kept.add(String.valueOf(row[0]));
            }
            kept.sort(null);
            expected.sort(null);
            assertEquals(expected, kept);
        } finally {
            data.blocks().unpersist(false);
        }
    }

    @Test
    void quotedHeadersAndFieldsReadAsPandasWroteThem() {
        // What pandas' to_csv(quoting=csv.QUOTE_ALL) writes, with a header that holds the delimiter and a quote.
        Path file = write(dir.resolve("quoted.csv"), String.join("\n",
                "\"size, cm\",\"label\",\"the \"\"x\"\" column\"",
                "\"1.5\",\"0\",\"-2\"",
                "2.5,1,\"-3\"",
                "") );
        LoadedData data = new Opts(DataFormat.CSV, file.toString(), 2).label("label")
                .columns("the \"x\" column", "size, cm").load(1);
        try {
            assertEquals(2, data.rows());
            Rows rows = Rows.of(data);
            assertArrayEquals(concat(d(-2, 1.5), d(1, 0)), rows.find(0, -2));
            assertArrayEquals(concat(d(-3, 2.5), d(0, 1)), rows.find(0, -3));
        } finally {
            data.blocks().unpersist(false);
        }
        // A quote left open is a bad row named by file and line, like any other.
        Path open = write(dir.resolve("open.csv"), "\"a\",\"label\"\n1,0\n\"2,1\n");
        assertFails(() -> new Opts(DataFormat.CSV, open.toString(), 2).label("label").load(1),
                uri(open) + " line 3: expected every quoted field to close on its line");
        Path header = write(dir.resolve("header.csv"), "\"a,label\n1,0\n");
        assertFails(() -> new Opts(DataFormat.CSV, header.toString(), 2).label("label").load(1),
                "CSV file " + uri(header) + " line 1: expected every quoted field to close on its line");
    }

    @Test
    void everyFileMustHaveTheFirstFilesHeader() {
        write(dir.resolve("h/a.csv"), "x1,label\n1,0\n");
        Path b = write(dir.resolve("h/b.csv"), "label,x1\n0,2\n");
        assertFails(() -> new Opts(DataFormat.CSV, dir.resolve("h").toString(), 2).label("label").load(2),
                "CSV file " + uri(b) + " line 1: expected the header of " + uri(dir.resolve("h/a.csv")),
                "[x1, label] but found [label, x1]");
    }

    @Test
    void missingFileAndMissingColumnAreNamed() {
        String missing = dir.resolve("nope/train.csv").toString();
        assertFails(() -> new Opts(DataFormat.CSV, missing, 2).label("label").load(2), missing, "does not exist");
        Path file = write(dir.resolve("c.csv"), "a,b\n1,0\n");
        assertFails(() -> new Opts(DataFormat.CSV, file.toString(), 2).label("label").load(2),
                "CSV data at " + uri(file) + " has no column 'label'; available columns: a, b");
        assertFails(() -> new Opts(DataFormat.CSV, file.toString(), 2).label("b").columns("a", "z").load(2),
                "has no feature column 'z' (the features by name: a, z, from data.feature-columns or else the model's"
                        + " recorded sparkprop.feature-columns); available columns: a, b");
    }
}
