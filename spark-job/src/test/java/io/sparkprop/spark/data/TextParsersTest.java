package io.sparkprop.spark.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.spark.data.TextParsers.LibsvmLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CSV and LIBSVM line parsing, without Spark: values, blank lines and every bad-row message. */
class TextParsersTest {

    private static CsvLayout layout(DataOptions options, String... columns) {
        return CsvLayout.resolve(List.of(columns), options, "file:/t/a.csv");
    }

    private static DataOptions csv(int numOutputs, String label) {
        return new DataTestSupport.Opts(DataFormat.CSV, "/t", numOutputs).label(label).divisor(2).build();
    }

    private static String bad(Runnable parse) {
        return assertThrows(BadRowException.class, parse::run).getMessage();
    }

    @Test
    void numbersAcceptDecimalsAndNamedNonFinitesOnly() {
        assertEquals(-1.5e3, TextParsers.number("-1.5e3"));
        assertEquals(7.0, TextParsers.number("+7"));
        assertTrue(Double.isNaN(TextParsers.number("nan")));
        assertTrue(Double.isNaN(TextParsers.number("NaN")));
        assertEquals(Double.POSITIVE_INFINITY, TextParsers.number("inf"));
        assertEquals(Double.NEGATIVE_INFINITY, TextParsers.number("-Infinity"));
        assertEquals("expected a number but found 'abc'", bad(() -> TextParsers.number("abc")));
        assertEquals("expected a number but found '1d'", bad(() -> TextParsers.number("1d")));
        assertEquals("expected a number but found '0x10'", bad(() -> TextParsers.number("0x10")));
        assertEquals("expected a number but found '1e'", bad(() -> TextParsers.number("1e")));
        assertEquals("expected a number but found an empty field", bad(() -> TextParsers.number("")));
    }

    @Test
    void csvLineGivesDividedFeaturesClassAndWeight() {
        DataOptions options = new DataTestSupport.Opts(DataFormat.CSV, "/t", 3).label("y").weight("w").divisor(2)
                .build();
        CsvLayout layout = layout(options, "a", "y", "b", "w");
        assertEquals(2, layout.numFeatures());
        ParsedRow row = TextParsers.parseCsv(" 4 , 2, -6 ,0.5", layout);
        assertArrayEquals(new double[] {2, -3}, row.values);
        assertEquals(2, row.classIndex);
        assertEquals(0.5, row.weight);
        assertNull(TextParsers.parseCsv("   ", layout));
        assertEquals(2, TextParsers.parseCsv("1,2.0,3,1", layout).classIndex);
    }

    @Test
    void csvBadRowsSayWhatWasExpectedAndFound() {
        CsvLayout layout = layout(csv(3, "y"), "a", "b", "y");
        assertEquals("expected 2 features but found 1 (3 fields expected, 2 found)",
                bad(() -> TextParsers.parseCsv("1,2", layout)));
        assertEquals("column 'b': expected a number but found 'x'", bad(() -> TextParsers.parseCsv("1,x,2", layout)));
        assertEquals("column 'a': expected a finite feature value but found 'nan'",
                bad(() -> TextParsers.parseCsv("nan,1,2", layout)));
        assertEquals("column 'b': expected a finite feature value but found 'inf'",
                bad(() -> TextParsers.parseCsv("1,inf,2", layout)));
        assertEquals("label column 'y': expected a class label in [0, 3) but found '3'",
                bad(() -> TextParsers.parseCsv("1,2,3", layout)));
        assertEquals("label column 'y': expected an integer class label in [0, 3) but found '1.5'",
                bad(() -> TextParsers.parseCsv("1,2,1.5", layout)));
        assertEquals(1, TextParsers.parseCsv("1,2,1.0", layout).classIndex);

        CsvLayout weighted = layout(new DataTestSupport.Opts(DataFormat.CSV, "/t", 3).label("y").weight("w").build(),
                "a", "y", "w");
        assertEquals("weight column 'w': expected a finite weight >= 0 but found '-1'",
                bad(() -> TextParsers.parseCsv("1,0,-1", weighted)));
    }

    @Test
    void csvFieldsFollowRfc4180QuotingWithinALine() {
        assertArrayEquals(new String[] {"a,b", "say \"hi\"", "3"},
                CsvFields.split("\"a,b\",\"say \"\"hi\"\"\",3", ','));
        // Unquoted fields are trimmed; quoted ones keep their spaces; empty fields are "" quoted or not.
        assertArrayEquals(new String[] {"x", " y ", "", "", "#z"}, CsvFields.split(" x , \" y \",,\"\",#z", ','));
        assertArrayEquals(new String[] {"a;b", "c"}, CsvFields.split("\"a;b\";c", ';'));
        assertArrayEquals(new String[] {"1", "2", "3"}, CsvFields.split("1\t2\t3", '\t'));
        assertArrayEquals(new String[] {""}, CsvFields.split("", ','));
        // A field list wider than any fixed limit: univocity's default allows 512 columns.
        String wide = "1,".repeat(2000) + "1";
        assertEquals(2001, new CsvFields(',').split(wide).length);
        assertEquals("expected every quoted field to close on its line but found an odd number (1) of double quotes;"
                + " a quoted field cannot span lines", bad(() -> CsvFields.split("1,\"2,3", ',')));
        assertThrows(IllegalArgumentException.class, () -> new CsvFields('"'));
    }

    @Test
    void quotedCsvLinesParseAsTheirBareForm() {
        CsvLayout layout = layout(csv(3, "y"), "a", "b", "y");
        ParsedRow row = TextParsers.parseCsv("\"4\", \"6\" ,\"2\"", layout);
        assertArrayEquals(new double[] {2, 3}, row.values);
        assertEquals(2, row.classIndex);
        assertEquals("column 'b': expected a number but found ' 6'", bad(() -> TextParsers.parseCsv("4,\" 6\",2",
                layout)));
        assertEquals("column 'b': expected a number but found '1,5'", bad(() -> TextParsers.parseCsv("4,\"1,5\",2",
                layout)));
        assertEquals("expected 2 features but found 3 (3 fields expected, 4 found)",
                bad(() -> TextParsers.parseCsv("1,2,3,4", layout)));
    }

    @Test
    void csvMultiLabelAndRegressionColumns() {
        CsvLayout multi = layout(new DataTestSupport.Opts(DataFormat.CSV, "/t", 2).kind(TargetKind.MULTI_LABEL)
                .label("p, q").build(), "p", "x", "q");
        ParsedRow row = TextParsers.parseCsv("1,5,0", multi);
        assertArrayEquals(new double[] {1, 0}, row.targets);
        assertArrayEquals(new double[] {5}, row.values);
        assertEquals("label column 'q': expected a 0 or 1 label but found '2'",
                bad(() -> TextParsers.parseCsv("1,5,2", multi)));

        CsvLayout regression = layout(new DataTestSupport.Opts(DataFormat.CSV, "/t", 1).kind(TargetKind.REGRESSION)
                .label("t").build(), "x", "t");
        assertArrayEquals(new double[] {-2.5}, TextParsers.parseCsv("1,-2.5", regression).targets);
        assertEquals("label column 't': expected a finite regression target but found 'NaN'",
                bad(() -> TextParsers.parseCsv("1,NaN", regression)));
    }

    @Test
    void csvLayoutRejectsMissingAndMisusedColumns() {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> layout(csv(3, "label"), "a", "y"));
        assertEquals("CSV data at file:/t/a.csv has no column 'label'; available columns: a, y", missing.getMessage());
        IllegalArgumentException width = assertThrows(IllegalArgumentException.class, () -> layout(
                new DataTestSupport.Opts(DataFormat.CSV, "/t", 3).label("y").features(3).build(), "a", "b", "y"));
        assertTrue(width.getMessage().contains("Expected 3 features (numFeatures) but file:/t/a.csv has 2 feature"
                + " columns"), width.getMessage());
        assertThrows(IllegalArgumentException.class, () -> layout(
                new DataTestSupport.Opts(DataFormat.CSV, "/t", 2).kind(TargetKind.REGRESSION).label("y").build(),
                "a", "y"));
    }

    @Test
    void libsvmIsOneBasedSparseAndDivided() {
        LibsvmLayout layout = new LibsvmLayout(5, TargetKind.CLASS_INDEX, 3, 2.0);
        ParsedRow row = TextParsers.parseLibsvm("2 1:4 3:-2\t5:1e1 ", layout);
        assertArrayEquals(new int[] {0, 2, 4}, row.indices);
        assertArrayEquals(new double[] {2, -1, 5}, row.values);
        assertEquals(2, row.classIndex);
        assertNull(TextParsers.parseLibsvm(" \t", layout));
        assertEquals(0, TextParsers.parseLibsvm("0", layout).indices.length);
    }

    @Test
    void libsvmBadRowsSayWhatWasExpectedAndFound() {
        LibsvmLayout layout = new LibsvmLayout(5, TargetKind.CLASS_INDEX, 3, 1.0);
        assertEquals("expected strictly ascending feature indices but found 2 after 3",
                bad(() -> TextParsers.parseLibsvm("1 3:1 2:1", layout)));
        assertEquals("expected strictly ascending feature indices but found 3 after 3",
                bad(() -> TextParsers.parseLibsvm("1 3:1 3:1", layout)));
        assertEquals("expected a feature index in 1..5 but found 6", bad(() -> TextParsers.parseLibsvm("1 6:1", layout)));
        assertEquals("expected a feature index in 1..5 but found 0", bad(() -> TextParsers.parseLibsvm("1 0:1", layout)));
        assertEquals("expected 'index:value' but found '4'", bad(() -> TextParsers.parseLibsvm("1 4", layout)));
        assertEquals("expected an integer feature index but found 'x' in 'x:1'",
                bad(() -> TextParsers.parseLibsvm("1 x:1", layout)));
        assertEquals("index 2: expected a finite feature value but found 'inf'",
                bad(() -> TextParsers.parseLibsvm("1 2:inf", layout)));
        assertEquals("label: expected a class label in [0, 3) but found '7'",
                bad(() -> TextParsers.parseLibsvm("7 1:1", layout)));
        assertEquals("label: expected an integer class label in [0, 3) but found '0.5'",
                bad(() -> TextParsers.parseLibsvm("0.5 1:1", layout)));
        assertEquals("expected a label before the features but found '1:1'",
                bad(() -> TextParsers.parseLibsvm("1:1 2:1", layout)));
        LibsvmLayout unbounded = new LibsvmLayout(0, TargetKind.CLASS_INDEX, 3, 1.0);
        assertArrayEquals(new int[] {999}, TextParsers.parseLibsvm("1 1000:1", unbounded).indices);
        assertEquals("expected a feature index in 1..2147483647 but found 99999999999",
                bad(() -> TextParsers.parseLibsvm("1 99999999999:1", unbounded)));
    }

    @Test
    void libsvmMultiLabelListsSetPositions() {
        LibsvmLayout layout = new LibsvmLayout(4, TargetKind.MULTI_LABEL, 4, 1.0);
        assertArrayEquals(new double[] {0, 1, 0, 1}, TextParsers.parseLibsvm("1,3 2:5", layout).targets);
        ParsedRow none = TextParsers.parseLibsvm("2:5 4:1", layout);
        assertArrayEquals(new double[] {0, 0, 0, 0}, none.targets);
        assertArrayEquals(new int[] {1, 3}, none.indices);
        assertEquals("expected distinct class indices in the label list but found 3 twice in '3,3'",
                bad(() -> TextParsers.parseLibsvm("3,3 1:1", layout)));
        assertEquals("label list '1,4': expected a class label in [0, 4) but found '4'",
                bad(() -> TextParsers.parseLibsvm("1,4 1:1", layout)));
        LibsvmLayout regression = new LibsvmLayout(4, TargetKind.REGRESSION, 1, 1.0);
        assertArrayEquals(new double[] {-0.25}, TextParsers.parseLibsvm("-0.25 1:1", regression).targets);
    }
}
