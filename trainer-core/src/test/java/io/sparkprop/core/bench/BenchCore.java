package io.sparkprop.core.bench;

import io.sparkprop.core.Blas;
import java.util.Collection;
import java.util.Locale;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link StepBenchmark} with JMH and prints, per batch size, the training step's examples/s
 * and GFLOP/s next to the plain {@code dgemm}'s GFLOP/s from the same run, and the BLAS in use.
 * Arguments: {@code [forks] [measurementIterations]} (defaults 1 and 5). With {@code sparse} or
 * {@code kernels} first: {@link SparseStepBenchmark}'s lazy sparse step, or
 * {@link io.sparkprop.core.MaskKernelBenchmark}'s ReLU and dropout-mask kernels next to their
 * comparison-form peers, instead.
 */
public final class BenchCore {

    private BenchCore() {
    }

    public static void main(String[] args) throws RunnerException {
        if (args.length > 0 && "kernels".equals(args[0])) {
            kernels(args.length > 1 ? Integer.parseInt(args[1]) : 1, args.length > 2 ? Integer.parseInt(args[2]) : 5);
            return;
        }
        if (args.length > 0 && "sparse".equals(args[0])) {
            sparse(args.length > 1 ? Integer.parseInt(args[1]) : 1, args.length > 2 ? Integer.parseInt(args[2]) : 5);
            return;
        }
        int forks = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        int iterations = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Collection<RunResult> results = run(StepBenchmark.class, forks, iterations);

        System.out.println();
        System.out.println("BLAS implementation: " + Blas.implementationName());
        System.out.printf(Locale.ROOT, "%-6s %-18s %12s %14s %10s %10s%n", "batch", "benchmark", "us/op", "examples/s",
                "GFLOP/s", "vs gemm");
        for (String batch : new String[] {"128", "1024"}) {
            int n = Integer.parseInt(batch);
            double[] gemmGflops = new double[2];
            String[] gemms = {"dgemm", "sgemm"};
            for (int p = 0; p < 2; p++) {
                double gemmUs = score(results, gemms[p], batch, "float64");
                gemmGflops[p] = StepBenchmark.gemmFlops(n) / (gemmUs * 1e3);
                System.out.printf(Locale.ROOT, "%-6s %-18s %12.1f %14s %10.2f %10s%n", batch, gemms[p], gemmUs, "-",
                        gemmGflops[p], "100%");
            }
            double[] stepUs = new double[2];
            String[] precisions = {"float64", "float32"};
            for (int p = 0; p < 2; p++) {
                stepUs[p] = score(results, "trainStep", batch, precisions[p]);
                double stepGflops = StepBenchmark.stepFlops(n) / (stepUs[p] * 1e3);
                System.out.printf(Locale.ROOT, "%-6s %-18s %12.1f %14.0f %10.2f %9.0f%%%n", batch,
                        "trainStep " + precisions[p], stepUs[p], n / (stepUs[p] * 1e-6), stepGflops,
                        100 * stepGflops / gemmGflops[p]);
            }
            System.out.printf(Locale.ROOT, "%-6s float32 step is %.2fx the float64 step's speed (sgemm: %.2fx dgemm)%n",
                    batch, stepUs[0] / stepUs[1], gemmGflops[1] / gemmGflops[0]);
        }
    }

    /**
     * Runs {@link SparseStepBenchmark} and prints, per optimizer, the lazy step's time, examples/s
     * on one core and on two (twice one: the roof of a local[2] run's compute, before any exchange).
     */
    private static void sparse(int forks, int iterations) throws RunnerException {
        Collection<RunResult> results = run(SparseStepBenchmark.class, forks, iterations);
        System.out.println();
        System.out.printf(Locale.ROOT, "%-10s %-8s %-6s %12s %18s %18s%n", "optimizer", "width", "batch", "us/step",
                "examples/s, 1 core", "2 cores (roof)");
        for (RunResult result : results) {
            String opt = result.getParams().getParam("optimizer");
            int batch = Integer.parseInt(result.getParams().getParam("batch"));
            double us = result.getPrimaryResult().getScore();
            System.out.printf(Locale.ROOT, "%-10s %-8s %-6d %12.1f %18.0f %18.0f%n", opt,
                    result.getParams().getParam("width"), batch, us, batch / (us * 1e-6), 2 * batch / (us * 1e-6));
        }
    }

    /**
     * Runs {@link io.sparkprop.core.MaskKernelBenchmark} and prints each kernel's time next to its
     * comparison-form peer's, for both sign patterns, with the ratio.
     */
    private static void kernels(int forks, int iterations) throws RunnerException {
        Collection<RunResult> results = run(io.sparkprop.core.MaskKernelBenchmark.class, forks, iterations);
        System.out.println();
        System.out.println("Per call over a 64 x 384 step (MNIST's 256 + 128 hidden units); speed-up = comparison / mask."
                + " signs: mixed (a trained network's) or negative (every unit dead); the dropout draw reads none.");
        System.out.printf(Locale.ROOT, "%-14s %-9s %14s %16s %9s%n", "kernel", "signs", "us (mask)", "us (comparison)",
                "speed-up");
        for (String kernel : new String[] {"reluForward", "reluBackward", "dropoutMask"}) {
            boolean readsSigns = !kernel.equals("dropoutMask");
            for (String signs : readsSigns ? new String[] {"mixed", "negative"} : new String[] {"mixed"}) {
                double ours = kernelScore(results, kernel, signs);
                double peer = kernelScore(results, kernel + "Comparison", signs);
                System.out.printf(Locale.ROOT, "%-14s %-9s %14.1f %16.1f %8.2fx%n", kernel, readsSigns ? signs : "-",
                        ours, peer, peer / ours);
            }
        }
    }

    private static double kernelScore(Collection<RunResult> results, String method, String signs) {
        for (RunResult result : results) {
            if (result.getParams().getBenchmark().endsWith("." + method)
                    && signs.equals(result.getParams().getParam("signs"))) {
                return result.getPrimaryResult().getScore();
            }
        }
        throw new IllegalStateException("No JMH result for " + method + " with " + signs + " signs");
    }

    /** JMH on {@code benchmark}'s methods: 3 warm-up and {@code iterations} measured seconds per fork. */
    private static Collection<RunResult> run(Class<?> benchmark, int forks, int iterations) throws RunnerException {
        Options options = new OptionsBuilder()
                .include(benchmark.getName() + "\\.")
                .forks(forks)
                .warmupIterations(3)
                .warmupTime(TimeValue.seconds(1))
                .measurementIterations(iterations)
                .measurementTime(TimeValue.seconds(1))
                .jvmArgsAppend("--add-modules=jdk.incubator.vector")
                .build();
        return new Runner(options).run();
    }

    private static double score(Collection<RunResult> results, String method, String batch, String precision) {
        for (RunResult result : results) {
            if (result.getParams().getBenchmark().endsWith("." + method)
                    && batch.equals(result.getParams().getParam("batch"))
                    && precision.equals(result.getParams().getParam("precision"))) {
                return result.getPrimaryResult().getScore();
            }
        }
        throw new IllegalStateException("No JMH result for " + method + " at batch " + batch + ", " + precision);
    }
}
