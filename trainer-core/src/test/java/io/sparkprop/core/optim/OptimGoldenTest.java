package io.sparkprop.core.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sparkprop.core.Activation;
import io.sparkprop.core.Loss;
import io.sparkprop.core.NetworkSpec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Compares every optimizer and schedule with the committed output of
 * {@code src/test/resources/golden/optim/gen_optim.py}, an independent NumPy implementation of the
 * same formulas; the file's header describes its format. The Java code reads the file's initial
 * parameters and gradients, takes its learning rate from its own {@link LearningRateSchedule}, and
 * must reproduce the reference parameters after every step.
 *
 * <p>Every rate must match the reference's to a relative {@value #TOLERANCE}, not bit for bit:
 * {@code Math.pow} and {@code Math.cos} may differ from the C library in the last bit (on the JDK
 * and machine this was written on they agree exactly). SGD and momentum, with or without weight
 * decay, use only {@code +}, {@code -}, {@code *} in the same order as the reference, so they step
 * with the reference's rate and must reproduce it bit for bit on any IEEE 754 machine. Adam steps
 * with the Java schedule's rate and is held to {@value #TOLERANCE}, because its bias correction
 * uses {@code pow}.
 */
class OptimGoldenTest {

    private static final String RESOURCE = "/golden/optim/optim_golden.txt";
    private static final double TOLERANCE = 1e-12;

    /** Cases that step with the reference's rate and must reproduce its parameters bit for bit. */
    private static final Set<String> EXACT = Set.of("sgd", "momentum", "nesterov", "sgd_wd", "sgd_wd_all_ranges",
            "momentum_wd", "nesterov_wd");

    private record Block(Map<String, String> keys, List<double[]> rows) {
    }

    private static final class Golden {
        int paramCount;
        int[] decayRanges;
        double[] init;
        final List<double[]> grads = new ArrayList<>();
        final Map<String, Block> schedules = new LinkedHashMap<>();
        final Map<String, Block> cases = new LinkedHashMap<>();
    }

    private static final Golden GOLDEN = read();

    private static Golden read() {
        Golden golden = new Golden();
        try (InputStream in = OptimGoldenTest.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("Missing test resource " + RESOURCE);
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            Block current = null;
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split(" ");
                switch (f[0]) {
                    case "paramCount" -> golden.paramCount = Integer.parseInt(f[1]);
                    case "decayRanges" -> golden.decayRanges =
                            Arrays.stream(f, 1, f.length).mapToInt(Integer::parseInt).toArray();
                    case "init" -> golden.init = doubles(f, 1);
                    case "grad" -> golden.grads.add(doubles(f, 2));
                    case "schedule" -> golden.schedules.put(f[1], current = block(f));
                    case "rates" -> current.rows().add(doubles(f, 1));
                    case "case" -> golden.cases.put(f[1], current = block(f));
                    case "step" -> current.rows().add(doubles(f, 2));
                    default -> throw new IllegalStateException("Unknown record '" + f[0] + "' in " + RESOURCE);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read " + RESOURCE, e);
        }
        return golden;
    }

    private static double[] doubles(String[] fields, int from) {
        double[] values = new double[fields.length - from];
        for (int i = 0; i < values.length; i++) {
            values[i] = Double.parseDouble(fields[from + i]);
        }
        return values;
    }

    /** {@code NAME key=value ...} after the record tag. */
    private static Block block(String[] fields) {
        Map<String, String> keys = new HashMap<>();
        for (int i = 2; i < fields.length; i++) {
            int eq = fields[i].indexOf('=');
            keys.put(fields[i].substring(0, eq), fields[i].substring(eq + 1));
        }
        return new Block(keys, new ArrayList<>());
    }

    private static LearningRateSchedule schedule(Map<String, String> k) {
        double base = Double.parseDouble(k.get("base"));
        long period = Long.parseLong(k.get("period"));
        double gamma = Double.parseDouble(k.get("gamma"));
        LearningRateSchedule schedule = switch (k.get("kind")) {
            case "constant" -> LearningRateSchedule.constant(base);
            case "step" -> LearningRateSchedule.stepDecay(base, gamma, period);
            case "exponential" -> LearningRateSchedule.exponential(base, gamma, period);
            case "cosine" -> LearningRateSchedule.cosine(base, period, Double.parseDouble(k.get("min")));
            default -> throw new IllegalStateException("Unknown schedule kind " + k.get("kind"));
        };
        return schedule.withWarmup(Long.parseLong(k.get("warmup")));
    }

    private static Optimizer optimizer(Map<String, String> k, int paramCount, int[] decayRanges) {
        double wd = Double.parseDouble(k.get("wd"));
        int[] ranges = k.get("ranges").equals("all") ? null : decayRanges;
        double mu = Double.parseDouble(k.get("mu"));
        return switch (k.get("optimizer")) {
            case "sgd" -> new Sgd(paramCount, wd, ranges);
            case "momentum" -> new Momentum(paramCount, mu, false, wd, ranges);
            case "nesterov" -> new Momentum(paramCount, mu, true, wd, ranges);
            case "adam" -> new Adam(paramCount, Double.parseDouble(k.get("beta1")),
                    Double.parseDouble(k.get("beta2")), Double.parseDouble(k.get("eps")), wd, ranges);
            default -> throw new IllegalStateException("Unknown optimizer " + k.get("optimizer"));
        };
    }

    /** Relative difference, 0 when bit-identical. */
    private static double relativeError(double expected, double actual) {
        if (Double.doubleToLongBits(expected) == Double.doubleToLongBits(actual)) {
            return 0.0;
        }
        return Math.abs(expected - actual) / Math.max(Math.abs(expected), Math.abs(actual));
    }

    @Test
    void fileIsComplete() {
        assertEquals(7, GOLDEN.paramCount);
        assertEquals(GOLDEN.paramCount, GOLDEN.init.length);
        assertEquals(25, GOLDEN.grads.size());
        assertTrue(GOLDEN.schedules.size() >= 8, "schedules: " + GOLDEN.schedules.keySet());
        List<String> required = new ArrayList<>(List.of("adam", "adam_small_betas", "adamw"));
        required.addAll(EXACT);
        for (String name : required) {
            Block c = GOLDEN.cases.get(name);
            assertTrue(c != null, "missing case " + name);
            assertEquals(GOLDEN.grads.size(), c.rows().size(), "steps of case " + name);
        }
    }

    /** The file's decay ranges are what NetworkSpec gives a 2-1-2 network: biases 2, 5 and 6 stay. */
    @Test
    void decayRangesAreThoseOfA212Network() {
        NetworkSpec spec = NetworkSpec.of(new int[] {2, 1, 2}, Activation.TANH, Activation.SIGMOID,
                Loss.BINARY_CROSS_ENTROPY);
        assertEquals(GOLDEN.paramCount, spec.paramCount());
        assertArrayEquals(spec.weightRanges(), GOLDEN.decayRanges);
    }

    @TestFactory
    Stream<DynamicTest> schedulesMatchReference() {
        return GOLDEN.schedules.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
            LearningRateSchedule schedule = schedule(e.getValue().keys());
            double[] expected = e.getValue().rows().get(0);
            assertEquals(41, expected.length);
            for (int step = 0; step < expected.length; step++) {
                double actual = schedule.rate(step);
                double err = relativeError(expected[step], actual);
                if (err > TOLERANCE) {
                    fail(schedule + " at step " + step + ": expected " + expected[step] + " but got " + actual
                            + " (relative error " + err + ")");
                }
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> optimizersMatchReference() {
        return GOLDEN.cases.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
            String name = e.getKey();
            Map<String, String> keys = e.getValue().keys();
            LearningRateSchedule schedule = schedule(GOLDEN.schedules.get(keys.get("schedule")).keys());
            Optimizer optimizer = optimizer(keys, GOLDEN.paramCount, GOLDEN.decayRanges);
            double[] params = GOLDEN.init.clone();
            for (int step = 0; step < GOLDEN.grads.size(); step++) {
                double[] row = e.getValue().rows().get(step);
                double rate = schedule.rate(step);
                assertTrue(relativeError(row[0], rate) <= TOLERANCE,
                        name + " step " + step + ": rate " + rate + " but the reference used " + row[0]);
                double[] grad = GOLDEN.grads.get(step).clone();
                optimizer.step(params, grad, EXACT.contains(name) ? row[0] : rate);
                assertArrayEquals(GOLDEN.grads.get(step), grad, name + " step " + step + " changed its gradient");
                for (int i = 0; i < params.length; i++) {
                    double expected = row[1 + i];
                    double err = relativeError(expected, params[i]);
                    if (err > TOLERANCE || (EXACT.contains(name) && err != 0.0)) {
                        fail(name + " (" + optimizer + ", " + schedule + ") step " + step + " param " + i
                                + ": expected " + expected + " but got " + params[i] + " (relative error " + err + ")");
                    }
                }
            }
        }));
    }
}
