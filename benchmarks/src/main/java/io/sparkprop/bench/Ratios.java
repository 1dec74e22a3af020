package io.sparkprop.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The ratios {@code scripts/bench} closes with for the default run (issue 18's goals), all from
 * figures measured in the same run:
 * <ul>
 *   <li>{@code toTorch}: sparkprop's seconds to the target accuracy over PyTorch's (both sum the
 *       training seconds of the epochs up to the first that reaches it; loading and evaluation
 *       are not timed on either side);</li>
 *   <li>{@code firstToLater}: the first epoch's training seconds over the mean of the later
 *       epochs' (the warm-up: JIT, class loading, heap growth);</li>
 *   <li>{@code epochToRoof}: the mean later epoch over the {@code dgemm} roof of the tasks
 *       computing at once (two in {@code local[2]}): the epoch's matrix FLOPs at {@code cores}
 *       times the {@code dgemm} rate measured at a local step's batch
 *       ({@code roofEpochSeconds});</li>
 *   <li>{@code taskStepToCore}: a local step inside a Spark task (the median round's task time
 *       over its {@code k} steps) over the core's step alone at the same batch ({@link Roof}).</li>
 * </ul>
 * A ratio whose inputs are missing (no PyTorch, one epoch, a run that never reached the target)
 * is NaN.
 *
 * @param secondsToTarget  sparkprop's seconds to the target; NaN when not reached
 * @param torchSeconds     PyTorch's seconds to the target; NaN when not run or not reached
 * @param firstEpochSeconds the first epoch's training seconds
 * @param laterEpochSeconds the mean of the later epochs' training seconds; NaN with one epoch
 * @param roofEpochSeconds  an epoch's matrix FLOPs over {@code cores × dgemm} FLOP/s
 * @param taskStepMs       a local step inside a task, ms
 * @param coreStepMs       the core's step alone at the same batch, ms
 */
public record Ratios(double secondsToTarget, double torchSeconds, double firstEpochSeconds,
                     double laterEpochSeconds, double roofEpochSeconds, double taskStepMs, double coreStepMs) {

    /**
     * The roof of one epoch, seconds: {@code rows × flopsPerExample / (cores × dgemmGflops × 1e9)}.
     *
     * @param rows            training rows per epoch
     * @param flopsPerExample the step's matrix FLOPs per example ({@link Roof}'s count)
     * @param cores           cores computing at once (the Spark tasks of a round)
     * @param dgemmGflops     one core's {@code dgemm} rate at a local step's batch, GFLOP/s
     */
    public static double roofEpochSeconds(long rows, double flopsPerExample, int cores, double dgemmGflops) {
        if (rows <= 0 || !(flopsPerExample > 0) || cores <= 0 || !(dgemmGflops > 0)) {
            throw new IllegalArgumentException("Expected positive rows, FLOPs per example, cores and dgemm rate but got "
                    + rows + ", " + flopsPerExample + ", " + cores + ", " + dgemmGflops);
        }
        return rows * flopsPerExample / (cores * dgemmGflops * 1e9);
    }

    /**
     * The median number of steps in an epoch's rounds: {@code ⌊S/k⌋} rounds of {@code k} steps and
     * one of {@code S mod k} when that is not 0 (a round's median task time over this is a local
     * step's time).
     *
     * @throws IllegalArgumentException when {@code stepsPerEpoch} or {@code k} is not positive
     */
    public static double medianRoundSteps(int stepsPerEpoch, int k) {
        if (stepsPerEpoch <= 0 || k <= 0) {
            throw new IllegalArgumentException("Expected positive steps per epoch and k but got " + stepsPerEpoch
                    + " and " + k);
        }
        int[] rounds = new int[(stepsPerEpoch + k - 1) / k];
        for (int r = 0; r < rounds.length; r++) {
            rounds[r] = Math.min(k, stepsPerEpoch - r * k);
        }
        java.util.Arrays.sort(rounds);
        int n = rounds.length;
        return n % 2 == 1 ? rounds[n / 2] : (rounds[n / 2 - 1] + rounds[n / 2]) / 2.0;
    }

    public double toTorch() {
        return secondsToTarget / torchSeconds;
    }

    public double firstToLater() {
        return firstEpochSeconds / laterEpochSeconds;
    }

    public double epochToRoof() {
        return laterEpochSeconds / roofEpochSeconds;
    }

    public double taskStepToCore() {
        return taskStepMs / coreStepMs;
    }

    /** The summary's lines, each with its goal. */
    public List<String> lines(String label) {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "%s: time to target %s s, PyTorch %s s -> sparkprop / PyTorch = %s"
                + " (goal <= 1.0)", label, fmt(secondsToTarget, 1), fmt(torchSeconds, 1), fmt(toTorch(), 2)));
        lines.add(String.format(Locale.ROOT, "%s: first epoch %s s, later epochs %s s -> %s (goal <= 1.2)", label,
                fmt(firstEpochSeconds, 2), fmt(laterEpochSeconds, 2), fmt(firstToLater(), 2)));
        lines.add(String.format(Locale.ROOT, "%s: later epoch %s s, the tasks' dgemm roof %s s -> %s (goal <= 1.3)",
                label, fmt(laterEpochSeconds, 2), fmt(roofEpochSeconds, 2), fmt(epochToRoof(), 2)));
        lines.add(String.format(Locale.ROOT, "%s: local step in a task %s ms, the core's step alone %s ms -> %s"
                + " (goal <= 1.2)", label, fmt(taskStepMs, 3), fmt(coreStepMs, 3), fmt(taskStepToCore(), 2)));
        return lines;
    }

    public String toJson() {
        return String.format(Locale.ROOT, "{\"seconds_to_target\":%s,\"torch_seconds\":%s,\"to_torch\":%s,"
                        + "\"first_epoch_seconds\":%s,\"later_epoch_seconds\":%s,\"first_to_later\":%s,"
                        + "\"roof_epoch_seconds\":%s,\"epoch_to_roof\":%s,\"task_step_ms\":%s,\"core_step_ms\":%s,"
                        + "\"task_step_to_core\":%s}", num(secondsToTarget), num(torchSeconds), num(toTorch()),
                num(firstEpochSeconds), num(laterEpochSeconds), num(firstToLater()), num(roofEpochSeconds),
                num(epochToRoof()), num(taskStepMs), num(coreStepMs), num(taskStepToCore()));
    }

    private static String fmt(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : "n/a";
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "null";
    }
}
