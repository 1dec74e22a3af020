package io.sparkprop.bench;

import io.sparkprop.core.Blas;
import io.sparkprop.core.DataBlock;
import io.sparkprop.core.GradientAccumulator;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.SplitMix64;
import io.sparkprop.core.WeightInit;
import io.sparkprop.core.Workspace;
import io.sparkprop.core.optim.Adam;
import java.util.Arrays;
import java.util.Locale;

/**
 * The roof: the core's training step alone (no Spark; forward, backward, mean and an Adam update on
 * {@code batch} rows, one thread) next to a plain {@code dgemm} of the first layer's shape
 * ({@code 256x784 · 784xbatch} for MNIST) with the same BLAS, in the same JVM. Each is timed over
 * repetitions after a warm-up; the median is reported. FLOPs count the three matrix products per
 * layer (forward, weight gradient, input gradient except the first layer's); activations and the
 * update are not counted, so the fraction is what the step achieves of the BLAS it calls.
 */
public final class Roof {

    /** One measurement. */
    public record Result(int batch, double stepMs, double stepGflops, double gemmMs, double gemmGflops) {

        public double fraction() {
            return stepGflops / gemmGflops;
        }

        /** The step's matrix FLOPs per example (the count above). */
        public double flopsPerExample() {
            return stepGflops * 1e9 * (stepMs / 1e3) / batch;
        }

        public double examplesPerSec() {
            return batch / (stepMs / 1e3);
        }

        public String toJson() {
            return String.format(Locale.ROOT, "{\"batch\":%d,\"step_ms\":%.4f,\"step_gflops\":%.3f,\"examples_per_sec\":%.1f,"
                    + "\"dgemm_ms\":%.4f,\"dgemm_gflops\":%.3f,\"fraction\":%.4f}", batch, stepMs, stepGflops,
                    examplesPerSec(), gemmMs, gemmGflops, fraction());
        }
    }

    private Roof() {
    }

    /** Measures {@code spec}'s step at {@code batch} rows, about {@code seconds} per side after warm-up. */
    public static Result measure(NetworkSpec spec, int batch, double seconds) {
        int in = spec.inputSize();
        int out = spec.outputSize();
        SplitMix64 random = new SplitMix64(7);
        double[] x = new double[batch * in];
        double[] y = new double[batch * out];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextDouble();
        }
        for (int r = 0; r < batch; r++) {
            y[r * out + (int) (random.nextDouble() * out)] = 1;
        }
        DataBlock block = new DataBlock(batch, in, out, x, y, null);
        int[] order = new int[batch];
        for (int i = 0; i < batch; i++) {
            order[i] = i;
        }
        Network network = new Network(spec);
        Workspace ws = new Workspace(spec, batch);
        double[] params = WeightInit.initialize(spec, 1);
        GradientAccumulator acc = new GradientAccumulator(spec.paramCount());
        double[] grad = new double[spec.paramCount()];
        Adam adam = new Adam(spec.paramCount());
        Runnable step = () -> {
            acc.reset().add(network, params, ws.gather(block, order, 0, batch));
            acc.mean(network, params, 0.0, grad);
            adam.step(params, grad, 1e-6);
        };
        int hidden = spec.layers().get(0).numOut();
        double[] a = new double[hidden * in];
        double[] c = new double[hidden * batch];
        Arrays.fill(a, 0.5);
        Runnable gemm = () -> Blas.get().dgemm("N", "N", hidden, batch, in, 1.0, a, hidden, x, in, 0.0, c, hidden);
        double stepMs = medianMs(step, seconds);
        double gemmMs = medianMs(gemm, seconds);
        double flops = 0;
        for (int k = 0; k < spec.layers().size(); k++) {
            double mac = (double) spec.layers().get(k).numIn() * spec.layers().get(k).numOut();
            flops += 2.0 * batch * mac * (k == 0 ? 2 : 3);
        }
        double gemmFlops = 2.0 * hidden * in * batch;
        return new Result(batch, stepMs, flops / (stepMs * 1e6), gemmMs, gemmFlops / (gemmMs * 1e6));
    }

    private static double medianMs(Runnable task, double seconds) {
        long warmEnd = System.nanoTime() + (long) (seconds * 0.5e9);
        while (System.nanoTime() < warmEnd) {
            task.run();
        }
        double[] samples = new double[4096];
        int n = 0;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (n < samples.length && (n < 5 || System.nanoTime() < end)) {
            long t = System.nanoTime();
            task.run();
            samples[n++] = (System.nanoTime() - t) / 1e6;
        }
        double[] sorted = Arrays.copyOf(samples, n);
        Arrays.sort(sorted);
        return sorted[n / 2];
    }
}
