package io.sparkprop.spark.data;

import com.univocity.parsers.csv.CsvFormat;
import com.univocity.parsers.csv.CsvParser;
import com.univocity.parsers.csv.CsvParserSettings;
import java.io.Serializable;

/**
 * Splits one line of CSV text into its fields, RFC 4180 style, with univocity-parsers (the parser
 * Spark's own CSV source uses; it is on Spark's classpath, so the job jar does not carry it).
 * What pandas' {@code to_csv} and spreadsheets write reads as they meant it:
 * <ul>
 *   <li>a field in double quotes may hold the delimiter, and {@code ""} inside it is one quote:
 *       {@code "a,b","say ""hi"""} is the two fields {@code a,b} and {@code say "hi"};</li>
 *   <li>unquoted fields are trimmed of surrounding spaces and tabs; quoted fields keep theirs;</li>
 *   <li>an empty field, quoted or not, is {@code ""} (never {@code null}); {@code a,,b} has an
 *       empty middle field;</li>
 *   <li>a {@code #} is an ordinary character (no comment lines in data).</li>
 * </ul>
 * Not supported: a quoted field that spans lines. Records are lines, because Hadoop's line reader
 * is what splits big files across tasks, so a quote still open at the end of a line is a
 * {@link BadRowException} (the caller adds the file and line).
 *
 * <p>Not thread-safe in the sense of parallel calls: {@link #split} is synchronized, and each
 * Spark task deserializes its own copy, so tasks never wait on one another.
 */
final class CsvFields implements Serializable {

    private static final long serialVersionUID = 1L;

    private final char delimiter;
    /** The parser, built on first use in each JVM (univocity's parser is not serializable). */
    private transient CsvParser parser;
    /** The most fields {@link #parser} accepts (univocity allocates that many slots up front). */
    private transient int capacity;

    /**
     * @throws IllegalArgumentException when {@code delimiter} is the quote character or a line break
     */
    CsvFields(char delimiter) {
        if (delimiter == '"' || delimiter == '\n' || delimiter == '\r') {
            throw new IllegalArgumentException("The CSV delimiter must not be a double quote or a line break but got '"
                    + delimiter + "'");
        }
        this.delimiter = delimiter;
    }

    /** The fields of {@code line} (no line break in it), as the class comment describes. */
    static String[] split(String line, char delimiter) {
        return new CsvFields(delimiter).split(line);
    }

    /**
     * The fields of {@code line}: at least one, at most one more than the delimiters in it.
     *
     * @throws BadRowException when a quoted field is not closed on this line
     */
    synchronized String[] split(String line) {
        int quotes = 0;
        int bound = 1;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '"') {
                quotes++;
            } else if (c == delimiter) {
                bound++;
            }
        }
        // Every well-formed quoted field has an even number of quotes: open, close, and doubled ones.
        if (quotes % 2 != 0) {
            throw new BadRowException("expected every quoted field to close on its line but found an odd number ("
                    + quotes + ") of double quotes; a quoted field cannot span lines");
        }
        if (parser == null || bound > capacity) {
            capacity = Math.max(bound, Math.max(64, 2 * capacity));
            parser = newParser(delimiter, capacity);
        }
        String[] fields = parser.parseLine(line);
        if (fields == null) { // univocity's answer for an empty line: one empty field, as for "a" without a delimiter
            return new String[] {""};
        }
        return fields;
    }

    private static CsvParser newParser(char delimiter, int maxColumns) {
        CsvParserSettings settings = new CsvParserSettings();
        CsvFormat format = settings.getFormat();
        format.setDelimiter(delimiter);
        format.setQuote('"');
        format.setQuoteEscape('"');
        format.setComment('\0');
        settings.setMaxColumns(maxColumns);
        settings.setMaxCharsPerColumn(-1);
        settings.setIgnoreLeadingWhitespaces(true);
        settings.setIgnoreTrailingWhitespaces(true);
        settings.setIgnoreLeadingWhitespacesInQuotes(false);
        settings.setIgnoreTrailingWhitespacesInQuotes(false);
        settings.setNullValue("");
        settings.setEmptyValue("");
        settings.setSkipEmptyLines(false);
        settings.setLineSeparatorDetectionEnabled(false);
        return new CsvParser(settings);
    }
}
