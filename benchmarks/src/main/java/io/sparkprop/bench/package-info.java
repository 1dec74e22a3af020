/**
 * Benchmark harnesses, run by {@code scripts/bench} and {@code scripts/bench-predict}: sparkprop
 * against MLlib's MLPC and PyTorch to a target accuracy, the cost of one synchronous step, the
 * core's step against dgemm, and a fitted model's transform against MLPC's.
 *
 * <p>Not in the job jar users submit, and never imported by it.
 */
package io.sparkprop.bench;
