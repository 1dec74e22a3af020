package io.sparkprop.spark.cli;

import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.Precision;
import io.sparkprop.core.io.Model;
import io.sparkprop.core.onnx.OnnxExport;
import io.sparkprop.spark.session.ModelFiles;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;

/**
 * {@code export --model M --output F [--format onnx] [--precision float32|float64]}: a model file
 * written in a format other runtimes serve, today ONNX ({@link OnnxExport}), with the model's
 * feature scaling folded in. Needs no Spark: it reads and writes through Hadoop's file systems.
 */
public final class ExportCommand {

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

        /**
         * The command's option values as given ({@code null} where absent: format onnx, precision
         * float32), converted and checked; throws naming the option and the valid values. Which
         * options exist and how often they may appear is the command line's grammar
         * ({@code Arguments.Export}).
         */
        public static Options of(String model, String output, String format, String precision) {
            if (format != null && !format.toLowerCase(Locale.ROOT).equals("onnx")) {
                throw new IllegalArgumentException("Unknown export format '" + format + "'; expected onnx");
            }
            Precision type;
            try {
                type = Precision.of(precision == null ? "float32" : precision);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Option --precision: " + e.getMessage(), e);
            }
            return new Options(model, output, Format.ONNX, type);
        }
    }

    private ExportCommand() {
    }

    /** Exports as {@code options} say; returns the line that tells what was written. */
    public static String run(Options options, Configuration conf) {
        OutputGuard.of("export", "--output", options.output(), conf)
                .reads("--model " + options.model(), options.model()).check();
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
