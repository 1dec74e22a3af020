package io.sparkprop.spark.cli;

import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.Precision;
import io.sparkprop.core.io.Model;
import io.sparkprop.core.onnx.OnnxExport;
import io.sparkprop.spark.session.ModelFiles;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * {@code export --model M --output F [--format onnx] [--precision float32|float64]}: a model file
 * written in a format other runtimes serve, today ONNX ({@link OnnxExport}), with the model's
 * feature scaling folded in. Needs no Spark: it reads and writes through Hadoop's file systems.
 */
public final class ExportCommand {

    /** The options export takes, each at most once. */
    public static final List<String> OPTIONS = List.of("--model", "--output", "--format", "--precision");

    /** What to write. */
    public enum Format {
        ONNX
    }

    /** A parsed, checked export command line. */
    public record Options(String model, String output, Format format, Precision precision) {

        public Options {
            if (model == null) {
                throw new IllegalArgumentException("export needs --model, the model file to export");
            }
            if (output == null) {
                throw new IllegalArgumentException("export needs --output, the file to write");
            }
        }

        /** The options after {@code export}; throws naming the option and the valid values. */
        public static Options parse(String[] args) {
            Map<String, String> given = new LinkedHashMap<>();
            for (int i = 0; i < args.length; i++) {
                String option = args[i];
                if (!OPTIONS.contains(option)) {
                    throw new IllegalArgumentException("Unknown option '" + option + "' for export; expected "
                            + String.join(", ", OPTIONS));
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("Option " + option + " needs a value");
                }
                if (given.put(option, args[++i]) != null) {
                    throw new IllegalArgumentException("Option " + option + " is given twice");
                }
            }
            String format = given.getOrDefault("--format", "onnx");
            if (!format.toLowerCase(Locale.ROOT).equals("onnx")) {
                throw new IllegalArgumentException("Unknown export format '" + format + "'; expected onnx");
            }
            String precision = given.getOrDefault("--precision", "float32");
            Precision type;
            try {
                type = Precision.of(precision);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Option --precision: " + e.getMessage(), e);
            }
            return new Options(given.get("--model"), given.get("--output"), Format.ONNX, type);
        }
    }

    private ExportCommand() {
    }

    /** Exports as {@code options} say; returns the line that tells what was written. */
    public static String run(Options options, Configuration conf) {
        Model model = ModelFiles.read(options.model(), conf);
        String written = ModelFiles.writeOnnx(model, options.precision(), options.output(), conf);
        return "Wrote " + written + ": ONNX opset " + OnnxExport.OPSET + ", " + describe(model.spec(),
                options.precision()) + "; feature scaling folded in: "
                + model.metadata().getOrDefault(ModelFiles.SCALING, "none");
    }

    /** The graph's input and outputs with their types and shapes. */
    static String describe(NetworkSpec spec, Precision precision) {
        String values = precision.name().toLowerCase(Locale.ROOT) + " (batch, " + spec.outputSize() + ")";
        String outputs = switch (spec.loss()) {
            case SOFTMAX_CROSS_ENTROPY -> OnnxExport.RAW_PREDICTION + " " + values + ", " + OnnxExport.PROBABILITY
                    + " " + values + ", " + OnnxExport.PREDICTION + " int64 (batch)";
            case BINARY_CROSS_ENTROPY -> OnnxExport.RAW_PREDICTION + " " + values + ", " + OnnxExport.PROBABILITY
                    + " " + values + ", " + OnnxExport.PREDICTION + " " + values + " of 0 and 1";
            case MSE -> OnnxExport.PREDICTION + " " + values;
        };
        return "input " + OnnxExport.FEATURES + " " + precision.name().toLowerCase(Locale.ROOT) + " (batch, "
                + spec.inputSize() + "), outputs " + outputs;
    }
}
