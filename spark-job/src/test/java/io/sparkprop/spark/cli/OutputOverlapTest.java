package io.sparkprop.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writers never delete or replace what they read: {@code predict --output} (with and without
 * {@code --overwrite}) that is an input file, contains one (directly or through a glob), lies
 * inside an input directory, or is or contains the model; {@code evaluate --output} that is the
 * test data or the model; {@code export --output} that is the model. Each is refused with both
 * paths named, and the files are still there, unchanged, afterwards.
 */
class OutputOverlapTest {

    private static final String DATA = "id,label,x1,x2\na,1,2,3\nb,2,1,0\n";

    @TempDir
    Path dir;

    private Path model() throws Exception {
        NetworkSpec spec = NetworkSpec.of(new int[] {2, 1}, Activation.IDENTITY, Activation.IDENTITY, Loss.MSE);
        Path file = dir.resolve("models").resolve("linear.spm");
        Files.createDirectories(file.getParent());
        ModelCodec.write(new Model(spec, new double[] {0.5, -2.0, 1.0}), file);
        return file;
    }

    private Path write(String relative, String text) throws Exception {
        Path file = dir.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
        return file;
    }

    private Path config() throws Exception {
        return write("predict.conf", "data.format = csv\ndata.feature-columns = x1,x2\n");
    }

    private void assertRefused(String[] args, String output, String read) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Main.run(SparkTestSupport.spark(), args));
        assertTrue(e.getMessage().contains(output) && e.getMessage().contains(read)
                && e.getMessage().contains("nothing was deleted"), e.getMessage());
    }

    private String[] predict(Path conf, Path model, String input, String output, boolean overwrite) {
        List<String> args = new java.util.ArrayList<>(List.of("predict", "--config", conf.toString(), "--model",
                model.toString(), "--input", input, "--output", output, "--passthrough", "id"));
        if (overwrite) {
            args.add("--overwrite");
        }
        return args.toArray(new String[0]);
    }

    @Test
    void predictRefusesAnOutputThatIsContainsOrIsInsideAnInputOrTheModel() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path conf = config();
        Path model = model();
        byte[] modelBytes = Files.readAllBytes(model);
        Path in = write("sub/in.csv", DATA);
        Path other = write("sub/unrelated.txt", "keep me\n");
        for (boolean overwrite : new boolean[] {false, true}) {
            // The input file itself, the directory holding it (relative, with ".."), through a glob.
            assertRefused(predict(conf, model, in.toString(), in.toString(), overwrite), in.toString(), "in.csv");
            assertRefused(predict(conf, model, in.toString(), dir.resolve("sub").toString(), overwrite),
                    dir.resolve("sub").toString(), "in.csv");
            assertRefused(predict(conf, model, in.toString(), dir.resolve("sub/x/..").toString(), overwrite),
                    "sub", "in.csv");
            assertRefused(predict(conf, model, dir.resolve("sub/*.csv").toString(), dir.resolve("sub").toString(),
                    overwrite), "sub", "in.csv");
            // Inside an input directory; the model file, and the directory holding it.
            assertRefused(predict(conf, model, dir.resolve("sub").toString(), dir.resolve("sub/out").toString(),
                    overwrite), "sub/out", "sub");
            assertRefused(predict(conf, model, in.toString(), model.toString(), overwrite), model.toString(),
                    "--model");
            assertRefused(predict(conf, model, in.toString(), model.getParent().toString(), overwrite),
                    model.getParent().toString(), "--model");
        }
        assertEquals(DATA, Files.readString(in));
        assertEquals("keep me\n", Files.readString(other));
        assertTrue(java.util.Arrays.equals(modelBytes, Files.readAllBytes(model)));
        assertTrue(!Files.exists(dir.resolve("sub/out")));

        // A sibling whose name starts with the input directory's is not inside it.
        Path out = dir.resolve("sub-out");
        assertEquals(0, Main.run(spark, predict(conf, model, dir.resolve("sub/*.csv").toString(), out.toString(),
                false)));
        assertEquals(2, spark.read().parquet(out.toString()).count());
    }

    @Test
    void evaluateAndExportRefuseToWriteOverTheirDataOrModel() throws Exception {
        Path model = model();
        byte[] modelBytes = Files.readAllBytes(model);
        Path test = write("test/data.csv", DATA);
        Path conf = write("evaluate.conf", "data.format = csv\ndata.feature-columns = x1,x2\ndata.test = " + test
                + "\n");
        assertRefused(new String[] {"evaluate", "--config", conf.toString(), "--model", model.toString(), "--output",
            test.toString()}, test.toString(), "data.test");
        assertRefused(new String[] {"evaluate", "--config", conf.toString(), "--model", model.toString(), "--output",
            model.toString()}, model.toString(), "--model");
        assertRefused(new String[] {"export", "--model", model.toString(), "--output", model.toString()},
                model.toString(), "--model");
        assertEquals(DATA, Files.readString(test));
        assertTrue(java.util.Arrays.equals(modelBytes, Files.readAllBytes(model)));
    }
}
