package io.sparkprop.spark.data;

import io.sparkprop.spark.data.InputFiles.InputFile;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;
import org.apache.hadoop.mapreduce.Job;
import org.apache.hadoop.mapreduce.lib.input.FileInputFormat;
import org.apache.hadoop.mapreduce.lib.input.FileSplit;
import org.apache.hadoop.mapreduce.lib.input.TextInputFormat;
import org.apache.spark.api.java.JavaNewHadoopRDD;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import scala.Tuple2;

/**
 * Reads line-oriented text files (CSV, LIBSVM) into keyed rows with Hadoop's
 * {@link TextInputFormat}, so large files are split across tasks and {@code .gz} and other codec
 * files are decompressed by extension, as {@code textFile} does.
 *
 * <p>Each line's key is {@code fileIndex << 40 | byteOffset}: the index of its file in the sorted
 * file list and the byte offset of the line in the (uncompressed) file. It names the row for
 * determinism and, with the file's URI, for errors: the line number within the file when the
 * Hadoop split starts at byte 0 (every small or compressed file), else "line at byte offset N".
 * Blank lines are not rows. With a header, the first line of every file must equal the first
 * file's header. It does not know the formats: a {@link LineParser} does.
 */
final class TextSource {

    /** Bits of the row key that hold the byte offset within the file. */
    static final int OFFSET_BITS = 40;

    /** One line to one row; {@code null} for a blank line; {@link BadRowException} for a bad one. */
    @FunctionalInterface
    interface LineParser extends Serializable {
        ParsedRow parse(String line);
    }

    /** The columns of CSV data, from the first file that has a line, and which file that was. */
    record FirstLine(String file, List<String> fields) {
    }

    private TextSource() {
    }

    /**
     * Every row of {@code files}, keyed. A bad row throws {@link IllegalArgumentException} naming
     * the file and line under {@link BadRowPolicy#FAIL}, and becomes {@link ParsedRow#bad} under
     * SKIP. {@code header}, when not null, is the field list every file's first line must match.
     */
    static JavaPairRDD<Long, ParsedRow> keyedRows(JavaSparkContext sc, List<InputFile> files, LineParser parser,
                                                  String[] header, char delimiter, String headerFile,
                                                  BadRowPolicy policy) {
        return keyedRows(sc, files, parser, header, delimiter, headerFile, policy, false);
    }

    /**
     * {@link #keyedRows(JavaSparkContext, List, LineParser, String[], char, String, BadRowPolicy)},
     * and with {@code scoring} every file is read whole by one task (one Hadoop split), so that
     * every line has its number, which each row (good or bad) then carries ({@link ParsedRow#row}).
     */
    static JavaPairRDD<Long, ParsedRow> keyedRows(JavaSparkContext sc, List<InputFile> files, LineParser parser,
                                                  String[] header, char delimiter, String headerFile,
                                                  BadRowPolicy policy, boolean scoring) {
        Map<String, Integer> indexOf = new HashMap<>();
        Path[] paths = new Path[files.size()];
        for (int i = 0; i < files.size(); i++) {
            indexOf.put(files.get(i).uri(), i);
            paths[i] = new Path(files.get(i).uri());
        }
        Configuration conf;
        try {
            Job job = Job.getInstance(new Configuration(sc.hadoopConfiguration()));
            FileInputFormat.setInputPaths(job, paths);
            if (scoring) {
                FileInputFormat.setMinInputSplitSize(job, Long.MAX_VALUE);
            }
            conf = job.getConfiguration();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot set up reading " + files.get(0).uri() + " and "
                    + (files.size() - 1) + " more file(s): " + e.getMessage(), e);
        }
        JavaNewHadoopRDD<LongWritable, Text> lines = (JavaNewHadoopRDD<LongWritable, Text>)
                sc.newAPIHadoopRDD(conf, TextInputFormat.class, LongWritable.class, Text.class);
        JavaPairRDD<Long, ParsedRow> keyed = lines.<Tuple2<Long, ParsedRow>>mapPartitionsWithInputSplit(
                (split, records) -> {
                    FileSplit fileSplit = (FileSplit) split;
                    String file = fileSplit.getPath().toString();
                    Integer index = indexOf.get(file);
                    if (index == null) {
                        throw new IllegalStateException("Hadoop read " + file + ", which is not among the "
                                + indexOf.size() + " listed input files");
                    }
                    if (scoring && fileSplit.getStart() != 0) {
                        throw new IllegalStateException("Hadoop split " + file + " at byte " + fileSplit.getStart()
                                + " although scoring reads every file whole");
                    }
                    return new KeyedLines(records, file, index, fileSplit.getStart() == 0, parser, header,
                            delimiter, headerFile, policy, scoring);
                }, false).mapToPair(t -> t);
        return keyed;
    }

    /**
     * The fields of the first line of the first file that has one (with a header: the first line,
     * which must not be blank; without: the first non-blank line), read on the driver.
     */
    static FirstLine firstLine(List<InputFile> files, Configuration conf, char delimiter, boolean header) {
        CompressionCodecFactory codecs = new CompressionCodecFactory(conf);
        for (InputFile file : files) {
            Path path = new Path(file.uri());
            try (InputStream raw = open(path, conf, codecs);
                 BufferedReader reader = new BufferedReader(new InputStreamReader(raw, StandardCharsets.UTF_8))) {
                String line = reader.readLine();
                if (header) {
                    if (line == null) {
                        continue;
                    }
                    if (line.isBlank()) {
                        throw new IllegalArgumentException("CSV file " + file.uri() + " line 1: expected the header"
                                + " (csvHeader is set) but found a blank line");
                    }
                    return new FirstLine(file.uri(), Arrays.asList(fields(line, delimiter, file.uri() + " line 1")));
                }
                int number = 1;
                while (line != null && line.isBlank()) {
                    line = reader.readLine();
                    number++;
                }
                if (line != null) {
                    return new FirstLine(file.uri(), Arrays.asList(fields(line, delimiter,
                            file.uri() + " line " + number)));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read " + file.uri() + ": " + e.getMessage(), e);
            }
        }
        throw new IllegalArgumentException("No lines in " + files.size() + " input file(s) starting with "
                + files.get(0).uri());
    }

    /** The fields of a line read on the driver; a bad line is an error naming {@code where} (file and line). */
    private static String[] fields(String line, char delimiter, String where) {
        try {
            return CsvFields.split(line, delimiter);
        } catch (BadRowException e) {
            throw new IllegalArgumentException("CSV file " + where + ": " + e.getMessage());
        }
    }

    private static InputStream open(Path path, Configuration conf, CompressionCodecFactory codecs)
            throws IOException {
        InputStream in = path.getFileSystem(conf).open(path);
        CompressionCodec codec = codecs.getCodec(path);
        return codec == null ? in : codec.createInputStream(in);
    }

    /** The rows of one Hadoop split, parsed lazily as the task pulls them. */
    private static final class KeyedLines implements Iterator<Tuple2<Long, ParsedRow>> {

        private final Iterator<Tuple2<LongWritable, Text>> records;
        private final String file;
        private final long fileKey;
        private final boolean numbered;
        private final LineParser parser;
        private final String[] header;
        private final char delimiter;
        private final String headerFile;
        private final BadRowPolicy policy;
        private final boolean scoring;
        private long lineNumber;
        private Tuple2<Long, ParsedRow> next;

        KeyedLines(Iterator<Tuple2<LongWritable, Text>> records, String file, int fileIndex, boolean numbered,
                   LineParser parser, String[] header, char delimiter, String headerFile, BadRowPolicy policy,
                   boolean scoring) {
            this.records = records;
            this.file = file;
            this.fileKey = (long) fileIndex << OFFSET_BITS;
            this.numbered = numbered;
            this.parser = parser;
            this.header = header;
            this.delimiter = delimiter;
            this.headerFile = headerFile;
            this.policy = policy;
            this.scoring = scoring;
        }

        @Override
        public boolean hasNext() {
            while (next == null && records.hasNext()) {
                Tuple2<LongWritable, Text> record = records.next();
                long offset = record._1().get();
                String line = record._2().toString();
                lineNumber++;
                if (offset >= 1L << OFFSET_BITS) {
                    throw new IllegalArgumentException(file + " " + location(offset) + ": files larger than 2^"
                            + OFFSET_BITS + " bytes (uncompressed) are not supported; split the file");
                }
                if (header != null && offset == 0) {
                    checkHeader(line);
                    continue;
                }
                ParsedRow row;
                try {
                    row = parser.parse(line);
                } catch (BadRowException e) {
                    String reason = file + " " + location(offset) + ": " + e.getMessage();
                    if (policy == BadRowPolicy.FAIL) {
                        throw new IllegalArgumentException(reason);
                    }
                    row = ParsedRow.bad(reason);
                }
                if (row != null) {
                    next = new Tuple2<>(fileKey | offset, scoring ? row.atRow(lineNumber) : row);
                }
            }
            return next != null;
        }

        @Override
        public Tuple2<Long, ParsedRow> next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Tuple2<Long, ParsedRow> row = next;
            next = null;
            return row;
        }

        private String location(long offset) {
            return numbered ? "line " + lineNumber : "line at byte offset " + offset;
        }

        private void checkHeader(String line) {
            String[] found = fields(line, delimiter, file + " line 1");
            if (!Arrays.equals(found, header)) {
                throw new IllegalArgumentException("CSV file " + file + " line 1: expected the header of " + headerFile
                        + " " + Arrays.toString(header) + " but found " + Arrays.toString(found));
            }
        }
    }
}
