package io.sparkprop.core;

import dev.ludovic.netlib.blas.BLAS;

/**
 * The computing side of a {@link NetworkSpec}: batched forward and backward passes over the rows
 * loaded in a {@link Workspace}, with parameters passed in as one flat array (so a broadcast array
 * can be used as is). Stateless and thread-safe; all state lives in the workspace and the arrays
 * the caller passes.
 *
 * <p>The maths, per layer {@code k} with samples as rows ({@code H_{k-1} (n, numIn)}):
 * <pre>
 *   forward:   A_k = H_{k-1} W_kᵀ + 1 b_kᵀ ;  H_k = f_k(A_k)
 *   backward:  G  <- G ⊙ f_k'(A_k)            (G = ∂J/∂H_k on entry, ∂J/∂A_k after)
 *              ∇W_k += Gᵀ H_{k-1} ;  ∇b_k += Gᵀ 1 ;  G <- G W_k   (∂J/∂H_{k-1})
 * </pre>
 * which is the seeds' {@code g <- g ⊙ f'(a); ∇W = g hᵀ; ∇b = g; g <- Wᵀ g} for all rows at once.
 * The three matrix products go to BLAS {@code dgemm}.
 */
public final class Network {

    private final NetworkSpec spec;
    private final Precision precision;

    /** A network computing in double precision throughout. */
    public Network(NetworkSpec spec) {
        this(spec, Precision.FLOAT64);
    }

    /** A network whose matrix products run in {@code precision}. */
    public Network(NetworkSpec spec, Precision precision) {
        if (spec == null) {
            throw new IllegalArgumentException("Network spec must be given but got null");
        }
        if (precision == null) {
            throw new IllegalArgumentException("Precision must be given but got null");
        }
        this.spec = spec;
        this.precision = precision;
    }

    public Precision precision() {
        return precision;
    }

    public NetworkSpec spec() {
        return spec;
    }

    /**
     * Runs the forward pass over the workspace's current rows. {@code params (paramCount)} is read;
     * the workspace's {@code a} and {@code h} buffers are OVERWRITTEN; the output is
     * {@link Workspace#output()}.
     */
    public void forward(double[] params, Workspace ws) {
        checkParams(params);
        checkWorkspace(ws);
        int n = ws.rows;
        if (n == 0) {
            return;
        }
        if (precision == Precision.FLOAT32) {
            forward32(params, ws);
            return;
        }
        BLAS blas = Blas.get();
        double[] hPrev = ws.x;
        for (int k = 0; k < spec.numLayers(); k++) {
            LayerSpec layer = spec.layer(k);
            int numIn = layer.numIn();
            int numOut = layer.numOut();
            int bOff = spec.biasOffset(k);
            double[] a = ws.a[k];
            if (k == 0 && ws.sparse) {
                sparseForward(params, ws, a);
                layer.activation().forward(a, ws.h[k], n, numOut);
                hPrev = ws.h[k];
                continue;
            }
            for (int r = 0; r < n; r++) {
                System.arraycopy(params, bOff, a, r * numOut, numOut);
            }
            // hPrev (n, numIn), w (numOut, numIn), a (n, numOut): a += hPrev wᵀ.
            // Column-major: aᵀ (numOut, n) = op_T(w as (numIn, numOut)) · hPrevᵀ (numIn, n).
            blas.dgemm("T", "N", numOut, n, numIn, 1.0, params, spec.weightOffset(k), numIn,
                    hPrev, 0, numIn, 1.0, a, 0, numOut);
            layer.activation().forward(a, ws.h[k], n, numOut);
            hPrev = ws.h[k];
        }
    }

    /**
     * Forward and backward pass with the spec's loss over the workspace's current rows.
     *
     * <p>{@code gradSum (paramCount)} ACCUMULATES {@code Σ_i w_i ∇_θ L_i} (no division, no L2: the
     * driver divides once after summing every partition). Returns the loss sum
     * {@code Σ_i w_i L_i}. Workspace buffers are OVERWRITTEN.
     */
    public double lossAndGradient(double[] params, Workspace ws, double[] gradSum) {
        forward(params, ws);
        int n = ws.rows;
        if (n == 0) {
            return 0.0;
        }
        int last = spec.numLayers() - 1;
        int width = spec.outputSize();
        double loss = spec.loss().forwardBackward(spec.layer(last).activation(), ws.a[last], ws.h[last], ws.y,
                ws.weighted ? ws.w : null, ws.gradA, n, width);
        backpropagate(params, ws, ws.gradA, gradSum, null);
        return loss;
    }

    /**
     * The summed loss {@code Σ_i w_i L_i} of the workspace's current rows, forward pass only (no
     * gradient). Workspace buffers are OVERWRITTEN.
     */
    public double loss(double[] params, Workspace ws) {
        forward(params, ws);
        int n = ws.rows;
        if (n == 0) {
            return 0.0;
        }
        int last = spec.numLayers() - 1;
        return spec.loss().forwardBackward(spec.layer(last).activation(), ws.a[last], ws.h[last], ws.y,
                ws.weighted ? ws.w : null, ws.gradA, n, spec.outputSize());
    }

    /**
     * The general backward pass from an arbitrary upstream gradient {@code gradOutput = ∂J/∂ŷ}
     * {@code (rows, outputSize)} of the output {@code ŷ = H_l}, after {@link #forward}: the seeds'
     * backward pass starting from {@code g = ∇_ŷ J}. {@code gradSum} ACCUMULATES {@code ∂J/∂θ};
     * {@code gradInput (rows, inputSize)}, if not null, is OVERWRITTEN with {@code ∂J/∂x}.
     * {@code gradOutput} is read only.
     */
    public void backward(double[] params, Workspace ws, double[] gradOutput, double[] gradSum, double[] gradInput) {
        checkParams(params);
        checkWorkspace(ws);
        int n = ws.rows;
        int last = spec.numLayers() - 1;
        int width = spec.outputSize();
        if (gradOutput.length < n * width) {
            throw new IllegalArgumentException("Expected at least " + (n * width) + " output gradients but got "
                    + gradOutput.length);
        }
        if (precision == Precision.FLOAT32) {
            // The products use the float copy forward32 made; refresh it in case params differ.
            toFloat(params, 0, ws.floats().weights, 0, params.length);
        }
        System.arraycopy(gradOutput, 0, ws.gradA, 0, n * width);
        spec.layer(last).activation().backward(ws.a[last], ws.h[last], ws.gradA, n, width);
        backpropagate(params, ws, ws.gradA, gradSum, gradInput);
    }

    /**
     * Propagates {@code delta = ∂J/∂A_l} (in {@code ws.gradA}) down the layers, accumulating
     * parameter gradients into {@code gradSum} and, if asked, writing {@code ∂J/∂x}.
     */
    private void backpropagate(double[] params, Workspace ws, double[] deltaTop, double[] gradSum, double[] gradInput) {
        if (gradSum.length != spec.paramCount()) {
            throw new IllegalArgumentException("Expected a gradient of " + spec.paramCount() + " values but got "
                    + gradSum.length);
        }
        if (gradInput != null && gradInput.length < ws.rows * spec.inputSize()) {
            throw new IllegalArgumentException("Expected room for " + (ws.rows * spec.inputSize())
                    + " input gradients but got " + gradInput.length);
        }
        int n = ws.rows;
        if (n == 0) {
            return;
        }
        if (precision == Precision.FLOAT32) {
            backpropagate32(params, ws, deltaTop, gradSum, gradInput);
            return;
        }
        BLAS blas = Blas.get();
        double[] delta = deltaTop;
        double[] spare = delta == ws.gradA ? ws.gradB : ws.gradA;
        for (int k = spec.numLayers() - 1; k >= 0; k--) {
            LayerSpec layer = spec.layer(k);
            int numIn = layer.numIn();
            int numOut = layer.numOut();
            if (k == 0 && ws.sparse) {
                sparseWeightGradient(ws, delta, gradSum);
            } else {
                double[] hPrev = k == 0 ? ws.x : ws.h[k - 1];
                // delta (n, numOut), hPrev (n, numIn), ∇W (numOut, numIn): ∇W += deltaᵀ hPrev.
                // Column-major: ∇Wᵀ (numIn, numOut) += hPrevᵀ (numIn, n) · op_T(deltaᵀ as (numOut, n)).
                blas.dgemm("N", "T", numIn, numOut, n, 1.0, hPrev, 0, numIn, delta, 0, numOut,
                        1.0, gradSum, spec.weightOffset(k), numIn);
            }
            addBiasGradient(delta, n, numOut, gradSum, spec.biasOffset(k));
            if (k == 0 && gradInput == null) {
                break;
            }
            double[] gradIn = k == 0 ? gradInput : spare;
            // delta (n, numOut), w (numOut, numIn), gradIn (n, numIn): gradIn = delta w.
            // Column-major: gradInᵀ (numIn, n) = (w as (numIn, numOut)) · deltaᵀ (numOut, n).
            blas.dgemm("N", "N", numIn, n, numOut, 1.0, params, spec.weightOffset(k), numIn,
                    delta, 0, numOut, 0.0, gradIn, 0, numIn);
            if (k > 0) {
                spec.layer(k - 1).activation().backward(ws.a[k - 1], ws.h[k - 1], gradIn, n, numIn);
                spare = delta;
                delta = gradIn;
            }
        }
    }

    /**
     * {@link #forward} with single-precision products: the weights and the input are rounded to
     * float, each layer's product {@code H_{k-1} W_kᵀ} is an {@code sgemm}, widened to double before
     * the (double) bias and activation; a hidden layer's output is rounded to float for the next
     * product. The double {@code a} and {@code h} buffers end as in {@link Precision#FLOAT64}.
     */
    private void forward32(double[] params, Workspace ws) {
        Workspace.Floats f = ws.floats();
        int n = ws.rows;
        // A sparse input's first layer runs in double from the nonzeros: its weights need no float copy.
        int firstConverted = ws.sparse ? (spec.numLayers() > 1 ? spec.weightOffset(1) : params.length) : 0;
        toFloat(params, firstConverted, f.weights, firstConverted, params.length - firstConverted);
        float[] hPrev = null;
        if (!ws.sparse) {
            hPrev = f.x(n * spec.inputSize());
            toFloat(ws.x, 0, hPrev, 0, n * spec.inputSize());
        }
        BLAS blas = Blas.get();
        int last = spec.numLayers() - 1;
        for (int k = 0; k <= last; k++) {
            LayerSpec layer = spec.layer(k);
            int numIn = layer.numIn();
            int numOut = layer.numOut();
            int bOff = spec.biasOffset(k);
            if (k == 0 && ws.sparse) {
                sparseForward(params, ws, ws.a[0]);
                layer.activation().forward(ws.a[0], ws.h[0], n, numOut);
                if (k < last) {
                    toFloat(ws.h[0], 0, f.h[0], 0, n * numOut);
                    hPrev = f.h[0];
                }
                continue;
            }
            // As in forward: product (n, numOut) = hPrev (n, numIn) wᵀ, column-major as (numOut, n).
            float[] product = f.product(n * numOut);
            blas.sgemm("T", "N", numOut, n, numIn, 1.0f, f.weights, spec.weightOffset(k), numIn,
                    hPrev, 0, numIn, 0.0f, product, 0, numOut);
            double[] a = ws.a[k];
            for (int r = 0; r < n; r++) {
                int off = r * numOut;
                for (int j = 0; j < numOut; j++) {
                    a[off + j] = params[bOff + j] + product[off + j];
                }
            }
            layer.activation().forward(a, ws.h[k], n, numOut);
            if (k < last) {
                toFloat(ws.h[k], 0, f.h[k], 0, n * numOut);
                hPrev = f.h[k];
            }
        }
    }

    /**
     * The backward pass with single-precision products, after {@link #forward32} (whose float
     * weights and activations it reuses): each layer's delta is rounded to float; {@code ∇W_k} is
     * an {@code sgemm} added into the double {@code gradSum}; {@code ∂J/∂H_{k-1}} an {@code sgemm}
     * widened to double before the activation's derivative. Bias gradients sum the double deltas.
     */
    private void backpropagate32(double[] params, Workspace ws, double[] deltaTop, double[] gradSum,
                                 double[] gradInput) {
        Workspace.Floats f = ws.floats();
        int n = ws.rows;
        BLAS blas = Blas.get();
        double[] delta = deltaTop;
        double[] spare = delta == ws.gradA ? ws.gradB : ws.gradA;
        for (int k = spec.numLayers() - 1; k >= 0; k--) {
            LayerSpec layer = spec.layer(k);
            int numIn = layer.numIn();
            int numOut = layer.numOut();
            int wOff = spec.weightOffset(k);
            if (k == 0 && ws.sparse) {
                sparseWeightGradient(ws, delta, gradSum);
            } else {
                float[] hPrev = k == 0 ? f.x(0) : f.h[k - 1];
                toFloat(delta, 0, f.delta, 0, n * numOut);
                int size = numIn * numOut;
                float[] gradW = f.gradW(size);
                // As in backpropagate: ∇Wᵀ (numIn, numOut) = hPrevᵀ (numIn, n) · op_T(deltaᵀ).
                blas.sgemm("N", "T", numIn, numOut, n, 1.0f, hPrev, 0, numIn, f.delta, 0, numOut,
                        0.0f, gradW, 0, numIn);
                for (int i = 0; i < size; i++) {
                    gradSum[wOff + i] += gradW[i];
                }
            }
            addBiasGradient(delta, n, numOut, gradSum, spec.biasOffset(k));
            if (k == 0 && gradInput == null) {
                break;
            }
            double[] gradIn = k == 0 ? gradInput : spare;
            if (k == 0 && ws.sparse) {
                // The first layer's weights have no float copy here: ∂J/∂x in double.
                blas.dgemm("N", "N", numIn, n, numOut, 1.0, params, wOff, numIn, delta, 0, numOut,
                        0.0, gradIn, 0, numIn);
                break;
            }
            float[] product = f.product(n * numIn);
            // gradInᵀ (numIn, n) = (w as (numIn, numOut)) · deltaᵀ (numOut, n).
            blas.sgemm("N", "N", numIn, n, numOut, 1.0f, f.weights, wOff, numIn, f.delta, 0, numOut,
                    0.0f, product, 0, numIn);
            for (int i = 0; i < n * numIn; i++) {
                gradIn[i] = product[i];
            }
            if (k > 0) {
                spec.layer(k - 1).activation().backward(ws.a[k - 1], ws.h[k - 1], gradIn, n, numIn);
                spare = delta;
                delta = gradIn;
            }
        }
    }

    /**
     * The first layer's pre-activation from a sparse input. The weights of the batch's distinct
     * columns are first copied into a compact {@code (columns, numOut)} array; then row {@code r}'s
     * pre-activation is its bias plus, nonzero by nonzero in ascending column order, {@code v_p}
     * times its column's weights: contiguous runs of {@code numOut} multiply-adds.
     */
    private void sparseForward(double[] params, Workspace ws, double[] a) {
        int numIn = spec.inputSize();
        int numOut = spec.layer(0).numOut();
        int wOff = spec.weightOffset(0);
        int bOff = spec.biasOffset(0);
        int unique = ws.xUniqueCount;
        int[] columns = ws.xUnique;
        double[] w = ws.xWeights;
        // W (numOut, numIn) row-major -> w (unique, numOut): the batch's columns, each one contiguous.
        for (int j = 0; j < numOut; j++) {
            int row = wOff + j * numIn;
            for (int s = 0; s < unique; s++) {
                w[s * numOut + j] = params[row + columns[s]];
            }
        }
        int[] start = ws.xStart;
        int[] slot = ws.xSlot;
        double[] values = ws.xValues;
        // x: n rows of nonzeros (slot, value); a (n, numOut) = b + Σ value · w[slot].
        for (int r = 0; r < ws.rows; r++) {
            int out = r * numOut;
            System.arraycopy(params, bOff, a, out, numOut);
            for (int p = start[r]; p < start[r + 1]; p++) {
                int from = slot[p] * numOut;
                double v = values[p];
                for (int j = 0; j < numOut; j++) {
                    a[out + j] += v * w[from + j];
                }
            }
        }
    }

    /**
     * {@code ∇W_1 += deltaᵀ X} for a sparse input: each nonzero {@code v} of row {@code r} adds
     * {@code v · delta[r]} to its column's row of a compact gradient (rows in order), which is then
     * added into {@code gradSum} column by column.
     */
    private void sparseWeightGradient(Workspace ws, double[] delta, double[] gradSum) {
        int numIn = spec.inputSize();
        int numOut = spec.layer(0).numOut();
        int wOff = spec.weightOffset(0);
        int unique = ws.xUniqueCount;
        // delta (n, numOut); g (unique, numOut) = Σ_r value · delta[r] per nonzero; then
        // ∇W (numOut, numIn) row-major += gᵀ at the batch's columns.
        double[] g = ws.xGrad;
        java.util.Arrays.fill(g, 0, unique * numOut, 0.0);
        int[] start = ws.xStart;
        int[] slot = ws.xSlot;
        double[] values = ws.xValues;
        for (int r = 0; r < ws.rows; r++) {
            int d = r * numOut;
            for (int p = start[r]; p < start[r + 1]; p++) {
                int to = slot[p] * numOut;
                double v = values[p];
                for (int j = 0; j < numOut; j++) {
                    g[to + j] += v * delta[d + j];
                }
            }
        }
        int[] columns = ws.xUnique;
        for (int j = 0; j < numOut; j++) {
            int row = wOff + j * numIn;
            for (int s = 0; s < unique; s++) {
                gradSum[row + columns[s]] += g[s * numOut + j];
            }
        }
    }

    /** ∇b (numOut) at {@code bOff} of {@code gradSum} += column sums of delta (n, numOut), rows in order. */
    private static void addBiasGradient(double[] delta, int n, int numOut, double[] gradSum, int bOff) {
        for (int r = 0; r < n; r++) {
            int off = r * numOut;
            for (int j = 0; j < numOut; j++) {
                gradSum[bOff + j] += delta[off + j];
            }
        }
    }

    private static void toFloat(double[] from, int fromOffset, float[] to, int toOffset, int count) {
        for (int i = 0; i < count; i++) {
            to[toOffset + i] = (float) from[fromOffset + i];
        }
    }

    /**
     * Adds the L2 penalty's contribution to summed loss and gradient: returns {@code λ/2 Σ W²} over
     * weights (not biases), and {@code gradSum} ACCUMULATES {@code λ W}. Divided by the example
     * count {@code m} with the rest, this is the seeds' {@code λ/(2m) Σ θ²} with gradient
     * {@code λ/m · W}.
     */
    public double addL2(double[] params, double lambda, double[] gradSum) {
        if (lambda == 0.0) {
            return 0.0;
        }
        double sumSquares = 0.0;
        for (int k = 0; k < spec.numLayers(); k++) {
            int from = spec.weightOffset(k);
            int to = spec.biasOffset(k);
            for (int i = from; i < to; i++) {
                double v = params[i];
                sumSquares += v * v;
                gradSum[i] += lambda * v;
            }
        }
        return 0.5 * lambda * sumSquares;
    }

    private void checkParams(double[] params) {
        if (params == null || params.length != spec.paramCount()) {
            throw new IllegalArgumentException("Network " + spec + " expects " + spec.paramCount()
                    + " parameters but got " + (params == null ? "null" : params.length));
        }
    }

    private void checkWorkspace(Workspace ws) {
        if (!ws.spec().equals(spec)) {
            throw new IllegalArgumentException("Workspace was built for " + ws.spec() + " but the network is " + spec);
        }
    }
}
